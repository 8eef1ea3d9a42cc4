"""Every lesson in FULL mode with its training capped: ``make test-full``, not ``make test``
(CI runs them too: ``make test-full-ci``).

Full mode is what a student gets by default, yet CI runs the lessons in small mode only.
Here each lesson's instructor source runs in a fresh kernel (``run_lesson`` from
``tests/benchmarks/lessons.py``) with its full-mode sizes (full data, augmentations, model
widths, data paths) but with ``COURSE_STEP_CAP`` set: ``course_utils.train.fit`` then
trains one epoch of at most ``STEP_CAP`` steps, and the lessons' full-mode targets are not
checked (``course_utils.trained_fully``). Loops a lesson writes itself (RL iterations,
episodes, epochs, evaluation episodes) are shortened through its ``parameters`` cell with
the values in ``CAPS``. Data sizes and model widths are never overridden: running them is
the point.

Lessons whose full-mode data cannot be had offline stop with the data layer's clear error;
that stop is expected when its message matches ``ONLINE_ONLY`` (and a run to the end, where
the data is there, passes too). Anything else fails. Each outcome and its seconds are
written to ``build/full_mode/<lesson>.json``; ``docs/full_mode.md`` records a run.

Only ``make test-full`` (``COURSE_TEST_FULL=1``), ``make test-full-ci``
(``COURSE_TEST_FULL=ci``; ``.ci/run`` runs it after ``make test``) or naming this file
collects it (``tests/conftest.py``). Both run all 20 lessons; CI's pass runs the four in
``CI_SIZES`` on a share of their rows (see there), ``make test-full`` on all of them.
"""

from __future__ import annotations

import json
import os
import re
import time

import nbformat
import pytest

from course_utils.tools.notebooks import plain_text
from tests.benchmarks.lessons import ROOT, LessonError, run_lesson

STEP_CAP = 3  # optimizer steps per epoch, one epoch, in every fit() call
OUT = ROOT / "build" / "full_mode"

# Per-lesson overrides of the lesson's parameters cell: the loops that do not go through
# fit(). Never data sizes or model widths.
CAPS: dict[str, dict] = {
    "nlp/01_word_embeddings": {"W2V_EPOCHS": 1},
    # fit() trains one epoch under the cap: the epoch comparison of section 5 needs N_EPOCHS = 1
    "nlp/02_text_classification": {"N_EPOCHS": 1, "N_EPOCHS_LONG": 1, "FINAL_EPOCHS": 1},
    "nlp/03_cnn_for_texts": {"N_EPOCHS": 1, "STEPS_PER_EPOCH": STEP_CAP},
    # untrained decoders write MAX_DECODE tokens: validation BLEU every epoch and the test table
    # (N_DECODE sentences per decoder) are evaluation loops
    "nlp/04_seq2seq_nmt": {"MAX_DECODE": 10, "N_DECODE": 10},
    "nlp/05_attention_basics": {"N_STEPS": STEP_CAP},
    "nlp/06_pos_tagging": {},
    "nlp/07_positional_encoding": {},
    "nlp/08_transformer_finetuning": {"FT_EPOCHS": 1, "STEPS_PER_EPOCH": STEP_CAP},
    "nlp/09_rl_for_seq2seq": {"SUP_EPOCHS": 1, "STEPS_PER_EPOCH": STEP_CAP, "SCST_STEPS": STEP_CAP},
    "rl/01_gym_and_cem": {"TAXI_ITERS": 2, "CARTPOLE_ITERS": 2, "LUNAR_ITERS": 2},
    "rl/02_qlearning": {
        "TAXI_EPISODES": 200,
        "TAXI_EVAL_EPISODES": 100,  # an undertrained agent drives 200 steps each
        "CLIFF_EPISODES": 50,
        "CARTPOLE_EPISODES": 50,
    },
    "rl/03_approx_qlearning": {"MAX_STEPS": 250},  # one greedy check (CHECK_EVERY = 250)
    "rl/04_dqn_atari": {
        "CARTPOLE_STEPS": 1_500,  # learning starts after 1,000
        "CARTPOLE_EVAL_EVERY": 500,
        "COMPARE_STEPS": 1_500,
        "COMPARE_EVAL_EVERY": 500,
        "BREAKOUT_STEPS": 300,
        "BREAKOUT_LEARNING_STARTS": 100,
        "BREAKOUT_EVAL_EPISODES": 1,
        "BREAKOUT_EVAL_MAX_STEPS": 500,
        "VIDEO_STEPS": 100,
    },
    "rl/05_reinforce_a2c": {"RF_MAX_ITERS": 5, "A2C_TOTAL_STEPS": 2_048},
    "vision/01_transfer_learning": {"HEAD_EPOCHS": 1, "FT_EPOCHS": 1, "STEPS_PER_EPOCH": STEP_CAP},
    "vision/02_style_transfer": {"N_STEPS": STEP_CAP, "ABLATION_STEPS": STEP_CAP},
    "vision/03_knowledge_distillation": {
        "TEACHER_EPOCHS": 1,
        "STUDENT_EPOCHS": 1,
        "STEPS_PER_EPOCH": STEP_CAP,
    },
    "vision/04_semantic_segmentation": {"N_EPOCHS": 1},
    "vision/05_vae": {
        "EPOCHS": 1,
        "CIFAR_EPOCHS": 1,
        "CVAE_EPOCHS": 1,
        "CLF_EPOCHS": 1,
    },
    "vision/06_image_captioning": {"EPOCHS": 1},
}

