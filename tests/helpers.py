"""Small shared builders for tests: a word corpus, its tokenizer and blocks, a tiny model."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from functools import lru_cache

import torch

from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.paths import REPO_ROOT
from mini_lib.core.tokenization import pack_corpus, train_tokenizer

WORDS = "the a cat dog ran saw big small red ball park tree happy sad tom mia went to and with".split()
TINY = ModelShape(n_layers=2, d_model=32, n_heads=2)


def word_corpus(n_docs: int = 400, n_words: int = 40, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(n_words)) + "." for _ in range(n_docs)]


@lru_cache(maxsize=4)
def tiny_setup(n_docs: int = 400, seq_len: int = 32, vocab: int = 320):
    """(tokenizer, blocks) over the word corpus, built once per session."""
    texts = word_corpus(n_docs)
    tokenizer = train_tokenizer(texts, vocab, model_max_length=seq_len)
    return tokenizer, pack_corpus(tokenizer, texts, list(range(1000, 1000 + n_docs)), seq_len)


def tiny_model(vocab: int, seq_len: int = 32, seed: int = 0):
    return build_model(neox_config(TINY, vocab, seq_len), seed=seed)


@contextmanager
def single_thread():
    """Tiny tensor ops run faster on one thread than two fighting over 2 cores (OpenMP spin-waits)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_python(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter importing this checkout's mini_lib (for real crashes: SIGKILL)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env)
