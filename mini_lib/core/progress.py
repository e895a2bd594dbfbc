"""Progress that behaves both under papermill and in JupyterLab.

In JupyterLab a live bar is what a reader wants. Under papermill (``python -m mini_lib run``, CI) a bar
is saved into the executed notebook: a widget is frozen at its first state ("0%") and a text bar
leaves a line per refresh (about 80 per training cell). So the runner marks its kernels headless
(``HEADLESS_ENV``), and there the loop prints a plain line at most once a minute while the libraries'
own bars (weight loading, shard writing, dataset maps) stay off.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

HEADLESS_ENV = "MINI_LIB_HEADLESS"
HEADLESS_INTERVAL_S = 60.0
# What the runner puts in a headless kernel's environment besides HEADLESS_ENV: tqdm reads TQDM_* at import
# as new defaults, so every bar a library opens without passing ``disable`` (transformers' GGUF conversion
# has no switch) stays off; ``progress_bar`` passes ``disable`` itself and keeps its lines.
HEADLESS_KERNEL_ENV = {HEADLESS_ENV: "1", "TQDM_DISABLE": "1"}


def headless() -> bool:
    """True in a kernel the runner started (papermill), or wherever ``MINI_LIB_HEADLESS=1``."""
    return os.environ.get(HEADLESS_ENV) == "1"


def progress_bar(total: int, desc: str, *, initial: int = 0, disable: bool = False) -> tqdm:
    """A bar for ``total`` steps: a live one interactively, sparse plain lines when headless."""
    if headless():
        return tqdm(total=total, initial=initial, desc=desc, ascii=True, file=sys.stdout, disable=disable,
                    mininterval=HEADLESS_INTERVAL_S, maxinterval=HEADLESS_INTERVAL_S)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(total=total, initial=initial, desc=desc, mininterval=1.0, disable=disable)


def quiet_library_bars() -> None:
    """Turn off the progress bars of transformers, huggingface_hub and datasets (headless runs)."""
    from huggingface_hub.utils import disable_progress_bars as hub_off
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hub_off()
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
