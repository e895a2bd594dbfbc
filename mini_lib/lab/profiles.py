"""Profiles: the one place that says how big every notebook's run is.

* ``smoke``: CI; about a minute per notebook on 2 cores; proves every cell runs.
* ``cpu``: a laptop or Binder; at most ~10 minutes and ~2 GB of memory; the default.
* ``gpu``: one H100-class GPU; paper scale.

Each notebook has a settings dataclass, in its package's ``settings.py``, whose defaults are the gpu
profile; cpu and smoke are the values they change. This module indexes them and holds what every
notebook shares: the value rules, the coercion of overrides, and ``notebook_settings``. A notebook's
first cell holds ``profile`` and ``overrides`` (papermill parameters); ``notebook_settings`` validates
both and returns the settings object, so the runner, the notebooks and the tests share these numbers.
"""

from __future__ import annotations

import ast
import importlib
import math
import os
from dataclasses import dataclass, fields, replace
from fnmatch import fnmatchcase
from functools import cache
from typing import Any, Callable

from mini_lib.core.errors import ConfigError, choose


PROFILES = ("smoke", "cpu", "gpu")
OFFLINE_PROFILES = ("smoke", "cpu")


# Each notebook NN_<name> has its package mini_lib.papers.<name>, whose settings.py holds a dataclass whose
# defaults are the gpu profile, PROFILES with cpu and smoke as the values they change, and GPU_ON_CPU_OVERRIDES
# (the slow test runs the gpu settings on CPU with these: full shapes, tiny step counts). This is the index.
NOTEBOOKS = ("00_quickstart", "01_pythia_training", "02_simplified_vocab", "03_quality_quantity", "04_gptfluence",
             "05_optimal_learning", "06_data_selection")
_SETTINGS = {notebook: importlib.import_module(f"mini_lib.papers.{notebook[3:]}.settings") for notebook in NOTEBOOKS}
_PACKAGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    notebook: (module.PROFILES, module.GPU_ON_CPU_OVERRIDES) for notebook, module in _SETTINGS.items()
}
NOTEBOOK_PROFILES: dict[str, dict[str, Any]] = {
    notebook: {profile: profiles[profile] for profile in PROFILES} for notebook, (profiles, _) in _PACKAGES.items()
}
GPU_ON_CPU_OVERRIDES: dict[str, dict[str, Any]] = {
    notebook: overrides for notebook, (_, overrides) in _PACKAGES.items()
}


