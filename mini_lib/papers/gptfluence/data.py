"""Fine-tuning tasks for training-dynamics collection: prompt -> target pairs, embedded or from the hub.

GPTfluence (arXiv 2404.07840) records how test metrics move while a Pythia model fine-tunes on
RTE, SST-2 and BoolQ (classification: the loss is on the label token) and WebNLG and WMT16 DE-EN
(generation: the loss is on the output tokens, plus BLEU and ROUGE-L of greedy outputs). Each task
is a pool of training examples (200 in the paper) and a set of test examples.

Offline, the tasks are written from storyworld plans, so every label is known by construction:
* ``boolq`` (BoolQ-like) reuses the zero-shot items of ``mini_lib.core.zero_shot_tasks``
  (``boolq_story``): prompt = the item's context (story and question), target = its correct
  option, `` yes`` or `` no``.
* ``sst2`` (SST-2-like) reuses the stories, labels and balancing of the zero-shot ``sst2_ending``
  items, in SST-2's classification format: the text is the story up to its outcome plus the outcome
  sentence as told (the item's correct option, ending in a feeling), and the label token says
  whether the ending is `` happy`` or `` sad`` (the zero-shot item's options differ only in that
  feeling word; as a fine-tuning target one label word per class makes flipped labels unambiguous).
* ``rte`` (RTE-like, new here): the opening sentences of a story, then a hypothesis about one fact
  (where the hero was, when, the weather, what the hero had, its colour) -- true for even items,
  the same sentence with another value for odd ones -- and `` True``/`` False``.
* ``webnlg`` (WebNLG-like, new here): the plan facts that the story's first sentence tells, as
  ``subject | relation | object`` triples, -> that sentence.
Classification items keep their options (``ChoiceTask``) so accuracy can be scored. With
``flip_fraction`` a seeded subset of training AND test examples gets the other option as target
(mislabelled data); ``flipped`` marks them and the choices keep the true label.

With a network, ``load_real_task`` converts the real datasets' rows (``convert_rows``, tested on
hand-written rows of their schemas) with lm-eval-harness style prompts.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.core.zero_shot_benchmarks import convert_rows as convert_choice_rows
from mini_lib.core.zero_shot_tasks import TASK_START, storyworld_tasks
from mini_lib.corpora import storyworld as sw
from mini_lib.corpora.loaders import hub_offline
from mini_lib.papers.gptfluence.gptdynamics import Example

KINDS = {"sst2": "classification", "rte": "classification", "boolq": "classification",
         "webnlg": "generation", "wmt16": "generation"}
EMBEDDED_TASKS = ("sst2", "rte", "boolq", "webnlg")
SOURCES = ("storyworld", "hub")
GENERATION_METRICS = ("bleu", "rougeL")
# Story indices of each embedded task (beyond any pre-training corpus, and apart from each other).
_TASK_STARTS = {name: TASK_START + 10_000_000 * (k + 1) for k, name in enumerate(EMBEDDED_TASKS)}
_BANK_PLANS = 2000  # plans the wrong values of RTE-like hypotheses are drawn from


@dataclass
class FineTuneTask:
    """A pool of training examples and the test examples whose metrics are recorded.

    Training ids are 0..n_pool-1, test ids follow. ``choices`` (classification) maps an example id
    to its options with the TRUE label; ``flipped`` holds the ids whose target is the wrong option.
    """

    name: str
    kind: str  # "classification" | "generation"
    train: list[Example]
    test: list[Example]
    choices: dict[int, ChoiceTask] = field(default_factory=dict)
    flipped: frozenset[int] = frozenset()
    source: str = "storyworld"

    def __post_init__(self) -> None:
        choose("task kind", self.kind, ("classification", "generation"))
        ids = [e.id for e in self.train + self.test]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"task {self.name}: example ids must be unique across training and test examples")

    @property
    def metrics(self) -> tuple[str, ...]:
        """What is recorded after every step: the loss, and BLEU / ROUGE-L for generation tasks."""
        return ("loss",) if self.kind == "classification" else ("loss", *GENERATION_METRICS)

    @property
    def train_ids(self) -> list[int]:
        return [e.id for e in self.train]

    @property
    def test_ids(self) -> list[int]:
        return [e.id for e in self.test]

    def test_choices(self) -> list[ChoiceTask]:
        """The test examples as choice items with their true labels (classification tasks)."""
        if self.kind != "classification":
            raise ConfigError(f"task {self.name} is a generation task: it has no options to score")
        return [self.choices[e.id] for e in self.test]

    def is_flipped(self, ids: Iterable[int]) -> np.ndarray:
        return np.array([i in self.flipped for i in ids], dtype=bool)


def make_task(
    name: str,
    n_pool: int = 200,
    n_test: int = 100,
    *,
    source: str = "storyworld",
    tier: str = "simple",
    flip_fraction: float = 0.0,
    max_sentences: int = 7,
    seed: int = 0,
) -> FineTuneTask:
    """Task ``name`` with ``n_pool`` training and ``n_test`` test examples (both even: balanced labels)."""
    choose("task", name, KINDS)
    choose("task source", source, SOURCES)
    check_fraction("flip_fraction", flip_fraction, allow_one=False)
    for what, n in (("n_pool", n_pool), ("n_test", n_test)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 2 or n % 2:
            raise ConfigError(f"{what} must be an even integer >= 2 (labels are balanced by construction), got {n!r}")
    if flip_fraction and KINDS[name] != "classification":
        raise ConfigError(f"flip_fraction needs a classification task (sst2, rte, boolq), got {name!r}")
    if source == "hub":
        pairs, choices = load_real_task(name, n_pool, n_test, seed=seed)
    else:
        if name not in EMBEDDED_TASKS:
            raise ConfigError(
                f"task {name!r} has no embedded storyworld version; embedded tasks: {', '.join(EMBEDDED_TASKS)} "
                f"(or source='hub' with a network)"
            )
        pairs, choices = _storyworld_pairs(name, n_pool + n_test, tier, seed, max_sentences)
    return _assemble(name, pairs, choices, n_pool, flip_fraction, seed, source)


def choice_to_pair(item: ChoiceTask, option: int | None = None) -> tuple[str, str, ChoiceTask]:
    """(prompt, target, item with the shared leading words moved into the context) for one option
    (default: the correct one). The target starts where the options first differ, at a word."""
    words = [re.findall(r"\s*\S+", o) for o in item.options]
    shared = 0
    while all(len(w) > shared + 1 for w in words) and len({w[shared] for w in words}) == 1:
        shared += 1
    prefix = "".join(words[0][:shared])
    options = tuple(o[len(prefix):] for o in item.options)
    moved = ChoiceTask(item.context + prefix, options, item.label, item.task, item.source_texts, item.id)
    chosen = item.label if option is None else option
    return moved.context, options[chosen], moved


def sst2_item(item: ChoiceTask) -> ChoiceTask:
    """A zero-shot ``sst2_ending`` item (options: the outcome sentence ending in a happy or a sad
    feeling; label 0 = happy) as an SST-2-style item: the story with its true ending -> happy / sad."""
    text = item.context + item.options[item.label]
    context = f"{text}\nQuestion: Is this ending happy or sad?\nAnswer:"
    return ChoiceTask(context, (" happy", " sad"), item.label, "sst2_like", (text,), item.id)


def rte_like(n: int, tier: str = "simple", seed: int = 0, start: int = _TASK_STARTS["rte"], max_premise: int = 4) -> list[ChoiceTask]:
    """``n`` RTE-like items (even items entailed, odd ones not): the story's first sentences up to the
    one telling a fact, and a hypothesis stating that fact or the same sentence with another value."""
    _check_even(n)
    choose("tier", tier, sw.TIERS)
    bank = _Values.build(seed, start)
    items: list[ChoiceTask] = []
    for index in itertools.count(start):
        if len(items) == n:
            return items
        if index - start > 50 * n + 1000:
            raise ConfigError(f"could not write {n} RTE-like items from storyworld plans")
        plan = sw.story_plan(index, seed)
        simple = sw.split_sentences(sw.realise(plan, "simple"))
        told = simple if tier == "simple" else sw.split_sentences(sw.realise(plan, tier))
        rng = np.random.default_rng([seed & 0xFFFFFFFF, index])
        facts = [f for f in _facts(plan, simple, max_premise) if f.wrong_values(bank, " ".join(simple))]
        if not facts:
            continue
        fact = facts[int(rng.integers(len(facts)))]
        true = len(items) % 2 == 0
        value = fact.value if true else _pick(rng, fact.wrong_values(bank, " ".join(simple)))
        premise = " ".join(told[: fact.sentence + 1])
        context = f"{premise}\nQuestion: {fact.hypothesis(value)} True or False?\nAnswer:"
        items.append(ChoiceTask(context, (" True", " False"), 0 if true else 1, "rte_like", (premise,),
                                f"storyworld seed={seed} index={index} tier={tier}"))
    raise AssertionError("unreachable")


def webnlg_like(n: int, tier: str = "simple", seed: int = 0, start: int = _TASK_STARTS["webnlg"], min_triples: int = 2) -> list[tuple[str, str]]:
    """``n`` WebNLG-like (triples, sentence) pairs: the facts a story's first sentence tells -> that sentence."""
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    choose("tier", tier, sw.TIERS)
    pairs: list[tuple[str, str]] = []
    for index in itertools.count(start):
        if len(pairs) == n:
            return pairs
        if index - start > 50 * n + 1000:
            raise ConfigError(f"could not write {n} WebNLG-like items from storyworld plans")
        plan = sw.story_plan(index, seed)
        first_simple = sw.split_sentences(sw.realise(plan, "simple"))[0]
        if not _mentions(first_simple, plan.hero):
            continue
        triples = [(plan.hero, relation, value) for relation, value in _hero_facts(plan) if _mentions(first_simple, value)]
        if len(triples) < min_triples:
            continue
        sentence = first_simple if tier == "simple" else sw.split_sentences(sw.realise(plan, tier))[0]
        pairs.append((triples_prompt(f"{s} | {r} | {o}" for s, r, o in triples), " " + sentence))
    raise AssertionError("unreachable")


