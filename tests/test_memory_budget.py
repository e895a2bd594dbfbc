"""The cpu profile's promise (README, mini_lib/lab/profiles.py): it runs on a laptop or on Binder, whose
container has 2 GB of memory. Measured on the real notebook run, not assumed: slow (minutes per notebook)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mini_lib.lab.profiles import NOTEBOOK_PROFILES

BINDER_BYTES = 2e9
SERVER_BYTES = 0.25e9  # the Jupyter server shares the container with the kernel
KERNEL_FLOOR_BYTES = 3e8  # a kernel that has imported torch is above this; the runner alone is far below
REPO = Path(__file__).resolve().parent.parent


def peak_rss_bytes(command: list[str], env: dict[str, str]) -> int:
    """Peak resident memory of the largest process ``command`` starts and waits for (a notebook run: its
    kernel). A fresh wrapper process runs it, so RUSAGE_CHILDREN holds that run's processes only."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, *command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.split()[-1]) * 1024  # Linux reports KiB


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOK_PROFILES))
def test_cpu_profile_fits_in_binder_memory(name):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    peak = peak_rss_bytes([sys.executable, "-m", "mini_lib", "run", name, "--profile", "cpu", "--quiet"], env)
    assert peak > KERNEL_FLOOR_BYTES, f"{peak / 1e9:.2f} GB: the kernel's memory was not counted"
    assert peak < BINDER_BYTES - SERVER_BYTES, f"{name} (cpu) peaked at {peak / 1e9:.2f} GB, over Binder's 2 GB"


def test_the_probe_counts_a_grandchild_as_a_kernel_is_counted():
    touch_400mb = "b = bytearray(400 * 10**6); b[::4096] = bytes([1]) * len(b[::4096])"  # every page resident
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {touch_400mb!r}])"
    assert peak_rss_bytes([sys.executable, "-c", grandchild], dict(os.environ)) > 4e8
    assert peak_rss_bytes([sys.executable, "-c", "pass"], dict(os.environ)) < 1e8
