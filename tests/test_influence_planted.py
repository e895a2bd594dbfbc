"""GPTfluence recovers planted influences and generalises to unseen training examples with the notebook's own settings."""

from dataclasses import replace

import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.lab.profiles import NOTEBOOK_PROFILES
from mini_lib.papers.gptfluence.experiment import SimulatorSettings
from mini_lib.papers.gptfluence.gptfluence import FitConfig
from mini_lib.papers.gptfluence.paper import unseen_claim
from mini_lib.papers.gptfluence.planted import PLANTED, planted_study
from mini_lib.papers.gptfluence.study import simulator_settings

pytestmark = pytest.mark.usefixtures("one_thread")


def test_featurised_simulator_generalises_to_unseen_training_examples_with_the_cpu_settings():
    settings = simulator_settings(NOTEBOOK_PROFILES["04_gptfluence"]["cpu"])  # the MLP width, steps and patience the notebook uses
    study = planted_study(settings=settings)
    rows = study.table.set_index(["setting", "method"])
    unseen = rows.loc["unseen training examples"]
    assert unseen.loc["gptfluence", "spearman"] >= 0.8
    assert unseen.loc["gptfluence", "mse"] < 0.1 * unseen.loc["simfluence", "mse"]  # the table only has average factors
    assert unseen.loc["mean trajectory", "spearman"] < 0.5  # equal starting losses: the ranking is the planted influence
    assert study.recovery["unseen"] > 0.8 and study.recovery["seen"] > 0.8
    assert unseen_claim(study.table, where="planted").verdict == "holds"


def test_features_without_structure_do_not_generalise():
    """The negative control: isotropic 384-d features put every unseen example outside the span of the seen ones."""
    settings = SimulatorSettings(width=16, fit=FitConfig(max_steps=200, eval_every=50))
    study = planted_study(replace(PLANTED, intrinsic_dim=None), settings)
    assert study.recovery["unseen"] < 0.3
    assert unseen_claim(study.table, where="isotropic").verdict != "holds"


def test_needs_runs_with_unseen_examples():
    with pytest.raises(ConfigError, match="holdout_train"):
        planted_study(replace(PLANTED, holdout_runs=0))
    with pytest.raises(ConfigError, match="n_fit"):
        planted_study(n_fit=0)
