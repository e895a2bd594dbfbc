"""The data-selection experiment of notebook 06: score once, sample at several fractions, pre-train on
an equal token budget, compare with full data.

Follows "How to Train Data-Efficient LLMs" (arXiv 2402.09668): every sampler
keeps {10, 20, 40, 60, 80}% of a corpus, the same model is pre-trained on each subset for the SAME
number of tokens (a smaller subset is repeated for more epochs), and the result is compared with
full-data training by the paper's over-scaling metric (``metrics.over_scaling``: the larger model on
a subset vs the larger model on full data, in units of the gain from a smaller to the larger model,
both on full data). Our corpus is storyworld with injected low-quality documents of known kinds
(``corpora.noise``) and k-fold repeated documents (``corpora.duplication``), so every sampler's
kept set can also be checked against the labels.

Scores are computed once per corpus and cached in the artefact store (``mini_lib.core.store``, under
``cache_dir()/selection_scores``), keyed by the texts, the scorer and the prompt: Ask-LLM P(yes) from
a local instruction-tuned model (default SmolLM2-135M-Instruct), perplexity from a proxy LM
pre-trained by the training core on a small clean sample, MiniLM embeddings for Density, SemDeDup and
SSL Prototypes.

The scorer sweep (``run_scorer_sweep``) asks why a quality sampler wins or loses: it keeps the corpus,
tokenizer and budget fixed and swaps the scorer for synthetic ones of known AUROC (the clean label plus
noise, ``metrics.scorer_of_auroc``), next to the real scorers, over several seeds; ``selection_claims``
decides the paper's claims on those seeds with ``claims.compare_seeds``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_seeds, paper_vs_ours_table
from mini_lib.corpora.duplication import duplicate_many
from mini_lib.corpora.noise import CLEAN, inject_low_quality
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.grid import GridCell, run_grid
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.paths import cache_dir, texts_fingerprint
from mini_lib.core.recipe import PreparedData, prepare_lm_data
from mini_lib.core.store import Spec, cached_array
from mini_lib.papers.data_selection.density import SketchConfig, density_scores, exact_kde
from mini_lib.papers.data_selection.metrics import (
    equal_token_budget_epochs,
    over_scaling,
    scorer_auroc,
    scorer_of_auroc,
    selection_quality,
)
from mini_lib.papers.data_selection.samplers import SAMPLERS, select
from mini_lib.papers.data_selection.settings import DataSelectionSettings
from mini_lib.core.tokenization import pack_corpus
from mini_lib.core.train import TrainConfig

# arXiv 2402.09668: T5-Large trained on 20% samples of C4, same token budget.
PAPER_OVER_SCALING_20PCT: dict[str, float] = {"askllm": 33.0, "density": 2.8, "random": -6.5, "perplexity": -32.7}
PAPER_CLAIMS: dict[str, str] = {
    "askllm_beats_full_at_10pct": "Ask-LLM beats full-data training even when 90% of the data is rejected",
    "askllm_faster_convergence": "Ask-LLM converges up to 70% faster than full-data training",
    "density_recovers_full": "Density sampling recovers full-data quality",
}
PAPER_MAX_SPEEDUP = 0.70
PAPER_SOURCE = "arXiv 2402.09668, T5-Large results"
FULL = "full"  # the sampler name of full-data training (keep fraction 1.0)
SCORE_SAMPLERS = {"askllm": "askllm", "perplexity": "perplexity", "perplexity_middle": "perplexity"}


# ---- corpus ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionCorpus:
    """Documents in training order with their ground truth: ``quality`` ("clean" or a low-quality
    kind), ``is_duplicate`` (a repeat of a document seen earlier) and the source story id."""

    texts: list[str]
    quality: np.ndarray
    is_duplicate: np.ndarray
    source_id: np.ndarray

    @property
    def is_good(self) -> np.ndarray:
        return self.quality == CLEAN

    def __len__(self) -> int:
        return len(self.texts)


def build_corpus(
    n_stories: int,
    *,
    noise_fraction: float,
    duplicate_rate: float,
    repeat_k: int,
    seed: int = 0,
    tier: str = "simple",
    kinds: Sequence[str] | None = None,
) -> SelectionCorpus:
    """``n_stories`` storyworld stories, a ``noise_fraction`` of them replaced by low-quality documents,
    then a ``duplicate_rate`` of the rows made of ``repeat_k``-fold repeats (row count kept)."""
    check_fraction("noise_fraction", noise_fraction)
    check_fraction("duplicate_rate", duplicate_rate)
    ds = generate_stories(n_stories, seed=seed, tier=tier)
    ds = inject_low_quality(ds, noise_fraction, seed=seed, **({"kinds": tuple(kinds)} if kinds else {}))
    if duplicate_rate > 0:
        ds, _ = duplicate_many(ds, duplicate_rate, repeat_k, seed=seed)
        is_dup = np.asarray(ds["is_duplicate"], dtype=bool)
        source = np.asarray(ds["source_id"])
    else:
        is_dup = np.zeros(len(ds), dtype=bool)
        source = np.asarray(ds["id"])
    return SelectionCorpus(list(ds["text"]), np.asarray(ds["quality"]), is_dup, source)


# ---- scores (computed once, cached) --------------------------------------------------------------


@dataclass
class CorpusScores:
    """Everything the samplers read, in corpus order: Ask-LLM P(yes) per prompt variant (the first
    variant feeds the ``askllm`` sampler), proxy-LM perplexities, unit-norm embeddings."""

    askllm: dict[str, np.ndarray]
    perplexity: np.ndarray
    embeddings: np.ndarray
    askllm_p_no: dict[str, np.ndarray] = field(default_factory=dict)

    def sampler_input(self, sampler: str) -> dict:
        """Keyword arguments of ``samplers.select`` for ``sampler``."""
        needs = SAMPLERS[choose("sampler", sampler, SAMPLERS)].needs
        if needs == "n":
            return {"n": len(self.perplexity)}
        if needs == "embeddings":
            return {"embeddings": self.embeddings}
        if SCORE_SAMPLERS[sampler] == "askllm":
            if not self.askllm:
                raise ConfigError("sampler 'askllm' needs Ask-LLM scores: give at least one askllm_variants entry")
            return {"scores": next(iter(self.askllm.values()))}
        return {"scores": self.perplexity}


def cached_scores(kind: str, texts: Sequence[str], tag: str, compute: Callable[[], np.ndarray],
                  cache_folder: Path | None = None) -> np.ndarray:
    """``compute()`` once per (kind, tag, texts); later calls load the array from the cache."""
    spec = Spec("selection-scores", 1, {"kind": kind, "tag": tag}, texts_fingerprint(texts))
    return cached_array(cache_folder or cache_dir() / "selection_scores", spec, compute)


def load_scorer(scorer_path: str = ""):
    """``(model, tokenizer)`` of the Ask-LLM scorer: SmolLM2-135M-Instruct, or a local HF folder; on the
    GPU when there is one (scoring is the expensive step of the whole notebook)."""
    import torch

    if not scorer_path:
        from mini_lib.papers.data_selection.smollm2 import load_smollm2

        model, tokenizer = load_smollm2()
        return (model.cuda() if torch.cuda.is_available() else model), tokenizer
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    if not Path(scorer_path).is_dir():
        raise ConfigError(f"scorer_path {scorer_path!r} is not a local model folder (no downloads here)")
    seq2seq = bool(getattr(AutoConfig.from_pretrained(scorer_path), "is_encoder_decoder", False))
    cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = cls.from_pretrained(scorer_path, dtype=dtype)
    if torch.cuda.is_available():
        model = model.cuda()
    return model.eval(), AutoTokenizer.from_pretrained(scorer_path)


def askllm_scores_cached(texts: Sequence[str], variants: Sequence[str], *, scorer_path: str = "",
                         max_example_tokens: int = 128, batch_size: int = 8,
                         cache_folder: Path | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """P(yes) and P(no) of every text under each prompt variant; the scorer loads only on a cache miss."""
    from mini_lib.papers.data_selection.askllm import ask_llm_scores

    scorer: list = []
    tag0 = Path(scorer_path).name if scorer_path else "smollm2-135m"
    p_yes, p_no = {}, {}
    for variant in variants:
        tag = f"{tag0}-{variant}-{max_example_tokens}"

        def both() -> np.ndarray:
            if not scorer:
                scorer.extend(load_scorer(scorer_path))
            s = ask_llm_scores(scorer[0], scorer[1], texts, variant=variant, batch_size=batch_size,
                               max_example_tokens=max_example_tokens)
            return np.stack([s.p_yes, s.p_no])

        values = cached_scores("askllm", texts, tag, both, cache_folder)
        p_yes[variant], p_no[variant] = values[0], values[1]
    return p_yes, p_no


# ---- the notebook's settings, as the library's configs ---------------------------------------------

_QUIET = {"log_every": 10_000, "progress": False}  # the notebook prints one line per model itself


class ModelShapes(NamedTuple):
    large: ModelShape  # trained on every subset and on full data
    small: ModelShape  # on full data only (over-scaling's unit), and the perplexity proxy


def model_shapes(s: DataSelectionSettings) -> ModelShapes:
    return ModelShapes(ModelShape(s.n_layers, s.d_model, s.n_heads),
                       ModelShape(s.small_n_layers, s.small_d_model, s.small_n_heads))


def proxy_data(s: DataSelectionSettings) -> PreparedData:
    """The proxy LM's data: ``proxy_docs`` clean stories of another seed than the corpus (so not the documents
    it will score), 20% held out; its tokenizer and validation blocks serve every model of the notebook."""
    return prepare_lm_data(corpus="storyworld", n_stories=s.proxy_docs, vocab_size=s.vocab_size, seq_len=s.seq_len,
                           val_fraction=0.2, seed=s.seed + 1, tier=s.tier)


def proxy_train_config(s: DataSelectionSettings) -> TrainConfig:
    """``proxy_steps`` steps with the grid's optimiser settings, evaluated only at the end."""
    return TrainConfig.from_settings(s, steps=s.proxy_steps, eval_every=0, **_QUIET)


