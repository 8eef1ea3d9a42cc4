"""Trusted side of homework 2 (runs in the grader's process, never in the kernel).

The grader sends held-out news *texts* into the notebook's ``predict(texts)`` and
computes the accuracy here; the labels never enter the kernel, and the kernel cannot
read the test split (``sandbox_data`` exposes the training files only).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from course_utils import data
from course_utils.data import get_entry
from course_utils.data.fetch import locate
from course_utils.data.standins import ag_news_like
from course_utils.tools.grading.trusted import Ladder

N_SMALL = 1_000  # held-out texts in small mode (full mode: the 7,600 official test texts)
N_SANITY = 500  # texts of the predict_tests sanity check
# Without real training rows: generated held-out texts, from a seed of the grader's
# own (the kernel's stand-ins use seeds 0-2, so the stand-in "test split" it can
# generate is not these texts).
STANDIN_SEED = 918_273_645


def _found(name: str, roles) -> bool:
    entry = get_entry(name)
    return all(locate(name, entry.files[r], download_ok=False)[0] is not None for r in roles)


# The kernel trains on real AG News rows when the grader has them (sandbox_data binds
# the same files): the full training split, or in small mode the 4,000-row subset.
# Otherwise it trains on the generated stand-in, and the held-out texts come from the
# same generator (easy text: CI's sanity level only).
REAL_TRAIN = _found("ag_news", ["train"]) or _found("ag_news_subset", ["train", "validation"])


@functools.lru_cache(maxsize=2)
def _heldout(small: bool) -> tuple[list, np.ndarray]:
    if REAL_TRAIN:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", data.StandInWarning)
            held = data.load("ag_news", split="test")
    else:
        held = ag_news_like(N_SMALL, seed=STANDIN_SEED)
    if small and len(held) > N_SMALL:
        held = held.sample(n=N_SMALL, random_state=1)
    return held["text"].tolist(), held["label"].to_numpy()


def _accuracy(session, n: int | None = None) -> float:
    texts, labels = _heldout(session.small)
    if n is not None:
        texts, labels = texts[:n], labels[:n]
    predicted = np.asarray(session.call("predict", texts))
    if predicted.shape != labels.shape:
        raise ValueError(
            f"predict returned {predicted.shape[0] if predicted.ndim else 'no'} "
            f"labels for {len(labels)} texts"
        )
    if predicted.dtype.kind not in "iub" and not (
        predicted.dtype.kind == "f" and np.all(predicted == np.round(predicted))
    ):
        raise ValueError("predict must return class ids (ints 0-3)")
    return float(np.mean(predicted == labels))


def heldout_accuracy(session) -> float:
    return _accuracy(session)


def sanity_accuracy(session) -> float:
    return _accuracy(session, N_SANITY)


LADDERS = {
    # predict works on new texts: clearly above chance (0.25)
    "predict_tests": Ladder(
        sanity_accuracy,
        small=(0.4,),
        full=(0.4,),
        metric=f"accuracy of predict on {N_SANITY} texts",
    ),
    # full: the seeds' ladder (fastText with bigrams reports 0.925 on AG News); small
    # (3,600 training texts): the reference reaches about 0.85 (README)
    "heldout": Ladder(
        heldout_accuracy, small=(0.70, 0.75, 0.80), full=(0.90, 0.91, 0.915), metric="accuracy"
    ),
}


def sandbox_data(view) -> None:
    # training rows only: never the official test split, nor the subset's test rows
    view.dataset("ag_news", roles=["train"])
    view.dataset("ag_news_subset", roles=["train", "validation"])
