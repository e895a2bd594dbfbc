"""Student copies: exercises kept, hints and solutions (by the documented markers) removed, outputs cleared."""

import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mini_lib.core.paths import NOTEBOOK_DIR, REPO_ROOT
from mini_lib.lab.student import ANSWER_BLOCK, SOLUTION_TAG, main, student_copy, write_student_copies

EXERCISE_ITEM = re.compile(r"^\d+\. ", re.MULTILINE)


def _teacher_notebook() -> nbformat.NotebookNode:
    exercises = (
        "## Exercises\n\n"
        "1. Train on the rich tier.\n"
        "   <details><summary>Hint</summary>\n\n   Compare loss per *character*.\n\n   </details>\n"
        "2. Double the steps. <details open><summary><b>Solution</b></summary>The gap grows to 0.42.</details>\n"
        "3. Read the data order. <details><summary>Background</summary>kept: not a hint</details>\n"
    )
    ran = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", name="stdout", text="1\n")])
    return new_notebook(cells=[
        new_code_cell("profile = 'cpu'", metadata={"tags": ["parameters"]}),
        ran,
        new_markdown_cell(exercises),
        new_code_cell("answer = 42  # worked answer", metadata={"tags": [SOLUTION_TAG]}),
        new_markdown_cell("The solution prose: step 10 saw story 7.", metadata={"tags": ["solution", "other"]}),
        new_markdown_cell("<details><summary>hint for all</summary>use records</details>\n"),
    ])


def test_student_copy_strips_exactly_the_marked_hints_and_solutions():
    teacher = _teacher_notebook()
    before = nbformat.writes(teacher)
    student = student_copy(teacher)
    text = nbformat.writes(student)
    for kept in ("1. Train on the rich tier.", "2. Double the steps.", "3. Read the data order.",
                 "kept: not a hint", "profile = 'cpu'", "print(1)"):
        assert kept in text
    for gone in ("per *character*", "0.42", "answer = 42", "solution prose", "use records", "Hint", "Solution"):
        assert gone not in text
    assert len(student.cells) == 3  # the solution cells and the hint-only cell are gone
    assert student.cells[2].source.endswith("not a hint</details>")
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    nbformat.validate(student)
    assert nbformat.writes(teacher) == before  # the teacher's notebook is untouched


def test_write_student_copies_writes_valid_notebooks(tmp_path):
    source = tmp_path / "lesson.ipynb"
    nbformat.write(_teacher_notebook(), source)
    (written,) = write_student_copies(tmp_path / "student", [source])
    assert written == tmp_path / "student" / "lesson.ipynb"
    copy = nbformat.read(written, as_version=4)
    nbformat.validate(copy)
    assert "0.42" not in written.read_text() and "1. Train on the rich tier." in written.read_text()


def test_every_real_notebook_has_a_student_copy(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    teachers = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in teachers]
    for teacher_path in teachers:
        teacher = nbformat.read(teacher_path, as_version=4)
        student = nbformat.read(tmp_path / teacher_path.name, as_version=4)
        nbformat.validate(student)
        name = teacher_path.name
        exercises = [c.source for c in student.cells if "## Exercises" in c.source]
        assert len(exercises) == 1, f"{name}: no Exercises section in the student copy"
        teacher_exercises = next(c.source for c in teacher.cells if "## Exercises" in c.source)
        assert len(EXERCISE_ITEM.findall(exercises[0])) == len(EXERCISE_ITEM.findall(teacher_exercises)) >= 5, name
        assert not any(SOLUTION_TAG in c.metadata.get("tags", ()) for c in student.cells), name
        assert not any(ANSWER_BLOCK.search(c.source) for c in student.cells), name
        assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")


def test_cli_runs_as_a_module_and_names_bad_notebooks(tmp_path, capsys):
    out = subprocess.run([sys.executable, "-m", "mini_lib.student", "--out", str(tmp_path), "00"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"student copy: {tmp_path / '00_quickstart.ipynb'}"
    assert main(["--out", str(tmp_path / "bad"), "00", "99"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown notebook '99'; choose one of: 00_quickstart")
    assert not (tmp_path / "bad").exists()  # names are checked before anything is written


@pytest.mark.parametrize("summary", ["Hint", "hint 2", "<b>Solution</b>", "SOLUTION (try first!)"])
def test_answer_block_matches_hint_and_solution_summaries(summary):
    assert ANSWER_BLOCK.fullmatch(f"<details><summary>{summary}</summary>\nx\n</details>\n")
    assert not ANSWER_BLOCK.search(f"<details><summary>About {summary}</summary>x</details>")


def test_readme_documents_the_command_and_the_markers():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "python -m mini_lib.student" in readme
    assert "<details><summary>Hint</summary>" in readme and f"`{SOLUTION_TAG}`" in readme
    assert ANSWER_BLOCK.search("<details><summary>Hint</summary> ... </details>")  # the README's example works
