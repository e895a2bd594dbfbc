"""Training throughput: our loop against the Hugging Face ``Trainer``, side by side in one run.

``python -m mini_lib bench train [--preset P] [--device auto|cpu|cuda]`` trains the same model (same
initial weights), on the same blocks, with the same batch, optimiser settings and precision, once with
``mini_lib.core.train`` and once with ``transformers.Trainer``, alternating rounds so neither enjoys a
warmer machine. A third, bare hand-written PyTorch step (forward, loss, backward, clip, fused AdamW;
nothing else) gives the floor: no loop can beat it without computing something cheaper, so
``bare / Trainer`` bounds the ratio any loop can reach over the Trainer on the same computation.
Throughput is measured between step timestamps after warm-up steps (compilation, allocator warm-up),
and printed and written as JSON with device, versions and the command.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.hardware import device_name, peak_flops, resolve_device
from mini_lib.core.models import build_model, get_preset, model_size, neox_config
from mini_lib.core.train import TrainConfig, build_optimizer, learning_rate, train


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
    """Throughput of ``mini_lib.core.train`` on ``blocks`` (timestamps from a step callback)."""
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


LOOPS = {"mini_lib": measure_ours, "hf_trainer": measure_trainer, "bare_pytorch": measure_bare}


def variant_name(loop: str, compiled: bool) -> str:
    """A row's key: the loop, plus ``+compile`` when torch.compile is on."""
    return loop + ("+compile" if compiled else "")


def compare(
    preset: str, blocks, vocab_size: int, config: TrainConfig, rounds: int = 2, warmup: int = 3,
    variants: "Sequence[tuple[str, bool]] | None" = None, deadline: float | None = None,
) -> dict:
    """Alternate the loops for ``rounds`` rounds from the same initial weights; keep each one's best
    round (the least disturbed by anything else on the machine).

    variants: ``(loop, compiled)`` rows to measure; default: ours, the Trainer and the bare step, each
        compiled as ``config.compile`` says. The Trainer is compared at its best row ("its own best
        settings"); ours against the bare step with the same compile setting.
    deadline: a ``time.monotonic()`` value after which no new measurement starts (rows not reached are
        listed under ``skipped``): a GPU window is short, and a partial report beats none.
    """
    if rounds < 1 or warmup < 1:
        raise ConfigError(f"rounds and warmup must be >= 1, got rounds={rounds}, warmup={warmup}")
    variants = list(variants or [(loop, config.compile) for loop in LOOPS])
    model_config = neox_config(get_preset(preset), vocab_size, blocks.seq_len)
    best: dict[str, Throughput] = {}
    skipped: list[str] = []
    for _ in range(rounds):
        for loop, compiled in variants:
            name = variant_name(loop, compiled)
            if deadline is not None and time.monotonic() > deadline:
                skipped.append(name)
                continue
            result = LOOPS[loop](build_model(model_config, seed=config.seed), blocks, replace(config, compile=compiled), warmup)
            if name not in best or result.tokens_per_s > best[name].tokens_per_s:
                best[name] = result
    device = _device(config)
    report = {
        "preset": preset,
        "parameters": model_size(model_config, blocks.seq_len).total,
        "device": device_name(device),
        "seq_len": blocks.seq_len,
        "batch_size": config.batch_size,
        "precision": config.precision,
        "steps": config.steps,
        "rounds": rounds,
        "results": {k: asdict(v) for k, v in best.items()},
        "skipped": sorted(set(skipped) - set(best)),
        "versions": versions(),
    }
    report.update(_ratios(best, variants))
    return report


def _ratios(best: dict[str, Throughput], variants: "Sequence[tuple[str, bool]]") -> dict:
    """ours / Trainer (each at its fastest row), ours / bare with ours' compile setting, bare / Trainer."""
    def fastest(loop: str) -> tuple[bool, Throughput] | None:
        rows = [(c, best[variant_name(lp, c)]) for lp, c in variants if lp == loop and variant_name(lp, c) in best]
        return max(rows, key=lambda row: row[1].tokens_per_s, default=None)

    ours, trainer = fastest("mini_lib"), fastest("hf_trainer")
    bare = best.get(variant_name("bare_pytorch", ours[0])) if ours else None
    ratios = {}
    if ours and trainer:
        ratios["ratio_ours_over_trainer"] = ours[1].tokens_per_s / trainer[1].tokens_per_s
    if ours and bare:
        ratios["ratio_ours_over_bare"] = ours[1].tokens_per_s / bare.tokens_per_s
    if bare and trainer:
        # the most any loop can gain over the Trainer without computing something cheaper
        ratios["ratio_bare_over_trainer"] = bare.tokens_per_s / trainer[1].tokens_per_s
    return ratios


