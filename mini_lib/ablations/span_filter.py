"""The span-level vocabulary filter of the simplified-vocabulary paper (arXiv 2404.02204).

The paper builds its "simple" pre-training set by keeping only the stretches of SlimPajama text
that a child could read: runs of words from the AO-CHILDES vocabulary. Its filter code is not
public, so this module pins the rule down precisely (and the tests check every edge):

* **Normalisation.** Curly quotes and apostrophes become ASCII (``’ ‘ ʼ`` -> ``'``, ``“ ” „`` ->
  ``"``). The text is cut into whitespace tokens; kept spans are their tokens joined by single
  spaces (line breaks inside a span become spaces).
* **Words.** A token whose lower-cased form is in the vocabulary, as it stands or with leading and
  trailing punctuation/digits stripped (``dog.`` -> ``dog``), is one in-vocabulary word.
  Otherwise its words are its runs of letters with internal apostrophes (regex
  ``[^\W\d_]+(?:'[^\W\d_]+)*``): ``well-known`` is two words, ``3rd`` is the word ``rd``,
  ``1,000.5`` or ``--`` no word at all (numbers and punctuation always pass and are not counted).
  Matching is case-insensitive. A word with an apostrophe is also looked up without it
  (``don't`` -> ``dont``: AO-CHILDES stores contractions without apostrophes), and the pieces of
  pre-tokenised contractions (``n't 's 'll 're 've 'm 'd`` as in ``do n't``) always pass.
* **Sentence starts**: the first token of the document; the first token of every line; a token
  that begins (after opening quotes/brackets) with an uppercase letter or a digit and follows a
  token ending in ``.``, ``!`` or ``?`` (optionally followed by closing quotes/brackets). A
  period after a known abbreviation (``Mr.``, ``Dr.``, ``e.g.``, ``U.S.``, ...) or after a single
  letter (an initial, ``J. K.``) does not end a sentence.
* **Spans.** A span starts at a sentence start and takes words while they are in the vocabulary.
  At an out-of-vocabulary word the running counts are updated (``oov += 1``; the word count
  includes the word itself) and the word is tolerated if ``oov / max(words, 32) <= max_oov``:
  with the default 0.01 the first OOV word is tolerated from the 100th word of a span on.
  Otherwise the span ends BEFORE that word -- at the whitespace before the token holding it, so a
  span never cuts a token -- and the next span starts at the first sentence start after that
  token. The last span ends at the end of the document.
* A span is kept if it has MORE than ``min_span_len`` words (exactly 32 is not enough). A document's
  kept spans become one training text ``<s> span1 </s> <s> span2 </s>``, the format of the paper's
  code; documents without a kept span are dropped.

Speed (one core, > 10 MB/s, see ``benchmarks/bench_span_filter.py``): splitting, lower-casing
and set lookups run over whole token lists at C speed; Python-level work happens only at tokens
not found in the vocabulary and at span breaks.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Set
from dataclasses import dataclass
from itertools import accumulate, chain
from operator import itemgetter

from mini_lib.errors import ConfigError, check_fraction

DEFAULT_MAX_OOV = 0.01
DEFAULT_MIN_SPAN_LEN = 32
RATIO_FLOOR = 32  # the paper's max(words, 32): the OOV ratio of a span counts at least 32 words

_QUOTES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"'}
_WORD_FIND = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_EDGE = string.punctuation + string.digits + "\u2013\u2014\u2026\u00ab\u00bb\u2022\u00b7\u00a1\u00bf\u00b0"
_OPENERS = "\"'([{"
_CLOSERS = "\"')]}"
_MAY_END_SENTENCE = re.compile(r"[.!?\"')\]}]")
_ABBREVIATIONS = frozenset(  # as lower-cased tokens, with their final period
    word + "."
    for word in "mr mrs ms dr prof st jr sr vs etc e.g i.e cf al inc ltd co corp no nos fig figs vol pp "
    "ed eds approx dept est gen gov sen rep lt col capt sgt mt ave rd blvd jan feb mar apr jun jul aug "
    "sep sept oct nov dec a.m p.m u.s u.k u.n ph.d".split()
)
_CONTRACTION_PIECES = frozenset("n't s t d m ll re ve".split())


@dataclass
class FilterStats:
    """What the filter kept; add two of them to merge batches."""

    n_docs: int = 0
    n_docs_kept: int = 0
    n_spans: int = 0
    words_in: int = 0
    words_kept: int = 0
    oov_kept: int = 0  # tolerated OOV words inside kept spans

    @property
    def kept_fraction(self) -> float:
        """Fraction of input words that ended up in kept spans."""
        return self.words_kept / self.words_in if self.words_in else 0.0

    def __add__(self, other: "FilterStats") -> "FilterStats":
        return FilterStats(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def __str__(self) -> str:
        return (
            f"{self.n_spans:,} spans from {self.n_docs_kept:,}/{self.n_docs:,} documents; "
            f"kept {self.words_kept:,}/{self.words_in:,} words ({self.kept_fraction:.1%}), "
            f"{self.oov_kept:,} of them tolerated OOV"
        )


def normalise(text: str) -> str:
    """Curly quotes and apostrophes to ASCII, as the filter sees text."""
    if not text.isascii():
        for curly, plain in _QUOTES.items():
            text = text.replace(curly, plain)
    return text


def words(text: str) -> list[str]:
    """The filter's words of ``text``, lower-cased (numbers and punctuation dropped)."""
    return _WORD_FIND.findall(normalise(text).lower())


