"""Bad input gets one clear line before a kernel starts, and notebook runs never overwrite or mix.

The kernel is a fake (``papermill.execute_notebook`` replaced) that writes what a notebook writes:
settings/results JSON, a table, a figure, the executed notebook and a checkpoint sub-folder.
"""

import json
from datetime import datetime
from pathlib import Path

import pytest

from mini_lib.__main__ import main
from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import NOTEBOOK_DIR, runs_dir
from mini_lib.lab.execution import ATOMIC
from mini_lib.lab.runner import NotebookFailed, run_notebook


class FakeKernel:
    """Stands in for papermill: records what each run found in its folder, then writes its outputs."""

    def __init__(self) -> None:
        self.found: list[list[str]] = []
        self.fail = False

    def __call__(self, source, output, parameters, **_):
        from papermill.exceptions import PapermillExecutionError

        run_dir = Path(parameters["run_dir"])
        self.found.append(sorted(p.name for p in run_dir.iterdir()))
        (run_dir / "settings.json").write_text(json.dumps(parameters["overrides"]))
        Path(output.removeprefix(ATOMIC)).write_text("{}")
        if self.fail:
            raise PapermillExecutionError(3, 3, "train()", "RuntimeError", "boom", [])
        (run_dir / "results.json").write_text(json.dumps({"run": len(self.found)}))
        (run_dir / "loss.png").write_bytes(b"png")
        (run_dir / "table.csv").write_text("a\n1\n")
        (run_dir / "train").mkdir(exist_ok=True)
        (run_dir / "train" / "checkpoint.pt").write_text(f"from run {len(self.found)}")


@pytest.fixture
def kernel(monkeypatch, tmp_path):
    """The fake kernel, and a runs folder of this test's own."""
    import papermill

    monkeypatch.setenv("MINI_LIB_RUNS", str(tmp_path / "runs"))
    fake = FakeKernel()
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    return fake


def _top_level(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", ["../../notebooks", "..", ".", "/tmp/elsewhere", "a/../../x", "a/b", ".hidden", ""])
def test_a_run_name_that_leaves_runs_is_refused_before_anything_starts(kernel, name):
    source = NOTEBOOK_DIR / "00_quickstart.ipynb"
    before = source.read_bytes()
    with pytest.raises(ConfigError, match="plain folder name"):
        run_notebook("00", "smoke", run_name=name)
    assert kernel.found == [] and source.read_bytes() == before
    assert not runs_dir().exists()


def test_default_run_names_never_collide_within_one_second(kernel, monkeypatch):
    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 2, 3, 4, 5, 6)

    monkeypatch.setattr("mini_lib.lab.runner.datetime", FrozenClock)
    first, second = run_notebook("00", "smoke"), run_notebook("00", "smoke")
    assert first.run_dir != second.run_dir
    assert kernel.found == [["run.json"], ["run.json"]]
    assert json.loads((first.run_dir / "results.json").read_text()) == {"run": 1}


def test_an_identical_rerun_moves_old_outputs_to_previous_and_keeps_artefacts(kernel):
    run_dir = run_notebook("00", "smoke", {"steps": 10}, run_name="r").run_dir
    record = json.loads((run_dir / "run.json").read_text())
    assert record["notebook"] == "00_quickstart" and record["profile"] == "smoke"
    assert record["settings"]["steps"] == 10 and record["settings"]["preset"] == "pythia-1m"

    kernel.fail = True
    with pytest.raises(NotebookFailed):
        run_notebook("00", "smoke", {"steps": "10"}, run_name="r")  # "10" resolves to the same settings
    assert kernel.found[1] == ["previous", "run.json", "train"]  # the kernel started with no old results
    assert _top_level(run_dir) == ["00_quickstart.ipynb", "previous", "run.json", "settings.json", "train"]
    previous = run_dir / "previous"
    assert _top_level(previous) == ["00_quickstart.ipynb", "loss.png", "results.json", "settings.json", "table.csv"]
    assert json.loads((previous / "results.json").read_text()) == {"run": 1}
    assert (run_dir / "train" / "checkpoint.pt").read_text() == "from run 1"  # cached artefacts stay

    kernel.fail = False
    run_notebook("00", "smoke", {"steps": 10}, run_name="r")
    assert kernel.found[2] == ["previous", "run.json", "train", "unfinished"]  # the failed run's outputs set aside
    assert json.loads((previous / "results.json").read_text()) == {"run": 1}  # the last finished run before
    assert json.loads((run_dir / "results.json").read_text()) == {"run": 3}
    assert not (run_dir / "unfinished").exists()  # obsolete once a rerun finishes


def test_a_rerun_with_other_settings_is_refused_naming_them(kernel):
    run_dir = run_notebook("00", "smoke", {"steps": 10}, run_name="r").run_dir
    with pytest.raises(ConfigError, match=r"steps: 10 -> 20; tier: 'simple' -> 'rich'.*--name.*--replace") as caught:
        run_notebook("00", "smoke", {"steps": 20, "tier": "rich"}, run_name="r")
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"profile: 'smoke' -> 'cpu'"):
        run_notebook("00", "cpu", {"steps": 10}, run_name="r")
    assert len(kernel.found) == 1 and json.loads((run_dir / "results.json").read_text()) == {"run": 1}


def test_replace_moves_the_old_run_aside(kernel, capsys):
    run_dir = run_notebook("00", "smoke", {"steps": 10}, run_name="r").run_dir
    assert main(["run", "00", "--profile", "smoke", "--name", "r", "-p", "steps=20"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["run", "00", "--profile", "smoke", "--name", "r", "-p", "steps=20", "--replace"]) == 0
    (aside,) = (runs_dir() / "00_quickstart" / ".replaced").iterdir()
    assert aside.name.startswith("r-") and json.loads((aside / "results.json").read_text()) == {"run": 1}
    assert json.loads((run_dir / "run.json").read_text())["settings"]["steps"] == 20
    assert kernel.found[1] == ["run.json"]


BAD_VALUES = [
    ("00", "steps=0", "steps"), ("00", "steps=1.5", "steps"), ("00", "steps=True", "steps"),
    ("00", "lr=0", "lr"), ("00", "lr=inf", "lr"), ("00", "lr=nan", "lr"), ("00", "val_fraction=1.5", "val_fraction"),
    ("00", "n_stories=0", "n_stories"), ("00", "preset=pythia-7b", "preset"), ("00", "tier=poetic", "tier"),
    ("01", "presets=(pythia-1m", "presets"), ("01", "presets=pythia-1m,pythia-7b", "presets"),
    ("01", "batch_size=-4", "batch_size"), ("03", "corpus=wikipedia", "corpus"),
    ("03", "duplication_rates=[0.0, 1.5]", "duplication_rates"), ("06", "samplers=random,magic", "samplers"),
    ("02", "filter_mode=cpp", "filter_mode"),
]


@pytest.mark.parametrize("notebook, param, key", BAD_VALUES)
def test_a_bad_value_gets_one_line_and_no_kernel(kernel, capsys, notebook, param, key):
    assert main(["run", notebook, "--profile", "smoke", "-p", param]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: parameter {key} ") and "\n" not in err
    assert kernel.found == [] and not runs_dir().exists()


def test_an_ambiguous_notebook_lists_the_candidates(kernel, capsys):
    assert main(["run", "0", "--profile", "smoke"]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "00_quickstart" in err and "06_data_selection" in err
    assert kernel.found == []