def triples_prompt(triples: Iterable[str]) -> str:
    """The data-to-text prompt, for storyworld triples and WebNLG's ``s | p | o`` strings alike."""
    return f"Triples: {' ; '.join(t.strip() for t in triples)}\nSentence:"


# --- the real tasks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RealTask:
    """Where a real task lives on the hub: dataset, config, the splits used as pool and as test set."""

    hub_name: str
    config: str | None
    train_split: str
    test_split: str


REAL_TASKS = {
    "sst2": RealTask("nyu-mll/glue", "sst2", "train", "validation"),
    "rte": RealTask("nyu-mll/glue", "rte", "train", "validation"),
    "boolq": RealTask("aps/super_glue", "boolq", "train", "validation"),
    "webnlg": RealTask("GEM/web_nlg", "en", "train", "validation"),
    "wmt16": RealTask("wmt/wmt16", "de-en", "train", "validation"),
}
_READ_LIMIT = 20_000  # rows read from a hub split before sampling (WMT16's train split has 4.5M)


def convert_rows(name: str, rows: Iterable[dict]) -> tuple[list[tuple[str, str]], list[ChoiceTask | None]]:
    """Rows of real task ``name`` (dicts in the hub's schema) -> (prompt, target) pairs, plus the
    choice item of each classification row (None for generation rows).

    SST-2 and RTE use the harness prompts of ``zero_shot_benchmarks``; BoolQ the harness's
    ``{passage}\\nQuestion: {question}?\\nAnswer:`` -> `` no``/`` yes``; WebNLG (``GEM/web_nlg``:
    ``input``/``target``, or ``web_nlg``: ``modified_triple_sets``/``lex``) the triples prompt;
    WMT16 ``German: ...\\nEnglish:``."""
    choose("task", name, KINDS)
    rows = list(rows)
    try:
        if name in ("sst2", "rte"):
            items = convert_choice_rows(name, rows)
        elif name == "boolq":
            items = [_boolq_item(row) for row in rows]
        elif name == "webnlg":
            return [_webnlg_pair(row) for row in rows], [None] * len(rows)
        else:
            return [_wmt16_pair(row) for row in rows], [None] * len(rows)
    except KeyError as missing:
        raise ConfigError(f"{name} rows need the column {missing}; got columns {sorted(rows[0]) if rows else []}") from None
    pairs, moved = [], []
    for item in items:
        prompt, target, item = choice_to_pair(item)
        pairs.append((prompt, target))
        moved.append(item)
    return pairs, moved


