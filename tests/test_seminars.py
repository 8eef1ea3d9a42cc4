"""Lessons are seminars (docs/design.md, "Seminars"): one instructor source per lesson,
with at least five exercises each followed by a check, and a generated student
seminar on which every check fails until the student writes the code.

nbval runs the solved sources (every check passes there: a failing check cell fails
the run); here: the structure, the generated versions, the student's zero and the
full-mode figures each lesson states."""

from __future__ import annotations

import re

import nbformat
import pytest

from course_utils.tools import notebooks as nbtools
from course_utils.tools.grading.notebook_format import parse, student_path
from tests.conftest import OFFLINE_PASS, ROOT

LESSONS = nbtools.course_notebooks(ROOT)
SOURCES = [p for p in LESSONS if p.name.endswith(nbtools.SOURCE_SUFFIX)]
MIN_EXERCISES = 5
MIN_TOTAL = 100


def _ids(path):
    return str(path.relative_to(ROOT))


def exercises(path) -> list[tuple[str, str]]:
    """(answer grade_id, the check cell's grade_id) for each exercise of a source; an
    exercise is an answer cell with a check (test) cell after it, before the next answer."""
    cells = parse(nbformat.read(path, as_version=4))
    pairs, answer = [], None
    for cell in cells:
        if cell.kind == "answer":
            assert answer is None, f"{path.name}: exercise {answer!r} has no check cell after it"
            answer = cell.grade_id
        elif cell.kind == "test":
            assert answer is not None, f"{path.name}: check {cell.grade_id!r} follows no exercise"
            pairs.append((answer, cell.grade_id))
            answer = None
    assert answer is None, f"{path.name}: the last exercise {answer!r} has no check cell"
    return pairs


def test_every_lesson_is_a_seminar_source():
    plain = [_ids(p) for p in LESSONS if p not in SOURCES]
    assert not plain, f"lessons without an instructor source (NN_topic.source.ipynb): {plain}"
    assert len(nbtools.seminars(ROOT)) == len(SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=_ids)
def test_source_has_checked_exercises(path):
    pairs = exercises(path)
    assert len(pairs) >= MIN_EXERCISES, f"{path.name}: {len(pairs)} exercises, want >= 5"
    cells = parse(nbformat.read(path, as_version=4))
    kinds = {c.kind for c in cells if c.kind != "content"}
    assert kinds <= {"answer", "test"}, f"{path.name}: seminar cells of kinds {kinds}"
    assert all(c.points == 0 for c in cells if c.kind == "test"), "seminar checks carry no points"
    # the header lists the exercises the student writes
    header = nbformat.read(path, as_version=4).cells[0].source
    assert "Exercise" in header, f"{path.name}: the header does not list the exercises"


def test_at_least_100_exercises_in_all():
    total = sum(len(exercises(p)) for p in SOURCES)
    assert total >= MIN_TOTAL, f"{total} exercises in {len(SOURCES)} lessons"


@pytest.mark.parametrize("path", SOURCES, ids=_ids)
def test_student_seminar_is_current(path):
    assert nbtools.stale_release(path) == []
    student = nbformat.read(student_path(path), as_version=4)
    assert student.metadata["course"]["seminar"] is True
    text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text


# --- what each lesson says its full mode reaches --------------------------------------

# the statement runs to the end of its paragraph (a blank line), wrapped lines included
FULL_LINE = re.compile(
    r"^\*\*Full mode reaches:?\*\*:?(.*?)(?:\n\s*\n|\Z)", re.MULTILINE | re.DOTALL
)
BOLD_NUMBER = re.compile(r"\*\*(-?\d[\d,]*(?:\.\d+)?)\*\*")


