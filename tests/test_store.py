"""The artefact store: reuse only on the same spec, refuse other specs in named mode, never a half artefact."""

import json
from dataclasses import dataclass

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.store import (
    SPEC_FILE,
    Spec,
    cache_folder,
    cached,
    cached_array,
    canonical,
    claim,
    data_fingerprint,
    fingerprint,
    named,
)
from mini_lib.core.tokenization import PackedBlocks
from tests.helpers import run_python


@dataclass
class Settings:
    steps: int = 30
    lr: float = 1e-3


def _writer(calls: list, text: str = "built"):
    def build(tmp):
        calls.append(tmp)
        (tmp / "out.txt").write_text(text)
        return text
    return build


def test_same_spec_is_reused_without_calling_build(tmp_path):
    spec, calls = Spec("thing", 1, Settings(), "data-a"), []
    first = cached(tmp_path, spec, _writer(calls))
    assert first.built and first.value == "built" and first.path == cache_folder(tmp_path, spec)
    again = cached(tmp_path, Spec("thing", 1, Settings(), "data-a"), _writer(calls, "rebuilt"))
    assert not again.built and again.path == first.path and len(calls) == 1
    assert again.load(lambda p: (p / "out.txt").read_text()) == "built"
    assert named(tmp_path / "cell", spec, _writer(calls)).built
    assert not named(tmp_path / "cell", spec, _writer(calls)).built and len(calls) == 2
    assert json.loads((tmp_path / "cell" / SPEC_FILE).read_text())["settings"] == {"lr": 1e-3, "steps": 30}


def test_cache_mode_keeps_another_spec_as_another_artefact(tmp_path):
    calls = []
    for spec in (Spec("thing", 1, Settings()), Spec("thing", 1, Settings(steps=20)), Spec("thing", 2, Settings()),
                 Spec("thing", 1, Settings(), "other data")):
        assert cached(tmp_path, spec, _writer(calls)).built
    assert len(calls) == 4 and len(list(tmp_path.iterdir())) == 4


def test_named_mode_refuses_another_spec_naming_the_differing_key(tmp_path):
    calls = []
    named(tmp_path / "cell", Spec("grid-cell", 1, Settings()), _writer(calls))
    with pytest.raises(ConfigError) as error:
        named(tmp_path / "cell", Spec("grid-cell", 1, Settings(steps=20)), _writer(calls))
    message = str(error.value)
    assert "settings.steps (30 -> 20)" in message and "lr" not in message and "\n" not in message
    assert "new run name" in message and "delete" in message
    assert len(calls) == 1 and (tmp_path / "cell" / "out.txt").read_text() == "built"  # untouched


@pytest.mark.parametrize("mode", ["cached", "named"])
def test_a_fault_inside_build_leaves_nothing_under_the_final_name(tmp_path, mode):
    spec = Spec("thing", 1, Settings())
    final = cache_folder(tmp_path, spec) if mode == "cached" else tmp_path / "cell"
    fetch = (lambda b: cached(tmp_path, spec, b)) if mode == "cached" else (lambda b: named(final, spec, b))

    def crashing(tmp):
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fetch(crashing)
    assert not final.exists() and list(tmp_path.iterdir()) == []
    assert fetch(_writer([])).built and (final / "out.txt").read_text() == "built"


