"""``course grade SOURCE SUBMISSION...``: grade submissions safely into a gradebook.

For each submission the grader

1. reads the file (never writes it), hashes it and rejects what is not a notebook of
   this homework with a reason (malformed JSON, wrong nbformat, empty, too large,
   another homework);
2. rebuilds the notebook from the trusted source, taking from the submission only the
   code of the answer cells, matched by ``grade_id``: edited, deleted or added test
   cells make no difference;
3. runs it in a fresh kernel in the sandbox (:mod:`course_utils.tools.grading.sandbox`),
   cell by cell, with a per-cell and a per-notebook time limit; after a timeout or a
   kernel death it restarts the kernel, replays the cells that had run and carries
   on with the next question;
4. before every test cell, undoes the IPython hooks a submission could use to
   swallow exceptions, and scores the cell from the kernel's reply status;
5. writes ``results/<id>.json``, ``feedback/<id>.md`` (hidden-test details
   redacted) and ``gradebook.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.io import atomic_write
from course_utils.tools.grading import assignment, trusted
from course_utils.tools.grading import checks as ck
from course_utils.tools.grading import sandbox as sb
from course_utils.tools.grading.kernel import AST_LOCK as _AST_LOCK
from course_utils.tools.grading.kernel import CellRun, Kernel
from course_utils.tools.grading.notebook_format import (
    ANSWER_KINDS,
    BEGIN_HIDDEN,
    END_HIDDEN,
    GRADED_KINDS,
    LOCKED_KINDS,
    Cell,
    FormatError,
    cell_checksum,
    digest,
    grading_meta,
    homework_name,
    is_seminar,
    parse,
    read_source,
    read_trusted_json,
    strip_hidden,
    strip_solution,
    student_path,
)

GRADER_VERSION = "3"
MAX_SUBMISSION_BYTES = 200 * 2**20
HIDDEN_MESSAGE = "a hidden test failed (details are withheld until grades are released)"

# Patterns worth a human look; they do not change the score.
SUSPICIOUS = {
    r"set_custom_exc": "installs an IPython custom exception handler",
    r"input_transformers|ast_transformers": "changes IPython's input transformers",
    r"events\.register": "registers IPython event callbacks",
    r"sys\.(settrace|setprofile|excepthook)": "changes the interpreter's trace/except hooks",
    r"\brun_cell\b|\bdo_execute\b|\bexecute_request\b|\bsend_response\b": "touches the kernel's execution machinery",
    r"_grader_|\.source\.ipynb|BEGIN HIDDEN": "refers to the grader or the hidden tests",
    r"os\._exit|os\.fork|\bfork\(\)|socket\.|urllib|requests\.": "exits, forks or opens a network connection",
    r"\bctypes\b|__code__|gc\.get_referrers|sys\.modules\[": "uses low-level tools that can patch the interpreter",
}


@dataclass
class TestResult:
    id: str
    max_points: float
    points: float = 0.0
    status: str = "not-run"  # passed | failed | timeout | crashed | not-run | manual
    seconds: float = 0.0
    hidden: bool = False
    message: str = ""
    trusted: bool = False  # judged outside the kernel (trusted checks or a ladder)
    detail: str = ""  # why a trusted check failed: for the instructor, not the feedback
    value: float | None = None  # a ladder's metric


@dataclass
class Result:
    homework: str
    submission: str
    submission_sha256: str
    source_sha256: str
    status: str  # graded | rejected
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    tests: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0  # wall time of the whole grading of this submission
    cell_seconds: float = 0.0  # time the kernel spent running cells (the grader's own included)
    integrity_seconds: float = 0.0  # of which: the integrity snapshot and restores
    check_seconds: float = 0.0  # judging trusted checks and evaluating ladders
    grader_version: str = GRADER_VERSION
    trusted_sha256: str = ""  # the answer key and grading.py this was graded with
    student: str = ""  # from nbgrader's submitted/<student>/<assignment>/ layout
    assignment: str = ""
    notebook: str = ""  # the source notebook's student file name
    changes: list = field(default_factory=list)  # what the student changed, in words
    manual: list = field(default_factory=list)  # the items a person grades (manual.py)

    def fingerprint(self) -> dict:
        """What must not change between two gradings of the same submission."""
        return {
            "status": self.status,
            "reason": self.reason,
            "score": self.score,
            "tests": [(t["id"], t["status"], t["points"]) for t in self.tests],
        }


# --------------------------------------------------------------------- reading
def read_submission(path: Path) -> tuple[bytes, object]:
    """Return (raw bytes, notebook); raises FormatError with a reason."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise FormatError("the file is empty")
    if size > MAX_SUBMISSION_BYTES:
        raise FormatError(
            f"the file is {size / 2**20:.0f} MB, more than the "
            f"{MAX_SUBMISSION_BYTES // 2**20} MB a submission may have"
        )
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormatError(f"not a notebook: the file is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"not a notebook: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise FormatError("not a notebook: expected a JSON object with 'cells'")
    major = data.get("nbformat")
    if major != 4:
        raise FormatError(
            f"wrong notebook format: expected nbformat 4, found {major!r}; "
            "save the notebook with Jupyter or Colab"
        )
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several kinds
        raise FormatError(f"not a valid notebook: {exc}") from None
    return raw, nb


@dataclass
class Match:
    """How a submission's cells map onto the source's (:func:`match_cells`)."""

    answers: dict  # grade_id -> the student's code or text
    how: dict  # grade_id -> "submitted" | "missing: ..."
    added: dict  # source cell index (-1: before the first) -> [(submission cell index, code)]
    changes: list  # what the student changed, in words
    task_work: dict  # task grade_id -> the submission's cells after the task, as markdown


def _text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _released_text(cell: Cell) -> str:
    return strip_hidden(cell.source) if cell.kind == "test" else cell.source


def match_cells(nb, source_cells: list[Cell]) -> Match:
    """Match a submission's cells to the source's, as nbgrader's autograder would
    see them, and say what the student changed.

    - answer cells are found by ``grade_id``; of duplicated answer cells the **first
      copy counts** and later copies are not run;
    - test, task and read-only cells are always the source's; a changed or deleted
      one is reported ("the original was run");
    - cells without nbgrader metadata are the instructor's when their cell id or
      their text matches a source cell (the source's version runs); any other code
      cell was **added** by the student and runs in place, after the source cell it
      follows, as the student's code.
    """
    by_id = {c.grade_id: c for c in source_cells if c.grade_id}
    types = {
        c.grade_id: ("code",) if c.kind == "answer" else ("code", "markdown")
        for c in source_cells
        if c.kind in ANSWER_KINDS
    }
    content = [c for c in source_cells if c.kind == "content"]
    content_ids = {c.cell_id: c for c in content if c.cell_id}
    out = Match({}, {}, {}, [], {})
    seen_locked, matched_content = set(), set()
    last = -1  # index of the last source cell seen
    current_task = None
    for n, cell in enumerate(nb.cells):
        meta = grading_meta(cell)
        gid = meta.get("grade_id")
        text = _text(cell)
        label = f"cell {n + 1}"
        src = by_id.get(gid) if isinstance(gid, str) else None
        if src is not None:
            current_task = src.grade_id if src.kind == "task" else None
            if src.kind in ANSWER_KINDS:
                if (
                    gid in out.answers
                    or cell.cell_type not in types[gid]
                    or not meta.get("solution")
                ):
                    why = (
                        "appears again"
                        if gid in out.answers
                        else "lost its answer metadata or changed type"
                    )
                    out.changes.append(
                        f"{label}: answer cell {gid!r} {why}: the first copy "
                        "counts, this one was not run"
                    )
                    continue
                out.answers[gid] = text
                out.how[gid] = "submitted"
                last = src.index
                continue
            if gid in seen_locked:
                out.changes.append(
                    f"{label}: a copy of {KIND_WORDS[src.kind]} {gid!r}: not "
                    "run (the source's cell runs once)"
                )
                continue
            seen_locked.add(gid)
            last = src.index
            if cell_checksum(cell.cell_type, text) != cell_checksum(
                src.cell_type, _released_text(src)
            ):
                out.changes.append(
                    f"{label}: {KIND_WORDS[src.kind]} {gid!r} was changed: "
                    "the original from the source was used"
                )
            continue
        # no (known) nbgrader metadata: the instructor's cell, or one the student added
        found = content_ids.get(cell.get("id"))
        if found is not None and found.index not in matched_content:
            matched_content.add(found.index)
            last = found.index
            if cell_checksum(cell.cell_type, text) != cell_checksum(found.cell_type, found.source):
                out.changes.append(
                    f"{label}: an instructor cell (source cell {found.index + 1}) "
                    "was changed: the original was run"
                )
            current_task = None
            continue
        found = next(
            (
                c
                for c in content
                if c.index not in matched_content
                and c.cell_type == cell.cell_type
                and c.source.strip() == text.strip()
            ),
            None,
        )
        if found is not None:
            matched_content.add(found.index)
            last = found.index
            current_task = None
            continue
        if current_task is not None and text.strip():
            fence = "```python\n" + text.rstrip() + "\n```" if cell.cell_type == "code" else text
            out.task_work.setdefault(current_task, []).append(fence)
        if gid is not None:
            out.changes.append(
                f"{label}: its grade_id {gid!r} is not one of this notebook's; "
                "treated as a cell you added"
            )
        if cell.cell_type == "code" and text.strip():
            out.added.setdefault(last, []).append((n, text))
            where = f"after source cell {last + 1}" if last >= 0 else "before the first cell"
            out.changes.append(
                f"{label}: a code cell you added: it runs in place ({where}) as your code"
            )
    for gid in types:
        if gid not in out.answers:
            out.how[gid] = "missing: the cell was deleted or its metadata changed"
            out.changes.append(
                f"answer cell {gid!r} is missing (deleted, or its nbgrader "
                "metadata changed): its empty stub was used"
            )
    for c in source_cells:
        if c.kind in LOCKED_KINDS and c.grade_id not in seen_locked:
            out.changes.append(
                f"{KIND_WORDS[c.kind]} {c.grade_id!r} was deleted: the original "
                "from the source was used"
            )
    missing_content = [c for c in content if c.index not in matched_content and c.source.strip()]
    if missing_content:
        out.changes.append(
            "instructor cells deleted or edited beyond recognition (their "
            "originals were run): source cells "
            + ", ".join(str(c.index + 1) for c in missing_content[:10])
            + (" ..." if len(missing_content) > 10 else "")
        )
    out.task_work = {k: "\n\n".join(v) for k, v in out.task_work.items()}
    return out


KIND_WORDS = {
    "test": "test cell",
    "task": "task",
    "readonly": "read-only cell",
    "answer": "answer cell",
    "manual": "manually graded answer",
}


def student_answers(nb, source_cells: list[Cell]) -> tuple[dict, dict]:
    """Map grade_id -> the student's code (or text, for a manually graded answer), and
    grade_id -> how it was found (:func:`match_cells`)."""
    m = match_cells(nb, source_cells)
    return m.answers, m.how


def split_test(source: str) -> tuple[str, str]:
    """(public part, hidden part) of a test cell."""
    public = strip_hidden(source)
    hidden, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        elif inside:
            hidden.append(line)
    return public, "\n".join(hidden)


def scan(code: str) -> list[str]:
    """Flags for a human: the kernel-machinery patterns above and the static checks of
    :func:`course_utils.tools.grading.integrity.scan` (patched libraries, lying classes,
    frames and gc, large literal tables, paths outside the work folder)."""
    from course_utils.tools.grading import integrity

    found = [why for pattern, why in SUSPICIOUS.items() if re.search(pattern, code)]
    for flag in integrity.scan(code):
        if flag not in found:
            found.append(flag)
    return found


# What the integrity restore put back in these makes a flag: the libraries tests compare
# with. Stateful libraries also change themselves between cells (matplotlib's backend,
# transformers' lazy attributes, gymnasium's dispatch registry, time.tzname): they are
# restored all the same, without a flag.
FLAGGED_RESTORES = (
    "numpy",
    "scipy",
    "sklearn",
    "torch",
    "pandas",
    "builtins",
    "math",
    "operator",
    "course_utils",
    "sys.",
    "__builtins__",
    "integrity check failed",
)
# Flags that make the kernel's own verdict worthless: tests judged in the kernel (assert
# style) score nothing for such a submission; trusted checks and ladders are unaffected.
SEVERE = (
    "rebinds module attribute",
    "patches library class",
    "mock patching",
    "edits sys.modules",
    "edits import hooks",
    "edits builtins",
    "rebinds module name",
    "assigns special attribute",
    "defines",
    "subclasses",
    "walks frames or gc",
    "low-level access",
    "runs background code",
    "shadows builtin",
    *(why for why in SUSPICIOUS.values() if not why.startswith("exits, forks")),
)


def _severe(flag: str) -> bool:
    reason = flag.split(": ", 1)[1] if flag.startswith("answer ") else flag
    return any(reason.startswith(s) for s in SEVERE)


# --------------------------------------------------------------------- executing
MANUAL_MESSAGE = "waits for manual grading"


@dataclass
class Step:
    kind: str  # content | answer | test | manual (points a person gives: never run)
    cell: Cell
    code: str
    hidden_code: str = ""
    checks: dict | None = None  # this cell's part of the answer key (trusted checks)
    ladder: trusted.Ladder | None = None  # points computed by the grader


def build_plan(
    source_cells: list[Cell],
    answers: dict[str, str],
    key: dict | None = None,
    ladders: dict | None = None,
    added: dict | None = None,
) -> list[Step]:
    """The steps to run: the source's cells with the student's answers, and the code
    cells the student added (``added``, from :func:`match_cells`) in place."""
    key, ladders, added = key or {}, ladders or {}, added or {}
    plan = []

    def add_student_cells(after: int) -> None:
        for n, code in added.get(after, []):
            plan.append(Step("answer", Cell(n, "added", None, 0.0, code, "code"), code))

    add_student_cells(-1)
    for cell in source_cells:
        plan.extend(_steps(cell, answers, key, ladders))
        add_student_cells(cell.index)
    return plan


def _steps(cell: Cell, answers: dict, key: dict, ladders: dict) -> list[Step]:
    if cell.kind in ("manual", "task"):
        steps = []
        if cell.kind == "manual" and cell.cell_type == "code":
            # a manually graded code answer runs like an answer; a person scores it
            steps.append(
                Step("answer", cell, answers.get(cell.grade_id, strip_solution(cell.source)))
            )
        return steps + [Step("manual", cell, "")]
    if cell.cell_type != "code":
        return []
    if cell.kind in ("content", "readonly"):
        return [Step("content", cell, cell.source)]
    if cell.kind == "answer":
        return [Step("answer", cell, answers.get(cell.grade_id, strip_solution(cell.source)))]
    public, hidden = split_test(cell.source)
    return [Step("test", cell, public, hidden, key.get(cell.grade_id), ladders.get(cell.grade_id))]


def _has_code(source: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in source.splitlines())


MAX_MESSAGE = 500  # characters of a failure message that reach the feedback


def _out_of_memory(ename: str, evalue: str) -> bool:
    """Whether a cell's error is the sandbox's memory limit: Python's MemoryError, or an
    allocator's 'Cannot allocate memory' (torch reports ENOMEM as a RuntimeError)."""
    return ename == "MemoryError" or "cannot allocate memory" in (evalue or "").lower()


def _describe(run: CellRun) -> str:
    if run.status == "error":
        text = f"{run.ename}: {run.evalue}".strip(": ")
        return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " [cut]"
    return run.status


def _run_ladder(
    step: Step, kernel, start: float, limits: sb.Limits, small: bool, t: TestResult
) -> CellRun:
    """Points of a ladder cell, computed here from the predictions the kernel sent."""
    ladder = step.ladder
    began = time.monotonic()
    deadline = min(start + limits.notebook_timeout, began + max(limits.cell_timeout, 1))
    session = trusted.Session(kernel, kernel.outbox, deadline, small)
    t.trusted = True
    try:
        value = float(ladder.evaluate(session))
    except trusted.LadderError as exc:
        t.seconds += time.monotonic() - began
        status = session.last_status if session.last_status in ("timeout", "died") else "error"
        return CellRun(status, time.monotonic() - began, "LadderError", str(exc)[:MAX_MESSAGE])
    except (ck.CheckError, ValueError, TypeError, IndexError, KeyError) as exc:
        # the kernel's answer had the wrong form (e.g. one label too few)
        t.seconds += time.monotonic() - began
        return CellRun(
            "error",
            time.monotonic() - began,
            "LadderError",
            f"the predictions could not be scored: {type(exc).__name__}: {str(exc)[:300]}",
        )
    t.seconds += time.monotonic() - began
    steps = ladder.steps(small)
    met = ladder.met(value, small)
    t.points = round(t.max_points * met / len(steps), 6) if steps else 0.0
    t.status = "passed" if met == len(steps) else ("partial" if met else "failed")
    sign = "<=" if ladder.lower_is_better else ">="
    t.message = (
        f"{ladder.metric} {value:.4g} on held-out data: {met} of {len(steps)} steps "
        f"({', '.join(f'{sign} {s:g}' for s in steps)})"
    )
    t.value = value
    return CellRun("ok", time.monotonic() - began)


def execute_plan(
    plan: list[Step],
    make_kernel,
    limits: sb.Limits,
    result: Result,
    io_folder: Path | None = None,
    record: dict | None = None,
    small: bool = True,
    self_check: bool = False,
    modules: tuple = (),
    distrust_asserts: bool = False,
) -> None:
    """Run the plan; fill ``result.tests``, ``score`` and ``events``.

    ``record``: a dict to fill with the values each test cell sent (making the
    answer key) instead of judging them. ``self_check``: a student's own run, where
    the cells judged only by the grader are reported as such.
    """
    tests = {
        s.cell.grade_id: TestResult(s.cell.grade_id, s.cell.points, hidden=bool(s.hidden_code))
        for s in plan
        if s.kind == "test"
    }
    for s in plan:
        if s.kind == "manual":
            tests[s.cell.grade_id] = TestResult(
                s.cell.grade_id, s.cell.points, status="manual", message=MANUAL_MESSAGE
            )
    result.tests = [tests[s.cell.grade_id] for s in plan if s.kind in ("test", "manual")]
    start = time.monotonic()
    done: list[Step] = []  # non-test steps that ran (to replay after a restart)
    distrust = distrust_asserts  # the kernel's own verdict is not worth anything
    kernel = make_kernel()
    real_execute = kernel.execute

    def timed_execute(*args, **kwargs):
        run = real_execute(*args, **kwargs)
        result.cell_seconds += run.seconds
        return run

    kernel.execute = timed_execute
    try:
        kernel.start()
        for n, step in enumerate(plan):
            if step.kind == "manual":
                continue  # scored by a person, never run
            left = limits.notebook_timeout - (time.monotonic() - start)
            label = step.cell.grade_id or (
                f"your added cell {step.cell.index + 1}"
                if step.cell.kind == "added"
                else f"cell {step.cell.index + 1}"
            )
            if left <= 0:
                result.events.append(
                    f"notebook time limit ({limits.notebook_timeout:.0f} s) "
                    f"reached before {label}; the rest was not run"
                )
                for s in plan[n:]:
                    if s.kind == "test":
                        tests[
                            s.cell.grade_id
                        ].message = "not run: the notebook time limit was reached"
                break
            timeout = min(limits.cell_timeout, left)
            if step.kind == "answer" and kernel.level is not None and not kernel.snapshotted:
                began = time.monotonic()
                kernel.snapshot(modules)
                result.integrity_seconds += time.monotonic() - began
            if step.kind == "test" and kernel.level is not None:
                began = time.monotonic()
                restored = kernel.restore_integrity()
                result.integrity_seconds += time.monotonic() - began
                if restored is None:
                    result.flags.append(
                        f"before {label}: the grader's integrity restore did not "
                        "answer as expected; tests judged in the kernel fail"
                    )
                    distrust = True
                restored = [r for r in restored or [] if r.startswith(FLAGGED_RESTORES)]
                if restored:
                    shown = ", ".join(restored[:12]) + (" ..." if len(restored) > 12 else "")
                    result.flags.append(
                        f"before {label}: restored what the submission patched: {shown}"
                    )
                    distrust = True
            if step.kind == "test":
                tampered = kernel.reset_hooks()
                if tampered is None or tampered:
                    what = "the reset did not run" if tampered is None else ", ".join(tampered)
                    result.flags.append(
                        f"before {label}: the kernel's execution machinery "
                        f"was modified ({what}); tests after it fail"
                    )
                    for s in plan[n:]:
                        if s.kind == "test":
                            tests[s.cell.grade_id].status = "failed"
                            tests[
                                s.cell.grade_id
                            ].message = "not trusted: the submission modified the kernel"
                    break
                t = tests[step.cell.grade_id]
                if distrust and not step.checks and step.ladder is None:
                    t.status = "failed"
                    t.message = (
                        "not trusted: the submission patches or fakes what the tests rely "
                        "on (see the flags); left to the instructor's review"
                    )
                    continue
                if self_check and (step.ladder is not None or not _has_code(step.code)):
                    t.message = "judged by the grader only (held-out data or hidden tests)"
                    continue
                run = kernel.execute(step.code, timeout) if _has_code(step.code) else None
                if run is not None:
                    t.seconds = run.seconds
                hidden_failed = False
                if step.ladder is not None and record is not None:
                    t.status, t.points = "passed", t.max_points  # making the key: not judged
                    continue
                if step.ladder is not None and (run is None or run.status == "ok"):
                    began = time.monotonic()
                    run = _run_ladder(step, kernel, start, limits, small, t)
                    result.check_seconds += time.monotonic() - began
                    if run.status == "ok":
                        continue
                elif (run is None or run.status == "ok") and step.hidden_code.strip():
                    left = limits.notebook_timeout - (time.monotonic() - start)
                    hidden_run = kernel.execute(
                        step.hidden_code, min(limits.cell_timeout, max(left, 1))
                    )
                    t.seconds += hidden_run.seconds
                    run = hidden_run
                    if record is not None:
                        record[step.cell.grade_id] = ck.collect(hidden_run.outputs, kernel.outbox)
                    if hidden_run.status == "ok" and step.checks and record is None:
                        began = time.monotonic()
                        received = ck.collect(hidden_run.outputs, kernel.outbox)
                        ok, why = ck.judge(step.checks, received)
                        result.check_seconds += time.monotonic() - began
                        t.trusted = True
                        if not ok:
                            run = CellRun("error", hidden_run.seconds, "CheckFailed", why)
                    if run.status != "ok":
                        t.hidden = True
                        t.message = HIDDEN_MESSAGE
                        hidden_failed = True
                if run is None:
                    run = CellRun("ok", 0.0)
                if run.status == "ok":
                    t.status, t.points = "passed", t.max_points
                else:
                    t.status = {"error": "failed", "timeout": "timeout", "died": "crashed"}[
                        run.status
                    ]
                    if not hidden_failed:
                        t.message = _describe(run)
                        t.hidden = False
                    elif run.ename == "CheckFailed":
                        t.detail = run.evalue  # for the instructor, never in the feedback
            else:
                run = kernel.execute(step.code, timeout)
                if run.truncated:
                    result.events.append(f"{label}: output over the limit was dropped")
                if run.status in ("ok", "error"):
                    done.append(step)
                    if run.status == "error" and step.kind == "answer":
                        result.events.append(f"answer {label} raised {run.ename[:100]}")
                    elif run.status == "error":
                        result.events.append(
                            f"{label} (instructor code) raised {run.ename[:100]}: "
                            f"{run.evalue[:200]}"
                        )
                    if run.status == "error" and _out_of_memory(run.ename, run.evalue):
                        result.events.append(
                            f"{label}: out of memory in the sandbox (data memory is limited to "
                            f"{limits.memory_mb} MB per process; `course grade --memory-mb N` "
                            "raises it for a homework that needs more)"
                        )
            if run.status in ("timeout", "died"):
                what = (
                    f"timed out after {run.seconds:.0f} s"
                    if run.status == "timeout"
                    else "crashed the kernel"
                )
                result.events.append(f"{label} {what}")
                if kernel.restarts >= limits.max_restarts:
                    result.events.append("too many restarts; the remaining cells were not run")
                    break
                kernel.restart()
                result.events.append(
                    f"kernel restarted ({kernel.restarts}); replaying {len(done)} cell(s)"
                )
                for old in list(done):
                    left = limits.notebook_timeout - (time.monotonic() - start)
                    if old.kind == "answer" and kernel.level is not None and not kernel.snapshotted:
                        kernel.snapshot(modules)
                    replay = kernel.execute(old.code, max(min(limits.cell_timeout, left), 1))
                    if replay.status in ("timeout", "died"):
                        result.events.append("a replayed cell failed; the rest was not run")
                        return
    finally:
        kernel.kill()
        if getattr(kernel, "outbox", None) is not None:
            kernel.outbox.close()
        for thread in getattr(kernel, "_audit_threads", []):
            thread.join(timeout=5)
        outside = getattr(kernel, "outside_reads", [])
        if outside:
            shown = "; ".join(outside[:8]) + (
                f"; and {len(outside) - 8} more" if len(outside) > 8 else ""
            )
            result.flags.append(
                f"reads or lists files outside its work folder, or starts programs: {shown}"
            )
        result.score = round(sum(t.points for t in result.tests), 6)
        result.max_score = round(sum(t.max_points for t in result.tests), 6)
        result.tests = [t.__dict__ for t in result.tests]
        result.cell_seconds = round(result.cell_seconds, 3)
        result.integrity_seconds = round(result.integrity_seconds, 3)
        result.check_seconds = round(result.check_seconds, 3)


# --------------------------------------------------------------------- grading
def _safe_id(rel: str) -> str:
    """A file name for one submission's results; names that had to be changed get a
    short digest, so two submissions never share a results or feedback file."""
    base = rel.removesuffix(".ipynb")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "__", base)
    if safe != base or "__" in base:
        safe += "-" + digest(rel.encode())[:8]
    return safe


