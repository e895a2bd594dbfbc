"""Storyworld: the embedded, seeded corpus of short children's stories every notebook trains on.

Why it exists: the papers this package reproduces train small models on TinyStories-like text
(Eldan & Li 2023; arXiv 2411.15821, arXiv 2402.17759) or on child-vocabulary text (arXiv 2404.02204).
Notebooks must run offline and in minutes, so the package writes its own stories, and because
every story is realised from a *plan* kept as metadata, downstream tasks (yes/no questions,
ending sentiment, entailment, plan-to-text) and ground-truth knobs (vocabulary tier, duplication,
injected noise) come for free.

How a story is made, in two steps:

1. ``story_plan(index, seed)`` draws the facts of story ``index`` from its own random stream: a
   hero (name, kind, trait), a place, a time and weather, an object (colour, size, count), a goal,
   maybe a friend, a grown-up, an obstacle and a lesson, the feelings at the start and the end, a
   happy or sad outcome, and the *beats*: the ordered list of sentences to tell (opening, problem,
   obstacle, dialogue lines, outcome, ...). Plan ``i`` never depends on plans ``0..i-1``.
2. ``realise(plan, tier)`` turns each beat into one sentence from the templates in
   ``_storyworld_templates.py``, filled from the word banks in ``_storyworld_words.py``. Which
   template tells each beat is drawn from a second stream of the same (seed, index), so the
   ``simple`` tier (every word in the AO-CHILDES child vocabulary) and the ``rich`` tier (rarer
   synonyms, longer sentences, drawn from a third stream) tell the same story, sentence by sentence.

Randomness is Python's ``random.Random`` seeded with an integer built from (seed, index, stream),
using only ``random()``: fast to create per story and stable across Python versions.
"""

from __future__ import annotations

import itertools
import json
import numbers
import operator
import random
import re
from dataclasses import dataclass, fields

import datasets

from mini_lib.core.errors import ConfigError, choose
from mini_lib.corpora import _storyworld_templates as tpl
from mini_lib.corpora import _storyworld_words as words

TIERS: tuple[str, ...] = ("simple", "rich")
MAX_SENTENCES = 12


