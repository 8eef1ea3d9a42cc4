"""The benchmark runner's parameter injection (tests/benchmarks/lessons.py), without a kernel."""

from __future__ import annotations

import nbformat
import pytest

from tests.benchmarks.lessons import LessonError, inject, parameters_cell
from tests.conftest import ROOT


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    return nb


def test_parameters_follow_the_tagged_cell_and_the_dump_comes_last(tmp_path):
    nb = _nb("SMALL = True", "N = 3 if SMALL else 30", "total = N * 2")
    nb.cells[1].metadata["tags"] = ["parameters"]
    out = inject(nb, {"N": 300, "NAME": "a'b"}, ["total"], tmp_path / "v.json")
    assert [c.source for c in out.cells[:2]] == [nb.cells[0].source, nb.cells[1].source]
    injected = out.cells[2]
    assert injected.metadata["tags"] == ["injected-parameters"]
    namespace: dict = {}
    for cell in out.cells:
        exec(cell.source, namespace)
    assert namespace["total"] == 600 and namespace["NAME"] == "a'b"
    assert (tmp_path / "v.json").read_text() == '{"total": 600}'
    assert len(nb.cells) == 3  # the lesson itself is not changed


@pytest.mark.parametrize("tagged", [[], [0, 1]])
def test_a_lesson_needs_exactly_one_parameters_cell(tagged):
    nb = _nb("A = 1", "B = 2")
    for i in tagged:
        nb.cells[i].metadata["tags"] = ["parameters"]
    with pytest.raises(
        LessonError, match=f"one code cell tagged 'parameters', found {len(tagged)}"
    ):
        parameters_cell(nb)


@pytest.mark.parametrize(
    "lesson", ["rl/01_gym_and_cem", "rl/02_qlearning", "rl/03_approx_qlearning"]
)
def test_benchmarked_lessons_have_their_parameters_cell(lesson):
    nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.source.ipynb", as_version=4)
    assert "SEED = 0" in nb.cells[parameters_cell(nb)].source
