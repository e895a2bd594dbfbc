"""Time the storyworld generator on one core: plans/s, and MB/s of story text.

The corpus is generated on the fly by every notebook, so it has to be cheap: the target is at
least 2 MB of text per second on one core. Three figures per tier: planning alone, planning plus
realisation (the text itself), and the full ``generate_stories`` call (plus the plan JSON column
and the ``datasets.Dataset``). CPU time of this process is reported beside wall time, so a busy
machine does not hide the generator's own cost. Run:
``.venv/bin/python benchmarks/bench_storyworld.py [--n 20000] [--seed 0]``.
"""

import argparse
import time

from mini_lib.corpora.storyworld import TIERS, generate_stories, realise, story_plan


def timed(fn):
    """Run ``fn`` once; return its result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="stories per measurement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    plans, wall, cpu = timed(lambda: [story_plan(i, args.seed) for i in range(args.n)])
    print(f"story_plan: {args.n / wall:,.0f} plans/s wall, {args.n / cpu:,.0f} plans/s cpu")
    for tier in TIERS:
        texts, wall, cpu = timed(lambda: [realise(story_plan(i, args.seed), tier) for i in range(args.n)])
        mb = sum(len(t.encode()) for t in texts) / 1e6
        print(f"{tier:6s} plan+realise: {mb / wall:5.2f} MB/s wall, {mb / cpu:5.2f} MB/s cpu "
              f"({mb:.1f} MB, {mb * 1e6 / args.n:.0f} bytes/story)")
        ds, wall, cpu = timed(lambda: generate_stories(args.n, seed=args.seed, tier=tier))
        print(f"{tier:6s} generate_stories (with plan JSON and Dataset): {mb / wall:5.2f} MB/s wall, "
              f"{mb / cpu:5.2f} MB/s cpu, {len(ds) / wall:,.0f} stories/s wall")


if __name__ == "__main__":
    main()
