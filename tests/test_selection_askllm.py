"""Ask-LLM: the paper's prompt, exact P(yes) extraction, batching with left padding, seq2seq scoring."""

import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import (
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.askllm import (
    ASK_LLM_PROMPT,
    FEW_SHOT_EXAMPLES,
    PROMPT_VARIANTS,
    YES_VARIANTS,
    PromptVariant,
    answer_token_ids,
    ask_llm_scores,
    chat_messages,
    format_prompt,
    plain_prompt,
)

WORDS = ["[PAD]", "[UNK]", "</s>", "<user>", "<assistant>", "yes", "no", "Yes", "No",
         "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "###", "OPTIONS", ":", "-", "?", "."]
CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def word_tokenizer(chat: bool = True) -> PreTrainedTokenizerFast:
    """A tiny WordLevel tokenizer whose vocabulary holds yes/no/Yes/No as single tokens."""
    core = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    core.pre_tokenizer = Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="[PAD]", unk_token="[UNK]", eos_token="</s>")
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    return tok


class FixedNextToken(torch.nn.Module):
    """A causal 'LM' whose last-position distribution is ``probs`` and earlier positions put all
    mass on 'no', so reading the wrong position or padding on the wrong side shows up."""

    def __init__(self, probs: torch.Tensor) -> None:
        super().__init__()
        self.config = SimpleNamespace(is_encoder_decoder=False)
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        self.probs = probs
        self.seen_positions: list[torch.Tensor] = []

    def forward(self, input_ids, attention_mask=None, position_ids=None, logits_to_keep=0):
        self.seen_positions.append(position_ids)
        b, t = input_ids.shape
        wrong = torch.full((len(self.probs),), -30.0)
        wrong[WORDS.index("no")] = 30.0
        logits = wrong.expand(b, t, -1).clone()
        logits[:, -1] = self.probs.log()
        return SimpleNamespace(logits=logits[:, -1:] if logits_to_keep == 1 else logits)


def test_paper_prompt_is_exact():
    expected = (
        "###\nThe cat sat on the mat.\n###\n\n"
        "Does the previous paragraph demarcated within ### and ### contain informative signal for "
        "pre-training a large-language model? An informative datapoint should be well-formatted, "
        "contain some usable knowledge of the world, and strictly NOT have any harmful, racist, "
        "sexist, etc. content.\n\nOPTIONS:\n- yes\n- no"
    )
    assert format_prompt("The cat sat on the mat.") == expected
    assert format_prompt("The cat sat on the mat.", "paper") == ASK_LLM_PROMPT.replace("{example}", "The cat sat on the mat.")
    # Braces in an example are text, not format fields.
    assert "{x}" in format_prompt("a {x} b")


def test_few_shot_variants_render_demonstrations():
    msgs = chat_messages("the cat", "few_shot")
    assert len(msgs) == 2 * len(FEW_SHOT_EXAMPLES) + 1
    assert [m["role"] for m in msgs[:2]] == ["user", "assistant"]
    assert [m["content"] for m in msgs[1:-1:2]] == [a for _, a in FEW_SHOT_EXAMPLES]
    assert msgs[-1] == {"role": "user", "content": format_prompt("the cat", "few_shot")}
    text = plain_prompt("the cat", "strict_few_shot")
    assert text.endswith(format_prompt("the cat", "strict"))
    assert text.count("###\n") == 2 * (len(FEW_SHOT_EXAMPLES) + 1)
    assert chat_messages("the cat", "paper") == [{"role": "user", "content": format_prompt("the cat")}]


def test_unknown_or_malformed_variant_is_a_config_error():
    with pytest.raises(ConfigError, match="paper, strict, few_shot"):
        format_prompt("x", "nonsense")
    with pytest.raises(ConfigError, match="exactly once"):
        PromptVariant("bad", "no slot here")
    with pytest.raises(ConfigError, match="'yes' or 'no'"):
        PromptVariant("bad", "{example}", (("text", "maybe"),))


def test_answer_ids_skip_unknown_and_multi_token_spellings():
    tok = word_tokenizer()
    # "YES" is [UNK] here: it must not count as an answer.
    assert answer_token_ids(tok, YES_VARIANTS) == [WORDS.index("yes"), WORDS.index("Yes")]
    with pytest.raises(ConfigError, match="single token"):
        answer_token_ids(tok, ("YES", "yes please"))


@pytest.mark.parametrize("batch_size", [1, 3])
def test_p_yes_is_read_exactly_from_the_last_position(batch_size):
    probs = torch.full((len(WORDS),), 0.0)
    probs[WORDS.index("yes")], probs[WORDS.index("Yes")] = 0.3, 0.1
    probs[WORDS.index("no")], probs[WORDS.index("No")] = 0.2, 0.05
    rest = [i for i, w in enumerate(WORDS) if w not in ("yes", "Yes", "no", "No")]
    probs[rest] = 0.35 / len(rest)
    model = FixedNextToken(probs)
    texts = ["the cat sat", "a dog ran on the mat . the cat sat", "dog"]
    scores = ask_llm_scores(model, word_tokenizer(), texts, batch_size=batch_size)
    np.testing.assert_allclose(scores.p_yes, [0.4] * 3, rtol=1e-5)
    np.testing.assert_allclose(scores.p_no, [0.25] * 3, rtol=1e-5)
    np.testing.assert_allclose(scores.p_yes_normalised, [0.4 / 0.65] * 3, rtol=1e-5)
    # Left padding: every row's positions end at (its length - 1) in the last column, start at 0.
    positions = model.seen_positions[-1]
    assert positions[:, 0].min() == 0 and (positions[:, -1] > 0).all()


TWO_SHOT = PromptVariant("two_shot", ASK_LLM_PROMPT, FEW_SHOT_EXAMPLES[:2])  # short: fast tests


def tiny_gptneox(seed: int = 0) -> GPTNeoXForCausalLM:
    torch.manual_seed(seed)
    config = GPTNeoXConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=64, max_position_embeddings=256)
    return GPTNeoXForCausalLM(config).eval()


