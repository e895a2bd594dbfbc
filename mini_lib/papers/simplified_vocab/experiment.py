"""Simplified-vocabulary pre-training (arXiv 2404.02204): equal-budget data, the model grid, the comparison.

The paper asks whether language models trained on child-level language show abilities at a size
where models trained on ordinary text do not. It builds two training sets of EQUAL size (~2.1B
tokens each), "simple" (SlimPajama spans in the AO-CHILDES vocabulary, see ``span_filter``) and
"unrestricted" (SlimPajama), each with its own BPE tokenizer, trains the same 18 shapes on both (36
models), and compares zero-shot accuracy on benchmarks filtered to the child vocabulary: its simple
165M model matches unrestricted models about 6x larger. This module builds our version of each piece:

* ``build_equal_budget_data``: the two training sets, from storyworld (simple tier vs rich tier:
  the same story plans told in child words or in rarer synonyms) or from any corpus (span-filtered
  vs unfiltered; local file or hub). **Equal budget** means equal *training tokens*, each corpus
  counted with its OWN tokenizer: both are tokenised and packed into 128-token blocks, and both
  keep the first ``n`` blocks, ``n`` = the requested budget or what the smaller corpus holds. The
  simple corpus is the smaller one (short words, shorter stories), so the unrestricted set covers
  fewer documents in the same tokens -- as in the paper, which matched tokens, not documents.
* ``grid_shapes`` / ``grid_cells``: hidden {32..1024} x layers {2, 4, 8}, 8 heads, FFN 4x, untied
  embeddings, in GPT-NeoX blocks (the paper used Llama blocks: RMSNorm, SwiGLU, sequential
  residual; our core has one architecture, Pythia's). One epoch over the budget, AdamW (0.9, 0.95),
  weight decay 0.1, warmup then cosine, through ``grid.run_grid``; each model scores the zero-shot
  tasks at its last step (``ZeroShotAtEnd``), so the grid never keeps models in memory.
* ``data_size_cells`` and ``scaling_fits``: loss against model size N (non-embedding parameters,
  Kaplan's convention), data D (one shape retrained on fractions of the budget: each a full
  one-epoch cosine run, since the middle of a longer run is not a shorter run) and compute C (the
  lower envelope of every simple model's validation curve against training FLOPs, Kaplan's L(C)).
* ``size_ratio_to_match``: the paper's "comparable to models ~6x larger", answered with our numbers.
* ``PAPER`` and ``paper_vs_ours``: the paper's figures (arXiv 2404.02204) beside ours; ``claims``: the
  abstract's three claims as ``mini_lib.core.claims.Claim`` rows, each decided by a rule fixed here. The grid has
  one seed, so the noise a difference must beat is the binomial standard error over task items (for
  accuracies) or the fit's standard error (for exponents): ``claims.compare_with_error``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Set
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

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
from mini_lib.core.claims import Claim, PaperRow, compare_with_error, paper_vs_ours_table
from mini_lib.corpora import stats
from mini_lib.corpora.loaders import load_hub, load_local
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.grid import GridCell
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.paths import shared_data_dir, write_text_atomic
from mini_lib.core.scaling import PowerLawFit, fit_power_law
from mini_lib.core.recipe import DataRecipe
from mini_lib.core.tokenization import PackedBlocks, encode_documents
from mini_lib.core.train import StepInfo, TrainConfig
from mini_lib.core.zero_shot import ChoiceTask, evaluate_tasks
from mini_lib.papers.simplified_vocab.settings import SimpleVocabSettings

SOURCES = ("storyworld", "local", "hub")
VOCABULARIES = ("auto", "aochildes", "builtin")
VARIANTS = ("simple", "unrestricted")
HIDDEN_SIZES = (32, 64, 128, 256, 512, 1024)
LAYER_COUNTS = (2, 4, 8)
N_HEADS = 8

# The paper's figures (arXiv 2404.02204: its data, model and zero-shot evaluation; code text-machine-lab/mini_gpt).
PAPER = {
    "vocabulary_words": 21_037,  # AO-CHILDES
    "tokenizer_vocab": 15_000,  # BPE per corpus
    "train_tokens_per_set": 2.1e9,
    "context": 128,
    "batch_size": 512,
    "hidden_sizes": HIDDEN_SIZES,
    "layer_counts": LAYER_COUNTS,
    "n_shapes": 18,  # per data set: 36 models in all
    "params_range": (1e6, 165e6),
    "simple_165m_average": 0.64,  # zero-shot average on the simplified tasks
    "pythia_1b_average": 0.61,
    "opt_350m_average": 0.60,
    "size_ratio": 6,  # "matches unrestricted models ~6x larger"
}

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


def default_vocabulary(kind: str = "auto") -> tuple[frozenset[str], str]:
    """The child vocabulary and a sentence saying which it is.

    ``auto``: the paper's AO-CHILDES list when ``../shared/data`` holds it, else the built-in list.
    """
    choose("vocabulary", kind, VOCABULARIES)
    path = shared_data_dir() / "aochildes_vocab.csv"
    if kind == "aochildes" or (kind == "auto" and path.is_file()):
        vocab = load_word_list(path)
        return vocab, f"AO-CHILDES ({len(vocab):,} words, the paper's list, from {path})"
    vocab = builtin_vocabulary()
    reason = "" if kind == "builtin" else f" -- {path} is absent"
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


# --- the model grid ---------------------------------------------------------------------------------


def grid_lr(hidden: int, base_lr: float) -> float:
    """Pythia's learning-rate ratios by width: base up to 512, x0.6 up to 768, x0.3 beyond."""
    return base_lr if hidden <= 512 else base_lr * (0.6 if hidden <= 768 else 0.3)