@dataclass(frozen=True)
class StoryPlan:
    """Everything a story says; ``realise`` turns it into text. Empty strings mean "not in this story"."""

    index: int
    seed: int
    hero: str
    hero_kind: str
    hero_pronoun: str  # "she" or "he"
    hero_trait: str
    friend: str
    friend_kind: str
    friend_pronoun: str
    parent: str  # the grown-up who reacts at the end ("Mommy", "Grandpa", ...)
    place: str
    time: str
    weather: str
    object: str
    object_colour: str
    object_size: str
    object_count: int
    goal: str  # find, fix, reach, make, give, share, carry
    spot: str  # where the object turns up (happy "find" stories) or is stuck ("reach" stories)
    obstacle: str
    feeling_start: str
    feeling_end: str
    outcome: str  # "happy" or "sad"
    lesson: str
    beats: tuple[str, ...]  # one sentence per beat, in story order

    @property
    def n_sentences(self) -> int:
        return len(self.beats)

    @property
    def recipient(self) -> str:
        """Who receives the gift in a "give" story: the grown-up if there is one, else the friend."""
        return (self.parent or self.friend) if self.goal == "give" else ""

    def facts(self) -> tuple:
        """The plan without its (index, seed) address: two stories with equal facts are the same story."""
        return tuple(getattr(self, name) for name in _FIELD_NAMES[2:])

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (beats as a list); ``StoryPlan.from_dict`` inverts it."""
        out = {name: getattr(self, name) for name in _FIELD_NAMES}
        out["beats"] = list(self.beats)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> StoryPlan:
        """Rebuild a plan from ``to_dict()`` output, e.g. ``json.loads`` of the ``plan`` column."""
        return cls(**{**data, "beats": tuple(data["beats"])})


_FIELD_NAMES = tuple(f.name for f in fields(StoryPlan))


# --- planning ---------------------------------------------------------------------------------


def story_plan(index: int, seed: int = 0) -> StoryPlan:
    """The plan of story ``index`` for ``seed``: deterministic, and independent of every other index."""
    index, seed = _check_address(index, seed)
    rng = _rng(seed, index, _PLAN_STREAM)
    r = rng.random

    # Fullness in [0, 1) scales every optional part: low gives 3-5 sentence stories, high 10-12.
    more = _Fullness(r)

    if r() < 0.5:  # half the heroes are children, half are animals
        hero_kind = "girl" if r() < 0.5 else "boy"
        pronoun = "she" if hero_kind == "girl" else "he"
    else:
        hero_kind = _pick(r, _ANIMAL_KINDS)
        pronoun = "she" if r() < 0.5 else "he"
    hero = _pick_name(r, hero_kind, pronoun, avoid="")
    trait = _pick(r, _TRAITS)

    place = _pick(r, _PLACES)
    indoor = words.PLACES[place][1]
    time = _pick(r, words.TIMES)
    weather = _pick(r, _NIGHT_WEATHERS if time == "night" else _WEATHERS)

    goal = _pick(r, _GOALS)
    obj = _pick(r, _OBJECTS_FOR_GOAL[goal])
    food = words.OBJECTS[obj][0] == "food"  # food comes in sizes, not in colours
    colour = _pick(r, _COLOURS) if not food and r() < 0.75 else ""
    size = _pick(r, _FOOD_SIZES if food else _SIZES) if r() < 0.5 else ""
    count = 1 if r() < 0.75 else _pick(r, _COUNTS)
    outcome = "happy" if r() < 0.5 else "sad"
    spot = ""  # where a lost thing is found (so only in happy "find" stories), or a stuck thing sits
    if goal == "find" and outcome == "happy":
        spot = _pick(r, _SPOT_TEXTS[indoor])
    elif goal == "reach":
        spot = _pick(r, _HIGH_SPOT_TEXTS[indoor])
    has_friend = goal == "share" or more(0.5)
    friend = friend_kind = friend_pronoun = ""
    if has_friend:
        if r() < 0.5:
            friend_kind = "girl" if r() < 0.5 else "boy"
            friend_pronoun = "she" if friend_kind == "girl" else "he"
        else:
            friend_kind = _pick(r, _ANIMAL_KINDS)
            friend_pronoun = "she" if r() < 0.5 else "he"
        friend = _pick_name(r, friend_kind, friend_pronoun, avoid=hero)
    needs_parent = goal == "give" and not has_friend  # a gift needs someone to receive it
    parent = _pick(r, _PARENTS) if needs_parent or more(0.35) else ""
    obstacle = _pick(r, _OBSTACLES[indoor]) if more(0.55) else ""

    feeling_start = _pick(r, _FEELINGS_START)
    feeling_end = _pick(r, _FEELINGS_END[outcome])
    lessons = _LESSONS[outcome, has_friend, bool(obstacle), goal in ("give", "share")]
    lesson = _pick(r, lessons) if more(0.3) else ""

    # In a "share" story the friend is named by the problem, so the friend arrives first.
    friend_early = goal == "share" or (has_friend and r() < 0.4)
    beats = _plan_beats(r, more, goal, has_friend, friend_early, bool(parent), bool(obstacle), bool(lesson))
    return StoryPlan(
        index=index, seed=seed, hero=hero, hero_kind=hero_kind, hero_pronoun=pronoun,
        hero_trait=trait, friend=friend, friend_kind=friend_kind, friend_pronoun=friend_pronoun,
        parent=parent, place=place, time=time, weather=weather, object=obj, object_colour=colour,
        object_size=size, object_count=count, goal=goal, spot=spot, obstacle=obstacle,
        feeling_start=feeling_start, feeling_end=feeling_end, outcome=outcome, lesson=lesson,
        beats=beats,
    )


class _Fullness:
    """``more(p)``: true with probability ``p * (0.1 + 1.2 * fullness)``, one fullness per story."""

    def __init__(self, r):
        self.r = r
        self.fullness = r()
        self.scale = 0.1 + 1.2 * self.fullness

    def __call__(self, p: float) -> bool:
        return self.r() < p * self.scale


# Ways to open a story (who, where and when, and how the hero feels), shortest first; a name
# ending in "_feeling" is one sentence that also says the feeling.
_OPENINGS = (
    ("opening_feeling",),
    ("intro_setting", "feeling_start"),
    ("intro", "setting_feeling"),
    ("intro", "setting", "feeling_start"),
    ("intro", "feeling_start", "setting"),
)
# Beats dropped first, in this order, when a story would exceed MAX_SENTENCES.
_TRIM_ORDER = ("closing", "scene", "say_obstacle", "want", "try", "say_goal", "friend_offer", "say_end")


def _plan_beats(r, more, goal: str, friend: bool, friend_early: bool, parent: bool, obstacle: bool,
                lesson: bool) -> tuple[str, ...]:
    """The story arc: opening, problem, (friend), (obstacle), outcome, feelings, (lesson); varied order.

    ``more(p)`` is true with probability ``p`` scaled by the story's fullness (see ``story_plan``).
    """
    beats = list(_OPENINGS[int(len(_OPENINGS) * (r() + more.fullness) / 2)])  # fuller: longer opening
    if more(0.25):
        beats.append("scene")
    if friend_early:
        beats.append("friend_arrive")
    beats.append("problem")
    middle = [beat for beat in ("want", "say_goal") if more(0.4)]
    if r() < 0.5:
        middle.reverse()
    beats += middle
    if friend:
        if not friend_early:
            beats.append("friend_arrive")
        if more(0.45) and goal != "share":  # in a share story the friend is the one who wants
            beats.append("friend_offer")
    has_try, try_first = more(0.45), r() < 0.5
    if has_try and try_first:
        beats.append("try")
    if obstacle:
        beats.append("obstacle")
        if more(0.3):
            beats.append("say_obstacle")
        beats.append("resolve")  # an obstacle is always met: overcome (happy) or not (sad)
    if has_try and not try_first:
        beats.append("try")

    ending = ["outcome", "feeling_end"] if more(0.75) else ["outcome_feeling"]
    if more(0.4):
        ending.insert(1 if r() < 0.5 else len(ending), "say_end")
    if parent:
        ending.append("parent")
    coda = [beat for beat, present in (("lesson", lesson), ("closing", more(0.2))) if present]
    if r() < 0.5:
        coda.reverse()
    beats += ending + coda

    for optional in _TRIM_ORDER:
        if len(beats) <= MAX_SENTENCES:
            break
        if optional in beats:
            beats.remove(optional)
    return tuple(beats)


def _pick_name(r, kind: str, pronoun: str, avoid: str) -> str:
    """A first name fitting the kind (children) or pronoun (animals, sometimes a pet name)."""
    if kind in words.PEOPLE_KINDS:
        names = words.GIRL_NAMES if kind == "girl" else words.BOY_NAMES
    elif r() < 0.4:
        names = words.PET_NAMES
    else:
        names = words.GIRL_NAMES if pronoun == "she" else words.BOY_NAMES
    name = _pick(r, names)
    while name == avoid:
        name = _pick(r, names)
    return name


# --- realisation --------------------------------------------------------------------------------


def realise(plan: StoryPlan, tier: str = "simple") -> str:
    """Tell ``plan`` as plain English: one sentence per beat, in the vocabulary of ``tier``.

    Both tiers draw each beat's template from the same stream, so sentence ``k`` of the simple and
    the rich story say the same thing; the rich tier then draws its synonyms and extra clauses
    from a stream of its own.
    """
    choose("tier", tier, TIERS)
    rich = tier == "rich"
    style = _rng(plan.seed, plan.index, _STYLE_STREAM).random  # template choices, shared by tiers
    lex = _rng(plan.seed, plan.index, _RICH_STREAM).random if rich else None  # rich synonyms
    slots = _slots(plan, style, lex)
    eligible = _ELIGIBLE[_missing_slots(plan)]

    sentences = []
    for beat in plan.beats:
        key, tail = _beat_key(beat, plan)
        template = _pick(style, eligible[key])
        sentence = _fill(template, slots, lex)
        if tail:  # a merged beat: drop the full stop and add the feeling clause
            sentence = sentence[:-1] + _fill(_pick(style, eligible[tail]), slots, lex)
        if template.lower_start:
            sentence = _capitalise(sentence)
        sentences.append(sentence)
    return _fix_articles(" ".join(sentences))


def _beat_key(beat: str, plan: StoryPlan) -> tuple[str, str]:
    """The template table key for a beat (refined by goal, obstacle, outcome), and its tail key."""
    if beat in _GOAL_BEATS:
        return f"{beat}:{plan.goal}", ""
    if beat == "outcome":
        return f"outcome:{plan.goal}:{plan.outcome}", ""
    if beat == "outcome_feeling":
        return f"outcome:{plan.goal}:{plan.outcome}", "end_tail"
    if beat == "opening_feeling":
        return "intro_setting", "start_tail"
    if beat == "setting_feeling":
        return "setting", "start_tail"
    if beat == "obstacle":
        return f"obstacle:{plan.obstacle}", ""
    if beat == "resolve":
        return f"resolve:{plan.obstacle}:{plan.outcome}", ""
    if beat == "lesson":
        return f"lesson:{plan.lesson}", ""
    if beat in _OUTCOME_BEATS:
        return f"{beat}:{plan.outcome}", ""
    return beat, ""


_GOAL_BEATS = frozenset(("problem", "want", "say_goal", "try"))
_OUTCOME_BEATS = frozenset(("feeling_end", "say_end", "parent", "closing"))


def _slots(plan: StoryPlan, style, lex) -> dict[str, str]:
    """The values templates refer to, in the plan's tier (``lex`` given: rich words)."""
    def word(simple: str, bank: dict) -> str:
        return _pick(lex, bank[simple]) if lex and simple else simple

    he, him, his, himself = _PRONOUNS[plan.hero_pronoun]
    slots = {
        "Hero": plan.hero, "he": he, "him": him, "his": his, "himself": himself,
        "kind": word(plan.hero_kind, _KIND_WORDS), "trait": word(plan.hero_trait, words.TRAITS),
        "time": plan.time, "weather": word(plan.weather, words.WEATHERS),
        "feeling_start": word(plan.feeling_start, words.FEELINGS_START),
        "feeling_end": word(plan.feeling_end, _FEELING_END_WORDS),
        "Parent": word(plan.parent, words.PARENTS), "phe": words.PARENT_PRONOUNS.get(plan.parent, ""),
    }
    prep = words.PLACES[plan.place][0]
    place = _pick(lex, words.PLACES[plan.place][2]) if lex else plan.place
    slots["animal"] = "" if plan.hero_kind in words.PEOPLE_KINDS else slots["kind"]
    slots.update(the_place="the " + place, at_place=f"{prep} the {place}")

    noun = _pick(lex, words.OBJECTS[plan.object][1]) if lex else plan.object
    plural = plan.object_count > 1
    obj = _plural(noun) if plural else noun
    adjectives = (word(plan.object_size, words.SIZES), word(plan.object_colour, words.COLOURS))
    described = " ".join(w for w in (*adjectives, obj) if w)
    if plural:
        described = f"{words.NUMBERS[plan.object_count]} {described}"
    slots.update(obj=obj, obj_np=described, a_obj=described if plural else "a " + described)
    slots.update(_PLURAL_WORDS if plural else _SINGULAR_WORDS)

    if plan.friend:
        fhe, _, fhis, _ = _PRONOUNS[plan.friend_pronoun]
        pal = _pick(lex, words.LEXICON["friend"]) if lex else "friend"
        friend_np = f"{his} {pal} {plan.friend}"
        if plan.friend_kind not in words.PEOPLE_KINDS:
            friend_np += " the " + word(plan.friend_kind, _KIND_WORDS)
        slots.update(Friend=plan.friend, friend_np=friend_np, fhe=fhe, fhis=fhis,
                     Team=f"{plan.hero} and {plan.friend}", team="they", team_was="were", team_them="them")
    else:  # "{Team}" is the hero alone
        slots.update(Friend="", friend_np="", fhe="", fhis="", Team=plan.hero, team=he, team_was="was", team_them=him)
    slots["recipient"] = (slots["Parent"] or plan.friend) if plan.goal == "give" else ""
    if plan.spot:  # a phrase with its own rich wording, e.g. "under a bush" / "beneath a shrub"
        slots["spot"] = _fill(_PHRASES[plan.spot], slots, lex)
    if "scene" in plan.beats:
        slots["scene"] = _fill(_pick(style, _SCENES[plan.weather]), slots, lex)
    return slots


