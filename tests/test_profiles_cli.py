import os
import subprocess
import sys
from fnmatch import fnmatchcase

import pytest

from mini_lib.__main__ import main
from mini_lib.core.errors import ConfigError
from mini_lib.lab.profiles import (
    NOTEBOOK_PROFILES,
    PROFILES,
    VALUE_RULES,
    check_value,
    notebook_settings,
    parameter_names,
    resolve_notebook,
)
from mini_lib.lab.runner import parse_parameter


def test_every_notebook_has_every_profile_with_the_same_fields():
    for name, profiles in NOTEBOOK_PROFILES.items():
        assert tuple(profiles) == PROFILES, name
        assert len({type(s) for s in profiles.values()}) == 1, name


def test_overrides_are_validated_and_coerced():
    s = notebook_settings("00", "smoke", {"steps": "7", "lr": 0.01, "tier": "rich"})
    assert (s.steps, s.lr, s.tier) == (7, 0.01, "rich")
    t = notebook_settings("01", "smoke", {"presets": "pythia-1m,pythia-3m", "compile": "false"})
    assert t.presets == ("pythia-1m", "pythia-3m") and t.compile is False
    for given in ("('pythia-1m',)", "['pythia-1m']", ["pythia-1m"], "pythia-1m"):
        assert notebook_settings("01", "smoke", {"presets": given}).presets == ("pythia-1m",)
    with pytest.raises(ConfigError, match="unknown parameter.*valid: n_stories"):
        notebook_settings("00", "smoke", {"stepz": 3})
    with pytest.raises(ConfigError, match="choose one of: smoke, cpu, gpu"):
        notebook_settings("00", "laptop")
    with pytest.raises(ConfigError, match="must be of type int"):
        notebook_settings("00", "smoke", {"steps": "many"})


def test_offline_profiles_set_hub_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    notebook_settings("00", "smoke")
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"


def test_notebook_names_resolve():
    assert resolve_notebook("00") == resolve_notebook("quickstart") == "00_quickstart"
    assert resolve_notebook("quick") == "00_quickstart"
    assert resolve_notebook("06_data") == resolve_notebook("data_sel") == "06_data_selection"
    with pytest.raises(ConfigError, match="00_quickstart"):
        resolve_notebook("99")
    with pytest.raises(ConfigError, match="'0' is ambiguous: it matches 00_quickstart, 01_pythia_training, .*06_data"):
        resolve_notebook("0")
    assert "steps" in parameter_names("00")


def test_every_profile_passes_the_value_rules():
    for name, profiles in NOTEBOOK_PROFILES.items():
        for settings in profiles.values():
            for key, value in vars(settings).items():
                check_value(name, key, value, value)


def test_every_value_rule_names_a_setting():
    """A misspelt pattern would silently check nothing."""
    keys = {(name, key) for name in NOTEBOOK_PROFILES for key in parameter_names(name)}
    for pattern, _ in VALUE_RULES:
        assert any(fnmatchcase(f"{n}:{k}" if ":" in pattern else k, pattern) for n, k in keys), pattern


def test_zero_stays_valid_where_it_means_something():
    meaningful_zeros = {
        "00": {"eval_every": 0, "seed": 0}, "01": {"checkpoint_every": 0}, "02": {"train_tokens": 0, "evals_per_run": 0},
        "03": {"n_stories": 0, "warmup_steps": 0, "duplication_rates": "0,0.5"},
        "04": {"tracin_every": 0, "mislabel_runs": 0, "sim_width": 0, "unseen_task": "", "fit_eval_every": 0},
        "05": {"lm_checkpoint_every": 0, "retrain_eval_every": 0, "perceptron_label_noise": 0},
        "06": {"askllm_variants": [], "eval_every": 0},
    }
    for name, overrides in meaningful_zeros.items():
        notebook_settings(name, "smoke", overrides)
    with pytest.raises(ConfigError, match="parameter n_stories got 0; it must be an integer >= 1"):
        notebook_settings("05", "smoke", {"n_stories": 0})


def test_parse_parameter_reads_literals():
    assert parse_parameter("steps=10") == ("steps", 10)
    assert parse_parameter("tier=rich") == ("tier", "rich")
    assert parse_parameter("presets=['a','b']") == ("presets", ["a", "b"])
    with pytest.raises(ConfigError):
        parse_parameter("steps")


def test_cli_list_and_clear_errors(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "00_quickstart" in out and "smoke, cpu, gpu" in out
    assert main(["run", "99", "--profile", "smoke"]) == 2
    assert "unknown notebook '99'" in capsys.readouterr().err
    assert main(["run", "00", "--profile", "smoke", "-p", "bogus=1"]) == 2
    assert "valid:" in capsys.readouterr().err


def test_cli_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "mini_lib", "list"], capture_output=True, text=True, check=True)
    assert "01_pythia_training" in out.stdout


def test_every_notebook_has_gpu_on_cpu_overrides_that_validate():
    from mini_lib.lab.profiles import GPU_ON_CPU_OVERRIDES

    assert sorted(GPU_ON_CPU_OVERRIDES) == sorted(NOTEBOOK_PROFILES)
    for name, overrides in GPU_ON_CPU_OVERRIDES.items():
        notebook_settings(name, "gpu", overrides)


def test_an_unknown_preset_is_refused_without_loading_torch():
    code = ("import sys\nfrom mini_lib.core.errors import ConfigError\nfrom mini_lib.lab.profiles import notebook_settings\n"
            "try:\n    notebook_settings('01_pythia_training', 'cpu', {'presets': ('pythia-7b',)})\n"
            "except ConfigError as err:\n    print('refused', 'pythia-7b' in str(err), 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["refused", "True", "False"]


def test_list_of_one_notebook_shows_each_profiles_values(capsys):
    assert main(["list", "03"]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["n_stories"])
    profiles = NOTEBOOK_PROFILES["03_quality_quantity"]
    assert row[1:] == [str(profiles[p].n_stories) for p in ("smoke", "cpu", "gpu")]


def test_list_of_one_notebook_fits_long_values_in_a_readable_width(capsys):
    assert main(["list", "02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) < 160
    tasks = next(line for line in lines if line.split()[:1] == ["tasks"])
    assert "…" in tasks and "('blimp_subject_verb'" in tasks
