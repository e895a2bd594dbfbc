"""Inject labelled low-quality documents into a corpus, so quality filters have a ground truth.

Why: the data-quality papers (quality vs quantity, arXiv 2411.15821; data selection with Ask-LLM,
Density and perplexity filters, arXiv 2402.09668) ask what bad documents do to training and
whether a scorer can find them. Real web noise has no labels; here a known fraction of a clean
corpus is replaced by documents of known kinds, and a ``quality`` column says which is which:

- ``word_salad``: random words drawn from the corpus' own word frequencies, as long as the story
  it replaces;
- ``shuffled``: the replaced story with its sentences in a random order;
- ``boilerplate``: web page furniture (menus, "Click here to subscribe.", copyright lines), with
  repeated lines;
- ``truncated``: the first few words of the replaced story, cut off mid-sentence;
- ``off_topic``: list-like text from another domain: inventories, tables, number lists;
- ``keyword_list``: search-engine spam, one shop topic in a list of search phrases;
- ``repeated``: the replaced story's first sentence, over and over.

``inject_low_quality`` uses the first five unless told otherwise (``DEFAULT_KINDS``);
``make_low_quality`` makes one document of any kind from any clean text, which the Ask-LLM probe set
(``mini_lib.papers.data_selection.quality_probe``) uses for its adult prose.

The document count stays the same and every row keeps its ``id``: low-quality documents replace
randomly chosen rows. Metadata columns: ``shuffled`` and ``truncated`` rows keep the metadata of
the story they were made from (the plan still describes its source, but the text no longer tells
it in full), as do ``repeated`` rows; ``word_salad``, ``boilerplate``, ``off_topic`` and
``keyword_list`` rows have no story, so every column other than ``id`` and ``text`` is None there.
Filter on ``quality == "clean"`` before building tasks from metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import datasets
import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.corpora.storyworld import split_sentences

DEFAULT_KINDS: tuple[str, ...] = ("word_salad", "shuffled", "boilerplate", "truncated", "off_topic")
LOW_QUALITY_KINDS: tuple[str, ...] = DEFAULT_KINDS + ("keyword_list", "repeated")
CLEAN = "clean"
# Kinds made from the replaced story keep its metadata; the others have none.
DERIVED_KINDS = frozenset(("shuffled", "truncated", "repeated"))
KEPT_COLUMNS = ("id", "text")
_POOL_DOCS = 2000  # documents sampled to build the word-salad vocabulary


def inject_low_quality(
    ds: datasets.Dataset,
    fraction: float,
    seed: int = 0,
    kinds: Sequence[str] | Mapping[str, float] = DEFAULT_KINDS,
) -> datasets.Dataset:
    """Replace exactly ``round(fraction * len(ds))`` random rows by low-quality documents.

    ``kinds`` lists the kinds to use, spread as evenly as the count allows, or maps kinds to
    relative weights (``{"shuffled": 3, "word_salad": 1}``). Adds a ``quality`` column: "clean"
    for untouched rows, else the kind name. Deterministic for a given ``seed``.
    """
    fraction = check_fraction("fraction", fraction)
    weights = _kind_weights(kinds)
    if "text" not in ds.column_names:
        raise ConfigError(f"inject_low_quality needs a 'text' column; the dataset has {ds.column_names}")
    if "quality" in ds.column_names:
        raise ConfigError("the dataset already has a 'quality' column; inject noise into a clean corpus once")

    n = len(ds)
    n_low = round(fraction * n)
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, size=n_low, replace=False)
    labels = np.repeat(list(weights), _counts(n_low, list(weights.values()), rng))
    rng.shuffle(labels)

    columns = ds.to_dict()
    texts = columns["text"]
    pool = word_pool(texts, rng)
    quality = [CLEAN] * n
    for row, kind in zip(rows.tolist(), labels.tolist()):
        texts[row] = _MAKERS[kind](texts[row], rng, pool)
        quality[row] = kind
        if kind not in DERIVED_KINDS:
            for name in columns:
                if name not in KEPT_COLUMNS:
                    columns[name][row] = None
    columns["quality"] = quality
    features = datasets.Features({**ds.features, "quality": datasets.Value("string")})
    return datasets.Dataset.from_dict(columns, features=features)


def _kind_weights(kinds: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    """Validate ``kinds`` into {kind: weight}; a plain list gives every kind weight 1."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    pairs = kinds.items() if isinstance(kinds, Mapping) else ((kind, 1.0) for kind in kinds)
    weights: dict[str, float] = {}
    for kind, weight in pairs:
        choose("low-quality kind", kind, LOW_QUALITY_KINDS)
        if not weight >= 0:
            raise ConfigError(f"weight of low-quality kind {kind!r} must be >= 0, got {weight!r}")
        weights[kind] = weights.get(kind, 0.0) + float(weight)
    if not weights or sum(weights.values()) <= 0:
        raise ConfigError(f"kinds must name at least one low-quality kind with a positive weight; "
                          f"choose from: {', '.join(LOW_QUALITY_KINDS)}")
    return weights