def load_real_task(name: str, n_pool: int, n_test: int, *, seed: int = 0) -> tuple[list[tuple[str, str]], list[ChoiceTask | None]]:
    """Download a real task (network needed): ``n_pool`` training rows and ``n_test`` test rows, seeded."""
    choose("task", name, KINDS)
    spec = REAL_TASKS[name]
    if hub_offline():
        alternative = f"source='storyworld' (embedded {name}-like task)" if name in EMBEDDED_TASKS else \
            f"one of the embedded tasks {', '.join(EMBEDDED_TASKS)} with source='storyworld'"
        raise ConfigError(
            f"cannot load {name} ({spec.hub_name}, {spec.config}): the hub is offline here "
            f"(HF_HUB_OFFLINE/HF_DATASETS_OFFLINE, set by the smoke and cpu profiles). Use {alternative}."
        )
    import datasets

    out_pairs, out_choices = [], []
    for split, n in ((spec.train_split, n_pool), (spec.test_split, n_test)):
        rows = datasets.load_dataset(spec.hub_name, spec.config, split=f"{split}[:{_READ_LIMIT}]")
        if len(rows) < n:
            raise ConfigError(f"{name} {split} has {len(rows)} rows, fewer than the {n} asked for")
        chosen = np.random.default_rng(seed).choice(len(rows), size=n, replace=False)
        pairs, choices = convert_rows(name, [rows[int(i)] for i in sorted(chosen)])
        out_pairs += pairs
        out_choices += choices
    return out_pairs, out_choices


