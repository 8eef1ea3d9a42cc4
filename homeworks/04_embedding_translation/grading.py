"""Trusted side of homework 4 (runs in the grader's process, never in the kernel).

The ladder measures the student's ``fit_procrustes`` on data the grader builds
itself: the English substitute of the notebook (Word2Vec trained on Brown -> GloVe-50,
identity dictionary, the same words and held-out split), or without the data mirror
the Lee-corpus stand-in. The grader sends the *training* pairs' vectors into
``fit_procrustes(X, Y)``, takes ``W`` back, checks that it is the orthogonal map that
fits those pairs best (so that a map fitted on other words, held-out ones included,
scores nothing), and computes precision@1 and @5 on the held-out pairs with its own
retrieval code. Nothing the kernel holds (its spaces, its pairs) is used.

The construction follows the grading mode, as the notebook's knobs do: small mode
trains Word2Vec on Brown's eight non-fiction categories (30,927 sentences, with a
larger learning rate and 3 negative samples instead of 5), full mode on all 57,340
sentences. Building it costs 10-14 s of CPU in small mode and about 25 s in full mode
(reading Brown, training Word2Vec); it is done once per mode and kept in the course
cache (``COURSE_CACHE``, the grader's own, which the sandbox does not show), under a
name that changes with its parameters.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from course_utils import config, data
from course_utils.io import atomic_save_npz
from course_utils.tools.grading.trusted import Ladder

# The notebook's knobs (offline): keep them in step with its parameter cell.
SEED = 0
GLOVE_WORDS = 20_000
N_DICT = 3_000
N_HELD_OUT = 600
VERSION = 2  # bump when the construction below changes


def knobs(small: bool) -> dict:
    """Brown categories read (None: all) and Word2Vec's parameters, as in the notebook."""
    return {
        "brown_categories": (
            ["news", "editorial", "reviews", "religion", "hobbies", "lore", "government", "learned"]
            if small
            else None
        ),
        "word2vec": dict(
            vector_size=50,
            window=3,
            min_count=10,
            epochs=5,
            sg=1,
            negative=3 if small else 5,
            alpha=0.05 if small else 0.025,
            seed=SEED,
            workers=1,
        ),
    }


_LOCK = threading.Lock()
_SPACES: dict = {}  # small (bool) -> the spaces of that mode


def _normalize(M):
    M = M / np.linalg.norm(M, axis=1, keepdims=True)
    M = M - M.mean(axis=0)
    return (M / np.linalg.norm(M, axis=1, keepdims=True)).astype(np.float32)


def _lee_word2vec(seed, sg):
    from gensim.models import Word2Vec
    from gensim.test.utils import datapath
    from gensim.utils import simple_preprocess

    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        sentences = [simple_preprocess(line) for line in fh]
    return Word2Vec(
        sentences, vector_size=50, window=5, min_count=3, epochs=20, sg=sg, seed=seed, workers=1
    ).wv, sentences


