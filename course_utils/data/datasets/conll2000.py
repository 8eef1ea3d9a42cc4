"""Registry entry ``conll2000``: the CoNLL-2000 chunking data, from NLTK's zip."""

from __future__ import annotations

import zipfile

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

# ---------------------------------------------------------------------- CoNLL-2000
# Wall Street Journal sentences with a part-of-speech tag and a BIO chunk tag per
# word (Tjong Kim Sang and Buchholz, 2000): sections 15-18 for training (8,936
# sentences), section 20 for testing (2,012). The zip is NLTK's (the same file
# `nltk.download("conll2000")` fetches); it is read here directly, one line
# "word POS chunk" per word and a blank line between sentences, which gives what
# nltk.corpus.conll2000.iob_sents() gives without depending on NLTK_DATA.
_NLTK_COMMIT = "550b6625bcef1f2abff2ff770a5a0d272c9c6b2a"
_NLTK_URLS = (
    f"https://raw.githubusercontent.com/nltk/nltk_data/{_NLTK_COMMIT}/packages",
    "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages",
)
SPLITS = ("train", "test")


def member(split: str) -> str:
    """The zip member that holds ``split``."""
    return f"conll2000/{split}.txt"


def parse(text: str) -> list[list[tuple[str, str, str]]]:
    """CoNLL-2000 text -> sentences of ``(word, pos, chunk)`` triples."""
    sentences, current = [], []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            if current:
                sentences.append(current)
                current = []
            continue
        if len(fields) != 3:
            raise ValueError(f"expected 'word POS chunk', found {line!r}")
        current.append((fields[0], fields[1], fields[2]))
    if current:
        sentences.append(current)
    return sentences


def _load_conll2000(get, split, limit=None):
    from course_utils.data import DataError

    path = get("corpus")
    with zipfile.ZipFile(path) as archive:
        if member(split) not in archive.namelist():
            raise DataError(
                f"conll2000: {path} has no {member(split)} (it holds "
                f"{', '.join(n for n in archive.namelist() if n.endswith('.txt'))}); "
                "a homework's grading sandbox gets the training sentences only"
            )
        sentences = parse(archive.read(member(split)).decode("utf-8"))
    return sentences[:limit] if limit is not None else sentences


CONLL2000 = Dataset(
    name="conll2000",
    description="CoNLL-2000 chunking (WSJ): sentences of (word, POS, BIO chunk tag), "
    "8,936 train / 2,012 test",
    license="NLTK data (Penn Treebank WSJ text; research and teaching use)",
    homepage="https://www.clips.uantwerpen.be/conll2000/chunking/",
    files={
        "corpus": RemoteFile(
            "corpora/conll2000.zip",
            urls=tuple(f"{u}/corpora/conll2000.zip" for u in _NLTK_URLS),
            sha256="01e65164f268366e7caa0db92332a1955d081908c87016e2c7640c3c5279b7cd",
            size=756607,
            mirror_path="nltk_data/corpora/conll2000.zip",
        ),
    },
    splits=SPLITS,
    loader=_load_conll2000,
    standin=lambda split, limit=None: (
        _standin(split)[:limit] if limit is not None else _standin(split),
        "generated English sentences with POS and BIO chunk tags from a small grammar "
        "(course_utils.data.standins), not the Wall Street Journal",
    ),
    notes="load('conll2000', split='train'|'test', limit=N): a list of sentences, each a list "
    "of (word, pos, chunk) triples, as nltk.corpus.conll2000.iob_sents(). Chunk tags: O, "
    "B-X and I-X for X in NP VP PP ADVP ADJP SBAR PRT CONJP INTJ LST UCP.",
)

# ------------------------------------------------------------------- stand-in
# The generated sentences of standins.tagged_sentences_like (universal tags), chunked
# by rule: noun phrases (determiner, number, adjective, noun, pronoun) are NP, adverbs,
# "not" and verbs VP, prepositions PP, the particle "up" PRT, conjunctions and
# punctuation O. Words such as "book", "run" and "watch" are nouns or verbs, so the
# chunk tag depends on the context, as in the real data.
_PTB = {
    "DET": "DT",
    "ADJ": "JJ",
    "NOUN": "NN",
    "VERB": "VBZ",
    "ADP": "IN",
    "PRON": "PRP",
    "ADV": "RB",
    "CONJ": "CC",
    "NUM": "CD",
    ".": ".",
}
_CHUNK = {
    "DET": "NP",
    "ADJ": "NP",
    "NOUN": "NP",
    "NUM": "NP",
    "PRON": "NP",
    "ADV": "VP",
    "VERB": "VP",
    "ADP": "PP",
}


def _chunked(sentence):
    out, previous = [], None
    for word, tag in sentence:
        if tag == "PRT":
            kind, pos = ("PRT", "RP") if word.lower() == "up" else ("VP", "RB")
        else:
            kind, pos = _CHUNK.get(tag), _PTB[tag]
        # a pronoun is a noun phrase of its own; the other words of a kind continue it
        starts = kind != previous or tag == "PRON" or kind in ("PP", "PRT")
        out.append((word, pos, "O" if kind is None else ("B-" if starts else "I-") + kind))
        previous = kind
    return out


def _standin(split):
    sentences = standins.tagged_sentences_like(
        {"train": 3000, "test": 600}[split], seed={"train": 30, "test": 31}[split]
    )
    return [_chunked(s) for s in sentences]


ENTRIES = (CONLL2000,)
