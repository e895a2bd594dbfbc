"""Notebook 00's closing tables: the Pythia recipe beside ours, and the checks that the model learned.

The quickstart reproduces no paper, but it makes claims a reader can check: the model learned (its
validation loss is far below a uniform guess over the vocabulary), it uses context (below a model that
knows only token frequencies) and it generalises (held-out loss close to training loss). Each is a
``mini_lib.core.claims.Claim`` row with its rule fixed here, before any run. One seed: a fixed margin stands
in for the seed-to-seed spread (``claims.compare_with_error``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_with_error, paper_vs_ours_table
from mini_lib.core.models import PYTHIA_PAPER, ModelSize, PythiaPreset
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import TrainConfig

UNIFORM_MARGIN = 1.5  # nats below ln(vocabulary): "well below" a uniform guess
UNIGRAM_MARGIN = 0.25  # nats below the unigram baseline: the model uses the context, not only frequencies
MAX_GENERALISATION_GAP = 0.2  # nats of validation - training loss that still count as "not memorising"
MIN_EPOCHS_TO_MEMORISE = 2.0  # a model can only memorise what it has seen again: below this the check is not run


def unigram_loss(train: PackedBlocks, val: PackedBlocks, vocab_size: int) -> float:
    """Cross-entropy (nats/token) on the validation blocks' predicted tokens (every position but each
    block's first, as the model is scored) of the training tokens' frequencies, add-one smoothed so that a
    token unseen in training costs a finite loss."""
    counts = np.bincount(np.asarray(train.tokens).ravel(), minlength=vocab_size).astype(np.float64) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(-log_probs[np.asarray(val.tokens)[:, 1:].ravel()].mean())


def quickstart_claims(val_loss: float, train_loss: float, vocab_size: int, unigram: float, epochs: float) -> list[Claim]:
    """The three checks as ``Claim`` rows (``paper`` empty: the reference is in ``paper_value``). The
    generalisation check needs a run that saw its training blocks at least ``MIN_EPOCHS_TO_MEMORISE`` times:
    before that a small gap is what any model shows, memorising or not, so the row says "not run"."""
    uniform = math.log(vocab_size)
    gap = val_loss - train_loss
    rows = []
    for claim, reference, name, baseline, margin in (
        ("the model learns: validation loss well below a uniform guess", "uniform over the vocabulary",
         "ln(vocabulary)", uniform, UNIFORM_MARGIN),
        ("the model uses context: validation loss below the unigram baseline", "token frequencies only "
         "(unigram_loss)", "unigram", unigram, UNIGRAM_MARGIN),
    ):
        decided = compare_with_error(baseline - val_loss, math.nan, floor=margin)
        rows.append(Claim("", claim, "this notebook", f"{reference}: {baseline:.3f} nats/token",
                          f"validation loss {val_loss:.3f}; {name} - validation = {decided.difference:+.3f} nats",
                          f"holds: more than {margin:g} nats below {name} (one seed: a fixed margin); reversed: "
                          f"more than {margin:g} above; within noise otherwise", decided.verdict))
    decided = compare_with_error(MAX_GENERALISATION_GAP - gap, 0.0)
    tested = epochs >= MIN_EPOCHS_TO_MEMORISE
    rows.append(Claim("", "the model generalises: held-out loss close to training loss", "this notebook",
                      "a memorising model: validation loss far above training loss",
                      f"validation - training {gap:+.3f} nats after {epochs:.2f} epochs",
                      f"tested after at least {MIN_EPOCHS_TO_MEMORISE:g} epochs (not run before: nothing was seen twice); "
                      f"holds: gap < {MAX_GENERALISATION_GAP:g} nats; reversed: gap > {MAX_GENERALISATION_GAP:g}",
                      decided.verdict if tested else "not run"))
    return rows


def recipe_vs_ours(preset: PythiaPreset, size: ModelSize, config: TrainConfig, batch_size: int, seq_len: int,
                   train_tokens: int) -> pd.DataFrame:
    """The Pythia suite's training recipe beside this notebook's settings, one ``PaperRow`` per setting."""
    rows = [
        ("architecture", "GPT-NeoX, parallel residual, rotary 25%, untied embeddings",
         "same (transformers GPTNeoXForCausalLM)"),
        ("smallest model", "14M parameters (6 layers, d=128)",
         f"{size.total / 1e6:.2f}M ({preset.n_layers} layers, d={preset.d_model})"),
        ("optimizer", "AdamW (0.9, 0.95), eps 1e-8, wd 0.1, clip 1.0",
         f"AdamW ({config.beta1}, {config.beta2}), eps {config.eps}, wd {config.weight_decay}, clip {config.grad_clip}"),
        ("schedule", "1% warmup, cosine to 10% of peak",
         f"{config.n_warmup} warmup steps, cosine to {config.min_lr_ratio:.0%} of {config.lr}"),
        ("tokens per step", "1024 x 2048 = 2.1M", f"{batch_size} x {seq_len} = {batch_size * seq_len:,}"),
        ("data", "the Pile (300B tokens)", f"storyworld ({train_tokens:,} tokens)"),
    ]
    return paper_vs_ours_table([PaperRow(quantity, "training recipe", paper, ours, source=f"arXiv {PYTHIA_PAPER}")
                                for quantity, paper, ours in rows])
