"""Per-example perplexity under a proxy language model: the Perplexity-filtering baseline's score.

In the data-selection paper (arXiv 2402.09668) perplexity filtering scores each example with a
smaller proxy LM and keeps the lowest-perplexity fraction (or, as an option, a middle band); it is
the quality baseline Ask-LLM is compared against. Perplexity here is ``exp`` of the mean next-token
negative log-likelihood over all the example's tokens. A document-start token (BOS, else EOS) is put
in front when the tokenizer adds none, so the first word is predicted too and one-word texts still
get a score.

A proxy LM has a short context (notebook 06's: the 64 tokens it was trained on), shorter than many
documents. A document is therefore scored in consecutive windows of ``max_length`` tokens that
overlap by one token, so every token after the first is predicted exactly once, from the tokens of
its own window (at most ``max_length - 1``): the proxy was pre-trained on packed blocks that also
start mid-document. Cutting the document to its first window instead would let the score ignore
whatever the document holds after it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import eval_mode
from mini_lib.core.lm_batching import causal_forward_kwargs, length_sorted_batches, pad_batch, pad_id_of
from mini_lib.core.tokenization import encode_text


def perplexities(model, tokenizer, texts: Sequence[str], batch_size: int = 8, *, max_length: int = 512) -> np.ndarray:
    """Perplexity of each text under the causal LM ``model``, in order; ``max_length`` is the longest
    window the model is run on (its context), not a cut: longer texts are scored window by window."""
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ConfigError("texts must be a non-empty sequence of non-blank str")
    if max_length < 2:
        raise ConfigError(f"max_length must be >= 2, got {max_length}")
    start_id = getattr(tokenizer, "bos_token_id", None)
    if start_id is None:
        start_id = getattr(tokenizer, "eos_token_id", None)
    windows, owners = [], []
    for index, text in enumerate(texts):
        ids = encode_text(tokenizer, text, add_special_tokens=True)
        if start_id is not None and (not ids or ids[0] != start_id):
            ids = [int(start_id)] + ids
        if len(ids) < 2:
            raise ConfigError(f"text {text[:40]!r} has no token to predict (the tokenizer has no BOS/EOS token)")
        for window in token_windows(ids, max_length):
            windows.append(window)
            owners.append(index)

    nll_sum, n_predicted = np.zeros(len(texts)), np.zeros(len(texts))
    owners = np.asarray(owners)
    with eval_mode(model), torch.inference_mode():
        for batch in length_sorted_batches([len(w) for w in windows], batch_size):
            ids, mask = pad_batch([windows[i] for i in batch], pad_id_of(tokenizer), side="right")
            logits = model(**causal_forward_kwargs(model, ids, mask, last_only=False)).logits.float()
            targets = ids[:, 1:].to(logits.device)
            target_mask = mask[:, 1:].to(logits.device).float()
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets, reduction="none")
            np.add.at(nll_sum, owners[batch], (nll * target_mask).sum(dim=1).double().cpu().numpy())
            np.add.at(n_predicted, owners[batch], target_mask.sum(dim=1).double().cpu().numpy())
    return np.exp(nll_sum / n_predicted)


def token_windows(ids: Sequence[int], max_length: int) -> list[list[int]]:
    """``ids`` in consecutive windows of at most ``max_length`` tokens, each starting on the last token
    of the one before: every token but the first is a prediction target in exactly one window."""
    stride = max_length - 1
    return [list(ids[start : start + max_length]) for start in range(0, max(len(ids) - 1, 1), stride)]
