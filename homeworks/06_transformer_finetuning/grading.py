"""Trusted side of homework 6 (runs in the grader's process, never in the student's kernel).

The held-out accuracy ladder: the grader loads the AG News subset's test rows itself, sends
only the texts into the kernel (``predict(texts)``) and computes the accuracy here with labels
that never enter the kernel. The kernel may read the subset's train and validation files and
the Hugging Face cache (MiniLM), nothing else.
"""

import numpy as np

from course_utils import data
from course_utils.tools.grading.trusted import Ladder

N_SMALL = 128  # small mode: a fixed sample of the 2,000 test rows


def heldout_accuracy(session) -> float:
    held = data.load("ag_news_subset", split="test")
    if session.small:
        held = held.sample(n=N_SMALL, random_state=1)
    labels = held["label"].to_numpy()
    predicted = session.call("predict", held["text"].tolist())
    if not isinstance(predicted, (list, np.ndarray)):
        raise TypeError(f"predict must return a list of labels, found {type(predicted).__name__}")
    predicted = np.asarray(predicted)
    if predicted.shape != labels.shape:
        raise ValueError(f"predict returned {predicted.shape} labels for {len(labels)} texts")
    if predicted.dtype.kind not in "biuf":
        raise TypeError(f"predict must return integer labels, found {predicted.dtype}")
    return float(np.mean(predicted == labels))


LADDERS = {
    "heldout": Ladder(
        heldout_accuracy,
        small=(0.45, 0.50, 0.55),
        full=(0.86, 0.88, 0.89),
        metric="held-out accuracy",
    )
}


def sandbox_data(view) -> None:
    view.dataset("ag_news_subset", roles=["train", "validation"])
    view.library("HF_HOME")  # the MiniLM weights and tokenizer