def train_config(s: DataSelectionSettings) -> TrainConfig:
    """Every model of the grid and of the sweep: ``steps`` steps of ``batch_size`` blocks, the same budget."""
    return TrainConfig.from_settings(s, **_QUIET)


def sketch_config(s: DataSelectionSettings) -> SketchConfig:
    return SketchConfig(n_hashes=s.sketch_hashes, n_buckets=s.sketch_buckets, bandwidth=s.sketch_bandwidth, seed=s.seed)


def noisy_corpus(s: DataSelectionSettings) -> "SelectionCorpus":
    """The notebook's labelled noisy corpus (``build_corpus`` with the settings' sizes and rates)."""
    return build_corpus(s.n_stories, noise_fraction=s.noise_fraction, duplicate_rate=s.duplicate_rate,
                        repeat_k=s.repeat_k, seed=s.seed, tier=s.tier)


def corpus_scores(s: DataSelectionSettings, corpus: "SelectionCorpus", proxy_model, proxy_tokenizer) -> CorpusScores:
    """``score_corpus`` with the settings' Ask-LLM variants, scorer, clipping and batch size."""
    return score_corpus(corpus, proxy_model=proxy_model, proxy_tokenizer=proxy_tokenizer,
                        askllm_variants=s.askllm_variants, scorer_path=s.scorer_path,
                        max_example_tokens=s.askllm_max_tokens, askllm_batch_size=s.askllm_batch_size, seq_len=s.seq_len)


