"""The one training loop: determinism, records, hooks, checkpoints, resume after SIGKILL, 2 processes."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.train import (
    TrainConfig,
    TrainingDiverged,
    batch_indices,
    latest_checkpoint,
    learning_rate,
    train,
)
from tests.helpers import tiny_model, tiny_setup, word_corpus

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def quick(**kw) -> TrainConfig:
    base = dict(steps=6, batch_size=8, lr=3e-3, precision="fp32", device="cpu", progress=False)
    return TrainConfig(**{**base, **kw})


def run(tmp_path, name="run", model_seed=0, **kw):
    tokenizer, blocks = tiny_setup()
    return train(tiny_model(len(tokenizer), seed=model_seed), blocks, quick(**kw), tmp_path / name, val_data=blocks, resume=False)


def test_loss_goes_down_and_eval_is_recorded(tmp_path):
    result = run(tmp_path, steps=40, eval_every=20, eval_examples=32)
    losses = result.records["loss"].to_numpy()
    assert losses[-5:].mean() < losses[:5].mean() - 0.5
    assert result.evals["step"].tolist() == [0, 20, 40]
    assert result.evals["loss"].iloc[-1] < result.evals["loss"].iloc[0]
    assert set(result.final_eval) >= {"loss", "perplexity", "accuracy"}


def test_same_seed_same_numbers(tmp_path):
    a = run(tmp_path, "a").records["loss"].tolist()
    b = run(tmp_path, "b").records["loss"].tolist()
    assert a == b


def test_records_name_the_examples_each_step_saw(tmp_path):
    _, blocks = tiny_setup()
    result = run(tmp_path, steps=4)
    for _, row in result.records.iterrows():
        expected = batch_indices(row["step"] - 1, len(blocks), 8, seed=0)
        assert row["example_ids"] == expected.tolist()
        assert row["doc_ids"] == [blocks.example_ids(i) for i in expected]
    assert {"lr", "grad_norm", "tokens_per_s", "mfu"} <= set(result.records.columns)


def test_batch_order_is_epochs_of_permutations():
    first_epoch = np.concatenate([batch_indices(s, 12, 4, seed=3) for s in range(3)])
    assert sorted(first_epoch) == list(range(12))
    assert not np.array_equal(batch_indices(3, 12, 4, 3), batch_indices(0, 12, 4, 3))
    assert np.array_equal(batch_indices(7, 12, 4, 3), batch_indices(7, 12, 4, 3))


def test_gradient_accumulation_matches_full_batch(tmp_path):
    full = run(tmp_path, "full").records["loss"].to_numpy()
    accumulated = run(tmp_path, "acc", micro_batch_size=2).records["loss"].to_numpy()
    np.testing.assert_allclose(accumulated, full, rtol=0, atol=2e-5)


def test_explicit_order_and_example_weights(tmp_path):
    """All weight on the first example of each batch == a batch made of that example alone."""
    tokenizer, blocks = tiny_setup()
    order = [[i, i + 1, i + 2, i + 3] for i in range(0, 20, 4)]
    weighted = train(
        tiny_model(len(tokenizer)), blocks, quick(steps=5, batch_size=4), tmp_path / "w", order=order,
        example_weights=lambda step, idx: np.eye(4)[0], resume=False,
    )
    assert weighted.records["example_ids"].tolist() == order
    repeated = train(
        tiny_model(len(tokenizer)), blocks, quick(steps=5, batch_size=4), tmp_path / "r",
        order=[[b[0]] * 4 for b in order], resume=False,
    )
    for a, b in zip(weighted.model.parameters(), repeated.model.parameters()):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=0)  # Adam amplifies summation-order noise


def test_samples_text_at_the_end_when_asked(tmp_path):
    tokenizer, blocks = tiny_setup()
    config = quick(steps=2, sample_prompts=("the cat", "a dog"), sample_tokens=5)
    result = train(tiny_model(len(tokenizer)), blocks, config, tmp_path / "s", tokenizer=tokenizer, resume=False)
    assert len(result.samples) == 2 and result.samples[0].startswith("the cat")
    assert json.loads((tmp_path / "s" / "samples.json").read_text())["a dog"] == result.samples[1]


def test_callback_sees_every_step(tmp_path):
    seen = []
    tokenizer, blocks = tiny_setup()
    train(tiny_model(len(tokenizer)), blocks, quick(steps=3), tmp_path / "c",
          callbacks=[lambda info: seen.append((info.step, info.record["loss"]))], resume=False)
    assert [s for s, _ in seen] == [1, 2, 3]


def test_train_meta_says_what_the_call_cost(tmp_path):
    tokenizer, blocks = tiny_setup()
    train(tiny_model(len(tokenizer)), blocks, quick(steps=5, checkpoint_every=5), tmp_path / "t")
    timing = json.loads((tmp_path / "t" / "train_meta.json").read_text())["timing"]
    assert timing["steps_run"] == 5 and 0 < timing["first_step_s"] < timing["wall_s"] and timing["step_s"] > 0
    assert timing["peak_gpu_gb"] is None  # a CPU run
    train(tiny_model(len(tokenizer)), blocks, quick(steps=5, checkpoint_every=5), tmp_path / "t")  # finished: no steps
    assert json.loads((tmp_path / "t" / "train_meta.json").read_text())["timing"]["steps_run"] == 0


def test_learning_rate_schedule_warmup_then_cosine_to_min():
    config = quick(steps=100, lr=1e-3, warmup_steps=10)
    lrs = [learning_rate(s, config) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)
    assert quick(steps=1000).n_warmup == 10  # Pythia: 1% warmup


def test_nan_guard_stops_names_step_and_keeps_checkpoint(tmp_path):
    tokenizer, blocks = tiny_setup()

    def poison(info):
        if info.step == 4:
            with torch.no_grad():
                next(info.model.parameters()).fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match="step 5") as err:
        train(tiny_model(len(tokenizer)), blocks, quick(steps=8, checkpoint_every=2), tmp_path / "n",
              callbacks=[poison], resume=False)
    assert "step_00000004" in str(err.value)
    assert latest_checkpoint(tmp_path / "n").name == "step_00000004"


def test_resume_ignores_incomplete_checkpoints_and_checks_settings(tmp_path):
    tokenizer, blocks = tiny_setup()
    folder = tmp_path / "r"
    train(tiny_model(len(tokenizer)), blocks, quick(steps=4, checkpoint_every=2), folder, resume=False)
    (folder / "checkpoints" / ".tmp_step_00000006").mkdir()  # a crash mid-write leaves only this
    assert latest_checkpoint(folder).name == "step_00000004"
    with pytest.raises(ConfigError, match="batch_size"):
        train(tiny_model(len(tokenizer)), blocks, quick(steps=4, batch_size=4, checkpoint_every=2), folder)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"precision": "fp8"}, "precision"), ({"steps": 0}, "steps"), ({"device": "tpu"}, "device"),
     ({"batch_size": 8, "micro_batch_size": 3}, "multiple of micro_batch_size")],
)
def test_invalid_settings_raise_clear_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run(tmp_path, **kwargs)


# --- real processes -------------------------------------------------------------------------------

def _corpus_file(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(word_corpus(300, 30, seed=1)))
    return path


def _train_cmd(corpus: Path, run_dir: Path, launcher: list[str] | None = None, **extra) -> list[str]:
    args = {"corpus": "local", "path": corpus, "n-documents": 300, "vocab-size": 320, "seq-len": 32,
            "steps": 12, "batch-size": 8, "precision": "fp32", "device": "cpu", "run-dir": run_dir, **extra}
    flags = [x for k, v in args.items() for x in ((f"--{k}",) if v is True else (f"--{k}", str(v)))]
    return (launcher or [sys.executable]) + ["-m", "mini_lib", "train"] + flags


def _env(tmp_path):
    return {**os.environ, "OMP_NUM_THREADS": "1", "MINI_LIB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}


def _losses(run_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run_dir / "records.jsonl").read_text().splitlines()]


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    corpus, env = _corpus_file(tmp_path), _env(tmp_path)
    straight = tmp_path / "straight"
    subprocess.run(_train_cmd(corpus, straight, **{"checkpoint-every": 3}), env=env, check=True, capture_output=True)

    killed = tmp_path / "killed"
    kill_after = random.Random().randint(4, 10)  # a random step, past the first checkpoint
    proc = subprocess.Popen(_train_cmd(corpus, killed, **{"checkpoint-every": 3}), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = killed / "records.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if records.exists() and len(records.read_text().splitlines()) >= kill_after:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    resumed = subprocess.run(_train_cmd(corpus, killed, **{"checkpoint-every": 3}), env=env, check=True,
                             capture_output=True, text=True)
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["resumed_from"] is not None and summary["resumed_from"] >= 3
    assert _losses(killed) == pytest.approx(_losses(straight), abs=1e-6)
    straight_summary = json.loads((straight / "summary.json").read_text())
    assert summary["final_eval"]["loss"] == pytest.approx(straight_summary["final_eval"]["loss"], abs=1e-6)


def test_two_cpu_processes_match_one_process(tmp_path):
    """torchrun really starts 2 processes (gloo); their loss equals the 1-process loss for the same global batch."""
    corpus, env = _corpus_file(tmp_path), _env(tmp_path)
    single, double = tmp_path / "one", tmp_path / "two"
    subprocess.run(_train_cmd(corpus, single, steps=6), env=env, check=True, capture_output=True)
    torchrun = [str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", str(29500 + os.getpid() % 1000)]
    out = subprocess.run(_train_cmd(corpus, double, launcher=torchrun, steps=6), env=env, check=True,
                         capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1])["world_size"] == 2
    assert json.loads((double / "train_meta.json").read_text())["world_size"] == 2
    np.testing.assert_allclose(_losses(double), _losses(single), rtol=0, atol=1e-5)
