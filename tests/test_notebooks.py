"""Every notebook: committed clean, parameters cell first, runs headless in smoke (and gpu shapes, slow)."""

import ast
import json
import re
import tempfile
from importlib import import_module
from pathlib import Path

import nbformat
import pytest

from mini_lib.core.paths import NOTEBOOK_DIR, REPO_ROOT, cache_dir, runs_dir, shared_data_dir
from mini_lib.lab.profiles import GPU_ON_CPU_OVERRIDES, NOTEBOOK_PROFILES
from mini_lib.lab.runner import NotebookFailed, run_notebook

NOTEBOOKS = sorted(NOTEBOOK_PROFILES)
FROM_SCRATCH = "from-scratch"  # the tag of a cell that writes the lesson's mechanism out, checked against mini_lib
FROM_SCRATCH_LINES = 40  # small enough for a projector
SOLUTION = "solution"  # the tag of a worked answer in code: folded in the teacher's notebook, absent from student copies
HEADING_NUMBER = re.compile(r"^#{1,6}\s+(\d+)[.)\s]", re.MULTILINE)
# "section 4", "sections 6 and 7", "sections 2-4"; not the paper's own ("Sec. 4", "the paper's section 3")
SECTION_CITED = re.compile(r"(?<!paper's )\bsections?\s+(\d+(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s*-\s*|\s+to\s+)\d+)*)"
                           r"(?!\s+of\s+the\s+paper)", re.IGNORECASE)
PERCENT = re.compile(r"\d+(?:\.\d+)?\s?%")
EXERCISE_ITEM = re.compile(r"^\d+\.\s", re.MULTILINE)


def _cells(name):
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4).cells


def test_every_notebook_file_has_a_profile_and_vice_versa():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_clean_with_literal_parameters_first(name):
    cells = _cells(name)
    code = [c for c in cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear outputs before committing"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", [])
    tree = ast.parse(first.source)
    assigned = {t.id for node in tree.body for t in node.targets}
    assert assigned == {"profile", "overrides", "run_dir"}
    for node in tree.body:
        ast.literal_eval(node.value)  # literals only
    assert ast.literal_eval(tree.body[0].value) == "cpu", "the default profile is cpu"
    assert any("exercise" in c.source.lower() for c in cells if c.cell_type == "markdown")


def _is_from_scratch(cell) -> bool:
    return FROM_SCRATCH in cell.metadata.get("tags", [])


def _is_solution(cell) -> bool:
    return SOLUTION in cell.metadata.get("tags", [])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_cells_only_call_explain_and_plot(name):
    """A code cell is at most 15 lines and defines nothing: logic lives in mini_lib, where it is tested. A
    from-scratch cell may define the lesson's mechanism in up to 40 lines, and checks it against mini_lib."""
    for cell in (c for c in _cells(name) if c.cell_type == "code"):
        head = cell.source.splitlines()[0] if cell.source else ""
        limit = FROM_SCRATCH_LINES if _is_from_scratch(cell) or _is_solution(cell) else 15
        assert len(cell.source.splitlines()) <= limit, f"cell {cell.get('id')} ({head!r}) has more than {limit} lines"
        tree = ast.parse(cell.source)
        if _is_solution(cell):
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), f"solution cell {cell.get('id')} is not folded"
            continue
        if _is_from_scratch(cell):
            calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
            assert "agree" in calls, f"from-scratch cell {cell.get('id')} ({head!r}) never checks itself with agree()"
            continue
        defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defined, f"cell {cell.get('id')} defines {defined}: move it into mini_lib, or tag the cell from-scratch"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_sections_cited_in_prose_exist(name):
    markdown = [c.source for c in _cells(name) if c.cell_type == "markdown"]
    numbered = {int(n) for source in markdown for n in HEADING_NUMBER.findall(source)}
    cited = {int(n) for source in markdown for m in SECTION_CITED.finditer(source) for n in re.findall(r"\d+", m.group(1))}
    assert cited <= numbered, f"the prose cites sections {sorted(cited - numbered)}, which no heading numbers"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_has_a_folded_worked_answer(name):
    exercises = next(c.source for c in _cells(name) if c.cell_type == "markdown" and "## Exercises" in c.source)
    items = EXERCISE_ITEM.split(exercises.split("## Exercises", 1)[1])[1:]
    assert items, "no numbered exercises"
    for number, item in enumerate(items, 1):
        assert re.search(r"<summary>\s*(?:<[^>]+>\s*)*Solution", item), f"exercise {number} has no folded worked answer"


def _machine_paths() -> list[str]:
    """Absolute folders of this machine that no output may show: a learner's machine has others."""
    folders = {REPO_ROOT, shared_data_dir(), runs_dir(), cache_dir(), Path.home(), Path(tempfile.gettempdir())}
    return sorted({str(p) for f in folders for p in (f, f.resolve()) if len(p.parts) > 1}, key=len, reverse=True)


def _outputs_text(notebook) -> str:
    texts = []
    for cell in (c for c in notebook.cells if c.cell_type == "code"):
        for output in cell.outputs:
            texts += [output.get("text", ""), json.dumps(output.get("data", {})), *output.get("traceback", [])]
    return "\n".join(texts)


def _no_machine_paths(text: str, where: str) -> None:
    for folder in _machine_paths():
        match = re.search(re.escape(folder) + r"(?![\w.-])", text)
        assert not match, f"{where} shows a path of this machine: {text[match.start():match.start() + 80]!r}"


def _claims_measured_where_they_say(claims: list[dict]) -> None:
    """A claim that names a percentage is measured there: our evidence names the same percentage."""
    for row in claims:
        named = {p.replace(" ", "") for p in PERCENT.findall(row["claim"])}
        shown = {p.replace(" ", "") for p in PERCENT.findall(row["ours"])}
        assert row["verdict"] == "not run" or named <= shown, (
            f"claim {row['claim']!r} names {sorted(named - shown)}, but ours is measured elsewhere: {row['ours']!r}")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_in_smoke_and_writes_results(name):
    result = run_notebook(name, "smoke", run_name="test-smoke")
    results = json.loads((result.run_dir / "results.json").read_text())
    assert results, "results.json is empty"
    assert list(result.run_dir.glob("*.png")), "no figures saved"
    executed = nbformat.read(result.executed, as_version=4)
    assert all(c.get("execution_count") for c in executed.cells if c.cell_type == "code")
    _no_machine_paths(_outputs_text(executed), "an output")
    _no_machine_paths((result.run_dir / "results.json").read_text(), "results.json")
    _claims_measured_where_they_say(results.get("claims", []))
    lessons = sum(map(_is_from_scratch, _cells(name)))
    rows = results.get("from_scratch", [])
    assert len(rows) >= lessons, f"{lessons} from-scratch cells, {len(rows)} rows under from_scratch in results.json"
    assert all(row.keys() == {"what", "max_abs_difference", "tolerance", "matches"} and row["matches"] for row in rows)
    import_module(f"tests.notebook_checks.{name[3:]}").check(results)


def test_failing_cell_is_reported_with_its_error():
    # each value is valid (bad ones never reach a kernel); together they leave too few tokens for one block
    with pytest.raises(NotebookFailed, match="ConfigError: corpus has .* fewer than one block"):
        run_notebook("00", "smoke", {"n_stories": 20, "seq_len": 4096}, run_name="fails")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_gpu_profile_shapes_run_on_cpu(name):
    run_notebook(name, "gpu", GPU_ON_CPU_OVERRIDES[name], run_name="gpu-shapes", allow_cpu_for_gpu_profile=True)
