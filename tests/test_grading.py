"""The grader: authoring format, release, sandboxed grading, hostile submissions."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest

import course_utils
from course_utils.tools.grading import (
    FormatError,
    Limits,
    check,
    grade,
    release,
    sandbox,
    student_notebook,
)
from course_utils.tools.grading.notebook_format import parse, strip_solution
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "grading"
SOURCE = FIXTURES / "toy.source.ipynb"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
# Short enough to keep the suite quick, long enough that the 200 MB output flood
# finishes its loop on a loaded 2-core machine (it exceeded 8 s there once).
FAST = Limits(cell_timeout=10, notebook_timeout=60, memory_mb=1536)

needs_sandbox = pytest.mark.skipif(
    sandbox.probe() != "bwrap", reason="bubblewrap (the allow-list sandbox) is not available here"
)


def _cell(src, **meta):
    cell = nbformat.v4.new_code_cell(src)
    if meta:
        cell.metadata["nbgrader"] = meta
    return cell


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


TEST = dict(grade=True, solution=False, points=1)


@pytest.mark.parametrize(
    "cells, message",
    [
        (
            [
                _cell("x = 1\n### BEGIN SOLUTION\nx = 2", solution=True, grade=False, grade_id="a"),
                _cell("assert x", grade_id="t", **TEST),
            ],
            "never closed",
        ),
        (
            [
                _cell("### END SOLUTION", solution=True, grade=False, grade_id="a"),
                _cell("assert x", grade_id="t", **TEST),
            ],
            "without '### BEGIN SOLUTION'",
        ),
        (
            [
                _cell("x = 1", solution=True, grade=False, grade_id="a"),
                _cell("assert x", grade_id="a", **TEST),
            ],
            "duplicate grade_id 'a'",
        ),
        (
            [_cell("assert x", grade=True, solution=False, grade_id="t")],
            "needs 'points'.*found none",
        ),
        (
            [_cell("assert x", grade=True, solution=False, grade_id="t", points=-1)],
            "'points' of 0 or more",
        ),
        ([_cell("x = 1", solution=True, grade=False, grade_id="a")], "no graded cell"),
        (
            [
                _cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"),
                _cell("assert x", grade_id="t", **TEST),
            ],
            "no nbgrader metadata",
        ),
        (
            [_cell("x", solution=True, grade=True, grade_id="a")],
            r"manually graded answer \(solution and grade\) needs 'points'",
        ),
        ([_cell("assert x", grade_id="bad id!", **TEST)], "expected a grade_id"),
    ],
)
def test_source_validation_errors(cells, message):
    with pytest.raises(FormatError, match=message):
        parse(_nb(*cells))


def test_strip_solution_keeps_indentation_and_surroundings():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n# after"
    assert strip_solution(src) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n# after"
    )
    assert strip_solution("y = 2") == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_release_removes_solutions_and_hidden_tests_and_is_stable(tmp_path):
    src = tmp_path / "toy.source.ipynb"
    shutil.copy(SOURCE, src)
    path, changed = release(src)
    assert changed and path == tmp_path / "toy.ipynb"
    text = path.read_text()
    assert "return x * x" not in text and "square(-4)" not in text
    assert "BEGIN HIDDEN" not in text and "raise NotImplementedError()" in text
    assert "assert square(3) == 9" in text  # public tests stay
    before = path.read_bytes()
    assert release(src) == (path, False)
    assert path.read_bytes() == before


def test_release_of_a_name_without_source_suffix_goes_to_a_release_folder(tmp_path):
    # any file name is a source (nbgrader's layout); the student version goes to release/
    plain = tmp_path / "toy.ipynb"
    shutil.copy(SOURCE, plain)
    assert release(plain) == (tmp_path / "release" / "toy.ipynb", True)
    with pytest.raises(FormatError, match="this is a student notebook"):
        release(tmp_path / "release" / "toy.ipynb")


@pytest.mark.parametrize(
    "source", sorted((ROOT / "homeworks").glob("*/*.source.ipynb")), ids=lambda p: p.parent.name
)
def test_committed_student_notebooks_are_up_to_date(source):
    student = source.with_name(source.name.replace(".source.ipynb", ".ipynb"))
    assert student.exists(), f"run `course release {source}`"
    assert student.read_text() == nbformat.writes(student_notebook(source)) + "\n", (
        f"{student} is stale: run `course release {source}`"
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*.py")):
        digest.update(p.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every fixture submission once (plus a 50 MB notebook made here)."""
    if sandbox.probe() != "bwrap":
        pytest.skip("bubblewrap (the allow-list sandbox) is not available here")
    subs = tmp_path_factory.mktemp("subs")
    for f in (FIXTURES / "submissions").iterdir():
        shutil.copy(f, subs / f.name)
    big = nbformat.read(FIXTURES / "submissions" / "correct.ipynb", as_version=4)
    big.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 50 * 2**20)]
    nbformat.write(big, subs / "huge_outputs_50mb.ipynb")
    before = {p.name: (_sha(p), p.stat().st_mtime_ns) for p in subs.iterdir()}
    package_before = _tree_hash(Path(course_utils.__file__).parent)
    out = tmp_path_factory.mktemp("out")
    results = grade(SOURCE, [subs], out, jobs=2, limits=FAST, progress=False)
    return {
        "results": {r.submission.removesuffix(".ipynb"): r for r in results},
        "subs": subs,
        "out": out,
        "before": before,
        "package_before": package_before,
    }


