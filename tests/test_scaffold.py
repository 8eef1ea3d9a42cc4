"""`course new lesson|homework`: the skeletons pass the checks as they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.tools import notebooks as nbtools
from course_utils.tools import scaffold
from course_utils.tools.cli import main
from course_utils.tools.grading import Limits, grade, sandbox
from course_utils.tools.grading.notebook_format import student_path
from tests.conftest import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def _ruff_clean(path: Path) -> None:
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [RUFF, *args, "--config", ROOT / "pyproject.toml", path], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_new_lesson_is_a_seminar_that_passes_the_conventions_lint_and_runs(tmp_path, monkeypatch):
    path = scaffold.new_lesson(tmp_path, "nlp/10_beam_search")
    assert path == tmp_path / "notebooks" / "nlp" / "10_beam_search.source.ipynb"
    seminar = student_path(path)
    assert seminar.is_file() and nbtools.is_generated(seminar)
    assert nbtools.problems(path) == [] and nbtools.problems(seminar) == []
    header = nbformat.read(path, as_version=4).cells[0].source
    assert "notebooks/nlp/10_beam_search.ipynb" in header  # the Colab badge opens the seminar
    assert "small" in header.lower() and "full" in header.lower()
    _ruff_clean(path)
    from tests.test_seminars import FULL_LINE, exercises

    assert len(exercises(path)) == 5 and FULL_LINE.search(header)
    monkeypatch.setenv("COURSE_SMALL", "1")
    result = nbtools.execute(path, tmp_path / "out", tmp_path, timeout=120, small=True)
    assert result.status == "ok", result.error
    assert "sample_std" in result.headline
    from course_utils.tools.grading import check

    checks = check(seminar, cell_timeout=60).tests
    assert len(checks) == 5 and not [t for t in checks if t["status"] == "passed"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("audio/01_x", "TRACK one of nlp, rl, vision"),
        ("nlp/1_x", "two digits"),
        ("nlp/01_Beam", "lower-case"),
    ],
)
def test_bad_lesson_names_are_clear_errors(tmp_path, spec, message):
    with pytest.raises(scaffold.ScaffoldError, match=message):
        scaffold.new_lesson(tmp_path, spec)


def test_existing_work_is_never_overwritten(tmp_path, capsys):
    path = scaffold.new_lesson(tmp_path, "rl/06_ppo")
    path.write_text("{}")
    with pytest.raises(scaffold.ScaffoldError, match="exists already"):
        scaffold.new_lesson(tmp_path, "rl/06_ppo")
    assert path.read_text() == "{}"
    student_path(path).unlink()  # the seminar alone is work too: not overwritten either
    path.unlink()
    (tmp_path / "notebooks" / "rl" / "06_ppo.ipynb").write_text("{}")
    with pytest.raises(scaffold.ScaffoldError, match="06_ppo.ipynb exists already"):
        scaffold.new_lesson(tmp_path, "rl/06_ppo")
    scaffold.new_homework(
        tmp_path,
        "09_ppo",
    )
    with pytest.raises(scaffold.ScaffoldError, match="exists already"):
        scaffold.new_homework(tmp_path, "09_ppo")
    assert main(["new", "lesson", "nlp/x"]) == 2
    assert "expected a lesson name" in capsys.readouterr().err


@pytest.mark.skipif(sandbox.probe() != "bwrap", reason="bubblewrap is not available here")
def test_new_homework_releases_and_meets_the_invariants(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    source = scaffold.new_homework(tmp_path, "09_standardize")
    _ruff_clean(source)
    from course_utils.tools.grading import release

    release(source)
    assert nbtools.stale_release(source) == []
    assert nbtools.dead_cells(source) == []
    results = grade(
        source,
        [source, student_path(source)],
        tmp_path / "out",
        limits=Limits(cell_timeout=60, notebook_timeout=180),
        progress=False,
    )
    by_name = {r.submission: r for r in results}
    full, empty = by_name[source.name], by_name[student_path(source).name]
    # 7 automatic points; the open part (3) waits for manual grading
    assert full.score == 7 and full.max_score == 10, (full.tests, full.reason)
    assert {t["id"]: t["status"] for t in full.tests if t["status"] == "manual"} == {
        "open_experiments": "manual",
        "open_report": "manual",
    }
    assert empty.status == "graded" and empty.score == 0
    from tests.test_homeworks import test_one_scale_and_an_open_part_graded_by_hand

    test_one_scale_and_an_open_part_graded_by_hand(source)
    assert (source.parent / "README.md").is_file()


def test_new_dataset_is_registered_and_its_tests_pass(tmp_path):
    """In a copy of the package: the entry registers, `course data list` shows it, the
    generated tests (stand-in in small mode, clear error in full mode) pass, ruff is clean."""
    import os
    import shutil

    repo = tmp_path / "repo"
    skip = shutil.ignore_patterns("__pycache__", "fixtures", "benchmarks")
    for part in ("course_utils", "tests"):
        shutil.copytree(ROOT / part, repo / part, ignore=skip)
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, repo / name)
    module, test = scaffold.new_dataset(repo, "toy_reviews")
    assert module == repo / "course_utils" / "data" / "datasets" / "toy_reviews.py"
    _ruff_clean(module)
    _ruff_clean(test)
    _ruff_clean(repo / "course_utils" / "data" / "datasets" / "__init__.py")
    env = {**os.environ, "PYTHONPATH": str(repo), "COURSE_SMALL": "1"}
    env.pop("COURSE_DATA", None)
    listed = subprocess.run(
        [sys.executable, "-m", "course_utils.tools.cli", "data", "list"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "toy_reviews" in listed.stdout, listed.stdout + listed.stderr
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout[-3000:]
    with pytest.raises(scaffold.ScaffoldError, match="exists already"):
        scaffold.new_dataset(repo, "toy_reviews")
    with pytest.raises(scaffold.ScaffoldError, match="lower case"):
        scaffold.new_dataset(repo, "Toy-Reviews")
    with pytest.raises(scaffold.ScaffoldError, match="run this in the course repository"):
        scaffold.new_dataset(tmp_path / "elsewhere", "toy")