def _missing_slots(plan: StoryPlan) -> frozenset[str]:
    """Slots this story leaves empty: templates that use them are never chosen for it."""
    animal, friend, parent = _OPTIONAL_GROUPS
    missing = ()
    if plan.hero_kind in words.PEOPLE_KINDS:  # "{Hero} the {animal}" reads well for animals only
        missing += animal
    if not plan.friend:
        missing += friend
    if not plan.parent:
        missing += parent
    return frozenset(missing)


# --- templates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    """One template compiled for both tiers: a format string (simple) and pieces to join (rich)."""

    simple: str
    rich: tuple  # str pieces, and tuples of options one of which is picked per rendering
    slots: frozenset[str]
    lower_start: bool  # opens with a slot such as {he}: capitalise after filling


_SYNTAX = re.compile(r"\[([^\]]*)\]|<([^>]*)>|\{(\w+)\}|([A-Za-z]+)|([^\[<{A-Za-z]+)")


def _compile(text: str, lexicon: bool = True) -> _Template:
    """Parse the template syntax documented in ``_storyworld_templates.py``."""
    simple, rich = [], []
    for rich_only, alternatives, slot, word, other in _SYNTAX.findall(text):
        if rich_only:
            rich.append(tuple(rich_only.split("|")))
        elif alternatives:
            first, *rest = alternatives.split("|")
            simple.append(first)
            rich.append(tuple(rest))
        elif slot:
            simple.append("{" + slot + "}")
            rich.append("{" + slot + "}")
        elif word:
            simple.append(word)
            synonyms = words.LEXICON.get(word.lower()) if lexicon else None
            if synonyms and word[0].isupper():
                synonyms = tuple(s[0].upper() + s[1:] for s in synonyms)
            rich.append(synonyms or word)
        else:
            simple.append(other)
            rich.append(other)
    merged: list = []
    for piece in rich:  # join neighbouring plain strings so rendering touches fewer pieces
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    lower_start = re.match(r'"?\{[a-z]', text) is not None
    return _Template("".join(simple), tuple(merged), frozenset(re.findall(r"\{(\w+)\}", text)), lower_start)


