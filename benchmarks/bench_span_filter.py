"""Throughput of the span filter (simplified-vocabulary paper) on one core, in MB/s.

Generates ~50 MB of web-like English (documents of simple and harder sentences, with numbers,
quotes, abbreviations and line breaks), filters it with the AO-CHILDES list (or the built-in list
when ../shared/data is absent) in both modes, rounds alternating, and prints each mode's best MB/s.
Run: ``.venv/bin/python benchmarks/bench_span_filter.py``.
"""

import argparse
import time

import numpy as np

from mini_lib.core.paths import shared_data_dir
from mini_lib.papers.simplified_vocab.span_filter import MODES, filter_corpus
from mini_lib.papers.simplified_vocab.vocabulary import builtin_vocabulary, load_word_list

SIMPLE = [
    "The little dog ran to the park with his ball.",
    "Mom said we can have cake after dinner if we eat our peas.",
    "It was a very cold day, so the children put on their hats and coats.",
    "\u201cCan I play outside?\u201d asked the girl.",
    "They walked home together and talked about the big red truck.",
    "She gave her brother 3 cookies and kept 2 for herself.",
    "The cat sat on the warm bed and went to sleep.",
    "We don\u2019t have to go to school today because it is Saturday.",
    "Dad read a story about a bear who lost his way in the woods.",
    "Mr. Brown has a farm with cows, pigs and a very old horse.",
]
HARD = [
    "The committee approved the municipal budget of $4,250,000.50 after a lengthy deliberation.",
    "Researchers observed a statistically significant correlation between the variables (p < 0.05).",
    "According to Dr. Patel, the quarterly revenue increased by 12.5% compared to the previous year.",
    "Photosynthesis converts electromagnetic radiation into chemical energy, e.g. glucose.",
    "The software update introduces configurable authentication and improved encryption protocols.",
    "Historians continue to debate the geopolitical consequences of the treaty signed in 1648.",
]
RARE = "quantum algorithm infrastructure jurisdiction pharmaceutical legislation paradigm".split()


def make_corpus(megabytes: float, seed: int = 0) -> list[str]:
    """Documents of 10-60 sentences, 70% simple; some simple sentences get one rare word."""
    rng = np.random.default_rng(seed)
    docs, size = [], 0
    while size < megabytes * 1e6:
        parts = []
        for _ in range(int(rng.integers(10, 60))):
            if rng.random() < 0.7:
                s = SIMPLE[rng.integers(len(SIMPLE))]
                if rng.random() < 0.1:
                    s = s.replace(" the ", f" the {RARE[rng.integers(len(RARE))]} ", 1)
            else:
                s = HARD[rng.integers(len(HARD))]
            parts.append(s + ("\n" if rng.random() < 0.1 else " "))
        doc = "".join(parts)
        docs.append(doc)
        size += len(doc.encode())
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    path = shared_data_dir() / "aochildes_vocab.csv"
    vocab, name = (load_word_list(path), "AO-CHILDES") if path.is_file() else (builtin_vocabulary(), "built-in")
    docs = make_corpus(args.megabytes)
    megabytes = sum(len(d.encode()) for d in docs) / 1e6
    print(f"vocabulary: {name} ({len(vocab):,} words); corpus: {len(docs):,} documents, {megabytes:.1f} MB")
    best = {}
    for _ in range(args.rounds):
        for mode in MODES:
            wall, cpu = time.perf_counter(), time.process_time()
            _, stats = filter_corpus(docs, vocab, mode=mode)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if cpu < best.get(mode, (float("inf"),))[0]:
                best[mode] = (cpu, wall, stats)
    for mode, (cpu, wall, stats) in best.items():
        # CPU time of this (single-threaded) process: robust to other jobs sharing the machine
        print(f"{mode}: {megabytes / cpu:.1f} MB/s on one core ({cpu:.2f} s CPU, {wall:.2f} s wall); {stats}")


if __name__ == "__main__":
    main()
