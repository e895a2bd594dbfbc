"""The numbers and tables notebook 06 reads off the data-selection runs ("How to Train Data-Efficient
LLMs", arXiv 2402.09668): what each sampler kept of every labelled kind, its precision against the clean
labels, every scorer's AUROC, the LSH sketch against an exact KDE, and per scorer of the sweep whether
it beats full data and random on paired seeds (``claims.compare_seeds``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mini_lib.core.claims import compare_seeds
from mini_lib.core.errors import ConfigError
from mini_lib.corpora.noise import CLEAN
from mini_lib.papers.data_selection.data import SelectionCorpus
from mini_lib.papers.data_selection.density import SketchConfig, density_scores, exact_kde
from mini_lib.papers.data_selection.experiment import FULL, SWEEP_PREFIX, CorpusScores
from mini_lib.papers.data_selection.metrics import scorer_auroc, selection_quality

REAL_SCORERS = ("askllm", "perplexity")


# ---- kept sets and scorers against the labels ----------------------------------------------------


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


# ---- the scorer sweep, per scorer ----------------------------------------------------------------


def per_seed(sweep: pd.DataFrame, sampler: str, column: str = "val_loss") -> np.ndarray:
    """``column`` of the large model trained on ``sampler``'s kept set, in seed order."""
    rows = sweep[(sweep["model"] == "large") & (sweep["sampler"] == sampler)].sort_values("seed")
    if rows.empty:
        raise ConfigError(f"the sweep has no large model for sampler {sampler!r}")
    return rows[column].to_numpy(dtype=float)


def sweep_verdicts(sweep: pd.DataFrame, *, k: float = 2.0, floor: float = 0.0) -> pd.DataFrame:
    """Per scorer: mean AUROC, over-scaling and val loss over seeds, and whether it beats full data and
    random (``claims.compare_seeds`` on val loss, paired by seed: lower is better)."""
    full, rand = per_seed(sweep, FULL), per_seed(sweep, "random")
    rows = []
    for sampler in [s for s in sweep["sampler"].unique() if s in REAL_SCORERS or s.startswith(SWEEP_PREFIX)]:
        loss = per_seed(sweep, sampler)
        vs_full = compare_seeds(full, loss, k=k, floor=floor)
        vs_random = compare_seeds(rand, loss, k=k, floor=floor)
        rows.append({"scorer": sampler, "auroc": float(np.mean(per_seed(sweep, sampler, "scorer_auroc"))),
                     "over_scaling": float(np.mean(per_seed(sweep, sampler, "over_scaling"))),
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
