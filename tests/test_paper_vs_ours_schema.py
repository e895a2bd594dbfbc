"""Every notebook's paper-vs-ours table has the one schema (``claims.PAPER_VS_OURS_COLUMNS``), so the report and
a reader read any of them alike; a new table builder (a sixth paper) must join ``BUILDERS`` and so the schema."""

import re

import pandas as pd
import pytest

from mini_lib.core.claims import PAPER_VS_OURS_COLUMNS, PaperRow, paper_vs_ours_table
from mini_lib.core.models import get_preset, model_size, neox_config
from mini_lib.core.paths import REPO_ROOT
from mini_lib.core.train import TrainConfig
from mini_lib.papers.data_selection import experiment as selection
from mini_lib.papers.gptfluence import paper as influence
from mini_lib.papers.optimal_learning import paper as policy
from mini_lib.papers.pythia_training.experiment import suite_vs_ours
from mini_lib.papers.quality_quantity import analysis as qq_analysis
from mini_lib.papers.quality_quantity import paper as qq_paper
from mini_lib.papers.quickstart.experiment import recipe_vs_ours
from mini_lib.papers.simplified_vocab import analysis as sv_analysis
from mini_lib.papers.simplified_vocab import paper as sv_paper
from tests.test_policy_experiment import _headline
from tests.test_quality_quantity import fake_results
from tests.test_simple_vocab import accuracy_table, story_data


def _influence() -> pd.DataFrame:
    average = pd.DataFrame({"method": ["gptfluence", "tracin-cp"], "mse": [0.01, 0.02], "mae": [0.1, 0.2],
                            "spearman": [0.9, 0.8], "seconds_per_sample": [0.001, 0.1]})
    unseen = pd.DataFrame({"setting": ["unseen training examples", "unseen test examples"], "method": ["gptfluence"] * 2,
                           "mse": [0.3, 0.4], "spearman": [0.7, 0.05]})
    return influence.paper_vs_ours(average, unseen)


def _policy() -> pd.DataFrame:
    return policy.paper_vs_ours(_headline("perceptron", 3.0, False, (3.27, 5.25), (0.37, 0.56)),
                                _headline("tiny_lm", 20.0, True, (1e9, 2e8), (0.10, 0.09)))


def _quality_quantity() -> pd.DataFrame:
    ours = {(0.0, 1.0): 4.0, (0.25, 1.0): 4.2}
    return qq_paper.paper_vs_ours(qq_paper.paper_grid(qq_analysis.summarise(fake_results(ours, {k: 30.0 for k in ours}))))


def _simple_vocab() -> pd.DataFrame:
    summary = pd.DataFrame({"data": ["simple", "unrestricted"], "parameters": [10**6, 2 * 10**6]})
    match = sv_analysis.size_ratio_to_match(accuracy_table([0.6, 0.7, 0.6, 0.6], [0.5, 0.6, 0.7, 0.7]))
    fits = sv_analysis.ScalingFits(None, None, None, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    return sv_paper.paper_vs_ours(story_data(), summary, {"own": match}, fits, 1.0, "built-in")


def _selection() -> pd.DataFrame:
    rows = [("large", selection.FULL, 1.0, 0.0, 3.0, 0.0), ("large", "askllm", 0.2, 0.3, 2.9, 0.4),
            ("large", "density", 0.2, 0.1, 2.95, 0.1), ("small", selection.FULL, 1.0, float("nan"), 3.5, 0.0)]
    summary = pd.DataFrame(rows, columns=["model", "sampler", "keep_fraction", "over_scaling", "val_loss", "speedup"])
    from mini_lib.papers.data_selection.paper import paper_vs_ours

    return paper_vs_ours(summary, ("askllm", "density"))


def _recipe() -> pd.DataFrame:
    preset = get_preset("pythia-1m")
    return recipe_vs_ours(preset, model_size(neox_config(preset, 512, 64)), TrainConfig(steps=10), 16, 64, 5000)


def _suite() -> pd.DataFrame:
    return suite_vs_ours(pd.DataFrame({"preset": ["pythia-1m", "pythia-14m"], "parameters": [1, 2], "val_loss": [5.0, 4.0]}), 3.0, 3.0)


BUILDERS = {  # "file:function" -> the table it builds from small inputs (those of the module's own tests)
    "mini_lib/papers/gptfluence/paper.py:paper_vs_ours": _influence,
    "mini_lib/papers/optimal_learning/paper.py:paper_vs_ours": _policy,
    "mini_lib/papers/quality_quantity/paper.py:paper_vs_ours": _quality_quantity,
    "mini_lib/papers/simplified_vocab/paper.py:paper_vs_ours": _simple_vocab,
    "mini_lib/papers/data_selection/paper.py:paper_vs_ours": _selection,
    "mini_lib/papers/quickstart/experiment.py:recipe_vs_ours": _recipe,
    "mini_lib/papers/pythia_training/experiment.py:suite_vs_ours": _suite,
}


def test_the_schema_is_the_paper_row():
    assert PAPER_VS_OURS_COLUMNS == ("quantity", "setting", "paper", "ours", "note", "source")
    table = paper_vs_ours_table([PaperRow("loss", "small model", 3.2, 4.0, source="Table 1")])
    assert tuple(table.columns) == PAPER_VS_OURS_COLUMNS
    assert table.iloc[0].to_dict() == {"quantity": "loss", "setting": "small model", "paper": 3.2, "ours": 4.0,
                                       "note": "", "source": "Table 1"}
    assert tuple(paper_vs_ours_table([]).columns) == PAPER_VS_OURS_COLUMNS  # an empty table keeps its columns


@pytest.mark.parametrize("builder", BUILDERS)
def test_every_paper_vs_ours_table_has_the_one_schema(builder):
    table = BUILDERS[builder]()
    assert tuple(table.columns) == PAPER_VS_OURS_COLUMNS
    assert len(table) and table["quantity"].map(bool).all() and table["setting"].map(bool).all()


def test_every_table_builder_in_the_library_is_checked():
    found = {f"{path.relative_to(REPO_ROOT).as_posix()}:{name}"
             for path in sorted((REPO_ROOT / "mini_lib").rglob("*.py"))
             for name in re.findall(r"^def (\w*_vs_ours)\(", path.read_text(), flags=re.M)}
    assert found == set(BUILDERS)
