"""The authoring format of graded notebooks: nbgrader's cell metadata format.

A *source* notebook is the instructor's: it holds the solutions and the hidden
tests. Cells are marked through ``cell.metadata["nbgrader"]`` as nbgrader does
(``solution``, ``grade``, ``task``, ``locked``, ``grade_id``, ``points``,
``schema_version``); every nbgrader cell needs a ``grade_id`` unique in the notebook.

- an **autograded answer** (kind ``"answer"``): ``{"solution": true, "grade": false}``,
  a code cell; its code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is
  the reference solution (without markers the whole cell is), replaced by
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` in the student version;
- an **autograder test cell** (``"test"``): ``{"solution": false, "grade": true,
  "points": 2}``, a code cell; lines between ``### BEGIN HIDDEN TESTS`` and ``### END
  HIDDEN TESTS`` are hidden from students. Each test cell scores its points when it
  runs without an error (partial credit is per test cell);
- a **manually graded answer** (``"manual"``): ``{"solution": true, "grade": true,
  "points": 3}``, code or markdown; its solution regions (or the whole cell) become
  the code stub, or ``YOUR ANSWER HERE`` in markdown. Its points wait for a person;
- a **manually graded task** (``"task"``): ``{"task": true, "points": 2}`` (solution
  and grade false), a markdown cell describing work graded by a person;
- a **read-only cell** (``"readonly"``): ``{"locked": true}`` only.

Points may be 0 and may be written as strings (``"2"``). Metadata of schema
versions 0 (none written) to 2 is upgraded on read as nbgrader does; a newer
version than 3 is refused. Every cell without nbgrader metadata is *instructor
content*, and it, like the test, task and read-only cells, is always taken from the
trusted source.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = ("YOUR ANSWER HERE",)
SOURCE_SUFFIX = ".source.ipynb"
SCHEMA_VERSION = 3  # nbgrader's current cell metadata schema
FLAGS = ("solution", "grade", "locked", "task")
# an nbgrader AUTOTEST or HASHED AUTOTEST directive: a comment line naming it
AUTOTEST = re.compile(r"^\s*#.*\bAUTOTEST\b")

# What each kind is called in messages, after nbgrader's names for them.
KIND_NAMES = {
    "answer": "an autograded answer (solution)",
    "test": "an autograder test cell (grade)",
    "manual": "a manually graded answer (solution and grade)",
    "task": "a manually graded task (task)",
    "readonly": "a read-only cell (locked)",
    "content": "a cell without nbgrader metadata",
}
ANSWER_KINDS = ("answer", "manual")  # the cells whose content students write
GRADED_KINDS = ("test", "manual", "task")  # the cells worth points
LOCKED_KINDS = ("test", "task", "readonly")  # released non-editable and non-deletable


class FormatError(ValueError):
    """A source or submission notebook does not follow the authoring format."""


@dataclass(frozen=True)
class Cell:
    index: int
    kind: str  # "answer" | "test" | "manual" | "task" | "readonly" | "content"
    grade_id: str | None
    points: float
    source: str
    cell_type: str
    has_hidden: bool = False
    autotest: bool = False  # holds AUTOTEST directives (expanded at release)
    cell_id: str = field(default="", compare=False)  # nbformat's cell id, when written
    # the cell's nbgrader metadata upgraded to the current schema (None for content)
    meta: dict | None = field(default=None, compare=False, repr=False)


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
                raise FormatError(
                    f"{where}: line {n + 1}: {begin!r} inside another one "
                    f"(opened on line {start + 1})"
                )
            start = n
        elif stripped == end:
            if start is None:
                raise FormatError(f"{where}: line {n + 1}: {end!r} without {begin!r}")
            spans.append((start, n))
            start = None
    if start is not None:
        raise FormatError(f"{where}: line {start + 1}: {begin!r} is never closed by {end!r}")
    return spans


def _points(value, what: str, where: str) -> float:
    """Points as a number: 0 and numeric strings ("2") are allowed, as in nbgrader."""
    if value is None:
        raise FormatError(f"{where}: {what} needs 'points' in its nbgrader metadata, found none")
    number = None
    if isinstance(value, str):
        try:
            number = float(value.strip()) if value.strip() else None
        except ValueError:
            number = None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise FormatError(
            f"{where}: {what} needs 'points' of 0 or more (a number, or a "
            f"number written as a string) in its nbgrader metadata, "
            f"found {value!r}"
        )
    return number


def upgrade_meta(meta: dict, where: str) -> dict:
    """nbgrader cell metadata upgraded to schema version 3, as nbgrader reads it.

    Version 0 (no ``schema_version``) may leave out ``grade``, ``solution`` and
    ``locked`` (false) and write points as strings; version 2 added nothing a
    grader reads (a stored ``cell_type``); version 3 added ``task``. Points stay as
    written here (``_points`` reads strings); unknown keys are kept.
    """
    version = meta.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FormatError(
            f"{where}: expected an integer nbgrader 'schema_version' "
            f"(0 to {SCHEMA_VERSION}), found {version!r}"
        )
    if version > SCHEMA_VERSION:
        raise FormatError(
            f"{where}: nbgrader metadata schema_version {version} is newer "
            f"than the version this grader reads ({SCHEMA_VERSION}, "
            "nbgrader's current format); save the notebook with an nbgrader "
            f"that writes version {SCHEMA_VERSION}, or upgrade course_utils"
        )
    out = dict(meta)
    for flag in FLAGS:
        value = out.get(flag, False)
        if not isinstance(value, bool):
            raise FormatError(
                f"{where}: expected true or false for nbgrader '{flag}', found {value!r}"
            )
        out[flag] = value
    if not out["task"]:
        out.pop("task")  # nbgrader writes it only when true
    out["schema_version"] = SCHEMA_VERSION
    return out


def _kind(meta: dict, cell_type: str, where: str) -> str:
    solution, grade = meta["solution"], meta["grade"]
    if meta.get("task"):
        if solution or grade:
            raise FormatError(
                f"{where}: a manually graded task (task) is neither a solution nor a grade "
                f"cell, found solution={str(solution).lower()}, grade={str(grade).lower()}; "
                "a written answer graded by hand is a manually graded answer (solution "
                "and grade, with points)"
            )
        if cell_type != "markdown":
            raise FormatError(
                f"{where}: a manually graded task (task) must be a markdown cell, found {cell_type}"
            )
        return "task"
    if solution and grade:
        if cell_type not in ("code", "markdown"):
            raise FormatError(
                f"{where}: a manually graded answer (solution and grade) must "
                f"be a code or markdown cell, found {cell_type}"
            )
        return "manual"
    if solution:
        if cell_type != "code":
            raise FormatError(
                f"{where}: an autograded answer (solution without grade) must "
                f"be a code cell, found {cell_type}; a written answer is a "
                "manually graded answer (solution and grade, with points)"
            )
        return "answer"
    if grade:
        if cell_type != "code":
            raise FormatError(
                f"{where}: an autograder test cell (grade without solution) "
                f"must be a code cell, found {cell_type}; a written answer is "
                "a manually graded answer (solution and grade, with points)"
            )
        return "test"
    return "readonly" if meta["locked"] else "content"


def parse(nb) -> list[Cell]:
    """Classify and validate the cells of a source notebook."""
    cells, seen = [], {}
    for i, cell in enumerate(nb.cells):
        raw = grading_meta(cell)
        where = f"cell {i + 1}"
        source = cell.source
        grade_id = raw.get("grade_id")
        if grade_id is not None:
            where += f" ({grade_id!r})"
        has_sol = any(m in source for m in (BEGIN_SOLUTION, END_SOLUTION))
        has_hidden = any(m in source for m in (BEGIN_HIDDEN, END_HIDDEN))
        meta = upgrade_meta(raw, where) if raw else None
        kind = _kind(meta, cell.cell_type, where) if meta else "content"
        if kind == "content":
            if has_sol or has_hidden:
                raise FormatError(
                    f"{where}: has grading markers but no nbgrader metadata (solution or grade)"
                )
            cells.append(
                Cell(i, "content", None, 0.0, source, cell.cell_type, cell_id=cell.get("id") or "")
            )
            continue
        name = KIND_NAMES[kind]
        if not isinstance(grade_id, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", grade_id):
            raise FormatError(
                f"{where}: {name} needs a grade_id: expected a grade_id of "
                f"letters, digits, '_', '-', '.', found {grade_id!r}"
            )
        if grade_id in seen:
            raise FormatError(
                f"{where}: duplicate grade_id {grade_id!r} (also cell {seen[grade_id] + 1})"
            )
        seen[grade_id] = i
        if has_hidden and kind != "test":
            raise FormatError(
                f"{where}: hidden-test markers ({BEGIN_HIDDEN!r}) belong in "
                f"autograder test cells (grade), found in {name}"
            )
        if has_sol and kind not in ANSWER_KINDS:
            raise FormatError(
                f"{where}: solution markers ({BEGIN_SOLUTION!r}) belong in "
                f"answer cells (solution), found in {name}"
            )
        points = _points(meta.get("points"), name, where) if kind in GRADED_KINDS else 0.0
        spans, autotest = [], False
        if kind in ANSWER_KINDS:
            _regions(source, BEGIN_SOLUTION, END_SOLUTION, where)
        elif kind == "test":
            autotest = any(AUTOTEST.match(line) for line in source.splitlines())
            spans = _regions(source, BEGIN_HIDDEN, END_HIDDEN, where)
        cells.append(
            Cell(
                i,
                kind,
                grade_id,
                points,
                source,
                cell.cell_type,
                bool(spans),
                autotest,
                cell.get("id") or "",
                meta,
            )
        )
    if not any(c.kind in GRADED_KINDS for c in cells):
        raise FormatError(
            "the notebook has no graded cell: expected nbgrader metadata with "
            "grade: true (an autograder test cell, or a manually graded answer "
            "with solution: true) or task: true (a manually graded task)"
        )
    return cells


def check_releasable(cells: list[Cell]) -> None:
    """Refuse a notebook students could not answer: test cells but no answer cell
    (every submission would then be rejected as not being one of this homework)."""
    tests = [c.grade_id for c in cells if c.kind == "test"]
    if tests and not any(c.kind in ANSWER_KINDS for c in cells):
        raise FormatError(
            f"the notebook has autograder test cells ({', '.join(tests)}) but no answer cell "
            "(nbgrader metadata solution: true) for students to fill in: every submission "
            "would be rejected; mark the cells students write as autograded answers "
            "(solution) or manually graded answers (solution and grade)"
        )


def read_source(path: Path, expand: bool = True):
    """Read and validate a source notebook (any file name); return (notebook, cells).

    Test cells with AUTOTEST directives come expanded (``expand``) from the expansion
    ``course release`` wrote beside the source (:mod:`course_utils.tools.grading.autotest`);
    a missing or stale expansion is an error: a directive is never run as a comment."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise FormatError(f"{path}: cannot read the notebook: {exc}") from None
    if (nb.metadata.get("course") or {}).get("role") == "student":
        raise FormatError(
            f"{path}: this is a student notebook (written by `course release`), "
            "not a source: pass the source notebook it was released from"
        )
    try:
        cells = parse(nb)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    if expand and any(c.autotest for c in cells):
        from course_utils.tools.grading import autotest

        nb, cells = autotest.apply(path, nb, cells)
    return nb, cells