def test_causal_batched_left_padding_matches_one_at_a_time():
    model, tok = tiny_gptneox(), word_tokenizer()
    texts = ["the cat", "a dog ran on the mat . the dog sat on a cat", "mat", "the cat sat on the mat"]
    one = ask_llm_scores(model, tok, texts, batch_size=1, variant="strict")
    batched = ask_llm_scores(model, tok, texts, batch_size=4, variant="strict")
    np.testing.assert_allclose(batched.p_yes, one.p_yes, atol=1e-6)
    np.testing.assert_allclose(batched.p_no, one.p_no, atol=1e-6)
    assert np.all((one.p_yes > 0) & (one.p_yes + one.p_no < 1))
    # Different texts get different scores (the example really reaches the model).
    assert len(np.unique(one.p_yes.round(8))) == len(texts)


def test_causal_without_chat_template_scores_the_plain_prompt():
    model, tok = tiny_gptneox(), word_tokenizer(chat=False)
    texts = ["the cat", "a dog ran"]
    got = ask_llm_scores(model, tok, texts, batch_size=2)
    ids = torch.tensor([tok.encode(plain_prompt(texts[1]), add_special_tokens=True)])
    with torch.no_grad():
        probs = model(input_ids=ids).logits[0, -1].softmax(-1)
    assert got.p_yes[1] == pytest.approx(float(probs[[5, 7]].sum()), rel=1e-5)
    with pytest.raises(ConfigError, match="chat_template"):
        ask_llm_scores(model, tok, texts, use_chat_template=True)


def test_seq2seq_scores_the_first_decoder_token():
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(WORDS), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=2)
    model = T5ForConditionalGeneration(config).eval()
    tok = word_tokenizer(chat=False)
    texts = ["the cat sat on the mat", "dog"]
    got = ask_llm_scores(model, tok, texts, batch_size=2, variant=TWO_SHOT)
    ids = torch.tensor([tok.encode(plain_prompt(texts[0], TWO_SHOT))])
    with torch.no_grad():
        probs = model(input_ids=ids, decoder_input_ids=torch.tensor([[0]])).logits[0, 0].softmax(-1)
    assert got.p_yes[0] == pytest.approx(float(probs[[5, 7]].sum()), rel=1e-5)
    assert got.p_no[0] == pytest.approx(float(probs[[6, 8]].sum()), rel=1e-5)


def test_invalid_inputs_are_config_errors():
    model, tok = tiny_gptneox(), word_tokenizer()
    with pytest.raises(ConfigError):
        ask_llm_scores(model, tok, [])
    with pytest.raises(ConfigError, match="choose one of"):
        ask_llm_scores(model, tok, ["the cat"], variant="lenient")
    with pytest.raises(ConfigError, match="batch_size"):
        ask_llm_scores(model, tok, ["the cat"], batch_size=0)


def test_long_examples_are_clipped_before_the_question():
    model, tok = tiny_gptneox(), word_tokenizer()
    long = " ".join(["the cat sat"] * 50)
    clipped = ask_llm_scores(model, tok, [long], max_example_tokens=4)
    short = ask_llm_scores(model, tok, ["the cat sat the"])
    assert clipped.p_yes[0] == pytest.approx(short.p_yes[0], rel=1e-6)


