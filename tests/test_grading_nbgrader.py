"""nbgrader's notebook format, all of it: every cell kind, the schema versions, points
written as 0 or as strings, written (markdown) answers, nbgrader's folder layout, locked
cells, AUTOTEST directives, and grading notebooks with manually graded parts.

The notebooks are small ones written here after nbgrader's documented format."""

from __future__ import annotations

import nbformat
import pytest

from course_utils.tools.grading import (
    FormatError,
    Limits,
    grade,
    release,
    sandbox,
    student_notebook,
)
from course_utils.tools.grading.notebook_format import parse, student_path

needs_sandbox = pytest.mark.skipif(
    sandbox.probe() != "bwrap", reason="bubblewrap (the allow-list sandbox) is not available here"
)


def meta(solution=False, grade=False, locked=False, task=False, version=3, **more) -> dict:
    """nbgrader cell metadata as its current schema writes it."""
    out = {"grade": grade, "locked": locked, "schema_version": version, "solution": solution}
    if task:
        out["task"] = True
    out.update(more)
    return out


def code(src: str, nbgrader: dict | None = None):
    cell = nbformat.v4.new_code_cell(src)
    if nbgrader is not None:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def md(src: str, nbgrader: dict | None = None):
    cell = nbformat.v4.new_markdown_cell(src)
    if nbgrader is not None:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


ANSWER = code(
    "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
    meta(solution=True, grade_id="double"),
)
TESTS = code(
    "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS",
    meta(grade=True, locked=True, grade_id="double_tests", points=2),
)
MANUAL_CODE = code(
    "def plot():\n    ### BEGIN SOLUTION\n    return 'a plot'\n    ### END SOLUTION",
    meta(solution=True, grade=True, grade_id="plot", points=3),
)
MANUAL_TEXT = md(
    "Why does doubling commute with negation?\n\n### BEGIN SOLUTION\n"
    "Because 2(-x) = -(2x).\n### END SOLUTION",
    meta(solution=True, grade=True, grade_id="why", points=1),
)
TASK = md(
    "Plot the function and describe what you see.",
    meta(task=True, locked=True, grade_id="describe", points=4),
)
READONLY = md("Do not change this cell.", meta(locked=True, grade_id="rules"))


def full_notebook():
    return notebook(
        md("# Homework"),
        READONLY,
        ANSWER,
        TESTS,
        MANUAL_CODE,
        MANUAL_TEXT,
        TASK,
        code("print('instructor code')"),
    )


def test_every_nbgrader_cell_kind_is_parsed():
    cells = parse(full_notebook())
    assert [(c.kind, c.cell_type, c.grade_id, c.points) for c in cells] == [
        ("content", "markdown", None, 0.0),
        ("readonly", "markdown", "rules", 0.0),
        ("answer", "code", "double", 0.0),
        ("test", "code", "double_tests", 2.0),
        ("manual", "code", "plot", 3.0),
        ("manual", "markdown", "why", 1.0),
        ("task", "markdown", "describe", 4.0),
        ("content", "code", None, 0.0),
    ]
    assert cells[3].has_hidden
    # a read-only cell may be code too, and locked test cells stay test cells
    ro = parse(notebook(code("x = 1", meta(locked=True, grade_id="setup")), TASK))
    assert ro[0].kind == "readonly"