def _fill(template: _Template, slots: dict[str, str], lex) -> str:
    """Render one compiled template; ``lex`` (a ``random`` method) selects the rich tier."""
    if lex is None:
        return template.simple.format_map(slots)
    parts = [p if p.__class__ is str else p[int(lex() * len(p))] for p in template.rich]
    return "".join(parts).format_map(slots)


_VARIANTS = re.compile(r"\(([^()]*)\)")


def _expand(text: str) -> list[str]:
    """One template per combination of ``(a|b)`` variants."""
    found = _VARIANTS.search(text)
    if not found:
        return [text]
    head, tail = text[:found.start()], text[found.end():]
    return [full for option in found.group(1).split("|") for full in _expand(head + option + tail)]


_TEMPLATES = {key: tuple(_compile(v) for t in texts for v in _expand(t)) for key, texts in tpl.TEMPLATES.items()}
# Phrases that fill a slot carry their own rich wording (<simple|rich>), so no lexicon swaps.
_PHRASES = {_compile(p, lexicon=False).simple: _compile(p, lexicon=False) for p in
            [s for spots in (*words.SPOTS.values(), *words.HIGH_SPOTS.values()) for s in spots]}
_SPOT_TEXTS = {indoor: tuple(_compile(s).simple for s in spots) for indoor, spots in words.SPOTS.items()}
_HIGH_SPOT_TEXTS = {indoor: tuple(_compile(s).simple for s in spots) for indoor, spots in words.HIGH_SPOTS.items()}
_SCENES = {weather: tuple(_compile(s, lexicon=False) for s in scenes) for weather, scenes in words.SCENES.items()}


