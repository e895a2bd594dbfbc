"""Which device a run uses, and its peak throughput for model FLOPs utilisation (MFU).

A table, never one hard-coded chip: MFU = achieved model FLOP/s / peak of the device actually used.
Figures are the vendors' dense (no sparsity) tensor-core peaks.
"""

from __future__ import annotations

import torch

from mini_lib.core.errors import ConfigError, choose


def resolve_device(device: str) -> str:
    """"auto" -> "cuda" when a GPU is visible, else "cpu"; "cuda" without a GPU is an error."""
    choose("device", device, ("auto", "cpu", "cuda"))
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but no GPU is visible; use device='cpu' or 'auto'")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device

# (substring of torch.cuda.get_device_name(), precision) -> peak FLOP/s
PEAK_FLOPS: dict[tuple[str, str], float] = {
    ("H200", "bf16"): 989e12,
    ("H100 SXM", "bf16"): 989e12,
    ("H100 80GB HBM3", "bf16"): 989e12,  # how the SXM part names itself
    ("H100 PCIe", "bf16"): 756e12,
    ("H100", "bf16"): 989e12,
    ("A100", "bf16"): 312e12,
    ("L4", "bf16"): 121e12,
    ("A10G", "bf16"): 125e12,
    ("H200", "fp32"): 67e12,
    ("H100", "fp32"): 67e12,
    ("A100", "fp32"): 19.5e12,
}


def device_name(device: torch.device) -> str:
    """A human-readable name for the device a run used."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def peak_flops(device: torch.device, precision: str) -> float | None:
    """The table's peak for this device and precision, or None when unknown (CPU, unlisted GPU)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    key = "bf16" if precision in ("bf16", "fp16") else "fp32"
    for (pattern, prec), flops in PEAK_FLOPS.items():
        if pattern in name and prec == key:
            return flops
    return None
