"""``python -m mini_lib train``: pre-train a Pythia preset from the command line.

The same script runs in one process, under ``torchrun --nproc_per_node N`` (CPU/gloo or GPUs) and
under ``accelerate launch`` with a config from ``configs/accelerate/``: Accelerate reads the process
group from the environment those launchers set, on one machine or several (``configs/accelerate/README.md``).
``--fsdp`` shards the model (``core.sharding``) where the launcher does not ask for it, as torchrun does
not; ``accelerate launch`` with an FSDP config asks by itself. Data preparation happens on the main
process first (the others then read the cache), so N processes never race to build the same tokenizer.
Only ``--corpus hub`` may use the network: otherwise the hub libraries are forced offline, as ``run``
does; they read that setting when first imported, so this module imports them only inside its functions.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mini_lib.core.errors import ConfigError
from mini_lib.lab.profiles import MIN_BPE_VOCAB, MIN_CONTEXT, force_hub_offline
from mini_lib.lab.sizing import SIZE_FLAG, check_fits


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mini_lib train", description=__doc__)
    p.add_argument("--preset", default="pythia-1m")
    p.add_argument("--corpus", default="storyworld", help="storyworld | local | hub")
    p.add_argument("--path", default=None, help="local corpus file (txt/jsonl/parquet)")
    p.add_argument("--name", default=None, help="hub dataset name")
    p.add_argument("--n-documents", type=int, default=2000, help=">= 1")
    p.add_argument("--vocab-size", type=int, default=1024)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--micro-batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="> 0; default: the preset's")
    p.add_argument("--precision", default="auto")
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--no-resume", action="store_true")
    p.add_argument(SIZE_FLAG, action="store_true", help="start even when the corpus clearly exceeds this machine's memory")
    p.add_argument("--fsdp", action="store_true",
                   help="fully sharded data parallel (FSDP2) across the processes; an FSDP config of accelerate launch implies it")
    return p


def check_sizes(args: argparse.Namespace) -> None:
    """Sizes that cannot work, or clearly cannot fit this machine, as one ConfigError before any work."""
    if args.n_documents < 1:
        raise ConfigError(f"--n-documents must be >= 1, got {args.n_documents}")
    if args.vocab_size < MIN_BPE_VOCAB:
        raise ConfigError(f"--vocab-size must be >= {MIN_BPE_VOCAB} for byte-level BPE, got {args.vocab_size}")
    if args.seq_len < MIN_CONTEXT:
        raise ConfigError(f"--seq-len must be >= {MIN_CONTEXT}, got {args.seq_len}")
    if args.corpus == "storyworld" and not args.skip_size_check:
        check_fits(args.n_documents, f"--n-documents {args.n_documents:,}")


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    check_sizes(args)  # before the slow imports and the data preparation: bad input costs a second
    if args.corpus != "hub":
        force_hub_offline()
    if args.fsdp:  # what `accelerate launch` with an FSDP config sets: core.sharding reads it
        os.environ["ACCELERATE_USE_FSDP"] = "true"
        os.environ.setdefault("FSDP_VERSION", "2")
    import torch
    from accelerate import PartialState

    from mini_lib.core.models import build_model, get_preset, neox_config
    from mini_lib.core.recipe import prepare_lm_data
    from mini_lib.core.train import TrainConfig, train

    preset = get_preset(args.preset)  # like every other setting, checked before the (slow) data preparation
    config = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size,
        lr=preset.lr if args.lr is None else args.lr, precision=args.precision, device=args.device,
        compile=args.compile, eval_every=args.eval_every, checkpoint_every=args.checkpoint_every,
        seed=args.seed, progress=False,
    )
    # cpu=True is what makes Accelerate join a torchrun process group without GPUs (gloo backend);
    # without it every process silently trains alone with world size 1.
    state = PartialState(cpu=args.device == "cpu" or not torch.cuda.is_available())
    with state.main_process_first():
        data = prepare_lm_data(
            corpus=args.corpus, n_stories=args.n_documents, vocab_size=args.vocab_size,
            seq_len=args.seq_len, seed=args.seed, corpus_path=args.path, corpus_name=args.name,
        )
    model = build_model(neox_config(preset, len(data.tokenizer), args.seq_len), seed=args.seed)
    result = train(model, data.train, config, args.run_dir, val_data=data.val, resume=not args.no_resume)
    summary = {
        "world_size": state.num_processes,
        "final_loss": float(result.records["loss"].iloc[-1]),
        "final_eval": result.final_eval,
        "resumed_from": result.resumed_from,
    }
    if state.is_main_process:
        (Path(args.run_dir) / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary))
    return summary
