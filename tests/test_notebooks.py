"""Every lesson notebook follows the conventions (COURSE_GUIDE.md section 6)."""

from __future__ import annotations

import re

import nbformat
import pytest

from course_utils import nbtools
from course_utils.notebook import setup_cell_source
from tests.conftest import ROOT

NOTEBOOKS = nbtools.course_notebooks(ROOT)
ALL_NOTEBOOKS = nbtools.find_notebooks(ROOT)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_conventions(path):
    assert nbtools.problems(path) == []
    rel = path.relative_to(ROOT)
    assert re.fullmatch(r"notebooks/(nlp|rl|vision)/\d\d_[a-z0-9_]+\.ipynb", str(rel)), rel
    header = nbformat.read(path, as_version=4).cells[0].source
    assert str(rel) in header, "the Colab badge must point at this notebook"
    for word in ("small", "full"):
        assert word in header.lower(), f"the header must state the runtime in {word} mode"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_saved_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells, 1)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path}: cells {dirty} have outputs; run `course nb strip`"


def test_problems_detects_stale_setup_cell_and_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# T\n[![Open In Colab](x)](https://colab.research.google.com/x)"),
        nbformat.v4.new_code_cell("import course_utils  # old setup"),
        nbformat.v4.new_code_cell("1 + 1"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    found = nbtools.problems(path)
    assert any("not the current setup cell" in p for p in found)
    assert any("saved outputs" in p for p in found)
    assert nbtools.sync(path) and nbtools.strip(path)
    assert nbtools.problems(path) == []
    assert nbformat.read(path, as_version=4).cells[1].source == setup_cell_source()
    assert not nbtools.sync(path) and not nbtools.strip(path)  # idempotent


def test_setup_cell_pins_the_current_release():
    import course_utils

    assert f"@v{course_utils.__version__}" in setup_cell_source()
    compile(setup_cell_source(), "<setup>", "exec")