@needs_sandbox
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_outcome(graded, name):
    expected = EXPECTED[name]
    result = graded["results"][name]
    assert result.status == expected["status"], result.reason
    assert result.score == expected.get("score", 0), (result.tests, result.events)
    assert result.max_score == 3
    if "reason" in expected:
        assert expected["reason"] in result.reason
    if "event" in expected:
        assert any(expected["event"] in e for e in result.events), result.events
    if "flag" in expected:
        assert any(expected["flag"] in f for f in result.flags), result.flags
    assert result.sandbox == "bwrap"


@needs_sandbox
def test_huge_output_notebook_is_graded(graded):
    assert graded["results"]["huge_outputs_50mb"].score == 3


@needs_sandbox
def test_submissions_and_grader_are_never_modified(graded):
    after = {p.name: (_sha(p), p.stat().st_mtime_ns) for p in graded["subs"].iterdir()}
    assert after == graded["before"]
    assert _tree_hash(Path(course_utils.__file__).parent) == graded["package_before"]


@needs_sandbox
def test_gradebook_results_and_redacted_feedback(graded):
    out = graded["out"]
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert rows[0].startswith("submission,score,max_score,status,reason,square_tests,root_tests")
    assert len(rows) == 1 + len(EXPECTED) + 1
    result = json.loads((out / "results" / "hidden_test_fails.json").read_text())
    square = next(t for t in result["tests"] if t["id"] == "square_tests")
    assert square["status"] == "failed" and square["hidden"]
    feedback = (out / "feedback" / "hidden_test_fails.md").read_text()
    assert "hidden test failed" in feedback
    assert "-4" not in feedback and "16" not in feedback
    public = (out / "feedback" / "untouched_student.md").read_text()
    assert "NotImplementedError" in public and "0 / 3" in public


@needs_sandbox
def test_rerun_skips_unchanged_and_regrading_is_identical(graded, tmp_path):
    out = graded["out"]
    result_file = out / "results" / "correct.json"
    stamp = result_file.stat().st_mtime_ns
    again = grade(SOURCE, [graded["subs"] / "correct.ipynb"], out, limits=FAST, progress=False)
    assert result_file.stat().st_mtime_ns == stamp  # skipped: same content
    assert again[0].fingerprint() == graded["results"]["correct"].fingerprint()
    names = ["correct", "hidden_test_fails", "untouched_student", "kernel_crash"]
    forced = grade(
        SOURCE,
        [graded["subs"] / f"{n}.ipynb" for n in names],
        tmp_path,
        jobs=2,
        limits=FAST,
        force=True,
        progress=False,
    )
    for r in forced:
        assert r.fingerprint() == graded["results"][r.submission[:-6]].fingerprint()


def test_missing_submission_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such submission"):
        grade(
            SOURCE,
            [tmp_path / "nope.ipynb"],
            tmp_path / "out",
            limits=FAST,
            progress=False,
            allow_weak=True,
        )


def test_self_check_runs_public_tests(tmp_path):
    src = tmp_path / "toy.source.ipynb"
    shutil.copy(SOURCE, src)
    student, _ = release(src)
    result = check(student, cell_timeout=60)
    assert result.score == 0 and [t["status"] for t in result.tests] == ["failed", "failed"]
    nb = nbformat.read(student, as_version=4)
    nb.cells[3].source = "def square(x):\n    return x * x"
    nb.cells[6].source = "def root(x):\n    return math.sqrt(x)"
    nbformat.write(nb, student)
    result = check(student, cell_timeout=60)
    assert result.score == 3  # the public tests only: hidden ones are not in the file