def kernel_env(
    workdir: Path, io_folder: Path, level: str, view: trusted.View | None, small: bool | None = None
) -> dict:
    """The kernel's environment: no secrets, the mode (the grader's own unless ``small``
    says), the checks folder and, in the allow-list sandbox, the data view instead of
    the grader's own data paths."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not re.search(r"TOKEN|SECRET|PASSWORD|KEY|CREDENTIAL", k, re.I)
    }
    env["COURSE_SMALL"] = (
        os.environ.get("COURSE_SMALL", "0") if small is None else "1" if small else "0"
    )
    env[ck.ENV] = str(io_folder)
    env["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader's autograder sets it
    for var in ("PWD", "OLDPWD", "VIRTUAL_ENV", "PS1", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR"):
        env.pop(var, None)  # the grader's own folders are none of the kernel's business
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    )
    if level == sb.STRONG:
        for var in ("COURSE_DATA", "COURSE_DATA_VERIFIED", *trusted.LIBRARY_VARS):
            env.pop(var, None)
        env["COURSE_CACHE"] = str(workdir / ".cache")
        env["COURSE_OFFLINE"] = "1"
        env.update(view.env if view is not None else {})
    return env


@dataclass
class Homework:
    """A source notebook with everything the grader trusts about it."""

    path: Path
    nb: object
    cells: list
    key: dict  # grade_id -> {check name: {"value", "atol", "rtol"}}
    ladders: dict
    module: object = None
    modules: tuple = ()  # what the instructor's cells import: watched by the integrity restore
    files: list = field(default_factory=list)  # the assignment's data files: (path, name)

    @classmethod
    def load(cls, source_path: Path, need_key: bool = True) -> Homework:
        source_path = Path(source_path)
        nb, cells = read_source(source_path)
        module = trusted.instructor_module(source_path)
        ladder_map = trusted.ladders(module)
        tests = {c.grade_id for c in cells if c.kind == "test"}
        unknown = sorted(set(ladder_map) - tests)
        if unknown:
            raise FormatError(
                f"{source_path.parent / trusted.INSTRUCTOR_MODULE}: LADDERS names "
                f"{unknown}, which are not test cells of {source_path.name}"
            )
        key = load_key(source_path, cells) if need_key else {}
        modules = imported_modules(
            c.source for c in cells if c.kind not in ANSWER_KINDS and c.cell_type == "code"
        )
        files = assignment.data_files(source_path.parent)
        return cls(source_path, nb, cells, key, ladder_map, module, modules, files)

    @property
    def notebook(self) -> str:
        """The student notebook's file name (what submissions are called)."""
        return student_path(self.path).name


