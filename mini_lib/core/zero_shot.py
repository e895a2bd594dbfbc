"""Zero-shot multiple-choice evaluation by comparing option log-likelihoods (lm-eval-harness style).

A causal language model answers a multiple-choice question without any training on it: for each
option we compute log P(option | context) -- the summed log-probabilities of the option's tokens
after the context -- and the highest-scoring option is the model's answer. This is how the
simplified-vocabulary paper (arXiv 2404.02204) and the EleutherAI lm-evaluation-harness score BLiMP,
COPA, SST-2, RTE and the rest; later notebooks reuse this module for their own tasks.

Conventions, following the harness:

* Context and option are tokenised separately and concatenated; whitespace at the end of the
  context moves to the start of the option (``"Answer: "`` + ``"yes"`` scores ``" yes"``), so the
  option starts with the word-initial token the model saw in training.
* Every sequence starts with the tokenizer's BOS token (EOS when it has none): our models are
  trained on documents separated by end-of-text, so it marks "a new text starts here", and an empty
  context (BLiMP's sentence pairs) still conditions the first word.
* A sequence longer than ``max_length`` loses tokens from the left of its context.
* ``acc`` compares raw summed log-likelihoods (favours short options); ``acc_norm`` divides by the
  option's length in characters, which does not depend on the tokenizer -- essential here, where
  every model has its own tokenizer. Token-length normalisation is available as ``"tokens"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.evaluate import eval_mode
from mini_lib.core.lm_batching import pad_batch
from mini_lib.core.tokenization import encode_text

NORMALISATIONS = ("none", "chars", "tokens")


@dataclass(frozen=True)
class ChoiceTask:
    """One multiple-choice item: the model reads ``context`` and we score each of ``options``.

    ``label`` is the index of the correct option. ``source_texts`` are the texts a vocabulary
    filter should check (the dataset's own sentences, not the prompt words around them); empty
    means the context and the options. ``task`` names the task family for result tables, ``id``
    where the item came from.
    """

    context: str
    options: tuple[str, ...]
    label: int
    task: str = ""
    source_texts: tuple[str, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ConfigError(f"a choice task needs at least 2 options, got {len(self.options)}")
        if not 0 <= self.label < len(self.options):
            raise ConfigError(f"label {self.label} is not an index of the {len(self.options)} options")
        if any(not option.strip() for option in self.options):
            raise ConfigError("every option must contain some text")

    def texts_to_check(self) -> tuple[str, ...]:
        """What a vocabulary filter reads: ``source_texts``, else the context and the options."""
        return self.source_texts or tuple(t for t in (self.context, *self.options) if t.strip())


@dataclass
class ChoiceScores:
    """Per-option log-likelihoods of a list of choice tasks, and the accuracy they imply."""

    logliks: list[np.ndarray]  # per task: summed log P(option tokens | context), one per option
    n_tokens: list[np.ndarray]  # per task: tokens in each option
    n_chars: list[np.ndarray]  # per task: characters in each option (as scored, leading space included)
    labels: np.ndarray
    normalise: str = "none"
    truncated: int = 0  # sequences that lost context tokens to max_length

    def scores(self, normalise: str | None = None) -> list[np.ndarray]:
        """Log-likelihoods, divided by option length in characters or tokens if asked."""
        normalise = choose("normalise", normalise or self.normalise, NORMALISATIONS)
        if normalise == "none":
            return self.logliks
        lengths = self.n_chars if normalise == "chars" else self.n_tokens
        return [ll / n for ll, n in zip(self.logliks, lengths)]

    def predictions(self, normalise: str | None = None) -> np.ndarray:
        """The option each task's model picks (the first of tied options, as ``np.argmax``)."""
        return np.array([int(np.argmax(s)) for s in self.scores(normalise)], dtype=np.int64)

    def correct(self, normalise: str | None = None) -> np.ndarray:
        return self.predictions(normalise) == self.labels

    def accuracy(self, normalise: str | None = None) -> float:
        return float(self.correct(normalise).mean())

    @property
    def accuracy_raw(self) -> float:
        """lm-eval's ``acc``."""
        return self.accuracy("none")

    @property
    def accuracy_norm(self) -> float:
        """lm-eval's ``acc_norm`` (character-length normalised)."""
        return self.accuracy("chars")

    def standard_error(self, normalise: str | None = None) -> float:
        """Binomial standard error of the accuracy: how much it moves between task samples."""
        p, n = self.accuracy(normalise), len(self.labels)
        return math.sqrt(p * (1 - p) / n)


@torch.no_grad()
def score_choices(
    model: torch.nn.Module,
    tokenizer,
    examples: Sequence[ChoiceTask],
    batch_size: int = 32,
    normalise: str = "none",
    max_length: int | None = None,
) -> ChoiceScores:
    """Score every option of every task with one forward pass per (task, option), batched.

    ``model`` is any causal LM whose forward takes ``input_ids`` and ``attention_mask`` and returns
    an object with ``.logits`` (batch, length, vocab); ``max_length`` defaults to the model config's
    ``max_position_embeddings`` when it has one.
    """
    choose("normalise", normalise, NORMALISATIONS)
    if not examples:
        raise ConfigError("score_choices got no examples")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    max_length = max_length or getattr(getattr(model, "config", None), "max_position_embeddings", None) or 2048
    start_id = _start_token_id(tokenizer)

    requests = []  # (task index, option index, input ids, number of option tokens)
    n_chars: list[np.ndarray] = []
    truncated = 0
    for t, example in enumerate(examples):
        chars = []
        for o, option in enumerate(example.options):
            context, continuation = _move_trailing_space(example.context, option)
            context_ids = [start_id, *encode_text(tokenizer, context)] if context else [start_id]
            option_ids = encode_text(tokenizer, continuation)
            if not option_ids:
                raise ConfigError(f"option {option!r} encodes to no tokens")
            if len(option_ids) > max_length:
                raise ConfigError(f"option {option[:40]!r}... is longer than max_length={max_length} tokens")
            full = context_ids + option_ids
            if len(full) > max_length + 1:  # inputs are full[:-1]: at most max_length positions
                full = full[-(max_length + 1):]
                truncated += 1
            requests.append((t, o, full, len(option_ids)))
            chars.append(len(continuation))
        n_chars.append(np.asarray(chars, dtype=np.float64))

    logliks = [np.zeros(len(e.options)) for e in examples]
    n_tokens = [np.zeros(len(e.options)) for e in examples]
    device = _device(model)
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i][2]))  # similar lengths share a batch
    with eval_mode(model):
        for start in range(0, len(order), batch_size):
            batch = [requests[i] for i in order[start:start + batch_size]]
            input_ids, mask = pad_batch([full[:-1] for _, _, full, _ in batch], start_id, side="right")
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            log_probs = torch.log_softmax(logits.float(), dim=-1).cpu()
            for row, (t, o, full, k) in enumerate(batch):
                positions = torch.arange(len(full) - 1 - k, len(full) - 1)
                targets = torch.as_tensor(full[-k:])
                logliks[t][o] = float(log_probs[row, positions, targets].double().sum())
                n_tokens[t][o] = k
    labels = np.array([e.label for e in examples], dtype=np.int64)
    return ChoiceScores(logliks, n_tokens, n_chars, labels, normalise, truncated)


