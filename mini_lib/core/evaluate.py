"""Language-model metrics shared by every notebook: loss, perplexity, next-token accuracy, samples.

Losses are per token, averaged over the positions that have a label (labels of -100 are ignored, the
transformers convention), so packed blocks and padded fine-tuning examples use the same code.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) inside the block, then back to the mode the model was in, even on an
    error: evaluating mid-training must leave a training model training."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def token_losses(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token cross-entropy at every position: (losses, mask), both (batch, seq_len - 1).

    Position t predicts label t+1; masked positions get loss 0 and mask False.
    """
    # Shift the labels, not the logits: slicing logits[:, :-1] would copy a (batch, seq, vocab) tensor.
    shifted = F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)
    losses = F.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)),
        shifted.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    ).view_as(shifted)
    return losses[:, :-1], (shifted != IGNORE_INDEX)[:, :-1]


def per_example_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss of each example (batch,): the unit the training loop weights."""
    losses, mask = token_losses(logits, labels)
    return losses.sum(dim=1) / mask.sum(dim=1).clamp(min=1)


@dataclass(frozen=True)
class LMEval:
    """Validation metrics. Perplexity is exp(mean token loss); the mean of per-batch exp(loss)
    (the quality-vs-quantity paper's definition) is kept beside it so both tables line up."""

    loss: float
    perplexity: float
    perplexity_batch_mean: float
    accuracy: float  # fraction of next tokens predicted exactly (top-1)
    n_tokens: int

    def as_dict(self) -> dict:
        return asdict(self)


def perplexity_mean_of_batches(batch_losses: Sequence[float]) -> float:
    """The quality-vs-quantity paper's perplexity: the mean over batches of exp(batch mean loss)
    (never below exp of the mean loss, by Jensen's inequality)."""
    return float(np.mean(np.exp(np.asarray(batch_losses, dtype=np.float64))))


@torch.no_grad()
def evaluate_lm(model: torch.nn.Module, data, indices: Sequence[int], batch_size: int = 16) -> LMEval:
    """Evaluate a causal LM on examples ``indices`` of ``data`` (anything with ``collate``)."""
    device = next(model.parameters()).device
    total_loss, total_correct, total_tokens, batch_losses = 0.0, 0, 0, []
    indices = np.asarray(indices)
    with eval_mode(model):
        for start in range(0, len(indices), batch_size):
            batch = {k: v.to(device) for k, v in data.collate(indices[start : start + batch_size]).items()}
            labels = batch.pop("labels")
            logits = model(**batch).logits
            losses, mask = token_losses(logits, labels)
            n = int(mask.sum())
            predicted = logits[:, :-1].argmax(dim=-1)
            total_correct += int(((predicted == labels[:, 1:]) & mask).sum())
            total_loss += float(losses.sum())
            total_tokens += n
            batch_losses.append(float(losses.sum()) / max(n, 1))
    mean_loss = total_loss / max(total_tokens, 1)
    return LMEval(
        loss=mean_loss,
        perplexity=math.exp(mean_loss),
        perplexity_batch_mean=perplexity_mean_of_batches(batch_losses),
        accuracy=total_correct / max(total_tokens, 1),
        n_tokens=total_tokens,
    )


@torch.no_grad()
def generate_samples(
    model: torch.nn.Module,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 60,
    temperature: float = 0.8,
    seed: int = 0,
) -> list[str]:
    """Sample continuations (seeded, so a notebook shows the same text on every run)."""
    device = next(model.parameters()).device
    outputs = []
    with eval_mode(model), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for prompt in prompts:
            ids = tokenizer(prompt or tokenizer.eos_token, return_tensors="pt", add_special_tokens=False).input_ids
            out = model.generate(
                ids.to(device),
                attention_mask=torch.ones_like(ids).to(device),
                max_new_tokens=max_new_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_k=None,
                pad_token_id=tokenizer.eos_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            outputs.append(tokenizer.decode(out[0], skip_special_tokens=True))
    return outputs