DEFAULTS = {  # device -> (preset, seq_len, batch, steps, vocab, precision)
    "cpu": ("pythia-1m", 128, 16, 30, 2048, "fp32"),
    "cuda": ("pythia-160m", 2048, 16, 40, 50304, "bf16"),
}


def random_blocks(n_blocks: int, seq_len: int, vocab: int, seed: int = 0):
    """Random tokens: throughput does not depend on the text, and no corpus build muddies the timing."""
    from mini_lib.core.tokenization import PackedBlocks

    rng = np.random.default_rng(seed)
    return PackedBlocks(tokens=rng.integers(0, vocab, size=(n_blocks, seq_len), dtype=np.int32),
                        doc_ids=np.arange(n_blocks), doc_starts=np.arange(n_blocks) * seq_len)


def _at_least(name: str, value: int | None, minimum: int) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"--{name} must be >= {minimum}, got {value}")


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[2:] if argv is None else argv)
    if argv[:1] == ["grid"]:  # K grid cells together against one at a time: its own flags
        from mini_lib.lab.bench_grid import main as grid_main

        return grid_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m mini_lib bench")
    parser.add_argument("what", choices=["train", "grid"])
    parser.add_argument("--preset", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--precision", default=None)
    parser.add_argument("--compile", action="store_true", help="compile ours and the bare step")
    parser.add_argument("--trainer-both", action="store_true",
                        help="measure the Trainer eager AND compiled; it is compared at its faster row")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; each loop keeps its best")
    parser.add_argument("--out", default=None,
                        help="JSON file (default: runs/bench/train-<device>-<preset>-<time>.json; the committed "
                             "figures under benchmarks/results/ are only written when named here)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    for name in ("steps", "batch_size", "seq_len", "rounds"):
        _at_least(name.replace("_", "-"), getattr(args, name), 1)
    preset, seq_len, batch, steps, vocab, precision = DEFAULTS[device]
    preset = args.preset if args.preset is not None else preset
    seq_len = args.seq_len if args.seq_len is not None else seq_len
    batch = args.batch_size if args.batch_size is not None else batch
    steps = args.steps if args.steps is not None else steps
    precision = args.precision if args.precision is not None else precision
    get_preset(preset)  # an unknown preset fails here, before any work
    warmup = min(3, steps - 2)
    _at_least("steps", steps, 4)
    blocks = random_blocks(batch * steps, seq_len, vocab)
    config = TrainConfig(steps=steps, batch_size=batch, lr=get_preset(preset).lr, precision=precision,
                         device=device, compile=args.compile, progress=False, log_every=steps)
    variants = [("mini_lib", args.compile), ("hf_trainer", args.compile), ("bare_pytorch", args.compile)]
    if args.trainer_both:
        variants.append(("hf_trainer", not args.compile))
    report = compare(preset, blocks, vocab, config, rounds=args.rounds, warmup=warmup, variants=variants)
    report["command"] = "python -m mini_lib bench " + " ".join(argv)
    out = write_report(report, args.out, f"train-{device}-{preset}")
    print(format_report(report) + f"\n(written to {out})")
    return report


def write_report(report: dict, out: "str | None", stem: str) -> Path:
    """A bench's strict JSON (NaN as null) at ``out``, or under ``runs/bench/`` named by ``stem`` and the time
    of the run."""
    from mini_lib.core.paths import runs_dir, write_text_atomic
    from mini_lib.lab.notebook import to_json

    path = Path(out) if out else runs_dir() / "bench" / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, to_json(report))


def format_report(report: dict) -> str:
    """The bench's printed table: one line per row, then the ratios that were measured."""
    lines = [f"{report['preset']} on {report['device']} (seq {report['seq_len']}, batch {report['batch_size']})"]
    for loop, r in report["results"].items():
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a"
        lines.append(f"{loop:>22}: {r['tokens_per_s']:>12,.0f} tokens/s  MFU {mfu:>6}  peak mem {r['peak_memory_gb']:.2f} GB")
    labels = {"ratio_ours_over_trainer": "ours / Trainer", "ratio_ours_over_bare": "ours / bare step",
              "ratio_bare_over_trainer": "ceiling (bare / Trainer)"}
    lines.append("   ".join(f"{label}: {report[key]:.2f}x" for key, label in labels.items() if key in report))
    if report.get("skipped"):
        lines.append("not measured (time budget): " + ", ".join(report["skipped"]))
    return "\n".join(lines)


def precision_table(
    preset: str, blocks, vocab_size: int, precisions: tuple[str, ...], steps: int, batch_size: int,
    compile: bool = False, device: str = "auto", seed: int = 0, rounds: int = 3,
) -> "pd.DataFrame":
    """Throughput of our loop per precision (and compiled, when asked): the notebook's comparison.

    Each measurement times ``steps`` steps after one warm-up step, on a fresh model with the same
    weights. The rows alternate for ``rounds`` rounds, so a busy spell on a shared machine slows every
    row alike, and each row keeps its best round: other work only ever slows a step down. ``noise`` is
    how far that best is from being reproduced, (best - second best) / best; ``verdict`` calls a row
    faster or slower than the first only when the gap exceeds the noise of both rows
    (``precision_verdict``).
    """
    import pandas as pd

    if rounds < 2:
        raise ConfigError(f"rounds must be >= 2 (the noise is the gap between the two best), got {rounds}")
    use_cuda = resolve_device(device) == "cuda"
    config_base = neox_config(get_preset(preset), vocab_size, blocks.seq_len)
    variants = [(p, False) for p in precisions if use_cuda or p != "fp16"]
    if compile:
        variants += [(variants[-1][0], True)]
    measured: dict[tuple[str, bool], list[Throughput]] = {variant: [] for variant in variants}
    for _ in range(rounds):
        for precision, compiled in variants:
            config = TrainConfig(steps=steps + 2, batch_size=batch_size, lr=get_preset(preset).lr, precision=precision,
                                 device="cuda" if use_cuda else "cpu", compile=compiled, seed=seed, progress=False)
            measured[precision, compiled].append(measure_ours(build_model(config_base, seed=seed), blocks, config, warmup=1))
    rows = []
    for (precision, compiled), results in measured.items():
        best, second = sorted(results, key=lambda r: r.tokens_per_s, reverse=True)[:2]
        rows.append({"precision": precision, "compile": compiled, "tokens_per_s": best.tokens_per_s,
                     "noise": 1 - second.tokens_per_s / best.tokens_per_s, "rounds": rounds, "mfu": best.mfu,
                     "peak_memory_gb": max(r.peak_memory_gb for r in results)})
    table = pd.DataFrame(rows)
    table["speedup_vs_first"] = table["tokens_per_s"] / table["tokens_per_s"].iloc[0]
    table["verdict"] = [precision_verdict(row, table.iloc[0]) for _, row in table.iterrows()]
    return table


def precision_verdict(row, first) -> str:
    """``row`` against the first row of a precision table, in words that follow its numbers: the speed as a
    multiple of the first row's, called "faster" or "slower" only when the gap is larger than either row's noise
    (the spread of its two best rounds), so a verdict never rests on one lucky or disturbed round; otherwise
    it says that this run cannot tell the two apart."""
    name = row["precision"] + ("+compile" if row["compile"] else "")
    if (row["precision"], row["compile"]) == (first["precision"], first["compile"]):
        return f"{name}: the reference"
    ratio, margin = row["speedup_vs_first"], max(row["noise"], first["noise"])
    if abs(ratio - 1) <= margin:
        return (f"{name}: {ratio:.2f}x the speed of {first['precision']}, but a row's two best rounds differ by up "
                f"to {margin:.0%}, so this run cannot tell the two apart")
    return (f"{name}: {'faster' if ratio > 1 else 'slower'} than {first['precision']}, {ratio:.2f}x its speed "
            f"(beyond the {margin:.0%} spread of the best rounds)")