def _counts(total: int, weights: list[float], rng: np.random.Generator) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder, ties broken at random)."""
    shares = np.asarray(weights) / sum(weights) * total
    counts = np.floor(shares).astype(int)
    remainder = shares - counts
    order = sorted(range(len(weights)), key=lambda i: (-remainder[i], rng.random()))
    for i in order[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def make_low_quality(kind: str, source: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """One low-quality document of ``kind`` made from the clean text ``source`` (the kinds that do
    not need a source ignore it); ``pool`` is a ``word_pool`` for word salad."""
    choose("low-quality kind", kind, LOW_QUALITY_KINDS)
    return _MAKERS[kind](source, rng, pool)


def word_pool(texts: list[str], rng: np.random.Generator) -> np.ndarray:
    """Words (with their corpus frequencies) from a sample of documents, for word salad."""
    sample = rng.choice(len(texts), size=min(len(texts), _POOL_DOCS), replace=False)
    words = [w.lower() for i in sample.tolist() for w in _WORD.findall(texts[i])]
    return np.array(words or ["word"])


_WORD = re.compile(r"[A-Za-z]+")


# --- the makers: (source text, rng, word pool) -> low-quality text ---------------------------------


def _word_salad(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """As many random corpus words as the source has, in sentence-like runs of 5-14 words."""
    n_words = max(8, len(_WORD.findall(text)))
    words = pool[rng.integers(0, len(pool), size=n_words)].tolist()
    sentences, start = [], 0
    while start < n_words:
        end = min(n_words, start + int(rng.integers(5, 15)))
        run = words[start:end]
        sentences.append(run[0].capitalize() + (" " + " ".join(run[1:]) if len(run) > 1 else "") + ".")
        start = end
    return " ".join(sentences)


def _shuffled(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """The source's sentences in a new order (its words, for a one-sentence source)."""
    parts = split_sentences(text)
    if len(set(parts)) < 2:
        parts = text.split()
    if len(set(parts)) < 2:
        return text
    order = rng.permutation(len(parts))
    shuffled = [parts[i] for i in order]
    if shuffled == parts:  # a permutation that changes nothing is no noise: rotate instead
        shuffled = parts[1:] + parts[:1]
    return " ".join(shuffled)


_MENUS = (
    "Home | About | Contact | Blog", "Home | Shop | Cart | Help", "Menu: News | Sports | Weather | Login",
    "Products | Pricing | Support | Sign in", "Home > Archive > 2019 > Page 3",
)
_LINES = (
    "Click here to subscribe.", "Sign up for our newsletter!", "Accept all cookies.",
    "This website uses cookies to improve your experience.", "Share this page: Facebook | Twitter | Email",
    "Follow us for daily updates.", "Privacy Policy | Terms of Use | Sitemap",
    "Read more...", "Back to top", "Log in to leave a comment.", "Page 1 of 12 | Next >",
    "Advertisement", "Loading...", "Free shipping on orders over $50.", "All rights reserved.",
)
_SITES = ("StoryHub", "KidsCorner Online", "Daily Reader", "FunPages Network", "BestTales Media")


