"""python -m mini_lib report: executed notebooks as HTML plus an index of every run's tables, verdicts and figures."""

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from mini_lib.__main__ import main as cli
from mini_lib.core.claims import PAPER_VS_OURS_COLUMNS, PaperRow, paper_vs_ours_table
from mini_lib.core.errors import ConfigError
from mini_lib.lab.report import build_report, find_runs, summarise


def _figure(path: Path, kind: str = "line") -> None:
    """A small real matplotlib PNG, as the notebooks save them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    if kind == "bar":
        ax.bar(["clean", "10%", "25%"], [0.61, 0.58, 0.52], color=["#4c72b0", "#dd8452", "#c44e52"])
    else:
        ax.plot(range(30), [4 * 0.93**i + 1 for i in range(30)], label="train loss")
        ax.legend()
    ax.set_title(path.stem)
    fig.savefig(path)
    plt.close(fig)


def _run(folder, notebook="03_quality_quantity", failed=False, claims=True, figures=()):
    folder.mkdir(parents=True)
    for i, name in enumerate(figures):
        _figure(folder / name, "bar" if i % 2 else "line")
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
    running = _run(root / "running", failed=True, figures=("loss.png",))
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
    assert "03_quality_quantity \u2014 running" not in thumbnails(tmp_path / "out" / "index.html")  # still drawing
    assert sorted(p.name for p in (tmp_path / "out").glob("*.html")) == [
        "03_quality_quantity--good.html", "03_quality_quantity--no-settings.html", "03_quality_quantity--running.html",
        "03_quality_quantity--truncated.html", "index.html"]  # no page for the torn notebook, the rest intact


class _Thumbnails(HTMLParser):
    """The index's thumbnails: {run heading: [(link of the thumbnail, image source)]}."""

    def __init__(self):
        super().__init__()
        self.runs, self._heading, self._in_h2, self._href = {}, None, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self._in_h2, self._heading = True, ""
        elif tag == "a":
            self._href = attrs.get("href")
        elif tag == "img":
            self.runs.setdefault(self._heading, []).append((self._href, attrs["src"]))

    def handle_endtag(self, tag):
        self._in_h2 = self._in_h2 and tag != "h2"
        self._href = None if tag == "a" else self._href

    def handle_data(self, data):
        if self._in_h2:
            self._heading += data


def thumbnails(index: Path) -> dict[str, list[tuple[str, str]]]:
    parser = _Thumbnails()
    parser.feed(index.read_text())
    return parser.runs


def _inside(folder: Path, link: str) -> Path:
    """The file a relative link in ``folder``'s index points at; fails on any link that leaves the folder."""
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc and not link.startswith("/"), f"not a relative link: {link}"
    target = (folder / unquote(parts.path)).resolve()
    assert target.is_relative_to(folder.resolve()), f"{link} points outside the report folder"
    assert target.is_file(), f"{link} points at nothing in {folder}"
    return target


def test_report_shows_each_runs_figures_as_thumbnails_linking_to_its_executed_notebook(tmp_path):
    """Issue 24: the index a teacher hands out shows each run's figures beside its tables, each linking to
    the executed notebook, with relative links only, so the report folder alone can be zipped and sent."""
    runs = tmp_path / "runs"
    good = _run(runs / "00_quickstart" / "look", notebook="00_quickstart",
                figures=("loss_curves.png", "zipf #2 (words).png"))
    torn = _run(runs / "03_quality_quantity" / "torn", figures=("accuracy.png",))
    (torn / "03_quality_quantity.ipynb").write_text('{"cells": [')
    _run(runs / "03_quality_quantity" / "plain")  # no figures: no thumbnails, still its tables
    out = tmp_path / "report"
    index = build_report([runs], out)
    text = index.read_text()
    assert "Open that file in JupyterLab" in text, "the page says how to open the executed notebook"
    shown = thumbnails(index)
    assert sorted(shown) == ["00_quickstart \u2014 look", "03_quality_quantity \u2014 torn"], shown
    for href, src in shown["00_quickstart \u2014 look"]:
        assert _inside(out, href).read_bytes() == (good / "00_quickstart.ipynb").read_bytes()
    assert [_inside(out, src).read_bytes() for _, src in shown["00_quickstart \u2014 look"]] == [
        (good / "loss_curves.png").read_bytes(), (good / "zipf #2 (words).png").read_bytes()]
    [(href, src)] = shown["03_quality_quantity \u2014 torn"]  # no readable notebook: the picture links to itself
    assert href == src and _inside(out, src).read_bytes() == (torn / "accuracy.png").read_bytes()
    every_link = re.findall(r"(?:href|src)='([^']*)'", text)
    assert len(every_link) == 10 and all(_inside(out, link) for link in every_link)  # pages, notebooks, figures
    assert "width:100%;height:auto" in text and "figures figure{margin:0;width:15em}" in text  # scaled by CSS

    handed_out = tmp_path / "handed-out"  # zipped, sent, unzipped elsewhere, the runs gone
    shutil.unpack_archive(shutil.make_archive(str(tmp_path / "report"), "zip", out), handed_out)
    shutil.rmtree(runs)
    shutil.rmtree(out)
    links = [link for pairs in thumbnails(handed_out / "index.html").values() for pair in pairs for link in pair]
    assert len(links) == 6 and all(_inside(handed_out, link) for link in links)
