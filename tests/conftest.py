"""Test-wide settings: offline hub, quiet progress bars, fast deterministic torch."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from mini_lib.core.paths import shared_data_dir  # noqa: E402


@pytest.fixture(scope="session")
def aochildes_vocab_path():
    """The paper's AO-CHILDES word list from ../shared/data, or skip with the reason."""
    path = shared_data_dir() / "aochildes_vocab.csv"
    if not path.is_file():
        pytest.skip(f"shared data absent: {path} (set MINI_LIB_SHARED_DATA to the folder holding it)")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Caches and runs go to a per-session temp folder, never the repo."""
    root = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("MINI_LIB_CACHE", str(root / "cache"))
    monkeypatch.setenv("MINI_LIB_RUNS", str(root / "runs"))


@pytest.fixture
def one_thread():
    """Run a test on one torch thread (see tests.helpers.single_thread)."""
    from tests.helpers import single_thread

    with single_thread():
        yield
