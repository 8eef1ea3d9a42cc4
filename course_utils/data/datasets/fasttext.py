"""Registry entries ``fasttext_uk`` and ``fasttext_ru``: fastText word vectors
trained on Common Crawl and Wikipedia (Grave et al., 2018), 300-d, 2 million words
each, in the ``.vec`` text format (gzip).

They are large (about 1.2 GB each compressed) and not in the course's data
mirror: online only. ``limit=`` reads only the most frequent words (the file is
sorted by frequency), which is what homework 04 does:

>>> from course_utils import data
>>> uk = data.load("fasttext_uk", limit=200_000)   # gensim KeyedVectors
"""

from __future__ import annotations

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

_BASE = "https://dl.fbaipublicfiles.com/fasttext/vectors-crawl"


def _load_vec(get, split, limit: int | None = None):
    from gensim.models import KeyedVectors

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be None or an int >= 1, found {limit!r}")
    return KeyedVectors.load_word2vec_format(get("vectors"), binary=False, limit=limit)


ENTRIES = tuple(
    Dataset(
        name=f"fasttext_{lang}",
        description=f"fastText {name} word vectors (Common Crawl + Wikipedia), 300-d, "
        "2,000,000 words, most frequent first; load(..., limit=N) reads the first N",
        license="CC BY-SA 3.0",
        homepage="https://fasttext.cc/docs/en/crawl-vectors.html",
        files={
            "vectors": RemoteFile(
                f"cc.{lang}.300.vec.gz",
                urls=(f"{_BASE}/cc.{lang}.300.vec.gz",),
                sha256=None,
                size=None,
            )
        },
        loader=_load_vec,
        notes="Online only (about 1.2 GB, not mirrored); the checksum is trusted on first "
        "download. No stand-in: homework 04 uses its own labelled substitute offline.",
    )
    for lang, name in (("uk", "Ukrainian"), ("ru", "Russian"))
)
