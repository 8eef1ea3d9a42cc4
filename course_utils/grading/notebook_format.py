"""The authoring format of graded notebooks (compatible with nbgrader's).

A *source* notebook is the instructor's: it holds the solutions and the hidden
tests. Cells are marked through ``cell.metadata["nbgrader"]`` as nbgrader does:

- an **answer cell**: ``{"solution": true, "grade": false, "grade_id": "q1"}``;
  its code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the reference
  solution (without markers the whole cell is);
- a **test cell**: ``{"grade": true, "solution": false, "grade_id": "q1_tests",
  "points": 2}``; lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN
  TESTS`` are hidden from students. Each test cell scores its points when it runs
  without an error (partial credit is per test cell).

Every other cell is *instructor content* and is always taken from the trusted source.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOURCE_SUFFIX = ".source.ipynb"


class FormatError(ValueError):
    """A source or submission notebook does not follow the authoring format."""


@dataclass(frozen=True)
class Cell:
    index: int
    kind: str  # "answer" | "test" | "content"
    grade_id: str | None
    points: float
    source: str
    cell_type: str
    has_hidden: bool = False


def grading_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    return meta if isinstance(meta, dict) else {}


def _regions(source: str, begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """Line spans (begin, end) of marker regions; raises on unbalanced markers."""
    spans, start = [], None
    for n, line in enumerate(source.splitlines()):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise FormatError(f"{where}: line {n + 1}: {begin!r} inside another one "
                                  f"(opened on line {start + 1})")
            start = n
        elif stripped == end:
            if start is None:
                raise FormatError(f"{where}: line {n + 1}: {end!r} without {begin!r}")
            spans.append((start, n))
            start = None
    if start is not None:
        raise FormatError(f"{where}: line {start + 1}: {begin!r} is never closed by {end!r}")
    return spans


def parse(nb) -> list[Cell]:
    """Classify and validate the cells of a source notebook."""
    cells, seen = [], {}
    for i, cell in enumerate(nb.cells):
        meta = grading_meta(cell)
        where = f"cell {i + 1}"
        source = cell.source
        is_answer, is_test = bool(meta.get("solution")), bool(meta.get("grade"))
        grade_id = meta.get("grade_id")
        if grade_id is not None:
            where += f" ({grade_id!r})"
        has_sol = any(m in source for m in (BEGIN_SOLUTION, END_SOLUTION))
        has_hidden = any(m in source for m in (BEGIN_HIDDEN, END_HIDDEN))
        if not (is_answer or is_test):
            if has_sol or has_hidden:
                raise FormatError(f"{where}: has grading markers but no nbgrader metadata "
                                  "(solution or grade)")
            cells.append(Cell(i, "content", None, 0.0, source, cell.cell_type))
            continue
        if is_answer and is_test:
            raise FormatError(f"{where}: a cell is either an answer cell (solution) or a "
                              "test cell (grade), not both")
        if not isinstance(grade_id, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", grade_id):
            raise FormatError(f"{where}: expected a grade_id of letters, digits, '_', '-', "
                              f"'.', found {grade_id!r}")
        if grade_id in seen:
            raise FormatError(f"{where}: duplicate grade_id {grade_id!r} "
                              f"(also cell {seen[grade_id] + 1})")
        seen[grade_id] = i
        if cell.cell_type != "code":
            raise FormatError(f"{where}: graded cells must be code cells, found {cell.cell_type}")
        if is_answer:
            if has_hidden:
                raise FormatError(f"{where}: hidden-test markers belong in test cells")
            _regions(source, BEGIN_SOLUTION, END_SOLUTION, where)
            cells.append(Cell(i, "answer", grade_id, 0.0, source, "code"))
        else:
            points = meta.get("points")
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
                raise FormatError(f"{where}: a test cell needs positive 'points' in its "
                                  f"nbgrader metadata, found {points!r}")
            if has_sol:
                raise FormatError(f"{where}: solution markers belong in answer cells")
            spans = _regions(source, BEGIN_HIDDEN, END_HIDDEN, where)
            cells.append(Cell(i, "test", grade_id, float(points), source, "code", bool(spans)))
    if not any(c.kind == "test" for c in cells):
        raise FormatError("the notebook has no test cell (nbgrader metadata grade: true)")
    return cells


def read_source(path: Path):
    """Read and validate a source notebook; return (notebook, cells)."""
    path = Path(path)
    if not path.name.endswith(SOURCE_SUFFIX):
        raise FormatError(f"{path}: a source notebook's name must end in {SOURCE_SUFFIX}")
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise FormatError(f"{path}: cannot read the notebook: {exc}") from None
    try:
        return nb, parse(nb)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None


def homework_name(source_path: Path) -> str:
    return Path(source_path).name[: -len(SOURCE_SUFFIX)]


def student_path(source_path: Path) -> Path:
    return Path(source_path).with_name(homework_name(source_path) + ".ipynb")


def strip_solution(source: str) -> str:
    """Replace every solution region by the stub (whole cell when no markers)."""
    lines = source.splitlines()
    spans = _regions(source, BEGIN_SOLUTION, END_SOLUTION, "answer cell")
    if not spans:
        return "\n".join(STUB)
    out, pos = [], 0
    for start, end in spans:
        out += lines[pos:start]
        indent = re.match(r"\s*", lines[start]).group(0)
        out += [indent + s for s in STUB]
        pos = end + 1
    out += lines[pos:]
    return "\n".join(out)


def strip_hidden(source: str) -> str:
    """Remove hidden-test regions, markers included."""
    lines = source.splitlines()
    spans = _regions(source, BEGIN_HIDDEN, END_HIDDEN, "test cell")
    out, pos = [], 0
    for start, end in spans:
        out += lines[pos:start]
        pos = end + 1
    out += lines[pos:]
    return "\n".join(out).rstrip()


def digest(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return hashlib.sha256(data).hexdigest()