def grid_shapes(hidden_sizes=HIDDEN_SIZES, layer_counts=LAYER_COUNTS, n_heads: int = N_HEADS) -> list[ModelShape]:
    """The paper's shapes: every hidden size x every layer count (learning rates: ``grid_lr``)."""
    shapes = []
    for hidden in hidden_sizes:
        if hidden % n_heads:
            raise ConfigError(f"hidden size {hidden} is not divisible by n_heads={n_heads}")
        shapes.extend(ModelShape(layers, hidden, n_heads) for layers in layer_counts)
    return shapes


def shape_name(shape: ModelShape) -> str:
    """How cells and tables name a grid shape, e.g. ``h64-l4``."""
    return f"h{shape.d_model}-l{shape.n_layers}"


@dataclass(frozen=True)
class ZeroShotAtEnd:
    """A training callback: at step ``at_step``, score the task sets and write them to ``path`` (JSON)."""

    tokenizer: object
    task_sets: dict  # name -> {task -> [ChoiceTask]}
    path: Path
    at_step: int
    batch_size: int = 32

    def __call__(self, info: StepInfo) -> None:
        if info.step != self.at_step or not info.accelerator.is_main_process:
            return
        frames = [evaluate_tasks(info.model, self.tokenizer, tasks, self.batch_size).assign(task_set=name)
                  for name, tasks in self.task_sets.items()]
        rows = pd.concat(frames, ignore_index=True).to_dict(orient="records")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps(rows, indent=1))