def trusted_digest(source_path: Path) -> str:
    """One digest of what the grader trusts besides the source: key and grading.py."""
    parts = [key_path(source_path), Path(source_path).parent / trusted.INSTRUCTOR_MODULE]
    return digest(b"".join(p.read_bytes() if p.is_file() else b"-" for p in parts))


def trust_table(source_path: Path) -> dict:
    """Points by how they are judged: ``trusted`` (checks against the key, or a
    ladder computed by the grader) and ``asserts`` (the kernel's reply status only)."""
    hw = Homework.load(source_path)
    out = {"trusted": 0.0, "asserts": 0.0, "cells": {}}
    for c in hw.cells:
        if c.kind != "test":
            continue
        how = (
            "ladder"
            if c.grade_id in hw.ladders
            else "checks"
            if hw.key.get(c.grade_id)
            else "asserts"
        )
        out["cells"][c.grade_id] = how
        out["asserts" if how == "asserts" else "trusted"] += c.points
    return out


def imported_modules(sources) -> tuple:
    import ast

    found = set()
    for source in sources:
        try:
            with _AST_LOCK:  # CPython 3.11's ast.parse is not safe in parallel threads
                tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    # sys changes under the kernel's own hands (stdout, displayhook): its modules and
    # import hooks are watched apart
    return tuple(sorted(m for m in found if m.split(".")[0] not in ("sys", "IPython", "ipykernel")))


