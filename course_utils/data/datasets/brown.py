"""Registry entry ``brown``: the Brown corpus with universal tags, through NLTK."""

from __future__ import annotations

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

# --------------------------------------------------------------------------- Brown
# Read through NLTK (nltk.corpus.brown). NLTK finds its data through NLTK_DATA
# (the mirror's nltk_data folder) or its own download folders; otherwise the two
# zips are located like every registry file (COURSE_DATA mirror, cache, download
# from nltk_data's repository at a pinned commit, checksum verified) and their
# folder is added to nltk.data.path.
_NLTK_COMMIT = "550b6625bcef1f2abff2ff770a5a0d272c9c6b2a"
_NLTK_URLS = (
    f"https://raw.githubusercontent.com/nltk/nltk_data/{_NLTK_COMMIT}/packages",
    "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages",
)
_NLTK_RESOURCES = {"brown": "corpora/brown", "universal_tagset": "taggers/universal_tagset"}


def _nltk_has(resource: str) -> bool:
    import nltk

    try:
        nltk.data.find(resource)
        return True
    except LookupError:
        return False


def _load_brown(get, split, categories=None, tagset="universal", limit=None):
    """Brown tagged sentences through NLTK: a list of [(word, tag), ...]."""
    import nltk

    if tagset not in ("universal", None):
        raise ValueError(f"tagset must be 'universal' or None (Brown's own tags), found {tagset!r}")
    roles = ["brown"] + (["universal_tagset"] if tagset == "universal" else [])
    for role in roles:
        if not _nltk_has(_NLTK_RESOURCES[role]):
            # <root>/corpora/brown.zip -> <root> is an NLTK data folder
            root = str(get(role).parent.parent)
            if root not in nltk.data.path:
                nltk.data.path.append(root)
    from nltk.corpus import brown

    sents = brown.tagged_sents(categories=categories, tagset=tagset)
    if limit is not None:
        sents = sents[:limit]
    return [list(s) for s in sents]


BROWN = Dataset(
    name="brown",
    description="Brown corpus through NLTK: 57,340 tagged sentences (15 categories), "
    "universal tagset by default",
    license="May be used for non-commercial purposes (NLTK data)",
    homepage="https://www.nltk.org/nltk_data/",
    files={
        "brown": RemoteFile(
            "corpora/brown.zip",
            urls=tuple(f"{u}/corpora/brown.zip" for u in _NLTK_URLS),
            sha256="9b275f9b3b95d7bd66ccfb7cd259f445a13bbe5d1f4107aba09fd3e8364bafa6",
            size=3314357,
            mirror_path="nltk_data/corpora/brown.zip",
        ),
        "universal_tagset": RemoteFile(
            "taggers/universal_tagset.zip",
            urls=tuple(f"{u}/taggers/universal_tagset.zip" for u in _NLTK_URLS),
            sha256="d490e1ae8f5625dcdfdda04be15c22a2aade8c2561a36a61edcdf0c7d6aa8352",
            size=19095,
            mirror_path="nltk_data/taggers/universal_tagset.zip",
        ),
    },
    loader=_load_brown,
    standin=lambda split, categories=None, tagset="universal", limit=None: (
        standins.tagged_sentences_like(min(limit or 3000, 3000), seed=20),
        "generated English sentences with universal tags from a small grammar "
        "(course_utils.data.standins), not Brown",
    ),
    notes="load('brown', categories=['news'], tagset='universal'|None, limit=N). NLTK_DATA or "
    "nltk.download('brown'); nltk.download('universal_tagset') also work.",
)

ENTRIES = (BROWN,)
