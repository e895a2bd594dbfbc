"""Notebook 05's perceptron at the paper's own schedule, outside the notebook: 500 outer epochs at outer lr 0.001.

arXiv 2402.17759, Sec. 4 reports a 5.50x speed-up for its perceptron (D 128, N 4,096, K 512, T 2,000); the
official ``learning_law`` scripts reach it with 500 full-batch outer epochs at outer lr 0.001, decaying
linearly. The gpu profile of notebook 05 now runs that schedule. This script runs the same settings (the gpu
profile's perceptron fields, on any device) without the Transformer half, so the speed-ups at the official
schedule can be measured on a machine that could not run the whole profile:

    .venv/bin/python -m benchmarks.perceptron_official --device cpu --out benchmarks/results/x.json [--fits]

It writes the run's ``headline`` (J, CR, both speed-ups, fits, Learning-Law checks) and, with ``--fits``,
the learning-law fits of the extra policy runs at T in ``perceptron_fit_steps``.
"""

import argparse
import json
import time
from dataclasses import asdict, replace

import torch

from mini_lib.lab.bench import versions, write_report
from mini_lib.papers.optimal_learning.experiment import (
    epoch_printer,
    headline,
    perceptron_experiment,
    perceptron_fits_by_steps,
)
from mini_lib.papers.optimal_learning.paper import OFFICIAL_SETUP, PAPER_RESULTS
from mini_lib.papers.optimal_learning.settings import PROFILES

PERCEPTRON_FIELDS = ("perceptron_", "lr_schedule", "active_threshold", "zero_threshold", "seed", "device")


def run(profile: str, device: str, fits: bool, overrides: dict, out: str | None) -> dict:
    """The profile's perceptron experiment as plain numbers, written as soon as it is done, then (when asked)
    its fits by T, written again with them: an hour of fits never holds back the main run's numbers."""
    settings = replace(PROFILES[profile], device=device, **overrides)
    start = time.perf_counter()
    experiment = perceptron_experiment(settings, on_epoch=epoch_printer(settings.perceptron_epochs))
    report = {
        "bench": "perceptron_official", "profile": profile, "device": device, "threads": torch.get_num_threads(),
        "versions": versions(), "official_setup": OFFICIAL_SETUP["perceptron"],
        "paper_speedup": PAPER_RESULTS["speedup"]["perceptron"],
        "settings": {key: value for key, value in asdict(settings).items() if key.startswith(PERCEPTRON_FIELDS)},
        "headline": headline(experiment, active_threshold=settings.active_threshold,
                             zero_threshold=settings.zero_threshold),
        "experiment_seconds": time.perf_counter() - start,
    }
    numbers = report["headline"]
    print(f"J {numbers['auc_conventional']:.4f} -> {numbers['auc_optimised']:.4f}; speed-up {numbers['speedup']:.2f}x "
          f"on the desired set, {numbers['speedup_test']:.2f}x held out (paper {report['paper_speedup']:.2f}x); "
          f"{report['experiment_seconds']:.0f} s")
    path = write_report(report, out, "perceptron-official")
    print(f"wrote {path}")
    if fits:
        start = time.perf_counter()
        report["fits_by_steps"] = perceptron_fits_by_steps(settings).to_dict(orient="records")
        report["fits_seconds"] = time.perf_counter() - start
        print(f"wrote {write_report(report, str(path), 'perceptron-official')} with the fits by T")
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="gpu", choices=sorted(PROFILES))
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--fits", action="store_true", help="also the fits of the extra runs at other T")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="perceptron settings to change (e.g. perceptron_epochs=3), JSON values")
    parser.add_argument("--out", default=None, help="JSON path (default: runs/bench/perceptron-official-<time>.json)")
    args = parser.parse_args(argv)
    overrides = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)}
    return run(args.profile, args.device, args.fits, overrides, args.out)


if __name__ == "__main__":
    main()