@pytest.mark.slow
def test_smollm2_converts_once_and_scores(tmp_path):
    """The offline default scorer: GGUF -> cached safetensors -> P(yes) for two texts."""
    from mini_lib.papers.data_selection.smollm2 import load_smollm2, smollm2_dir, smollm2_gguf_path

    assert smollm2_gguf_path().stat().st_size > 50_000_000
    start = time.perf_counter()
    model, tok = load_smollm2(tmp_path / "smollm2")
    convert_s = time.perf_counter() - start
    start = time.perf_counter()
    model, tok = load_smollm2(tmp_path / "smollm2")
    assert time.perf_counter() - start < max(convert_s, 5.0)
    assert tok.model_max_length == model.config.max_position_embeddings == 8192
    assert (smollm2_dir(tmp_path / "smollm2") / "model.safetensors").is_file()
    assert [p.name for p in (tmp_path / "smollm2").iterdir()] == [smollm2_dir(tmp_path / "smollm2").name]
    scores = ask_llm_scores(model, tok, ["Bees make honey from nectar.", "honey the from bees nectar"],
                            batch_size=2)
    assert np.all((scores.p_yes > 0.01) & (scores.p_yes + scores.p_no <= 1.0 + 1e-6))


def test_the_gguf_conversion_bar_is_off_only_in_headless_runs(monkeypatch):
    """A notebook kernel's tqdm.auto is tqdm.notebook, which ignores TQDM_DISABLE; papermill would save its widget
    frozen at "0/272", so headless conversions pass disable=True themselves."""
    import transformers.modeling_gguf_pytorch_utils as gguf_loading
    from tqdm.notebook import tqdm as notebook_bar

    from mini_lib.core.progress import HEADLESS_ENV
    from mini_lib.papers.data_selection.smollm2 import _no_frozen_bar

    monkeypatch.setattr(gguf_loading, "tqdm", notebook_bar)  # what transformers gets inside a kernel
    monkeypatch.setenv(HEADLESS_ENV, "1")
    with _no_frozen_bar():
        assert gguf_loading.tqdm(range(3)).disable
    assert gguf_loading.tqdm is notebook_bar  # restored
    monkeypatch.delenv(HEADLESS_ENV)
    with _no_frozen_bar():
        assert gguf_loading.tqdm is notebook_bar  # interactively the bar runs live


def test_reusing_the_shared_prefix_cache_gives_the_same_scores():
    model, tok = tiny_gptneox(), word_tokenizer()
    texts = ["the cat sat on the mat", "dog", "a dog ran . the cat sat", "mat mat"]
    embedded = []
    model.gpt_neox.embed_in.register_forward_hook(lambda mod, inp, out: embedded.append(inp[0].numel()))
    fresh = ask_llm_scores(model, tok, texts, variant=TWO_SHOT, batch_size=3, reuse_prefix=False)
    fresh_tokens = sum(embedded)
    embedded.clear()
    cached = ask_llm_scores(model, tok, texts, variant=TWO_SHOT, batch_size=3, reuse_prefix=True)
    assert sum(embedded) < fresh_tokens / 2  # the demonstrations ran once, not once per text
    np.testing.assert_allclose(cached.p_yes, fresh.p_yes, atol=1e-6)
    np.testing.assert_allclose(cached.p_no, fresh.p_no, atol=1e-6)


def test_scorer_path_loads_a_local_seq2seq_folder(tmp_path):
    """The gpu profile's ``scorer_path`` takes a Flan-T5-shaped folder (config + weights + tokenizer):
    it loads as a seq2seq scorer and scores exactly like the model it was saved from."""
    from mini_lib.papers.data_selection.experiment import askllm_scores_cached, load_scorer

    torch.manual_seed(0)
    config = T5Config(vocab_size=len(WORDS), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=2)
    model, tok = T5ForConditionalGeneration(config).eval(), word_tokenizer(chat=False)
    folder = tmp_path / "flan-t5-tiny"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    loaded, _ = load_scorer(str(folder))
    assert loaded.config.is_encoder_decoder
    texts = ["the cat sat on the mat", "dog"]
    p_yes, p_no = askllm_scores_cached(texts, ["paper"], scorer_path=str(folder), cache_folder=tmp_path / "cache")
    direct = ask_llm_scores(model, tok, texts)
    assert np.allclose(p_yes["paper"], direct.p_yes, rtol=1e-5) and np.allclose(p_no["paper"], direct.p_no, rtol=1e-5)
    with pytest.raises(ConfigError, match="not a local model folder"):
        load_scorer(str(tmp_path / "missing"))