def test_a_build_killed_by_sigkill_leaves_no_artefact_and_is_rebuilt(tmp_path):
    done = run_python(f"""
        import os, signal
        from pathlib import Path
        from mini_lib.core.store import Spec, named
        def build(tmp):
            (tmp / "half.bin").write_bytes(b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        named(Path({str(tmp_path / 'cell')!r}), Spec("thing", 1, {{"steps": 30}}), build)
    """)
    assert done.returncode == -9, done.stderr
    assert not (tmp_path / "cell").exists() and [p.name.startswith(".cell.") for p in tmp_path.iterdir()] == [True]
    calls = []
    assert named(tmp_path / "cell", Spec("thing", 1, {"steps": 30}), _writer(calls)).built and len(calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["cell"]  # the killed build's leftover is cleared


def test_missing_and_corrupt_specs(tmp_path):
    spec, calls = Spec("thing", 1, Settings()), []
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "cell.json").write_text("{}")  # made before the store: no spec, counts as absent
    assert named(legacy, spec, _writer(calls)).built and not (legacy / "cell.json").exists()
    (legacy / SPEC_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match=r"unreadable .*spec.json.*delete"):
        named(legacy, spec, _writer(calls))
    cached(tmp_path / "cache", spec, _writer(calls))
    (cache_folder(tmp_path / "cache", spec) / SPEC_FILE).write_text("")
    assert cached(tmp_path / "cache", spec, _writer(calls)).built  # a cache just rebuilds
    assert len(calls) == 3


def test_a_committed_artefact_without_a_required_file_is_rebuilt(tmp_path):
    spec, calls = Spec("thing", 1, Settings()), []
    named(tmp_path / "cell", spec, _writer(calls))
    assert not named(tmp_path / "cell", spec, _writer(calls), require=("out.txt",)).built
    assert named(tmp_path / "cell", spec, _writer(calls), require=("model",)).built and len(calls) == 2


def test_claim_records_the_spec_once_and_refuses_another(tmp_path):
    assert claim(tmp_path / "runs", Spec("collection", 1, {"n_runs": 3})) == tmp_path / "runs"
    claim(tmp_path / "runs", Spec("collection", 1, {"n_runs": 3}))
    with pytest.raises(ConfigError, match=r"settings.n_runs \(3 -> 4\)"):
        claim(tmp_path / "runs", Spec("collection", 1, {"n_runs": 4}))


def test_cached_array_computes_once(tmp_path):
    calls = []
    first = cached_array(tmp_path, Spec("scores", 1), lambda: calls.append(1) or np.arange(3.0))
    again = cached_array(tmp_path, Spec("scores", 1), lambda: calls.append(1) or np.zeros(3))
    assert calls == [1] and again.tolist() == first.tolist() == [0.0, 1.0, 2.0]


def test_canonical_specs():
    assert canonical({"b": (1, 2), "a": Settings(), "c": np.float32(0.5)}) == {
        "a": {"lr": 1e-3, "steps": 30}, "b": [1, 2], "c": 0.5}
    assert canonical(np.zeros(1000))["shape"] == [1000]  # large arrays are hashed, not written out

    def weigher(w):
        return lambda step, idx: w[idx]

    assert fingerprint(weigher(np.ones(100))) != fingerprint(weigher(np.zeros(100)))  # captured values count
    with pytest.raises(ConfigError, match="plain settings"):
        canonical(object())


def test_data_fingerprints_follow_the_content():
    tokens = np.arange(64, dtype=np.uint16).reshape(8, 8)
    blocks = PackedBlocks(tokens, np.arange(8), np.arange(8) * 8)
    changed = PackedBlocks(tokens.copy(), np.arange(8), np.arange(8) * 8)
    changed.tokens[7, 7] = 0
    assert data_fingerprint(blocks) == blocks.fingerprint() != changed.fingerprint()
    assert data_fingerprint(None) == ""

    class Rows:  # no fingerprint(): length and collated examples
        def __init__(self, values):
            self.values = values

        def __len__(self):
            return len(self.values)

        def collate(self, indices):
            return {"x": np.asarray([self.values[i] for i in indices])}

    assert data_fingerprint(Rows([1, 2, 3])) == data_fingerprint(Rows([1, 2, 3])) != data_fingerprint(Rows([1, 2, 4]))


def test_callbacks_enter_a_spec_by_name_not_by_their_contents():
    @dataclass(frozen=True)
    class Callback:  # like a training callback holding a tokenizer: no plain form, but callable
        tokenizer: object

        def __call__(self, info):
            return None

    assert canonical({"callbacks": [Callback(object())]}) == {"callbacks": [f"{__name__}.{Callback.__qualname__}"]}
