"""Time the Density sampler's LSH count sketch on 1M random unit vectors of dimension 384.

The data-selection paper (arXiv 2402.09668) scores corpora of hundreds of millions of examples;
this script shows the vectorised sketch scales linearly: run
``.venv/bin/python benchmarks/bench_density.py [--n 1000000] [--dim 384]``.
"""

import argparse
import time

import numpy as np

from mini_lib.papers.data_selection.density import SketchConfig, density_scores, inverse_propensity_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--keep", type=float, default=0.2, help="keep fraction for the sampling step")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    x = rng.standard_normal((args.n, args.dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    print(f"generate {args.n:,} x {args.dim} unit vectors: {time.perf_counter() - start:.2f} s")

    config = SketchConfig()
    start = time.perf_counter()
    scores = density_scores(x, config)
    sketch_s = time.perf_counter() - start
    print(
        f"density_scores (R={config.n_hashes}, B={config.n_buckets}, K={config.n_concat}, "
        f"bandwidth={config.bandwidth}): {sketch_s:.2f} s, {args.n / sketch_s:,.0f} examples/s"
    )

    start = time.perf_counter()
    kept = inverse_propensity_sample(scores, int(round(args.keep * args.n)), seed=args.seed)
    print(f"inverse_propensity_sample k={len(kept):,}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
