"""The layers of ``mini_lib`` (README, "Layout"): lab above papers above core, corpora beside core, and
papers independent of each other. import-linter checks the contracts written in ``pyproject.toml``; the
tests also plant an import that points the wrong way, to show the contracts would catch it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "mini_lib", tmp_path / "mini_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_its_layers():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, planted, broken", [
    ("core/store.py", "from mini_lib.lab import profiles", "mini_lib.core is not allowed to import mini_lib.lab"),
    ("core/train.py", "from mini_lib.papers.quality_quantity import settings",
     "mini_lib.core is not allowed to import mini_lib.papers"),
    ("corpora/storyworld.py", "from mini_lib.papers.gptfluence import settings",
     "mini_lib.corpora is not allowed to import mini_lib.papers"),
    ("papers/data_selection/experiment.py", "from mini_lib.papers.quality_quantity import duplication",
     "mini_lib.papers.data_selection is not allowed to import mini_lib.papers.quality_quantity"),
])
def test_an_import_that_points_the_wrong_way_breaks_a_contract(copy: Path, module: str, planted: str, broken: str):
    path = copy / "mini_lib" / module
    path.write_text(path.read_text() + f"\n{planted}  # planted by the test\n")
    result = _lint(copy)
    assert result.returncode != 0
    assert broken in result.stdout


def test_the_installed_package_never_imports_the_maintainers_tools():
    sources = "\n".join(p.read_text() for p in (REPO / "mini_lib").rglob("*.py"))
    assert "benchmarks" not in {line.split()[1].split(".")[0] for line in sources.splitlines()
                                if line.startswith(("import ", "from "))}