def _boilerplate(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """Menu and footer lines of a web page, one of them repeated 2-4 times, then a copyright line."""
    lines = [_MENUS[int(rng.integers(len(_MENUS)))]]
    for k in range(int(rng.integers(4, 11))):
        line = _LINES[int(rng.integers(len(_LINES)))]
        lines.extend([line] * int(rng.integers(2 if k == 0 else 1, 5 if k == 0 else 3)))
    year = int(rng.integers(2005, 2025))
    lines.append(f"Copyright {year} {_SITES[int(rng.integers(len(_SITES)))]}. All rights reserved.")
    return "\n".join(lines)


def _truncated(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """The first 3-12 words of the source, always stopping mid-sentence."""
    words = text.split()
    keep = min(len(words), int(rng.integers(3, 13)))
    while keep > 1 and words[keep - 1][-1] in ".!?\"":  # never end on a sentence end
        keep -= 1
    return " ".join(words[:keep]).rstrip(",;:")


_ITEMS = (
    "AA batteries", "printer paper", "USB cable", "stapler", "paper clips", "light bulbs", "duct tape",
    "screws (4 mm)", "hinges", "garden hose", "extension cord", "shelf brackets", "wall plugs",
    "sandpaper", "paint roller", "toner cartridge", "HDMI adapter", "zip ties", "safety gloves",
)


def _off_topic(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """An inventory, a price table or a list of numbers: list-like text from another domain."""
    n = int(rng.integers(4, 10))
    items = [_ITEMS[i] for i in rng.choice(len(_ITEMS), size=n, replace=False).tolist()]
    form = int(rng.integers(3))
    if form == 0:
        rows = [f"{k + 1}. {item} x{int(rng.integers(1, 50))}" for k, item in enumerate(items)]
        return "Inventory list:\n" + "\n".join(rows)
    if form == 1:
        rows = [f"{item} | {int(rng.integers(1, 200))} | {rng.integers(50, 5000) / 100:.2f}" for item in items]
        return "Item | Qty | Price\n" + "\n".join(rows)
    numbers = ", ".join(str(int(x)) for x in rng.integers(0, 10000, size=n * 4))
    return f"Record {int(rng.integers(100, 999))}: {numbers}"


_KEYWORD_TOPICS = ("shoes", "bread", "boats", "garden tools", "paint", "fish", "chairs", "honey", "toys")
_KEYWORD_PATTERNS = ("cheap {x}", "best {x}", "{x} for sale", "buy {x} online", "{x} near me", "{x} 2021",
                     "{x} discount", "free {x}", "{x} deals", "top 10 {x}", "{x} price", "{x} shop")


def _keyword_list(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """Search-engine spam: one shop topic in 5-9 search phrases, comma-separated."""
    topic = _KEYWORD_TOPICS[int(rng.integers(len(_KEYWORD_TOPICS)))]
    picks = rng.choice(len(_KEYWORD_PATTERNS), size=int(rng.integers(5, 10)), replace=False).tolist()
    return ", ".join(_KEYWORD_PATTERNS[i].format(x=topic) for i in picks)


def _repeated(text: str, rng: np.random.Generator, pool: np.ndarray) -> str:
    """The source's first sentence 4-8 times in a row."""
    first = (split_sentences(text) or [text])[0]
    return " ".join([first] * int(rng.integers(4, 9)))


_MAKERS = {
    "word_salad": _word_salad,
    "shuffled": _shuffled,
    "boilerplate": _boilerplate,
    "truncated": _truncated,
    "off_topic": _off_topic,
    "keyword_list": _keyword_list,
    "repeated": _repeated,
}