def in_vocabulary(word: str, vocabulary: Set[str]) -> bool:
    """The filter's lookup for one lower-cased word (apostrophe-free form, contraction pieces)."""
    return word in vocabulary or _rescued(word, vocabulary)


def filter_spans(
    text: str,
    vocabulary: Set[str],
    max_oov: float = DEFAULT_MAX_OOV,
    min_span_len: int = DEFAULT_MIN_SPAN_LEN,
) -> list[str]:
    """The kept spans of one document (plain text, without ``<s>``/``</s>``)."""
    _check(max_oov, min_span_len)
    return _filter_document(normalise(text), vocabulary, max_oov, min_span_len, FilterStats())


def filter_corpus(
    texts: Iterable[str],
    vocabulary: Set[str],
    max_oov: float = DEFAULT_MAX_OOV,
    min_span_len: int = DEFAULT_MIN_SPAN_LEN,
) -> tuple[list[str], FilterStats]:
    """Filter documents into training texts ``<s> span </s> <s> span </s>`` (one per kept document).

    ``vocabulary`` holds lower-case words (see ``mini_lib.ablations.vocabulary``). The result may be
    empty; pass it through ``require_nonempty`` before training on it.
    """
    _check(max_oov, min_span_len)
    stats = FilterStats()
    out = []
    for text in texts:
        stats.n_docs += 1
        spans = _filter_document(normalise(text), vocabulary, max_oov, min_span_len, stats)
        if spans:
            stats.n_docs_kept += 1
            out.append("<s> " + " </s> <s> ".join(spans) + " </s>")
    return out, stats


def require_nonempty(texts: list[str]) -> list[str]:
    """Return ``texts`` if the filter kept anything, else explain how to get a corpus."""
    if not texts:
        raise ConfigError(
            "empty corpus after filtering: loosen max_oov/min_span_len or use a larger vocabulary"
        )
    return texts


def oov_rate(text: str, vocabulary: Set[str], ignore_capitalised_non_initial: bool = True) -> float:
    """Fraction of counted words that are out of vocabulary (0.0 when no word is counted).

    The paper's task simplification: with ``ignore_capitalised_non_initial`` a word containing an
    uppercase letter is not counted unless it is the first word of the text (proper nouns pass),
    as in the official evaluation-filtering notebook. Words are this module's ``words`` with the
    filter's lookup (the notebook instead deletes punctuation inside tokens: "well-known" ->
    "wellknown").
    """
    oov, counted = _count_oov(text, vocabulary, ignore_capitalised_non_initial)
    return oov / counted if counted else 0.0


def is_fully_in_vocabulary(text: str, vocabulary: Set[str]) -> bool:
    """True if ``text`` has 0% OOV words (capitalised non-initial words ignored): the paper's rule."""
    return _count_oov(text, vocabulary, True)[0] == 0


def _check(max_oov: float, min_span_len: int) -> None:
    check_fraction("max_oov", max_oov)
    if not isinstance(min_span_len, int) or min_span_len < 0:
        raise ConfigError(f"min_span_len must be a non-negative integer number of words, got {min_span_len!r}")


def _rescued(word: str, vocabulary: Set[str]) -> bool:
    return word in _CONTRACTION_PIECES or ("'" in word and word.replace("'", "") in vocabulary)


def _count_oov(text: str, vocabulary: Set[str], ignore_capitalised: bool) -> tuple[int, int]:
    found = _WORD_FIND.findall(normalise(text))
    if ignore_capitalised:
        found = found[:1] + [w for w in found[1:] if w == w.lower()]
    oov = sum(not in_vocabulary(w.lower(), vocabulary) for w in found)
    return oov, len(found)


