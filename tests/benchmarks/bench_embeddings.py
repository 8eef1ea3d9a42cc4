"""Word-analogy accuracy of GloVe-50 and of Word2Vec trained on Brown (notebook nlp/01).

- GloVe 6B 50-d (registry entry ``glove-wiki-gigaword-50``). The course's data mirror
  holds only the 100,000 most frequent of its 400,000 words, so ``restrict_vocab`` is
  100,000 (gensim's default is 300,000); questions with a word outside that vocabulary
  are skipped, as gensim does, and the coverage is given in the notes.
- Word2Vec (gensim, skip-gram, negative sampling) trained on all of Brown (57,340
  sentences through NLTK, re-tokenised with ``course_utils.text.tokenize``), with the
  notebook's full-mode settings.

Both are scored with gensim's ``KeyedVectors.evaluate_word_analogies`` on
``questions-words.txt`` (19,544 questions, 3CosAdd, question words excluded, case
folded), an implementation independent of the notebook's own vectorised loop.
"""

from __future__ import annotations

import time

from course_utils import data
from course_utils.text import tokenize
from course_utils.text.corpora import questions_words_path

GLOVE_RESTRICT = 100_000
W2V = dict(
    vector_size=100,
    window=5,
    min_count=5,
    sg=1,
    negative=5,
    sample=1e-3,
    epochs=15,
    workers=2,
    seed=0,
)


def _score(kv, restrict):
    total, sections = kv.evaluate_word_analogies(
        str(questions_words_path()), restrict_vocab=restrict
    )
    parts = {}
    for sec in sections:
        n = len(sec["correct"]) + len(sec["incorrect"])
        kind = (
            "total"
            if sec["section"] == "Total accuracy"
            else ("syntactic" if sec["section"].startswith("gram") else "semantic")
        )
        c, k = parts.get(kind, (0, 0))
        parts[kind] = (c + len(sec["correct"]), k + n)
    return total, {k: (c / n if n else float("nan"), n) for k, (c, n) in parts.items()}


def run() -> list[dict]:
    rows = []
    start = time.perf_counter()
    glove = data.load("glove-wiki-gigaword-50")
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    total, parts = _score(glove, min(GLOVE_RESTRICT, len(glove)))
    eval_s = time.perf_counter() - start
    covered = parts["total"][1]
    rows.append(
        {
            "benchmark": "embeddings",
            "metric": "GloVe-50 analogy accuracy (questions-words)",
            "value": round(float(total), 4),
            "target": "reported",
            "passed": None,
            "seconds": round(load_s + eval_s, 1),
            "notes": (
                f"gensim evaluate_word_analogies, restrict_vocab={min(GLOVE_RESTRICT, len(glove)):,} "
                f"(the mirror holds only the 100,000 most frequent GloVe words); {covered:,}/19,544 "
                f"questions covered; semantic {parts['semantic'][0]:.4f} ({parts['semantic'][1]:,}), "
                f"syntactic {parts['syntactic'][0]:.4f} ({parts['syntactic'][1]:,}); "
                f"load {load_s:.0f} s, evaluation {eval_s:.0f} s"
            ),
        }
    )

    from gensim.models import Word2Vec

    start = time.perf_counter()
    brown = data.load("brown", tagset=None)
    sentences = [tokenize(" ".join(w for w, _ in sent)) for sent in brown]
    prep_s = time.perf_counter() - start
    start = time.perf_counter()
    model = Word2Vec(sentences, **W2V)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    total_w2v, parts_w2v = _score(model.wv, len(model.wv))
    eval_w2v_s = time.perf_counter() - start
    n_tokens = sum(map(len, sentences))
    rows.append(
        {
            "benchmark": "embeddings",
            "metric": "Word2Vec on Brown analogy accuracy (questions-words)",
            "value": round(float(total_w2v), 4),
            "target": "reported",
            "passed": None,
            "seconds": round(prep_s + train_s + eval_w2v_s, 1),
            "notes": (
                f"skip-gram {W2V}; {len(sentences):,} sentences, {n_tokens:,} tokens, vocabulary "
                f"{len(model.wv):,}; {parts_w2v['total'][1]:,}/19,544 questions covered; semantic "
                f"{parts_w2v['semantic'][0]:.4f}, syntactic {parts_w2v['syntactic'][0]:.4f}; for comparison "
                f"with GloVe ({float(total):.4f} on its covered questions); load+tokenise {prep_s:.0f} s, "
                f"training {train_s:.0f} s, evaluation {eval_w2v_s:.0f} s"
            ),
        }
    )
    return rows


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(row)