def _eligible(missing: frozenset[str]) -> dict[str, tuple[_Template, ...]]:
    """For each template key, the templates that use no slot a story leaves empty.

    A key may end up empty (``parent:*`` without a grown-up): planning never asks for it then.
    """
    return {key: tuple(t for t in ts if missing.isdisjoint(t.slots)) for key, ts in _TEMPLATES.items()}


# One table per combination of optional slots a story can leave empty (see _missing_slots).
_OPTIONAL_GROUPS = (("animal",), ("Friend", "friend_np", "fhe", "fhis"), ("Parent", "phe"))
_ELIGIBLE = {
    missing: _eligible(missing)
    for missing in (frozenset(slot for group, off in zip(_OPTIONAL_GROUPS, flags) if off for slot in group)
                    for flags in itertools.product((False, True), repeat=len(_OPTIONAL_GROUPS)))
}


def _capitalise(sentence: str) -> str:
    """Upper-case the first letter, also when the sentence opens with a quote."""
    if sentence[0] == '"':
        return '"' + sentence[1].upper() + sentence[2:]
    return sentence[0].upper() + sentence[1:]


def _fix_articles(text: str) -> str:
    """"a" before a vowel becomes "an", once slots and synonyms are in place.

    Templates write "a {slot}" and never "an" before a slot or a swappable word, and the banks
    hold no word like "unicorn" or "hour" whose sound defies its first letter, so plain string
    replacement is enough (and much faster than a regular expression).
    """
    for vowel in "aeiou":
        text = text.replace(" a " + vowel, " an " + vowel).replace(" A " + vowel, " An " + vowel)
    if text[:2] == "A " and text[2] in "aeiou":
        text = "An " + text[2:]
    return text


