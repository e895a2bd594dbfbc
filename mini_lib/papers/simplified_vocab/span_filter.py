"""The span-level vocabulary filter of the simplified-vocabulary paper (arXiv 2404.02204), two modes.

The paper builds its "simple" pre-training set by keeping only the stretches of SlimPajama text
that a child could read: runs of words from the AO-CHILDES vocabulary. Its filter is public C++:
``text_filter.cpp`` of github.com/Guitaricet/filter_vocab_cpp (MIT), called from
``src/SlimPajama_filtering.py`` of github.com/text-machine-lab/mini_gpt as
``filter_vocab(text, vocab, 32, 0.01, True)``. This module offers two modes (``MODES``):

``"reference"`` reproduces that C++ span for span (checked against outputs of the compiled C++ in
``tests/fixtures/span_filter_cpp.json``), quirks included -- use it to reproduce the paper's data:

* **Tokens.** The text is cut at every character of ``REFERENCE_DELIMITERS`` (space, newline, tab,
  ``. , : ; ? ! - ( ) [ ] { } = < > " ' & ^ % $ # @ * + / | \\ ~``; each is a one-character token)
  and at every switch between ASCII digits and other characters. Lower-casing is ASCII-only.
  Quirk: the character that follows a digit starts a token even if it is a delimiter, and letters
  after it join that token: in ``3 dogs`` the tokens are ``3`` and `` dogs`` (with its space),
  so the word after a number is always out of vocabulary.
* **Words.** Every token that is not a single delimiter is a word (numbers included). A word
  passes if its lower-cased form is in the vocabulary or it is all digits. Quirks: ``_``, ``\\r``,
  em dashes and curly quotes are not delimiters (``home—I``, ``“We`` and ``don’t`` are
  single, usually OOV, words); ``'`` is one, so ``gentleman's`` is ``gentleman ' s`` and
  ``we'll`` is ``we ' ll`` (each piece looked up on its own).
* **Spans.** As the rule below, with the ratio ``oov / max(words, 32)`` in float32. Quirks: at the
  OOV word that ends a span, the length check ``words > 32`` counts that word too, so a span of
  exactly 32 words before it is kept; the span ends right before that word, even inside a token
  (``well-`` of ``well-known``), and only spaces and newlines are trimmed from its end (a
  trailing ``(`` or ``-`` stays). The next span starts after the next token ``.``, ``!``, ``?``
  or newline, whatever follows it (``Mr.`` ends a sentence, so does ``!`` in ``home!--I``; a span
  may begin with ``--`` or a closing quote or a lower-case word), skipping spaces and newlines.
  Spans keep the text as it is (line breaks included).

``"rule"`` is the rule as the paper describes it, made precise (the tests check every edge):

* **Normalisation.** Curly quotes and apostrophes become ASCII (``’ ‘ ʼ`` -> ``'``,
  ``“ ” „`` -> ``"``). The text is cut into whitespace tokens; kept spans are their
  tokens joined by single spaces (line breaks inside a span become spaces).
* **Words.** A token whose lower-cased form is in the vocabulary, as it stands or with leading and
  trailing punctuation/digits stripped (``dog.`` -> ``dog``), is one in-vocabulary word.
  Otherwise its words are its runs of letters with internal apostrophes (regex
  ``[^\\W\\d_]+(?:'[^\\W\\d_]+)*``): ``well-known`` is two words, ``3rd`` is the word ``rd``,
  ``1,000.5`` or ``--`` no word at all (numbers and punctuation always pass and are not counted).
  Matching is case-insensitive. A word ending in a clitic (``'s 'll 're 've 'm 'd n't``) passes
  if the word before the clitic does (``gentleman's`` -> ``gentleman``, ``we'll`` -> ``we``,
  ``can't`` -> ``can``, ``won't`` -> ``will``): gluing it (``well``, ``shell``, ``were``) would
  look up another word. Other apostrophes are dropped (``o'clock`` -> ``oclock``), and the pieces of
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

Speed (one core, > 10 MB/s in both modes, see ``benchmarks/bench_span_filter.py``): tokenising,
lower-casing and set lookups run over whole token lists at C speed; Python-level work happens only
at tokens not found in the vocabulary and at span breaks.
"""

from __future__ import annotations

import re
import string
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Set
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, compress, count
from operator import itemgetter, not_

