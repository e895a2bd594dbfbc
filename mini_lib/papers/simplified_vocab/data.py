"""The two training sets of arXiv 2404.02204, built at our scale: the data the experiment trains on.

The paper trains on two sets of equal size: "simple" (SlimPajama spans in the AO-CHILDES vocabulary, see
``span_filter``) and "unrestricted" (SlimPajama), each with its own BPE tokenizer. This module holds the
vocabularies, the filter demonstration and the construction of the two sets:

* ``default_vocabulary`` and ``filter_table``: the child vocabulary (AO-CHILDES when ``../shared/data``
  holds it, else the built-in list) and what the filter rules say about a few sentences.
* ``build_equal_budget_data`` (from the notebook's settings: ``prepare_data``): the two training sets,
  from storyworld (simple tier vs rich tier: the same story plans told in child words or in rarer
  synonyms) or from any corpus (span-filtered vs unfiltered; local file or hub). Equal budget means equal
  training tokens, each corpus counted with its own tokenizer: both are tokenised and packed into
  128-token blocks, and both keep the first ``n`` blocks, ``n`` = the requested budget or what the
  smaller corpus holds. The simple corpus is the smaller one (short words, shorter stories), so the
  unrestricted set covers fewer documents in the same tokens, as in the paper, which matched tokens,
  not documents.
* ``corpus_statistics`` and ``vocabulary_overlap``: what the two sets hold inside the budget.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

import pandas as pd

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.paths import shared_data_dir
from mini_lib.core.recipe import DataRecipe
from mini_lib.core.tokenization import PackedBlocks, encode_documents
from mini_lib.corpora import stats
from mini_lib.corpora.loaders import load_hub, load_local
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.papers.simplified_vocab.settings import SimpleVocabSettings
from mini_lib.papers.simplified_vocab.span_filter import (
    DEFAULT_MAX_OOV,
    DEFAULT_MIN_SPAN_LEN,
    DEFAULT_MODE,
    FilterStats,
    filter_corpus,
    in_vocabulary,
    is_fully_in_vocabulary,
    oov_rate,
    words,
)
from mini_lib.papers.simplified_vocab.vocabulary import builtin_vocabulary, load_word_list

SOURCES = ("storyworld", "local", "hub")
VOCABULARIES = ("auto", "aochildes", "builtin")
VARIANTS = ("simple", "unrestricted")

# Hand-written sentences for the filter demonstration: child-level, adult-level, and edge cases
# (proper nouns, numbers, contractions, hyphens). Written for this package.
FILTER_EXAMPLES = (
    "The little dog ran to the park with his ball.",
    "Mommy said we can have ice cream after lunch.",
    "Can you help me find my shoes?",
    "We went to the farm and saw a cow, two pigs and a horse.",
    "Don't touch the hot stove!",
    "On Monday, Grandma Rosa baked 12 cookies for the kids.",
    "The well-known author signed copies at the bookstore.",
    "The committee postponed its deliberations pending further consultation.",
    "Photosynthesis converts light energy into chemical energy.",
    "Quarterly revenue exceeded expectations by 4.2 percent.",
)
FILTER_PASSAGE = (
    "Once upon a time there was a little bear who lived in the woods with his mommy and daddy. "
    "Every morning he went down to the river to drink water and look at the fish. "
    "One day he saw a big red bird sitting in a tree, and he said hello to the bird. "
    "Subsequent ornithological surveys attributed the sighting to an escaped exotic species. "
    "The bird sang a pretty song, and the little bear sat down to listen. "
    "Then they played together until the sun went down, and the bear went home happy. "
    "The next morning the bear ran back to the tree, but the bird was not there, "
    "so he sat and waited for his new friend."
)


# --- vocabularies and the filter demonstration ----------------------------------------------------


AOCHILDES_FILE = "aochildes_vocab.csv"  # the paper's list, in the shared data folder (never shipped: its licence)


def default_vocabulary(kind: str = "auto") -> tuple[frozenset[str], str]:
    """The child vocabulary and a sentence saying which it is, for a learner to read beside the results.

    ``auto``: the paper's AO-CHILDES list when the shared data folder (``../shared/data``, or
    ``MINI_LIB_SHARED_DATA``) holds it, else the built-in list. The sentence names the file, never the
    folder: a path of this machine means nothing on a learner's.
    """
    choose("vocabulary", kind, VOCABULARIES)
    path = shared_data_dir() / AOCHILDES_FILE
    if kind == "aochildes" or (kind == "auto" and path.is_file()):
        vocab = load_word_list(path)
        return vocab, f"AO-CHILDES ({len(vocab):,} words, the paper's list, {AOCHILDES_FILE} of the shared data folder)"
    vocab = builtin_vocabulary()
    reason = "" if kind == "builtin" else f"; {AOCHILDES_FILE}, the paper's list, is not in the shared data folder"
    return vocab, f"the built-in basic child vocabulary ({len(vocab):,} words){reason}"


def filter_table(sentences: "list[str] | tuple[str, ...]", vocabulary: Set[str]) -> pd.DataFrame:
    """Per sentence: its words, the out-of-vocabulary ones, and the two rules' verdicts.

    ``oov_rate``/``fully_in_vocabulary`` are the paper's task simplification (capitalised
    non-initial words ignored); ``oov_words_span_filter`` is what the training-data filter sees
    (every word counts, proper nouns too).
    """
    rows = []
    for sentence in sentences:
        found = words(sentence)
        rows.append({
            "sentence": sentence,
            "words": len(found),
            "oov_words_span_filter": ", ".join(w for w in found if not in_vocabulary(w, vocabulary)),
            "oov_rate_task_rule": oov_rate(sentence, vocabulary),
            "fully_in_vocabulary": is_fully_in_vocabulary(sentence, vocabulary),
        })
    return pd.DataFrame(rows)


# --- the two training sets -------------------------------------------------------------------------


@dataclass
class DataVariant:
    """One training set: its tokenizer (trained on its own training documents), blocks and documents."""

    name: str
    tokenizer: object
    train: PackedBlocks  # the budget: the first blocks of the packed training documents
    val: PackedBlocks
    documents: list[str]  # training documents (all, before the budget cut)
    doc_ids: list[int]
    available_tokens: int  # training tokens before the budget cut

    def budget_documents(self) -> list[str]:
        """The training documents with at least one token inside the budget."""
        inside = set(int(i) for i in self.train.doc_ids)
        return [t for t, i in zip(self.documents, self.doc_ids) if i in inside]


@dataclass
class EqualBudgetData:
    """The simple and the unrestricted training sets, cut to the same number of training tokens."""

    corpus: str
    simple: DataVariant
    unrestricted: DataVariant
    budget_tokens: int
    filter_stats: FilterStats | None = None  # corpus sources: what the span filter kept

    @property
    def variants(self) -> dict[str, DataVariant]:
        return {"simple": self.simple, "unrestricted": self.unrestricted}


def prepare_data(settings: SimpleVocabSettings, vocabulary: Set[str] | None) -> EqualBudgetData:
    """Notebook 02's two training sets from its settings (as ``quality_quantity.prepare_data`` does for
    03): the one place that maps the settings onto ``build_equal_budget_data``."""
    s = settings
    return build_equal_budget_data(s.corpus, n_stories=s.n_stories, vocab_size=s.vocab_size, seq_len=s.seq_len,
                                   val_fraction=s.val_fraction, train_tokens=s.train_tokens, seed=s.seed,
                                   corpus_path=s.corpus_path, corpus_name=s.corpus_name, vocabulary=vocabulary,
                                   filter_mode=s.filter_mode)

def build_equal_budget_data(
    corpus: str = "storyworld",
    *,
    n_stories: int = 2000,
    vocab_size: int = 1024,
    seq_len: int = 128,
    val_fraction: float = 0.1,
    train_tokens: int = 0,
    seed: int = 0,
    corpus_path: str = "",
    corpus_name: str = "",
    text_column: str = "text",
    vocabulary: Set[str] | None = None,
    max_oov: float = DEFAULT_MAX_OOV,
    min_span_len: int = DEFAULT_MIN_SPAN_LEN,
    filter_mode: str = DEFAULT_MODE,
) -> EqualBudgetData:
    """Simple and unrestricted training sets of equal token budget, each with its own tokenizer.

    ``storyworld``: ``n_stories`` stories told in the simple and in the rich tier (the same plans,
    the same train/validation split). ``local``/``hub``: ``n_stories`` documents of ``corpus_path`` /
    ``corpus_name``; unrestricted = as they are, simple = their spans in ``vocabulary`` (the paper's
    span filter in ``filter_mode``, applied after the split so validation documents never leak). ``train_tokens``:
    the budget per set (rounded down to whole blocks); 0 takes all the smaller set holds.
    """
    choose("corpus", corpus, SOURCES)
    if train_tokens < 0:
        raise ConfigError(f"train_tokens must be >= 0 (0: all the smaller corpus holds), got {train_tokens}")
    recipe = DataRecipe(vocab_size, seq_len, val_fraction, seed)
    filter_stats = None
    if corpus == "storyworld":
        splits = {"simple": recipe.split(generate_stories(n_stories, seed=seed, tier="simple")),
                  "unrestricted": recipe.split(generate_stories(n_stories, seed=seed, tier="rich"))}
    else:
        if vocabulary is None:
            raise ConfigError(f"corpus {corpus!r} is filtered: pass vocabulary= (see default_vocabulary)")
        if corpus == "local":
            if not corpus_path:
                raise ConfigError("corpus 'local' needs corpus_path= (a .txt, .jsonl or .parquet corpus)")
            documents = load_local(corpus_path, text_column=text_column, limit=n_stories)
        else:
            if not corpus_name:
                raise ConfigError("corpus 'hub' needs corpus_name= (e.g. 'DKYoon/SlimPajama-6B')")
            documents = load_hub(corpus_name, text_column=text_column, limit=n_stories)
        raw = recipe.split(documents)
        (train_simple, filter_stats), (val_simple, _) = (
            _span_filter_split(part, vocabulary, max_oov, min_span_len, filter_mode) for part in raw)
        splits = {"simple": (train_simple, val_simple), "unrestricted": raw}

    variants = {}
    for name, (train, val) in splits.items():
        if not len(train["text"]) or not len(val["text"]):
            raise ConfigError(f"the {name} corpus has no {'training' if not len(train['text']) else 'validation'} "
                              "documents: use more documents, or a larger vocabulary / max_oov")
    for name, (train, val) in splits.items():
        prepared = recipe.prepare_split(train, val)
        variants[name] = DataVariant(
            name=name, tokenizer=prepared.tokenizer, train=prepared.train, val=prepared.val,
            documents=list(train["text"]), doc_ids=[int(i) for i in train["id"]],
            available_tokens=prepared.train.n_tokens,
        )

    smallest = min(v.available_tokens for v in variants.values())
    if train_tokens > smallest:
        short = min(variants.values(), key=lambda v: v.available_tokens).name
        raise ConfigError(
            f"train_tokens={train_tokens:,} but the {short} corpus holds only {smallest:,} training tokens: "
            "use more documents (n_stories) or a smaller train_tokens (0 takes all it holds)"
        )
    n_blocks = (train_tokens or smallest) // seq_len
    for variant in variants.values():
        variant.train = variant.train.head(n_blocks)
    return EqualBudgetData(corpus, variants["simple"], variants["unrestricted"], n_blocks * seq_len, filter_stats)


def _span_filter_split(split, vocabulary: Set[str], max_oov: float, min_span_len: int,
                       mode: str) -> tuple[dict[str, list], FilterStats]:
    """Filter documents one by one: the kept spans with the ids of their documents (``text``, ``id``)."""
    kept, kept_ids, total = [], [], FilterStats()
    for text, doc_id in zip(split["text"], split["id"]):
        out, stats_one = filter_corpus([text], vocabulary, max_oov, min_span_len, mode)
        total = total + stats_one
        if out:
            kept.append(out[0])
            kept_ids.append(doc_id)
    return {"text": kept, "id": kept_ids}, total


def corpus_statistics(data: EqualBudgetData) -> pd.DataFrame:
    """One row per training set: documents and words in the budget, vocabulary, n-gram diversity, tokens."""
    rows = []
    for name, variant in data.variants.items():
        docs = variant.budget_documents()
        summary = stats.corpus_summary(docs)
        n_tokens = sum(len(ids) for ids in encode_documents(variant.tokenizer, docs))
        rows.append({
            "data": name,
            "budget_tokens": variant.train.n_tokens,
            "available_tokens": variant.available_tokens,
            "documents": summary["documents"],
            "words": summary["words"],
            "word_types": summary["word_types"],
            "words_per_doc": summary["mean_words_per_doc"],
            "tokens_per_word": n_tokens / max(summary["words"], 1),
            "distinct_2grams": stats.distinct_ngram_fraction(docs, 2),
            "distinct_3grams": summary["distinct_3gram_fraction"],
            "zipf_slope": summary["zipf_slope"],
            "tokenizer_vocab": len(variant.tokenizer),
        })
    return pd.DataFrame(rows)


def vocabulary_overlap(data: EqualBudgetData) -> float:
    """Fraction of the simple set's word occurrences whose word also occurs in the unrestricted set.

    Near 1 for SlimPajama (ordinary text contains the child words); well below 1 for storyworld,
    whose rich tier swaps child words for synonyms -- why we evaluate each model in its own vocabulary.
    """
    simple = stats.word_counts(data.simple.budget_documents())
    other = stats.word_counts(data.unrestricted.budget_documents())
    total = sum(simple.values())
    return sum(n for w, n in simple.items() if w in other) / total if total else 0.0
