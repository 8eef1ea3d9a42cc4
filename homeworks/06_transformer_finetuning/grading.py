"""Trusted side of homework 6 (runs in the grader's process, never in the student's kernel).

The held-out chunk-F1 ladder: the grader loads CoNLL-2000's test sentences itself, sends only
their words into the kernel (``predict_tags(sentences)``) and computes the chunk-level F1 here,
with gold tags that never enter the kernel, by the rules of the shared task's ``conlleval``.

The kernel may read a copy of the CoNLL-2000 zip that holds the training sentences only (NLTK's
zip has ``train.txt`` and ``test.txt``) and the Hugging Face cache (MiniLM), nothing else.
"""

from __future__ import annotations

import functools
import io
import os
import random
import warnings
import zipfile
from pathlib import Path

from course_utils import data
from course_utils.data import get_entry
from course_utils.data.datasets import conll2000
from course_utils.data.fetch import locate
from course_utils.pretrained import MINILM
from course_utils.tools.grading.trusted import Ladder

N_SMALL = 200  # small mode: a fixed sample of the 2,012 test sentences
SAMPLE_SEED = 2000


def _corpus() -> Path | None:
    """The CoNLL-2000 zip as the grader finds it (mirror or cache), or None."""
    rf = get_entry("conll2000").files["corpus"]
    return locate("conll2000", rf, download_ok=False)[0]


def _minilm_in_hf_home() -> bool:
    """Whether the kernel will find MiniLM: ``sandbox_data`` binds HF_HOME, nothing else."""
    home = os.environ.get("HF_HOME")
    folder = "models--" + MINILM.replace("/", "--")
    return bool(home) and any((Path(home) / "hub" / folder / "snapshots").glob("*/config.json"))


REAL_DATA = _corpus() is not None
REAL_MODEL = _minilm_in_hf_home()
# MiniLM on the real sentences: the reference reaches 0.84 in small mode (README). Without
# MiniLM in HF_HOME the kernel fine-tunes a tiny *random* BERT (announced): on generated
# sentences it reaches 0.95, on the real ones 0.49; sanity steps only, not real grades.
if REAL_MODEL:
    SMALL_STEPS = (0.60, 0.70) if REAL_DATA else (0.50, 0.60)
else:
    SMALL_STEPS = (0.35, 0.40) if REAL_DATA else (0.50, 0.60)
# Full mode, not measured yet: published fine-tuned BERT-style chunkers reach 0.95-0.97 F1
# on this test set, MiniLM-L6 is smaller and reads lower-cased words without POS tags.
FULL_STEPS = (0.90, 0.93)


def chunks(tags) -> set[tuple[str, int, int]]:
    """Chunks ``(type, start, end)`` of one sentence's BIO tags, end exclusive: B-X begins a
    chunk; I-X continues a chunk of type X and begins one otherwise; O and the end of the
    sentence end it (``conlleval``)."""
    found, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = str(tag).partition("-")
        if start is not None and (prefix != "I" or tag_kind != kind):
            found.add((kind, start, i))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, tag_kind
    return found


def chunk_f1(gold, predicted) -> float:
    correct = n_gold = n_pred = 0
    for g_tags, p_tags in zip(gold, predicted, strict=True):
        g, p = chunks(g_tags), chunks(p_tags)
        correct += len(g & p)
        n_gold += len(g)
        n_pred += len(p)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@functools.lru_cache(maxsize=2)
def _heldout(small: bool) -> tuple[list, list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.StandInWarning)
        test = data.load("conll2000", split="test")
    if small:
        test = random.Random(SAMPLE_SEED).sample(test, min(N_SMALL, len(test)))
    return [[w for w, _, _ in s] for s in test], [[c for _, _, c in s] for s in test]


def heldout_chunk_f1(session) -> float:
    words, gold = _heldout(session.small)
    predicted = session.call("predict_tags", words)
    if not isinstance(predicted, list) or len(predicted) != len(words):
        raise ValueError(
            f"predict_tags must return a list of {len(words)} tag lists, one per sentence, "
            f"found {type(predicted).__name__}"
            + (f" of {len(predicted)}" if isinstance(predicted, list) else "")
        )
    for i, (tags, sentence) in enumerate(zip(predicted, words)):
        if not isinstance(tags, list) or len(tags) != len(sentence):
            raise ValueError(
                f"predict_tags: sentence {i} has {len(sentence)} words, its tags are "
                f"{type(tags).__name__}" + (f" of {len(tags)}" if isinstance(tags, list) else "")
            )
        if not all(isinstance(t, str) for t in tags):
            raise TypeError(f"predict_tags: sentence {i}: tags must be strings such as 'B-NP'")
    return chunk_f1(gold, predicted)


LADDERS = {
    "heldout": Ladder(
        heldout_chunk_f1,
        small=SMALL_STEPS,
        full=FULL_STEPS,
        metric="chunk F1 on CoNLL-2000 test sentences",
    )
}


def _training_part_only(path: Path) -> bytes:
    """NLTK's CoNLL-2000 zip without ``test.txt``: the same layout, the training sentences."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name != conll2000.member("test"):
                dst.writestr(name, src.read(name))
    return out.getvalue()


def sandbox_data(view) -> None:
    corpus = _corpus()
    if corpus is not None:
        view.file("conll2000", "corpus", data=_training_part_only(corpus))
    view.library("HF_HOME")  # the MiniLM weights and tokenizer