from mini_lib.core.errors import ConfigError, check_fraction, choose

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
_CLITIC = re.compile(r"(.+?)(n't|'s|'ll|'re|'ve|'m|'d)")  # fullmatch: base + clitic
_IRREGULAR_NOT = {"ca": "can", "wo": "will", "sha": "shall"}  # can't, won't, shan't

MODES = ("reference", "rule")
DEFAULT_MODE = "rule"
REFERENCE_DELIMITERS = " .,:;?!\n\t-()[]{}=<>\"'&^%$#@*+/|\\~"  # the C++'s DELIMITERS, in its order
_DELIMITER_BYTES = REFERENCE_DELIMITERS.encode()
_DELIMITER_TO_SPACE = bytes.maketrans(_DELIMITER_BYTES, b" " * len(_DELIMITER_BYTES))
_NON_DELIMITERS = bytes(set(range(256)).difference(_DELIMITER_BYTES))
_DELIMITERS_AND_DIGITS = _DELIMITER_BYTES + b"0123456789"
_SKIPPED_BYTES = b" \n"  # skipped before a span's first token, trimmed from its end
_EOS_MARKS = bytes(46 if b in b".?!\n" else 32 for b in range(256))  # sentence ends -> '.', others -> ' '
_DIGIT = re.compile(rb"[0-9]")
_DIGIT_RUNS = re.compile(rb"[0-9]+|[^0-9]+")
_SHAPE = bytes(48 if 48 <= b <= 57 else 32 if b == 32 else 97 for b in range(256))
_BELOW_ONE, _ABOVE_ONE = 1 - 2.0**-22, 1 + 2.0**-22  # ratios farther than this from the limit round alike
_ONE_WORD = ((0, 0),)  # (word, byte offset) of a piece's OOV words when it is just one word
_FLOAT32 = struct.Struct("f")


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
    """The rule mode's lookup for one lower-cased word (clitics by their base, contraction pieces)."""
    return word in vocabulary or _rescued(word, vocabulary)


def filter_spans(
    text: str,
    vocabulary: Set[str],
    max_oov: float = DEFAULT_MAX_OOV,
    min_span_len: int = DEFAULT_MIN_SPAN_LEN,
    mode: str = DEFAULT_MODE,
) -> list[str]:
    """The kept spans of one document (plain text, without ``<s>``/``</s>``) under ``mode``."""
    filter_document = _checked(max_oov, min_span_len, mode)
    return filter_document(text, vocabulary, max_oov, min_span_len, FilterStats())


def filter_corpus(
    texts: Iterable[str],
    vocabulary: Set[str],
    max_oov: float = DEFAULT_MAX_OOV,
    min_span_len: int = DEFAULT_MIN_SPAN_LEN,
    mode: str = DEFAULT_MODE,
) -> tuple[list[str], FilterStats]:
    """Filter documents into training texts ``<s> span </s> <s> span </s>`` (one per kept document).

    ``vocabulary`` holds lower-case words (see ``mini_lib.papers.simplified_vocab.vocabulary``); ``mode`` is
    ``"reference"`` (the paper's released C++) or ``"rule"`` (its documented rule). The result may be
    empty; pass it through ``require_nonempty`` before training on it.
    """
    filter_document = _checked(max_oov, min_span_len, mode)
    stats = FilterStats()
    out = []
    for text in texts:
        stats.n_docs += 1
        spans = filter_document(text, vocabulary, max_oov, min_span_len, stats)
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


def _checked(max_oov: float, min_span_len: int, mode: str):
    """The document filter of ``mode``, once the settings are valid."""
    choose("span filter mode", mode, MODES)
    check_fraction("max_oov", max_oov)
    if not isinstance(min_span_len, int) or min_span_len < 0:
        raise ConfigError(f"min_span_len must be a non-negative integer number of words, got {min_span_len!r}")
    return _reference_document if mode == "reference" else _rule_document


def _rescued(word: str, vocabulary: Set[str]) -> bool:
    """Contraction pieces pass; a clitic passes with its base; other apostrophes are dropped."""
    if word in _CONTRACTION_PIECES:
        return True
    if "'" not in word:
        return False
    clitic = _CLITIC.fullmatch(word)
    if clitic is None:
        return word.replace("'", "") in vocabulary
    base = clitic[1]
    if clitic[2] == "n't":
        base = _IRREGULAR_NOT.get(base, base)
    return in_vocabulary(base, vocabulary)