def force_hub_offline() -> None:
    """Make the hub libraries fail at once instead of waiting on a network that may not be there."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[var] = "1"


def apply_profile_environment(profile: str) -> None:
    """smoke and cpu never touch the network: force the hub libraries offline."""
    if profile in OFFLINE_PROFILES:
        force_hub_offline()


def notebook_names() -> list[str]:
    return sorted(NOTEBOOK_PROFILES)


def resolve_notebook(name: str) -> str:
    """Accept ``00``, ``quickstart``, ``00_quickstart`` or an unambiguous start of one of them.

    An exact name wins; otherwise every notebook whose number, title or full name starts with ``name``
    is a candidate, and more than one is an error that lists them (``0`` matches every notebook).
    """
    def spellings(notebook: str) -> tuple[str, ...]:
        return (notebook, *notebook.split("_", 1))

    exact = [n for n in NOTEBOOK_PROFILES if name in spellings(n)]
    matches = exact or [n for n in NOTEBOOK_PROFILES if name and any(s.startswith(name) for s in spellings(n))]
    if len(matches) > 1:
        raise ConfigError(f"notebook {name!r} is ambiguous: it matches {', '.join(sorted(matches))}; give more of the name")
    if not matches:
        raise ConfigError(f"unknown notebook {name!r}; choose one of: {', '.join(notebook_names())}")
    return matches[0]


def parameter_names(notebook: str) -> list[str]:
    """The override keys a notebook accepts (its settings fields)."""
    first = next(iter(NOTEBOOK_PROFILES[resolve_notebook(notebook)].values()))
    return [f.name for f in fields(first)]


def profile_values(notebook: str) -> list[tuple[str, ...]]:
    """(parameter, smoke value, cpu value, gpu value) rows: what each profile sets, as ``list NB`` shows."""
    profiles = NOTEBOOK_PROFILES[resolve_notebook(notebook)]
    return [(name, *(repr(getattr(profiles[p], name)) for p in PROFILES)) for name in parameter_names(notebook)]


# --- value rules: what each setting may hold, checked before a kernel starts ---


@dataclass(frozen=True)
class Rule:
    """A check on one value (on each element of a tuple setting) and what a value must be, in words.

    ``says`` is a function because a choice rule lists a registry that is imported only when a value
    is checked against it (some registries, such as the tasks, pull in heavy modules)."""

    holds: Callable[[Any], bool]
    says: Callable[[], str]


def _at_least(low: int) -> Rule:
    return Rule(lambda v: v >= low, lambda: f"an integer >= {low}")


def _within(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    def holds(v: float) -> bool:
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)

    return Rule(holds, lambda: f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")


def _one_of(registry: str, *, blank_ok: bool = False) -> Rule:
    """A name from the registry ``module:ATTRIBUTE`` (or ``''`` when ``blank_ok``: skip that part)."""
    @cache
    def choices() -> tuple[str, ...]:
        module, attribute = registry.split(":")
        return (*([""] if blank_ok else []), *getattr(importlib.import_module(module), attribute))

    return Rule(lambda v: v in choices(), lambda: "one of: " + ", ".join(c or "''" for c in choices()))


# Lower bounds that follow from the model, so that a size that cannot work fails here, not in a cell.
MIN_BPE_VOCAB = 300  # tokenization.train_tokenizer's: 256 byte tokens, 2 special tokens, and room for merges
MIN_CONTEXT = 2  # a next-token loss needs one token to predict from and one to predict

POSITIVE = Rule(lambda v: math.isfinite(v) and v > 0, lambda: "a finite number > 0")
NON_NEGATIVE = Rule(lambda v: math.isfinite(v) and v >= 0, lambda: "a finite number >= 0")
FINITE = Rule(math.isfinite, lambda: "a finite number")
COUNT = _at_least(1)
FRACTION = _within(0, 1)
OPEN_FRACTION = _within(0, 1, low_open=True, high_open=True)  # both parts non-empty (val_fraction)
SHARE = _within(0, 1, low_open=True)  # a non-empty part of the whole (size_fractions, keep_fractions)
PROPER = _within(0, 1, high_open=True)  # some, never all (warmup_fraction, noise_fraction, betas)

# First match wins. A pattern is an fnmatch glob over the field name, or over ``<notebook>:<field>``
# where one name means different things in different notebooks. An integer setting no row names is
# a count (>= 1), a float one must be finite; the ">= 0" rows are the settings whose 0 the settings
# above give a meaning. Strings not named here (paths, hub names) are free.
VALUE_RULES: tuple[tuple[str, Rule], ...] = (
    ("03_quality_quantity:n_stories", _at_least(0)),  # 0 = the whole file / hub split
    ("vocab_size", _at_least(MIN_BPE_VOCAB)),  # a byte-level BPE vocabulary
    ("*seq_len", _at_least(MIN_CONTEXT)),
    ("04_gptfluence:tasks", _one_of("mini_lib.papers.gptfluence.data:KINDS")),
    ("04_gptfluence:unseen_task", _one_of("mini_lib.papers.gptfluence.data:KINDS", blank_ok=True)),
    ("04_gptfluence:task_source", _one_of("mini_lib.papers.gptfluence.data:SOURCES")),
    ("04_gptfluence:sim_width", _at_least(0)),  # 0 = the feature size
    ("preset", _one_of("mini_lib.core.models:PRESETS")),
    ("presets", _one_of("mini_lib.core.models:PRESETS")),
    ("tier", _one_of("mini_lib.corpora.storyworld:TIERS")),
    ("corpus", _one_of("mini_lib.corpora.loaders:SOURCES")),
    ("vocabulary", _one_of("mini_lib.papers.simplified_vocab.data:VOCABULARIES")),
    ("precision*", _one_of("mini_lib.core.train:PRECISIONS")),
    ("*tasks", _one_of("mini_lib.core.zero_shot_tasks:TASKS")),
    ("benchmarks", _one_of("mini_lib.core.zero_shot_benchmarks:BENCHMARKS")),
    ("construction", _one_of("mini_lib.papers.quality_quantity.data:CONSTRUCTIONS")),
    ("hold", _one_of("mini_lib.corpora.duplication:HOLD_CHOICES")),
    ("samplers", _one_of("mini_lib.papers.data_selection.samplers:SAMPLERS")),
    ("askllm_variants", _one_of("mini_lib.papers.data_selection.askllm:PROMPT_VARIANTS")),
    ("sweep_aurocs", _within(0.5, 1)),  # a scorer's AUROC, from chance to perfect
    ("sweep_seeds", _at_least(0)),
    ("filter_mode", _one_of("mini_lib.papers.simplified_vocab.span_filter:MODES")),
    ("*eval_every", _at_least(0)),  # 0 = only at the end (fit_eval_every: once per epoch)
    ("*checkpoint_every", _at_least(0)),  # 0 = no checkpoints (lm_: keep every step)
    ("tracin_every", _at_least(0)),  # 0 = no TracIn-CP / Grad-Dot
    ("evals_per_run", _at_least(0)),
    ("train_tokens", _at_least(0)),  # 0 = all the smaller set holds
    ("warmup_steps", _at_least(0)),
    ("mislabel_runs", _at_least(0)),  # 0 = skip the application
    ("retrain_test", _at_least(0)),  # 0 = the task's own test set
    ("seed", _at_least(0)),
    ("lr", POSITIVE), ("*_lr", POSITIVE), ("*_eta", POSITIVE),
    ("val_fraction", OPEN_FRACTION), ("desired_fraction", OPEN_FRACTION),
    ("budget_fractions", OPEN_FRACTION),  # a shorter clean run: 0 trains nothing, 1 repeats the grid's cell
    ("sweep_epochs", POSITIVE),
    ("size_fractions", SHARE), ("data_fractions", SHARE), ("keep_fractions", SHARE),
    ("warmup_fraction", PROPER), ("noise_fraction", PROPER), ("beta?", PROPER),
    ("*_fraction*", FRACTION), ("*_rate*", FRACTION), ("*_ratio", FRACTION), ("*_noise", FRACTION),
    ("*_bandwidth", POSITIVE), ("*_threshold", NON_NEGATIVE), ("weight_decay", NON_NEGATIVE),
    ("grad_clip", POSITIVE),
)


def value_rule(notebook: str, key: str, like: Any) -> Rule | None:
    """The rule for setting ``key`` of ``notebook``; ``like`` (a profile's value) gives the default by type."""
    for pattern, rule in VALUE_RULES:
        if fnmatchcase(f"{notebook}:{key}" if ":" in pattern else key, pattern):
            return rule
    element = like[0] if isinstance(like, tuple) and like else like
    if isinstance(element, bool) or not isinstance(element, (int, float)):
        return None
    return COUNT if isinstance(element, int) else FINITE


def check_value(notebook: str, key: str, value: Any, like: Any) -> None:
    """Raise one ConfigError naming ``key`` when ``value`` (or an element of it) breaks its rule."""
    rule = value_rule(notebook, key, like)
    for item in (value if isinstance(value, tuple) else (value,)) if rule else ():
        if not rule.holds(item):
            raise ConfigError(f"parameter {key} got {item!r}; it must be {rule.says()}")


def _coerce(value: Any, like: Any, key: str) -> Any:
    """Make an override match the type of the default (papermill may pass "3" or a list).

    Nothing is rounded or guessed: ``steps=1.5`` or ``steps=True`` is an error, not 1."""
    if isinstance(like, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ConfigError(f"parameter {key} must be true or false, got {value!r}")
            return value.lower() in ("true", "1")
        if value not in (True, False):  # 0 and 1 too
            raise ConfigError(f"parameter {key} must be true or false, got {value!r}")
        return bool(value)
    if isinstance(like, tuple):
        items = value
        if isinstance(value, str):
            try:  # "(1.0, 0.5)" or "['a', 'b']" as papermill or a shell may pass them
                items = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                if value.lstrip()[:1] in "([{" or value.rstrip()[-1:] in ")]}":
                    raise ConfigError(
                        f"parameter {key} is not a readable list: {value!r}; write a,b or ['a', 'b']"
                    ) from None
                items = [v.strip() for v in value.split(",") if v.strip()]  # a,b,c
        items = [items] if isinstance(items, (str, int, float)) else list(items)
        return tuple(_coerce(v, like[0], key) for v in items) if like else tuple(items)
    if isinstance(like, (int, float)) and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise ConfigError(f"parameter {key} must be of type {type(like).__name__}, got {value!r}")
    if isinstance(like, (int, float)) and isinstance(value, str):
        try:
            value = float(value) if isinstance(like, float) else int(value)
        except ValueError:
            raise ConfigError(f"parameter {key} must be of type {type(like).__name__}, got {value!r}") from None
    if isinstance(like, int) and isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(f"parameter {key} must be a whole number, got {value!r}")
        return int(value)
    if isinstance(like, float):
        return float(value)
    if isinstance(like, str) and not isinstance(value, str):
        raise ConfigError(f"parameter {key} must be text, got {value!r}")
    return value


def notebook_settings(notebook: str, profile: str = "cpu", overrides: dict | None = None):
    """The settings a notebook runs with: its profile's values, then overrides checked against
    their type and ``VALUE_RULES`` (a profile's own values pass them too: the tests check)."""
    notebook = resolve_notebook(notebook)
    choose("profile", profile, PROFILES)
    apply_profile_environment(profile)
    base = NOTEBOOK_PROFILES[notebook][profile]
    overrides = dict(overrides or {})
    valid = parameter_names(notebook)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for {notebook}; valid: {', '.join(valid)}")
    values = {}
    for key, given in overrides.items():
        values[key] = _coerce(given, getattr(base, key), key)
        check_value(notebook, key, values[key], getattr(base, key))
    return replace(base, **values)
