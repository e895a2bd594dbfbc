"""JupyterLab and the teacher's report in a real browser: Debian's chromium, driven by Playwright.

The set-up's own ``jupyter lab`` runs notebook 00 in the smoke profile through the UI (Run All), and the
report's index is opened from disk; screenshots go to each test's temporary folder. Where chromium or
playwright is missing the browser tests skip, saying why; CI (``.ci/run``) installs chromium and sets
``MINI_LIB_REQUIRE_BROWSER=1``, which turns those skips into failures. Nothing here downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from mini_lib.core.progress import HEADLESS_KERNEL_ENV
from mini_lib.lab.report import build_report

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
NOTEBOOK = "00_quickstart.ipynb"
NEWS = "@jupyterlab/apputils-extension:notification"  # the plugin whose settings hold the news pop-up
# Playwright adds --user-data-dir (a fresh folder per test run) and --remote-debugging-pipe. Without these
# flags chromium tries the network (updates, sync, QUIC) at start, which a closed machine refuses.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_S, KERNEL_START_S, RUN_ALL_S = 120, 120, 420


def _unavailable(reason: str) -> None:
    """Skip, or fail where the browser tests are required (CI)."""
    if os.environ.get("MINI_LIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (MINI_LIB_REQUIRE_BROWSER=1: the browser tests must run here)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless chromium for the module, on a fresh profile."""
    chromium = os.environ.get("MINI_LIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        _unavailable("no chromium found: install Debian's package (apt-get install chromium) or set MINI_LIB_CHROMIUM "
                     "to a chromium binary; these tests never download a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed in this environment: bash .ci/setup installs it (the dev extra)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        yield context
        context.close()


@dataclass
class Lab:
    """A running ``jupyter lab``: where it listens, its token, its folders and its log."""

    url: str
    token: str
    root: Path
    runs: Path
    log: Path
    server: subprocess.Popen

    def get(self, path: str) -> dict:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                pytest.fail(f"jupyter lab exited with code {self.server.returncode} at start:\n{self.log_tail()}")
            try:
                self.get("/api/status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        pytest.fail(f"jupyter lab did not answer on {self.url} within {SERVER_START_S} s:\n{self.log_tail()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smoke_copy(source: Path, target: Path) -> None:
    """The notebook with its parameters cell set to the smoke profile, as a learner would edit it."""
    notebook = json.loads(source.read_text())
    cell = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    text, n = re.subn(r'^profile = "\w+"', 'profile = "smoke"', "".join(cell["source"]), count=1, flags=re.M)
    assert n == 1, f"{source.name}'s parameters cell has no line profile = \"...\""
    cell["source"] = text
    target.write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def lab(tmp_path):
    """The set-up's own ``jupyter lab`` on a free localhost port, over a temporary folder holding notebook 00
    in the smoke profile; its runs, caches and every Jupyter user folder are temporary too."""
    jupyter = VENV / "bin" / "jupyter"
    if not jupyter.exists():
        _unavailable(f"{jupyter} is absent: make the set-up with bash .ci/setup")
    root, runs = tmp_path / "lab", tmp_path / "runs"
    root.mkdir()
    _smoke_copy(REPO / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    # An interactive kernel, as a learner's: none of the runner's headless switches (they hide the progress bar).
    env = {k: v for k, v in os.environ.items() if k not in HEADLESS_KERNEL_ENV}
    env |= {"MINI_LIB_RUNS": str(runs), "MINI_LIB_CACHE": str(tmp_path / "cache")}
    env |= {name: str(tmp_path / "jupyter" / name.lower()) for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR")}  # no user's settings or kernels: only what the set-up installs
    token, port = secrets.token_hex(16), _free_port()
    log = tmp_path / "jupyter-lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = Lab(f"http://127.0.0.1:{port}", token, root, runs, log, server)
    try:
        running.wait_ready()
        yield running
    finally:
        server.terminate()  # the server shuts its kernels down
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_jupyterlab_settings_turn_off_the_news_popup_and_update_check():
    """binder/overrides.json, which .ci/setup (and Binder's postBuild) install, is valid for the installed
    JupyterLab's schema and says: never fetch news (no pop-up asking a class), never check for updates."""
    import jsonschema

    overrides = json.loads((REPO / "binder" / "overrides.json").read_text())
    assert overrides[NEWS] == {"checkForUpdates": False, "fetchNews": "false"}
    lab_dir = VENV / "share" / "jupyter" / "lab"
    if not (lab_dir / "schemas").is_dir():
        _unavailable(f"{lab_dir} is absent: make the set-up with bash .ci/setup")
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        schema = json.loads((lab_dir / "schemas" / package / f"{name}.json").read_text())
        jsonschema.validate(values, schema)  # a misspelt key or value fails here (additionalProperties: false)
    installed = lab_dir / "settings" / "overrides.json"
    assert installed.is_file(), f"{installed} is absent: bash .ci/setup installs it"
    assert json.loads(installed.read_text()) == overrides, f"{installed} differs from binder/overrides.json"


RUN_STATE = """() => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompts = panel ? [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim()) : [];
  return {status: indicator && indicator.getAttribute('data-status'), queued: prompts.filter(p => p.includes('*')).length,
          done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length};
}"""


def test_quickstart_runs_in_jupyterlab_in_a_real_browser(browser, lab, tmp_path):
    """Issue 24: the set-up's JupyterLab runs notebook 00 (smoke) through Run All with no error, the
    progress bar and the figures render, the kernel is the venv's python, and no news pop-up shows."""
    from playwright.sync_api import Error as PlaywrightError

    specs = lab.get("/api/kernelspecs")
    spec = specs["kernelspecs"][specs["default"]]["spec"]
    interpreter = Path(spec["argv"][0])  # not resolved: the venv's python is a link to the base interpreter
    assert interpreter.parent.resolve() == (VENV / "bin").resolve() and interpreter.name.startswith("python"), (
        f"JupyterLab's default kernel {specs['default']!r} runs {interpreter}, not {VENV}/bin/python")
    news = lab.get(f"/lab/api/settings/{NEWS}")
    in_effect = {key: news["settings"].get(key, prop.get("default")) for key, prop in news["schema"]["properties"].items()}
    assert in_effect["fetchNews"] == "false" and in_effect["checkForUpdates"] is False, (
        f"the server's notification settings are {in_effect}: is binder/overrides.json installed (bash .ci/setup)?")

    page = browser.new_page()
    shots: list[Path] = []
    step = "opening the notebook and waiting for its kernel"

    def shot(name: str) -> None:
        shots.append(tmp_path / f"lab-{len(shots) + 1}-{name}.png")
        page.screenshot(path=shots[-1])

    try:
        page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}", timeout=KERNEL_START_S * 1000)
        kernel_name = page.locator(".jp-NotebookPanel .jp-Toolbar-kernelName")
        kernel_name.filter(has_text=spec["display_name"]).wait_for(timeout=KERNEL_START_S * 1000)
        page.locator("#jp-main-statusbar").filter(has_text=f"{spec['display_name']} | Idle").wait_for(
            timeout=KERNEL_START_S * 1000)
        shot("opened")
        step = "Run > Run All Cells, then waiting for every cell to finish and the kernel to go idle"
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        page.wait_for_function(f"() => ({RUN_STATE})().queued > 0 || ({RUN_STATE})().done > 0", timeout=30_000)
        page.wait_for_function(f"() => {{ const s = ({RUN_STATE})(); return s.queued === 0 && s.status === 'idle'; }}",
                               timeout=RUN_ALL_S * 1000, polling=1000)
        shot("run-all-finished")
        step = "saving the notebook (Ctrl+S) and reading its outputs"
        page.keyboard.press("Control+s")
        executed = _wait_saved_and_executed(lab.root / NOTEBOOK)
        failures = [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(executed["cells"])
                    for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not failures, f"error output after Run All: {failures}"
        not_run = [i for i, c in enumerate(executed["cells"]) if c["cell_type"] == "code" and c["execution_count"] is None]
        assert not not_run, f"Run All left code cells {not_run} unexecuted (or Ctrl+S did not save the notebook)"
        figures = sum("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))
        assert figures >= 1, "notebook 00 drew no figure in JupyterLab"

        step = "looking at the progress bar, the figures, the kernel and pop-ups"
        bar = page.locator(".jp-OutputArea-output .widget-hprogress .progress-bar").first
        _show(page, bar)
        assert bar.evaluate("b => b.style.width") == "100%", "the training progress bar did not render or never filled"
        shot("progress-bar")
        images = page.locator(".jp-OutputArea-output img")
        page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)")
        widths = images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == figures and all(w > 0 for w in widths), (
            f"{figures} figures in the notebook, images shown with natural widths {widths}")
        for i in range(figures):
            _show(page, images.nth(i))
            shot(f"figure-{i + 1}")

        assert kernel_name.inner_text().strip() == spec["display_name"]
        [session] = [s for s in lab.get("/api/sessions") if s["path"] == NOTEBOOK]
        assert session["kernel"]["name"] == specs["default"], f"the notebook ran on kernel {session['kernel']['name']!r}"
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        assert not toasts, f"a pop-up showed over the notebook: {toasts}"
        assert list(lab.runs.glob("00_quickstart/*/results.json")), "the notebook wrote no results.json"
    except (AssertionError, PlaywrightError) as error:
        page.screenshot(path=tmp_path / "lab-failure.png")
        raise AssertionError(f"while {step}: {error}\nscreenshots in {tmp_path}; jupyter lab's log ends:\n"
                             f"{lab.log_tail()}") from error
    finally:
        page.close()


def _show(page, element, tries: int = 10) -> None:
    """Scroll ``element`` into the viewport. JupyterLab lays cells out lazily (content-visibility), so one
    scroll can land short while the cells above it take their real heights: scroll until it stays in view."""
    for _ in range(tries):
        element.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box, height = element.bounding_box(), page.viewport_size["height"]
        if box and box["y"] >= 0 and box["y"] + min(box["height"], height / 2) <= height:
            return
    raise AssertionError(f"could not scroll {element} into view in {tries} tries")


def _wait_saved_and_executed(path: Path, timeout_s: float = 30) -> dict:
    """The notebook on disk once the save that follows Run All has landed (every shown code cell executed
    or an error output), or the last version read."""
    deadline, notebook = time.monotonic() + timeout_s, {}
    while time.monotonic() < deadline:
        try:
            notebook = json.loads(path.read_text())
        except json.JSONDecodeError:  # the server is writing it
            time.sleep(0.2)
            continue
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        if any(o["output_type"] == "error" for c in code for o in c.get("outputs", [])) or all(
                c["execution_count"] is not None for c in code):
            return notebook
        time.sleep(0.5)
    return notebook


def test_report_index_shows_the_thumbnails_in_a_real_browser(browser, tmp_path):
    """Issue 24: the index a teacher hands out, opened from disk: every thumbnail loads, is scaled down by
    the page's CSS and links to the executed notebook."""
    from tests.test_report import _run

    runs = tmp_path / "runs"
    _run(runs / "00_quickstart" / "look", notebook="00_quickstart", figures=("loss_curves.png", "zipf.png"))
    _run(runs / "03_quality_quantity" / "a", figures=("accuracy by duplication.png",))
    index = build_report([runs], tmp_path / "report")
    page = browser.new_page()
    try:
        page.goto(index.as_uri())
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        shown = page.locator(".figures img").evaluate_all(
            "imgs => imgs.map(i => ({natural: i.naturalWidth, width: i.getBoundingClientRect().width,"
            " link: i.closest('a').getAttribute('href')}))")
        page.screenshot(path=tmp_path / "report-index.png", full_page=True)
    finally:
        page.close()
    assert len(shown) == 3, shown
    assert all(s["natural"] > 0 for s in shown), f"a thumbnail did not load: {shown}"
    assert all(0 < s["width"] < s["natural"] for s in shown), f"thumbnails are not scaled down: {shown}"
    assert [s["link"].rsplit("/", 1)[1] for s in shown] == ["00_quickstart.ipynb"] * 2 + ["03_quality_quantity.ipynb"]