@pytest.mark.parametrize(
    "cells, message",
    [
        (
            [code("x", meta(solution=True, grade=True, grade_id="m"))],
            r"cell 1 \('m'\): a manually graded answer \(solution and grade\) needs 'points'",
        ),
        (
            [md("do it", meta(task=True, grade_id="t"))],
            r"manually graded task \(task\) needs 'points'.*found none",
        ),
        (
            [code("do it", meta(task=True, grade_id="t", points=1))],
            r"cell 1 \('t'\): a manually graded task \(task\) must be a markdown cell, found code",
        ),
        (
            [md("do it", meta(task=True, solution=True, grade=True, grade_id="t", points=1))],
            r"task \(task\) is neither a solution nor a grade cell, found solution=true, grade=true",
        ),
        (
            [md("an answer", meta(solution=True, grade_id="a")), TASK],
            r"autograded answer \(solution without grade\) must be a code cell, found markdown",
        ),
        (
            [md("assert True", meta(grade=True, grade_id="t", points=1))],
            r"autograder test cell \(grade without solution\) must be a code cell, found markdown",
        ),
        (
            [md("read me", meta(locked=True)), TASK],
            r"cell 1: a read-only cell \(locked\) needs a grade_id.*found None",
        ),
        (
            [
                md("x", meta(task=True, grade_id="dup", points=1)),
                code("assert 1", meta(grade=True, grade_id="dup", points=1)),
            ],
            r"cell 2 \('dup'\): duplicate grade_id 'dup' \(also cell 1\)",
        ),
        (
            [
                md(
                    "### BEGIN SOLUTION\nsecret\n### END SOLUTION",
                    meta(task=True, grade_id="t", points=1),
                )
            ],
            r"solution markers .* belong in answer cells \(solution\), found in a manually graded task",
        ),
        (
            [
                md("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", meta(locked=True, grade_id="r")),
                TASK,
            ],
            r"hidden-test markers .* belong in autograder test cells \(grade\), found in a read-only",
        ),
        (
            [
                code(
                    "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
                    meta(solution=True, grade=True, grade_id="m", points=1),
                )
            ],
            r"hidden-test markers .* found in a manually graded answer",
        ),
        ([ANSWER, READONLY], r"no graded cell"),
        (
            [code("x", meta(solution="yes", grade_id="a")), TASK],
            r"expected true or false for nbgrader 'solution', found 'yes'",
        ),
        (
            [code("assert 1", meta(grade=True, grade_id="t", points="two"))],
            r"'points' of 0 or more .* found 'two'",
        ),
    ],
)
def test_refusals_name_the_nbgrader_feature(cells, message):
    with pytest.raises(FormatError, match=message):
        parse(notebook(*cells))


def test_older_schema_versions_are_upgraded_on_read(tmp_path):
    v0_answer = code(
        "### BEGIN SOLUTION\ny = 1\n### END SOLUTION", {"solution": True, "grade_id": "y"}
    )  # no version: grade/locked left out
    v0_tests = code("assert y == 1", {"grade": True, "grade_id": "y_tests", "points": "2"})
    v1_manual = md(
        "Explain.",
        {
            "solution": True,
            "grade": True,
            "locked": False,
            "grade_id": "explain",
            "points": "1.5",
            "schema_version": 1,
        },
    )
    v2_readonly = code(
        "z = 0",
        {
            "solution": False,
            "grade": False,
            "locked": True,
            "grade_id": "z",
            "schema_version": 2,
            "cell_type": "code",
            "checksum": "0" * 32,
        },
    )
    v0_plain = code("w = 0", {"solution": False, "grade": False})  # nbgrader drops it: content
    nb = notebook(v0_answer, v0_tests, v1_manual, v2_readonly, v0_plain)
    cells = parse(nb)
    assert [(c.kind, c.points) for c in cells] == [
        ("answer", 0.0),
        ("test", 2.0),
        ("manual", 1.5),
        ("readonly", 0.0),
        ("content", 0.0),
    ]
    assert cells[1].meta == {
        "grade": True,
        "grade_id": "y_tests",
        "points": "2",
        "schema_version": 3,
        "solution": False,
        "locked": False,
    }
    # the student version carries the metadata as the current schema writes it
    released = student_notebook(write(nb, tmp_path / "old.source.ipynb"))
    metas = [c.metadata.get("nbgrader") for c in released.cells]
    assert all(m["schema_version"] == 3 for m in metas[:4])
    assert metas[1]["points"] == 2.0 and metas[2]["points"] == 1.5
    assert metas[4] == {"solution": False, "grade": False}  # content is left as it was


