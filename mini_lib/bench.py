"""Training throughput: our loop against the Hugging Face ``Trainer``, side by side in one run.

``python -m mini_lib bench train [--preset P] [--device auto|cpu|cuda]`` trains the same model (same
initial weights), on the same blocks, with the same batch, optimiser settings and precision, once with
``mini_lib.train`` and once with ``transformers.Trainer``, alternating rounds so neither enjoys a
warmer machine. A third, bare hand-written PyTorch step (forward, loss, backward, clip, fused AdamW;
nothing else) gives the floor: no loop can beat it without computing something cheaper, so
``bare / Trainer`` bounds the ratio any loop can reach over the Trainer on the same computation.
Throughput is measured between step timestamps after warm-up steps (compilation, allocator warm-up),
and printed and written as JSON with device, versions and the command.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mini_lib.errors import ConfigError
from mini_lib.hardware import device_name, peak_flops, resolve_device
from mini_lib.models import build_model, get_preset, model_size, neox_config
from mini_lib.train import TrainConfig, build_optimizer, learning_rate, train


@dataclass
class Throughput:
    """One measured run: tokens per second over the timed steps, MFU where the peak is known."""

    loop: str
    tokens_per_s: float
    mfu: float | None
    peak_memory_gb: float
    timed_steps: int
    final_loss: float


def _timed_tokens_per_s(stamps: list[float], tokens_per_step: int, warmup: int) -> tuple[float, int]:
    timed = stamps[warmup:]
    if len(timed) < 2:
        raise ConfigError(f"need at least warmup + 2 steps to time, got {len(stamps)} steps and warmup {warmup}")
    return tokens_per_step * (len(timed) - 1) / (timed[-1] - timed[0]), len(timed) - 1


def _peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def _device(config: TrainConfig) -> torch.device:
    return torch.device(resolve_device(config.device))


def _precision(config: TrainConfig, device: torch.device) -> str:
    """What ``precision="auto"`` means for the loop: bf16 on a GPU, fp32 on a CPU."""
    if config.precision != "auto":
        return config.precision
    return "bf16" if device.type == "cuda" else "fp32"


def measure_ours(model, blocks, config: TrainConfig, warmup: int = 3) -> Throughput:
    """Throughput of ``mini_lib.train`` on ``blocks`` (timestamps from a step callback)."""
    stamps: list[float] = []
    device = _device(config)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as run_dir:
        result = train(model, blocks, config, run_dir, callbacks=[lambda info: stamps.append(time.perf_counter())], resume=False)
    tokens_per_step = config.batch_size * blocks.seq_len
    tps, n = _timed_tokens_per_s(stamps, tokens_per_step, warmup)
    peak = peak_flops(device, _precision(config, device))
    flops = model_size(result.model.config, blocks.seq_len).flops_per_token
    return Throughput("mini_lib", tps, flops * tps / peak if peak else None, _peak_memory_gb(device), n,
                      float(result.records["loss"].iloc[-1]))


def _shuffled_order(n_examples: int, config: TrainConfig) -> np.ndarray:
    """One seeded permutation, repeated to cover ``steps x batch_size`` examples."""
    return np.resize(np.random.default_rng(config.seed).permutation(n_examples), config.steps * config.batch_size)


def measure_bare(model, blocks, config: TrainConfig, warmup: int = 3) -> Throughput:
    """Throughput of the plainest correct step: the floor under any training loop's cost.

    The model computes its own loss (``labels=``), the optimiser and schedule are ours, and the only
    extra work per step is reading the loss, which every loop that logs does. Compiled when the
    other two are (``config.compile``), so the floor is always the same computation.
    """
    device = _device(config)
    bf16 = _precision(config, device) == "bf16"
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(config.seed)
    model = model.to(device).train()
    optimizer = build_optimizer(model, config, fused=True)
    step_model = torch.compile(model) if config.compile else model
    tokens = torch.from_numpy(np.asarray(blocks.tokens[_shuffled_order(len(blocks), config)], dtype=np.int64))
    stamps, loss = [], float("nan")
    for step in range(config.steps):
        ids = tokens[step * config.batch_size:(step + 1) * config.batch_size].to(device, non_blocking=True)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            output = step_model(input_ids=ids, labels=ids)
        output.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss = output.loss.item()
        stamps.append(time.perf_counter())
    tps, n = _timed_tokens_per_s(stamps, config.batch_size * blocks.seq_len, warmup)
    peak = peak_flops(device, "bf16" if bf16 else "fp32")
    flops = model_size(model.config, blocks.seq_len).flops_per_token
    return Throughput("bare_pytorch", tps, flops * tps / peak if peak else None, _peak_memory_gb(device), n, loss)


class _BlockDataset(torch.utils.data.Dataset):
    def __init__(self, blocks, order: np.ndarray):
        self.blocks, self.order = blocks, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: int) -> dict:
        ids = torch.from_numpy(np.asarray(self.blocks.tokens[self.order[i]], dtype=np.int64))
        return {"input_ids": ids, "labels": ids}


def measure_trainer(model, blocks, config: TrainConfig, warmup: int = 3) -> Throughput:
    """Throughput of ``transformers.Trainer`` with the same settings (its own data loader and loss)."""
    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()

    stamps: list[float] = []

    class Stamp(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.perf_counter())

    device = _device(config)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    bf16 = _precision(config, device) == "bf16"
    order = _shuffled_order(len(blocks), config)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=config.batch_size, max_steps=config.steps,
            learning_rate=config.lr, lr_scheduler_type="cosine", warmup_steps=config.n_warmup,
            weight_decay=config.weight_decay, adam_beta1=config.beta1, adam_beta2=config.beta2,
            adam_epsilon=config.eps, max_grad_norm=config.grad_clip, bf16=bf16, use_cpu=device.type == "cpu",
            save_strategy="no", report_to=[], logging_strategy="no", seed=config.seed,
            dataloader_num_workers=0, disable_tqdm=True, torch_compile=config.compile,
        )
        trainer = Trainer(model=model, args=args, train_dataset=_BlockDataset(blocks, order), callbacks=[Stamp()])
        trainer.remove_callback(PrinterCallback)  # it prints a metrics dict; the report is ours
        output = trainer.train()
    tokens_per_step = config.batch_size * blocks.seq_len
    tps, n = _timed_tokens_per_s(stamps, tokens_per_step, warmup)
    peak = peak_flops(device, "bf16" if bf16 else "fp32")
    flops = model_size(model.config, blocks.seq_len).flops_per_token
    return Throughput("hf_trainer", tps, flops * tps / peak if peak else None, _peak_memory_gb(device), n,
                      float(output.training_loss))


def versions() -> dict:
    import accelerate
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "accelerate": accelerate.__version__}


def compare(
    preset: str, blocks, vocab_size: int, config: TrainConfig, rounds: int = 2, warmup: int = 3
) -> dict:
    """Alternate ours, Trainer and the bare step for ``rounds`` rounds from the same initial weights;
    keep each one's best round (the least disturbed by anything else on the machine)."""
    model_config = neox_config(get_preset(preset), vocab_size, blocks.seq_len)
    best: dict[str, Throughput] = {}
    for _ in range(rounds):
        for loop, measure in (("mini_lib", measure_ours), ("hf_trainer", measure_trainer), ("bare_pytorch", measure_bare)):
            result = measure(build_model(model_config, seed=config.seed), blocks, config, warmup)
            if loop not in best or result.tokens_per_s > best[loop].tokens_per_s:
                best[loop] = result
    device = _device(config)
    return {
        "preset": preset,
        "parameters": model_size(model_config, blocks.seq_len).total,
        "device": device_name(device),
        "seq_len": blocks.seq_len,
        "batch_size": config.batch_size,
        "precision": config.precision,
        "steps": config.steps,
        "rounds": rounds,
        "results": {k: asdict(v) for k, v in best.items()},
        "ratio_ours_over_trainer": best["mini_lib"].tokens_per_s / best["hf_trainer"].tokens_per_s,
        "ratio_ours_over_bare": best["mini_lib"].tokens_per_s / best["bare_pytorch"].tokens_per_s,
        # the most any loop can gain over the Trainer without computing something cheaper
        "ratio_bare_over_trainer": best["bare_pytorch"].tokens_per_s / best["hf_trainer"].tokens_per_s,
        "versions": versions(),
    }