def grid_subsets(s: DataSelectionSettings, scores: CorpusScores) -> dict[tuple[str, float], np.ndarray]:
    """``make_subsets`` for every sampler and keep fraction of the settings."""
    return make_subsets(scores, s.samplers, s.keep_fractions, seed=s.seed, n_clusters=s.n_clusters,
                        sketch=sketch_config(s))


def train_proxy_lm(tokenizer, train_blocks, val_blocks, shape: ModelShape, config: TrainConfig,
                   run_dir: "str | Path", *, seq_len: int, seed: int = 0):
    """The Perplexity-filtering proxy: a small LM pre-trained by the training core on a clean sample
    (learning rate: ``config.lr``)."""
    from mini_lib.core.train import train

    model = build_model(neox_config(shape, vocab_size=len(tokenizer), max_seq_len=seq_len), seed=seed)
    return train(model, train_blocks, config, run_dir, val_data=val_blocks)


def score_corpus(corpus: "SelectionCorpus", *, proxy_model, proxy_tokenizer, askllm_variants: Sequence[str] = (),
                 scorer_path: str = "", max_example_tokens: int = 128, askllm_batch_size: int = 8,
                 seq_len: int = 128) -> CorpusScores:
    """Ask-LLM P(yes) per variant (cached), proxy-LM perplexity, MiniLM embeddings (cached)."""
    from mini_lib.papers.data_selection.embeddings import embed_texts
    from mini_lib.papers.data_selection.perplexity import perplexities

    p_yes, p_no = (askllm_scores_cached(corpus.texts, askllm_variants, scorer_path=scorer_path,
                                        max_example_tokens=max_example_tokens, batch_size=askllm_batch_size)
                   if askllm_variants else ({}, {}))
    ppl = perplexities(proxy_model, proxy_tokenizer, corpus.texts, batch_size=32, max_length=seq_len)
    return CorpusScores(p_yes, ppl, embed_texts(corpus.texts), p_no)


