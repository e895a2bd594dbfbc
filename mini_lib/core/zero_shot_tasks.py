"""Zero-shot tasks written from storyworld plans: offline analogues of the paper's benchmarks.

The simplified-vocabulary paper (arXiv 2404.02204) evaluates on BLiMP, SST-2, COPA and other
benchmarks filtered to its child vocabulary. Those need a network and, at our scale, would be at
chance. Storyworld stories are realised from plans, so we can write tasks of the same kinds whose
answers are known by construction, in either tier's vocabulary (the same story facts in simple or
rich words), for stories the models never trained on (indices from ``TASK_START``):

* ``blimp_subject_verb``, ``blimp_determiner_noun``, ``blimp_word_order`` (BLiMP-like minimal
  pairs): a sentence of a story against the same sentence made ungrammatical by one edit. Each
  edit goes both ways in equal numbers, so that preferring the more frequent word cannot pass:
  ``she was`` -> ``she were`` and ``they were`` -> ``they was``; ``a red ball`` -> ``two red ball``
  and ``two red balls`` -> ``a red balls``; ``the park`` -> ``park the`` (the same words, reordered).
  No context: the model must prefer the grammatical sentence.
* ``boolq_story`` (BoolQ-like): the story, then ``Question: ...? Answer:`` with `` yes``/`` no``, in
  the harness's format, about who the story is about, who the hero played with, or the time of
  day -- facts whose words are the same in both tiers. Storyworld never prints "yes" or "Question",
  so this task measures an ability our training data cannot teach: expect chance.
* ``sst2_ending`` (SST-2-like): the story up to its outcome, then the outcome sentence ending in a
  feeling; the two options differ only in that feeling word (one of the story's outcome, one of the
  opposite outcome), so the model must judge which feeling fits what happened.
* ``copa_next_event`` (COPA-like): a story with an obstacle, up to its outcome; the outcome
  sentence as the plan tells it against the sentence for the opposite outcome. The obstacle's
  resolution ("The rain did not stop...") says which continuation is plausible. The options are
  different sentences, so raw log-likelihood favours the shorter one; ``acc_norm`` corrects for it.

Labels are balanced by construction: the k-th item of a task has label ``k % 2`` (for
``sst2_ending``: its story is happy for even k, sad for odd k) and, for the edits that go both
ways, direction ``(k // 2) % 2``. Whether a story is used by a story task depends only on its
plan, so both tiers' story tasks ask about the same stories with the same labels.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.corpora import storyworld as sw

TASKS: tuple[str, ...] = (
    "blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order", "boolq_story", "sst2_ending", "copa_next_event",
)
TASK_START = 1_000_000_000  # story indices of task stories: far beyond any training corpus
PAPER_ANALOGUE = {  # which benchmark of the paper each task stands in for
    "blimp_subject_verb": "BLiMP", "blimp_determiner_noun": "BLiMP", "blimp_word_order": "BLiMP",
    "boolq_story": "BoolQ", "sst2_ending": "SST-2", "copa_next_event": "COPA",
}
_BANK_OFFSET = 100_000_000  # the plans the banks (names, feelings, spots) are drawn from
_BANK_PLANS = 2000
_DAYTIME, _NIGHTTIME = ("morning", "afternoon", "day"), ("evening", "night")
_TIME_PHRASES = {"morning": "in the morning", "afternoon": "in the afternoon", "evening": "in the evening",
                 "day": "in the day", "night": "at night"}


def storyworld_tasks(
    n_per_task: int,
    tier: str = "simple",
    seed: int = 0,
    start: int = TASK_START,
    max_sentences: int = 7,
    tasks: tuple[str, ...] = TASKS,
) -> dict[str, list[ChoiceTask]]:
    """``n_per_task`` items of each task, from stories ``start, start+1, ...`` of ``seed``, in ``tier`` words.

    ``max_sentences`` keeps story contexts short enough for a 128-token model (longer stories
    are skipped, decided on the plan so both tiers skip the same ones).
    """
    if isinstance(n_per_task, bool) or not isinstance(n_per_task, int) or n_per_task < 2 or n_per_task % 2:
        raise ConfigError(f"n_per_task must be an even integer >= 2 (labels are balanced), got {n_per_task!r}")
    choose("tier", tier, sw.TIERS)
    for name in tasks:
        choose("task", name, TASKS)
    if max_sentences < 3:
        raise ConfigError(f"max_sentences must be >= 3 (the shortest stories), got {max_sentences}")
    bank = _Bank.build(seed, start)
    out: dict[str, list[ChoiceTask]] = {name: [] for name in tasks}
    for index in itertools.count(start):
        if all(len(items) >= n_per_task for items in out.values()):
            break
        if index - start > 200 * n_per_task + 10_000:
            raise ConfigError(f"could not find {n_per_task} items for every task in {tier} stories: "
                              f"found {({k: len(v) for k, v in out.items()})}")
        story = _Story.make(index, seed, tier)
        for name, items in out.items():
            if len(items) < n_per_task and (name.startswith("blimp") or story.plan.n_sentences <= max_sentences):
                item = _MAKERS[name](story, len(items), bank)
                if item is not None:
                    items.append(item)
    return out


def task_table(tasks: dict[str, list[ChoiceTask]], n_examples: int = 1) -> list[dict]:
    """A few items of each task as rows (task, context, options, answer) for a notebook table."""
    rows = []
    for name, items in tasks.items():
        for item in items[:n_examples]:
            rows.append({"task": name, "like": PAPER_ANALOGUE.get(name, ""), "context": item.context,
                         "options": " | ".join(o.strip() for o in item.options),
                         "answer": item.options[item.label].strip()})
    return rows


@dataclass
class _Story:
    """One task story: its plan, its sentences in the task tier, and its simple-tier sentences."""

    index: int
    plan: sw.StoryPlan
    tier: str
    sentences: list[str]
    simple_sentences: list[str]

    @classmethod
    def make(cls, index: int, seed: int, tier: str) -> "_Story":
        plan = sw.story_plan(index, seed)
        simple = sw.split_sentences(sw.realise(plan, "simple"))
        sentences = simple if tier == "simple" else sw.split_sentences(sw.realise(plan, tier))
        if len(sentences) != plan.n_sentences or len(simple) != plan.n_sentences:
            raise ConfigError(f"story {index} did not split into its {plan.n_sentences} sentences")
        return cls(index, plan, tier, sentences, simple)

    def rng(self, task: str) -> np.random.Generator:
        """A generator per (story, task), the same in both tiers."""
        return np.random.default_rng([self.plan.seed & 0xFFFFFFFF, self.index, TASKS.index(task)])

    def prefix(self, n: int) -> str:
        return " ".join(self.sentences[:n])

    def tell(self, beat: str, **changes) -> str:
        """One beat of this story told alone in the task tier, with plan fields changed."""
        return sw.realise(replace(self.plan, beats=(beat,), **changes), self.tier)

    @property
    def id(self) -> str:
        return f"storyworld seed={self.plan.seed} index={self.index} tier={self.tier}"


@dataclass(frozen=True)
class _Bank:
    """Values to build wrong answers from, collected from plans outside the task stories."""

    names: tuple[str, ...]
    feelings: dict  # outcome -> feelings at the end of such stories
    find_spots: dict  # place -> spots where lost things turn up (happy "find" stories)

    @classmethod
    def build(cls, seed: int, start: int) -> "_Bank":
        names, feelings, spots = set(), defaultdict(set), defaultdict(set)
        for index in range(start + _BANK_OFFSET, start + _BANK_OFFSET + _BANK_PLANS):
            plan = sw.story_plan(index, seed)
            names.update(n for n in (plan.hero, plan.friend) if n)
            feelings[plan.outcome].add(plan.feeling_end)
            if plan.goal == "find" and plan.outcome == "happy":
                spots[plan.place].add(plan.spot)
        as_tuples = lambda d: {k: tuple(sorted(v)) for k, v in d.items()}  # noqa: E731
        return cls(tuple(sorted(names)), as_tuples(feelings), as_tuples(spots))


def _choice(rng: np.random.Generator, options):
    """One of ``options`` (a sequence), drawn with ``rng``."""
    return options[int(rng.integers(len(options)))]


def _pair(good: str, bad: str, label: int) -> tuple[tuple[str, str], int]:
    """Options with the right one at position ``label``."""
    return ((good, bad) if label == 0 else (bad, good)), label


def _minimal_pair(story: _Story, k: int, task: str, edits) -> ChoiceTask | None:
    """A sentence of the story and its edited (ungrammatical) twin; ``edits(sentence, plan, direction)`` lists them."""
    direction = (k // 2) % 2
    candidates = [(s, bad) for s in story.sentences for bad in edits(s, story.plan, direction) if bad != s]
    if not candidates:
        return None
    good, bad = _choice(story.rng(task), candidates)
    options, label = _pair(good, bad, k % 2)
    return ChoiceTask("", options, label, task, (good,), story.id)


_SWAP_NUMBER = {"was": "were", "is": "are", "were": "was", "are": "is"}


def _subject_verb_edits(sentence: str, plan: sw.StoryPlan, direction: int) -> list[str]:
    """Direction 0: singular subject + ``was``/``is`` -> ``were``/``are``; 1: plural subject, the reverse."""
    if direction == 0:
        names = "".join("|" + re.escape(n) for n in (plan.hero, plan.friend) if n)
        pattern = re.compile(rf"\b(?:[Hh]e|[Ss]he{names}) (was|is)\b")
    elif plan.friend:
        pattern = re.compile(r"\b(?:[Tt]hey|" + re.escape(f"{plan.hero} and {plan.friend}") + r") (were|are)\b")
    else:
        pattern = re.compile(r"\b[Tt]hey (were|are)\b")
    return [sentence[: m.start(1)] + _SWAP_NUMBER[m.group(1)] + sentence[m.end(1):] for m in pattern.finditer(sentence)]


_ARTICLE = re.compile(r"\b([Aa]n?) (?=[a-z])")
_NUMERAL = re.compile(r"\b([Tt]wo|[Tt]hree|[Ff]our|[Ff]ive) (?=[a-z])")


def _determiner_noun_edits(sentence: str, plan: sw.StoryPlan, direction: int) -> list[str]:
    """Direction 0: ``a``/``an`` + singular -> ``two`` + singular; 1: ``two`` + plural -> ``a`` + plural."""
    if direction == 0:
        return [sentence[: m.start()] + ("Two " if m.group(1)[0] == "A" else "two ") + sentence[m.end():]
                for m in _ARTICLE.finditer(sentence)]
    edits = []
    for m in _NUMERAL.finditer(sentence):
        article = "an" if sentence[m.end()] in "aeiou" else "a"
        edits.append(sentence[: m.start()] + (article.capitalize() if m.group(1)[0].isupper() else article) + " "
                     + sentence[m.end():])
    return edits


_THE_NOUN = re.compile(r"\bthe ([a-z]+)\b")


def _word_order_edits(sentence: str, plan: sw.StoryPlan, direction: int) -> list[str]:
    """``the X`` -> ``X the`` (both directions alike: the same words in another order)."""
    return [sentence[: m.start()] + f"{m.group(1)} the" + sentence[m.end():] for m in _THE_NOUN.finditer(sentence)]


def _boolq(story: _Story, k: int, bank: _Bank) -> ChoiceTask | None:
    plan, rng, label = story.plan, story.rng("boolq_story"), k % 2
    simple_text = " ".join(story.simple_sentences)
    kinds = ["hero"] + (["friend"] if plan.friend else []) + (
        ["time"] if re.search(rf"\b{plan.time}\b", simple_text) else [])
    kind = _choice(rng, kinds)
    answer_yes = label == 0
    if kind == "time":
        others = _NIGHTTIME if plan.time in _DAYTIME else _DAYTIME
        time = plan.time if answer_yes else _choice(rng, others)
        question = f"Was it {_TIME_PHRASES.get(time, 'in the ' + time)}?"
    else:
        if answer_yes:
            name = plan.hero if kind == "hero" else plan.friend
        else:
            strangers = [n for n in bank.names if n not in (plan.hero, plan.friend) and n not in simple_text]
            name = _choice(rng, strangers)
        question = f"Is this story about {name}?" if kind == "hero" else f"Did {plan.hero} play with {name}?"
    context = f"{story.prefix(len(story.sentences))}\nQuestion: {question}\nAnswer:"
    sources = (story.prefix(len(story.sentences)), question)
    return ChoiceTask(context, (" yes", " no"), label, "boolq_story", sources, story.id)


def _sst2(story: _Story, k: int, bank: _Bank) -> ChoiceTask | None:
    plan, label = story.plan, k % 2
    wanted = "happy" if label == 0 else "sad"
    if plan.outcome != wanted:
        return None
    other = "sad" if wanted == "happy" else "happy"
    other_feeling = _choice(story.rng("sst2_ending"), bank.feelings[other])
    beat = next(b for b in plan.beats if b in ("outcome", "outcome_feeling"))
    # The outcome sentence with a feeling tail, told twice: the story's feeling, then the other outcome's.
    true_sentence = story.tell("outcome_feeling")
    false_sentence = story.tell("outcome_feeling", feeling_end=other_feeling)
    if true_sentence == false_sentence:
        return None
    happy, sad = (true_sentence, false_sentence) if wanted == "happy" else (false_sentence, true_sentence)
    context = story.prefix(plan.beats.index(beat))
    return ChoiceTask(context, (" " + happy, " " + sad), label, "sst2_ending", (context, happy, sad), story.id)


def _copa(story: _Story, k: int, bank: _Bank) -> ChoiceTask | None:
    plan = story.plan
    beat = next((b for b in plan.beats if b in ("outcome", "outcome_feeling")), None)
    if not plan.obstacle or beat is None or plan.beats.index("resolve") > plan.beats.index(beat):
        return None
    other = "sad" if plan.outcome == "happy" else "happy"
    rng = story.rng("copa_next_event")
    spot = plan.spot
    if plan.goal == "find":  # a lost thing turns up somewhere only in happy stories
        spots = bank.find_spots.get(plan.place, ())
        if other == "happy" and not spots:
            return None
        spot = _choice(rng, spots) if other == "happy" else ""
    other_feeling = _choice(rng, bank.feelings[other])
    good = story.tell(beat)
    bad = story.tell(beat, outcome=other, feeling_end=other_feeling, spot=spot, lesson="")
    options, label = _pair(" " + good, " " + bad, k % 2)
    context = story.prefix(plan.beats.index(beat))
    return ChoiceTask(context, options, label, "copa_next_event", (context, good, bad), story.id)


_MAKERS = {  # (story, k = items made so far, bank) -> item or None
    "blimp_subject_verb": lambda story, k, bank: _minimal_pair(story, k, "blimp_subject_verb", _subject_verb_edits),
    "blimp_determiner_noun":
        lambda story, k, bank: _minimal_pair(story, k, "blimp_determiner_noun", _determiner_noun_edits),
    "blimp_word_order": lambda story, k, bank: _minimal_pair(story, k, "blimp_word_order", _word_order_edits),
    "boolq_story": _boolq,
    "sst2_ending": _sst2,
    "copa_next_event": _copa,
}
