"""``course release SOURCE``: the student notebook, written beside the source."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from course_utils.grading.notebook_format import (
    homework_name,
    read_source,
    strip_hidden,
    strip_solution,
    student_path,
)


def student_notebook(source_path: Path):
    """The student version of a source notebook (a new notebook object)."""
    nb, cells = read_source(source_path)
    out = copy.deepcopy(nb)
    for cell, info in zip(out.cells, cells):
        if info.kind == "answer":
            cell.source = strip_solution(cell.source)
        elif info.kind == "test" and info.has_hidden:
            cell.source = strip_hidden(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if info.kind in ("answer", "test"):
            # cell ids survive edits in most front-ends; the grader matches grade_id
            cell.metadata["nbgrader"]["locked"] = info.kind == "test"
    out.metadata["course"] = {"homework": homework_name(source_path), "role": "student"}
    return out


def release(source_path: Path) -> tuple[Path, bool]:
    """Write the student notebook; return (its path, whether the file changed)."""
    source_path = Path(source_path)
    target = student_path(source_path)
    text = nbformat.writes(student_notebook(source_path)) + "\n"
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return target, False
    tmp = target.with_suffix(".ipynb.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target, True
