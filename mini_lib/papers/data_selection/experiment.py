"""The data-selection experiment of notebook 06: score once, sample at several fractions, pre-train on
an equal token budget.

Follows "How to Train Data-Efficient LLMs" (arXiv 2402.09668): every sampler keeps {10, 20, 40, 60, 80}%
of the corpus (``data.build_corpus``); the larger model is pre-trained on each subset for the same number
of tokens (a smaller subset is repeated for more epochs), the larger and a smaller model on full data.
Each large-model row gets the paper's over-scaling metric (``metrics.over_scaling``: the larger model on
a subset vs the larger model on full data, in units of the gain from a smaller to the larger model, both
on full data) and its convergence speed-up.

Scores are computed once per corpus and cached in the artefact store (``mini_lib.core.store``, under
``cache_dir()/selection_scores``), keyed by the texts, the scorer and the prompt: Ask-LLM P(yes) from
a local instruction-tuned model (default SmolLM2-135M-Instruct), perplexity from a proxy LM
pre-trained by the training core on a small clean sample, MiniLM embeddings for Density, SemDeDup and
SSL Prototypes.

The scorer sweep (``run_scorer_sweep``) asks why a quality sampler wins or loses: it keeps the corpus,
tokenizer and budget fixed and swaps the scorer for synthetic ones of known AUROC (the clean label plus
noise, ``metrics.scorer_of_auroc``), next to the real scorers, over several seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.grid import GridCell, run_grid
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.paths import cache_dir, texts_fingerprint
from mini_lib.core.store import Spec, cached_array
from mini_lib.core.tokenization import pack_corpus
from mini_lib.core.train import TrainConfig
from mini_lib.papers.data_selection.data import SelectionCorpus
from mini_lib.papers.data_selection.density import SketchConfig
from mini_lib.papers.data_selection.metrics import (
    equal_token_budget_epochs,
    over_scaling,
    scorer_auroc,
    scorer_of_auroc,
)
from mini_lib.papers.data_selection.samplers import SAMPLERS, select
from mini_lib.papers.data_selection.settings import DataSelectionSettings

FULL = "full"  # the sampler name of full-data training (keep fraction 1.0)
SCORE_SAMPLERS = {"askllm": "askllm", "perplexity": "perplexity", "perplexity_middle": "perplexity"}


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


def proxy_train_config(s: DataSelectionSettings) -> TrainConfig:
    """``proxy_steps`` steps with the grid's optimiser settings, evaluated only at the end."""
    return TrainConfig.from_settings(s, steps=s.proxy_steps, eval_every=0, **_QUIET)


def train_config(s: DataSelectionSettings) -> TrainConfig:
    """Every model of the grid and of the sweep: ``steps`` steps of ``batch_size`` blocks, the same budget."""
    return TrainConfig.from_settings(s, **_QUIET)


def sketch_config(s: DataSelectionSettings) -> SketchConfig:
    return SketchConfig(n_hashes=s.sketch_hashes, n_buckets=s.sketch_buckets, bandwidth=s.sketch_bandwidth, seed=s.seed)


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
    fuse: int = 1,
) -> SelectionRun:
    """Pre-train the ``large`` shape on every subset and on full data, and the ``small`` one on full data
    (the over-scaling reference), all on ``train_config.steps * batch_size * seq_len`` tokens; then
    zero-shot evaluate every model. ``fuse``: same-shape models trained at once (``grid.run_grid``)."""
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
    grid = run_grid(cells, run_dir, fuse=fuse)
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


# ---- the value of a quality sampler is the value of its scorer -------------------------------------


SWEEP_PREFIX = "auroc="  # sampler name of a synthetic scorer in the sweep, e.g. "auroc=0.70"


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
                     sketch: SketchConfig = SketchConfig(), fuse: int = 1) -> pd.DataFrame:
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
                                 seed=seed, fuse=fuse)
        frames.append(run.summary.assign(seed=seed, scorer_auroc=run.summary["sampler"].map(auroc)))
    return pd.concat(frames, ignore_index=True)
