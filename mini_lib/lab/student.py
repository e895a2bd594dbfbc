"""Student copies of the notebooks: the exercises stay, their hints and solutions go, outputs are cleared.

``python -m mini_lib.lab.student [--out student/] [notebook ...]`` writes one copy per notebook (default:
all of them) into ``--out``, so a teacher can keep worked answers in ``notebooks/`` and hand out copies
without them.

The marker convention (the generator removes exactly these, and nothing else):

* a cell tagged ``solution`` (cell metadata ``tags``; in JupyterLab: the property inspector's "Cell
  Tags") is removed whole: a worked answer, in code or in prose;
* in a markdown cell, a folded block whose summary starts with "Hint" or "Solution",
  ``<details><summary>Hint</summary> ... </details>``, is removed. JupyterLab shows it folded, so
  the teacher's notebook keeps the hint one click away under the exercise it belongs to.

Code cells lose their outputs and execution counts. Blocks do not nest: a ``<details>`` inside a
hint would end it early, so hints hold plain text, lists and code only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import NOTEBOOK_DIR, write_text_atomic

SOLUTION_TAG = "solution"
# A <details> block whose <summary> text (inside any inline tags such as <b>) starts with Hint or Solution.
ANSWER_BLOCK = re.compile(
    r"[ \t]*<details\b[^>]*>\s*<summary>\s*(?:<[^>]+>\s*)*(?:hint|solution)\b.*?</details>[ \t]*\n?",
    re.IGNORECASE | re.DOTALL,
)


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` without solution cells, hint/solution blocks and outputs."""
    copy = nbformat.from_dict(notebook)  # a deep copy: the teacher's notebook stays as it is
    cells = []
    for cell in copy.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", ()):
            continue
        if cell.cell_type == "markdown":
            source, removed = ANSWER_BLOCK.subn("", cell.source)
            if removed:
                cell.source = source.rstrip()
                if not cell.source:  # the cell held only hints
                    continue
        elif cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    copy.cells = cells
    nbformat.validate(copy)
    return copy


def write_student_copies(out: "str | Path", notebooks: "list[Path] | None" = None) -> list[Path]:
    """Write the student copy of each notebook (default: every one in ``notebooks/``) into ``out``."""
    sources = notebooks if notebooks is not None else sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        copy = student_copy(nbformat.read(source, as_version=4))
        written.append(write_text_atomic(out / source.name, nbformat.writes(copy) + "\n"))
    return written


def main(argv: "list[str] | None" = None) -> int:
    from mini_lib.lab.profiles import resolve_notebook

    parser = argparse.ArgumentParser(prog="python -m mini_lib.lab.student", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="e.g. 00 or 02_simplified_vocab (default: all)")
    parser.add_argument("--out", default="student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    try:
        chosen = [NOTEBOOK_DIR / f"{resolve_notebook(name)}.ipynb" for name in args.notebooks] or None
        written = write_student_copies(args.out, chosen)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"student copy: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
