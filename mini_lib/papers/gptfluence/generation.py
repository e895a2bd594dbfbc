"""BLEU and ROUGE-L of greedy outputs: the generation metrics GPTfluence simulates besides the loss.

GPTfluence (arXiv 2404.07840) records, for its generation tasks (WebNLG, WMT16 DE-EN), the BLEU and
ROUGE-L of each test example's greedy output after every training step, on a 0-1 scale. We call
``sacrebleu`` (sentence BLEU with its default exponential smoothing and effective n-gram order) and
``rouge_score`` (ROUGE-L F-measure, no stemming) directly: ``evaluate.load`` fetches its metric
scripts from the hub and fails offline. Greedy decoding is batched with left padding through
``model.generate``, which places positions from the attention mask.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import eval_mode
from mini_lib.core.lm_batching import pad_batch


def bleu(hypothesis: str, reference: str) -> float:
    """Sentence BLEU of ``hypothesis`` against one reference, in [0, 1]."""
    return _bleu_metric().sentence_score(hypothesis, [reference]).score / 100.0


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence of words), in [0, 1]."""
    return _rouge_scorer().score(reference, hypothesis)["rougeL"].fmeasure


def text_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, list[float]]:
    """``{"bleu": [...], "rougeL": [...]}``, one value per (hypothesis, reference) pair."""
    if len(hypotheses) != len(references):
        raise ConfigError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    return {"bleu": [bleu(h, r) for h, r in zip(hypotheses, references)],
            "rougeL": [rouge_l(h, r) for h, r in zip(hypotheses, references)]}


@torch.no_grad()
def greedy_continuations(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    *,
    eos_id: int,
    max_new_tokens: int = 32,
    batch_size: int = 32,
) -> list[list[int]]:
    """Greedy continuation token ids of each prompt (ids), cut before the first ``eos_id``."""
    if max_new_tokens < 1 or batch_size < 1:
        raise ConfigError(f"max_new_tokens and batch_size must be >= 1, got {max_new_tokens}, {batch_size}")
    device = next(model.parameters()).device
    out: list[list[int]] = []
    with eval_mode(model):
        for start in range(0, len(prompts), batch_size):
            chunk = [list(p) for p in prompts[start : start + batch_size]]
            if any(not p for p in chunk):
                raise ConfigError("every prompt needs at least one token")
            ids, mask = pad_batch(chunk, eos_id, side="left")
            generated = model.generate(
                ids.to(device), attention_mask=mask.to(device), max_new_tokens=max_new_tokens, do_sample=False,
                eos_token_id=eos_id, pad_token_id=eos_id,
            )[:, ids.shape[1]:].tolist()
            out += [g[: g.index(eos_id)] if eos_id in g else g for g in generated]
    return out


@lru_cache(maxsize=1)
def _bleu_metric():
    from sacrebleu.metrics import BLEU

    return BLEU(effective_order=True)


@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
