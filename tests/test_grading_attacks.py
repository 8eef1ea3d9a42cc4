"""Hostile submissions against the grader: points without doing the work.

The attacks are made by ``tests/fixtures/grading/trusted/attacks.py`` (one notebook each,
every answer wrong) with their expected outcome in ``expected.json`` beside it: status
``graded``, score 0 and, where given, a flag for a human. Most target the trusted-checks
toy (``toy_trusted.source.ipynb``: values judged outside the kernel, a held-out ladder);
those in ``submissions/assert_toy/`` target the older assert-style toy
(``tests/fixtures/grading/toy.source.ipynb``), whose kernel starts faster, and attack the
grader's machinery (restarts, the audit hook, the feedback) or the assert path.

Everything is graded once (module fixture), in the allow-list sandbox only. Besides each
attack's outcome the tests check what the student sees (the feedback: capped failure
messages, no answer-key values, no host paths), that submissions are only ever read,
that the repository and the host are unchanged, and that blank submissions graded in
the same batch, after the attacks, are unaffected.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from course_utils.tools.grading import Limits, grade, sandbox
from course_utils.tools.grading.grade import _safe_id
from tests.conftest import MIRROR, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "grading"
TRUSTED = FIXTURES / "trusted"
SOURCE = TRUSTED / "toy_trusted.source.ipynb"
STUDENT = TRUSTED / "toy_trusted.ipynb"
ASSERT_SOURCE = FIXTURES / "toy.source.ipynb"
ASSERT_STUDENT = FIXTURES / "submissions" / "untouched_student.ipynb"
SUBS = TRUSTED / "submissions"
ASSERT_SUBS = SUBS / "assert_toy"
EXPECTED = json.loads((TRUSTED / "expected.json").read_text())
KEY = json.loads((TRUSTED / "toy_trusted.key.json").read_text())
LIMITS = Limits(cell_timeout=60, notebook_timeout=180)
MAX_MESSAGE_CHARS = 600  # of any one failure message in the feedback (the grader cuts at 500)
HOST_PATHS = ("/work/", "/root")  # host paths the feedback must not show

pytestmark = pytest.mark.skipif(
    sandbox.probe() != "bwrap", reason="bubblewrap (the allow-list sandbox) is not available here"
)


def _runs(name: str) -> bool:
    return MIRROR is not None or not EXPECTED[name].get("needs_mirror")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (bytecode aside: this process may compile modules)."""
    return {
        str(p.relative_to(folder)): _sha(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".pyc"
    }


def _key_values() -> list[str]:
    """Texts of the answer key that must never reach a student."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, float) and len(repr(value)) >= 12:
            found.append(repr(value))

    for checks in KEY["tests"].values():
        for spec in checks.values():
            walk(spec["value"])
            if isinstance(spec["value"], list) and all(isinstance(v, str) for v in spec["value"]):
                found += [repr(spec["value"]), json.dumps(spec["value"])]
    return found


KEY_VALUES = _key_values()

# Where a planted file would persist on the host (the sandbox should keep them all away).
_PLANTED_NAMES = (
    "sitecustomize.py",
    "usercustomize.py",
    "zz_course_attack.pth",
    "zz_course_attack_startup.py",
    "numpy.py",
    "math.py",
    "ipykernel_launcher.py",
)


def _host_spots() -> list[Path]:
    import site
    import sysconfig

    import course_utils

    pkg = Path(course_utils.__file__).parent
    home = Path.home()
    folders = [
        Path("/tmp"),
        Path("/dev/shm"),
        home,
        ROOT,
        ROOT.parent,
        pkg,
        pkg / "__pycache__",
        pkg / "grading",
        pkg / "grading" / "__pycache__",
        Path(sysconfig.get_paths()["purelib"]),
        Path(site.getusersitepackages()),
        home / ".ipython" / "profile_default" / "startup",
        home / ".cache" / "course_utils",
        home / ".config" / "matplotlib",
        TRUSTED,
        FIXTURES,
    ]
    return [f / n for f in folders for n in _PLANTED_NAMES]


def _grader_droppings() -> set[str]:
    """Files the grader writes into a checks folder, found in the host's /tmp."""
    return {
        p
        for p in glob.glob("/tmp/call_*.json") + glob.glob("/tmp/*.npy")
        if re.fullmatch(r"call_[0-9a-f]{16}\.json|[0-9a-f]{32}\.npy", Path(p).name)
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every attack once (plus blanks and the reference), both toys."""
    mp = pytest.MonkeyPatch()
    droppings_before = _grader_droppings()
    mp.setenv("COURSE_SMALL", "1")
    mp.setattr(sys, "dont_write_bytecode", True)
    try:
        trusted_in = tmp_path_factory.mktemp("attacks_trusted")
        assert_in = tmp_path_factory.mktemp("attacks_assert")
        for folder, dest in ((SUBS, trusted_in), (ASSERT_SUBS, assert_in)):
            for f in sorted(folder.glob("*.ipynb")):
                if _runs(f.stem):
                    shutil.copy(f, dest / f.name)
        for name, spec in EXPECTED.items():  # the same notebook under a colliding name
            if spec.get("own_feedback") and _runs(name):
                folder = assert_in if spec.get("homework") == "toy" else trusted_in
                shutil.copy(folder / f"{name}.ipynb", folder / f"{name.replace('__', ' ')}.ipynb")
        shutil.copy(STUDENT, trusted_in / "blank.ipynb")
        shutil.copy(SOURCE, trusted_in / "reference.ipynb")
        # graded last (sorted names, jobs in order): after every attack of its batch, the
        # planting ones included
        shutil.copy(ASSERT_STUDENT, assert_in / "zz_blank_after_attacks.ipynb")
        subs_before = {p: _sha(p) for d in (trusted_in, assert_in) for p in d.iterdir()}
        repo_before = {"course_utils": _tree(ROOT / "course_utils"), "fixtures": _tree(FIXTURES)}
        spots_before = {p for p in _host_spots() if p.exists()}
        out_trusted = tmp_path_factory.mktemp("out_trusted")
        out_assert = tmp_path_factory.mktemp("out_assert")
        results = grade(SOURCE, [trusted_in], out_trusted, jobs=2, limits=LIMITS, progress=False)
        results += grade(
            ASSERT_SOURCE, [assert_in], out_assert, jobs=2, limits=LIMITS, progress=False
        )
        droppings = _grader_droppings() - droppings_before
        state = {
            "results": {
                r.submission.removesuffix(".ipynb") + ("@toy" if r.homework == "toy" else ""): r
                for r in results
            },
            "feedback": {},
            "subs_before": subs_before,
            "subs_after": {p: _sha(p) for p in subs_before},
            "repo_before": repo_before,
            "repo_after": {
                "course_utils": _tree(ROOT / "course_utils"),
                "fixtures": _tree(FIXTURES),
            },
            "spots_new": sorted(
                str(p) for p in _host_spots() if p.exists() and p not in spots_before
            ),
            "droppings": sorted(droppings),
        }
        for r in results:
            out, suffix = (out_assert, "@toy") if r.homework == "toy" else (out_trusted, "")
            md = out / "feedback" / f"{_safe_id(r.submission)}.md"
            state["feedback"][r.submission.removesuffix(".ipynb") + suffix] = md.read_text()
        state["feedback_files"] = {
            "toy_trusted": len(list((out_trusted / "feedback").glob("*.md"))),
            "toy": len(list((out_assert / "feedback").glob("*.md"))),
        }
        state["graded_in"] = {
            "toy_trusted": len(list(trusted_in.iterdir())),
            "toy": len(list(assert_in.iterdir())),
        }
        keep = os.environ.get("ATTACKS_OUT")  # a folder to keep the gradebooks in, to look at
        if keep:
            for out, name in ((out_trusted, "toy_trusted"), (out_assert, "toy")):
                shutil.copytree(out, Path(keep) / name, dirs_exist_ok=True)
        yield state
    finally:
        mp.undo()
        for leftover in _grader_droppings() - droppings_before:
            Path(leftover).unlink(missing_ok=True)  # what the symlink attack made the grader write


def _result(graded, name):
    key = name + ("@toy" if EXPECTED.get(name, {}).get("homework") == "toy" else "")
    return graded["results"][key], graded["feedback"][key]


def _feedback_problems(text: str) -> list[str]:
    problems = []
    for line in text.splitlines():
        if len(line) > MAX_MESSAGE_CHARS + 100:
            problems.append(f"a feedback line of {len(line)} characters: {line[:120]!r}...")
    for value in KEY_VALUES:
        if value in text:
            problems.append(f"an answer-key value in the feedback: {value}")
    for path in HOST_PATHS:
        if path in text:
            at = text.index(path)
            problems.append(
                f"a host path in the feedback: ...{text[max(at - 60, 0) : at + 60]!r}..."
            )
    return problems


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_attack(graded, name):
    expected = EXPECTED[name]
    if not _runs(name):
        pytest.skip("needs the data mirror (COURSE_DATA)")
    result, feedback = _result(graded, name)
    max_score = 3 if expected.get("homework") == "toy" else 8
    assert result.status == expected["status"], result.reason[:300]
    assert (result.sandbox, result.max_score) == ("bwrap", max_score)
    assert result.score == expected["score"], (
        f"{name} earned {result.score} point(s): "
        + "; ".join(
            f"{t['id']} {t['status']} {t['points']:g} {t['detail'] or t['message'][:100]}"
            for t in result.tests
            if t["points"]
        )
    )
    if "flag" in expected:
        assert any(expected["flag"] in f for f in result.flags), (
            f"expected a flag containing {expected['flag']!r}, found {result.flags}"
        )
    if "event" in expected:
        assert any(expected["event"] in e for e in result.events), (
            f"expected an event containing {expected['event']!r}, found {result.events}"
        )
    if expected.get("own_feedback"):
        homework = expected.get("homework", "toy_trusted")
        assert graded["feedback_files"][homework] == graded["graded_in"][homework], (
            "two submissions share a feedback file (their names map to the same id)"
        )
        assert f"`{name}.ipynb`" in feedback
    if expected.get("host_unchanged"):
        assert (graded["spots_new"], graded["droppings"]) == ([], []), (
            "files appeared on the host (planted, or written by the grader through a symlink)"
        )
    assert not _feedback_problems(feedback), _feedback_problems(feedback)


def test_reference_scores_everything(graded):
    result, feedback = graded["results"]["reference"], graded["feedback"]["reference"]
    assert (result.status, result.score, result.max_score) == ("graded", 8, 8), result.tests
    assert result.flags == [] and not _feedback_problems(feedback)


@pytest.mark.parametrize("name", ["blank", "zz_blank_after_attacks@toy"])
def test_blank_submissions_are_unaffected_by_the_attacks(graded, name):
    result = graded["results"][name]
    max_score = 3 if name.endswith("@toy") else 8
    assert (result.status, result.score, result.max_score) == ("graded", 0, max_score), (
        result.reason
    )
    assert result.flags == [], result.flags
    # the stubs raise, and nothing else happens (no restart, no planted code running)
    assert all(
        e.startswith("answer ") and e.endswith("raised NotImplementedError") for e in result.events
    ), result.events
    assert all(t["status"] == "failed" and t["points"] == 0 for t in result.tests)
    assert not _feedback_problems(graded["feedback"][name])


def test_submissions_are_never_modified(graded):
    assert graded["subs_after"] == graded["subs_before"]


def test_repository_is_unchanged(graded):
    for part in ("course_utils", "fixtures"):
        before, after = graded["repo_before"][part], graded["repo_after"][part]
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert not changed, f"{part}: {changed[:10]}"


def test_nothing_is_planted_or_written_on_the_host(graded):
    assert graded["spots_new"] == [], graded["spots_new"]
    # the grader itself must not write outside the submission's work folder
    assert graded["droppings"] == [], graded["droppings"]
