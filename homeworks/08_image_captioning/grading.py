"""Trusted side of homework 8 (runs in the grader's process, never in the student's kernel).

The held-out BLEU-4 ladder: the grader draws held-out images with the shapes generator and a
seed of its own (a 64-bit constant kept in this file, which the sandbox hides, so the kernel
cannot regenerate the set and its captions), sends only the images into the kernel
(``caption_images(images)``: the notebook's ``patch_grid`` and ``normalise``, then the
student's ``greedy_captions`` with the student's trained ``model``), and scores the returned
captions here against the five references of each image, which never enter the kernel.

Steps: small mode (600 training images, 200 held-out images) 50 and 60; the reference
solution reached 73.74 (measured 2026-12-07, 2-core AMD EPYC, no GPU). Full mode (5,000
training images, 1,000 held-out images) 80 and 88: an estimate, not measured yet (a
two-layer decoder reached 84.7 on 200 held-out images after 3 epochs on 1,200 training
images; the lesson's LSTM with attention reached 91.9 on 3,000 images).
"""

from course_utils.text import corpus_bleu, tokenize
from course_utils.tools.grading.trusted import Ladder
from course_utils.vision.shape_captions import make_shapes

IMG = 64
HELD_SEED = 0x9E37_79B9_7F4A_7C15  # never used by the notebook (it uses shapes_splits(seed=0))


def heldout_bleu4(session) -> float:
    held = make_shapes(200 if session.small else 1000, size=IMG, seed=HELD_SEED)
    hyps = session.call("caption_images", held.images)
    if type(hyps) is not list or len(hyps) != len(held):
        raise ValueError(
            f"caption_images must return a list of one caption per image ({len(held)}), "
            f"found {len(hyps) if type(hyps) is list else type(hyps).__name__}"
        )
    if any(type(h) is not str for h in hyps):
        raise TypeError("caption_images must return strings (one caption per image)")
    return corpus_bleu(
        [tokenize(h) for h in hyps], [[tokenize(c) for c in caps] for caps in held.captions]
    )


LADDERS = {
    "heldout_bleu": Ladder(
        heldout_bleu4, small=(50.0, 60.0), full=(80.0, 88.0), metric="held-out BLEU-4"
    )
}


def sandbox_data(view) -> None:
    """The data set is generated inside the notebook: the kernel needs no data files."""
