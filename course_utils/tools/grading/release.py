"""``course release SOURCE``: the student notebook and the answer key of the trusted
checks (``NAME.key.json`` beside the source, made by running the reference solution
in the sandbox; never part of the student notebook).

Where the student notebook goes (:func:`notebook_format.student_path`):
``NAME.source.ipynb`` -> ``NAME.ipynb`` beside it; nbgrader's
``source/<assignment>/X.ipynb`` -> ``release/<assignment>/X.ipynb``; any other
``X.ipynb`` -> ``release/X.ipynb`` beside it. As nbgrader does, answer cells are
released non-deletable, and test cells, tasks and read-only cells non-editable and
non-deletable (``metadata.editable`` / ``metadata.deletable``)."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from course_utils.io import atomic_write
from course_utils.tools.grading.notebook_format import (
    ANSWER_KINDS,
    LOCKED_KINDS,
    FormatError,
    cell_checksum,
    check_releasable,
    homework_name,
    is_lesson,
    read_source,
    strip_hidden,
    strip_solution,
    student_path,
)


def student_notebook(source_path: Path):
    """The student version of a source notebook (a new notebook object)."""
    nb, cells = read_source(source_path)
    try:
        check_releasable(cells)
    except FormatError as exc:
        raise FormatError(f"{source_path}: {exc}") from None
    out = copy.deepcopy(nb)
    for cell, info in zip(out.cells, cells):
        if info.kind in ANSWER_KINDS:
            cell.source = strip_solution(cell.source, cell.cell_type)
        elif info.kind == "test" and info.has_hidden:
            cell.source = strip_hidden(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        # changes a student makes to this cell are found with it (course check)
        cell.metadata["course"] = {"checksum": cell_checksum(cell.cell_type, cell.source)}
        if info.kind == "content":
            continue
        # the metadata as nbgrader's current schema writes it; cell ids survive edits
        # in most front-ends, but the grader matches grade_id
        meta = dict(info.meta)
        meta["locked"] = info.kind in LOCKED_KINDS
        if isinstance(meta.get("points"), str):
            meta["points"] = info.points  # nbgrader's schema wants a number
        cell.metadata["nbgrader"] = meta
        cell.metadata["deletable"] = False
        if info.kind in LOCKED_KINDS:
            cell.metadata["editable"] = False
        else:
            cell.metadata.pop("editable", None)  # answers stay editable
    from course_utils.tools.grading import trusted

    ladder_ids = sorted(trusted.ladders(trusted.instructor_module(source_path)))
    out.metadata["course"] = {
        "homework": homework_name(source_path),
        "role": "student",
        "grade_ids": [c.grade_id for c in cells if c.grade_id],
    }
    if is_lesson(source_path):
        out.metadata["course"]["seminar"] = True  # exercise checks, no points
    if ladder_ids:
        out.metadata["course"]["ladders"] = ladder_ids  # judged by the grader only
    return out


def release(
    source_path: Path, key: bool | None = None, allow_weak: bool = False
) -> tuple[Path, bool]:
    """Write the student notebook (and, with ``key``, the answer key when it is missing
    or stale); return (the notebook's path, whether anything changed). AUTOTEST
    directives are expanded first (in the sandbox), ``key`` or not. ``key=None``: a key
    for a homework, none for a lesson (its seminar checks run in the student's kernel
    and carry no points)."""
    source_path = Path(source_path)
    if key is None:
        key = not is_lesson(source_path)
    _, raw_cells = read_source(source_path, expand=False)
    autotests_changed = False
    if any(c.autotest for c in raw_cells):
        from course_utils.tools.grading import autotest
        from course_utils.tools.grading.grade import _level

        _, autotests_changed = autotest.write(source_path, _level(allow_weak))
    text = nbformat.writes(student_notebook(source_path)) + "\n"  # validates first
    key_changed = False
    if key:
        from course_utils.tools.grading.grade import write_key

        _, key_changed = write_key(source_path, allow_weak=allow_weak)
    target = student_path(source_path)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return target, key_changed or autotests_changed
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text)
    return target, True


def release_folder(
    folder: Path, key: bool | None = None, allow_weak: bool = False
) -> list[tuple[Path, bool]]:
    """Release every source notebook of an assignment folder and copy its data files
    beside the student notebooks; return (path, changed) for each file written."""
    from course_utils.tools.grading import assignment

    folder = Path(folder)
    written = [
        release(src, key=key, allow_weak=allow_weak) for src in assignment.source_notebooks(folder)
    ]
    target = written[0][0].parent
    if target.resolve() != folder.resolve():
        files = assignment.data_files(folder)
        changed = set(assignment.copy_files(files, target))
        written += [(target / rel, target / rel in changed) for _, rel in files]
    return written