@pytest.mark.parametrize(
    "version, message",
    [
        (
            4,
            r"cell 1 \('t'\): nbgrader metadata schema_version 4 is newer than the version this "
            r"grader reads \(3, nbgrader's current format\)",
        ),
        ("3", r"expected an integer nbgrader 'schema_version' \(0 to 3\), found '3'"),
    ],
)
def test_a_newer_or_unreadable_schema_version_is_refused(version, message):
    cell = code("assert 1", meta(grade=True, grade_id="t", points=1, version=version))
    with pytest.raises(FormatError, match=message):
        parse(notebook(cell))


def test_zero_points_and_points_written_as_strings():
    cells = parse(
        notebook(
            ANSWER,
            code("assert double(1) == 2", meta(grade=True, grade_id="free", points=0)),
            code("assert double(0) == 0", meta(grade=True, grade_id="str", points="2")),
            md("Say why.", meta(solution=True, grade=True, grade_id="say", points=" 0.5 ")),
        )
    )
    assert [c.points for c in cells] == [0.0, 0.0, 2.0, 0.5]


def test_written_solutions_become_your_answer_here(tmp_path):
    whole = md("The answer is 42.", meta(solution=True, grade=True, grade_id="whole", points=1))
    nb = notebook(md("Intro"), ANSWER, TESTS, MANUAL_CODE, MANUAL_TEXT, whole)
    out = student_notebook(write(nb, tmp_path / "hw.source.ipynb"))
    sources = [c.source for c in out.cells]
    assert sources[4] == "Why does doubling commute with negation?\n\nYOUR ANSWER HERE"
    assert sources[5] == "YOUR ANSWER HERE"
    assert sources[3] == "def plot():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert sources[2] == "assert double(2) == 4"  # hidden tests removed
    text = "\n".join(sources)  # (the JSON's random cell ids may hold "42")
    assert "2(-x)" not in text and "42" not in text and "a plot" not in text


def test_release_folders_follow_nbgrader_layout(tmp_path):
    nb = notebook(ANSWER, TESTS)
    nbgrader_source = write(nb, tmp_path / "course" / "source" / "ps1" / "problem1.ipynb")
    plain = write(nb, tmp_path / "elsewhere" / "lab.ipynb")
    suffixed = write(nb, tmp_path / "hw" / "lab.source.ipynb")
    expected = {
        nbgrader_source: tmp_path / "course" / "release" / "ps1" / "problem1.ipynb",
        plain: tmp_path / "elsewhere" / "release" / "lab.ipynb",
        suffixed: tmp_path / "hw" / "lab.ipynb",
    }
    for source, target in expected.items():
        assert student_path(source) == target
        assert release(source) == (target, True)
        before = target.read_bytes()
        assert release(source) == (target, False)  # regenerating gives no diff
        assert target.read_bytes() == before
        released = nbformat.read(target, as_version=4)
        assert released.metadata["course"]["role"] == "student"
        assert "return 2 * x" not in target.read_text()
    assert (
        nbformat.read(expected[nbgrader_source], as_version=4).metadata["course"]["homework"]
        == "problem1"
    )


def test_locked_cells_are_released_non_editable_and_non_deletable(tmp_path):
    out = student_notebook(write(full_notebook(), tmp_path / "hw.source.ipynb"))
    flags = {
        c.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}"): (
            c.metadata.get("editable", True),
            c.metadata.get("deletable", True),
        )
        for i, c in enumerate(out.cells)
    }
    assert flags == {
        "cell 0": (True, True),
        "cell 7": (True, True),  # instructor content: as it was
        "rules": (False, False),
        "double_tests": (False, False),
        "describe": (False, False),
        # answers stay editable; nbgrader makes them non-deletable
        "double": (True, False),
        "plot": (True, False),
        "why": (True, False),
    }
    locked = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["locked"]
        for c in out.cells
        if "nbgrader" in c.metadata
    }
    assert locked == {
        "rules": True,
        "double": False,
        "double_tests": True,
        "plot": False,
        "why": False,
        "describe": True,
    }


