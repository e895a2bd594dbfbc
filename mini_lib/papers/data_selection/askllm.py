"""Ask-LLM: ask an instruction-tuned model whether an example is worth pre-training on; score = P(yes).

From "How to Train Data-Efficient LLMs" (Sachdeva et al., arXiv 2402.09668): the example
is shown between ``###`` lines, followed by the question whether it "contains informative signal
for pre-training a large-language model", and the options yes / no. The quality score is the
probability the scorer gives to "yes" as its next token; the sampler keeps the top-scored fraction.
The paper scores with Flan-T5 (seq2seq: the first decoder token); any local chat model works too
(causal: the first assistant token after the chat template's generation prompt).

Two numbers come back for every example, because small scorers spread mass over other tokens
("The", "I", ...): ``p_yes``, the mass on the yes-variants ("yes", " yes", "Yes", ...) in the full
next-token distribution, and ``p_yes_normalised`` = P(yes) / (P(yes) + P(no)). Prompt variants
(a stricter instruction, few-shot examples) are named entries of ``PROMPT_VARIANTS``.

Scorer size matters: with the offline SmolLM2-135M-Instruct, the zero-shot prompts rank clean text
no better than chance on our labelled probe (AUROC 0.50 ``paper``, 0.19 ``strict``), while the
``few_shot`` variant reaches 0.69 (``python -m mini_lib.papers.data_selection.quality_probe --n 70``: 70 clean
paragraphs, 10 of each of the seven noise kinds). Perplexity alone scores 0.52 there: it catches word
salad and fragments (AUROC 1.0) but ranks repeated lines and boilerplate *above* clean text (0.0).
The paper's scorers are Flan-T5 models up to 11B parameters.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.evaluate import eval_mode
from mini_lib.core.lm_batching import (
    causal_forward_kwargs,
    length_sorted_batches,
    model_device,
    pad_batch,
    pad_id_of,
    supports_kv_cache,
)

EXAMPLE_SLOT = "{example}"

# The paper's prompt (Figure 3 of arXiv 2402.09668); ``{example}`` is replaced by the text.
ASK_LLM_PROMPT = """###
{example}
###

Does the previous paragraph demarcated within ### and ### contain informative signal for pre-training a large-language model? An informative datapoint should be well-formatted, contain some usable knowledge of the world, and strictly NOT have any harmful, racist, sexist, etc. content.

OPTIONS:
- yes
- no"""

# Ours: the paper's question plus the concrete failure modes of web text, for small scorers that
# need them spelled out.
STRICT_PROMPT = """###
{example}
###

Does the previous paragraph demarcated within ### and ### contain informative signal for pre-training a large-language model? An informative datapoint should be well-formatted, contain some usable knowledge of the world, and strictly NOT have any harmful, racist, sexist, etc. content.
Answer no if the paragraph is not fluent English: words in random order, a jumble of unrelated words, a bare list of keywords or numbers, website boilerplate (menus, copyright lines, cookie or subscription notices), the same sentence repeated, or a fragment that stops mid-sentence. Answer yes only for complete, fluent sentences that say something about the world.