def one_epoch_config(base: TrainConfig, n_blocks: int, lr: float, warmup_fraction: float,
                     evals_per_run: int) -> TrainConfig:
    """The paper's schedule scaled to our budget: one epoch, warmup then cosine, a few evaluations."""
    steps = max(1, n_blocks // base.batch_size)
    return replace(base, steps=steps, lr=lr, warmup_steps=max(1, round(warmup_fraction * steps)),
                   eval_every=max(1, steps // evals_per_run) if evals_per_run else 0)


def grid_cells(
    data: EqualBudgetData,
    shapes: list[ModelShape],
    base: TrainConfig,
    run_dir: "str | os.PathLike",
    task_sets: dict[str, dict[str, list[ChoiceTask]]],
    *,
    warmup_fraction: float = 0.01,
    evals_per_run: int = 8,
    score_batch_size: int = 32,
    seed: int = 0,
) -> list[GridCell]:
    """Every shape on both training sets; each cell scores ``task_sets`` at its last step.

    ``base`` carries the optimiser settings (batch, betas, weight decay, precision...) and the base
    learning rate (scaled by width, ``grid_lr``); steps, warmup and evaluation points are set here:
    one epoch over the budget.
    """
    run_dir = Path(run_dir)
    cells = []
    for variant_name, variant in data.variants.items():
        vocab, seq_len = len(variant.tokenizer), variant.train.seq_len
        for shape in shapes:
            config = one_epoch_config(base, len(variant.train), grid_lr(shape.d_model, base.lr), warmup_fraction,
                                      evals_per_run)
            name = f"{variant_name}-{shape_name(shape)}"
            callback = ZeroShotAtEnd(variant.tokenizer, task_sets, run_dir / name / "zero_shot.json",
                                     config.steps, score_batch_size)
            cells.append(GridCell(
                name=name,
                tags={"data": variant_name, "hidden": shape.d_model, "layers": shape.n_layers},
                make_model=_model_maker(shape, vocab, seq_len, seed),
                train_data=variant.train, val_data=variant.val, config=config,
                train_kwargs={"callbacks": [callback]},
            ))
    return cells


def data_size_cells(data: EqualBudgetData, shape: ModelShape, fractions, base: TrainConfig,
                    *, variant: str = "simple", warmup_fraction: float = 0.01, evals_per_run: int = 8,
                    seed: int = 0) -> list[GridCell]:
    """One shape retrained on the first ``fraction`` of the budget: the points of the loss-vs-D law."""
    choose("data variant", variant, VARIANTS)
    chosen = data.variants[variant]
    cells = []
    for fraction in fractions:
        if not 0 < fraction < 1:
            raise ConfigError(f"data fractions must be in (0, 1) (the full budget is the grid's run), got {fraction}")
        blocks = chosen.train.head(max(1, int(fraction * len(chosen.train))))
        config = one_epoch_config(base, len(blocks), grid_lr(shape.d_model, base.lr), warmup_fraction, evals_per_run)
        cells.append(GridCell(
            name=f"{variant}-{shape_name(shape)}-D{fraction:g}",
            tags={"data": variant, "hidden": shape.d_model, "layers": shape.n_layers, "fraction": fraction},
            make_model=_model_maker(shape, len(chosen.tokenizer), chosen.train.seq_len, seed),
            train_data=blocks, val_data=chosen.val, config=config,
        ))
    return cells


def _model_maker(shape: ModelShape, vocab: int, seq_len: int, seed: int):
    return lambda: build_model(neox_config(shape, vocab, seq_len, ffn_mult=4, tie_embeddings=False), seed=seed)


def read_zero_shot(summary: pd.DataFrame, run_dir: "str | os.PathLike") -> pd.DataFrame:
    """The zero-shot rows every grid cell wrote, joined with its tags and size (one row per model x task)."""
    frames = []
    for _, row in summary.iterrows():
        path = Path(run_dir) / row["name"] / "zero_shot.json"
        if not path.is_file():
            raise ConfigError(f"{path} is missing: the cell {row['name']} did not score its tasks; delete its "
                              "folder and run the grid again")
        frame = pd.DataFrame(json.loads(path.read_text()))
        for column in ("name", "data", "hidden", "layers", "parameters", "non_embedding"):
            frame[column] = row[column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def model_accuracy(zero_shot: pd.DataFrame, own_task_set: dict[str, str], metric: str = "acc") -> pd.DataFrame:
    """Average accuracy over tasks per model, on the simple-tier tasks and on its own vocabulary's tasks.

    ``own_task_set`` maps a data variant to the task set in its training vocabulary
    (storyworld: simple -> "simple", unrestricted -> "rich").
    """
    per_set = zero_shot.groupby(["name", "data", "hidden", "layers", "parameters", "non_embedding", "task_set"],
                                as_index=False)[metric].mean()
    simple = per_set[per_set.task_set == "simple"].drop(columns="task_set").rename(columns={metric: "acc_simple_tasks"})
    own = per_set[per_set.task_set == per_set.data.map(own_task_set)][["name", metric]].rename(
        columns={metric: "acc_own_tasks"})
    return simple.merge(own, on="name").sort_values(["data", "parameters"]).reset_index(drop=True)


# --- "comparable to models Nx larger" ------------------------------------------------------------


@dataclass(frozen=True)
class SizeMatch:
    """The best model of one data type, and the smallest model of the other that is at least as accurate."""

    column: str
    best_of: str  # the data type whose best model is the target
    best: str
    best_params: int
    best_acc: float
    match: str | None  # None: no model of the other type reaches it
    match_params: int | None
    match_acc: float | None
    largest_other: str
    largest_other_params: int
    largest_other_acc: float

    @property
    def other(self) -> str:
        return "unrestricted" if self.best_of == "simple" else "simple"

    @property
    def ratio(self) -> float | None:
        """Unrestricted parameters / simple parameters of the matched pair (>1: simple data saves parameters)."""
        if self.match_params is None:
            return None
        return (self.match_params / self.best_params if self.best_of == "simple"
                else self.best_params / self.match_params)

    def statement(self) -> str:
        head = f"best {self.best_of} model {self.best} ({_millions(self.best_params)}): {self.best_acc:.3f}"
        if self.match is None:
            bound = self.largest_other_params / self.best_params
            if self.best_of == "unrestricted":
                bound = 1 / bound
            return (f"{head}; no {self.other} model reaches it (the largest, {self.largest_other} "
                    f"({_millions(self.largest_other_params)}), scores {self.largest_other_acc:.3f}): "
                    f"unrestricted/simple size ratio {'>' if self.best_of == 'simple' else '<'} {bound:.2f}x")
        return (f"{head}; smallest {self.other} model at least as accurate: {self.match} "
                f"({_millions(self.match_params)}, {self.match_acc:.3f}): "
                f"unrestricted/simple size ratio {self.ratio:.2f}x")


def size_ratio_to_match(accuracy: pd.DataFrame, column: str = "acc_own_tasks", tolerance: float = 0.0,
                        best_of: str = "simple") -> SizeMatch:
    """The paper's comparison: the best ``best_of`` model, then the smallest model of the other data type
    within ``tolerance`` of its accuracy.

    ``best_of="simple"`` is the paper's direction (simple-165M against larger unrestricted models); when
    no unrestricted model in the grid gets there, ``best_of="unrestricted"`` still measures a ratio:
    the smallest simple model that matches the best unrestricted one. Sizes are total parameters, as
    the paper counts Pythia-1B or OPT-350M; ties go to the smaller model.
    """
    choose("best_of", best_of, VARIANTS)
    frames = {name: accuracy[accuracy.data == name].sort_values("parameters") for name in VARIANTS}
    if any(frame.empty for frame in frames.values()):
        raise ConfigError("size_ratio_to_match needs models of both data types")
    own, other = frames[best_of], frames["unrestricted" if best_of == "simple" else "simple"]
    best = own.loc[own[column].idxmax()]  # the first maximum: the smallest model reaching it
    matching = other[other[column] >= best[column] - tolerance]
    largest = other.iloc[-1]
    match = matching.iloc[0] if len(matching) else None
    return SizeMatch(
        column=column, best_of=best_of, best=best["name"], best_params=int(best["parameters"]),
        best_acc=float(best[column]),
        match=None if match is None else match["name"],
        match_params=None if match is None else int(match["parameters"]),
        match_acc=None if match is None else float(match[column]),
        largest_other=largest["name"], largest_other_params=int(largest["parameters"]),
        largest_other_acc=float(largest[column]),
    )


def _millions(n: int) -> str:
    return f"{n / 1e6:.2f}M"


# --- power laws -------------------------------------------------------------------------------------


@dataclass
class ScalingFits:
    """Loss against model size N, data D and compute C, with the points each law was fitted to."""

    n: PowerLawFit | None
    d: PowerLawFit | None
    c: PowerLawFit | None
    n_points: pd.DataFrame  # non_embedding, val_loss
    d_points: pd.DataFrame  # tokens, val_loss
    c_points: pd.DataFrame  # flops, val_loss (all), frontier (bool)

    def table(self) -> pd.DataFrame:
        """Exponent, its standard error and R^2 of each law (NaN where there were too few points)."""
        rows = []
        for law, x, fit in (("N", "non-embedding parameters", self.n), ("D", "training tokens", self.d),
                            ("C", "training FLOPs", self.c)):
            rows.append({"law": f"L({law})", "x": x, "exponent": fit.exponent if fit else math.nan,
                         "exponent_err": fit.exponent_err if fit else math.nan, "r2": fit.r2 if fit else math.nan,
                         "points": fit.n_points if fit else 0})
        return pd.DataFrame(rows)


def compute_frontier(points: pd.DataFrame) -> pd.Series:
    """True for the points no cheaper-or-equal point beats: the lower envelope of loss against FLOPs."""
    order = points.sort_values(["flops", "val_loss"]).index
    best, flags = math.inf, pd.Series(False, index=points.index)
    for i in order:
        if points.at[i, "val_loss"] < best:
            best = points.at[i, "val_loss"]
            flags[i] = True
    return flags


def scaling_fits(summary: pd.DataFrame, curves: pd.DataFrame, data_sweep: pd.DataFrame | None,
                 variant: str = "simple") -> ScalingFits:
    """Fit the three power laws on ``variant``'s models (the paper fitted its simple models).

    N: final validation loss of every grid model (all trained on the same budget). D: the data-size
    runs plus the full-budget grid run of the same shape. C: the frontier of all validation curves.
    """
    grid = summary[summary.data == variant]
    n_points = grid[["name", "non_embedding", "val_loss"]].reset_index(drop=True)
    d_points = pd.DataFrame(columns=["name", "tokens", "val_loss"])
    if data_sweep is not None and len(data_sweep):
        sweep = data_sweep[data_sweep.data == variant]
        shape = sweep.iloc[0]
        full = grid[(grid.hidden == shape["hidden"]) & (grid.layers == shape["layers"])]
        d_points = pd.concat([sweep, full])[["name", "tokens", "val_loss"]].sort_values("tokens").reset_index(drop=True)
    c_points = curves[(curves.data == variant) & (curves.step > 0)]
    c_points = c_points[["name", "step", "flops", "val_loss"]].reset_index(drop=True)
    c_points["frontier"] = compute_frontier(c_points)
    frontier = c_points[c_points.frontier]
    return ScalingFits(
        n=_fit_or_none(n_points["non_embedding"], n_points["val_loss"]),
        d=_fit_or_none(d_points["tokens"], d_points["val_loss"]),
        c=_fit_or_none(frontier["flops"], frontier["val_loss"]),
        n_points=n_points, d_points=d_points, c_points=c_points,
    )


def _fit_or_none(x, y) -> PowerLawFit | None:
    """A power-law fit, or None with fewer than 3 distinct x (no uncertainty without a spare point)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(np.unique(x)) < 3:
        return None
    return fit_power_law(x, y)


# --- paper vs ours ----------------------------------------------------------------------------------


def paper_vs_ours(data: EqualBudgetData, summary: pd.DataFrame, matches: dict[str, SizeMatch],
                  fits: ScalingFits, simplified_fraction: float, vocabulary_note: str) -> pd.DataFrame:
    """The paper's set-up and claims beside ours, one ``PaperRow`` each; ``setting``: which models or data the
    row is about."""
    n_models = summary.groupby("data").size()
    params = summary["parameters"]
    fit_rows = fits.table()
    laws = "; ".join(
        f"{r.law}: {r.exponent:.3f} ± {r.exponent_err:.3f} (R² {r.r2:.2f}, {r.points} pts)" if r.points
        else f"{r.law}: too few points" for r in fit_rows.itertuples())
    best_simple = summary[summary.data == "simple"]["parameters"].max()
    rows = [
        ("training sets of equal size", "both training sets", f"~{PAPER['train_tokens_per_set'] / 1e9:.1f}B tokens each",
         f"{data.budget_tokens:,} tokens each ({data.corpus}), counted with each set's own tokenizer"),
        ("one BPE tokenizer per corpus", "both training sets", f"vocabulary {PAPER['tokenizer_vocab']:,} each",
         f"simple {len(data.simple.tokenizer):,}, unrestricted {len(data.unrestricted.tokenizer):,}"),
        ("model grid (8 heads, FFN 4x, untied)", "both training sets",
         f"{PAPER['n_shapes']} shapes per set ({2 * PAPER['n_shapes']} models), {PAPER['params_range'][0] / 1e6:.0f}M-"
         f"{PAPER['params_range'][1] / 1e6:.0f}M parameters, Llama blocks",
         f"{int(n_models.get('simple', 0))} shapes per set ({len(summary)} models), {params.min() / 1e6:.2f}M-"
         f"{params.max() / 1e6:.2f}M parameters, GPT-NeoX blocks"),
        ("vocabulary", "simple-data set", f"AO-CHILDES, {PAPER['vocabulary_words']:,} words", vocabulary_note),
        ("tasks simplified to 0% OOV words", "zero-shot tasks", "BLiMP, COPA, SST-2, ... filtered",
         f"storyworld tasks (BLiMP/BoolQ/SST-2/COPA-like); {simplified_fraction:.0%} of simple-tier items "
         "pass the filter"),
        ("best simple model, average zero-shot accuracy", "best simple-data model",
         f"{PAPER['simple_165m_average']:.2f} (165M); Pythia-1B {PAPER['pythia_1b_average']:.2f}, "
         f"OPT-350M {PAPER['opt_350m_average']:.2f}",
         "; ".join(f"{k}: {m.best_acc:.3f} ({_millions(m.best_params)})" for k, m in matches.items()
                   if m.best_of == "simple")),
        (f"simple model matches unrestricted models ~{PAPER['size_ratio']}x larger", "simple vs unrestricted models",
         f"~{PAPER['size_ratio']}x (165M vs Pythia-1B, on simplified tasks)",
         " | ".join(f"{k}: {m.statement()}" for k, m in matches.items())),
        ("evaluation loss of simple models follows power laws in N, D, C", "simple-data models",
         "yes (plots; exponents not transcribed)", laws),
        ("largest simple model", "simple-data models", f"{PAPER['params_range'][1] / 1e6:.0f}M parameters",
         _millions(int(best_simple))),
    ]
    return paper_vs_ours_table([PaperRow(*row, source=f"arXiv {PAPER_ID}") for row in rows])


# --- the claims -------------------------------------------------------------------------------------

PAPER_ID = "2404.02204"
MARGIN_K = 2.0  # a difference counts beyond 2 standard errors
COMPARABLE_TOLERANCE = 0.03  # "comparable": at most 3 accuracy points below (the paper's 0.64 vs 0.61, 0.60)
POWER_LAW_MIN_R2 = 0.9  # a power law must explain 90% of log-loss variance
PROTOCOLS = {"own-vocabulary tasks": "acc_own_tasks", "simple-tier tasks, the paper's protocol": "acc_simple_tasks"}
LAWS = {"n": "model size N (non-embedding parameters)", "d": "data D (training tokens)", "c": "compute C (FLOPs)"}


def claims(accuracy: pd.DataFrame, zero_shot: pd.DataFrame, own_task_set: dict[str, str],
           fits: ScalingFits) -> list[Claim]:
    """The abstract's claims as ``Claim`` rows: enhanced zero-shot accuracy at equal size and "comparable to
    models six times larger" (per evaluation protocol; one protocol when both data types are scored on
    the same tasks), and power laws in N, D and C for the simple models."""
    rows = []
    for protocol, column in PROTOCOLS.items():
        if column == "acc_simple_tasks" and set(own_task_set.values()) == {"simple"}:
            continue  # both data types are scored on the simple tasks: the two protocols are one
        task_set = (lambda data: own_task_set[data]) if column == "acc_own_tasks" else (lambda data: "simple")
        scored = accuracy.assign(se=[_accuracy_se(zero_shot, r.name, task_set(r.data)) for r in accuracy.itertuples()])
        rows += [_equal_size_claim(scored, column, protocol), _larger_model_claim(scored, column, protocol)]
    return rows + [_power_law_claim(getattr(fits, law), what) for law, what in LAWS.items()]


def _accuracy_se(zero_shot: pd.DataFrame, name: str, task_set: str) -> float:
    """Binomial standard error of a model's task-averaged accuracy (tasks independent)."""
    se = zero_shot.loc[(zero_shot.name == name) & (zero_shot.task_set == task_set), "acc_se"]
    return float(np.sqrt((se ** 2).sum()) / len(se))


def _equal_size_claim(scored: pd.DataFrame, column: str, protocol: str) -> Claim:
    pairs = scored[scored.data == "simple"].merge(scored[scored.data == "unrestricted"], on=["hidden", "layers"],
                                                  suffixes=("_s", "_u"))
    difference = float((pairs[f"{column}_s"] - pairs[f"{column}_u"]).mean())
    error = float(np.sqrt((pairs.se_s ** 2 + pairs.se_u ** 2).sum()) / len(pairs))
    decided = compare_with_error(difference, error, k=MARGIN_K)
    return Claim(PAPER_ID, f"simple-data models show enhanced zero-shot accuracy ({protocol})", "abstract (v1)",
                 "enhanced zero-shot capabilities across tasks in simplified language",
                 f"simple - unrestricted, same shape, mean of {len(pairs)} shapes: {difference:+.3f} (SE {error:.3f})",
                 f"holds: mean accuracy difference > {MARGIN_K:g} binomial SE over task items; reversed: < -{MARGIN_K:g} "
                 "SE; within noise otherwise", decided.verdict)


def _larger_model_claim(scored: pd.DataFrame, column: str, protocol: str) -> Claim:
    """The largest simple model that has an unrestricted model >= ``PAPER['size_ratio']`` x its size in the grid,
    against the most accurate of those: at most ``COMPARABLE_TOLERANCE`` below it, beyond the noise."""
    ratio = PAPER["size_ratio"]
    simple, other = scored[scored.data == "simple"], scored[scored.data == "unrestricted"]
    claim = f"simple-data models are comparable to unrestricted models {ratio}x larger ({protocol})"
    paper = (f"simple-165M {PAPER['simple_165m_average']:.2f} vs Pythia-1B {PAPER['pythia_1b_average']:.2f}, "
             f"OPT-350M {PAPER['opt_350m_average']:.2f} (average zero-shot accuracy, simplified tasks)")
    rule = (f"largest simple model with an unrestricted model >= {ratio}x its parameters, against the most accurate such "
            f"model: holds: accuracy difference > -{COMPARABLE_TOLERANCE:g} by more than {MARGIN_K:g} binomial SE; "
            f"reversed: < -{COMPARABLE_TOLERANCE:g} by more; within noise otherwise; not run: no such pair in the grid")
    candidates = simple[simple.parameters * ratio <= other.parameters.max()]
    if candidates.empty:
        spanned = other.parameters.max() / simple.parameters.min()
        return Claim(PAPER_ID, claim, "abstract (v1); zero-shot results", paper,
                     f"the grid spans at most {spanned:.1f}x between a simple and an unrestricted model", rule, "not run")
    small = candidates.loc[candidates.parameters.idxmax()]
    rivals = other[other.parameters >= ratio * small.parameters]
    rival = rivals.loc[rivals[column].idxmax()]
    difference, error = float(small[column] - rival[column]), math.hypot(small.se, rival.se)
    decided = compare_with_error(difference + COMPARABLE_TOLERANCE, error, k=MARGIN_K)
    ours = (f"{small['name']} ({_millions(small.parameters)}) {small[column]:.3f} vs {rival['name']} "
            f"({_millions(rival.parameters)}, {rival.parameters / small.parameters:.1f}x) {rival[column]:.3f}: "
            f"{difference:+.3f} (SE {error:.3f})")
    return Claim(PAPER_ID, claim, "abstract (v1); zero-shot results", paper, ours, rule, decided.verdict)


def _power_law_claim(fit: PowerLawFit | None, what: str) -> Claim:
    claim = f"the simple models' evaluation loss follows a power law in {what}"
    paper = "a power law (scaling figures; exponents not transcribed here)"
    rule = (f"holds: loss falls with the exponent > {MARGIN_K:g} fit SE and R² >= {POWER_LAW_MIN_R2:g} (log loss); "
            f"reversed: exponent < -{MARGIN_K:g} SE (loss rises); within noise otherwise; not run: fewer than 3 points")
    if fit is None:
        return Claim(PAPER_ID, claim, "abstract (v1)", paper, "too few points to fit", rule, "not run")
    decided = compare_with_error(fit.exponent, fit.exponent_err, k=MARGIN_K)
    verdict = "within noise" if decided.verdict == "holds" and fit.r2 < POWER_LAW_MIN_R2 else decided.verdict
    note = "loss falls, but not as a straight line on log-log axes" if verdict != decided.verdict else ""
    return Claim(PAPER_ID, claim, "abstract (v1)", paper,
                 f"exponent {fit.exponent:.3f} ± {fit.exponent_err:.3f}, R² {fit.r2:.2f}, {fit.n_points} points",
                 rule, verdict, note)
