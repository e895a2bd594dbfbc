"""Where a restricted vocabulary comes from, for the simplified-vocabulary paper (arXiv 2404.02204).

The paper restricts its training text to the AO-CHILDES child-directed vocabulary (21,037 words,
``../shared/data/aochildes_vocab.csv``). That list is research data under a non-commercial licence,
so the package reads it from a path and never ships it. Three sources, one result (a frozenset of
lower-case words, the form the span filter looks up); ``data.default_vocabulary`` picks one:

* ``load_word_list``: a word list on disk (the paper's csv, or a txt with one word per line);
* ``vocabulary_from_corpus``: the top-k most frequent words of some texts (split into words exactly
  as the filter does), to build a vocabulary tier from any corpus;
* ``builtin_vocabulary``: a ~2,150-word basic child vocabulary that ships with the package, and covers
  every word storyworld's simple tier can print (so notebook 02 reads the same without the paper's list).

``simplify`` applies the paper's vocabulary to its zero-shot tasks (``core.zero_shot_benchmarks``).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass
from pathlib import Path

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import require_file
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.corpora.storyworld import simple_vocabulary
from mini_lib.papers.simplified_vocab.span_filter import is_fully_in_vocabulary, words

BUILTIN_WORDS = Path(__file__).parent / "data" / "basic_words.txt"


def load_word_list(path: "str | Path") -> frozenset[str]:
    """Lower-cased words from a csv with a ``word`` column or a txt with one word per line.

    In a txt, blank lines and lines starting with ``#`` are skipped. The csv is read as text
    (no type guessing), so words such as ``null``, ``nan`` or ``true`` stay words.
    """
    path = require_file(path, "word list")
    with open(path, encoding="utf-8", newline="") as f:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(f)
            if "word" not in (reader.fieldnames or []):
                raise ConfigError(
                    f"word list {path} has no 'word' column; columns found: {reader.fieldnames}"
                )
            found = (row["word"] for row in reader)
        else:
            found = (line for line in f if not line.startswith("#"))
        return frozenset(w.strip().lower() for w in found if w and w.strip())


def vocabulary_from_corpus(texts: Iterable[str], top_k: int) -> frozenset[str]:
    """The ``top_k`` most frequent words of ``texts`` (ties broken by first appearance)."""
    if not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"top_k must be a positive integer, got {top_k!r}")
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words(text))
    if not counts:
        raise ConfigError("vocabulary_from_corpus got no words: the texts are empty")
    return frozenset(w for w, _ in counts.most_common(top_k))


def builtin_vocabulary() -> frozenset[str]:
    """The package's basic child vocabulary: ``data/basic_words.txt`` plus storyworld's simple tier.

    Source: written for this project (licence Apache-2.0, the project's): everyday words a young
    child hears, with verb/noun inflections and apostrophe-free contractions, restricted to words
    that also appear in the AO-CHILDES list so results stay comparable with the paper's vocabulary.
    The simple tier's words (``storyworld.simple_vocabulary()``, names included, about 160 beyond
    the file) are AO-CHILDES words too; adding them keeps the built-in list true to its promise that
    the simple tier is child language, while the rich tier's rarer synonyms stay outside it.
    """
    return load_word_list(BUILTIN_WORDS) | simple_vocabulary()


@dataclass(frozen=True)
class SimplifiedTasks:
    """What the paper's filter kept of a task."""

    kept: list[ChoiceTask]
    n_before: int

    @property
    def kept_fraction(self) -> float:
        return len(self.kept) / self.n_before if self.n_before else 0.0


def simplify(tasks: Iterable[ChoiceTask], vocabulary: Set[str]) -> SimplifiedTasks:
    """Keep the items whose every source text has 0% OOV words (capitalised non-initial words ignored): the
    paper's simplification of its zero-shot tasks, checked on the dataset's own sentences, not on prompt words
    such as "Question:" or "positive", which would otherwise remove whole benchmarks."""
    tasks = list(tasks)
    kept = [t for t in tasks if all(is_fully_in_vocabulary(text, vocabulary) for text in t.texts_to_check())]
    return SimplifiedTasks(kept, len(tasks))