def homework_name(source_path: Path) -> str:
    name = Path(source_path).name
    if name.endswith(SOURCE_SUFFIX):
        return name[: -len(SOURCE_SUFFIX)]
    return name[: -len(".ipynb")] if name.endswith(".ipynb") else Path(name).stem


def is_lesson(path: Path) -> bool:
    """A lesson (``notebooks/<track>/NN_topic[.source].ipynb``): its source releases a
    student seminar, whose check cells carry no points and need no answer key."""
    path = Path(path).resolve()
    return path.parent.parent.name == "notebooks"


def is_seminar(nb, path: Path) -> bool:
    """A lesson's seminar (released, marked in its metadata) or its source (by path)."""
    return bool((nb.metadata.get("course") or {}).get("seminar")) or is_lesson(path)


def student_path(source_path: Path) -> Path:
    """Where ``course release`` writes the student version of a source notebook.

    ``NAME.source.ipynb`` -> ``NAME.ipynb`` beside it; nbgrader's layout
    ``source/<assignment>/X.ipynb`` -> ``release/<assignment>/X.ipynb`` (``release``
    beside ``source``); any other ``X.ipynb`` -> ``release/X.ipynb`` beside it.
    """
    source_path = Path(source_path)
    if source_path.name.endswith(SOURCE_SUFFIX):
        return source_path.with_name(homework_name(source_path) + ".ipynb")
    folder = source_path.parent
    if folder.parent.name == "source":
        return folder.parent.parent / "release" / folder.name / source_path.name
    return folder / "release" / source_path.name


