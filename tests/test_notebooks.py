"""Every lesson notebook follows the conventions (docs/design.md section 3)."""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from course_utils.tools import notebooks as nbtools
from course_utils.tools.templates import setup_cell_source
from tests.conftest import ROOT

NOTEBOOKS = nbtools.course_notebooks(ROOT)
ALL_NOTEBOOKS = nbtools.find_notebooks(ROOT)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_conventions(path):
    assert nbtools.problems(path) == []
    rel = path.relative_to(ROOT)
    assert re.fullmatch(r"notebooks/(nlp|rl|vision)/\d\d_[a-z0-9_]+(\.source)?\.ipynb", str(rel)), (
        rel
    )
    header = nbformat.read(path, as_version=4).cells[0].source
    # a source's badge opens the student seminar released from it
    assert nbtools.badge_path(path) in header, "the Colab badge must point at this notebook"
    for word in ("small", "full"):
        assert word in header.lower(), f"the header must state the runtime in {word} mode"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_saved_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells, 1)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, f"{path}: cells {dirty} have outputs; run `course nb strip`"


def test_problems_detects_stale_setup_cell_and_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# T\n[![Open In Colab](x)](https://colab.research.google.com/x)"
        ),
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


def test_run_index_has_no_terminal_colour_codes(tmp_path):
    """A failing notebook's error reaches index.md and index.csv as plain text
    (IPython colours tracebacks with ANSI codes, which a Markdown viewer shows raw)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise ValueError('bad | size')")]
    path = tmp_path / "nbs" / "broken.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    result = nbtools.execute(path, tmp_path / "out", tmp_path / "nbs", timeout=60)
    assert result.status == "failed" and "ValueError" in result.error
    index = nbtools.write_index([result], tmp_path / "out", small=True)
    text = index.read_text()
    assert "\x1b" not in text and "\x1b" not in (tmp_path / "out" / "index.csv").read_text()
    assert "bad \\| size" in text


def test_code_cells_with_only_comments_are_refused(tmp_path):
    import nbformat

    path = tmp_path / "lesson.ipynb"
    shutil.copy(NOTEBOOKS[0], path)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("# setup placeholder\n\n# nothing here"))
    nb.cells.insert(3, nbformat.v4.new_code_cell(""))
    nbformat.write(nb, path)
    found = " | ".join(nbtools.problems(path))
    assert "cell 3 is a code cell that holds only comments" in found
    assert "cell 4 is a code cell that is empty" in found


def test_run_index_marks_notebooks_that_ran_on_stand_ins(tmp_path, monkeypatch):
    """With no mirror, a notebook's loads fall back to stand-ins: `course run`'s index
    says so beside its metric (a newcomer's `make run` once showed AG News 0.98 bare)."""
    import nbformat

    for var in ("COURSE_DATA", "NLTK_DATA", "TORCH_HOME", "HF_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from course_utils import data, headline\n"
            "with data.standins_used() as used:\n"
            "    df = data.load('toxic_comments', split='train')\n"
            "assert used and used[0][0] == 'toxic_comments', used\n"
            "headline('rows', len(df))"
        )
    ]
    path = tmp_path / "nbs" / "standin.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    result = nbtools.execute(path, tmp_path / "out", tmp_path / "nbs", timeout=120)
    assert result.status == "ok", result.error
    assert result.standins == "toxic_comments" and result.headline.startswith("rows=")
    text = nbtools.write_index([result], tmp_path / "out", small=True).read_text()
    assert "**STAND-IN** (toxic_comments): rows=" in text


def test_the_repository_url_is_kept_in_pyproject_only(tmp_path):
    import tomllib

    from course_utils.tools.templates import colab_badge, repository

    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    assert url == f"https://github.com/{repository()}"
    assert f"git+{url}@" in setup_cell_source()
    # no other file of the package spells it out
    spelled = [p for p in (ROOT / "course_utils").rglob("*.py") if repository() in p.read_text()]
    assert not spelled, spelled
    # sync rewrites a badge that points elsewhere
    path = tmp_path / "notebooks" / "rl" / "09_x.ipynb"
    path.parent.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# X\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            "(https://colab.research.google.com/github/someone/else/blob/main/x.ipynb)\n\nText."
        ),
        nbformat.v4.new_code_cell(setup_cell_source()),
    ]
    nbformat.write(nb, path)
    assert any("no current Colab badge" in p for p in nbtools.problems(path))
    assert nbtools.sync(path) and nbtools.problems(path) == []
    header = nbformat.read(path, as_version=4).cells[0].source
    assert colab_badge("notebooks/rl/09_x.ipynb") in header and header.endswith("Text.")


def _code_notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(
    "code, reason",
    [
        ("from course_utils import data\nx = data.load('imdb')", "course_utils.data"),
        ("import course_utils\nx = course_utils.data.load('imdb')", "course_utils.data"),
        ("from course_utils.pretrained import load_transformer", "course_utils.pretrained"),
        # through another course_utils module: vision.features loads torchvision weights
        ("from course_utils.vision.features import FeatureExtractor", "course_utils.pretrained"),
        ("import nltk\nnltk.corpus.brown.words()", "nltk"),
        (
            "from transformers import AutoModel\nAutoModel.from_pretrained('bert')",
            "from_pretrained",
        ),
    ],
)
def test_reads_mirror_finds_the_data_a_notebook_reaches(tmp_path, code, reason):
    """The offline pass (`make test-offline`) runs only notebooks that reach data."""
    why = nbtools.reads_mirror(_code_notebook(tmp_path, "import course_utils", code))
    assert why is not None and reason in why, why


def test_reads_mirror_passes_notebooks_that_reach_no_data(tmp_path):
    probe = _code_notebook(
        tmp_path,
        "import course_utils\nSMALL = course_utils.setup_notebook()",
        "from course_utils import rl, train\nweights = [0.5, 0.5]",
        "%matplotlib inline",
    )
    assert nbtools.reads_mirror(probe) is None
    rl_lessons = sorted((ROOT / "notebooks" / "rl").glob("*.ipynb"))
    assert rl_lessons and all(nbtools.reads_mirror(p) is None for p in rl_lessons)
    assert nbtools.reads_mirror(ROOT / "notebooks" / "nlp" / "01_word_embeddings.ipynb")


def test_nb_check_finds_a_stale_student_version_and_key(tmp_path):
    hw = tmp_path / "03_dqn"
    shutil.copytree(ROOT / "homeworks" / "03_dqn", hw)
    source = hw / "03_dqn.source.ipynb"
    assert nbtools.stale_release(source) == []
    student = hw / "03_dqn.ipynb"
    student.write_text(student.read_text() + " ")
    [msg] = nbtools.stale_release(source)
    assert "stale" in msg and "course release" in msg
    (student).unlink()
    key = hw / "03_dqn.key.json"
    key.write_text(re.sub(r'("source_sha256": ")[0-9a-f]', r"\g<1>x", key.read_text(), count=1))
    found = nbtools.stale_release(source)
    assert len(found) == 2 and "no student version" in found[0] and "key.json is stale" in found[1]


def test_offline_pass_collects_only_notebooks_that_read_data():
    """The root conftest.py drops, in `make test-offline`, the notebooks reads_mirror passes."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "COURSE_TEST_OFFLINE_PASS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "notebooks/rl",
            "notebooks/nlp/01_word_embeddings.ipynb",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    collected = set(re.findall(r"notebooks/\w+/\w+\.ipynb", done.stdout))
    assert collected == {"notebooks/nlp/01_word_embeddings.ipynb"}, done.stdout[-2000:]
