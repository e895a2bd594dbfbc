"""The samplers of the data-selection study, behind one registry: ``select(name, keep_fraction, ...)``.

"How to Train Data-Efficient LLMs" (arXiv 2402.09668) compares samplers that keep a fraction of a
corpus: Random; quality scorers (Ask-LLM keeps the highest P(yes); Perplexity filtering keeps the
lowest proxy-LM perplexity, or a middle band); and coverage samplers on embeddings (Density,
SemDeDup, SSL Prototypes). Every sampler returns the *sorted* indices it keeps, so a subset keeps
the corpus order. Scores (P(yes), perplexities) and embeddings are computed beforehand with
``askllm``, ``perplexity`` and ``embeddings``, and can be cached and reused across keep fractions.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.papers.data_selection.density import density_subset
from mini_lib.papers.data_selection.keep import as_scores, keep_top, n_to_keep
from mini_lib.papers.data_selection.prototypes import prototype_subset
from mini_lib.papers.data_selection.semdedup import semdedup_subset


def random_subset(n: int, keep_fraction: float, *, seed: int = 0) -> np.ndarray:
    """A uniform random ``keep_fraction`` of ``n`` examples, without replacement."""
    k = n_to_keep(n, keep_fraction)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def askllm_subset(p_yes: np.ndarray, keep_fraction: float) -> np.ndarray:
    """Ask-LLM: keep the examples the scorer most believes are informative (highest P(yes))."""
    return keep_top(p_yes, keep_fraction, largest=True)


def perplexity_subset(perplexities: np.ndarray, keep_fraction: float, *, band: str = "low") -> np.ndarray:
    """Perplexity filtering: keep the lowest perplexities (``band="low"``), or the middle band
    (``band="middle"``: drop equal shares of the lowest and the highest)."""
    ppl = as_scores(perplexities, "perplexities")
    choose("band", band, ("low", "middle"))
    if band == "low":
        return keep_top(ppl, keep_fraction, largest=False)
    k = n_to_keep(len(ppl), keep_fraction)
    order = np.argsort(ppl, kind="stable")
    start = (len(ppl) - k) // 2
    return np.sort(order[start : start + k])


@dataclass(frozen=True)
class Sampler:
    """A registry entry: what the sampler reads (``n``, ``scores`` or ``embeddings``) and how."""

    name: str
    needs: str
    seeded: bool
    run: Callable[..., np.ndarray]
    description: str


SAMPLERS: dict[str, Sampler] = {
    s.name: s
    for s in (
        Sampler("random", "n", True, random_subset, "uniform random subset"),
        Sampler("askllm", "scores", False, askllm_subset, "highest Ask-LLM P(yes)"),
        Sampler("perplexity", "scores", False, perplexity_subset, "lowest proxy-LM perplexity"),
        Sampler(
            "perplexity_middle",
            "scores",
            False,
            lambda ppl, f: perplexity_subset(ppl, f, band="middle"),
            "middle band of proxy-LM perplexity",
        ),
        Sampler("density", "embeddings", True, density_subset, "inverse-propensity sample by LSH kernel density"),
        Sampler("semdedup", "embeddings", True, semdedup_subset, "drop within-cluster semantic near-duplicates"),
        Sampler("prototypes", "embeddings", True, prototype_subset, "drop examples nearest their k-means centroid"),
    )
}


def select(
    name: str,
    keep_fraction: float,
    *,
    scores: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    n: int | None = None,
    seed: int = 0,
    **options,
) -> np.ndarray:
    """Sorted indices kept by sampler ``name`` at ``keep_fraction`` in (0, 1].

    ``scores`` feed the score samplers (P(yes) for ``askllm``, perplexities for ``perplexity*``),
    ``embeddings`` the coverage samplers; ``random`` needs only ``n`` (or takes it from the other
    inputs). ``options`` go to the sampler (e.g. ``config=SketchConfig(...)`` for density,
    ``n_clusters=`` for semdedup / prototypes).
    """
    sampler = SAMPLERS[choose("sampler", name, SAMPLERS)]
    check_fraction("keep_fraction", keep_fraction, allow_zero=False)
    if sampler.needs == "n":
        if n is None:
            given = scores if scores is not None else embeddings
            if given is None:
                raise ConfigError(f"sampler {name!r} needs n (or scores / embeddings to take n from)")
            n = len(given)
        data = n
    else:
        data = scores if sampler.needs == "scores" else embeddings
        if data is None:
            raise ConfigError(f"sampler {name!r} needs {sampler.needs}=...")
    accepted = [p for p in inspect.signature(sampler.run).parameters if p not in ("seed",)][2:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"sampler {name!r} takes no option(s) {unknown}; its options: {', '.join(accepted) or 'none'}"
        )
    kwargs = dict(options, seed=seed) if sampler.seeded else options
    return sampler.run(data, keep_fraction, **kwargs)
