"""The settings-to-library helpers of notebook 04 (mini_lib.papers.gptfluence.study)."""

from dataclasses import replace

from mini_lib.lab.profiles import notebook_settings
from mini_lib.papers.gptfluence import study


def test_retraining_is_scored_on_fresh_items_that_are_not_in_the_pool():
    s = replace(notebook_settings("04_gptfluence", "smoke"), retrain_test=30)
    task = study.task_for(s, study.MISLABEL_TASK, flip_fraction=s.flip_fraction)
    items = study.retrain_choices(s, task)
    assert len(items) == 30
    assert not {item.context for item in items} & {item.context for item in task.choices.values()}
    assert {item.label for item in items} == {0, 1}  # both answers occur: true labels, not one class
    assert study.retrain_choices(replace(s, retrain_test=0), task) == task.test_choices()  # 0: the task's own test set


def test_the_collection_plan_counts_what_the_profile_collects():
    cpu = notebook_settings("04_gptfluence", "cpu")
    plan = study.collection_plan(cpu)
    assert plan == ("2 tasks: sst2 37 runs (32 + 5 from the full pool for the unseen-data study); webnlg 32 runs; "
                    "sst2 with 40% of its labels flipped 6 runs; 48 steps each; regular runs split 25 fit / 2 early stopping / 5 held out")
    assert "sst2 9 runs (8 + 1" in study.collection_plan(replace(cpu, n_runs=8, unseen_runs=1))  # overrides are counted
    assert "flipped" not in study.collection_plan(replace(cpu, mislabel_runs=0))
    assert study.collection_plan(replace(cpu, tasks=("webnlg",), unseen_task="webnlg")).startswith("1 task: webnlg 37 runs")
