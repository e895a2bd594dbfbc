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