def _count_oov(text: str, vocabulary: Set[str], ignore_capitalised: bool) -> tuple[int, int]:
    found = _WORD_FIND.findall(normalise(text))
    if ignore_capitalised:
        found = found[:1] + [w for w in found[1:] if w == w.lower()]
    oov = sum(not in_vocabulary(w.lower(), vocabulary) for w in found)
    return oov, len(found)


def _reference_document(
    text: str, vocabulary: Set[str], max_oov: float, min_span_len: int, stats: FilterStats
) -> list[str]:
    """``filter_vocab(text, vocabulary, min_span_len, max_oov, True)`` of the paper's C++, non-empty spans."""
    raw = text.encode("utf-8", "surrogatepass")
    doc = _ReferenceWords(raw.lower(), _plain_words(vocabulary), vocabulary)  # lower(): ASCII only, as C tolower
    word_start = doc.word_start
    oov_pieces, oov_offsets = doc.oov_pieces, doc.oov_offsets
    n_words_total = word_start[-1]
    stats.words_in += n_words_total
    limit = _float32(max_oov)
    spans: list[str] = []

    def keep(start: int, stop: int, stop_offset: int, n_words: int, n_oov: int) -> None:
        """Keep the bytes from piece ``start`` to ``stop_offset`` bytes after where piece ``stop`` starts."""
        start_byte = doc.byte_start(start)
        span = raw[start_byte:doc.byte_start(stop) + stop_offset].rstrip(b" \n")
        if span:  # the C++ also returns empty spans, the paper's wrapper drops them
            stats.n_spans += 1
            stats.words_kept += n_words
            stats.oov_kept += n_oov
            spans.append(span.decode("utf-8", "surrogatepass"))

    start = doc.span_start(0)
    j = 0
    while start is not None:
        j = bisect_left(oov_pieces, start, j)
        oov = 0
        for j in range(j, len(oov_pieces)):
            piece = oov_pieces[j]
            for word, byte in oov_offsets.get(piece, _ONE_WORD):
                oov += 1
                n_words = word_start[piece] + word + 1 - word_start[start]  # the OOV word included
                ratio = oov / max(n_words, min_span_len)
                if ratio < limit * _BELOW_ONE or (ratio <= limit * _ABOVE_ONE and _float32(ratio) <= limit):
                    continue  # tolerated: the C++ compares float32 numbers
                if n_words > min_span_len:  # counts the OOV word that ends the span: a quirk
                    keep(start, piece, byte, n_words - 1, oov - 1)
                start = doc.span_start_after_sentence_end(piece)
                break
            else:
                continue
            break
        else:
            if n_words_total - word_start[start] > min_span_len:
                keep(start, len(doc.pieces) - 1, len(doc.pieces[-1]), n_words_total - word_start[start], oov)
            break
    return spans


def _float32(x: float) -> float:
    """``x`` rounded to float32, as the C++ computes the OOV ratio (exact for int / int)."""
    return _FLOAT32.unpack(_FLOAT32.pack(x))[0]


