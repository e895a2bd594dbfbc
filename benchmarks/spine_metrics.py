"""Side-by-side shape of the code at two git revisions: module sizes, places per concept, notebook cells.

A refactoring is best judged beside the code it replaced. Every count is a regular expression over the
tracked files of a revision, so anyone can rerun it and check it:

    python benchmarks/spine_metrics.py REV_BEFORE REV_AFTER
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

# concept -> (what is counted, files to look in, pattern, files that are the concept's one home)
CONCEPTS = {
    "data recipe (files training a tokenizer)": (r"^mini_lib/.*\.py$|^notebooks/.*\.ipynb$", r"train_tokenizer\(",
                                                 ("mini_lib/core/tokenization.py",)),
    "caches not built on the artefact store (files using cache_dir() without mini_lib.core.store)": (
        r"^mini_lib/.*\.py$", r"cache_dir\(\)(?![\s\S]*)|^(?![\s\S]*mini_lib(\.core)?\.store)[\s\S]*cache_dir\(\)",
        ("mini_lib/core/paths.py", "mini_lib/core/store.py")),
    "model shapes built outside models.py (PythiaPreset(...) calls)": (r"^mini_lib/.*\.py$", r"PythiaPreset\(",
                                                                       ("mini_lib/core/models.py",)),
    "settings typed Any (parameters)": (r"^mini_lib/.*\.py$", r"settings: Any", ()),
    "paper-vs-ours table builders (def paper_vs_ours*)": (r"^mini_lib/.*\.py$", r"def paper_vs_ours", ()),
    "files building paper-vs-ours rows in the one schema (claims.PaperRow)": (r"^mini_lib/.*\.py$", r"\bPaperRow\(",
                                                                              ("mini_lib/core/claims.py",)),
    "files stating claims as claims.Claim rows (one schema)": (r"^mini_lib/.*\.py$", r"\bClaim\(", ("mini_lib/core/claims.py",)),
    "plotting homes (mini_lib files importing pyplot)": (r"^mini_lib/.*\.py$", r"import matplotlib\.pyplot", ()),
    "local notes cited (PAPERS.md)": (r"^mini_lib/.*\.py$|^notebooks/.*\.ipynb$", r"PAPERS\.md", ()),
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def files(rev: str) -> list[str]:
    return git("ls-tree", "-r", "--name-only", rev).splitlines()


def show(rev: str, path: str) -> str:
    return git("show", f"{rev}:{path}")


def metrics(rev: str) -> dict:
    paths = files(rev)
    text = {p: show(rev, p) for p in paths if re.match(r"^(mini_lib/.*\.py|notebooks/.*\.ipynb)$", p)}
    concepts = {}
    for concept, (where, pattern, homes) in CONCEPTS.items():
        hits = {p: len(re.findall(pattern, t)) for p, t in text.items() if re.match(where, p) and p not in homes}
        hits = {p: n for p, n in hits.items() if n}
        concepts[concept] = sum(hits.values()) if "parameters" in concept or "builders" in concept else len(hits)
    packages: dict[str, int] = {}
    for p, t in text.items():
        if p.endswith(".py"):
            parts = p.split("/")
            key = "/".join(parts[:2]) if len(parts) > 2 else "mini_lib/ (top level)"
            packages[key] = packages.get(key, 0) + t.count("\n")
    cells = []
    for p, t in sorted(text.items()):
        if p.endswith(".ipynb"):
            code = ["".join(c["source"]).strip() for c in json.loads(t)["cells"] if c["cell_type"] == "code"]
            lengths = [len(c.splitlines()) for c in code]
            cells.append({"notebook": p.split("/")[-1][:2], "code cells": len(code), "max lines": max(lengths),
                          "over 15": sum(n > 15 for n in lengths), "defs in cells": sum("def " in c for c in code)})
    largest = sorted(((t.count("\n"), p) for p, t in text.items() if p.endswith(".py")), reverse=True)[:6]
    return {"concepts": concepts, "packages": dict(sorted(packages.items())), "cells": cells, "largest": largest,
            "top_level_modules": sum(1 for p in text if re.match(r"^mini_lib/[^/]+\.py$", p))}


def main(before: str, after: str) -> None:
    a, b = metrics(before), metrics(after)
    print(f"| concept | {before} | {after} |\n|---|---|---|")
    for concept in CONCEPTS:
        print(f"| {concept} | {a['concepts'][concept]} | {b['concepts'][concept]} |")
    print(f"| top-level modules in mini_lib/ | {a['top_level_modules']} | {b['top_level_modules']} |")
    print(f"\n| package: lines | {before} | {after} |\n|---|---|---|")
    for package in sorted(set(a["packages"]) | set(b["packages"])):
        print(f"| {package} | {a['packages'].get(package, '-')} | {b['packages'].get(package, '-')} |")
    print(f"\n| notebook | code cells | max lines | cells over 15 | defs in cells |   ({before} -> {after})\n|---|---|---|---|---|")
    for x, y in zip(a["cells"], b["cells"]):
        print("| " + " | ".join([x["notebook"]] + [f"{x[k]} -> {y[k]}" for k in ("code cells", "max lines", "over 15", "defs in cells")]) + " |")
    print(f"\nlargest modules {before}: {a['largest']}\nlargest modules {after}: {b['largest']}")


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) >= 3 else ("HEAD~1", "HEAD")))