# ---- subsets and the equal token budget -----------------------------------------------------------


def make_subsets(scores: CorpusScores, samplers: Sequence[str], keep_fractions: Sequence[float], *,
                 seed: int = 0, n_clusters: int = 20,
                 sketch: SketchConfig = SketchConfig()) -> dict[tuple[str, float], np.ndarray]:
    """Sorted kept indices for every (sampler, keep fraction); ``("full", 1.0)`` keeps everything."""
    out = {(FULL, 1.0): np.arange(len(scores.perplexity))}
    for name in samplers:
        for fraction in keep_fractions:
            check_fraction("keep_fraction", fraction, allow_zero=False)
            options = {}
            if name in ("semdedup", "prototypes"):
                options["n_clusters"] = min(n_clusters, len(scores.embeddings))
            if name == "density":
                options["config"] = sketch
            out[name, float(fraction)] = select(name, fraction, seed=seed, **options, **scores.sampler_input(name))
    return out


def budget_tokens(steps: int, batch_size: int, seq_len: int) -> int:
    """Tokens every model sees: the same for every subset (smaller subsets repeat more epochs)."""
    return int(steps) * int(batch_size) * int(seq_len)


def kept_kinds(subsets: dict[tuple[str, float], np.ndarray], corpus: SelectionCorpus) -> pd.DataFrame:
    """Per (sampler, fraction): the share of each quality kind (and of repeated rows) that was kept."""
    rows = []
    groups = {kind: corpus.quality == kind for kind in np.unique(corpus.quality)}
    groups["repeat"] = corpus.is_duplicate
    for (sampler, fraction), kept in subsets.items():
        mask = np.zeros(len(corpus), dtype=bool)
        mask[kept] = True
        for kind, members in groups.items():
            if members.any():
                rows.append({"sampler": sampler, "keep_fraction": fraction, "kind": kind,
                             "kept": float(mask[members].mean()), "n": int(members.sum())})
    return pd.DataFrame(rows)


def selection_table(subsets: dict[tuple[str, float], np.ndarray], corpus: SelectionCorpus) -> pd.DataFrame:
    """Precision / recall of every kept set against the clean labels (``metrics.selection_quality``)."""
    rows = []
    for (sampler, fraction), kept in subsets.items():
        q = selection_quality(np.asarray(kept, dtype=np.int64), corpus.is_good)
        rows.append({"sampler": sampler, "keep_fraction": fraction, "n_kept": q.n_kept, "precision": q.precision,
                     "clean_kept": q.clean_kept, "low_quality_removed": q.low_quality_removed,
                     "repeats_kept": float(corpus.is_duplicate[kept].mean()) if len(kept) else float("nan")})
    return pd.DataFrame(rows)


def scorer_table(scores: CorpusScores, corpus: SelectionCorpus) -> pd.DataFrame:
    """AUROC of every scorer for clean vs low-quality, overall and per low-quality kind."""
    named = {f"askllm[{v}]": p for v, p in scores.askllm.items()}
    named["perplexity (negated)"] = -scores.perplexity
    named["density (negated)"] = -density_scores(scores.embeddings)
    rows = []
    good = corpus.is_good
    for name, values in named.items():
        row = {"scorer": name, "all": scorer_auroc(values, good),
               "mean_clean": float(values[good].mean()), "mean_low_quality": float(values[~good].mean())}
        for kind in sorted(set(corpus.quality) - {CLEAN}):
            keep = good | (corpus.quality == kind)
            row[kind] = scorer_auroc(values[keep], good[keep])
        rows.append(row)
    return pd.DataFrame(rows)


