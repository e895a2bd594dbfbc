"""What the first cell of every notebook calls: settings, seeds, run folder, plot style.

Keeps notebooks to one line of set-up and makes every notebook save results the same way:
JSON/CSV tables and PNG figures in its run folder, where tests and ``python -m mini_lib report``
read the same numbers the reader sees.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mini_lib.core.paths import runs_dir, write_text_atomic
from mini_lib.core.progress import headless, quiet_library_bars
from mini_lib.core.seeding import seed_everything
from mini_lib.lab.profiles import notebook_settings, resolve_notebook


@dataclass
class Session:
    """A notebook run: its validated settings and the folder its outputs go to."""

    notebook: str
    profile: str
    settings: Any
    run_dir: Path

    def save_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as strict JSON ``<run_dir>/<name>.json`` (atomically): DataFrames become lists of
        records, dataclasses dicts, numpy values Python ones, and NaN/inf ``null`` (JSON has no NaN,
        and a strict reader such as a browser's or ``jq`` refuses the bare ``NaN`` Python writes)."""
        return write_text_atomic(self.run_dir / f"{name}.json", to_json(obj))

    def save_table(self, name: str, frame) -> Path:
        """Write a pandas DataFrame as ``<run_dir>/<name>.csv``."""
        path = self.run_dir / f"{name}.csv"
        frame.to_csv(path, index=False)
        return path

    def save_figure(self, name: str, fig=None) -> Path:
        """Save a matplotlib figure (the current one by default) as ``<run_dir>/<name>.png``."""
        import matplotlib.pyplot as plt

        fig = fig or plt.gcf()
        path = self.run_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        return path

    def subdir(self, name: str) -> Path:
        path = self.run_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def to_json(obj: Any) -> str:
    """Strict JSON text of results (see ``Session.save_json``)."""
    return json.dumps(_strict(obj), indent=2, allow_nan=False)


def _strict(value: Any) -> Any:
    import math

    import pandas as pd

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return _strict(value.to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return _strict(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        return _strict(asdict(value))
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _strict(value.tolist())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def start(notebook: str, profile: str = "cpu", overrides: dict | None = None, run_dir: str = "") -> Session:
    """Validate parameters, seed everything, create the run folder, set the plot style."""
    notebook = resolve_notebook(notebook)
    settings = notebook_settings(notebook, profile, overrides)
    folder = Path(run_dir) if run_dir else runs_dir() / notebook / f"{profile}-{datetime.now():%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    seed_everything(getattr(settings, "seed", 0))
    _plot_style()
    _table_style()
    if headless():
        quiet_library_bars()
    session = Session(notebook, profile, settings, folder.resolve())
    session.save_json("settings", {"notebook": notebook, "profile": profile, "settings": settings})
    return session


def _plot_style() -> None:
    import matplotlib

    if "ipykernel" not in os.environ.get("MPLBACKEND", "") and not _in_notebook():
        matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")


def _table_style() -> None:
    """One display setting for every notebook: text columns (claims, notes, settings) are shown whole,
    not cut at pandas' default 50 characters, and wide tables wrap instead of hiding columns."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 40)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        return False
