"""What each notebook costs, measured from real runs and stated up front (header and ``list``).

A teacher needs the wall time and memory of a profile before pressing run, and typed-in figures go
stale with every change. So the figures have one source: ``measure`` runs each notebook through the
normal runner (``python -m mini_lib run``, a fresh cache and run folder, as a new user's first run)
and records its wall time and peak resident memory in ``benchmarks/results/notebook-costs.json``;
``render`` writes them between markers into each notebook's first cell (the ``gpu`` row comes from
the committed GPU acceptance run, ``benchmarks.acceptance``); a test checks the headers agree with the
JSON. Peak memory is the largest resident set of the runner or any process it started and reaped
(the notebook's kernel), which is what decides whether a 2 GB Binder survives.

    python -m benchmarks.costs measure --profiles smoke,cpu      # ~20 minutes on 2 quiet cores
    python -m benchmarks.costs render                            # rewrite the notebooks' headers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mini_lib.core.paths import NOTEBOOK_DIR, REPO_ROOT, write_text_atomic
from mini_lib.lab.costs import COSTS_FILE, committed_gpu_report, cpu_words, minutes, projected_hours

BEGIN = "<!-- costs: written by `python -m benchmarks.costs render` from benchmarks/results/notebook-costs.json -->"
END = "<!-- /costs -->"


@dataclass(frozen=True)
class Measured:
    """One command's cost: ``load_before`` is the 1-minute load average when it started (is the machine quiet?)."""

    wall_s: float
    peak_rss_gb: float
    returncode: int
    load_before: float