def key_path(source_path: Path) -> Path:
    return Path(source_path).with_name(homework_name(source_path) + ck.KEY_SUFFIX)


def uses_checks(cells: list[Cell]) -> bool:
    return any(c.kind == "test" and "submit(" in split_test(c.source)[1] for c in cells)


def load_key(source_path: Path, cells: list[Cell] | None = None) -> dict:
    """The answer key of a source (``cells``: its parsed cells, when already read); a
    clear error when it is missing or stale."""
    source_path = Path(source_path)
    path = key_path(source_path)
    if cells is None:
        _, cells = read_source(source_path)
    if not uses_checks(cells):
        return {}
    data = read_trusted_json(
        path,
        "answer key",
        f"{source_path}: its hidden tests send values (submit) but the "
        f"answer key {path.name} is missing: run `course release "
        f"{source_path}`",
    )
    if data.get("format") != ck.KEY_FORMAT:
        raise FormatError(
            f"{path}: answer key format {data.get('format')!r}, expected "
            f"{ck.KEY_FORMAT}: run `course release {source_path}`"
        )
    if data.get("source_sha256") != digest(source_path):
        raise FormatError(
            f"{path} is stale: it was made from another version of "
            f"{source_path.name}; run `course release {source_path}`"
        )
    return data["tests"]


