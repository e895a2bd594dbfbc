"""Real zero-shot benchmarks from the hub (BLiMP, COPA, SST-2, QQP, MRPC, ARC-Easy, RTE, MNLI) as ``ChoiceTask`` items.

The simplified-vocabulary paper (arXiv 2404.02204) evaluates on these (and PIQA) through the
lm-evaluation-harness. This module turns rows of those hub datasets into ``ChoiceTask`` items with the
harness's prompts:

* ``convert_rows(name, rows)`` is pure Python over dict rows (the hub schema), so it is tested
  offline on hand-written rows; ``load_benchmark(name)`` fetches the rows with
  ``datasets.load_dataset`` when a network is allowed and fails at once with a clear message when
  the environment is offline (the smoke and cpu profiles are).
* keeping only the items whose every word is in a child vocabulary is that paper's own step
  (``mini_lib.papers.simplified_vocab.vocabulary.simplify``).

PIQA is left out: on the hub it is only a loading script, which ``datasets`` no longer runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.corpora.loaders import hub_offline


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark lives on the hub and how one of its rows becomes a ``ChoiceTask``."""

    hub_name: str
    config: str | None
    split: str
    convert: Callable[[dict], ChoiceTask]


def _blimp(row: dict) -> ChoiceTask:
    good, bad = row["sentence_good"], row["sentence_bad"]
    return ChoiceTask("", (good, bad), 0, "blimp", (good, bad))


def _copa(row: dict) -> ChoiceTask:
    connector = {"cause": "because", "effect": "therefore"}[row["question"]]
    premise = row["premise"].strip()
    context = (premise[:-1] if premise.endswith(".") else premise) + " " + connector
    options = tuple(" " + c[0].lower() + c[1:] for c in (row["choice1"], row["choice2"]))
    return ChoiceTask(context, options, int(row["label"]), "copa", (row["premise"], row["choice1"], row["choice2"]))


def _sst2(row: dict) -> ChoiceTask:
    context = f"{row['sentence'].strip()}\nQuestion: Is this sentence positive or negative?\nAnswer:"
    return ChoiceTask(context, (" negative", " positive"), int(row["label"]), "sst2", (row["sentence"],))


def _rte(row: dict) -> ChoiceTask:
    context = f"{row['sentence1']}\nQuestion: {row['sentence2']} True or False?\nAnswer:"
    return ChoiceTask(context, (" True", " False"), int(row["label"]), "rte", (row["sentence1"], row["sentence2"]))


def _mrpc(row: dict) -> ChoiceTask:
    context = (f"Sentence 1: {row['sentence1']}\nSentence 2: {row['sentence2']}\n"
               "Question: Do both sentences mean the same thing?\nAnswer:")
    return ChoiceTask(context, (" no", " yes"), int(row["label"]), "mrpc", (row["sentence1"], row["sentence2"]))


def _qqp(row: dict) -> ChoiceTask:
    context = (f"Question 1: {row['question1']}\nQuestion 2: {row['question2']}\n"
               "Question: Do both questions ask the same thing?\nAnswer:")
    return ChoiceTask(context, (" no", " yes"), int(row["label"]), "qqp", (row["question1"], row["question2"]))


def _mnli(row: dict) -> ChoiceTask:
    context = f"{row['premise']}\nQuestion: {row['hypothesis']} True, False or Neither?\nAnswer:"
    return ChoiceTask(context, (" True", " Neither", " False"), int(row["label"]), "mnli",
                      (row["premise"], row["hypothesis"]))


def _arc_easy(row: dict) -> ChoiceTask:
    texts, keys = row["choices"]["text"], row["choices"]["label"]
    if row["answerKey"] not in keys:
        raise ConfigError(f"ARC row {row.get('id', '?')}: answer key {row['answerKey']!r} is not one of {keys}")
    options = tuple(" " + t for t in texts)
    return ChoiceTask(f"Question: {row['question']}\nAnswer:", options, keys.index(row["answerKey"]), "arc_easy",
                      (row["question"], *texts))


# Hub locations (parquet datasets that load without scripts) and the harness's prompts.
BENCHMARKS: dict[str, Benchmark] = {
    "blimp": Benchmark("nyu-mll/blimp", "determiner_noun_agreement_1", "train", _blimp),
    "copa": Benchmark("aps/super_glue", "copa", "validation", _copa),
    "sst2": Benchmark("nyu-mll/glue", "sst2", "validation", _sst2),
    "rte": Benchmark("nyu-mll/glue", "rte", "validation", _rte),
    "mrpc": Benchmark("nyu-mll/glue", "mrpc", "validation", _mrpc),
    "qqp": Benchmark("nyu-mll/glue", "qqp", "validation", _qqp),
    "mnli": Benchmark("nyu-mll/glue", "mnli", "validation_matched", _mnli),
    "arc_easy": Benchmark("allenai/ai2_arc", "ARC-Easy", "test", _arc_easy),
}
# BLiMP subsets named in this package's results (any of BLiMP's 67 configs works as config=).
BLIMP_SUBSETS = ("determiner_noun_agreement_1", "regular_plural_subject_verb_agreement_1",
                 "anaphor_gender_agreement", "irregular_past_participle_verbs")


def convert_rows(name: str, rows: Iterable[dict], task: str | None = None) -> list[ChoiceTask]:
    """Rows of benchmark ``name`` (dicts with the hub's columns) as choice tasks named ``task``."""
    benchmark = BENCHMARKS[choose("benchmark", name, BENCHMARKS)]
    out = []
    for row in rows:
        try:
            item = benchmark.convert(row)
        except KeyError as missing:
            raise ConfigError(f"{name} rows need the column {missing}; got columns {sorted(row)}") from None
        if item.label < 0:  # GLUE test splits hide their labels as -1
            raise ConfigError(f"{name} row without a label (label -1): use a split with answers")
        out.append(ChoiceTask(item.context, item.options, item.label, task or item.task, item.source_texts))
    return out


def load_benchmark(name: str, config: str | None = None, split: str | None = None,
                   limit: int | None = None) -> list[ChoiceTask]:
    """Download a benchmark (network needed) and convert it; ``config`` picks e.g. a BLiMP subset."""
    benchmark = BENCHMARKS[choose("benchmark", name, BENCHMARKS)]
    config = config or benchmark.config
    if hub_offline():
        raise ConfigError(
            f"cannot load benchmark {name!r} ({benchmark.hub_name}, {config}): the hub is offline here "
            "(HF_HUB_OFFLINE/HF_DATASETS_OFFLINE, set by the smoke and cpu profiles). Use the storyworld "
            "tasks of mini_lib.core.zero_shot_tasks, or run with the gpu profile on a machine with a network."
        )
    import datasets

    split = split or benchmark.split
    if limit is not None:
        split = f"{split}[:{int(limit)}]"
    rows = datasets.load_dataset(benchmark.hub_name, config, split=split)
    task = name if name != "blimp" else f"blimp_{config}"
    return convert_rows(name, rows, task=task)