def strip_solution(source: str, cell_type: str = "code") -> str:
    """Replace every solution region by the stub (whole cell when no markers): the
    code stub in code cells, ``YOUR ANSWER HERE`` in markdown ones."""
    stub = STUB if cell_type == "code" else TEXT_STUB
    lines = source.splitlines()
    spans = _regions(source, BEGIN_SOLUTION, END_SOLUTION, "answer cell")
    if not spans:
        return "\n".join(stub)
    out, pos = [], 0
    for start, end in spans:
        out += lines[pos:start]
        indent = re.match(r"\s*", lines[start]).group(0)
        out += [indent + s for s in stub]
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


def cell_checksum(cell_type: str, source: str) -> str:
    """What ``course release`` stores in a released cell's ``metadata.course.checksum``:
    a student notebook's changes to locked, test and instructor cells are found with it
    (nbgrader's validate does the same with its own checksums)."""
    return hashlib.sha256(f"{cell_type}\n{source.strip()}".encode()).hexdigest()[:16]


def read_trusted_json(path: Path, what: str, missing: str) -> dict:
    """A JSON file ``course release`` wrote beside a source (answer key, AUTOTEST
    expansion): ``missing`` is the error when it is absent; a clear error when it is not
    valid JSON."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(missing)
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise FormatError(f"{path}: not a valid {what}: {exc}") from None
    if not isinstance(data, dict):
        raise FormatError(f"{path}: not a valid {what}: expected a JSON object")
    return data


def digest(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return hashlib.sha256(data).hexdigest()
