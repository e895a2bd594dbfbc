"""The settings spine: each notebook's settings live in its package's settings.py, with the gpu profile
as the dataclass's defaults and cpu / smoke written as the values they change."""

import ast
import importlib
import inspect
import subprocess
import sys
from dataclasses import dataclass, fields

import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.train import TrainConfig
from mini_lib.lab.profiles import GPU_ON_CPU_OVERRIDES, NOTEBOOK_PROFILES, PROFILES

HOMES = {
    "00_quickstart": ("mini_lib.papers.quickstart.settings", "QuickstartSettings"),
    "01_pythia_training": ("mini_lib.papers.pythia_training.settings", "PythiaTrainingSettings"),
    "02_simplified_vocab": ("mini_lib.papers.simplified_vocab.settings", "SimpleVocabSettings"),
    "03_quality_quantity": ("mini_lib.papers.quality_quantity.settings", "QualityQuantitySettings"),
    "04_gptfluence": ("mini_lib.papers.gptfluence.settings", "GPTfluenceSettings"),
    "05_optimal_learning": ("mini_lib.papers.optimal_learning.settings", "OptimalLearningSettings"),
    "06_data_selection": ("mini_lib.papers.data_selection.settings", "DataSelectionSettings"),
}

# Values results depend on (committed before the settings moved): a few per notebook and profile.
KEY_VALUES = {
    "00_quickstart": {"smoke": {"steps": 60, "seq_len": 64, "preset": "pythia-1m"},
                      "cpu": {"steps": 300, "vocab_size": 2048, "lr": 2e-3},
                      "gpu": {"steps": 3000, "preset": "pythia-14m", "batch_size": 64}},
    "01_pythia_training": {"smoke": {"presets": ("pythia-1m", "pythia-3m"), "micro_batch_size": 8},
                           "cpu": {"steps": 200, "presets": ("pythia-1m", "pythia-14m", "pythia-3m")},
                           "gpu": {"vocab_size": 50_304, "seq_len": 2048, "compile": True}},
    "02_simplified_vocab": {"smoke": {"train_tokens": 65_536, "layer_counts": (2,), "precision": "fp32"},
                            "cpu": {"train_tokens": 196_608, "warmup_fraction": 0.05, "hidden_sizes": (32, 64, 128)},
                            "gpu": {"vocab_size": 15_000, "batch_size": 512, "warmup_fraction": 0.01}},
    "03_quality_quantity": {"smoke": {"steps": 40, "duplication_rates": (0.0, 1.0), "sweep_epochs": ()},
                            "cpu": {"steps": 120, "n_seeds": 3, "sweep_epochs": (2.0, 4.0)},
                            "gpu": {"steps": 1000, "d_model": 128, "beta2": 0.99, "warmup_steps": 100}},
    "04_gptfluence": {"smoke": {"tasks": ("webnlg",), "n_runs": 4, "tracin_every": 2},
                      "cpu": {"tasks": ("sst2", "webnlg"), "n_runs": 32, "fit_patience": 4},
                      "gpu": {"n_runs": 32, "n_fit": 25, "lr": 1e-4, "orders": (1, 2, 3, 5, 10)}},
    "05_optimal_learning": {"smoke": {"perceptron_steps": 100, "lm_outer_lr": 10.0, "perceptron_fit_steps": ()},
                            "cpu": {"perceptron_steps": 500, "lm_eta": 1.0, "lm_d_model": 32},
                            "gpu": {"perceptron_epochs": 500, "perceptron_outer_lr": 0.001, "lm_n_train": 4096, "lm_eta": 0.1}},
    "06_data_selection": {"smoke": {"samplers": ("random", "perplexity"), "keep_fractions": (0.4,)},
                          "cpu": {"n_stories": 1200, "askllm_variants": ("few_shot",), "n_clusters": 20},
                          "gpu": {"n_stories": 20_000, "n_clusters": 100, "askllm_batch_size": 32}},
}


def _settings_module(notebook):
    return importlib.import_module(HOMES[notebook][0])


def _differs(a, b) -> list[str]:
    return [f.name for f in fields(a) if repr(getattr(a, f.name)) != repr(getattr(b, f.name))]


def test_each_notebooks_settings_class_lives_in_its_packages_settings_module():
    assert set(HOMES) == set(NOTEBOOK_PROFILES)
    for notebook, (module, name) in HOMES.items():
        cls = type(NOTEBOOK_PROFILES[notebook]["gpu"])
        assert (cls.__module__, cls.__qualname__) == (module, name), notebook
    import mini_lib.lab.profiles as index
    assert not [n for n, v in vars(index).items() if inspect.isclass(v) and n.endswith("Settings")]


def test_defaults_are_the_gpu_profile():
    for notebook, profiles in NOTEBOOK_PROFILES.items():
        assert repr(type(profiles["gpu"])()) == repr(profiles["gpu"]), notebook


