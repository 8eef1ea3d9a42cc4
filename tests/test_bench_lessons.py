"""The benchmark runner (tests/benchmarks/lessons.py): parameter injection, and one tiny run
in a kernel."""

from __future__ import annotations

import os

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
    ("lesson", "knob"),
    [
        ("nlp/01_word_embeddings", "W2V_EPOCHS ="),
        ("nlp/06_pos_tagging", "ABLATION_EPOCHS ="),
        ("nlp/04_seq2seq_nmt", "REDUCED ="),
        ("nlp/08_transformer_finetuning", "REDUCED ="),
        ("rl/01_gym_and_cem", "N_SESSIONS ="),
        ("rl/02_qlearning", "TAXI_EPISODES ="),
        ("rl/03_approx_qlearning", "SEED = 0"),
        ("rl/04_dqn_atari", "BREAKOUT_STEPS ="),
        ("rl/05_reinforce_a2c", "SEED = 0"),
        ("vision/01_transfer_learning", "FT_EPOCHS ="),
        ("vision/03_knowledge_distillation", "STUDENT_EPOCHS ="),
        ("vision/04_semantic_segmentation", "N_EPOCHS ="),
        ("vision/05_vae", "CLF_EPOCHS ="),
        ("vision/06_image_captioning", "GPT_PRETRAINED ="),
    ],
)
def test_benchmarked_lessons_have_their_parameters_cell(lesson, knob):
    nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.source.ipynb", as_version=4)
    assert knob in nb.cells[parameters_cell(nb)].source


def test_the_kernel_gets_the_benchmark_environment_and_this_process_keeps_its_own(
    tmp_path, monkeypatch
):
    """run_lesson's env reaches the kernel's os.environ; afterwards this process's variables
    are as they were (set or unset)."""
    import tests.benchmarks.lessons as lessons

    lesson = tmp_path / "notebooks" / "t"
    lesson.parent.mkdir(parents=True)
    nb = _nb("import os", "SEEN = [os.environ.get('BENCH_T'), os.environ.get('COURSE_SMALL')]")
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(lesson) + ".source.ipynb")
    monkeypatch.setattr(lessons, "ROOT", tmp_path)
    monkeypatch.setattr(lessons, "OUT", tmp_path / "out")
    monkeypatch.delenv("BENCH_T", raising=False)
    monkeypatch.setenv("COURSE_SMALL", "1")
    v = lessons.run_lesson("t", ["SEEN"], env={"BENCH_T": "x"}, timeout=60)
    assert v["SEEN"] == ["x", None]  # full mode by default
    assert "BENCH_T" not in os.environ and os.environ["COURSE_SMALL"] == "1"


def test_cell_seconds_reads_the_executed_notebooks_timing(tmp_path, monkeypatch):
    """The seconds a benchmark reports for a lesson step it does not time itself come from
    nbclient's timing metadata of the executed notebook; a start that names no cell, or
    two, is an error that says so."""
    from tests.benchmarks import lessons

    nb = _nb("load = 1", "train = 2", "train_more = 3")
    times = [("00:00:01", "00:00:03.5"), ("00:00:04", "00:01:04"), ("00:01:05", "00:01:06")]
    for cell, (begin, end) in zip(nb.cells, times):
        cell.metadata["execution"] = {
            "iopub.execute_input": f"2026-12-07T{begin}Z",
            "shell.execute_reply": f"2026-12-07T{end}Z",
        }
    monkeypatch.setattr(lessons, "ROOT", tmp_path)
    nbformat.write(nb, tmp_path / "run.ipynb")
    assert lessons.cell_seconds("run.ipynb", "load") == 2.5
    assert lessons.cell_seconds("run.ipynb", "load", "train_more") == 3.5
    assert lessons.executed_cell("run.ipynb", "train =").source == "train = 2"
    with pytest.raises(LessonError, match=r"one code cell starting with 'train', found 2"):
        lessons.cell_seconds("run.ipynb", "train")
    with pytest.raises(LessonError, match="found 0"):
        lessons.executed_cell("run.ipynb", "evaluate")