def measure_command(command: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` and return its wall time and the peak RSS of it and its reaped descendants."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:])
    process.stderr.close()
    return Measured(wall, usage.ru_maxrss * 1024 / 2**30, process.returncode, load)  # ru_maxrss is KiB on Linux


def machine() -> dict:
    """The machine in words: CPU model, cores this process may use, memory."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": model, "cores": len(os.sched_getaffinity(0)), "memory_gb": round(memory_gb, 1),
            "python": platform.python_version()}


def measure(notebooks: list[str], profiles: list[str], out: Path = COSTS_FILE, keep_runs: Path | None = None) -> dict:
    """Run each notebook in each profile (fresh cache) and merge the figures into ``out``.

    The JSON is rewritten after every run, so a stopped measurement keeps what it finished; runs
    stay in ``keep_runs`` when given (their results.json are what a refactoring is compared against).
    """
    report = json.loads(out.read_text()) if out.exists() else {"notebooks": {}}
    report["machine"] = machine()
    for profile in profiles:
        for notebook in notebooks:
            with tempfile.TemporaryDirectory(prefix="mini-lib-costs-") as scratch:
                runs = keep_runs or Path(scratch) / "runs"
                env = {**os.environ, "MINI_LIB_CACHE": str(Path(scratch) / "cache"), "MINI_LIB_RUNS": str(runs)}
                name = f"costs-{profile}-{time.strftime('%Y%m%d-%H%M%S')}"
                result = measure_command([sys.executable, "-m", "mini_lib", "run", notebook, "--profile", profile,
                                          "--quiet", "--name", name], env)
            print(f"{notebook} {profile}: {result.wall_s:.0f} s, {result.peak_rss_gb:.2f} GB, "
                  f"load {result.load_before:.1f}, rc {result.returncode}", flush=True)
            if result.returncode:
                continue  # a failed run states no cost; the previous figure (if any) stays
            entry = {**asdict(result), "date": time.strftime("%Y-%m-%d")}
            del entry["returncode"]
            report["notebooks"].setdefault(notebook, {})[profile] = entry
            write_text_atomic(out, json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def header_block(notebook: str, report: dict, gpu: dict | None) -> str:
    """The markdown table a notebook's first cell shows: measured smoke/cpu, projected gpu."""
    rows = [BEGIN, "", "| profile | wall time | peak memory | measured on |", "|---|---|---|---|"]
    for profile, entry in sorted(report["notebooks"].get(notebook, {}).items(), key=lambda kv: ("smoke", "cpu").index(kv[0])):
        rows.append(f"| `{profile}` | {minutes(entry['wall_s'])} | {entry['peak_rss_gb']:.1f} GB | "
                    f"{cpu_words(report)}, {entry['date']}, fresh cache |")
    if gpu and notebook in gpu["notebooks"] and gpu["notebooks"][notebook]["passed"]:
        g = gpu["notebooks"][notebook]
        memory = f"{g['peak_gpu_memory_gb']:.0f} GB GPU" if g["peak_gpu_memory_gb"] is not None else "n/a"
        rows.append(f"| `gpu` | {projected_hours(gpu, notebook)} h (projected) | {memory} | one "
                    f"{gpu['environment']['device']}, GPU acceptance run (README) |")
    return "\n".join([*rows, "", END])


def committed_gpu() -> dict | None:
    """The committed GPU acceptance run's notebooks report (None before the first one)."""
    committed = committed_gpu_report()
    return committed[0] if committed else None


def with_header(markdown: str, block: str) -> str:
    """``markdown`` with its costs block replaced by ``block`` (appended when it has none)."""
    if BEGIN in markdown:
        start, end = markdown.index(BEGIN), markdown.index(END) + len(END)
        return markdown[:start] + block + markdown[end:]
    return markdown.rstrip("\n") + "\n\n" + block


def render(report: dict | None = None, gpu: dict | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Write each measured notebook's costs block into its first (markdown) cell; returns those changed."""
    report = report or json.loads(COSTS_FILE.read_text())
    gpu = gpu if gpu is not None else committed_gpu()
    changed = []
    for notebook in report["notebooks"]:
        path = folder / f"{notebook}.ipynb"
        nb = json.loads(path.read_text())
        cell = nb["cells"][0]
        source = with_header("".join(cell["source"]), header_block(notebook, report, gpu))
        if source != "".join(cell["source"]):
            cell["source"] = source.splitlines(keepends=True)
            write_text_atomic(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


def readme_block(report: dict, gpu: dict | None) -> str:
    """The README's one table of every notebook's costs (teachers plan a lesson with it)."""
    rows = [BEGIN, "", "| notebook | `smoke` | `cpu` | `cpu` peak memory | `gpu` (projected, one "
            f"{gpu['environment']['device'] if gpu else 'GPU'}) |", "|---|---|---|---|---|"]
    for notebook, entry in sorted(report["notebooks"].items()):
        g = (gpu or {}).get("notebooks", {}).get(notebook)
        projected = f"{projected_hours(gpu, notebook)} h" if g and g["passed"] else "not measured"
        smoke, cpu = entry.get("smoke"), entry.get("cpu")
        rows.append(f"| `{notebook}` | {minutes(smoke['wall_s']) if smoke else '-'} | "
                    f"{minutes(cpu['wall_s']) if cpu else '-'} | "
                    f"{str(round(cpu['peak_rss_gb'], 1)) + ' GB' if cpu else '-'} | {projected} |")
    dates = sorted({e["date"] for n in report["notebooks"].values() for e in n.values()})
    rows += ["", f"Measured on {cpu_words(report)}, {' to '.join(dates[::max(1, len(dates) - 1)])}, each run "
             "from a fresh cache (a first run; later runs reuse tokenizers, data and scores).", "", END]
    return "\n".join(rows)


def render_readme(report: dict, gpu: dict | None, readme: Path = REPO_ROOT / "README.md") -> bool:
    """Rewrite the README's costs block; True when it changed."""
    text = readme.read_text()
    new = with_header(text, readme_block(report, gpu)) if BEGIN in text else text
    if new != text:
        write_text_atomic(readme, new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    from mini_lib.lab.profiles import notebook_names

    parser = argparse.ArgumentParser(prog="python -m benchmarks.costs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("measure", help="run notebooks (fresh cache) and record wall time and peak memory")
    run.add_argument("--notebooks", default="", help="comma list (default: all)")
    run.add_argument("--profiles", default="smoke,cpu")
    run.add_argument("--out", default=str(COSTS_FILE))
    run.add_argument("--keep-runs", default="", help="keep the run folders here (e.g. to compare results.json)")
    sub.add_parser("render", help="write the committed figures into the notebooks' first cells")
    args = parser.parse_args(argv)
    if args.command == "measure":
        names = [n for n in notebook_names() if not args.notebooks or any(n.startswith(x) for x in args.notebooks.split(","))]
        measure(names, args.profiles.split(","), Path(args.out), Path(args.keep_runs) if args.keep_runs else None)
    else:
        for path in render():
            print(f"updated {path.name}")
        if render_readme(json.loads(COSTS_FILE.read_text()), committed_gpu()):
            print("updated README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
