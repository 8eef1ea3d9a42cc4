"""Registry entry ``glove-wiki-gigaword-50``: 50-d GloVe word vectors."""

from __future__ import annotations

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset


# ----------------------------------------------------------------------------- GloVe
def _load_glove(get, split, limit: int | None = None):
    """GloVe vectors as gensim KeyedVectors (``limit``: only the most frequent words)."""
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(get("vectors"), binary=False, limit=limit)


GLOVE_WIKI_GIGAWORD_50 = Dataset(
    name="glove-wiki-gigaword-50",
    description="GloVe 6B 50-d word vectors (Wikipedia + Gigaword), word2vec text format",
    license="PDDL 1.0",
    homepage="https://nlp.stanford.edu/projects/glove/",
    files={
        "vectors": RemoteFile(
            "glove-wiki-gigaword-50.gz",
            urls=(
                "https://github.com/RaRe-Technologies/gensim-data/releases/download/"
                "glove-wiki-gigaword-50/glove-wiki-gigaword-50.gz",
            ),
            sha256=None,
            size=None,
            mirror_path="gensim-data/glove-wiki-gigaword-50/glove-wiki-gigaword-50.gz",
            # the mirror keeps only the 100,000 most frequent of the 400,000 words
            mirror_sha256="bd20cec246bf8f80685b3e1c99e7ace7ebc2f7c390b5ec7886d610d037459989",
        )
    },
    loader=_load_glove,
    standin=lambda split, limit=None: (
        __import__(
            "course_utils.data.standins", fromlist=["small_word_vectors"]
        ).small_word_vectors(50),
        "50-d Word2Vec vectors trained on gensim's bundled Lee corpus, not GloVe",
    ),
    notes="The online file's checksum is not known offline: trusted on first download.",
)


ENTRIES = (GLOVE_WIKI_GIGAWORD_50,)
