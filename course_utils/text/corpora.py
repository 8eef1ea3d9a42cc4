"""Readers for annotated corpora: CoNLL-U (Universal Dependencies), Brown's
``word/tag`` format, and the word-analogy questions (``questions-words.txt``).

They return ordinary Python lists; the registry in :mod:`course_utils.data`
finds the files (``data.load("ud_english_ewt", split="dev")``,
``data.load("brown")``, ``data.load("questions-words")``).

>>> read_conllu(text="1\\tHi\\thi\\tINTJ\\tUH\\t_\\t0\\troot\\t_\\t_\\n\\n")
[[('Hi', 'INTJ')]]
>>> read_brown_tagged("The/at jury/nn said/vbd ./.", tagset=None)
[[('The', 'AT'), ('jury', 'NN'), ('said', 'VBD'), ('.', '.')]]
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "questions_words_path",
    "read_analogies",
    "read_brown_tagged",
    "read_conllu",
]


def read_conllu(
    path: str | Path | None = None,
    *,
    text: str | None = None,
    fields: Sequence[str] = ("form", "upos"),
) -> list[list[tuple]]:
    """Sentences of a CoNLL-U file as lists of tuples of ``fields``.

    Give either ``path`` or ``text`` (the file's content). Comment lines
    (``# sent_id = ...``) are skipped, and so are multiword-token lines
    (ids like ``1-2``, e.g. "don't" above "do" + "n't") and empty nodes (ids
    like ``8.1`` of enhanced dependencies): what remains are the syntactic words,
    which carry the UPOS tags. ``fields`` are CoNLL-U column names: id, form,
    lemma, upos, xpos, feats, head, deprel, deps, misc. Parsing is done by the
    ``conllu`` package.
    """
    import conllu

    if (path is None) == (text is None):
        raise ValueError("read_conllu needs exactly one of path= or text=")
    if isinstance(fields, str):
        raise TypeError(
            f"fields must be a sequence of column names, e.g. ('form', 'upos'), found {fields!r}"
        )
    known = {"id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc"}
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise ValueError(f"unknown CoNLL-U field(s) {unknown}; expected some of {sorted(known)}")
    handle = open(path, encoding="utf-8") if text is None else io.StringIO(text)
    sentences = []
    with handle:
        for tokenlist in conllu.parse_incr(handle):
            words = [tok for tok in tokenlist if isinstance(tok["id"], int)]
            if words:
                sentences.append([tuple(tok[f] for f in fields) for tok in words])
    return sentences


def read_brown_tagged(
    source: str | Iterable[str], tagset: str | None = "universal"
) -> list[list[tuple[str, str]]]:
    """Parse Brown corpus files (``The/at Fulton/np-tl County/nn-tl ...``).

    ``source`` is the text of one or more corpus files (or an iterable of lines).
    Each non-blank line is one sentence of whitespace-separated ``word/tag``
    tokens; the tag is what follows the last ``/``, upper-cased, as NLTK does.
    ``tagset="universal"`` maps Brown tags to the 12 universal tags with NLTK's
    mapping (needs NLTK's ``universal_tagset`` data, which the registry entry
    ``brown`` provides); ``tagset=None`` keeps the original Brown tags.
    """
    if tagset not in (None, "universal"):
        raise ValueError(f"tagset must be None or 'universal', found {tagset!r}")
    lines = source.splitlines() if isinstance(source, str) else source
    mapper = None
    if tagset == "universal":
        from nltk.tag import map_tag

        def mapper(tag):
            return map_tag("en-brown", "universal", tag)

    sentences = []
    for lineno, line in enumerate(lines, 1):
        tokens = line.split()
        if not tokens:
            continue
        sent = []
        for tok in tokens:
            cut = tok.rfind("/")
            if cut <= 0:
                raise ValueError(f"line {lineno}: token {tok!r} is not of the form word/tag")
            word, tag = tok[:cut], tok[cut + 1 :].upper()
            sent.append((word, mapper(tag) if mapper else tag))
        sentences.append(sent)
    return sentences


def questions_words_path() -> Path:
    """The path of ``questions-words.txt`` (Mikolov et al.'s analogy set) that ships in gensim."""
    from gensim.test.utils import datapath

    return Path(datapath("questions-words.txt"))


def read_analogies(
    path: str | Path | None = None,
    sections: Sequence[str] | None = None,
    lower: bool = False,
) -> dict[str, list[tuple[str, str, str, str]]]:
    """Read an analogy file (``: section`` headers, then ``a b c d`` lines meaning
    a is to b as c is to d) into ``{section: [(a, b, c, d), ...]}``, in file order.

    ``path`` defaults to gensim's ``questions-words.txt`` (19,544 questions in 14
    sections: 5 semantic such as ``capital-common-countries``, ``family``, 9
    syntactic ``gram1-adjective-to-adverb`` ... ``gram9-plural-verbs``).
    ``sections`` keeps only those (an unknown name is an error); ``lower``
    lower-cases the words (GloVe's vocabulary is lower-case).
    To score a gensim model on the whole file use
    ``kv.evaluate_word_analogies(questions_words_path())``.
    """
    path = questions_words_path() if path is None else Path(path)
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                current = line[1:].strip()
                out.setdefault(current, [])
                continue
            words = line.split()
            if current is None or len(words) != 4:
                raise ValueError(
                    f"{path}:{lineno}: expected four words under a ': section' header, found {line!r}"
                )
            if lower:
                words = [w.lower() for w in words]
            out[current].append(tuple(words))
    if sections is not None:
        if isinstance(sections, str):
            sections = [sections]
        missing = [s for s in sections if s not in out]
        if missing:
            raise KeyError(f"no section(s) {missing} in {path}; it has {list(out)}")
        out = {s: out[s] for s in sections}
    return out
