"""Before a run starts: does this machine fit it? Two checks that cost a second instead of hours.

* The gpu profile is paper scale for one GPU; on a machine without one it would run for hours on the
  CPU, so it is refused unless asked for (``--allow-cpu-for-gpu-profile``).
* A generated corpus lives in memory while it is tokenised: a run asking for more documents than the
  machine can hold (``-p n_stories=1000000000``) is refused unless asked for (``--skip-size-check``).
  The estimate is deliberately low (a third of the memory and a tenth of the time measured for
  ``prepare_lm_data`` on storyworld), so only a run that clearly cannot fit is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mini_lib.core.errors import ConfigError

# Measured: prepare_lm_data's peak memory grows ~6.3 kB per storyworld story and its time ~0.9 ms per
# story on one core (generation, tokenizer training, encoding; 10k -> 40k stories). Lower bounds:
BYTES_PER_DOCUMENT = 2_000
SECONDS_PER_DOCUMENT = 1e-4
# Settings that count documents a notebook generates and holds at once.
DOCUMENT_SETTINGS = ("n_stories", "pretrain_documents", "proxy_docs")
GPU_FLAG = "--allow-cpu-for-gpu-profile"
SIZE_FLAG = "--skip-size-check"


@dataclass(frozen=True)
class Estimate:
    """A lower bound of what preparing ``documents`` generated documents needs."""

    documents: int
    memory_bytes: float
    seconds: float

    @classmethod
    def for_documents(cls, documents: int) -> "Estimate":
        return cls(documents, documents * BYTES_PER_DOCUMENT, documents * SECONDS_PER_DOCUMENT)


def machine_memory() -> int:
    """Bytes of memory this process may use: the physical memory, or a lower container (cgroup) limit."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            limit = int(limit_file.read_text().strip())
        except (OSError, ValueError):  # absent, or "max"
            continue
        physical = min(physical, limit)
    return physical


def generated_documents(settings: Any) -> int:
    """How many documents a notebook's settings generate (0 when its corpus is a file or hub split,
    whose size the setting only caps)."""
    if getattr(settings, "corpus", "storyworld") != "storyworld":
        return 0
    return sum(int(getattr(settings, name, 0) or 0) for name in DOCUMENT_SETTINGS)


def check_fits(documents: int, what: str, *, memory: int | None = None) -> None:
    """A ConfigError, with the estimate, when ``documents`` generated documents clearly exceed memory."""
    estimate = Estimate.for_documents(documents)
    memory = machine_memory() if memory is None else memory
    if estimate.memory_bytes > memory:
        raise ConfigError(
            f"{what} needs at least {_gb(estimate.memory_bytes)} of memory and {_duration(estimate.seconds)} of data "
            f"preparation, and this machine has {_gb(memory)}: use fewer documents, or pass {SIZE_FLAG} to try anyway"
        )


def visible_gpu() -> str | None:
    """The name of the GPU torch can use (CUDA or Apple MPS), or None."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    mps = getattr(torch.backends, "mps", None)
    return "Apple MPS" if mps is not None and mps.is_available() else None


def check_gpu_profile(profile: str) -> None:
    """A ConfigError naming the device found when the gpu profile would run without a GPU."""
    if profile == "gpu" and visible_gpu() is None:
        raise ConfigError(
            f"the gpu profile is paper scale for one GPU and none is visible (found: cpu, {os.cpu_count()} cores; "
            f"it would run for hours): run --profile cpu, or pass {GPU_FLAG} to run it on the CPU anyway"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:,.0f} GB" if n >= 1e10 else f"{n / 1e9:.1f} GB"


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
