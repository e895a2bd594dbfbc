"""Break-it tests for settings that should be refused before any work starts: the gpu profile on a
machine without a GPU, and sizes that cannot work (a BPE vocabulary without room for merges, a context
of one token) or clearly cannot fit the machine (a billion stories). main started each of them: a
kernel, then a failing cell, or hours of work growing towards an out-of-memory error."""

import os
import signal
import subprocess
import sys
import time

import pytest

import mini_lib.lab.sizing as sizing
from mini_lib.__main__ import main
from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import REPO_ROOT
from mini_lib.lab.profiles import MIN_BPE_VOCAB, NOTEBOOK_PROFILES, PROFILES
from tests.test_break_it_input import kernel  # noqa: F401 - the fake kernel fixture

GB = 10**9


def _cli(*args: str, env: dict, timeout: float) -> tuple[int | None, str, float]:
    """``python -m mini_lib ARGS`` in a fresh process group, killed whole after ``timeout`` seconds
    (return code None): what main did with these commands was start work that runs for hours."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mini_lib", *args], env=env, cwd=REPO_ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, err, time.perf_counter() - started
    return proc.returncode, err, time.perf_counter() - started


def _env(tmp_path) -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MINI_LIB_RUNS": str(tmp_path / "runs"),
            "MINI_LIB_CACHE": str(tmp_path / "cache"), "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}


# --- 7. the gpu profile without a GPU ----------------------------------------------------------------

def test_the_gpu_profile_without_a_gpu_is_refused_in_seconds_naming_the_device(tmp_path):
    """main: started the paper-scale profile on the CPU (200k stories, then hours of training)."""
    code, err, seconds = _cli("run", "00", "--profile", "gpu", env=_env(tmp_path), timeout=90)
    assert code == 2, f"still running after {seconds:.0f} s" if code is None else err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: the gpu profile") and "found: cpu" in line
    assert "--profile cpu" in line and "--allow-cpu-for-gpu-profile" in line
    assert not (tmp_path / "runs").exists()
    assert seconds < 30  # an import of torch, not a kernel (about a second on an idle machine)


def test_the_gpu_profile_runs_on_a_cpu_when_asked_for(kernel, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr(sizing, "visible_gpu", lambda: None)
    assert main(["run", "00", "--profile", "gpu", "-p", "steps=2"]) == 2
    assert "--allow-cpu-for-gpu-profile" in capsys.readouterr().err and kernel.found == []
    assert main(["run", "00", "--profile", "gpu", "-p", "steps=2", "--allow-cpu-for-gpu-profile"]) == 0
    assert len(kernel.found) == 1


def test_the_gpu_profile_runs_where_a_gpu_is_visible(kernel, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sizing, "visible_gpu", lambda: "NVIDIA H100 80GB HBM3")
    assert main(["run", "00", "--profile", "gpu", "-p", "steps=2"]) == 0 and len(kernel.found) == 1


# --- 8. sizes that cannot work ----------------------------------------------------------------------

@pytest.mark.parametrize("notebook, param, key", [
    ("00", "vocab_size=10", "vocab_size"), ("02", f"vocab_size={MIN_BPE_VOCAB - 1}", "vocab_size"),
    ("00", "seq_len=1", "seq_len"), ("05", "lm_seq_len=1", "lm_seq_len"), ("06", "seq_len=1", "seq_len"),
])
def test_sizes_the_model_cannot_use_are_refused_before_any_kernel(kernel, capsys, notebook, param, key):  # noqa: F811
    """main: these passed the checks, and the notebook failed in a cell after its kernel started."""
    assert main(["run", notebook, "--profile", "smoke", "-p", param]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: parameter {key} ") and "\n" not in err
    assert kernel.found == []


def test_the_vocabulary_bound_is_the_tokenizers_own():
    """The check before the kernel and the tokenizer's own agree, so no vocabulary passes one and fails the other."""
    from mini_lib.core.tokenization import train_tokenizer
    from tests.helpers import word_corpus

    with pytest.raises(ConfigError, match=f">= {MIN_BPE_VOCAB}"):
        train_tokenizer(word_corpus(50), MIN_BPE_VOCAB - 1, cache=False)
    assert len(train_tokenizer(word_corpus(50), MIN_BPE_VOCAB, cache=False)) <= MIN_BPE_VOCAB


def test_train_refuses_sizes_that_cannot_work_before_preparing_data(tmp_path, monkeypatch, capsys):
    """main: generated the corpus first (seconds to minutes), then failed inside the data recipe."""
    import mini_lib.core.recipe as recipe

    monkeypatch.setattr(recipe, "prepare_lm_data", lambda **_: pytest.fail("data prepared before the checks"))
    for flags, message in ((["--vocab-size", "10"], "--vocab-size must be >= 300"),
                           (["--seq-len", "1"], "--seq-len must be >= 2")):
        assert main(["train", "--run-dir", str(tmp_path / "t"), *flags]) == 2
        assert message in capsys.readouterr().err


# --- 8. sizes that clearly cannot fit -----------------------------------------------------------------

def test_a_corpus_that_clearly_exceeds_memory_is_refused_with_an_estimate(kernel, monkeypatch, capsys):  # noqa: F811
    """main: ``-p n_stories=1000000000`` started, and grew towards an out-of-memory error."""
    monkeypatch.setattr(sizing, "machine_memory", lambda: 16 * GB)
    assert main(["run", "00", "--profile", "smoke", "-p", "n_stories=1000000000"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "1,000,000,000 generated documents needs at least 2,000 GB of memory" in line
    assert "27.8 h of data preparation" in line and "this machine has 16 GB" in line and "--skip-size-check" in line
    assert kernel.found == []
    assert main(["run", "00", "--profile", "smoke", "-p", "n_stories=1000000000", "--skip-size-check"]) == 0
    assert len(kernel.found) == 1  # the user confirmed: it starts


def test_train_refuses_a_billion_documents_in_seconds(tmp_path):
    """main: ``train --n-documents 1000000000`` started generating stories, silently."""
    code, err, seconds = _cli("train", "--n-documents", "1000000000", "--run-dir", str(tmp_path / "t"),
                              env=_env(tmp_path), timeout=90)
    assert code == 2, f"still running after {seconds:.0f} s" if code is None else err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: --n-documents 1,000,000,000 needs at least 2,000 GB") and "--skip-size-check" in line
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("notebook", sorted(NOTEBOOK_PROFILES))
def test_every_profile_fits_the_machine_it_is_for(notebook):
    """No false refusals: smoke and cpu fit a 2 GB laptop's budget, gpu the host of one GPU (64 GB)."""
    for profile, memory in zip(PROFILES, (2 * GB, 2 * GB, 64 * GB)):
        documents = sizing.generated_documents(NOTEBOOK_PROFILES[notebook][profile])
        sizing.check_fits(documents, f"{notebook} {profile}", memory=memory)