def manual_items(source_cells: list[Cell], match: Match) -> list[dict]:
    """What a person grades in this submission (:mod:`course_utils.tools.grading.manual`):
    the student's answer beside the rubric (the source cell) and the points."""
    items = []
    for c in source_cells:
        if c.kind not in ("manual", "task"):
            continue
        if c.kind == "task":
            answer = match.task_work.get(c.grade_id, "")
            cell_type = "markdown"
        else:
            answer = match.answers.get(c.grade_id, "")
            cell_type = c.cell_type
        items.append(
            {
                "id": c.grade_id,
                "kind": c.kind,
                "cell_type": cell_type,
                "answer": answer,
                "answer_sha256": digest(answer.encode()),
                "rubric": c.source,
                "max_points": c.points,
            }
        )
    return items


def grade_one(
    hw: Homework,
    sub_path: Path,
    sub_rel: str,
    limits: sb.Limits,
    level: str,
    hide: list[str],
    view: trusted.View | None = None,
    record: dict | None = None,
    small: bool | None = None,
) -> Result:
    source_path = hw.path
    source_cells = hw.cells
    name = homework_name(source_path)
    result = Result(name, sub_rel, "", digest(source_path), "graded", sandbox=level)
    start = time.monotonic()
    max_score = sum(c.points for c in source_cells if c.kind in GRADED_KINDS)
    try:
        raw, nb = read_submission(sub_path)
        result.submission_sha256 = digest(raw)
    except (FormatError, OSError) as exc:
        result.status, result.reason = "rejected", str(exc)
        try:
            result.submission_sha256 = digest(sub_path)
        except OSError:
            pass
        result.max_score = max_score
        return result
    match = match_cells(nb, source_cells)
    answers, how = match.answers, match.how
    result.answers = how
    result.changes = match.changes
    claimed = (nb.metadata.get("course") or {}).get("homework")
    if how and not answers:
        result.status = "rejected"
        result.reason = (
            f"this is not a submission for {name!r}: none of its answer cells "
            f"({', '.join(sorted(how))}) was found"
            + (f"; the notebook says it is {claimed!r}" if claimed and claimed != name else "")
        )
        result.max_score = max_score
        return result
    result.manual = manual_items(source_cells, match)
    code_ids = {c.grade_id for c in source_cells if c.cell_type == "code"}
    with _AST_LOCK:  # CPython 3.11's ast.parse is not safe in parallel threads
        for gid, code in answers.items():
            if gid not in code_ids:
                continue  # a written (markdown) answer is never run
            for why in scan(code):
                result.flags.append(f"answer {gid}: {why}")
        for cells in match.added.values():
            for n, code in cells:
                for why in scan(code):
                    result.flags.append(f"answer added cell {n + 1}: {why}")
    plan = build_plan(source_cells, answers, hw.key, hw.ladders, match.added)
    workdir = Path(tempfile.mkdtemp(prefix="course-grade-"))
    io_folder = workdir / ".course_checks"  # made by the kernel before each start
    env = kernel_env(workdir, io_folder, level, view, small)
    binds = view.binds if (view is not None and level == sb.STRONG) else []

    def make_kernel():
        return Kernel(workdir, level, limits, hide=hide, env=env, binds=binds, files=hw.files)

    try:
        execute_plan(
            plan,
            make_kernel,
            limits,
            result,
            io_folder,
            record=record,
            small=env["COURSE_SMALL"] == "1",
            modules=hw.modules,
            distrust_asserts=any(_severe(f) for f in result.flags),
        )
    except RuntimeError as exc:  # the kernel could not start
        result.status, result.reason = "error", f"grader error: {exc}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.seconds = round(time.monotonic() - start, 2)
    return result


