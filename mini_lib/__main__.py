"""Command line: ``python -m mini_lib list | run | train | bench | report``.

Every failure ends as one line on stderr (``error: ...``) and an exit code saying which kind:

* 1: a notebook cell failed (the executed notebook holds the traceback)
* 2: bad input: a setting, file, or a run folder in use or holding another run's checkpoint or a
  damaged artefact; a size the machine clearly cannot hold; the gpu profile without a GPU
* 3: training diverged (the loss stopped being finite; the last good checkpoint is kept)
* 4: input/output: a folder that cannot be written, a full disk, a network that cannot be reached
* 5: a checkpoint that is intact but cannot be loaded
* 6: the notebook's kernel died (out of memory, or killed); the line names the partial notebook
* 130: interrupted (Ctrl-C or SIGINT); for ``run`` the line names the partial notebook
"""

from __future__ import annotations

import argparse
import sys

from mini_lib.core.errors import CheckpointError, ConfigError, TrainingDiverged

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT
LIST_CELL = 40  # characters of a value in `list NB` (long tuples end in "…"; settings.py has them whole)


def _cmd_list(args: argparse.Namespace) -> None:
    from mini_lib.lab.profiles import PROFILES, notebook_names, parameter_names, profile_values, resolve_notebook

    if args.notebook:
        fit = lambda cell: cell if len(cell) <= LIST_CELL else cell[:LIST_CELL - 1] + "…"  # noqa: E731
        rows = [("parameter", *PROFILES), *((name, *map(fit, values)) for name, *values in profile_values(args.notebook))]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        print(f"{resolve_notebook(args.notebook)}: what each profile sets (override with -p key=value)")
        for row in rows:
            print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        return
    print("profiles:", ", ".join(PROFILES), "(default: cpu)")
    print("notebooks (run with: python -m mini_lib run <name> --profile smoke|cpu|gpu -p key=value;"
          " values per profile: python -m mini_lib list <name>):")
    from mini_lib.lab.costs import committed_projections, summary

    gpu_hours = committed_projections()
    for name in notebook_names():
        print(f"  {name}\n      parameters: {', '.join(parameter_names(name))}")
        for line in summary(name):
            print(f"      {line}")
        if name in gpu_hours:
            print(f"      gpu profile: {gpu_hours[name]}")


def _cmd_run(args: argparse.Namespace) -> None:
    from mini_lib.lab.runner import parse_parameter, run_notebook

    params = dict(parse_parameter(p) for p in args.param)
    result = run_notebook(args.notebook, args.profile, params, run_name=args.name, log_output=args.log,
                          progress=not args.quiet, replace=args.replace,
                          allow_cpu_for_gpu_profile=args.allow_cpu_for_gpu_profile, skip_size_check=args.skip_size_check)
    print(f"ran {result.notebook} ({result.profile}); outputs in {result.run_dir}")


def _cmd_train(args: argparse.Namespace) -> None:
    from mini_lib.lab.launch import main as launch_main

    launch_main(args.rest)


def _cmd_bench(args: argparse.Namespace) -> None:
    from mini_lib.lab.bench import main as bench_main

    bench_main(args.rest)


def _cmd_report(args: argparse.Namespace) -> None:
    from mini_lib.lab.report import main as report_main

    report_main(args.rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mini_lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="show notebooks, profiles and parameters (list NB: values per profile)")
    listing.add_argument("notebook", nargs="?", default=None)
    listing.set_defaults(func=_cmd_list)
    run = sub.add_parser("run", help="execute a notebook headless with papermill")
    run.add_argument("notebook", help="e.g. 00, quickstart or 00_quickstart")
    run.add_argument("--profile", default="cpu", help="smoke | cpu | gpu (default cpu)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="override a setting")
    run.add_argument("--name", default=None, help="run folder name (default: <profile>-<timestamp>)")
    run.add_argument("--log", action="store_true", help="stream cell output while running")
    run.add_argument("--quiet", action="store_true", help="no line per finished cell (CI)")
    run.add_argument("--replace", action="store_true",
                     help="move an existing run of --name aside (runs/<notebook>/.replaced/) instead of refusing")
    run.add_argument("--allow-cpu-for-gpu-profile", action="store_true",
                     help="run the paper-scale gpu profile even though no GPU is visible (hours on a CPU)")
    run.add_argument("--skip-size-check", action="store_true",
                     help="start even when the corpus clearly exceeds this machine's memory")
    run.set_defaults(func=_cmd_run)
    train = sub.add_parser("train", help="pre-train a Pythia preset (works under torchrun / accelerate launch)")
    train.set_defaults(func=_cmd_train)
    bench = sub.add_parser("bench", help="benchmarks: 'bench train' (ours vs HF Trainer), 'bench grid' (K cells at once vs one at a time)")
    bench.set_defaults(func=_cmd_bench)
    report = sub.add_parser("report", help="executed notebooks as HTML + an index of results (no kernel needed)")
    report.set_defaults(func=_cmd_report)
    # train, bench and report own their flags: everything after the sub-command goes to them untouched.
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in ("train", "bench", "report"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        args.func(args)
    except KeyboardInterrupt as err:  # Ctrl-C: one line (run's names the partial notebook), not a traceback
        print(f"error: {err or 'interrupted'}", file=sys.stderr)
        return INTERRUPTED
    except Exception as err:  # noqa: BLE001 - the CLI shows one line, not a traceback
        code = _exit_code(err)
        if code is None:
            raise
        print(f"error: {type(err).__name__}: {err}" if code == 4 else f"error: {err}", file=sys.stderr)
        return code
    return 0


def _exit_code(err: Exception) -> int | None:
    """The exit code of an expected failure (see the module docstring); None for a bug (traceback).
    OSError covers the hub too: its 'cannot reach' errors are ConnectionErrors."""
    from mini_lib.lab.runner import KernelDied, NotebookFailed

    codes = {NotebookFailed: 1, ConfigError: 2, TrainingDiverged: 3, OSError: 4, CheckpointError: 5, KernelDied: 6}
    return next((code for kind, code in codes.items() if isinstance(err, kind)), None)


if __name__ == "__main__":
    sys.exit(main())