# ------------------------------------------------------------ trusted checks: the key
TRUSTED = FIXTURES / "trusted"
TRUSTED_SOURCE = TRUSTED / "toy_trusted.source.ipynb"


def _copy_trusted(tmp_path):
    for f in (
        "toy_trusted.source.ipynb",
        "toy_trusted.ipynb",
        "toy_trusted.key.json",
        "grading.py",
    ):
        shutil.copy(TRUSTED / f, tmp_path / f)
    return tmp_path / "toy_trusted.source.ipynb"


def test_trusted_toy_key_is_current_and_every_point_is_trusted():
    from course_utils.tools.grading.grade import load_key, trust_table

    assert set(load_key(TRUSTED_SOURCE)) == {
        "normalize_tests",
        "soft_targets_tests",
        "top_words_tests",
    }
    table = trust_table(TRUSTED_SOURCE)
    assert table["trusted"] == 8 and table["asserts"] == 0
    assert table["cells"]["heldout"] == "ladder"


def test_a_stale_or_missing_key_is_refused(tmp_path):
    from course_utils.tools.grading.grade import load_key

    src = _copy_trusted(tmp_path)
    nb = nbformat.read(src, as_version=4)
    nb.cells[0].source += " (edited)"
    nbformat.write(nb, src)
    with pytest.raises(FormatError, match="stale.*course release"):
        load_key(src)
    (tmp_path / "toy_trusted.key.json").unlink()
    with pytest.raises(FormatError, match="answer key toy_trusted.key.json is missing"):
        load_key(src)


@needs_sandbox
def test_release_writes_the_key_and_regenerating_gives_no_diff(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    src = _copy_trusted(tmp_path)
    key = tmp_path / "toy_trusted.key.json"
    before = key.read_bytes()
    assert release(src) == (tmp_path / "toy_trusted.ipynb", False)  # current: nothing to do
    key.unlink()
    path, changed = release(src)
    assert changed and key.read_bytes() == before  # the same key from a fresh run
    text = (tmp_path / "toy_trusted.ipynb").read_text()
    assert "submit(" not in text and "vectorizer" not in text and '"ladders"' in text


@needs_sandbox
def test_a_reference_that_fails_its_checks_gets_no_key(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    src = _copy_trusted(tmp_path)
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "top_words":
            cell.source = cell.source.replace(
                "counts = ", "raise ValueError('broken')\n    counts = "
            )
    nbformat.write(nb, src)
    (tmp_path / "toy_trusted.key.json").unlink()
    with pytest.raises(FormatError, match="does not pass its own tests"):
        release(src)
    assert not (tmp_path / "toy_trusted.key.json").exists()


@needs_sandbox
@pytest.mark.parametrize("threads", [1, 2])
def test_threads_limit_sets_the_sandboxed_kernels_cpu_threads(tmp_path, threads):
    """`course grade --threads N`: the kernel's OpenMP/BLAS variables and torch's default
    thread count (what full mode computes with) follow N; one by default."""
    from course_utils.tools.grading.grade import kernel_env
    from course_utils.tools.grading.kernel import Kernel

    work = tmp_path / "work"
    env = kernel_env(work, work / ".course_checks", sandbox.STRONG, None, small=False)
    env["OMP_NUM_THREADS"] = "7"  # the grader's own setting must not leak in
    kernel = Kernel(work, sandbox.STRONG, Limits(threads=threads), env=env)
    kernel.start()
    try:
        run = kernel.execute(
            "import os, torch\n"
            "print(os.environ['OMP_NUM_THREADS'], os.environ['OPENBLAS_NUM_THREADS'], "
            "torch.get_num_threads())",
            timeout=60,
        )
    finally:
        kernel.kill()
    assert run.status == "ok", run.evalue
    text = "".join(o.get("text", "") for o in run.outputs).split()
    assert text == [str(threads)] * 3


@pytest.mark.parametrize("threads", [0, -1, True, 1.5])
def test_threads_limit_rejects_what_is_not_a_whole_number(threads):
    with pytest.raises(ValueError, match="expected a whole number of 1 or more"):
        sandbox.thread_env(threads)
