"""``course release SOURCE``: the student notebook, written beside the source, and
the answer key of the trusted checks (``NAME.key.json``, made by running the
reference solution in the sandbox; never part of the student notebook)."""

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
    from course_utils.grading import trusted

    ladder_ids = sorted(trusted.ladders(trusted.instructor_module(source_path)))
    out.metadata["course"] = {"homework": homework_name(source_path), "role": "student"}
    if ladder_ids:
        out.metadata["course"]["ladders"] = ladder_ids  # judged by the grader only
    return out


def release(source_path: Path, key: bool = True, allow_weak: bool = False) -> tuple[Path, bool]:
    """Write the student notebook (and, with ``key``, the answer key when it is missing
    or stale); return (the notebook's path, whether anything changed)."""
    source_path = Path(source_path)
    key_changed = False
    if key:
        from course_utils.grading.grade import write_key

        _, key_changed = write_key(source_path, allow_weak=allow_weak)
    target = student_path(source_path)
    text = nbformat.writes(student_notebook(source_path)) + "\n"
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return target, key_changed
    tmp = target.with_suffix(".ipynb.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target, True