def evaluate_tasks(
    model: torch.nn.Module,
    tokenizer,
    tasks: dict[str, Sequence[ChoiceTask]],
    batch_size: int = 32,
    max_length: int | None = None,
) -> pd.DataFrame:
    """One row per task: examples, ``acc``, ``acc_norm``, their standard errors, chance level."""
    rows = []
    for name, examples in tasks.items():
        scores = score_choices(model, tokenizer, examples, batch_size=batch_size, max_length=max_length)
        rows.append({
            "task": name,
            "n": len(examples),
            "acc": scores.accuracy_raw,
            "acc_norm": scores.accuracy_norm,
            "acc_se": scores.standard_error("none"),
            "acc_norm_se": scores.standard_error("chars"),
            "chance": float(np.mean([1 / len(e.options) for e in examples])),
            "truncated": scores.truncated,
        })
    return pd.DataFrame(rows)


def _move_trailing_space(context: str, option: str) -> tuple[str, str]:
    """The harness's split: whitespace ending the context belongs to the option."""
    stripped = context.rstrip()
    return stripped, context[len(stripped):] + option


def _start_token_id(tokenizer) -> int:
    for attr in ("bos_token_id", "eos_token_id"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value)
    raise ConfigError("the tokenizer has neither a BOS nor an EOS token to start sequences with")


def _device(model: torch.nn.Module) -> torch.device:
    for param in model.parameters():
        return param.device
    return torch.device("cpu")