OPTIONS:
- yes
- no"""

# Hand-written demonstrations (not drawn from any evaluation set): (example, answer). They cover
# fluent facts and stories, and the usual web junk: word salad, boilerplate, repeated lines,
# keyword spam, fragments, scrambled word order. Answers alternate, so no answer is always last.
FEW_SHOT_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "The Amazon River flows across South America into the Atlantic Ocean. Its basin holds the "
        "largest tropical rainforest on Earth, home to thousands of kinds of trees, fish and birds.",
        "yes",
    ),
    ("purple the quickly seven bottle under sing yesterday chair gravity of loud running", "no"),
    (
        "When Grandpa lost his glasses, Rosa searched the whole house. She finally found them in the "
        "fridge next to the milk, and they both laughed until their sides hurt.",
        "yes",
    ),
    ("Home | About Us | Contact\nCopyright 2019. All rights reserved.\nClick here to subscribe!", "no"),
    (
        "To bake bread, mix flour, water, salt and yeast, then knead the dough for ten minutes. "
        "Let it rise until it doubles in size, shape it into a loaf and bake it in a hot oven.",
        "yes",
    ),
    (
        "The weather is nice today. The weather is nice today. The weather is nice today. "
        "The weather is nice today.",
        "no",
    ),
    (
        "Bees visit flowers to collect nectar and pollen. While they move from flower to flower "
        "they carry pollen with them, which helps many plants make fruit and seeds.",
        "yes",
    ),
    ("cheap flights, flights cheap, best cheap flights 2021, cheap flight deals, flights flights", "no"),
    (
        "The old lighthouse keeper climbed the stairs every evening to light the lamp. Ships far out "
        "at sea used its beam to stay away from the rocks.",
        "yes",
    ),
    ("in the of was it a", "no"),
    ("river the across flows Atlantic into South Ocean America the Amazon", "no"),
    (
        "Volcanoes form where melted rock from deep inside the Earth rises to the surface. When they "
        "erupt, they can build new mountains and islands.",
        "yes",
    ),
)


@dataclass(frozen=True)
class PromptVariant:
    """A named Ask-LLM prompt: a template with ``{example}``, plus optional solved demonstrations."""

    name: str
    template: str
    shots: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.template.count(EXAMPLE_SLOT) != 1:
            raise ConfigError(f"prompt template {self.name!r} must contain {EXAMPLE_SLOT} exactly once")
        bad = [answer for _, answer in self.shots if answer not in ("yes", "no")]
        if bad:
            raise ConfigError(f"few-shot answers must be 'yes' or 'no', got {bad}")


PROMPT_VARIANTS: dict[str, PromptVariant] = {
    "paper": PromptVariant("paper", ASK_LLM_PROMPT),
    "strict": PromptVariant("strict", STRICT_PROMPT),
    "few_shot": PromptVariant("few_shot", ASK_LLM_PROMPT, FEW_SHOT_EXAMPLES),
    "strict_few_shot": PromptVariant("strict_few_shot", STRICT_PROMPT, FEW_SHOT_EXAMPLES),
}

YES_VARIANTS = ("yes", " yes", "Yes", " Yes", "YES", " YES")
NO_VARIANTS = ("no", " no", "No", " No", "NO", " NO")


@dataclass(frozen=True)
class AskLLMScores:
    """Per-example next-token mass on yes-variants and on no-variants (in input order)."""

    p_yes: np.ndarray
    p_no: np.ndarray

    @property
    def p_yes_normalised(self) -> np.ndarray:
        """P(yes) / (P(yes) + P(no)): the score restricted to the two allowed answers."""
        return self.p_yes / np.maximum(self.p_yes + self.p_no, np.finfo(np.float64).tiny)


def get_variant(variant: "str | PromptVariant") -> PromptVariant:
    """A PromptVariant by name (or the one given); ConfigError listing the names otherwise."""
    if isinstance(variant, PromptVariant):
        return variant
    return PROMPT_VARIANTS[choose("prompt variant", variant, PROMPT_VARIANTS)]


def format_prompt(example: str, variant: "str | PromptVariant" = "paper") -> str:
    """The single question about ``example`` (no demonstrations): what a reader prints to see it."""
    return get_variant(variant).template.replace(EXAMPLE_SLOT, example)


def chat_messages(example: str, variant: "str | PromptVariant" = "paper") -> list[dict[str, str]]:
    """Chat turns for a chat model: each demonstration as a user question and an assistant answer,
    then the question about ``example``."""
    v = get_variant(variant)
    messages: list[dict[str, str]] = []
    for shot, answer in v.shots:
        messages += [{"role": "user", "content": format_prompt(shot, v)}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": format_prompt(example, v)}]


def plain_prompt(example: str, variant: "str | PromptVariant" = "paper") -> str:
    """One string for models without a chat template (Flan-T5): demonstrations inline, each
    followed by its answer, then the question about ``example``."""
    v = get_variant(variant)
    parts = [f"{format_prompt(shot, v)}\n{answer}" for shot, answer in v.shots]
    return "\n\n".join(parts + [format_prompt(example, v)])


def answer_token_ids(tokenizer, variants: Sequence[str]) -> list[int]:
    """Ids of the answer spellings that are a single token (e.g. 'yes', ' yes', 'Yes'), deduplicated.

    Multi-token spellings are skipped (their first piece, such as 'Y', is not an answer), and so
    are spellings the tokenizer maps to its unknown token.
    """
    unk = getattr(tokenizer, "unk_token_id", None)
    ids: list[int] = []
    for text in variants:
        encoded = tokenizer.encode(text, add_special_tokens=False)
        if len(encoded) == 1 and encoded[0] != unk and encoded[0] not in ids:
            ids.append(int(encoded[0]))
    if not ids:
        raise ConfigError(f"none of {list(variants)} is a single token for this tokenizer; cannot read P(answer)")
    return ids


def ask_llm_scores(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    variant: "str | PromptVariant" = "paper",
    batch_size: int = 8,
    max_example_tokens: int = 512,
    use_chat_template: bool | None = None,
    reuse_prefix: bool = True,
) -> AskLLMScores:
    """Score ``texts`` with a local instruction-tuned model; see the module docstring.

    ``model`` is a Hugging Face causal LM (scored after its chat template's generation prompt,
    left-padded) or encoder-decoder (``config.is_encoder_decoder``; the first decoder token).
    ``use_chat_template`` defaults to "when the tokenizer has one" for causal LMs. Examples longer
    than ``max_example_tokens`` are cut so the question after them is never truncated.
    With ``reuse_prefix`` a causal LM runs the token prefix every prompt shares (system prompt,
    few-shot demonstrations, the opening ``###``) once and reuses its key/value cache: same scores,
    several times faster for few-shot prompts.
    """
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError("texts must be a non-empty sequence of str")
    if max_example_tokens < 1:
        raise ConfigError(f"max_example_tokens must be >= 1, got {max_example_tokens}")
    v = get_variant(variant)
    seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
    if use_chat_template is None:
        use_chat_template = not seq2seq and getattr(tokenizer, "chat_template", None) is not None
    if use_chat_template and getattr(tokenizer, "chat_template", None) is None:
        raise ConfigError("use_chat_template=True but the tokenizer has no chat_template")

    yes_ids = answer_token_ids(tokenizer, YES_VARIANTS)
    no_ids = answer_token_ids(tokenizer, NO_VARIANTS)
    if set(yes_ids) & set(no_ids):
        raise ConfigError("the yes and no answers share a token for this tokenizer")
    prompts = [_encode_prompt(tokenizer, _clip(tokenizer, t, max_example_tokens), v, use_chat_template) for t in texts]

    p_yes = np.empty(len(texts))
    p_no = np.empty(len(texts))
    with eval_mode(model), torch.inference_mode():
        prefix = _SharedPrefix.build(model, prompts) if reuse_prefix and not seq2seq else _SharedPrefix.none()
        for batch in length_sorted_batches([len(p) for p in prompts], batch_size):
            rows = [prompts[i][prefix.length :] for i in batch]
            logits = _next_token_logits(model, rows, pad_id_of(tokenizer), seq2seq, prefix)
            probs = torch.softmax(logits.float(), dim=-1)
            p_yes[batch] = probs[:, yes_ids].sum(dim=-1).double().cpu().numpy()
            p_no[batch] = probs[:, no_ids].sum(dim=-1).double().cpu().numpy()
    return AskLLMScores(p_yes=p_yes, p_no=p_no)


def _clip(tokenizer, text: str, max_tokens: int) -> str:
    """``text`` cut to its first ``max_tokens`` tokens (decoded back to a string)."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    return text if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens])


def _encode_prompt(tokenizer, example: str, variant: PromptVariant, use_chat_template: bool) -> list[int]:
    """Token ids of the full prompt for one example."""
    if use_chat_template:
        messages = chat_messages(example, variant)
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokenizer.encode(text, add_special_tokens=False)
    # Plain text: keep the tokenizer's own special tokens (T5's closing </s>, a causal LM's BOS).
    return tokenizer.encode(plain_prompt(example, variant), add_special_tokens=True)


@dataclass(frozen=True)
class _SharedPrefix:
    """The leading tokens all prompts share, with the key/value cache of running them once."""

    length: int
    cache: object = None

    MIN_LENGTH = 8  # below this, caching saves less than it costs

    @classmethod
    def none(cls) -> "_SharedPrefix":
        return cls(0)

    @classmethod
    def build(cls, model, prompts: list[list[int]]) -> "_SharedPrefix":
        if not supports_kv_cache(model):
            return cls.none()
        # Longest common prefix, leaving every prompt at least one token of its own.
        length = min(len(p) for p in prompts) - 1
        first = prompts[0]
        for p in prompts[1:]:
            length = next((i for i in range(length) if p[i] != first[i]), length)
        if length < cls.MIN_LENGTH:
            return cls.none()
        ids = torch.tensor([first[:length]], device=model_device(model))
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
        return cls(length, out.past_key_values)

    def cache_for(self, batch: int):
        """A fresh copy of the cache for ``batch`` rows (the forward pass extends it in place)."""
        if self.cache is None:
            return None
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(batch)
        return cache


def _next_token_logits(
    model, prompts: list[list[int]], pad_id: int, seq2seq: bool, prefix: _SharedPrefix = _SharedPrefix.none()
) -> torch.Tensor:
    """Logits of the first answer token for each prompt (after the shared prefix): (batch, vocab)."""
    if seq2seq:
        ids, mask = pad_batch(prompts, pad_id, side="right")
        device = model_device(model)
        start = model.config.decoder_start_token_id
        if start is None:
            raise ConfigError("the seq2seq scorer's config has no decoder_start_token_id")
        decoder_ids = torch.full((len(prompts), 1), int(start), dtype=torch.long, device=device)
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device), decoder_input_ids=decoder_ids)
        return out.logits[:, 0, :]
    ids, mask = pad_batch(prompts, pad_id, side="left")
    kwargs = causal_forward_kwargs(
        model, ids, mask, last_only=True, past_key_values=prefix.cache_for(len(prompts)), past_length=prefix.length
    )
    out = model(**kwargs)
    return out.logits[:, -1, :]