# Full-mode data that only the network gives (not in the data mirror): the data layer's
# error that the lesson is expected to stop with offline.
ONLINE_ONLY: dict[str, str] = {
    "nlp/02_text_classification": r"DataError: dataset 'ag_news': file 'train\.csv' \(train\) "
    r"was not found",
    "nlp/03_cnn_for_texts": r"DataError: dataset 'job_salaries': file 'Train_rescaled\.csv' "
    r"\(train\) was not found",
    # the photos (the mirror has the caption files, read from flickr8k_text/, but no photos)
    "vision/06_image_captioning": r"(?s)DataError: dataset 'flickr8k': file .*"
    r"'Flickr8k_Dataset\.zip' \(images\) was not found",
}

# The slowest lessons first (seconds in docs/full_mode.md), so that the two pytest-xdist
# workers finish at about the same time.
SLOW_FIRST = [
    "nlp/08_transformer_finetuning",
    "vision/01_transfer_learning",
    "nlp/04_seq2seq_nmt",
    "vision/04_semantic_segmentation",
    "vision/03_knowledge_distillation",
    "nlp/01_word_embeddings",
    "vision/05_vae",
    "nlp/06_pos_tagging",
]
# CI's pass (`make test-full-ci`, COURSE_TEST_FULL=ci) runs every lesson, but these four on
# a share of their rows, so that CI stays well under its 15 minutes on 2 cores:
# - nlp/08 and vision/01 push every row through a pretrained network in full mode (nlp/08:
#   6,000 texts through MiniLM, 260 s on 2 idle cores; vision/01: 12,000 images through
#   MobileNetV2, 174 s);
# - vision/03 computes the teacher's logits on all 50,000 training and 10,000 test images
#   (48 s of its 85 s in the fresh-clone CI run at 4bdc3bc);
# - nlp/04 scores and greedily decodes all 1,014 validation pairs after each model's epoch
#   (about 35 s of its 77 s there).
# Their sequence lengths, image sizes, model widths, batch sizes and the rest of full mode
# stay; the row counts are the lessons' own knobs, and each lesson checks its full data
# sizes only when it loads all the rows. `make test-full` runs them on all their data.
CI_SIZES: dict[str, dict] = {
    "nlp/04_seq2seq_nmt": {"N_VALID": 200},
    "nlp/08_transformer_finetuning": {"N_TRAIN": 500, "N_TEST": 250},
    "vision/01_transfer_learning": {"N_TRAIN_IMAGES": 1_000, "N_TEST_IMAGES": 200},
    "vision/03_knowledge_distillation": {"N_TRAIN": 10_000, "N_TEST": 2_000},
}
IN_CI = os.environ.get("COURSE_TEST_FULL") == "ci"
LESSONS = SLOW_FIRST + sorted(set(CAPS) - set(SLOW_FIRST))


def _record(lesson: str, outcome: str, seconds: float, detail: str = "") -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    row = {"lesson": lesson, "outcome": outcome, "seconds": round(seconds, 1), "detail": detail}
    (OUT / f"{lesson.replace('/', '_')}.json").write_text(json.dumps(row) + "\n")


def _error_line(message: str) -> str:
    """The exception line of a failed cell, e.g. 'AssertionError: ...'."""
    lines = re.findall(r"^\w*(?:Error|Exception|Interrupt)\b.*$", plain_text(message), re.M)
    return lines[-1] if lines else plain_text(message).strip().splitlines()[-1]


def test_tables_cover_every_lesson():
    lessons = sorted(
        str(p.relative_to(ROOT / "notebooks")).removesuffix(".source.ipynb")
        for p in (ROOT / "notebooks").glob("*/*.source.ipynb")
    )
    assert sorted(CAPS) == lessons, "CAPS needs one entry per lesson source"
    assert set(ONLINE_ONLY) <= set(CAPS)
    assert sorted(LESSONS) == lessons
    assert set(CI_SIZES) <= set(LESSONS)
    for lesson, sizes in CI_SIZES.items():  # row counts only, never the lesson's other knobs
        assert not set(sizes) & set(CAPS[lesson])
        assert all(k.startswith(("N_TRAIN", "N_VALID", "N_TEST")) for k in sizes)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_in_full_mode_with_capped_training(lesson):
    start = time.perf_counter()
    sizes = CI_SIZES.get(lesson, {}) if IN_CI else {}
    try:
        values = run_lesson(
            lesson,
            [],
            {**CAPS[lesson], **sizes},
            env={"COURSE_STEP_CAP": str(STEP_CAP)},
            tag="capped",
            timeout=900,
        )
    except LessonError as err:
        seconds = time.perf_counter() - start
        expected = ONLINE_ONLY.get(lesson)
        if expected and re.search(expected, plain_text(str(err))):
            _record(lesson, "expected online-only stop", seconds, _error_line(str(err)))
            return
        _record(lesson, "failed", seconds, _error_line(str(err)))
        raise
    seconds = values["_seconds"]
    executed = nbformat.read(ROOT / values["_executed"], as_version=4)
    printed = "".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    if f"mode: FULL, training capped at {STEP_CAP} steps" not in printed:
        _record(lesson, "failed", seconds, "the kernel did not run in capped full mode")
        pytest.fail(f"{lesson}: the setup cell did not report capped full mode")
    _record(lesson, "passed", seconds, ", ".join(f"{k}={v:,}" for k, v in sizes.items()))
