"""Storyworld zero-shot tasks: labels correct by construction, balanced, paired across tiers, not frequency-solvable."""

import re
import types
from collections import Counter
from functools import lru_cache

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.tokenization import encode_documents, train_tokenizer
from mini_lib.core.zero_shot import score_choices
from mini_lib.core.zero_shot_tasks import PAPER_ANALOGUE, TASKS, storyworld_tasks, task_table
from mini_lib.corpora import storyworld as sw
from mini_lib.papers.simplified_vocab.span_filter import is_fully_in_vocabulary

N = 24


@lru_cache(maxsize=2)
def tasks(tier: str):
    return storyworld_tasks(N, tier=tier, seed=3)


def plan_of(item) -> sw.StoryPlan:
    fields = dict(part.split("=") for part in item.id.split()[1:])
    return sw.story_plan(int(fields["index"]), int(fields["seed"]))


def test_every_task_is_full_balanced_and_deterministic():
    made = tasks("simple")
    assert tuple(made) == TASKS and set(PAPER_ANALOGUE) == set(TASKS)
    for name, items in made.items():
        assert len(items) == N
        assert Counter(item.label for item in items) == {0: N // 2, 1: N // 2}, name
        assert all(item.task == name and len(set(item.options)) == 2 for item in items)
    again = storyworld_tasks(N, tier="simple", seed=3)
    assert again == made
    assert storyworld_tasks(N, tier="simple", seed=4)["boolq_story"] != made["boolq_story"]


def test_minimal_pairs_keep_a_real_sentence_and_break_it_with_one_edit():
    for tier in ("simple", "rich"):
        for name in ("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order"):
            for item in tasks(tier)[name]:
                assert item.context == ""
                good, bad = item.options[item.label], item.options[1 - item.label]
                story = sw.split_sentences(sw.realise(plan_of(item), tier))
                assert good in story and bad not in story
                g, b = re.findall(r"[A-Za-z]+", good), re.findall(r"[A-Za-z]+", bad)
                if name == "blimp_word_order":
                    assert sorted(g) == sorted(b) and sum(x != y for x, y in zip(g, b)) == 2
                else:
                    assert len(g) == len(b) and sum(x != y for x, y in zip(g, b)) == 1


def test_agreement_edits_go_both_ways_so_word_frequency_cannot_decide():
    items = tasks("simple")["blimp_subject_verb"]
    good_verbs = Counter(next(w for w in item.options[item.label].split() if w in ("was", "were", "is", "are"))
                         in ("was", "is") for item in items)
    assert good_verbs == {True: N // 2, False: N // 2}
    items = tasks("simple")["blimp_determiner_noun"]
    singular = sum(bool(re.search(r"\b[Tt]wo\b", item.options[1 - item.label])) and
                   bool(re.search(r"\b[Aa]n?\b", item.options[item.label])) for item in items)
    assert singular >= N // 2  # direction 0: "a ball" -> "two ball"; the rest "two balls" -> "a balls"


def test_yes_no_answers_follow_the_plan():
    for item in tasks("simple")["boolq_story"]:
        plan = plan_of(item)
        question = item.context.split("\nQuestion: ")[1].split("\n")[0]
        assert item.options == (" yes", " no") and item.context.endswith("\nAnswer:")
        if question.startswith("Was it"):
            phrase = {"morning": "in the morning", "afternoon": "in the afternoon", "evening": "in the evening",
                      "day": "in the day", "night": "at night"}[plan.time]
            truth = phrase in question
        elif question.startswith("Did"):
            truth = question == f"Did {plan.hero} play with {plan.friend}?"
        else:
            truth = question == f"Is this story about {plan.hero}?"
        assert item.label == (0 if truth else 1), question


def test_ending_sentiment_options_differ_only_in_the_feeling():
    happy_feelings = {sw.story_plan(i).feeling_end for i in range(400) if sw.story_plan(i).outcome == "happy"}
    for item in tasks("simple")["sst2_ending"]:
        plan = plan_of(item)
        assert item.label == (0 if plan.outcome == "happy" else 1)
        happy, sad = item.options[0].split(), item.options[1].split()
        changed = [(x, y) for x, y in zip(happy, sad) if x != y]
        assert len(happy) == len(sad) and len(changed) == 1
        assert changed[0][0].strip(".,!") in happy_feelings
        assert plan.feeling_end in item.options[item.label]


def test_next_event_right_option_is_the_plans_outcome_after_an_obstacle():
    for item in tasks("simple")["copa_next_event"]:
        plan = plan_of(item)
        assert plan.obstacle
        beat = next(b for b in plan.beats if b in ("outcome", "outcome_feeling"))
        told = sw.realise(sw.StoryPlan(**{**plan.__dict__, "beats": (beat,)}), "simple")
        assert item.options[item.label] == " " + told
        sentences = sw.split_sentences(sw.realise(plan, "simple"))
        assert item.context == " ".join(sentences[: plan.beats.index(beat)])


def test_story_tasks_ask_the_same_questions_in_both_tiers():
    simple, rich = tasks("simple"), tasks("rich")
    for name in ("boolq_story", "sst2_ending", "copa_next_event"):
        assert [i.id.replace("tier=simple", "") for i in simple[name]] == [i.id.replace("tier=rich", "") for i in rich[name]]
        assert [i.label for i in simple[name]] == [i.label for i in rich[name]]
    rich_story = rich["copa_next_event"][0].context
    assert rich_story != simple["copa_next_event"][0].context  # told in other words


def test_simple_tier_tasks_stay_in_the_simple_vocabulary():
    vocabulary = sw.simple_vocabulary() | {"question", "answer", "yes"}  # the harness's prompt words
    for items in tasks("simple").values():
        for item in items:
            assert all(is_fully_in_vocabulary(text, vocabulary) for text in (item.context, *item.options))


class Unigram(torch.nn.Module):
    """Next-token log-probabilities that ignore the context: word frequency and nothing else."""

    def __init__(self, log_probs: torch.Tensor):
        super().__init__()
        self.log_probs = torch.nn.Parameter(log_probs, requires_grad=False)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return types.SimpleNamespace(logits=self.log_probs.expand(*input_ids.shape, -1))


def test_a_unigram_model_is_at_chance_on_the_minimal_pairs():
    texts = sw.generate_stories(400, seed=0)["text"]
    tokenizer = train_tokenizer(texts, 512, model_max_length=128)
    counts = np.ones(len(tokenizer))
    for ids in encode_documents(tokenizer, texts):
        np.add.at(counts, ids, 1)
    model = Unigram(torch.tensor(np.log(counts / counts.sum()), dtype=torch.float32))
    for name in ("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order"):
        assert score_choices(model, tokenizer, tasks("simple")[name]).accuracy_raw == pytest.approx(0.5), name


def test_task_table_and_bad_arguments():
    rows = task_table(tasks("simple"))
    assert [r["task"] for r in rows] == list(TASKS) and rows[0]["like"] == "BLiMP"
    with pytest.raises(ConfigError, match="even integer"):
        storyworld_tasks(3)
    with pytest.raises(ConfigError, match="unknown task"):
        storyworld_tasks(2, tasks=("piqa",))
    with pytest.raises(ConfigError, match="unknown tier"):
        storyworld_tasks(2, tier="fancy")