def sketch_vs_kde(embeddings: np.ndarray, sketch: SketchConfig, kde_bandwidth: float) -> tuple[pd.DataFrame, float]:
    """Sketch density and exact Gaussian KDE of every point, and their Spearman rank correlation."""
    from scipy.stats import spearmanr

    frame = pd.DataFrame({"sketch": density_scores(embeddings, sketch),
                          "exact_kde": exact_kde(embeddings, kde_bandwidth)})
    return frame, float(spearmanr(frame["sketch"], frame["exact_kde"]).statistic)


# ---- pre-training on every subset -------------------------------------------------------------------


@dataclass
class SelectionRun:
    """One row per trained model (``summary``), their validation curves, and the zero-shot table."""

    summary: pd.DataFrame
    curves: pd.DataFrame
    zero_shot: pd.DataFrame
    budget_tokens: int


def run_selection_grid(
    corpus: SelectionCorpus,
    subsets: dict[tuple[str, float], np.ndarray],
    tokenizer,
    val_blocks,
    run_dir: "str | Path",
    *,
    large: ModelShape,
    small: ModelShape,
    train_config: TrainConfig,
    seq_len: int,
    tasks: dict | None = None,
    seed: int = 0,
) -> SelectionRun:
    """Pre-train the ``large`` shape on every subset and on full data, and the ``small`` one on full data
    (the over-scaling reference), all on ``train_config.steps * batch_size * seq_len`` tokens; then
    zero-shot evaluate every model."""
    from mini_lib.core.zero_shot import evaluate_tasks

    if (FULL, 1.0) not in subsets:
        raise ConfigError("subsets must include full-data training ('full', 1.0): see make_subsets")
    budget = budget_tokens(train_config.steps, train_config.batch_size, seq_len)
    cells, info = [], {}
    jobs = [("small", FULL, 1.0)] + [("large", s, f) for (s, f) in subsets]
    for size, sampler, fraction in jobs:
        shape = small if size == "small" else large
        kept = subsets[sampler, fraction]
        blocks = pack_corpus(tokenizer, [corpus.texts[i] for i in kept], [int(i) for i in kept], seq_len)
        config = neox_config(shape, vocab_size=len(tokenizer), max_seq_len=seq_len)
        name = f"{size}-{sampler}-{fraction:g}"
        info[name] = {"model": size, "sampler": sampler, "keep_fraction": fraction, "n_docs": len(kept),
                      "subset_tokens": blocks.n_tokens,
                      "epochs": equal_token_budget_epochs(blocks.n_tokens, budget)}
        cells.append(GridCell(name, {"model": size, "sampler": sampler, "keep_fraction": fraction},
                              lambda c=config: build_model(c, seed=seed), blocks, train_config, val_blocks,
                              keep_model=tasks is not None))
    grid = run_grid(cells, run_dir)
    summary = grid.summary.merge(pd.DataFrame([{"name": k, **v} for k, v in info.items()])
                                 .drop(columns=["model", "sampler", "keep_fraction"]), on="name")
    zero = []
    if tasks is not None:
        for name, model in grid.models.items():
            table = evaluate_tasks(model, tokenizer, tasks, max_length=seq_len)
            zero += [{"name": name, **info[name], **row} for row in table.to_dict(orient="records")]
            summary.loc[summary["name"] == name, "zero_shot_acc"] = float(table["acc"].mean())
    return SelectionRun(add_over_scaling(summary, grid.curves), grid.curves, pd.DataFrame(zero), budget)


def steps_to_reach(curve: pd.DataFrame, target: float) -> float:
    """First evaluation step whose validation loss is <= ``target`` (NaN if never)."""
    hit = curve.loc[curve["val_loss"] <= target + 1e-9, "step"]
    return float(hit.min()) if len(hit) else float("nan")