def make_key(source_path: Path, limits: sb.Limits | None = None, allow_weak: bool = False) -> dict:
    """Run the reference solution in the sandbox and record what each hidden test
    sends: the answer key (written by ``course release``)."""
    source_path = Path(source_path)
    hw = Homework.load(source_path, need_key=False)
    level = _level(allow_weak)
    record: dict = {}
    # the key is made in small mode: a trusted check must not depend on the mode (ladders,
    # which do, are judged by grading.py with thresholds per mode)
    with tempfile.TemporaryDirectory(prefix="course-key-") as tmp:
        view = trusted.build_view(hw.module, Path(tmp))
        result = grade_one(
            hw,
            source_path,
            source_path.name,
            limits or sb.Limits(),
            level,
            [],
            view,
            record=record,
            small=True,
        )
    problems = [
        f"{t['id']}: {t['status']} {t['message']}".strip()
        for t in result.tests
        if t["status"] not in ("passed", "manual")
    ]
    if (
        result.status != "graded"
        or problems
        or result.events
        and any("raised" in e or "timed out" in e for e in result.events)
    ):
        raise FormatError(
            f"{source_path}: the reference solution does not pass its own tests, "
            "so no answer key was written:\n  "
            + "\n  ".join(problems + result.events + [result.reason])
        )
    tests = {}
    for gid, received in record.items():
        seen = {}
        for item in received:
            if item.error:
                raise FormatError(f"{source_path}: test {gid}: check {item.name!r}: {item.error}")
            if item.name in seen:
                raise FormatError(f"{source_path}: test {gid}: check {item.name!r} is sent twice")
            seen[item.name] = {
                "value": ck.key_to_json(item.value),
                "atol": item.atol,
                "rtol": item.rtol,
            }
        if seen:
            tests[gid] = seen
    return {
        "format": ck.KEY_FORMAT,
        "homework": homework_name(source_path),
        "source_sha256": digest(source_path),
        "mode": "small",
        "tests": tests,
    }


def write_key(source_path: Path, **kwargs) -> tuple[Path, bool]:
    """Write the answer key when the source uses trusted checks and the key is
    missing or stale; return (path, whether it changed)."""
    source_path = Path(source_path)
    path = key_path(source_path)
    _, cells = read_source(source_path)
    if not uses_checks(cells):
        return path, False
    try:
        load_key(source_path, cells)
        return path, False  # current
    except FormatError:
        pass
    key = make_key(source_path, **kwargs)
    text = key_text(key)
    atomic_write(path, text)
    return path, True


def key_text(key: dict) -> str:
    """The key as JSON, one line per value: lists of numbers stay on one line."""
    text = json.dumps(key, indent=1, sort_keys=True)
    flat = re.compile(
        r"\[\s*((?:-?[\d.eE+-]+|true|false|null)(?:,\s*(?:-?[\d.eE+-]+|true|false|null))*)\s*\]"
    )
    return (
        flat.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
        + "\n"
    )


def _level(allow_weak: bool) -> str:
    level = sb.probe()
    if level in sb.WEAK and not allow_weak:
        what = (
            "only the unshare deny-list sandbox is available (install bubblewrap, "
            "Debian's `bubblewrap` package, for the allow-list sandbox): files outside "
            "the hidden folders, held-out data included, stay readable"
            if level == "namespaces"
            else "no sandbox with namespaces is available here (`unshare` failed): "
            "submissions could use the network and read the hidden tests"
        )
        raise RuntimeError(f"{what}. Pass --allow-weak-sandbox to grade anyway.")
    return level


def _host_prefixes() -> list[tuple[str, str]]:
    import course_utils

    pairs = [
        (str(Path(course_utils.__file__).resolve().parent.parent), "<course>"),
        (os.path.realpath(sys.prefix), "<python>"),
        (os.path.realpath(sys.base_prefix), "<python>"),
        (str(Path.home()), "<home>"),
        (os.path.realpath(tempfile.gettempdir()), "<tmp>"),
        (os.getcwd(), "<cwd>"),
    ]
    return sorted({p: r for p, r in pairs if len(p) > 1}.items(), key=lambda pr: -len(pr[0]))


def redact(text: str) -> str:
    """Feedback never shows the grading machine's own folders."""
    for prefix, placeholder in _host_prefixes():
        text = text.replace(prefix, placeholder)
    return text


def feedback_markdown(result: Result) -> str:
    return redact(_feedback_markdown(result))


def _feedback_markdown(result: Result) -> str:
    title = result.homework + (f" ({result.assignment})" if result.assignment else "")
    lines = [f"# Feedback: {title}", "", f"Submission: `{result.submission}`", ""]
    if result.status != "graded":
        lines += [
            f"**Not graded** ({result.status}): {result.reason}",
            "",
            f"Score: 0 / {result.max_score:g}",
        ]
        return "\n".join(lines) + "\n"
    lines += [
        f"**Score: {result.score:g} / {result.max_score:g}**",
        "",
        "| test | points | status | details |",
        "|---|---|---|---|",
    ]
    for t in result.tests:
        msg = HIDDEN_MESSAGE if t["hidden"] and t["status"] != "passed" else t["message"]
        msg = msg.replace("|", "\\|").replace("\n", " ")
        if len(msg) > 200:
            msg = msg[:200] + " ..."
        lines.append(
            f"| {t['id']} | {t['points']:g} / {t['max_points']:g} | {t['status']} | {msg} |"
        )
    comments = [(t["id"], t["comment"]) for t in result.tests if t.get("comment")]
    if comments:
        lines += ["", "Comments from your grader:", ""]
        for gid, comment in comments:
            lines += [f"**{gid}**", "", comment.strip(), ""]
    missing = [g for g, h in result.answers.items() if not h.startswith("submitted")]
    if missing:
        lines += [
            "",
            "Answer cells not found in your notebook (their stubs were used): "
            + ", ".join(sorted(missing)),
        ]
    if result.changes:
        lines += ["", "What you changed in the notebook, and what the grader did with it:", ""]
        lines += [f"- {c}" for c in result.changes]
    if result.events:
        lines += ["", "What happened while running your notebook:", ""]
        lines += [f"- {e}" for e in result.events]
    return "\n".join(lines) + "\n"


def apply_manual(result: Result, stem: str, grades: dict) -> Result:
    """The result with the points and comments a person gave (``grades``: the manual
    store, :func:`course_utils.tools.grading.manual.load`). A grade given to an answer that
    has changed since (another submission) does not count."""
    current = {m["id"]: m for m in result.manual}
    tests = []
    for t in result.tests:
        t = dict(t)
        item, given = current.get(t["id"]), grades.get(f"{stem}/{t['id']}")
        if (
            t["status"] == "manual"
            and item is not None
            and given is not None
            and given.get("answer_sha256") == item["answer_sha256"]
        ):
            t["points"] = float(given["points"])
            t["status"] = "graded by hand"
            t["comment"] = given.get("comment", "")
            t["message"] = "graded by hand" + (": see the comments" if t["comment"] else "")
        tests.append(t)
    out = Result(**{**result.__dict__, "tests": tests})
    out.score = round(sum(t["points"] for t in tests), 6)
    return out


