"""An nbgrader-style assignment folder taken end to end: two notebooks with every cell
kind, a data file and AUTOTEST directives, released, graded for several students in
nbgrader's ``submitted/<student>/<assignment>/`` layout, with the changes students
made reported, and the gradebook and per-student totals.

The assignment is written here, after nbgrader's documented format (no file of
nbgrader's is used). Manual grading of the same folder in a real browser is in
``tests/test_grading_manual.py``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from course_utils.tools.grading import FormatError, Limits, check, grade, sandbox
from course_utils.tools.grading.release import release, release_folder

from .test_grading_nbgrader import code, md, meta, notebook, write

needs_sandbox = pytest.mark.skipif(
    sandbox.probe() != "bwrap", reason="bubblewrap (the allow-list sandbox) is not available here"
)
FAST = Limits(cell_timeout=60, notebook_timeout=180)

AUTOTESTS_YML = '''\
# the AUTOTEST templates of this assignment (nbgrader's autotests.yml format)
python3:
  setup: "from hashlib import sha256 as _autotest_sha"
  dispatch: "type({{snippet}}).__name__"
  normalize: "str({{snippet}})"
  check: 'assert {{snippet}} == """{{value}}""", """{{message}}"""'
  hash: '_autotest_sha(({{snippet}} + "{{salt}}").encode()).hexdigest()'
  success: "print('every generated check passed')"
  templates:
    default:
      - test: "type({{snippet}}).__name__"
        fail: "{{snippet}} has the wrong type"
    int:
      - test: "type({{snippet}}).__name__"
        fail: "{{snippet}} should be an int"
      - test: "{{snippet}}"
        fail: "{{snippet}} has the wrong value"
'''

PRICES = "item,price\napple,1.5\nbread,2.5\ncheese,3.5\n"


def problem1():
    return notebook(
        md("# Problem 1: prices\n\nThe file `prices.csv` beside this notebook holds prices."),
        md("Work alone. Do not change the tests.", meta(locked=True, grade_id="rules")),
        code(
            "import csv, os\nwith open('prices.csv') as f:\n    rows = list(csv.DictReader(f))\n"
            "MODE = os.environ.get('NBGRADER_EXECUTION')"
        ),
        code(
            "def mean_price(rows):\n    ### BEGIN SOLUTION\n"
            "    return sum(float(r['price']) for r in rows) / len(rows)\n    ### END SOLUTION",
            meta(solution=True, grade_id="mean_price"),
        ),
        code(
            "assert abs(mean_price(rows) - 2.5) < 1e-9\n### BEGIN HIDDEN TESTS\n"
            "assert mean_price(rows[:1]) == 1.5\n### END HIDDEN TESTS",
            meta(grade=True, locked=True, grade_id="mean_price_tests", points=2),
        ),
        code(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            meta(solution=True, grade_id="double"),
        ),
        code(
            "# AUTOTEST double(3); double(-1)\n# HASHED AUTOTEST double(10)",
            meta(grade=True, locked=True, grade_id="double_autotest", points=3),
        ),
        code(
            "def cheapest(rows):\n    ### BEGIN SOLUTION\n"
            "    return min(rows, key=lambda r: float(r['price']))['item']\n    ### END SOLUTION",
            meta(solution=True, grade=True, grade_id="cheapest", points=2),
        ),
    )


def problem2():
    return notebook(
        md("# Problem 2: a written answer and a task"),
        md(
            "Why is the mean a poor summary of skewed prices?\n\n### BEGIN SOLUTION\n"
            "Rubric: 1 point for *outliers pull the mean*, 1 for *the median resists them*, "
            "1 for an example.\n### END SOLUTION",
            meta(solution=True, grade=True, grade_id="why_median", points=3),
        ),
        md(
            "Plot the prices in the cell below and describe what you see.",
            meta(task=True, locked=True, grade_id="plot_task", points=2),
        ),
        code("print('instructor code runs here')"),
    )


def make_course(root: Path) -> Path:
    """nbgrader's course layout: source/ps1/ with two notebooks, a data file and the
    AUTOTEST templates."""
    src = root / "source" / "ps1"
    write(problem1(), src / "problem1.ipynb")
    write(problem2(), src / "problem2.ipynb")
    (src / "prices.csv").write_text(PRICES)
    (src / "autotests.yml").write_text(AUTOTESTS_YML)
    return src


def answer(nb, grade_id: str, text: str) -> None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = text
            return
    raise KeyError(grade_id)


def index_of(nb, grade_id: str) -> int:
    return next(
        n
        for n, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def submit(root: Path, student: str, name: str, nb) -> Path:
    return write(nb, root / "submitted" / student / "ps1" / name)


def make_submissions(root: Path) -> None:
    release_dir = root / "release" / "ps1"
    p1 = lambda: nbformat.read(release_dir / "problem1.ipynb", as_version=4)  # noqa: E731
    p2 = lambda: nbformat.read(release_dir / "problem2.ipynb", as_version=4)  # noqa: E731

    # alice: right answers, written answers, and a cell she added after the task
    nb = p1()
    answer(
        nb,
        "mean_price",
        "def mean_price(rows):\n    prices = [float(r['price']) for r in rows]\n"
        "    return sum(prices) / len(prices)",
    )
    answer(nb, "double", "def double(x):\n    return x + x")
    answer(
        nb,
        "cheapest",
        "def cheapest(rows):\n    return sorted(rows, key=lambda r: float(r['price']))[0]['item']",
    )
    submit(root, "alice", "problem1.ipynb", nb)
    nb = p2()
    answer(
        nb,
        "why_median",
        "# Outliers\n\nOne expensive item pulls the **mean** up; the "
        "median does not move. E.g. 1, 2, 100.",
    )
    nb.cells.insert(
        index_of(nb, "plot_task") + 1,
        nbformat.v4.new_code_cell(
            "import matplotlib\nmatplotlib.use('Agg')\n"
            "import matplotlib.pyplot as plt\n"
            "plt.bar(['a', 'b'], [1.5, 3.5])\nADDED = True"
        ),
    )
    nb.cells.insert(
        index_of(nb, "plot_task") + 2,
        nbformat.v4.new_markdown_cell("Bread costs more than apples."),
    )
    submit(root, "alice", "problem2.ipynb", nb)
    # a data file of her own beside her notebooks: the grader uses the source's
    (root / "submitted" / "alice" / "ps1" / "prices.csv").write_text("item,price\nx,99\n")

    # bob: submits the released notebooks untouched
    submit(root, "bob", "problem1.ipynb", p1())
    submit(root, "bob", "problem2.ipynb", p2())

    # carol: wrong answers, a duplicated answer cell, an edited test, a script in a
    # written answer; she does not submit problem 2's task work
    nb = p1()
    answer(nb, "mean_price", "def mean_price(rows):\n    return 2.5")
    answer(nb, "double", "def double(x):\n    return 2 * x if x > 0 else 0")
    dup = nbformat.from_dict(json.loads(json.dumps(nb.cells[index_of(nb, "double")])))
    dup.source = "def double(x):\n    return 2 * x"
    dup.id = "carol-copy"
    nb.cells.insert(index_of(nb, "double") + 1, dup)
    nb.cells[index_of(nb, "mean_price_tests")].source = "assert True"
    submit(root, "carol", "problem1.ipynb", nb)
    nb = p2()
    answer(nb, "why_median", "<script>document.title='PWNED'</script>\nBecause.")
    submit(root, "carol", "problem2.ipynb", nb)

    # erin: wrong answers, and str shadowed in a cell she added, so that the generated
    # checks `assert str(double(3)) == "6"` would compare her own strings
    nb = p1()
    answer(nb, "double", "def double(x):\n    return x")
    nb.cells.insert(
        index_of(nb, "double_autotest"),
        nbformat.v4.new_code_cell(
            "_real_str = str\n"
            "def str(x):\n    return {3: '6', -1: '-2', 10: '20'}.get(x, _real_str(x))"
        ),
    )
    submit(root, "erin", "problem1.ipynb", nb)

    # dave: only problem 1, and a stray file that is not part of the assignment
    nb = p1()
    answer(nb, "double", "def double(x):\n    return 2 * x")
    submit(root, "dave", "problem1.ipynb", nb)
    submit(root, "dave", "notes.ipynb", notebook(md("my notes")))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if sandbox.probe() != "bwrap":
        pytest.skip("bubblewrap (the allow-list sandbox) is not available here")
    root = tmp_path_factory.mktemp("course")
    src = make_course(root)
    written = release_folder(src)
    make_submissions(root)
    before = {p: p.read_bytes() for p in (root / "submitted").rglob("*") if p.is_file()}
    out = root / "grades"
    results = grade(src, [root / "submitted"], out, jobs=2, limits=FAST, progress=False)
    return {
        "root": root,
        "src": src,
        "written": written,
        "out": out,
        "before": before,
        "results": {(r.student, r.notebook): r for r in results},
    }


def test_release_writes_every_notebook_and_the_data_files(course):
    rel = course["root"] / "release" / "ps1"
    assert sorted(p.name for p in rel.iterdir()) == [
        "prices.csv",
        "problem1.ipynb",
        "problem2.ipynb",
    ]
    assert (rel / "prices.csv").read_text() == PRICES
    text = (rel / "problem1.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN" not in text
    assert "mean_price(rows[:1])" not in text and "2 * x" not in text
    # nothing trusted was copied to the students
    assert not list(rel.glob("*.yml")) and not list(rel.glob("*.json"))


def test_autotest_directives_are_expanded_and_never_released_raw(course):
    nb = nbformat.read(course["root"] / "release" / "ps1" / "problem1.ipynb", as_version=4)
    cell = nb.cells[index_of(nb, "double_autotest")]
    assert "AUTOTEST" not in cell.source
    assert 'assert str(double(3)) == """6"""' in cell.source
    assert 'assert str(type(double(-1)).__name__) == """int"""' in cell.source
    hashed = [line for line in cell.source.splitlines() if "double(10)" in line]
    assert hashed and all("_autotest_sha" in line and '"""20"""' not in line for line in hashed)
    assert (course["src"] / "problem1.autotests.json").is_file()


def test_a_blank_submission_scores_zero(course):
    for name in ("problem1.ipynb", "problem2.ipynb"):
        r = course["results"][("bob", name)]
        assert r.status == "graded" and r.score == 0, r.tests
    autotest = next(
        t
        for t in course["results"][("bob", "problem1.ipynb")].tests
        if t["id"] == "double_autotest"
    )
    assert autotest["status"] == "failed" and autotest["points"] == 0


def test_right_answers_score_every_automatic_point_and_data_files_are_readable(course):
    r = course["results"][("alice", "problem1.ipynb")]
    points = {t["id"]: (t["points"], t["status"]) for t in r.tests}
    assert points == {
        "mean_price_tests": (2, "passed"),
        "double_autotest": (3, "passed"),
        "cheapest": (0, "manual"),
    }, r.events
    assert r.max_score == 7 and not r.flags


def test_wrong_answers_fail_and_changes_are_reported(course):
    r = course["results"][("carol", "problem1.ipynb")]
    points = {t["id"]: t["points"] for t in r.tests}
    # the edited test cell was replaced by the original; the first copy of double counts
    assert points["mean_price_tests"] == 0 and points["double_autotest"] == 0
    changes = " | ".join(r.changes)
    assert "'mean_price_tests' was changed: the original from the source was used" in changes
    assert "answer cell 'double' appears again: the first copy counts" in changes
    feedback = (course["out"] / "feedback" / "carol__ps1__problem1-").parent
    text = next(feedback.glob("carol__ps1__problem1*.md")).read_text()
    assert "the first copy counts" in text


def test_shadowing_what_the_generated_checks_call_scores_zero(course):
    r = course["results"][("erin", "problem1.ipynb")]
    autotest = next(t for t in r.tests if t["id"] == "double_autotest")
    assert autotest["points"] == 0 and r.score == 0, r.tests
    assert any("added cell" in f and "shadows builtin" in f for f in r.flags), r.flags


def test_added_cells_run_in_place_and_feed_the_task_item(course):
    r = course["results"][("alice", "problem2.ipynb")]
    assert any("a code cell you added: it runs in place" in c for c in r.changes), r.changes
    assert not any("raised" in e for e in r.events), r.events
    task = next(m for m in r.manual if m["id"] == "plot_task")
    assert "plt.bar" in task["answer"] and "Bread costs more" in task["answer"]
    why = next(m for m in r.manual if m["id"] == "why_median")
    assert why["answer"].startswith("# Outliers") and "Rubric" in why["rubric"]
    assert why["max_points"] == 3 and why["cell_type"] == "markdown"


def test_gradebook_has_a_row_per_student_and_notebook_and_totals_per_student(course):
    with open(course["out"] / "gradebook.csv") as fh:
        rows = list(csv.DictReader(fh))
    graded = [
        (r["student"], r["notebook"], r["score"], r["status"])
        for r in rows
        if r["status"] == "graded"
    ]
    assert sorted(graded) == [
        ("alice", "problem1.ipynb", "5", "graded"),
        ("alice", "problem2.ipynb", "0", "graded"),
        ("bob", "problem1.ipynb", "0", "graded"),
        ("bob", "problem2.ipynb", "0", "graded"),
        ("carol", "problem1.ipynb", "0", "graded"),
        ("carol", "problem2.ipynb", "0", "graded"),
        ("dave", "problem1.ipynb", "3", "graded"),
        ("erin", "problem1.ipynb", "0", "graded"),
    ]
    stray = [r for r in rows if r["submission"].endswith("notes.ipynb")]
    assert stray[0]["status"] == "rejected" and "expected one of" in stray[0]["reason"]
    assert "problem1.ipynb:double_autotest" in rows[0]
    with open(course["out"] / "totals.csv") as fh:
        totals = {r["student"]: r for r in csv.DictReader(fh)}
    assert totals["alice"]["score"] == "5" and totals["alice"]["max_score"] == "12"
    assert totals["alice"]["manual_pending"] == "3" and totals["alice"]["missing"] == ""
    assert totals["dave"]["missing"] == "problem2.ipynb"


def test_submissions_are_never_modified(course):
    after = {p: p.read_bytes() for p in (course["root"] / "submitted").rglob("*") if p.is_file()}
    assert after == course["before"]


@needs_sandbox
def test_nbgrader_execution_is_set_as_nbgrader_sets_it(tmp_path):
    nb = notebook(
        code("import os\nMODE = os.environ.get('NBGRADER_EXECUTION')"),
        code(
            "def f():\n    ### BEGIN SOLUTION\n    return MODE\n    ### END SOLUTION",
            meta(solution=True, grade_id="f"),
        ),
        code(
            "assert f() == 'autograde', f()", meta(grade=True, locked=True, grade_id="t", points=1)
        ),
    )
    source = write(nb, tmp_path / "mode.source.ipynb")
    student, _ = release(source)
    answered = nbformat.read(student, as_version=4)
    answer(answered, "f", "def f():\n    return MODE")
    sub = write(answered, tmp_path / "subs" / "s.ipynb")
    [result] = grade(source, [sub], tmp_path / "out", limits=FAST, progress=False)
    assert result.score == 1, result.tests
    checked = check(sub)  # the student's own check runs as nbgrader's validate
    assert checked.tests[0]["message"].startswith("AssertionError: validate")


def test_autotest_without_templates_or_expansion_is_a_clear_error(tmp_path):
    src = tmp_path / "source" / "ps1"
    write(problem1(), src / "problem1.ipynb")
    from course_utils.tools.grading.notebook_format import read_source

    with pytest.raises(
        FormatError,
        match="AUTOTEST directives and their expansion "
        "problem1.autotests.json is missing: run `course release",
    ):
        read_source(src / "problem1.ipynb")
    if sandbox.probe() == "bwrap":
        with pytest.raises(FormatError, match="no autotests.yml was found"):
            release(src / "problem1.ipynb", key=False)
    assert not (tmp_path / "release").exists()  # nothing released unexpanded


@needs_sandbox
def test_a_changed_source_makes_the_expansion_stale(tmp_path):
    src = make_course(tmp_path)
    release(src / "problem1.ipynb", key=False)
    nb = nbformat.read(src / "problem1.ipynb", as_version=4)
    nb.cells[0].source += "\n\nEdited."
    nbformat.write(nb, src / "problem1.ipynb")
    with pytest.raises(FormatError, match="problem1.autotests.json is stale"):
        grade(src / "problem1.ipynb", [tmp_path / "x.ipynb"], tmp_path / "out", progress=False)


def test_course_check_tells_the_student_what_they_changed(tmp_path):
    nb = notebook(
        md("# intro"),
        code(
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
            meta(solution=True, grade_id="f"),
        ),
        code("assert f() == 1", meta(grade=True, locked=True, grade_id="t", points=1)),
        md(
            "Explain.\n### BEGIN SOLUTION\nok\n### END SOLUTION",
            meta(solution=True, grade=True, grade_id="w", points=2),
        ),
    )
    source = write(nb, tmp_path / "hw.source.ipynb")
    student, _ = release(source, key=False)
    mine = nbformat.read(student, as_version=4)
    answer(mine, "f", "def f():\n    return 1")
    mine.cells[index_of(mine, "t")].source = "assert True  # edited"
    mine.cells.insert(2, nbformat.v4.new_code_cell("helper = 3"))
    copy = nbformat.from_dict(json.loads(json.dumps(mine.cells[index_of(mine, "f")])))
    copy.id = "copy"
    mine.cells.insert(3, copy)
    del mine.cells[index_of(mine, "w")]
    sub = write(mine, tmp_path / "mine.ipynb")
    result = check(sub)
    text = " | ".join(result.changes)
    assert "'t' was changed: the grader runs the original" in text
    assert "a code cell you added (after 'f')" in text
    assert "a second copy of 'f': the first copy counts" in text
    assert "'w' is missing" in text
    from course_utils.tools.cli import main

    os.environ.pop("NBGRADER_EXECUTION", None)
    assert main(["check", str(sub)]) == 0  # the automatic points are there


def test_a_folder_without_notebooks_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="no source notebook in this folder"):
        release_folder(tmp_path / "empty")
    shutil.rmtree(tmp_path / "empty")


def test_manual_grading_in_a_real_browser_completes_the_gradebook(course):
    """The must-show: the assignment above, graded by hand in the page (headless
    Debian chromium), and the combined gradebook, totals and feedback."""
    from course_utils.tools.grading import manual
    from course_utils.tools.grading.grade import read_results, write_reports

    from .test_grading_manual import browser_page, grade_in_browser, item_url, need_browser

    need_browser()
    out = course["out"]
    stems = {(r.student, r.notebook): stem for stem, r in read_results(out).items()}
    entries = [
        (stems[("alice", "problem1.ipynb")], "cheapest", "2", "Correct, and sorted() is fine."),
        (stems[("alice", "problem2.ipynb")], "why_median", "2.5", "Good; no example."),
        (stems[("alice", "problem2.ipynb")], "plot_task", "2", "Clear bar plot."),
        (stems[("carol", "problem2.ipynb")], "why_median", "0", "No explanation given."),
    ]
    server = manual.make_server(out, on_save=write_reports)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with browser_page() as page:
            # carol's answer holds a <script>: shown as text, never run
            page.goto(item_url(server.url, stems[("carol", "problem2.ipynb")], "why_median"))
            assert page.title() != "PWNED"
            assert "<script>document.title='PWNED'</script>" in page.inner_text("body")
            grade_in_browser(server.url, entries, page)
            page.goto(server.url)
            total = len(manual.queue(out))
            assert page.inner_text("#progress") == f"4 of {total} graded"
    finally:
        server.shutdown()
        server.server_close()
    assert {
        k.split("/")[1]: v["points"]
        for k, v in manual.load(out).items()
        if k.startswith(stems[("alice", "problem2.ipynb")])
    } == {"why_median": 2.5, "plot_task": 2.0}
    with open(out / "totals.csv") as fh:
        totals = {r["student"]: r for r in csv.DictReader(fh)}
    # alice: 5 automatic points + 2 + 2.5 + 2 by hand, of 12; nothing left to grade
    assert totals["alice"]["score"] == "11.5" and totals["alice"]["manual_pending"] == "0"
    assert totals["carol"]["score"] == "0" and totals["carol"]["manual_pending"] == "2"
    with open(out / "gradebook.csv") as fh:
        rows = {(r["student"], r["notebook"]): r for r in csv.DictReader(fh)}
    assert rows[("alice", "problem2.ipynb")]["score"] == "4.5"
    assert rows[("alice", "problem2.ipynb")]["problem2.ipynb:why_median"] == "2.5"
    feedback = (out / "feedback" / f"{stems[('alice', 'problem2.ipynb')]}.md").read_text()
    assert "Good; no example." in feedback and "**Score: 4.5 / 5**" in feedback
    # a rerun (unchanged submissions are not run again) keeps the manual points
    again = grade(course["src"], [course["root"] / "submitted"], out, limits=FAST, progress=False)
    assert {r.notebook: r.score for r in again if r.student == "alice"} == {
        "problem1.ipynb": 7,
        "problem2.ipynb": 4.5,
    }