class _ReferenceWords:
    """Words, OOV words and sentence ends of one lower-cased UTF-8 document, as the C++ tokenises it.

    ``pieces`` are the runs between delimiter bytes (empty between two delimiters): the text is
    ``pieces[0] delimiters[0] pieces[1] ... pieces[-1]`` and, but for digits, every non-empty piece
    is one word. Digits need a closer look (rare): a piece like ``3rd`` holds several words, and
    after ``<digit><delimiter>`` the delimiter is glued to the next piece (`` dogs`` in ``3 dogs``).
    """

    def __init__(self, lowered: bytes, plain_words: frozenset, vocabulary: Set[str]):
        spaced = lowered.translate(_DELIMITER_TO_SPACE)
        self.pieces = pieces = spaced.split(b" ")
        self.delimiters = lowered.translate(None, _NON_DELIMITERS)  # delimiters[i] follows pieces[i]
        failing = list(map(not_, map(plain_words.__contains__, pieces)))
        numbers = map(bytes.isdigit, compress(pieces, failing))  # numbers pass
        self.oov_pieces = list(compress(compress(count(), failing), map(not_, numbers)))
        self.oov_offsets: dict[int, list[tuple[int, int]]] = {}  # piece -> (word, byte offset) of its OOV words
        self.glued: set[int] = set()  # delimiters glued to the next piece
        words_per_piece: "list[int] | map[bool]" = map(bool, pieces)
        if _DIGIT.search(spaced):
            words_per_piece = self._split_digit_pieces(spaced, vocabulary, plain_words)
        self.word_start = list(accumulate(words_per_piece, initial=0))  # words before piece i
        self._eos_marks: bytes | None = None
        self._byte_cursor = (0, 0)  # (piece, byte where it starts)

    def byte_start(self, piece: int) -> int:
        """Byte where ``piece`` starts; asked for increasing pieces (kept spans only), so one pass in all."""
        done, at = self._byte_cursor
        at += sum(map(len, self.pieces[done:piece])) + piece - done
        self._byte_cursor = (piece, at)
        return at

    def span_start(self, piece: int) -> int | None:
        """The first piece from ``piece`` on that is not a skipped space or newline (None if none)."""
        pieces, delimiters = self.pieces, self.delimiters
        while not pieces[piece]:  # an empty piece: its delimiter comes next
            if piece == len(delimiters):
                return None
            if delimiters[piece] not in _SKIPPED_BYTES:
                return piece  # the span starts with this delimiter
            piece += 1
        return piece

    def span_start_after_sentence_end(self, piece: int) -> int | None:
        """Where the next span starts: after the next '.', '!', '?' or newline token."""
        if self._eos_marks is None:
            self._eos_marks = self.delimiters.translate(_EOS_MARKS)
        at = self._eos_marks.find(b".", piece)
        while at in self.glued:  # a glued '.' is not a token of its own
            at = self._eos_marks.find(b".", at + 1)
        return self.span_start(at + 1) if at >= 0 else None

    def _split_digit_pieces(self, spaced: bytes, vocabulary: Set[str], plain_words: frozenset) -> list[int]:
        """Judge the words of the pieces with digit boundaries or a glued delimiter; words per piece."""
        shape = spaced.translate(_SHAPE)  # digits -> 0, delimiters -> space, the rest -> a
        events = []  # (byte, piece offset, glued) for every digit boundary inside a piece, every glue
        for pattern, piece_offset, glued in ((b"a0", 0, False), (b"0a", 0, False), (b"0 a", 1, True)):
            at = shape.find(pattern)
            while at >= 0:
                events.append((at, piece_offset, glued))
                at = shape.find(pattern, at + 1)
        special: dict[int, bool] = {}  # piece -> whether a delimiter is glued to its start
        pos, piece = 0, 0
        for at, piece_offset, glued in sorted(events):
            piece += spaced.count(b" ", pos, at)
            pos = at
            special[piece + piece_offset] = special.get(piece + piece_offset, False) or glued
            if glued:
                self.glued.add(piece)
        words_per_piece = list(map(bool, self.pieces))
        for piece, glued in special.items():
            runs = _DIGIT_RUNS.findall(self.pieces[piece])
            offsets = list(accumulate(map(len, runs), initial=0))
            if glued:
                runs[0] = self.delimiters[piece - 1:piece] + runs[0]
                offsets[0] = -1
            oov = [(k, offsets[k]) for k, run in enumerate(runs)
                   if not (run.isdigit() or run in plain_words
                           or (k == 0 and glued and run.decode("utf-8", "surrogatepass") in vocabulary))]
            if oov:
                self.oov_offsets[piece] = oov
            words_per_piece[piece] = len(runs)
        # a sorted run and a short tail: sorting is linear
        self.oov_pieces = sorted([p for p in self.oov_pieces if p not in special] + list(self.oov_offsets))
        return words_per_piece


def _plain_words(vocabulary: Set[str]) -> frozenset:
    """The vocabulary words a delimiter-free, digit-free token can equal, as UTF-8 bytes (plus b"")."""
    if isinstance(vocabulary, frozenset):
        return _plain_words_cached(vocabulary)
    return _plain_words_of(vocabulary)


@lru_cache(maxsize=4)
def _plain_words_cached(vocabulary: frozenset) -> frozenset:
    return _plain_words_of(vocabulary)


def _plain_words_of(vocabulary: Set[str]) -> frozenset:
    encoded = (word.encode("utf-8", "surrogatepass") for word in vocabulary)
    return frozenset(w for w in encoded if len(w.translate(None, _DELIMITERS_AND_DIGITS)) == len(w)) | {b""}


def _rule_document(
    text: str, vocabulary: Set[str], max_oov: float, min_span_len: int, stats: FilterStats
) -> list[str]:
    text = normalise(text)
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