def read_results(out_dir: Path) -> dict[str, Result]:
    """Every result in a grades folder, by file stem."""
    found = {}
    for path in sorted((Path(out_dir) / "results").glob("*.json")):
        try:
            found[path.stem] = Result(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise FormatError(f"{path}: not a result written by this grader ({exc})") from None
    return found


def write_reports(out_dir: Path) -> list[Result]:
    """Rewrite ``gradebook.csv`` (a row per submitted notebook), ``totals.csv`` (a row
    per student) and ``feedback/`` from the results and the manual grades; return the
    results with the manual points added."""
    from course_utils.tools.grading import manual

    out_dir = Path(out_dir)
    grades = manual.load(out_dir)
    results = {stem: apply_manual(r, stem, grades) for stem, r in read_results(out_dir).items()}
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    for stem, r in results.items():
        atomic_write(out_dir / "feedback" / f"{stem}.md", feedback_markdown(r))
    write_gradebook(list(results.values()), out_dir / "gradebook.csv")
    write_totals(list(results.values()), out_dir / "totals.csv")
    return list(results.values())


def _column(r: Result, test_id: str, several: bool) -> str:
    return f"{r.notebook}:{test_id}" if several and r.notebook else test_id


def write_gradebook(results: list[Result], path: Path) -> None:
    several = len({r.notebook for r in results}) > 1
    columns = []
    for r in results:
        for t in r.tests:
            name = _column(r, t["id"], several)
            if name not in columns:
                columns.append(name)
    fh = io.StringIO(newline="")
    writer = csv.writer(fh)
    writer.writerow(
        [
            "submission",
            "score",
            "max_score",
            "status",
            "reason",
            *columns,
            "manual_pending",
            "student",
            "assignment",
            "notebook",
            "changes",
            "flags",
            "submission_sha256",
        ]
    )
    for r in sorted(results, key=lambda r: (r.student, r.notebook, r.submission)):
        points = {_column(r, t["id"], several): t["points"] for t in r.tests}
        pending = sum(1 for t in r.tests if t["status"] == "manual")
        writer.writerow(
            [
                r.submission,
                f"{r.score:g}",
                f"{r.max_score:g}",
                r.status,
                r.reason,
                *[f"{points[i]:g}" if i in points else "" for i in columns],
                pending,
                r.student,
                r.assignment,
                r.notebook,
                len(r.changes),
                "; ".join(r.flags),
                r.submission_sha256,
            ]
        )
    atomic_write(path, fh.getvalue())


def write_totals(results: list[Result], path: Path) -> None:
    """One row per student: the sum over the assignment's notebooks (a notebook not
    submitted counts 0 of its points)."""
    notebooks = {}  # (assignment, notebook) -> max score
    info = path.with_name("assignment.json")
    if info.exists():
        data = json.loads(info.read_text())
        notebooks = {(data["assignment"], nb): m for nb, m in data["notebooks"].items()}
    for r in results:
        if r.notebook and (r.assignment, r.notebook) not in notebooks:
            notebooks[(r.assignment, r.notebook)] = r.max_score  # graded in an earlier run
    students: dict = {}
    for r in results:
        students.setdefault((r.student, r.assignment), []).append(r)
    fh = io.StringIO(newline="")
    writer = csv.writer(fh)
    writer.writerow(
        ["student", "assignment", "score", "max_score", "notebooks", "missing", "manual_pending"]
    )
    for (student, assignment_name), rs in sorted(students.items()):
        wanted = {nb: m for (a, nb), m in notebooks.items() if a == assignment_name}
        best = {}
        for r in rs:
            name = r.notebook  # a file that is no notebook of the assignment counts nothing
            if name not in wanted:
                continue
            if name not in best or r.score > best[name].score:
                best[name] = r
        score = sum(r.score for r in best.values())
        missing = sorted(set(wanted) - set(best))
        pending = sum(1 for r in best.values() for t in r.tests if t["status"] == "manual")
        writer.writerow(
            [
                student,
                assignment_name,
                f"{score:g}",
                f"{sum(wanted.values()):g}",
                len(best),
                " ".join(missing),
                pending,
            ]
        )
    atomic_write(path, fh.getvalue())


def collect_submissions(paths: list[Path]) -> list[tuple[Path, str]]:
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (
                    f.is_file()
                    and f.suffix in (".ipynb", ".json", "")
                    and ".ipynb_checkpoints" not in f.parts
                ):
                    found.append((f, str(f.relative_to(p))))
        elif p.exists():
            found.append((p, p.name))
        else:
            raise FileNotFoundError(f"no such submission file or folder: {p}")
    return found


def _hide_list(source_path: Path, submissions: list[Path], out_dir: Path) -> list[str]:
    import course_utils

    source_dir = source_path.resolve().parent
    hide = {source_dir.parent if source_dir.parent.name == "homeworks" else source_dir}
    git = next(
        (d / ".git" for d in (source_dir, *source_dir.parents) if (d / ".git").exists()), None
    )
    if git is not None:
        hide.add(git)
    hide.add(out_dir.resolve())
    hide.update(p.resolve().parent for p in submissions)
    keep = [
        Path(course_utils.__file__).resolve().parent,
        Path(os.sys.prefix).resolve(),
        Path(tempfile.gettempdir()).resolve(),
    ]
    safe = []
    for h in sorted(hide):
        if any(k == h or h in k.parents for k in keep):
            continue  # hiding it would hide the Python environment or the work folders
        safe.append(str(h))
    return safe


def grade(
    source_path: Path,
    submissions: list[Path],
    out_dir: Path,
    jobs: int = 1,
    limits: sb.Limits | None = None,
    force: bool = False,
    allow_weak: bool = False,
    progress: bool = True,
) -> list[Result]:
    """Grade submissions (files or folders) of one source notebook, or of an assignment
    folder (every notebook in it; submissions are matched by file name, in nbgrader's
    ``submitted/<student>/<assignment>/`` layout or any other); write results,
    feedback, ``gradebook.csv`` and ``totals.csv`` (manual grades included)."""
    from tqdm.auto import tqdm

    from course_utils.tools.grading.kernel import serialize_ast

    serialize_ast()  # --jobs runs submissions in threads (see kernel.AST_LOCK)

    limits = limits or sb.Limits()
    source_path = Path(source_path)
    folder_mode = source_path.is_dir()
    sources = assignment.source_notebooks(source_path) if folder_mode else [source_path]
    assignment_name = source_path.name if folder_mode else ""
    homeworks = [Homework.load(p) for p in sources]
    by_name = {hw.notebook: hw for hw in homeworks}
    level = _level(allow_weak)
    out_dir = Path(out_dir)
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    items = collect_submissions(submissions)
    hide = _hide_list(sources[0], [p for p, _ in items], out_dir) if level != sb.STRONG else []
    lock = threading.Lock()
    view_dir = Path(tempfile.mkdtemp(prefix="course-view-"))
    views = {
        hw.path: trusted.build_view(hw.module, view_dir / str(n)) for n, hw in enumerate(homeworks)
    }
    digests = {hw.path: (digest(hw.path), trusted_digest(hw.path)) for hw in homeworks}
    atomic_write(
        out_dir / "assignment.json",
        json.dumps(
            {
                "assignment": assignment_name,
                "notebooks": {
                    hw.notebook: sum(c.points for c in hw.cells if c.kind in GRADED_KINDS)
                    for hw in homeworks
                },
            },
            indent=1,
        )
        + "\n",
    )

    def work(item) -> Result:
        path, rel = item
        student, assigned = assignment.split_submission(rel)
        hw = homeworks[0] if not folder_mode else by_name.get(Path(rel).name)
        if folder_mode and (hw is None or (assigned and assigned != assignment_name)):
            expected = ", ".join(sorted(by_name))
            why = (
                f"not a notebook of assignment {assignment_name!r} (expected one of: {expected})"
                if hw is None
                else f"submitted for assignment {assigned!r}, not {assignment_name!r}"
            )
            result = Result(
                Path(rel).stem,
                rel,
                digest(path),
                "",
                "rejected",
                reason=why,
                student=student,
                assignment=assigned or assignment_name,
            )
            with lock:
                atomic_write(
                    out_dir / "results" / f"{_safe_id(rel)}.json",
                    json.dumps(result.__dict__, indent=1, sort_keys=True),
                )
            return result
        source_sha, trusted_sha = digests[hw.path]
        key = _safe_id(rel)
        result_file = out_dir / "results" / f"{key}.json"
        if not force and result_file.exists():
            try:
                old = json.loads(result_file.read_text())
                if (
                    old.get("submission_sha256") == digest(path)
                    and old.get("source_sha256") == source_sha
                    and old.get("trusted_sha256") == trusted_sha
                    and old.get("grader_version") == GRADER_VERSION
                ):
                    return Result(**old)
            except (OSError, ValueError, TypeError):
                pass
        try:
            result = grade_one(hw, path, rel, limits, level, hide, views[hw.path])
        except Exception as exc:  # one bad submission never stops the batch
            result = Result(
                homework_name(hw.path),
                rel,
                "",
                source_sha,
                "error",
                reason=f"grader error: {type(exc).__name__}: {exc}",
            )
        result.trusted_sha256 = trusted_sha
        result.student, result.assignment = student, assigned or assignment_name
        result.notebook = hw.notebook
        with lock:
            atomic_write(result_file, json.dumps(result.__dict__, indent=1, sort_keys=True))
        return result

    try:
        with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
            results = list(
                tqdm(
                    pool.map(work, items),
                    total=len(items),
                    desc="grading",
                    unit="nb",
                    disable=not progress,
                )
            )
    finally:
        shutil.rmtree(view_dir, ignore_errors=True)
    applied = {(r.submission, r.notebook): r for r in write_reports(out_dir)}
    return [applied.get((r.submission, r.notebook), r) for r in results]


def self_check_changes(nb) -> tuple[object, list[str]]:
    """What a student changed in a released notebook, told before they submit (the
    grader finds the same with the source, :func:`match_cells`): the notebook to run
    (later copies of a duplicated graded cell dropped, as the grader ignores them) and
    the changes in words."""
    import copy

    released = (nb.metadata.get("course") or {}).get("role") == "student"
    expected = (nb.metadata.get("course") or {}).get("grade_ids") or []
    out = copy.deepcopy(nb)
    keep, changes, seen = [], [], set()
    last = "the start"
    for n, cell in enumerate(out.cells):
        label = f"cell {n + 1}"
        meta = grading_meta(cell)
        gid = meta.get("grade_id")
        stored = (cell.get("metadata", {}).get("course") or {}).get("checksum")
        text = _text(cell)
        if gid:
            if gid in seen:
                changes.append(
                    f"{label}: a second copy of {gid!r}: the first copy counts, this one is not run"
                )
                continue
            seen.add(gid)
            locked = (
                meta.get("grade")
                and not meta.get("solution")
                or meta.get("task")
                or (meta.get("locked") and not meta.get("solution"))
            )
            if locked and stored and stored != cell_checksum(cell.cell_type, text):
                changes.append(
                    f"{label}: {gid!r} was changed: the grader runs the original "
                    "(here your version runs)"
                )
            last = repr(gid)
        elif released and stored is None:
            if cell.cell_type == "code" and text.strip():
                changes.append(
                    f"{label}: a code cell you added (after {last}): the grader "
                    "runs it in place, as your code"
                )
        elif released and stored != cell_checksum(cell.cell_type, text):
            changes.append(
                f"{label}: an instructor cell was changed: the grader runs the "
                "original (here your version runs)"
            )
        keep.append(cell)
    for gid in expected:
        if gid not in seen:
            changes.append(
                f"{gid!r} is missing (deleted, or its metadata changed): the "
                "grader uses the original, or the empty stub of an answer"
            )
    out.cells = keep
    return out, changes


def check(notebook: Path, cell_timeout: float = 300.0) -> Result:
    """A student's self-check: run the notebook with its public tests, no sandbox."""
    notebook = Path(notebook)
    raw, nb = read_submission(notebook)
    nb, changes = self_check_changes(nb)
    if is_seminar(nb, notebook):
        # a seminar's checks cannot depend on the cells after the last one (the training
        # runs and plots that use the student's code): they are not run here
        last = max(
            (i for i, c in enumerate(nb.cells) if grading_meta(c).get("grade")), default=None
        )
        if last is not None:
            nb.cells = nb.cells[: last + 1]
    cells = parse(nb)
    answers, how = student_answers(nb, cells)
    name = (nb.metadata.get("course") or {}).get("homework", notebook.stem)
    result = Result(
        name, notebook.name, digest(raw), "", "graded", answers=how, sandbox="none", changes=changes
    )
    ladder_ids = {
        c.grade_id
        for c in cells
        if c.kind == "test" and (c.grade_id in (nb.metadata.get("course") or {}).get("ladders", []))
    }
    plan = build_plan(cells, answers, ladders={g: _SELF_CHECK_LADDER for g in ladder_ids})
    limits = sb.Limits(cell_timeout=cell_timeout, notebook_timeout=cell_timeout * len(plan))
    workdir = notebook.resolve().parent

    def make_kernel():
        return _CheckKernel(
            workdir, None, limits, env=dict(os.environ, NBGRADER_EXECUTION="validate")
        )

    start = time.monotonic()
    execute_plan(plan, make_kernel, limits, result, self_check=True)
    result.seconds = round(time.monotonic() - start, 2)
    return result


# a stand-in: in a self-check, cells judged by the grader are reported, not run
_SELF_CHECK_LADDER = trusted.Ladder(evaluate=lambda session: 0.0, small=(), full=())


class _CheckKernel(Kernel):
    """A self-check kernel runs in the notebook's own folder; nothing to clean up."""

    def start(self) -> None:
        real = self.workdir
        self.workdir = Path(tempfile.mkdtemp(prefix="course-check-"))
        try:
            super().start()
        finally:
            self.workdir = real
        self.execute(f"import os; os.chdir({str(real)!r})", timeout=30, silent=True)
