"""Registry entry ``questions-words``: Mikolov et al.'s word analogies."""

from __future__ import annotations

from course_utils.data.registry import Dataset


# ------------------------------------------------------------- questions-words
def _load_questions_words(get, split, sections=None, lower=False):
    from course_utils.text.corpora import read_analogies

    return read_analogies(sections=sections, lower=lower)


QUESTIONS_WORDS = Dataset(
    name="questions-words",
    description="Word analogies of Mikolov et al. (2013), 19,544 in 14 sections, shipped in gensim: "
    "{section: [(a, b, c, d), ...]}",
    license="Apache-2.0 (word2vec); file shipped in gensim (LGPL-2.1)",
    homepage="https://code.google.com/archive/p/word2vec/",
    files={},
    loader=_load_questions_words,
    notes="No download: gensim.test.utils.datapath('questions-words.txt'). "
    "load('questions-words', sections=[...], lower=True).",
)

ENTRIES = (QUESTIONS_WORDS,)