# --- helpers ------------------------------------------------------------------------------------


def _assemble(name: str, pairs, choices, n_pool: int, flip_fraction: float, seed: int, source: str) -> FineTuneTask:
    """Number the examples, flip a seeded subset of pool and test targets, keep the true choices."""
    rng = np.random.default_rng([seed, 7])
    n_test = len(pairs) - n_pool
    flipped = set(_flip_ids(range(n_pool), flip_fraction, rng)) | set(_flip_ids(range(n_pool, n_pool + n_test), flip_fraction, rng))
    examples, kept = [], {}
    for i, ((prompt, target), item) in enumerate(zip(pairs, choices)):
        if item is not None:
            kept[i] = item
            if i in flipped:
                target = item.options[1 - item.label] if len(item.options) == 2 else target
        examples.append(Example(i, prompt, target))
    return FineTuneTask(name, KINDS[name], examples[:n_pool], examples[n_pool:], kept, frozenset(flipped), source)


def _flip_ids(ids: range, fraction: float, rng: np.random.Generator) -> list[int]:
    n = int(round(fraction * len(ids)))
    return sorted(int(i) for i in rng.choice(np.asarray(ids), size=n, replace=False)) if n else []


def _storyworld_pairs(name: str, n: int, tier: str, seed: int, max_sentences: int):
    start = _TASK_STARTS[name]
    if name == "webnlg":
        return webnlg_like(n, tier, seed, start), [None] * n
    if name == "rte":
        items = rte_like(n, tier, seed, start)
    elif name == "boolq":
        items = storyworld_tasks(n, tier, seed, start=start, max_sentences=max_sentences, tasks=("boolq_story",))["boolq_story"]
    else:
        items = [sst2_item(i) for i in storyworld_tasks(n, tier, seed, start=start, max_sentences=max_sentences,
                                                         tasks=("sst2_ending",))["sst2_ending"]]
    pairs, moved = [], []
    for item in items:
        prompt, target, item = choice_to_pair(item)
        pairs.append((prompt, target))
        moved.append(item)
    return pairs, moved