def _profile_calls(module) -> dict[str, ast.expr]:
    """The source expression of every profile in ``module``'s ``*PROFILES`` dicts, by (dict, profile)."""
    exprs, assigned = {}, {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            assigned[target.id] = node.value
            if target.id.endswith("PROFILES") and isinstance(node.value, ast.Dict):
                for key, value in zip(node.value.keys, node.value.values):
                    exprs[target.id, key.value] = assigned.get(value.id) if isinstance(value, ast.Name) else value
    return exprs


def test_cpu_and_smoke_are_written_as_the_values_they_change():
    """gpu is ``Settings()``; cpu is ``replace(gpu, ...)`` and smoke ``replace(cpu or gpu, ...)``, naming
    only values that differ from that base (a profile restating a field fails), from the closer base."""
    checked = set()
    for notebook, profiles in NOTEBOOK_PROFILES.items():
        module = _settings_module(notebook)
        for (table, profile), expr in _profile_calls(module).items():
            if type(getattr(module, table)["gpu"]) is not type(profiles["gpu"]):
                continue  # the other notebook of a two-notebook module
            assert getattr(module, table)[profile] is profiles[profile], (notebook, profile)  # the index's object
            value = eval(compile(ast.Expression(expr), module.__file__, "eval"), vars(module))
            assert value == profiles[profile], (notebook, profile)
            checked.add((notebook, profile))
            n_fields = len(fields(value))
            if profile == "gpu":
                assert isinstance(expr, ast.Call) and not expr.args and not expr.keywords, notebook
                continue
            assert isinstance(expr, ast.Call) and expr.func.id == "replace" and len(expr.args) == 1, (notebook, profile)
            base = eval(compile(ast.Expression(expr.args[0]), module.__file__, "eval"), vars(module))
            given = [k.arg for k in expr.keywords]
            restated = sorted(set(given) - set(_differs(value, base)))
            assert not restated, f"{notebook} {profile} restates its base's {restated}"
            assert len(given) < n_fields, (notebook, profile)
            bases = {"cpu": ["gpu"], "smoke": ["cpu", "gpu"]}[profile]
            assert base in [NOTEBOOK_PROFILES[notebook][b] for b in bases], (notebook, profile)
            closest = min(len(_differs(value, NOTEBOOK_PROFILES[notebook][b])) for b in bases)
            assert len(given) == closest, f"{notebook} {profile}: a closer base needs {closest} values"
    assert checked == {(n, p) for n in NOTEBOOK_PROFILES for p in PROFILES}


def test_key_values_are_unchanged():
    assert set(KEY_VALUES) == set(NOTEBOOK_PROFILES)
    for notebook, by_profile in KEY_VALUES.items():
        for profile, expected in by_profile.items():
            settings = NOTEBOOK_PROFILES[notebook][profile]
            got = {key: getattr(settings, key) for key in expected}
            assert repr(got) == repr(expected), (notebook, profile)  # repr: a tuple stays a tuple


def test_gpu_on_cpu_overrides_name_fields_of_the_notebooks_settings():
    for notebook, overrides in GPU_ON_CPU_OVERRIDES.items():
        names = {f.name for f in fields(NOTEBOOK_PROFILES[notebook]["gpu"])}
        assert overrides and set(overrides) <= names, (notebook, sorted(set(overrides) - names))


def test_settings_modules_and_the_listing_stay_light():
    """influence and policy re-export torch modules; their settings.py must not pull them in."""
    code = ("import sys\nfrom mini_lib.__main__ import main\nmain(['list'])\nmain(['list', '04'])\n"
            + "".join(f"import {module}\n" for module, _ in HOMES.values())
            + "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "HEAVY []"
    assert "GPTfluence" not in out and "04_gptfluence" in out and "pretrain_documents" in out


def test_lazy_package_exports_resolve_to_their_modules():
    import mini_lib.papers.gptfluence as influence
    import mini_lib.papers.optimal_learning as policy
    from mini_lib.papers.gptfluence import SimulatorSettings
    from mini_lib.papers.gptfluence.experiment import SimulatorSettings as defined

    assert SimulatorSettings is defined and "SimulatorSettings" in dir(influence)
    assert policy.project_to_simplex is importlib.import_module("mini_lib.papers.optimal_learning.simplex").project_to_simplex
    assert "settings" not in influence.__all__ and len(set(policy.__all__)) == len(policy.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        influence.no_such_name  # noqa: B018


@dataclass(frozen=True)
class _TypoSettings:
    steps: int = 10
    warmup_step: int = 3  # meant for TrainConfig.warmup_steps
    vocab_size: int = 512


def test_from_settings_refuses_a_misnamed_training_field():
    with pytest.raises(ConfigError, match="settings field warmup_step is not TrainConfig's warmup_steps"):
        TrainConfig.from_settings(_TypoSettings())
    with pytest.raises(ConfigError, match="Weight_Decay is not TrainConfig's weight_decay"):
        TrainConfig.from_settings({"steps": 5, "Weight_Decay": 0.0})
    config = TrainConfig.from_settings(_TypoSettings(), warmup_steps=_TypoSettings().warmup_step)  # mapped explicitly
    assert (config.steps, config.warmup_steps) == (10, 3)


def test_from_settings_takes_every_notebooks_matching_fields():
    """Every notebook's settings build a TrainConfig (01's precisions, a tuple of compared values, is not its
    precision), and a setting named like a TrainConfig field reaches it."""
    for notebook, profiles in NOTEBOOK_PROFILES.items():
        for settings in profiles.values():
            config = TrainConfig.from_settings(settings, progress=False)
            for f in fields(settings):
                if f.name in {g.name for g in fields(TrainConfig)}:
                    assert getattr(config, f.name) == getattr(settings, f.name), (notebook, f.name)
    gpu = NOTEBOOK_PROFILES["03_quality_quantity"]["gpu"]
    assert TrainConfig.from_settings(gpu).beta2 == 0.99 and TrainConfig.from_settings(gpu).warmup_steps == 100


def test_one_concept_one_name_across_notebooks():
    """The corpus settings are called the same in every notebook that has them (02 once said source/path/
    hub_name/n_documents for what 03 and 05 call corpus/corpus_path/corpus_name/n_stories)."""
    from dataclasses import fields

    from mini_lib.lab.profiles import NOTEBOOK_PROFILES

    for notebook, profiles in NOTEBOOK_PROFILES.items():
        names = {f.name for f in fields(profiles["cpu"])}
        assert not names & {"source", "path", "hub_name", "n_documents"}, notebook
        if "corpus" in names:
            assert {"corpus_path", "corpus_name", "n_stories"} <= names, notebook
