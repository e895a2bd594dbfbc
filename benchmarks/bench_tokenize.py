"""Tokenisation throughput on the cpu-profile corpus (goal: >= 1M tokens/s on 2 cores, small vocab).

Usage: .venv/bin/python benchmarks/bench_tokenize.py [--stories 20000] [--vocab 2048]
CPU-seconds (process time, all threads) are printed beside wall time: on a shared machine the wall
figure mostly measures the other jobs. Compares the batched Rust encoder used by mini_lib (encode_documents) with a one-document-at-a-time
loop, on the same tokenizer and texts, and prints tokens/s for both.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("MINI_LIB_CACHE", tempfile.mkdtemp())

from mini_lib.core.tokenization import encode_documents, pack_documents, train_tokenizer  # noqa: E402
from mini_lib.corpora.storyworld import generate_stories  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=20_000)
    parser.add_argument("--vocab", type=int, default=2048)
    args = parser.parse_args()
    texts = generate_stories(args.stories, seed=0)["text"]
    started = time.perf_counter()
    tokenizer = train_tokenizer(texts, args.vocab, cache=False)
    train_s = time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    ids = encode_documents(tokenizer, texts)
    batched_s, batched_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    n_tokens = sum(map(len, ids))

    sample = texts[: max(1, len(texts) // 10)]
    started = time.perf_counter()
    looped = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in sample)
    loop_s = time.perf_counter() - started

    started = time.perf_counter()
    pack_documents(ids, list(range(len(ids))), 128, tokenizer.eos_token_id)
    pack_s = time.perf_counter() - started
    print(f"corpus: {len(texts):,} stories, {sum(len(t) for t in texts) / 1e6:.1f} MB, {n_tokens:,} tokens (vocab {args.vocab})")
    print(f"tokenizer training:          {train_s:6.2f} s")
    print(f"batched encode (mini_lib):   {n_tokens / batched_s / 1e6:6.2f} M tokens/s wall, "
          f"{n_tokens / batched_cpu / 1e6:.2f} M tokens per CPU-second (all threads; robust to other load)")
    print(f"one document at a time:      {looped / loop_s / 1e6:6.2f} M tokens/s   (ratio {n_tokens / batched_s / (looped / loop_s):.1f}x)")
    print(f"packing into 128-token blocks: {n_tokens / pack_s / 1e6:6.2f} M tokens/s")


if __name__ == "__main__":
    main()
