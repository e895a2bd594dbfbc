"""``python -m mini_lib train``: pre-train a Pythia preset from the command line.

The same script runs in one process, under ``torchrun --nproc_per_node N`` (CPU/gloo or GPUs) and
under ``accelerate launch`` with a config from ``configs/accelerate/``: Accelerate reads the process
group from the environment those launchers set. Data preparation happens on the main process first
(the others then read the cache), so N processes never race to build the same tokenizer. Only
``--corpus hub`` may use the network: otherwise the hub libraries are forced offline, as ``run`` does;
they read that setting when first imported, so this module imports them only inside its functions.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mini_lib.errors import ConfigError
from mini_lib.profiles import force_hub_offline

if TYPE_CHECKING:
    from mini_lib.tokenization import PackedBlocks


@dataclass
class PreparedData:
    """Everything a pre-training run needs besides the model: tokenizer and packed splits."""

    tokenizer: object
    train: PackedBlocks
    val: PackedBlocks


def prepare_lm_data(
    *,
    source: str = "storyworld",
    n_documents: int = 2000,
    vocab_size: int = 1024,
    seq_len: int = 128,
    val_fraction: float = 0.1,
    seed: int = 0,
    tier: str = "simple",
    path: str | None = None,
    name: str | None = None,
) -> PreparedData:
    """Corpus -> train/val split -> tokenizer (trained on train only) -> packed blocks."""
    from mini_lib.corpora.loaders import load_corpus, train_val_split
    from mini_lib.tokenization import pack_corpus, train_tokenizer

    corpus = load_corpus(source, n=n_documents, seed=seed, tier=tier, path=path, name=name)
    train_docs, val_docs = train_val_split(corpus, val_fraction, seed=seed)
    tokenizer = train_tokenizer(train_docs["text"], vocab_size, model_max_length=seq_len)
    return PreparedData(
        tokenizer=tokenizer,
        train=pack_corpus(tokenizer, train_docs["text"], train_docs["id"], seq_len),
        val=pack_corpus(tokenizer, val_docs["text"], val_docs["id"], seq_len),
    )


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
    return p


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    if args.corpus != "hub":
        force_hub_offline()
    import torch
    from accelerate import PartialState

    from mini_lib.models import build_model, get_preset, neox_config
    from mini_lib.train import TrainConfig, train

    # Every setting is checked before the (slow) data preparation: bad input costs a second.
    if args.n_documents < 1:
        raise ConfigError(f"--n-documents must be >= 1, got {args.n_documents}")
    preset = get_preset(args.preset)
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
            source=args.corpus, n_documents=args.n_documents, vocab_size=args.vocab_size,
            seq_len=args.seq_len, seed=args.seed, path=args.path, name=args.name,
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