def _check_even(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2 or n % 2:
        raise ConfigError(f"n must be an even integer >= 2 (labels are balanced), got {n!r}")


def _mentions(text: str, value: str) -> bool:
    return bool(value) and re.search(rf"\b{re.escape(value)}\b", text) is not None


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


_TIME_PHRASES = {"morning": "in the morning", "afternoon": "in the afternoon", "evening": "in the evening",
                 "day": "during the day", "night": "at night"}


@dataclass(frozen=True)
class _Values:
    """Values of each fact kind seen in other plans: the pool wrong hypotheses draw from."""

    by_kind: dict

    @classmethod
    def build(cls, seed: int, start: int) -> _Values:
        found: dict[str, set] = {k: set() for k in ("place", "time", "weather", "object", "colour")}
        for index in range(start + 5_000_000, start + 5_000_000 + _BANK_PLANS):
            plan = sw.story_plan(index, seed)
            found["place"].add(plan.place)
            found["time"].add(plan.time)
            found["weather"].add(plan.weather)
            if plan.object_count == 1:
                found["object"].add(plan.object)
            if plan.object_colour:
                found["colour"].add(plan.object_colour)
        return cls({k: tuple(sorted(v)) for k, v in found.items()})


@dataclass(frozen=True)
class _Fact:
    """One checkable fact of a story: its kind, true value and the first sentence that tells it."""

    kind: str
    value: str
    sentence: int
    hero: str
    obj: str

    def hypothesis(self, value: str) -> str:
        if self.kind == "place":
            return f"{self.hero} was at the {value}."
        if self.kind == "time":
            return f"It happened {_TIME_PHRASES[value]}."
        if self.kind == "weather":
            return f"It was {value}."
        if self.kind == "object":
            return f"{self.hero} had {'an' if value[0] in 'aeiou' else 'a'} {value}."
        return f"The {self.obj} was {value}."

    def wrong_values(self, bank: _Values, story: str) -> tuple[str, ...]:
        """Values of this kind the story never mentions (time: the opposite part of the day)."""
        if self.kind == "time":
            day = self.value in ("morning", "afternoon", "day")
            others = ("evening", "night") if day else ("morning", "afternoon")
            return tuple(v for v in others if not _mentions(story, v))
        return tuple(v for v in bank.by_kind[self.kind] if v != self.value and not _mentions(story, v))


def _facts(plan: sw.StoryPlan, sentences: list[str], max_premise: int) -> list[_Fact]:
    """The facts told within the first ``max_premise`` sentences of a story (simple-tier words)."""
    candidates = [("place", plan.place), ("time", plan.time), ("weather", plan.weather)]
    if plan.object_count == 1:
        candidates.append(("object", plan.object))
        if plan.object_colour:
            candidates.append(("colour", plan.object_colour))
    facts = []
    for kind, value in candidates:
        where = next((k for k, s in enumerate(sentences[:max_premise]) if _mentions(s, value)), None)
        if kind == "colour" and where is not None and not _mentions(sentences[where], plan.object):
            where = None  # the colour must be told of the object
        if where is not None and _mentions(" ".join(sentences[: where + 1]), plan.hero):
            facts.append(_Fact(kind, value, where, plan.hero, plan.object))
    return facts


def _hero_facts(plan: sw.StoryPlan) -> list[tuple[str, str]]:
    """(relation, value) facts about the hero that an opening sentence may tell, in a fixed order."""
    return [("is a", plan.hero_kind), ("character", plan.hero_trait), ("place", plan.place), ("time", plan.time),
            ("weather", plan.weather), ("feeling", plan.feeling_start), ("friend", plan.friend)]


def _boolq_item(row: dict) -> ChoiceTask:
    question = row["question"].strip().rstrip("?")
    label = int(row["label"]) if "label" in row else int(bool(row["answer"]))  # super_glue: label; google/boolq: answer
    if label < 0:
        raise ConfigError("boolq row without a label (label -1): use a split with answers")
    context = f"{row['passage']}\nQuestion: {question}?\nAnswer:"
    return ChoiceTask(context, (" no", " yes"), label, "boolq", (row["passage"], row["question"]))


def _webnlg_pair(row: dict) -> tuple[str, str]:
    if "input" in row:  # GEM/web_nlg
        triples, target = row["input"], row["target"]
    else:  # web_nlg (WebNLG challenge release)
        triples, target = row["modified_triple_sets"]["mtriple_set"][0], row["lex"]["text"][0]
    return triples_prompt(triples), " " + target.strip()


def _wmt16_pair(row: dict) -> tuple[str, str]:
    pair = row["translation"]
    return f"German: {pair['de'].strip()}\nEnglish:", " " + pair["en"].strip()
