"""Registry entry ``ud_english_ewt``: Universal Dependencies English Web Treebank."""

from __future__ import annotations

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

# ---------------------------------------------------------------- ud_english_ewt
# Commit behind the r2.16 tag of UD_English-EWT; the mirror's dev and test files
# are the r2.16 release (their MANIFEST.tsv digests below). The train file is
# not in the mirror, so its digest is trusted on first download.
_UD_COMMIT = "4c89b5833a70aa5ed3a00bad2f23f57992cc7df8"
_UD_URLS = (
    f"https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/{_UD_COMMIT}",
    "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.16",
)


def _load_ud(get, split, fields=("form", "upos")):
    from course_utils.text.corpora import read_conllu

    return read_conllu(get(split), fields=fields)


UD_ENGLISH_EWT = Dataset(
    name="ud_english_ewt",
    description="Universal Dependencies English Web Treebank r2.16, sentences of (word, UPOS): "
    "about 12,500 train (online only) / 2,001 dev / 2,077 test",
    license="CC BY-SA 4.0",
    homepage="https://github.com/UniversalDependencies/UD_English-EWT",
    files={
        "train": RemoteFile(
            "en_ewt-ud-train.conllu",
            urls=tuple(f"{u}/en_ewt-ud-train.conllu" for u in _UD_URLS),
            sha256=None,
            size=None,  # about 15 MB
        ),
        "dev": RemoteFile(
            "en_ewt-ud-dev.conllu",
            urls=tuple(f"{u}/en_ewt-ud-dev.conllu" for u in _UD_URLS),
            sha256="531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
            size=1805545,
            mirror_path="ud_english_ewt/en_ewt-ud-dev.conllu",
        ),
        "test": RemoteFile(
            "en_ewt-ud-test.conllu",
            urls=tuple(f"{u}/en_ewt-ud-test.conllu" for u in _UD_URLS),
            sha256="e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
            size=1804515,
            mirror_path="ud_english_ewt/en_ewt-ud-test.conllu",
        ),
    },
    splits=("train", "dev", "test"),
    loader=_load_ud,
    standin=lambda split, fields=("form", "upos"): (
        _ud_standin(split, fields),
        "generated English sentences with UPOS tags from a small grammar (course_utils.data.standins)",
    ),
    notes="The train split's checksum is not known offline: trusted on first download. "
    "Multiword tokens (1-2) and empty nodes (8.1) are skipped; fields= picks other columns.",
)


def _ud_standin(split, fields):
    if tuple(fields) != ("form", "upos"):
        raise ValueError(
            f"the ud_english_ewt stand-in has only fields ('form', 'upos'), not {fields!r}"
        )
    return standins.tagged_sentences_like(
        {"train": 4000, "dev": 1000, "test": 1000}[split],
        seed={"train": 10, "dev": 11, "test": 12}[split],
        tagset="upos",
    )


ENTRIES = (UD_ENGLISH_EWT,)
