"""``python -m mini_lib report [RUN_DIR ...]``: hand out results without a kernel.

Each executed notebook becomes a standalone HTML page (nbconvert), and one ``index.html`` lists every
run with its notebook, profile, wall time, whether it finished, its paper-vs-ours table (one schema for every
paper: ``claims.PaperRow``) and its claim verdicts, read from the files the run wrote (``settings.json``,
``paper_vs_ours.csv``, ``results.json``): the same numbers the reader saw in the notebook.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import runs_dir, write_text_atomic


@dataclass
class RunSummary:
    """What the index says about one run."""

    run_dir: Path
    notebook: str
    profile: str
    wall_s: float | None
    finished: bool
    error: str | None
    paper_vs_ours: pd.DataFrame | None
    claims: pd.DataFrame | None

    @property
    def executed(self) -> Path:
        return self.run_dir / f"{self.notebook}.ipynb"


def find_runs(paths: list[Path]) -> list[Path]:
    """Run folders (a ``settings.json`` beside an executed notebook) at or below ``paths``, sorted."""
    found = set()
    for path in paths:
        if not path.exists():
            raise ConfigError(f"no such run folder: {path}")
        candidates = [path / "settings.json"] if (path / "settings.json").is_file() else path.rglob("settings.json")
        for settings in candidates:
            info = json.loads(settings.read_text())
            if (settings.parent / f"{info.get('notebook', '')}.ipynb").is_file():
                found.add(settings.parent.resolve())
    return sorted(found)


def summarise(run_dir: Path) -> RunSummary:
    """Read one run folder: settings, executed notebook (papermill's timings and error), tables."""
    info = json.loads((run_dir / "settings.json").read_text())
    notebook = info["notebook"]
    executed = json.loads((run_dir / f"{notebook}.ipynb").read_text())
    papermill = executed.get("metadata", {}).get("papermill", {})
    errors = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    error = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else None
    table = pd.read_csv(run_dir / "paper_vs_ours.csv") if (run_dir / "paper_vs_ours.csv").is_file() else None
    results = json.loads((run_dir / "results.json").read_text()) if (run_dir / "results.json").is_file() else {}
    claims = pd.DataFrame(results["claims"]) if isinstance(results.get("claims"), list) and results["claims"] else None
    return RunSummary(run_dir, notebook, info.get("profile", "?"), papermill.get("duration"),
                      finished=error is None and (run_dir / "results.json").is_file(), error=error,
                      paper_vs_ours=table, claims=claims)


def notebook_html(executed: Path) -> str:
    """The executed notebook as one standalone HTML page (figures embedded)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    return body


def index_html(runs: list[RunSummary], pages: dict[Path, str]) -> str:
    """The page a teacher opens first: one section per run."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Training-data lab: results</title>",
             "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.bad{color:#b00}</style></head><body>",
             "<h1>Training-data lab: results</h1>"]
    for run in runs:
        wall = f"{run.wall_s / 60:.1f} min" if run.wall_s is not None else "unknown"
        status = "finished" if run.finished else f"<span class='bad'>did not finish: {html.escape(run.error or 'no results.json')}</span>"
        parts.append(f"<h2>{html.escape(run.notebook)} &mdash; {html.escape(run.run_dir.name)}</h2>")
        parts.append(f"<p>profile <b>{html.escape(run.profile)}</b>, wall time {wall}, {status}. "
                     f"<a href='{html.escape(pages[run.run_dir])}'>the executed notebook</a></p>")
        for title, table in (("Paper vs ours", run.paper_vs_ours), ("Claims", run.claims)):
            if table is not None:
                parts.append(f"<h3>{title}</h3>" + table.to_html(index=False, na_rep="", escape=True))
    parts.append("</body></html>")
    return "\n".join(parts)


def build_report(paths: list[Path], out: Path) -> Path:
    """Write one HTML page per run and ``index.html`` into ``out``; returns the index path."""
    run_dirs = find_runs(paths)
    if not run_dirs:
        raise ConfigError(f"no executed notebook runs under {', '.join(map(str, paths))}: run one first "
                          "(python -m mini_lib run 00)")
    out.mkdir(parents=True, exist_ok=True)
    runs, pages = [summarise(d) for d in run_dirs], {}
    for run in runs:
        page = f"{run.notebook}--{run.run_dir.name}.html"
        write_text_atomic(out / page, notebook_html(run.executed))
        pages[run.run_dir] = page
    return write_text_atomic(out / "index.html", index_html(runs, pages))


def main(argv: list[str]) -> Path:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mini_lib report", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="run folders or folders holding them (default: runs/)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/report)")
    args = parser.parse_args(argv)
    index = build_report([Path(p) for p in args.runs] or [runs_dir()], Path(args.out) if args.out else runs_dir() / "report")
    print(f"report: {index}")
    return index