def _plural(noun: str) -> str:
    head, _, last = noun.rpartition(" ")
    if last in words.IRREGULAR_PLURALS:
        last = words.IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


# --- the corpus ---------------------------------------------------------------------------------

_COLUMNS = ("id", "text", "hero", "hero_kind", "friend", "place", "object", "goal", "obstacle",
            "feeling_start", "feeling_end", "outcome", "n_sentences", "plan")
FEATURES = datasets.Features({
    name: datasets.Value("int64" if name in ("id", "n_sentences") else "string") for name in _COLUMNS
})


def generate_stories(n: int, seed: int = 0, tier: str = "simple", start: int = 0) -> datasets.Dataset:
    """Stories ``start .. start+n-1`` of ``seed`` as a Dataset: id, text, plan metadata, and the plan as JSON."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ConfigError(f"n must be a positive integer number of stories, got {n!r}")
    choose("tier", tier, TIERS)
    if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
        raise ConfigError(f"start must be a non-negative integer story index, got {start!r}")
    n, start = int(n), int(start)
    columns: dict[str, list] = {name: [] for name in _COLUMNS}
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for index in range(start, start + n):
        plan = story_plan(index, seed)
        columns["id"].append(index)
        columns["text"].append(realise(plan, tier))
        for name in _COLUMNS[2:-2]:
            columns[name].append(getattr(plan, name))
        columns["n_sentences"].append(len(plan.beats))
        columns["plan"].append(dumps(plan.to_dict()))
    # No features= here: encoding them row by row costs more than writing the stories; the
    # inferred types are exactly FEATURES (strings and int64), which the tests check.
    return datasets.Dataset.from_dict(columns)


_SENTENCE_BREAK = re.compile(r'(?<=[.!?])\s+(?=["A-Z])|(?<=[.!?]")\s+(?=["A-Z])')


def split_sentences(text: str) -> list[str]:
    """Sentences of a story: a break follows ``.``, ``!`` or ``?`` (and a closing quote) before a capital or quote.

    Speech tags after a quote start in lower case (``"Oh no!" cried Lily.``), so a story splits
    into exactly ``n_sentences`` pieces; the noise module uses this to shuffle sentences.
    """
    return [s for s in _SENTENCE_BREAK.split(text.strip()) if s]


def simple_vocabulary() -> frozenset[str]:
    """Every word (lower case, split on non-letters) the simple tier can print."""
    texts = [t.simple for ts in _TEMPLATES.values() for t in ts]
    texts += [t.simple for ts in _SCENES.values() for t in ts] + list(_PHRASES)
    texts += [*words.GIRL_NAMES, *words.BOY_NAMES, *words.PET_NAMES, *words.HERO_KINDS, *words.TRAITS,
              *words.PARENTS, *words.PLACES, *words.TIMES, *words.WEATHERS, *words.COLOURS, *words.SIZES,
              *words.NUMBERS.values(), *words.FEELINGS_START, *_FEELING_END_WORDS, "friend", "the"]
    texts += [prep for prep, _, _ in words.PLACES.values()]
    texts += [" ".join(p) for p in _PRONOUNS.values()] + [*_SINGULAR_WORDS.values(), *_PLURAL_WORDS.values()]
    texts += ["they were was them", "a an"]  # the {team} slots, and articles fixed after filling
    texts += [f"{o} {_plural(o)}" for o in words.OBJECTS]
    found = set()
    for text in texts:
        found.update(w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", " ", text)))
    return frozenset(found)


# --- randomness and banks as tuples (built once) -------------------------------------------------

_PLAN_STREAM, _STYLE_STREAM, _RICH_STREAM = 0, 1, 2
_MASK64 = (1 << 64) - 1


def _check_address(index: int, seed: int) -> tuple[int, int]:
    """(index, seed) as Python ints (numpy integers welcome), or a ConfigError."""
    try:
        index, seed = operator.index(index), operator.index(seed)
    except TypeError:
        raise ConfigError(f"index and seed must be integers, got {index!r} and {seed!r}") from None
    if not 0 <= index < 1 << 64:
        raise ConfigError(f"index must be an integer in [0, 2**64), got {index!r}")
    return index, seed


def _rng(seed: int, index: int, stream: int) -> random.Random:
    """An independent generator per (seed, index, stream): story i never depends on story i-1.

    A negative seed wraps to its 64-bit two's complement, so every integer seed is valid.
    """
    return random.Random(((seed & _MASK64) << 66) | (index << 2) | stream)


def _pick(r, options):
    """One of ``options``, chosen with ``r`` (a ``random.random`` method)."""
    return options[int(r() * len(options))]


_PRONOUNS = {"she": ("she", "her", "her", "herself"), "he": ("he", "him", "his", "himself")}
_SINGULAR_WORDS = {"it": "it", "it_subj": "it", "obj_was": "was", "obj_is": "is"}
_PLURAL_WORDS = {"it": "them", "it_subj": "they", "obj_was": "were", "obj_is": "are"}
_ANIMAL_KINDS = tuple(words.ANIMAL_KINDS)
_KIND_WORDS = {**words.PEOPLE_KINDS, **words.ANIMAL_KINDS}
_TRAITS = tuple(words.TRAITS)
_PLACES = tuple(words.PLACES)
_WEATHERS = tuple(words.WEATHERS)
_NIGHT_WEATHERS = tuple(w for w in words.WEATHERS if w not in ("sunny", "hot"))  # no sun at night
_GOALS = tuple(words.GOALS)
_OBJECTS_FOR_GOAL = {
    goal: tuple(o for o, (category, _) in words.OBJECTS.items()
                if category in categories or o in words.GOAL_EXTRAS.get(goal, ()))
    for goal, categories in words.GOALS.items()
}
_COLOURS = tuple(words.COLOURS)
_SIZES = tuple(words.SIZES)
_FOOD_SIZES = ("big", "little", "huge", "tiny")
_COUNTS = tuple(words.NUMBERS)
_PARENTS = tuple(words.PARENTS)
_OBSTACLES = {indoor: tuple(o for o, where in words.OBSTACLES.items() if where in ("any", "in" if indoor else "out"))
              for indoor in (False, True)}
_FEELINGS_START = tuple(words.FEELINGS_START)
_LESSONS = {  # lessons that fit (outcome, has friend, has obstacle, a giving goal)
    (outcome, friend, obstacle, giving): tuple(
        name for name, (fits, needs_friend) in words.LESSONS.items()
        if fits == outcome and (friend or not needs_friend)
        and (name != "be_brave" or obstacle) and (name != "sharing_is_good" or giving))
    for outcome in ("happy", "sad")
    for friend, obstacle, giving in itertools.product((False, True), repeat=3)
}
_FEELINGS_END = {outcome: tuple(bank) for outcome, bank in words.FEELINGS_END.items()}
_FEELING_END_WORDS = {**words.FEELINGS_END["happy"], **words.FEELINGS_END["sad"]}
