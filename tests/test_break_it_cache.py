"""Break-it tests for the artefact store, round two: concurrent builds of one cached artefact, and
cached files damaged on disk. Each reproduces how main failed (a reader's files deleted under it by a
second builder, ``Directory not empty`` commits, staging folders left behind, damaged tokens trained on
in silence) and checks it now ends in the right artefact or one clear line."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.store import CHECKSUM_FILE, DamagedArtefact, Spec, cache_folder, cached, damage, named

PROCESSES = 3
ITERATIONS = 60
PARTS = 8


def _hammer(root: str, start, worker: int, out: str) -> None:
    """One of several processes building, then reading, the same artefacts in step with the others."""
    failures = []
    start.wait()
    for i in range(ITERATIONS):
        spec = Spec("stress", 1, {"iteration": i})

        def build(tmp: Path) -> None:
            for k in range(PARTS):
                np.save(tmp / f"part{k}.npy", np.full(2000, i, dtype=np.int64))
                os.sched_yield()

        try:
            artefact = cached(root, spec, build)
            for k in range(PARTS):  # a reader must find every file of the artefact it was given
                assert int(np.load(artefact.path / f"part{k}.npy")[0]) == i
        except Exception as error:  # noqa: BLE001 - counted, then reported by the test
            failures.append(f"iteration {i}: {type(error).__name__}: {error}")
    Path(out).write_text(json.dumps(failures))


def test_concurrent_builds_of_one_artefact_never_fail_or_leave_staging(tmp_path):
    """main: some builds fail (FileNotFoundError for a file the winner had just committed, or
    'Directory not empty' when two commits cross) and staging folders stay behind."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    outs = [tmp_path / f"worker{w}.json" for w in range(PROCESSES)]
    workers = [ctx.Process(target=_hammer, args=(str(tmp_path / "cache"), start, w, str(outs[w])))
               for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
        assert worker.exitcode == 0
    failures = [line for out in outs for line in json.loads(out.read_text())]
    assert failures == [], f"{len(failures)} of {PROCESSES * ITERATIONS} builds failed, e.g. {failures[:3]}"
    left = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(left) == ITERATIONS and not [n for n in left if n.startswith(".")], left[:5]


def test_a_later_builder_uses_the_first_complete_artefact(tmp_path):
    from tests.helpers import run_python

    spec, calls = Spec("thing", 1, {"steps": 3}), []

    def slow(tmp: Path) -> str:
        calls.append("slow")
        (tmp / "out.txt").write_text("second")
        # meanwhile another process commits the same artefact
        done = run_python(f"""
            from mini_lib.core.store import Spec, cached
            cached({str(tmp_path)!r}, Spec("thing", 1, {{"steps": 3}}), lambda tmp: (tmp / "out.txt").write_text("first"))
        """)
        assert done.returncode == 0, done.stderr
        return "second"

    artefact = cached(tmp_path, spec, slow)
    assert not artefact.built and artefact.value is None  # the winner is loaded, not our copy
    assert (artefact.path / "out.txt").read_text() == "first" and calls == ["slow"]
    assert [p.name for p in tmp_path.iterdir()] == [artefact.path.name]


def test_staging_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    from tests.helpers import run_python

    live = subprocess.Popen([sys.executable, "-c", "\n".join([
        "import time", "from mini_lib.core.store import Spec, cached",
        "def build(tmp):", "    print(tmp, flush=True)", "    time.sleep(60)",
        f"cached({str(tmp_path)!r}, Spec('live', 1), build)"])],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        building = Path(live.stdout.readline().strip())
        killed = run_python(f"""
            import os, signal
            from mini_lib.core.store import Spec, cached
            def build(tmp):
                (tmp / "half.bin").write_bytes(b"x")
                os.kill(os.getpid(), signal.SIGKILL)
            cached({str(tmp_path)!r}, Spec("killed", 1), build)
        """)
        assert killed.returncode == -signal.SIGKILL
        dead = [p for p in tmp_path.iterdir() if p.name.startswith(".killed-")]
        assert len(dead) == 1 and building.is_dir()  # main: the same, and nothing ever removes it
        assert cached(tmp_path, Spec("later", 1), lambda tmp: (tmp / "out.txt").write_text("x")).built
        assert not dead[0].exists() and building.is_dir()  # a build still running keeps its folder
    finally:
        live.kill()
        live.wait()


# --- 2. damaged artefacts ---------------------------------------------------------------------------

def _flip_low_bytes(path: Path, n: int = 40) -> None:
    """Flip the low bit of ``n`` bytes near the end of a file: a token stream still loads, with wrong ids."""
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 2 * n, len(data), 2):
        data[i] ^= 1
    path.write_bytes(bytes(data))


def test_a_damaged_cached_token_stream_is_rebuilt_with_a_warning_naming_it(tmp_path):
    """main: the flipped tokens load silently and training runs on them."""
    from mini_lib.core.tokenization import encode_corpus, train_tokenizer
    from tests.helpers import word_corpus

    texts = word_corpus(200)
    tokenizer = train_tokenizer(texts, 300, cache=False)
    clean = np.asarray(encode_corpus(tokenizer, texts, list(range(200))).stream).copy()
    (folder,) = [p for p in (Path(os.environ["MINI_LIB_CACHE"]) / "encoded").iterdir()
                 if (p / "stream.npy").is_file() and np.array_equal(np.load(p / "stream.npy"), clean)]
    _flip_low_bytes(folder / "stream.npy")
    with pytest.warns(DamagedArtefact, match=rf"{folder.name} is damaged \(stream.npy does not match its checksum\)"):
        again = encode_corpus(tokenizer, texts, list(range(200)))
    assert np.array_equal(np.asarray(again.stream), clean) and damage(folder) is None


def test_a_damaged_cached_tokenizer_is_rebuilt_not_a_json_traceback(tmp_path):
    """main: JSONDecodeError from transformers while loading the broken tokenizer.json."""
    from mini_lib.core.tokenization import train_tokenizer
    from tests.helpers import word_corpus

    texts = word_corpus(120, seed=5)
    first = train_tokenizer(texts, 300)
    (folder,) = [p for p in (Path(os.environ["MINI_LIB_CACHE"]) / "tokenizers").iterdir()
                 if json.loads((p / "spec.json").read_text())["data"] == _texts_key(texts)]
    path = folder / "tokenizer.json"
    path.write_text(path.read_text()[: len(path.read_text()) // 2])
    with pytest.warns(DamagedArtefact, match="tokenizer.json does not match its checksum"):
        again = train_tokenizer(texts, 300)
    assert again.get_vocab() == first.get_vocab()


def _texts_key(texts) -> str:
    from mini_lib.core.paths import texts_fingerprint

    return texts_fingerprint(texts)


def test_a_damaged_named_artefact_is_one_clear_line(tmp_path):
    spec = Spec("grid-cell", 1, {"steps": 3})
    named(tmp_path / "cell", spec, lambda tmp: (tmp / "model.bin").write_bytes(b"\x00" * 64))
    (tmp_path / "cell" / "model.bin").write_bytes(b"\x00" * 63 + b"\x01")
    with pytest.raises(ConfigError) as caught:
        named(tmp_path / "cell", spec, lambda tmp: pytest.fail("a damaged named artefact is never rebuilt silently"))
    message = str(caught.value)
    assert "model.bin does not match its checksum" in message and f"Delete {tmp_path / 'cell'}" in message
    assert "\n" not in message


def test_every_committed_file_is_checksummed_and_a_missing_one_is_damage(tmp_path):
    spec = Spec("thing", 1)
    artefact = cached(tmp_path, spec, lambda tmp: (tmp / "sub").mkdir() or (tmp / "sub" / "a.txt").write_text("a"))
    sums = json.loads((artefact.path / CHECKSUM_FILE).read_text())
    assert sorted(sums["files"]) == ["spec.json", "sub/a.txt"] and sums["algorithm"] == "xxh3_128"
    (artefact.path / "sub" / "a.txt").unlink()
    assert damage(artefact.path) == "sub/a.txt is missing"
    with pytest.warns(DamagedArtefact, match="sub/a.txt is missing"):
        assert cached(tmp_path, spec, lambda tmp: (tmp / "sub").mkdir() or (tmp / "sub" / "a.txt").write_text("a")).built
    assert damage(cache_folder(tmp_path, spec)) is None


def test_a_cached_artefact_without_checksums_is_rebuilt_quietly(tmp_path, recwarn):
    """An artefact committed before checksums existed is not damaged, only unverifiable: rebuilt, no warning."""
    spec = Spec("thing", 1)
    folder = cached(tmp_path, spec, lambda tmp: (tmp / "a.txt").write_text("a")).path
    (folder / CHECKSUM_FILE).unlink()
    assert cached(tmp_path, spec, lambda tmp: (tmp / "a.txt").write_text("a")).built
    assert not [w for w in recwarn if issubclass(w.category, DamagedArtefact)]
    assert damage(folder) is None

