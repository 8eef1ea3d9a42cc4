"""A homework must ask for more than its lessons solve (issue 16).

The attack of a student who copies the seminars: every function and class the lesson
sources define (their solutions included, as a student who finished the seminars has
them) is pasted **by name** into the answer cells of each homework's student notebook.
An answer cell whose reference solution defines a name a lesson also defines gets that
lesson's definitions (with everything of the lesson they use, and the lesson's imports);
the other answer cells keep their stubs. The grader then grades the result: it must earn
at most 10 % of the homework's points.

``python -m tests.test_homework_paste`` prints what is pasted where and, with
``--grade``, the scores (the figures of the issue's note).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from course_utils.tools.grading import Limits, grade, sandbox
from course_utils.tools.grading.notebook_format import student_path
from tests.conftest import OFFLINE_PASS, ROOT

SOURCES = sorted((ROOT / "homeworks").glob("*/*.source.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("*/*.source.ipynb"))
MAX_SHARE = 0.10
LIMITS = Limits(cell_timeout=300, notebook_timeout=900)


def _code(cell) -> str:
    """A code cell as Python: IPython magics and shell lines dropped."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()
    )


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


@dataclass
class Lesson:
    path: Path
    defs: dict[str, str] = field(default_factory=dict)  # name -> source of its definition
    uses: dict[str, set[str]] = field(default_factory=dict)  # name -> names it mentions
    imports: list[str] = field(default_factory=list)

    def closure(self, names: set[str]) -> list[str]:
        """``names`` and every lesson definition they use, in the lesson's order."""
        todo, seen = list(names), set()
        while todo:
            n = todo.pop()
            if n in seen or n not in self.defs:
                continue
            seen.add(n)
            todo.extend(self.uses[n])
        return [n for n in self.defs if n in seen]

    def paste(self, names: set[str]) -> str:
        body = [self.defs[n] for n in self.closure(names)]
        return "\n".join(self.imports) + "\n\n" + "\n\n\n".join(body) + "\n"


def read_lesson(path: Path) -> Lesson:
    lesson = Lesson(path)
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        text = _code(cell)
        tree = _parse(text)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                line = ast.get_source_segment(text, node)
                if line not in lesson.imports:
                    lesson.imports.append(line)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                lesson.defs[node.name] = ast.get_source_segment(text, node, padded=True)
                lesson.uses[node.name] = {
                    n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                } - {node.name}
    return lesson


def defined_names(code: str) -> set[str]:
    tree = _parse(code)
    if tree is None:
        return set()
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def pasted_submission(source: Path, lessons: list[Lesson]) -> tuple[nbformat.NotebookNode, dict]:
    """The student notebook with lesson definitions pasted into the answer cells whose
    reference defines the same names; returns it and ``{grade_id: (lesson, names)}``."""
    reference = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(source, as_version=4).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(student_path(source), as_version=4)
    pasted = {}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or gid not in reference:
            continue
        wanted = defined_names(reference[gid])
        # the lesson that holds the most of them (a student pastes from one place)
        best = max(lessons, key=lambda les: len(wanted & set(les.defs)))
        names = wanted & set(best.defs)
        if names:
            cell.source = best.paste(names)
            pasted[gid] = (best.path.relative_to(ROOT).as_posix(), sorted(names))
    return nb, pasted


def grade_pasted(source: Path, nb: nbformat.NotebookNode, work: Path):
    """Grade the pasted notebook, submitted under the student notebook's name, in small mode
    or full mode as the environment says; return its result."""
    sub = work / "paste" / student_path(source).name
    sub.parent.mkdir()
    nbformat.write(nb, sub)
    [r] = grade(source, [sub], work / "grades", limits=LIMITS, progress=False)
    return r


@pytest.fixture(scope="module")
def lessons() -> list[Lesson]:
    return [read_lesson(p) for p in LESSONS]


def test_lesson_definitions_are_found(lessons):
    """The attack is real: it finds the lessons' functions, e.g. nlp/04's beam search
    and rl/04's replay buffer."""
    everything = {n for les in lessons for n in les.defs}
    assert len(everything) > 100, len(everything)
    by_lesson = {les.path.stem.split(".")[0]: les for les in lessons}
    assert "ReplayBuffer" in by_lesson["04_dqn_atari"].defs
    # a pasted definition comes with what it uses from its lesson
    les = by_lesson["04_dqn_atari"]
    user = next(n for n in les.defs if les.uses[n] & set(les.defs))
    assert len(les.closure({user})) > 1


@pytest.mark.skipif(OFFLINE_PASS, reason="the same in the offline pass: run once, in make test")
@pytest.mark.skipif(sandbox.probe() != "bwrap", reason="bubblewrap is not available here")
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_pasting_the_lessons_earns_at_most_a_tenth(source, lessons, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    nb, pasted = pasted_submission(source, lessons)
    if not pasted:
        # nothing of the lessons fits: the submission is the untouched student notebook,
        # which scores 0 (tests/test_homeworks.py grades it)
        return
    r = grade_pasted(source, nb, tmp_path)
    assert r.status == "graded", (r.reason, r.events)
    assert r.score <= MAX_SHARE * r.max_score, (
        f"{source.parent.name}: pasting the lessons' code earns {r.score:g} of "
        f"{r.max_score:g} points (at most {MAX_SHARE:.0%} allowed); pasted: {pasted}; "
        f"tests: {[(t['id'], t['points']) for t in r.tests if t['points']]}"
    )


def main(argv: list[str]) -> None:
    import tempfile

    lessons = [read_lesson(p) for p in LESSONS]
    print("| homework | answer cells with lesson code | score of the paste |")
    print("|---|---|---|")
    for source in SOURCES:
        nb, pasted = pasted_submission(source, lessons)
        what = "; ".join(f"`{g}` ← {les} ({', '.join(n)})" for g, (les, n) in pasted.items())
        score = "-"
        if "--grade" in argv:
            if pasted:
                with tempfile.TemporaryDirectory() as tmp:
                    r = grade_pasted(source, nb, Path(tmp))
                    score = f"{r.score:g} / {r.max_score:g}"
            else:
                score = "0 (nothing to paste: the untouched notebook)"
        print(f"| {source.parent.name} | {what or 'none'} | {score} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
