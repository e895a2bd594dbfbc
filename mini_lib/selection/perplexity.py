"""Per-example perplexity under a proxy language model: the Perplexity-filtering baseline's score.

In the data-selection paper (arXiv 2402.09668) perplexity filtering scores each example with a
smaller proxy LM and keeps the lowest-perplexity fraction (or, as an option, a middle band); it is
the quality baseline Ask-LLM is compared against. Perplexity here is ``exp`` of the mean next-token
negative log-likelihood over the example's tokens. A document-start token (BOS, else EOS) is put in
front when the tokenizer adds none, so the first word is predicted too and one-word texts still
get a score.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mini_lib.errors import ConfigError
from mini_lib.evaluate import eval_mode
from mini_lib.lm_batching import causal_forward_kwargs, length_sorted_batches, pad_batch, pad_id_of


def perplexities(model, tokenizer, texts: Sequence[str], batch_size: int = 8, *, max_length: int = 512) -> np.ndarray:
    """Perplexity of each text under the causal LM ``model`` (first ``max_length`` tokens), in order."""
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ConfigError("texts must be a non-empty sequence of non-blank str")
    if max_length < 2:
        raise ConfigError(f"max_length must be >= 2, got {max_length}")
    start_id = getattr(tokenizer, "bos_token_id", None)
    if start_id is None:
        start_id = getattr(tokenizer, "eos_token_id", None)
    encoded = []
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=True)
        if start_id is not None and (not ids or ids[0] != start_id):
            ids = [int(start_id)] + ids
        if len(ids) < 2:
            raise ConfigError(f"text {text[:40]!r} has no token to predict (the tokenizer has no BOS/EOS token)")
        encoded.append(ids[:max_length])

    out = np.empty(len(texts))
    with eval_mode(model), torch.inference_mode():
        for batch in length_sorted_batches([len(e) for e in encoded], batch_size):
            ids, mask = pad_batch([encoded[i] for i in batch], pad_id_of(tokenizer), side="right")
            logits = model(**causal_forward_kwargs(model, ids, mask, last_only=False)).logits.float()
            targets = ids[:, 1:].to(logits.device)
            target_mask = mask[:, 1:].to(logits.device).float()
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets, reduction="none")
            mean_nll = (nll * target_mask).sum(dim=1) / target_mask.sum(dim=1)
            out[batch] = torch.exp(mean_nll).double().cpu().numpy()
    return out