def results_values() -> set[str]:
    """The `value` cells of docs/results.md's tables."""
    values = set()
    for line in (ROOT / "docs" / "results.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and cells[1] not in ("value", "---"):
            values.add(cells[1])
    return values


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_stated_full_mode_figures_agree_with_results(path):
    header = nbformat.read(path, as_version=4).cells[0].source
    found = FULL_LINE.findall(header)
    assert len(found) == 1, f"{path.name}: the header needs one '**Full mode reaches:**' line"
    line = " ".join(found[0].split())
    numbers = BOLD_NUMBER.findall(line)
    if not numbers:
        assert "not measured" in line, f"{path.name}: no figure, and no reason why: {line!r}"
        return
    assert "docs/results.md" in line, f"{path.name}: say where the figure comes from"
    known = results_values()
    wrong = [n for n in numbers if n.replace(",", "") not in known and n not in known]
    assert not wrong, f"{path.name}: {wrong} are not values in docs/results.md: {line!r}"


def test_stated_figure_check_reads_the_whole_paragraph_and_catches_a_wrong_number():
    known = results_values()
    # a figure of docs/results.md and a nearby one that is not there (no benchmark's row
    # is named: they change when a benchmark is measured again)
    value = next(v for v in sorted(known) if re.fullmatch(r"\d+\.\d+", v))
    near = (f"{float(value) + k / 1000:.3f}" for k in range(1, 1000))
    wrong = next(n for n in near if n not in known)
    header = f"# T\n\n**Full mode reaches:** BLEU **{value}**, and on\na wrapped line **{wrong}**\n\nNext."
    (line,) = FULL_LINE.findall(header)
    assert BOLD_NUMBER.findall(line) == [value, wrong]


# --- the student's zero ---------------------------------------------------------------


@pytest.mark.skipif(OFFLINE_PASS, reason="ran in `make test`; the same stubs fail the same way")
@pytest.mark.parametrize("path", SOURCES, ids=_ids)
def test_untouched_student_seminar_passes_no_check(path):
    """`course check` on the student version: every exercise check fails (the stubs
    raise), and the checks it reports are the source's."""
    from course_utils.tools.grading import check

    result = check(student_path(path), cell_timeout=120)
    checks = {t["id"]: t["status"] for t in result.tests}
    assert set(checks) == {check_id for _, check_id in exercises(path)}
    passed = [gid for gid, status in checks.items() if status == "passed"]
    assert not passed, f"{path.name}: checks passed on the untouched stubs: {passed}"


# --- diagrams ---------------------------------------------------------------------------

DIAGRAM_DIR = ROOT / "notebooks" / "diagrams"
IMAGE = re.compile(r"!\[[^\]]*\]\(\.\./diagrams/([a-z0-9_]+\.png)\)")


def _diagram_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_diagrams", DIAGRAM_DIR / "make_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagrams_are_drawn_by_the_script(tmp_path):
    """The committed images are the script's: the same names, and each drawn again
    here is a PNG of the same size (fonts may differ by machine, not the layout)."""
    from PIL import Image

    script = _diagram_script()
    assert script.main([str(tmp_path)]) == 0
    drawn = sorted(p.name for p in tmp_path.glob("*.png"))
    committed = sorted(p.name for p in DIAGRAM_DIR.glob("*.png"))
    assert drawn == committed == sorted(f"{name}.png" for name in script.DIAGRAMS)
    for name in drawn:
        assert Image.open(tmp_path / name).size == Image.open(DIAGRAM_DIR / name).size, name


def test_every_diagram_is_shown_by_a_lesson_and_every_shown_diagram_exists():
    shown = {}
    for path in LESSONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for name in IMAGE.findall(cell.source):
                    shown.setdefault(name, []).append(path.name)
    missing = sorted(n for n in shown if not (DIAGRAM_DIR / n).is_file())
    assert not missing, f"lessons show diagrams that do not exist: {missing}"
    unused = sorted(p.name for p in DIAGRAM_DIR.glob("*.png") if p.name not in shown)
    assert not unused, f"diagrams no lesson shows: {unused}"
