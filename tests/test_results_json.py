"""Results files are strict JSON: any reader (a browser, jq, another language) can load them."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mini_lib.lab.notebook import Session, to_json


@dataclass
class Row:
    name: str
    value: float


def test_results_are_strict_json_with_nan_as_null(tmp_path):
    session = Session("06_data_selection", "smoke", None, tmp_path)
    frame = pd.DataFrame({"sampler": ["random", "askllm"], "auroc": [0.5, np.nan]})
    path = session.save_json("results", {"table": frame, "row": Row("x", float("inf")), "arr": np.array([1.0, np.nan]),
                                         "scalar": np.float32("nan"), "n": np.int64(3), "where": Path("/a"),
                                         "nested": ({"ok": True},)})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    loaded = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict constant {c}"))
    assert loaded == {"table": [{"sampler": "random", "auroc": 0.5}, {"sampler": "askllm", "auroc": None}],
                      "row": {"name": "x", "value": None}, "arr": [1.0, None], "scalar": None, "n": 3,
                      "where": "/a", "nested": [{"ok": True}]}


def test_unknown_objects_are_refused_by_name():
    with pytest.raises(TypeError, match="object"):
        to_json({"x": object()})
