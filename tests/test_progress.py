"""Progress under papermill (headless: sparse plain lines, library bars off) and interactively."""

import pytest
from transformers.utils import logging as hf_logging

from mini_lib.core.progress import HEADLESS_ENV, HEADLESS_INTERVAL_S, headless, progress_bar
from mini_lib.lab import notebook


def test_headless_bars_print_at_most_once_a_minute(monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    assert headless()
    bar = progress_bar(100, "train")
    assert bar.mininterval == bar.maxinterval == HEADLESS_INTERVAL_S and bar.ascii
    bar.close()
    monkeypatch.delenv(HEADLESS_ENV)
    interactive = progress_bar(100, "train", initial=5)
    assert not headless() and interactive.mininterval == 1.0 and interactive.n == 5
    interactive.close()


@pytest.fixture
def restore_hf_bars():
    yield
    hf_logging.enable_progress_bar()


def test_a_headless_notebook_turns_the_libraries_bars_off(tmp_path, monkeypatch, restore_hf_bars):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    hf_logging.enable_progress_bar()
    notebook.start("00", "smoke", {}, str(tmp_path / "run"))
    assert not hf_logging.is_progress_bar_enabled()


def test_a_headless_kernel_keeps_our_lines_and_silences_bars_libraries_open_without_a_switch():
    """transformers' GGUF conversion opens ``tqdm.auto.tqdm(...)`` with no way to turn it off; under papermill
    it was saved as a frozen "0%" bar. The headless kernel's environment turns such bars off."""
    import os
    import subprocess
    import sys

    from mini_lib.core.progress import HEADLESS_KERNEL_ENV

    code = ("import sys\nfrom tqdm.auto import tqdm\nfrom mini_lib.core.progress import progress_bar\n"
            "library = tqdm(range(3), desc='library bar', file=sys.stdout)\nlist(library)\n"
            "ours = progress_bar(3, 'ours bar')\nours.update(3)\nours.close()\n")
    env = {**os.environ, **HEADLESS_KERNEL_ENV}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "library bar" not in out and "ours bar" in out
    env = {k: v for k, v in os.environ.items() if k not in HEADLESS_KERNEL_ENV}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "library bar" in out
