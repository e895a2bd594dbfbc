"""What each notebook costs, as measured and committed under ``benchmarks/results/``: ``python -m mini_lib
list`` and each notebook's first cell state it, so a teacher knows the wall time and memory of a profile
before pressing run. The measurements themselves are the maintainers' tools (``benchmarks/costs.py``,
``benchmarks/acceptance.py``); in an installed copy without them, ``list`` simply shows no costs."""

from __future__ import annotations

import json

from mini_lib.core.paths import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
COSTS_FILE = RESULTS_DIR / "notebook-costs.json"


def minutes(seconds: float) -> str:
    """``1 min 05 s`` for 65 seconds, ``35 s`` for 35: how people read a run time."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def cpu_words(report: dict) -> str:
    machine = report["machine"]
    return f"{machine['cores']} CPU cores ({machine['cpu']})"


def summary(notebook: str, report: dict | None = None) -> list[str]:
    """``list``'s lines: one per measured profile (empty when nothing is committed)."""
    if report is None:
        if not COSTS_FILE.exists():
            return []
        report = json.loads(COSTS_FILE.read_text())
    return [f"{profile} profile: {minutes(e['wall_s'])}, peak {e['peak_rss_gb']:.1f} GB on {cpu_words(report)} "
            f"(measured {e['date']})" for profile, e in report["notebooks"].get(notebook, {}).items()]


def projected_hours(report: dict, notebook: str) -> str:
    """A notebook's projected hours of the full gpu profile as the README, ``list`` and the notebook headers
    state them: a lower bound (">= ") when the report names it in ``known_gaps``."""
    bound = ">= " if any(gap.startswith(notebook) for gap in report.get("known_gaps", [])) else ""
    return f"{bound}{report['notebooks'][notebook]['projected_s'] / 3600:.2f}"


def committed_gpu_report() -> tuple[dict, str] | None:
    """The newest committed GPU measurement of the notebooks and its date (``YYYYMMDD``), or None."""
    files = sorted(RESULTS_DIR.glob("gpu-acceptance-notebooks-*.json"))
    return (json.loads(files[-1].read_text()), files[-1].stem.rsplit("-", 1)[-1]) if files else None


def committed_projections() -> dict[str, str]:
    """notebook -> "X h on <device> (projected from the GPU measurement of <date>)", for ``list``; empty when
    none is committed."""
    committed = committed_gpu_report()
    if committed is None:
        return {}
    report, date = committed
    return {name: f"{projected_hours(report, name)} h on one {report['environment']['device']} "
                  f"(projected from the GPU measurement of {date})"
            for name, r in report["notebooks"].items() if r["passed"]}
