"""Corpora behind one interface: a ``datasets.Dataset`` with ``id`` and ``text`` plus metadata columns.

* ``storyworld``: the embedded, seeded story generator (the offline default);
* ``noise``: labelled low-quality documents injected at a chosen fraction;
* ``loaders``: local txt/jsonl/parquet files and Hugging Face hub datasets, and seeded splits;
* ``stats``: word frequencies, Zipf fits and n-gram diversity.
"""

from mini_lib.corpora.loaders import load_corpus, load_hub, load_local, train_val_split
from mini_lib.corpora.noise import LOW_QUALITY_KINDS, inject_low_quality
from mini_lib.corpora.storyworld import TIERS, generate_stories, realise, simple_vocabulary, story_plan

__all__ = [
    "LOW_QUALITY_KINDS", "TIERS", "generate_stories", "inject_low_quality", "load_corpus", "load_hub",
    "load_local", "realise", "simple_vocabulary", "story_plan", "train_val_split",
]