DEFAULTS = {  # device -> (preset, seq_len, batch, steps, vocab, precision)
    "cpu": ("pythia-1m", 128, 16, 30, 2048, "fp32"),
    "cuda": ("pythia-160m", 2048, 16, 40, 50304, "bf16"),
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m mini_lib bench")
    parser.add_argument("what", choices=["train"])
    parser.add_argument("--preset", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--precision", default=None)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; each loop keeps its best")
    parser.add_argument("--out", default=None, help="JSON file (default benchmarks/results/train-<device>-<preset>.json)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    preset, seq_len, batch, steps, vocab, precision = DEFAULTS[device]
    preset, seq_len = args.preset or preset, args.seq_len or seq_len
    batch, steps, precision = args.batch_size or batch, args.steps or steps, args.precision or precision
    from mini_lib.tokenization import PackedBlocks

    # Random tokens: throughput does not depend on the text, and no corpus build muddies the timing.
    rng = np.random.default_rng(0)
    n_blocks = batch * steps
    blocks = PackedBlocks(tokens=rng.integers(0, vocab, size=(n_blocks, seq_len), dtype=np.int32),
                          doc_ids=np.arange(n_blocks), doc_starts=np.arange(n_blocks) * seq_len)
    config = TrainConfig(steps=steps, batch_size=batch, lr=get_preset(preset).lr, precision=precision,
                         device=device, compile=args.compile, progress=False, log_every=steps)
    report = compare(preset, blocks, vocab, config, rounds=args.rounds)
    report["command"] = "python -m mini_lib bench " + " ".join(argv if argv is not None else sys.argv[2:])
    out = Path(args.out or Path("benchmarks/results") / f"train-{device}-{preset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    for loop, r in report["results"].items():
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a"
        print(f"{loop:>11}: {r['tokens_per_s']:>12,.0f} tokens/s  MFU {mfu:>6}  peak mem {r['peak_memory_gb']:.2f} GB")
    print(f"ours / Trainer: {report['ratio_ours_over_trainer']:.2f}x   ours / bare step: {report['ratio_ours_over_bare']:.2f}x   "
          f"ceiling (bare / Trainer): {report['ratio_bare_over_trainer']:.2f}x   ({report['device']}; written to {out})")
    return report


def precision_table(
    preset: str, blocks, vocab_size: int, precisions: tuple[str, ...], steps: int, batch_size: int,
    compile: bool = False, device: str = "auto", seed: int = 0,
) -> "pd.DataFrame":
    """Throughput of our loop per precision (and compiled, when asked): the notebook's comparison.

    Each row times ``steps`` steps after one warm-up step, on a fresh model with the same weights.
    """
    import pandas as pd

    use_cuda = resolve_device(device) == "cuda"
    config_base = neox_config(get_preset(preset), vocab_size, blocks.seq_len)
    variants = [(p, False) for p in precisions if use_cuda or p != "fp16"]
    if compile:
        variants += [(variants[-1][0], True)]
    rows = []
    for precision, compiled in variants:
        config = TrainConfig(steps=steps + 2, batch_size=batch_size, lr=get_preset(preset).lr, precision=precision,
                             device="cuda" if use_cuda else "cpu", compile=compiled, seed=seed, progress=False)
        r = measure_ours(build_model(config_base, seed=seed), blocks, config, warmup=1)
        rows.append({"precision": precision, "compile": compiled, "tokens_per_s": r.tokens_per_s, "mfu": r.mfu,
                     "peak_memory_gb": r.peak_memory_gb})
    table = pd.DataFrame(rows)
    table["speedup_vs_first"] = table["tokens_per_s"] / table["tokens_per_s"].iloc[0]
    return table