def _build(standin: bool, glove, brown, small: bool) -> dict:
    """The notebook's ``load_english_substitute``, keeping only what the ladder needs."""
    from gensim.models import Word2Vec

    if standin:
        source, sentences = _lee_word2vec(seed=1, sg=1)
        target, _ = _lee_word2vec(seed=0, sg=0)
    else:
        sentences = [[w.lower() for w, _ in sent] for sent in brown]
        source = Word2Vec(sentences, **knobs(small)["word2vec"]).wv
        target = glove
    src_words, S = (
        list(source.index_to_key),
        _normalize(np.asarray(source.vectors, dtype=np.float64)),
    )
    tgt_words, T = (
        list(target.index_to_key),
        _normalize(np.asarray(target.vectors, dtype=np.float64)),
    )
    si = {w: i for i, w in enumerate(src_words)}
    ti = {w: i for i, w in enumerate(tgt_words)}
    counts = Counter(w for sent in sentences for w in sent)
    shared = [w for w, _ in counts.most_common() if w.isalpha() and w in si and w in ti][:N_DICT]
    order = np.random.default_rng(SEED).permutation(len(shared))
    n_test = min(N_HELD_OUT, len(shared) // 5)
    test_words = [shared[i] for i in order[:n_test]]
    train_words = [shared[i] for i in order[n_test:]]
    return {
        "X_train": S[[si[w] for w in train_words]],
        "gold_train": np.array([ti[w] for w in train_words]),
        "X_test": S[[si[w] for w in test_words]],
        "gold_test": np.array([ti[w] for w in test_words]),
        "T": T,
    }


def _cache_path(standin: bool, small: bool) -> Path:
    key = json.dumps(
        {
            "v": VERSION,
            "standin": standin,
            "glove": GLOVE_WORDS,
            "dict": N_DICT,
            "held": N_HELD_OUT,
            **knobs(small),
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return config.cache_dir() / "grading" / f"04_embedding_translation-{digest}.npz"


def _real_data() -> bool:
    """Whether GloVe and Brown can be read (mirror, cache or NLTK's folders), without
    reading them: the notebook then builds the English substitute, otherwise the
    Lee-corpus stand-in. Reading Brown takes seconds, so a cached build skips it."""
    from course_utils.data import get_entry
    from course_utils.data.fetch import locate

    def found(name: str, role: str) -> bool:
        return locate(name, get_entry(name).files[role], download_ok=False)[0] is not None

    if not found("glove-wiki-gigaword-50", "vectors"):
        return False
    if found("brown", "brown"):
        return True
    import nltk  # NLTK_DATA or NLTK's own download folders, as the loader looks

    try:
        nltk.data.find("corpora/brown")
        return True
    except LookupError:
        return False


def spaces(small: bool) -> dict:
    """The grader's spaces for a mode (built once per process, kept in the course cache)."""
    with _LOCK:
        if small not in _SPACES:
            standin = not _real_data()
            path = _cache_path(standin, small)
            if path.is_file():
                with np.load(path, allow_pickle=False) as stored:
                    built = {k: stored[k] for k in stored.files}
            else:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", data.StandInWarning)
                    glove = data.load("glove-wiki-gigaword-50", limit=GLOVE_WORDS)
                    brown = data.load(
                        "brown", tagset=None, categories=knobs(small)["brown_categories"]
                    )
                standin = any(issubclass(w.category, data.StandInWarning) for w in caught)
                path = _cache_path(standin, small)
                built = _build(standin, glove, brown, small)
                atomic_save_npz(path, **built)
            _SPACES[small] = dict(built, standin=standin)
        return _SPACES[small]


def _student_map(session) -> tuple[dict, np.ndarray]:
    # a cheap call first: an unfinished fit_procrustes fails here, before the spaces are built
    session.call("fit_procrustes", np.eye(3), np.eye(3))
    sp = spaces(session.small)
    X, Y = sp["X_train"], sp["T"][sp["gold_train"]]
    W = np.asarray(session.call("fit_procrustes", X, Y), dtype=np.float64)
    d = X.shape[1]
    if W.shape != (d, d) or not np.isfinite(W).all():
        raise ValueError(f"fit_procrustes returned shape {W.shape}, expected ({d}, {d})")
    if not np.allclose(W.T @ W, np.eye(d), atol=1e-4):
        raise ValueError("fit_procrustes did not return an orthogonal matrix")
    # the best orthogonal map for these pairs (unique): the student's must fit them as well
    U, _, Vt = np.linalg.svd(X.astype(np.float64).T @ Y.astype(np.float64))
    best = np.linalg.norm(X @ (U @ Vt) - Y)
    if np.linalg.norm(X @ W - Y) > best * (1 + 1e-4):
        raise ValueError(
            "fit_procrustes did not return the orthogonal map that fits the training pairs best"
        )
    return sp, W


def precision_at(sp: dict, W: np.ndarray, k: int) -> float:
    P = sp["X_test"].astype(np.float64) @ W
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    T = sp["T"].astype(np.float64)
    sims = P @ (T / np.linalg.norm(T, axis=1, keepdims=True)).T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # the k most similar, any order
    return float(np.mean((top == sp["gold_test"][:, None]).any(axis=1)))


def heldout_p1(session) -> float:
    return precision_at(*_student_map(session), 1)


def heldout_p5(session) -> float:
    return precision_at(*_student_map(session), 5)


# About half of what the reference reaches on the English substitute in either mode
# (README); the Lee-corpus stand-in is far above. A wrong map scores about 0, and a map
# that is not the best orthogonal fit of the training pairs scores nothing.
LADDERS = {
    "heldout_p1": Ladder(
        heldout_p1, small=(0.035,), full=(0.035,), metric="precision@1 of fit_procrustes"
    ),
    "heldout_p5": Ladder(
        heldout_p5, small=(0.10,), full=(0.10,), metric="precision@5 of fit_procrustes"
    ),
}


def sandbox_data(view) -> None:
    view.dataset("glove-wiki-gigaword-50")
    view.dataset("brown", roles=["brown"])
    view.library("NLTK_DATA")
    # Build (or read back) the grader's spaces now, once per grading run and before any
    # kernel starts, so that a ladder cell's time limit does not pay for them (the mode
    # of the run: the kernels get the grader's COURSE_SMALL).
    try:
        spaces(config.is_small())
    except data.DataError:
        pass  # no data in full mode: the notebook fails too; the ladder says why
