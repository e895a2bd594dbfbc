"""python -m mini_lib report: executed notebooks as HTML plus an index of every run's tables and verdicts."""

import json

import nbformat
import pytest

from mini_lib.__main__ import main as cli
from mini_lib.core.claims import PAPER_VS_OURS_COLUMNS, PaperRow, paper_vs_ours_table
from mini_lib.core.errors import ConfigError
from mini_lib.lab.report import build_report, find_runs, summarise


def _run(folder, notebook="03_quality_quantity", failed=False, claims=True):
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text(json.dumps({"notebook": notebook, "profile": "smoke", "settings": {}}))
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 90.0}})
    cell = nbformat.v4.new_code_cell("print('hi')", outputs=[nbformat.v4.new_output("stream", text="hi\n")])
    if failed:
        cell.outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[]))
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson"), cell]
    nbformat.write(nb, folder / f"{notebook}.ipynb")
    if not failed:
        paper_vs_ours_table([PaperRow("accuracy change at 25% duplication", "100% of the stories", "+0.14%", "-3.6%",
                                      source="results table")]).to_csv(folder / "paper_vs_ours.csv", index=False)
        results = {"claims": [{"claim": "x", "holds": False}]} if claims else {"loss": 1.0}
        (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_report_writes_a_page_per_run_and_an_index_with_tables_and_verdicts(tmp_path):
    good = _run(tmp_path / "runs" / "03_quality_quantity" / "a")
    bad = _run(tmp_path / "runs" / "03_quality_quantity" / "b", failed=True)
    (tmp_path / "runs" / "stray").mkdir()  # no settings.json: not a run
    assert find_runs([tmp_path / "runs"]) == [good.resolve(), bad.resolve()]
    index = build_report([tmp_path / "runs"], tmp_path / "out")
    text = index.read_text()
    assert "03_quality_quantity &mdash; a" in text and "1.5 min" in text and "accuracy change at 25% duplication" in text
    assert tuple(summarise(good).paper_vs_ours.columns) == PAPER_VS_OURS_COLUMNS  # the one schema, read back
    assert "".join(f"<th>{c}</th>" for c in PAPER_VS_OURS_COLUMNS) in "".join(text.split())  # and shown in that order
    assert "did not finish: ValueError: boom" in text
    page = (tmp_path / "out" / "03_quality_quantity--a.html").read_text()
    assert "A lesson" in page and "hi" in page
    assert summarise(good).claims["holds"].tolist() == [False]


def test_report_command_says_what_to_do_when_there_is_nothing_to_report(tmp_path, capsys):
    assert cli(["report", str(tmp_path)]) == 2
    assert "no executed notebook runs" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="no such run folder"):
        find_runs([tmp_path / "missing"])


def test_report_builds_over_damaged_and_running_runs_and_names_what_is_wrong(tmp_path):
    """main: one truncated results.json or torn notebook anywhere made the whole report a JSONDecodeError
    traceback, and a run still going was listed as "did not finish"."""
    import os
    import subprocess
    import sys

    from mini_lib.core.paths import REPO_ROOT

    root = tmp_path / "runs" / "03_quality_quantity"
    _run(root / "good")
    truncated = _run(root / "truncated")
    (truncated / "results.json").write_text('{"claims": [{"claim": "x", "ho')
    torn = _run(root / "torn")
    executed = torn / "03_quality_quantity.ipynb"
    executed.write_text(executed.read_text()[:300])
    no_settings = _run(root / "no-settings")
    (no_settings / "settings.json").write_text('{"notebook": "03_qua')
    running = _run(root / "running", failed=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from mini_lib.core.locking import folder_lock\n"
         f"with folder_lock({str(running)!r}):\n    print('held', flush=True); time.sleep(60)"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
        status = {d.name: summarise(d).status for d in find_runs([tmp_path / "runs"])}
    finally:
        holder.kill()
        holder.wait()
    assert status["good"] == "finished" and status["running"] == "in progress"
    assert status["truncated"].startswith("damaged: results.json is unreadable (JSONDecodeError")
    assert status["torn"].startswith("damaged: 03_quality_quantity.ipynb is unreadable (JSONDecodeError")
    assert status["no-settings"].startswith("damaged: settings.json is unreadable")
    text = (tmp_path / "out" / "index.html").read_text()
    assert "in progress" in text and "damaged: results.json is unreadable" in text
    assert sorted(p.name for p in (tmp_path / "out").glob("*.html")) == [
        "03_quality_quantity--good.html", "03_quality_quantity--no-settings.html", "03_quality_quantity--running.html",
        "03_quality_quantity--truncated.html", "index.html"]  # no page for the torn notebook, the rest intact