@pytest.mark.parametrize("line", ["# AUTOTEST double(3)", "    # HASHED AUTOTEST double(3)"])
@pytest.mark.parametrize("hidden", [False, True])
def test_autotest_directives_are_never_run_unexpanded(tmp_path, line, hidden):
    """AUTOTEST is expanded at release (tests/test_grading_assignment.py); a source
    whose expansion is missing is refused, not run with the directive as a comment."""
    src = f"### BEGIN HIDDEN TESTS\n{line}\n### END HIDDEN TESTS" if hidden else line
    tests = code(src, meta(grade=True, locked=True, grade_id="auto", points=1))
    cells = parse(notebook(ANSWER, tests))
    assert [c.autotest for c in cells] == [False, True]
    source = write(notebook(ANSWER, tests), tmp_path / "auto.source.ipynb")
    with pytest.raises(
        FormatError, match="AUTOTEST directives and their expansion auto.autotests.json is missing"
    ):
        student_notebook(source)
    with pytest.raises(FormatError, match="AUTOTEST"):
        grade(source, [source], tmp_path / "out", progress=False)


def test_tests_without_answer_cells_are_refused_at_release(tmp_path):
    nb = notebook(code("x = 2"), code("assert x == 2", meta(grade=True, grade_id="t", points=1)))
    parse(nb)  # a valid notebook ...
    source = write(nb, tmp_path / "noanswers.source.ipynb")
    with pytest.raises(
        FormatError,
        match=r"noanswers.source.ipynb: the notebook has autograder "
        r"test cells \(t\) but no answer cell",
    ):
        release(source)
    assert not (tmp_path / "noanswers.ipynb").exists()
    # manually graded answers are answers too
    parse(notebook(MANUAL_TEXT, code("assert 1", meta(grade=True, grade_id="t", points=1))))
    release(
        write(
            notebook(MANUAL_TEXT, code("assert 1", meta(grade=True, grade_id="t", points=1))),
            tmp_path / "manual.source.ipynb",
        ),
        key=False,
    )


@needs_sandbox
def test_grading_counts_manual_points_in_max_score_only(tmp_path):
    source = write(full_notebook(), tmp_path / "hw" / "hw.source.ipynb")
    student, _ = release(source)
    answered = nbformat.read(student, as_version=4)
    for cell in answered.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "double":
            cell.source = "def double(x):\n    return x + x"
        elif gid == "plot":
            cell.source = "def plot():\n    return 'my plot'"
        elif gid == "why":
            cell.source = "It is linear: raise ValueError(1/0)"  # text, never run
    submitted = write(answered, tmp_path / "subs" / "answered.ipynb")
    results = grade(
        source,
        [submitted, student],
        tmp_path / "out",
        limits=Limits(cell_timeout=30, notebook_timeout=120),
        progress=False,
    )
    by_name = {r.submission: r for r in results}
    full, empty = by_name["answered.ipynb"], by_name["hw.ipynb"]
    for result in (full, empty):
        assert result.status == "graded", result.reason
        assert result.max_score == 2 + 3 + 1 + 4
        manual = {
            t["id"]: (t["status"], t["points"], t["max_points"], t["message"])
            for t in result.tests
            if t["status"] == "manual"
        }
        assert manual == {
            "plot": ("manual", 0.0, 3.0, "waits for manual grading"),
            "why": ("manual", 0.0, 1.0, "waits for manual grading"),
            "describe": ("manual", 0.0, 4.0, "waits for manual grading"),
        }
    assert full.score == 2, (full.tests, full.events)
    assert full.answers == {"double": "submitted", "plot": "submitted", "why": "submitted"}
    assert not any("why" in e for e in full.events), full.events  # markdown is not executed
    assert not full.flags, full.flags
    assert empty.score == 0
    assert [t["status"] for t in empty.tests if t["id"] == "double_tests"] == ["failed"]
    feedback = (tmp_path / "out" / "feedback" / "answered.md").read_text()
    assert "| describe | 0 / 4 | manual | waits for manual grading |" in feedback