def _filter_document(
    text: str, vocabulary: Set[str], max_oov: float, min_span_len: int, stats: FilterStats
) -> list[str]:
    tokens, line_starts = _tokens_and_line_starts(text)
    lowered = text.lower().split()
    if len(lowered) != len(tokens):  # lower-casing a rare character produced a space
        lowered = [t.lower() for t in tokens]
    doc = _Words(lowered, vocabulary)
    n_words = doc.word_start[-1]
    stats.words_in += n_words
    if not doc.oov_tokens:
        return _keep(tokens, 0, len(tokens), n_words, 0, min_span_len, stats)

    last_chars = "".join(map(itemgetter(-1), tokens))
    word_start, oov_tokens = doc.word_start, doc.oov_tokens
    spans: list[str] = []
    start, oov, j = 0, 0, 0
    while j < len(oov_tokens):
        token = oov_tokens[j]
        j += 1
        for offset in doc.oov_offsets.get(token, (0,)):
            if (oov + 1) / max(word_start[token] + offset - word_start[start] + 1, RATIO_FLOOR) <= max_oov:
                oov += 1
                continue
            spans += _keep(tokens, start, token, word_start[token] - word_start[start], oov, min_span_len, stats)
            start = _next_sentence_start(tokens, lowered, last_chars, line_starts, token)
            if start is None:
                return spans
            oov = 0
            j = bisect_left(oov_tokens, start, j)
            break
    spans += _keep(tokens, start, len(tokens), n_words - word_start[start], oov, min_span_len, stats)
    return spans


class _Words:
    """Where the words and the OOV words of one tokenised (lower-cased) document are.

    ``word_start[i]`` is the number of words before token ``i``: most tokens hold exactly one word,
    a few hold none (numbers, punctuation) or several (``well-known``).
    """

    def __init__(self, lowered: list[str], vocabulary: Set[str]):
        self.oov_tokens: list[int] = []  # tokens holding at least one OOV word, in order
        self.oov_offsets: dict[int, list[int]] = {}  # token -> offsets of its OOV words (if not [0])
        counts: dict[int, int] = {}  # tokens holding other than one word
        # tokens found as they stand (most of them) are one in-vocabulary word each
        for i in [i for i, token in enumerate(lowered) if token not in vocabulary]:
            token = lowered[i].strip(_EDGE)  # dog. -> dog, (3) -> ""
            if token in vocabulary:
                continue
            if token.isalpha():  # a single OOV word, unless the piece of a contraction
                if token not in _CONTRACTION_PIECES:
                    self.oov_tokens.append(i)
            elif not token:  # no letters: numbers and punctuation pass
                counts[i] = 0
            else:  # (rare) several words (well-known), or a word with an apostrophe (don't)
                words_here = _WORD_FIND.findall(token)
                offsets = [k for k, w in enumerate(words_here) if not in_vocabulary(w, vocabulary)]
                if offsets:
                    self.oov_tokens.append(i)
                    self.oov_offsets[i] = offsets
                if len(words_here) != 1:
                    counts[i] = len(words_here)
        if counts:
            per_token = [1] * len(lowered)
            for i, n in counts.items():
                per_token[i] = n
            self.word_start: "list[int] | range" = list(accumulate(per_token, initial=0))
        else:
            self.word_start = range(len(lowered) + 1)


def _tokens_and_line_starts(text: str) -> tuple[list[str], list[int]]:
    """Whitespace tokens, and the index of the first token of every line after the first."""
    if "\n" not in text:
        return text.split(), []
    lines = [line.split() for line in text.split("\n")]
    return list(chain.from_iterable(lines)), list(accumulate(map(len, lines[:-1])))


def _keep(
    tokens: list[str], start: int, stop: int, n_words: int, n_oov: int, min_span_len: int, stats: FilterStats
) -> list[str]:
    """The span ``tokens[start:stop]`` as a one-item list if it is long enough, else []."""
    if n_words <= min_span_len:
        return []
    stats.n_spans += 1
    stats.words_kept += n_words
    stats.oov_kept += n_oov
    return [" ".join(tokens[start:stop])]


def _next_sentence_start(
    tokens: list[str], lowered: list[str], last_chars: str, line_starts: list[int], after: int
) -> int | None:
    """Index of the first token after token ``after`` that starts a sentence (None if none does)."""
    k = bisect_right(line_starts, after)
    line = line_starts[k] if k < len(line_starts) else len(tokens)
    pos = after
    while (m := _MAY_END_SENTENCE.search(last_chars, pos, line - 1)) is not None:
        i = m.start()
        first = tokens[i + 1].lstrip(_OPENERS)[:1]
        end = lowered[i].rstrip(_CLOSERS)
        if (
            (first.isupper() or first.isdigit())
            and end.endswith((".", "!", "?"))
            and end.lstrip(_OPENERS) not in _ABBREVIATIONS
            and not (len(end) == 2 and end[1] == "." and end[0].isalpha())  # an initial: "J."
        ):
            return i + 1
        pos = i + 1
    return line if line < len(tokens) else None
