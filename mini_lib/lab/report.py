"""``python -m mini_lib report [RUN_DIR ...]``: hand out results without a kernel.

Each executed notebook becomes a standalone HTML page (nbconvert), and one ``index.html`` lists every
run with its notebook, profile, wall time, its state, its paper-vs-ours table (one schema for every
paper: ``claims.PaperRow``) and its claim verdicts, read from the files the run wrote (``settings.json``,
``paper_vs_ours.csv``, ``results.json``): the same numbers the reader saw in the notebook. Beside the
tables, the run's figures (the ``*.png`` in its folder) as thumbnails, each linking to the executed
notebook. Figures and notebooks are copied into the report folder and every link is relative, so the
folder alone can be zipped and handed out.

A run's state is "in progress" while a process holds its lock, "damaged" when one of its files cannot
be read (named, with why), else "finished" or "did not finish" (with the failing cell's error). One
damaged or running run never keeps the report of the others from being built.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import pandas as pd

from mini_lib.core.errors import ConfigError
from mini_lib.core.locking import is_locked
from mini_lib.core.paths import runs_dir, write_text_atomic

RECORDS = ("settings.json", "run.json")  # what the notebook and the runner write first: either marks a run


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
    damaged: list[str] = field(default_factory=list)  # "<file> is unreadable (<why>)", one per damaged file
    in_progress: bool = False

    @property
    def executed(self) -> Path:
        return self.run_dir / f"{self.notebook}.ipynb"

    @property
    def figures(self) -> list[Path]:
        """The figures the notebook saved in its run folder (none while the run is still writing them)."""
        return [] if self.in_progress else sorted(self.run_dir.glob("*.png"))

    @property
    def slug(self) -> str:
        """The run's name in the report folder: ``<notebook>--<label>`` (its page and its files' folder)."""
        return f"{self.notebook}--{self.label.replace('/', '--')}"

    @property
    def label(self) -> str:
        """The run folder below ``runs/<notebook>/`` (``r``, or ``r/previous`` for the kept outputs)."""
        parts = self.run_dir.parts
        below = parts[len(parts) - parts[::-1].index(self.notebook):] if self.notebook in parts else ()
        return "/".join(below) or self.run_dir.name

    @property
    def status(self) -> str:
        if self.in_progress:
            return "in progress"
        if self.damaged:
            return "damaged: " + "; ".join(self.damaged)
        return "finished" if self.finished else f"did not finish: {self.error or 'no results.json'}"


def find_runs(paths: list[Path]) -> list[Path]:
    """Run folders (a ``settings.json`` or the runner's ``run.json``) at or below ``paths``, sorted."""
    found = set()
    for path in paths:
        if not path.exists():
            raise ConfigError(f"no such run folder: {path}")
        for record in RECORDS:
            candidates = [path / record] if (path / record).is_file() else path.rglob(record)
            found.update(candidate.parent.resolve() for candidate in candidates)
    return sorted(found)


def summarise(run_dir: Path) -> RunSummary:
    """Read one run folder: settings, executed notebook (papermill's timings and error), tables; a file
    that cannot be read is named in ``damaged``, never raised."""
    damaged: list[str] = []

    def read(name: str, parse: Callable[[Path], Any]) -> Any:
        path = run_dir / name
        if not path.is_file():
            return None
        try:
            return parse(path)
        except Exception as error:  # noqa: BLE001 - any parse failure is a damaged file to report
            damaged.append(f"{name} is unreadable ({type(error).__name__}: {_first_line(error)})")
            return None

    info = next((i for i in (read(r, _json_object) for r in RECORDS) if i is not None), {})
    notebooks = sorted(run_dir.glob("*.ipynb"))
    notebook = str(info.get("notebook") or (notebooks[0].stem if len(notebooks) == 1 else run_dir.name))
    executed = read(f"{notebook}.ipynb", _notebook) or {}
    papermill = executed.get("metadata", {}).get("papermill", {})
    errors = [o for c in executed.get("cells", []) if c.get("cell_type") == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    error = f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else None
    table = read("paper_vs_ours.csv", pd.read_csv)
    results = read("results.json", _json_object) or {}
    claims = pd.DataFrame(results["claims"]) if isinstance(results.get("claims"), list) and results["claims"] else None
    return RunSummary(run_dir, notebook, str(info.get("profile", "?")), papermill.get("duration"),
                      finished=error is None and (run_dir / "results.json").is_file() and not damaged, error=error,
                      paper_vs_ours=table, claims=claims, damaged=damaged, in_progress=is_locked(run_dir))


def _json_object(path: Path) -> dict:
    value = json.loads(path.read_text())
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _notebook(path: Path) -> dict:
    value = _json_object(path)
    if not isinstance(value.get("cells"), list):
        raise ValueError("no list of cells")
    return value


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else ""


def notebook_html(executed: Path) -> str:
    """The executed notebook as one standalone HTML page (figures embedded)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    return body


HOW_TO_OPEN = ("Each figure links to the executed notebook that drew it (its <code>.ipynb</code> file, kept in this "
               "folder). Open that file in JupyterLab (<code>jupyter lab</code>, then File &gt; Open from Path, or drag "
               "it onto the file browser) or in VS Code to see every cell and output and run it again; your browser "
               "only downloads or shows it as text. To read it without Jupyter, follow the link "
               "<i>the notebook as a web page</i> beside each run.")
STYLE = ("body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.bad{color:#b00}"
         ".run{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.tables{flex:1 1 34em;min-width:0}"
         ".figures{flex:0 1 31em;display:flex;flex-wrap:wrap;gap:.8em;align-content:flex-start}"
         ".figures figure{margin:0;width:15em}.figures img{width:100%;height:auto;border:1px solid #ccc}"
         ".figures figcaption{font-size:.8em;color:#555;overflow-wrap:anywhere}")


def index_html(runs: list[RunSummary], pages: dict[Path, str], files: dict[Path, dict[str, list[str]]]) -> str:
    """The page a teacher opens first: one section per run, its tables and beside them its figures.

    ``files[run_dir]`` holds the run's copies in the report folder (``figures``, ``notebook``: relative paths).
    """
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Training-data lab: results</title>",
             f"<style>{STYLE}</style></head><body>", "<h1>Training-data lab: results</h1>",
             f"<p class='how-to-open'>{HOW_TO_OPEN}</p>"]
    for run in runs:
        wall = f"{run.wall_s / 60:.1f} min" if run.wall_s is not None else "unknown"
        status = html.escape(run.status)
        if not run.finished and not run.in_progress:
            status = f"<span class='bad'>{status}</span>"
        copies = files.get(run.run_dir, {})
        links = [f"<a href='{_href(pages[run.run_dir])}'>the notebook as a web page</a>"] if run.run_dir in pages else []
        links += [f"<a href='{_href(n)}'>the executed notebook (.ipynb)</a>" for n in copies.get("notebook", [])]
        parts.append(f"<h2>{html.escape(run.notebook)} &mdash; {html.escape(run.label)}</h2>")
        parts.append(f"<p>profile <b>{html.escape(run.profile)}</b>, wall time {wall}, {status}."
                     + (f" Read {' or '.join(links)}." if links else "") + "</p>")
        parts.append("<div class='run'><div class='tables'>")
        for title, table in (("Paper vs ours", run.paper_vs_ours), ("Claims", run.claims)):
            if table is not None:
                parts.append(f"<h3>{title}</h3>" + table.to_html(index=False, na_rep="", escape=True))
        parts.append("</div>")
        if copies.get("figures"):
            target = (copies.get("notebook") or [None])[0]
            parts.append("<div class='figures'>")
            for figure in copies["figures"]:
                name = html.escape(Path(figure).name)
                title = (f"opens the executed notebook {html.escape(Path(target).name)}" if target
                         else "the figure at full size (this run has no readable executed notebook)")
                parts.append(f"<figure><a href='{_href(target or figure)}' title='{title}'>"
                             f"<img src='{_href(figure)}' alt='{name}'></a><figcaption>{name}</figcaption></figure>")
            parts.append("</div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _href(relative: str) -> str:
    """A relative link inside the report folder, quoted for an attribute (names may hold spaces, # or ')."""
    return html.escape(quote(relative), quote=True)


def _copy_atomic(source: Path, target: Path) -> None:
    """Copy through a temporary sibling and a rename, as ``write_text_atomic`` writes text."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def copy_run_files(run: RunSummary, out: Path, notebook_readable: bool) -> dict[str, list[str]]:
    """Copy the run's figures and its executed notebook (when readable) into ``out/<slug>/``; returns their
    paths relative to ``out``, the links the index uses."""
    copies: dict[str, list[str]] = {"figures": [], "notebook": []}
    sources = [("figures", f) for f in run.figures] + ([("notebook", run.executed)] if notebook_readable else [])
    if not sources:
        return copies
    folder = out / run.slug
    folder.mkdir(parents=True, exist_ok=True)
    for kind, source in sources:
        _copy_atomic(source, folder / source.name)
        copies[kind].append(f"{run.slug}/{source.name}")
    return copies


def build_report(paths: list[Path], out: Path) -> Path:
    """Write one HTML page per run and ``index.html`` into ``out``; returns the index path."""
    run_dirs = find_runs(paths)
    if not run_dirs:
        raise ConfigError(f"no executed notebook runs under {', '.join(map(str, paths))}: run one first "
                          "(python -m mini_lib run 00)")
    out.mkdir(parents=True, exist_ok=True)
    runs, pages, files = [summarise(d) for d in run_dirs], {}, {}
    for run in runs:
        readable = run.executed.is_file() and not any(d.startswith(run.executed.name) for d in run.damaged)
        if readable:
            try:
                body = notebook_html(run.executed)
            except Exception as error:  # noqa: BLE001 - a notebook nbconvert cannot render is a damaged file
                run.damaged.append(f"{run.executed.name} cannot be rendered "
                                   f"({type(error).__name__}: {_first_line(error)})")
                readable = False
            else:
                write_text_atomic(out / f"{run.slug}.html", body)
                pages[run.run_dir] = f"{run.slug}.html"
        files[run.run_dir] = copy_run_files(run, out, notebook_readable=readable)
    return write_text_atomic(out / "index.html", index_html(runs, pages, files))


def main(argv: list[str]) -> Path:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mini_lib report", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="run folders or folders holding them (default: runs/)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/report)")
    args = parser.parse_args(argv)
    index = build_report([Path(p) for p in args.runs] or [runs_dir()], Path(args.out) if args.out else runs_dir() / "report")
    print(f"report: {index}")
    return index