def add_over_scaling(summary: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Over-scaling (validation loss) of every large-model row, and its convergence speed: the steps
    it needs to reach the full-data large model's final validation loss, and the speed-up."""
    out = summary.copy()
    large_full = out[(out["model"] == "large") & (out["sampler"] == FULL)]
    small_full = out[(out["model"] == "small") & (out["sampler"] == FULL)]
    if large_full.empty or small_full.empty:
        raise ConfigError("over-scaling needs the large and the small model trained on full data")
    loss_full, loss_small = float(large_full["val_loss"].iloc[0]), float(small_full["val_loss"].iloc[0])
    scale_gain_ok = loss_full != loss_small
    out["over_scaling"] = [
        over_scaling(v, loss_full, loss_small) if m == "large" and scale_gain_ok else float("nan")
        for v, m in zip(out["val_loss"], out["model"])
    ]
    def reach_of(name: str) -> float:
        return steps_to_reach(curves[curves["name"] == name], loss_full) if len(curves) else math.nan

    full_steps = reach_of(large_full["name"].iloc[0])
    reach = [reach_of(n) for n in out["name"]]
    out["steps_to_full_loss"] = reach
    out["speedup"] = [1 - r / full_steps if np.isfinite(r) and full_steps > 0 else float("nan") for r in reach]
    return out


# ---- the paper's numbers next to ours -------------------------------------------------------------


def _nearest(frame: pd.DataFrame, fraction: float) -> pd.DataFrame:
    fractions = frame["keep_fraction"].unique()
    best = fractions[np.argmin(np.abs(fractions - fraction))]
    return frame[frame["keep_fraction"] == best]


def paper_vs_ours(summary: pd.DataFrame, samplers: Sequence[str]) -> pd.DataFrame:
    """The paper's over-scaling at 20% (T5-Large) next to ours at the fraction nearest 20%, one ``PaperRow`` per
    sampler, then the paper's three qualitative claims with what we measured; ``setting`` names the keep
    fraction our number is at."""
    large = summary[(summary["model"] == "large") & (summary["sampler"] != FULL)]
    full = summary[(summary["model"] == "large") & (summary["sampler"] == FULL)].iloc[0]
    rows = []
    for sampler in samplers:
        mine = _nearest(large[large["sampler"] == sampler], 0.2)
        rows.append(PaperRow(
            f"over-scaling at 20%: {sampler}",
            _at_fraction(float(mine["keep_fraction"].iloc[0])) if len(mine) else "large model, sampler not in this run",
            PAPER_OVER_SCALING_20PCT.get(sampler, float("nan")),
            float(mine["over_scaling"].iloc[0]) if len(mine) else float("nan"),
            "" if sampler in PAPER_OVER_SCALING_20PCT else "the paper reports no number for this sampler here",
            PAPER_SOURCE))
    ask = large[large["sampler"] == "askllm"]
    if len(ask):
        low = ask[ask["keep_fraction"] == ask["keep_fraction"].min()].iloc[0]
        rows.append(PaperRow(PAPER_CLAIMS["askllm_beats_full_at_10pct"], _at_fraction(float(low["keep_fraction"])), 1.0,
                             float(low["val_loss"] < full["val_loss"]),
                             f"1 = yes; val loss {low['val_loss']:.3f} vs full {full['val_loss']:.3f}", PAPER_SOURCE))
        rows.append(PaperRow(PAPER_CLAIMS["askllm_faster_convergence"], "large model, best over keep fractions",
                             PAPER_MAX_SPEEDUP,
                             float(np.nanmax(ask["speedup"])) if ask["speedup"].notna().any() else float("nan"),
                             "largest speed-up over fractions; NaN: never reached the full-data loss", PAPER_SOURCE))
    dens = large[large["sampler"] == "density"]
    if len(dens):
        best = dens.loc[dens["val_loss"].idxmin()]
        rows.append(PaperRow(PAPER_CLAIMS["density_recovers_full"], _at_fraction(float(best["keep_fraction"])), 0.0,
                             float(best["val_loss"] - full["val_loss"]),
                             "best density val loss minus full-data val loss (<= 0: recovered)", PAPER_SOURCE))
    return paper_vs_ours_table(rows)


def _at_fraction(keep_fraction: float) -> str:
    """Where our number of a ``paper_vs_ours`` row is measured."""
    return f"large model, keep fraction {keep_fraction:g}"


# ---- the value of a quality sampler is the value of its scorer -------------------------------------

SWEEP_PREFIX = "auroc="  # sampler name of a synthetic scorer in the sweep, e.g. "auroc=0.70"
REAL_SCORERS = ("askllm", "perplexity")


def sweep_subsets(scores: CorpusScores, corpus: SelectionCorpus, aurocs: Sequence[float], keep_fraction: float, *,
                  density_fraction: float, seed: int, sketch: SketchConfig = SketchConfig()
                  ) -> tuple[dict[tuple[str, float], np.ndarray], dict[str, float]]:
    """Kept sets of one seed of the scorer sweep, and the AUROC of every scorer behind them.

    At ``keep_fraction``: random, the real scorers (Ask-LLM when scored, perplexity) and one
    synthetic scorer per target AUROC (``metrics.scorer_of_auroc``: the clean label plus noise drawn
    from ``seed``); Density at ``density_fraction``; full data. Everything else stays fixed (corpus,
    tokenizer, budget), so the scorer is the only thing that changes along the AUROC axis.
    """
    samplers = ["random", "perplexity"] + (["askllm"] if scores.askllm else [])
    subsets = make_subsets(scores, samplers, [keep_fraction], seed=seed, sketch=sketch)
    subsets["density", float(density_fraction)] = select("density", density_fraction, seed=seed, config=sketch,
                                                         embeddings=scores.embeddings)
    auroc = {"perplexity": scorer_auroc(-scores.perplexity, corpus.is_good)}
    if scores.askllm:
        auroc["askllm"] = scorer_auroc(next(iter(scores.askllm.values())), corpus.is_good)
    for target in aurocs:
        synthetic = scorer_of_auroc(corpus.is_good, target, seed=seed)
        name = f"{SWEEP_PREFIX}{target:.2f}"
        subsets[name, float(keep_fraction)] = select("askllm", keep_fraction, scores=synthetic)
        auroc[name] = scorer_auroc(synthetic, corpus.is_good)
    return subsets, auroc


def run_scorer_sweep(corpus: SelectionCorpus, scores: CorpusScores, tokenizer, val_blocks, run_dir: "str | Path", *,
                     aurocs: Sequence[float], keep_fraction: float, density_fraction: float, seeds: Sequence[int],
                     large: ModelShape, small: ModelShape, train_config: TrainConfig, seq_len: int,
                     sketch: SketchConfig = SketchConfig()) -> pd.DataFrame:
    """Train every kept set of ``sweep_subsets`` once per seed (seed = model init, data order and the
    synthetic scorers' noise); one row per model with ``seed`` and ``scorer_auroc`` (NaN: no scorer).
    Only the final validation loss counts here, so periodic evaluation is switched off."""
    from dataclasses import replace

    if not seeds:
        raise ConfigError("the scorer sweep needs at least one seed")
    frames = []
    for seed in seeds:
        subsets, auroc = sweep_subsets(scores, corpus, aurocs, keep_fraction, density_fraction=density_fraction,
                                       seed=seed, sketch=sketch)
        run = run_selection_grid(corpus, subsets, tokenizer, val_blocks, Path(run_dir) / f"seed{seed}", large=large,
                                 small=small, train_config=replace(train_config, seed=seed, eval_every=0), seq_len=seq_len,
                                 seed=seed)
        frames.append(run.summary.assign(seed=seed, scorer_auroc=run.summary["sampler"].map(auroc)))
    return pd.concat(frames, ignore_index=True)


def _per_seed(sweep: pd.DataFrame, sampler: str, column: str = "val_loss") -> np.ndarray:
    """``column`` of the large model trained on ``sampler``'s kept set, in seed order."""
    rows = sweep[(sweep["model"] == "large") & (sweep["sampler"] == sampler)].sort_values("seed")
    if rows.empty:
        raise ConfigError(f"the sweep has no large model for sampler {sampler!r}")
    return rows[column].to_numpy(dtype=float)


def sweep_verdicts(sweep: pd.DataFrame, *, k: float = 2.0, floor: float = 0.0) -> pd.DataFrame:
    """Per scorer: mean AUROC, over-scaling and val loss over seeds, and whether it beats full data and
    random (``claims.compare_seeds`` on val loss, paired by seed: lower is better)."""
    full, rand = _per_seed(sweep, FULL), _per_seed(sweep, "random")
    rows = []
    for sampler in [s for s in sweep["sampler"].unique() if s in REAL_SCORERS or s.startswith(SWEEP_PREFIX)]:
        loss = _per_seed(sweep, sampler)
        vs_full = compare_seeds(full, loss, k=k, floor=floor)
        vs_random = compare_seeds(rand, loss, k=k, floor=floor)
        rows.append({"scorer": sampler, "auroc": float(np.mean(_per_seed(sweep, sampler, "scorer_auroc"))),
                     "over_scaling": float(np.mean(_per_seed(sweep, sampler, "over_scaling"))),
                     "val_loss": float(loss.mean()), "gain_vs_full": vs_full.difference,
                     "vs_full": vs_full.verdict, "gain_vs_random": vs_random.difference,
                     "vs_random": vs_random.verdict})
    return pd.DataFrame(rows).sort_values("auroc", ignore_index=True)


def first_auroc_that_beats(verdicts: pd.DataFrame, against: str) -> float:
    """The lowest synthetic-scorer AUROC from which every higher one beats ``against`` ("full" or
    "random") beyond noise; NaN when even the best does not."""
    synthetic = verdicts[verdicts["scorer"].str.startswith(SWEEP_PREFIX)].sort_values("auroc")
    wins = (synthetic[f"vs_{against}"] == "holds").to_numpy()
    if not len(wins) or not wins[-1]:
        return float("nan")
    first = len(wins) - int(np.argmin(wins[::-1])) if not wins.all() else 0
    return float(synthetic["auroc"].iloc[first])


CLAIM_K, CLAIM_FLOOR = 2.0, 0.01  # the rule, fixed before any run: 2 paired seed spreads, at least 0.01 nats


def selection_claims(sweep: pd.DataFrame, *, keep_fraction: float, density_fraction: float) -> list[Claim]:
    """The paper's headline claims as ``claims.Claim`` rows, decided on the sweep's seeds by
    ``compare_seeds`` on clean validation loss (paired by seed, lower is better)."""
    rule = (f"val loss difference over {sweep['seed'].nunique()} paired seeds beyond max({CLAIM_K:g} seed spreads, "
            f"{CLAIM_FLOOR} nats)")
    verdicts = sweep_verdicts(sweep, k=CLAIM_K, floor=CLAIM_FLOOR)
    beats_full, beats_random = first_auroc_that_beats(verdicts, FULL), first_auroc_that_beats(verdicts, "random")
    mechanism = "; ".join(f"no synthetic scorer, a perfect one included, beats {what} beyond noise" if np.isnan(auroc)
                          else f"synthetic scorers beat {what} from AUROC {auroc:.2f}"
                          for what, auroc in (("full data", beats_full), ("random", beats_random)))
    full = _per_seed(sweep, FULL)
    claims = []
    if "askllm" in set(sweep["sampler"]):
        ask = _per_seed(sweep, "askllm")
        auroc = float(_per_seed(sweep, "askllm", "scorer_auroc")[0])
        os_ask = float(np.mean(_per_seed(sweep, "askllm", "over_scaling")))
        c = compare_seeds(full, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", PAPER_CLAIMS["askllm_beats_full_at_10pct"], PAPER_SOURCE,
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} at 20% (T5-Large)",
                            f"over-scaling {os_ask:+.1f} at {keep_fraction:.0%}; full - Ask-LLM loss "
                            f"{c.describe(' nats')}", rule + "; holds if full data's loss is higher", c.verdict,
                            f"scorer AUROC {auroc:.2f}; {mechanism}"))
        ppl = _per_seed(sweep, "perplexity")
        c = compare_seeds(ppl, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", "Ask-LLM ranks above Perplexity filtering", PAPER_SOURCE,
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} vs "
                            f"{PAPER_OVER_SCALING_20PCT['perplexity']} at 20%",
                            f"perplexity - Ask-LLM loss {c.describe(' nats')} at {keep_fraction:.0%}",
                            rule + "; holds if perplexity's loss is higher", c.verdict,
                            f"AUROC Ask-LLM {auroc:.2f} vs perplexity "
                            f"{float(_per_seed(sweep, 'perplexity', 'scorer_auroc')[0]):.2f}"))
    dens = _per_seed(sweep, "density")
    c = compare_seeds(dens, full, direction=-1, k=CLAIM_K, floor=CLAIM_FLOOR)
    claims.append(Claim("2402.09668", PAPER_CLAIMS["density_recovers_full"], PAPER_SOURCE,
                        f"over-scaling +{PAPER_OVER_SCALING_20PCT['density']} at 20%",
                        f"density at {density_fraction:.0%} - full loss {c.describe(' nats')}",
                        rule + "; holds if density's loss is lower, reversed if higher", c.verdict,
                        "an equal-quality claim: 'within noise' means no difference this run can see"))
    return claims
