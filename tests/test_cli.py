"""The `course` command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest

from course_utils.data import Dataset, RemoteFile
from course_utils.data.registry import REGISTRY
from course_utils.tools import cli
from course_utils.tools.templates import colab_badge, setup_cell_source


@pytest.fixture
def toy(isolated_cache):
    body = b"a,b\n1,2\n"
    (isolated_cache / "toy").mkdir(parents=True)
    (isolated_cache / "toy" / "toy.csv").write_bytes(body)
    REGISTRY["toy"] = Dataset(
        name="toy",
        description="toy data",
        license="CC0",
        homepage="",
        files={"all": RemoteFile("toy.csv", sha256=hashlib.sha256(body).hexdigest(), size=8)},
        loader=lambda get, split: None,
    )
    yield isolated_cache / "toy" / "toy.csv"
    REGISTRY.pop("toy", None)


def test_data_list_shows_entries_and_where_they_are(toy, capsys):
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "toy: toy data" in out and "cache" in out
    assert "ag_news" in out and "trust on first use" in out


def test_data_verify_passes_then_flags_corruption(toy, capsys):
    assert cli.main(["data", "verify"]) == 0
    assert "ok        toy/all" in capsys.readouterr().out
    toy.write_bytes(b"a,b\n1,3\n")
    assert cli.main(["data", "verify"]) == 1
    captured = capsys.readouterr()
    assert "CORRUPTED toy/all" in captured.out and "expected" in captured.err


def test_data_fetch_unknown_name_fails_clearly(capsys):
    assert cli.main(["data", "fetch", "ag_newz"]) == 1
    assert "Did you mean 'ag_news'" in capsys.readouterr().err


def test_run_executes_a_notebook_and_writes_index(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "course_utils").mkdir(parents=True)
    nb_dir = root / "notebooks" / "rl"
    nb_dir.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo\n" + colab_badge("notebooks/rl/01_demo.ipynb")),
        nbformat.v4.new_code_cell(setup_cell_source()),
        nbformat.v4.new_code_cell("course_utils.headline('score', 0.5 if SMALL else 1.0)"),
    ]
    nbformat.write(nb, nb_dir / "01_demo.ipynb")
    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    nbformat.write(broken, nb_dir / "02_broken.ipynb")
    monkeypatch.chdir(root)
    assert cli.main(["run", "--out", str(tmp_path / "build"), "--timeout", "120"]) == 1
    index = (tmp_path / "build" / "index.csv").read_text().splitlines()
    assert index[0] == "notebook,status,seconds,headline,error,standins"
    assert index[1].startswith("notebooks/rl/01_demo.ipynb,ok,") and "score=0.5" in index[1]
    assert index[2].startswith("notebooks/rl/02_broken.ipynb,failed,") and "boom" in index[2]
    executed = nbformat.read(tmp_path / "build" / "notebooks/rl/01_demo.ipynb", as_version=4)
    assert "HEADLINE score = 0.5000" in executed.cells[2].outputs[0]["text"]


def test_nb_commands_take_folders_and_reject_other_paths(tmp_path, capsys):
    main = cli.main
    root = Path(__file__).resolve().parent.parent
    assert main(["nb", "check", str(root / "notebooks")]) == 0
    assert "0 problem(s)" in capsys.readouterr().out
    assert main(["nb", "check", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err
    assert "expected a notebook" in err and "nope.txt" in err
