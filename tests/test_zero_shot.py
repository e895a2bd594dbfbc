"""Zero-shot choice scoring on models whose answers we know, and the real benchmarks' conversions."""

import math
import types

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.zero_shot import ChoiceTask, evaluate_tasks, score_choices
from mini_lib.core.zero_shot_benchmarks import BENCHMARKS, convert_rows, load_benchmark
from mini_lib.papers.simplified_vocab.vocabulary import simplify
from tests.helpers import tiny_model, tiny_setup


class Bigram(torch.nn.Module):
    """A "language model" whose next-token logits depend only on the current token (HF output interface)."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = torch.nn.Parameter(table, requires_grad=False)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return types.SimpleNamespace(logits=self.table[input_ids])


def ids(tokenizer, text):
    return tokenizer.backend_tokenizer.encode(text, add_special_tokens=False).ids


def test_bigram_model_scores_exactly_and_picks_the_favoured_option():
    tokenizer, _ = tiny_setup()
    vocab = len(tokenizer)
    table = torch.randn(vocab, vocab, generator=torch.Generator().manual_seed(0))
    last = ids(tokenizer, "the dog saw the")[-1]
    cat, ball = ids(tokenizer, " cat"), ids(tokenizer, " ball")
    assert len(cat) == len(ball) == 1
    table[last, cat[0]] = 20.0  # after "the", " cat" is all but certain
    model = Bigram(table)
    item = ChoiceTask("the dog saw the", (" ball", " cat"), label=1)
    scores = score_choices(model, tokenizer, [item])
    log_probs = torch.log_softmax(table[last], dim=-1)
    np.testing.assert_allclose(scores.logliks[0], [float(log_probs[ball[0]]), float(log_probs[cat[0]])], rtol=1e-6)
    assert scores.predictions().tolist() == [1] and scores.accuracy_raw == 1.0
    assert scores.logliks[0][1] > -1e-3  # P(cat) ~ 1


def test_multi_token_options_sum_their_tokens_after_the_bos_token():
    tokenizer, _ = tiny_setup()
    vocab = len(tokenizer)
    table = torch.randn(vocab, vocab, generator=torch.Generator().manual_seed(1))
    model = Bigram(table)
    option = " tom ran to the park"
    scores = score_choices(model, tokenizer, [ChoiceTask("", (option, " mia"), 0)])
    sequence = [tokenizer.eos_token_id] + ids(tokenizer, option)  # empty context: BOS (= EOS) only
    log_probs = torch.log_softmax(table, dim=-1)
    expected = sum(float(log_probs[a, b]) for a, b in zip(sequence[:-1], sequence[1:]))
    assert scores.logliks[0][0] == pytest.approx(expected, rel=1e-6)
    assert scores.n_tokens[0][0] == len(sequence) - 1


def test_length_normalisations_change_the_answer_as_the_harness_does():
    tokenizer, _ = tiny_setup()
    model = Bigram(torch.zeros(len(tokenizer), len(tokenizer)))  # every token: log(1/V)
    short, long = " cat", " ball ball"
    assert len(ids(tokenizer, short)) == 1 and len(ids(tokenizer, long)) == 2
    scores = score_choices(model, tokenizer, [ChoiceTask("the", (short, long), 1)])
    log_v = math.log(len(tokenizer))
    np.testing.assert_allclose(scores.logliks[0], [-log_v, -2 * log_v], rtol=1e-6)
    assert scores.predictions("none").tolist() == [0]  # fewer tokens win on raw log-likelihood
    assert scores.predictions("chars").tolist() == [1]  # -log V / 4 chars < -2 log V / 10 chars
    assert scores.accuracy_norm == 1.0 and scores.accuracy_raw == 0.0
    np.testing.assert_allclose(scores.scores("tokens")[0], [-log_v, -log_v], rtol=1e-6)
    with pytest.raises(ConfigError, match="normalise"):
        scores.accuracy("bytes")


def test_trailing_context_space_moves_to_the_option():
    tokenizer, _ = tiny_setup()
    model = Bigram(torch.randn(len(tokenizer), len(tokenizer), generator=torch.Generator().manual_seed(2)))
    a = score_choices(model, tokenizer, [ChoiceTask("the dog ", ("cat", "ball"), 0)])
    b = score_choices(model, tokenizer, [ChoiceTask("the dog", (" cat", " ball"), 0)])
    np.testing.assert_allclose(a.logliks[0], b.logliks[0])
    assert a.n_chars[0].tolist() == [4, 5]


def test_batching_and_padding_do_not_change_scores_of_a_real_model():
    tokenizer, _ = tiny_setup()
    model = tiny_model(len(tokenizer))
    items = [ChoiceTask("the dog saw the", (" cat", " big red ball"), 0),
             ChoiceTask("", ("tom ran to the park.", "park the to ran tom."), 0),
             ChoiceTask("mia and tom went to the park with a", (" ball", " tree", " happy dog"), 2)]
    one = score_choices(model, tokenizer, items, batch_size=1)
    many = score_choices(model, tokenizer, items, batch_size=8)
    for a, b in zip(one.logliks, many.logliks):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # and the batched score equals a plain forward pass over the whole sequence
    sequence = [tokenizer.eos_token_id] + ids(tokenizer, "the dog saw the") + ids(tokenizer, " big red ball")
    with torch.no_grad():
        log_probs = torch.log_softmax(model(input_ids=torch.tensor([sequence])).logits[0], -1)
    k = len(ids(tokenizer, " big red ball"))
    expected = sum(float(log_probs[i - 1, sequence[i]]) for i in range(len(sequence) - k, len(sequence)))
    assert many.logliks[0][1] == pytest.approx(expected, abs=1e-4)
    assert model.training  # the scorer restores the mode it found


def test_long_contexts_lose_tokens_from_the_left():
    tokenizer, _ = tiny_setup()
    model = Bigram(torch.randn(len(tokenizer), len(tokenizer), generator=torch.Generator().manual_seed(3)))
    context = " ".join(["the dog saw the cat"] * 20)
    scores = score_choices(model, tokenizer, [ChoiceTask(context, (" ball", " tree"), 0)], max_length=8)
    assert scores.truncated == 2
    full = score_choices(model, tokenizer, [ChoiceTask(context, (" ball", " tree"), 0)], max_length=512)
    np.testing.assert_allclose(scores.logliks[0], full.logliks[0], rtol=1e-6)  # a bigram only sees the last token
    with pytest.raises(ConfigError, match="longer than max_length"):
        score_choices(model, tokenizer, [ChoiceTask("", (" ".join(["cat"] * 20), "dog"), 0)], max_length=4)


def test_evaluate_tasks_reports_accuracy_with_standard_errors():
    tokenizer, _ = tiny_setup()
    vocab = len(tokenizer)
    table = torch.zeros(vocab, vocab)
    cat = ids(tokenizer, " cat")[0]
    table[:, cat] = 10.0  # " cat" after anything
    items = [ChoiceTask("the", (" cat", " dog"), 0), ChoiceTask("a", (" dog", " cat"), 1),
             ChoiceTask("the", (" dog", " cat"), 0), ChoiceTask("a", (" cat", " dog"), 1)]
    frame = evaluate_tasks(Bigram(table), tokenizer, {"cats": items})
    row = frame.iloc[0]
    assert (row.task, row.n, row.acc, row.chance) == ("cats", 4, 0.5, 0.5)
    assert row.acc_se == pytest.approx(math.sqrt(0.25 / 4))


def test_choice_task_rejects_bad_items():
    with pytest.raises(ConfigError, match="at least 2 options"):
        ChoiceTask("x", ("a",), 0)
    with pytest.raises(ConfigError, match="label 2"):
        ChoiceTask("x", ("a", "b"), 2)
    with pytest.raises(ConfigError, match="some text"):
        ChoiceTask("x", ("a", " "), 0)
    assert ChoiceTask("ctx", (" a", " b"), 0).texts_to_check() == ("ctx", " a", " b")
    with pytest.raises(ConfigError, match="no examples"):
        score_choices(Bigram(torch.zeros(3, 3)), tiny_setup()[0], [])


# --- the real benchmarks: conversions on hand-written rows of the hub schemas -----------------------

ROWS = {
    "blimp": {"sentence_good": "Who should Derek hug?", "sentence_bad": "Who should Derek hug Tom?", "UID": "x"},
    "copa": {"premise": "My body cast a shadow over the grass.", "choice1": "The sun was rising.",
             "choice2": "The grass was cut.", "question": "cause", "label": 0, "idx": 0},
    "sst2": {"sentence": "a gorgeous , witty , seductive movie . ", "label": 1, "idx": 3},
    "rte": {"sentence1": "The cat sat on the mat.", "sentence2": "A cat is sitting.", "label": 0, "idx": 0},
    "mrpc": {"sentence1": "He left.", "sentence2": "He went away.", "label": 1, "idx": 0},
    "qqp": {"question1": "How do I cook rice?", "question2": "What is rice?", "label": 0, "idx": 0},
    "mnli": {"premise": "The dog barked.", "hypothesis": "The dog was silent.", "label": 2, "idx": 0},
    "arc_easy": {"id": "q1", "question": "Which is a liquid?", "answerKey": "C",
                 "choices": {"text": ["rock", "ice", "water", "wood"], "label": ["A", "B", "C", "D"]}},
}


def test_every_benchmark_has_a_hand_written_row():
    assert sorted(ROWS) == sorted(BENCHMARKS)


def test_conversions_follow_the_harness_prompts():
    copa = convert_rows("copa", [ROWS["copa"]])[0]
    assert copa.context == "My body cast a shadow over the grass because"
    assert copa.options == (" the sun was rising.", " the grass was cut.") and copa.label == 0
    effect = convert_rows("copa", [{**ROWS["copa"], "question": "effect"}])[0]
    assert effect.context.endswith("grass therefore")
    sst2 = convert_rows("sst2", [ROWS["sst2"]])[0]
    assert sst2.context == ("a gorgeous , witty , seductive movie .\nQuestion: Is this sentence positive or "
                            "negative?\nAnswer:")
    assert sst2.options[sst2.label] == " positive" and sst2.source_texts == (ROWS["sst2"]["sentence"],)
    rte = convert_rows("rte", [ROWS["rte"]])[0]
    assert rte.context.endswith("Question: A cat is sitting. True or False?\nAnswer:") and rte.options[rte.label] == " True"
    blimp = convert_rows("blimp", [ROWS["blimp"]], task="blimp_wh")[0]
    assert (blimp.context, blimp.options[blimp.label], blimp.task) == ("", "Who should Derek hug?", "blimp_wh")
    assert convert_rows("mrpc", [ROWS["mrpc"]])[0].options[1] == " yes"
    assert convert_rows("qqp", [ROWS["qqp"]])[0].label == 0
    mnli = convert_rows("mnli", [ROWS["mnli"]])[0]
    assert mnli.options[mnli.label] == " False" and len(mnli.options) == 3
    arc = convert_rows("arc_easy", [ROWS["arc_easy"]])[0]
    assert arc.context == "Question: Which is a liquid?\nAnswer:" and arc.options[arc.label] == " water"


def test_conversion_errors_name_the_problem():
    with pytest.raises(ConfigError, match="column 'label'"):
        convert_rows("sst2", [{"sentence": "x"}])
    with pytest.raises(ConfigError, match="label -1"):
        convert_rows("sst2", [{"sentence": "x", "label": -1}])
    with pytest.raises(ConfigError, match="unknown benchmark"):
        convert_rows("piqa", [])
    with pytest.raises(ConfigError, match="answer key 'E'"):
        convert_rows("arc_easy", [{**ROWS["arc_easy"], "answerKey": "E"}])


def test_loading_fails_fast_offline_with_the_alternatives():
    with pytest.raises(ConfigError, match="offline.*storyworld tasks"):
        load_benchmark("blimp", config="anaphor_gender_agreement")


def test_simplification_checks_the_dataset_sentences_not_the_prompt():
    vocab = frozenset("a the cat dog sat on mat is sitting movie good".split())
    rows = [ROWS["rte"], {"sentence1": "The cat sat on the mat.", "sentence2": "A photosynthetic cat.", "label": 1}]
    result = simplify(convert_rows("rte", rows), vocab)
    assert len(result.kept) == 1 and result.n_before == 2 and result.kept_fraction == 0.5
    # "Question", "True", "False" of the prompt are not in the vocabulary, and do not matter
    assert result.kept[0].source_texts == ("The cat sat on the mat.", "A cat is sitting.")
    # capitalised non-initial words (names) are ignored, as in the paper
    names = convert_rows("sst2", [{"sentence": "the good dog sat on Rex", "label": 1}])
    assert len(simplify(names, vocab).kept) == 1
