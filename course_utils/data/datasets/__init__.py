"""One module per dataset (its files with checksums and mirror paths, its loader and
its small-mode stand-in), each exposing ``ENTRIES``; :func:`register_all` registers
them in the order listed here. ``course new dataset NAME`` adds a module and its line.
"""

from __future__ import annotations

import importlib

from course_utils.data.registry import REGISTRY, register

# one line per dataset module, in alphabetical order (`course new dataset` adds its own)
NAMES = (
    "ag_news",
    "brown",
    "cifar10",
    "conll2000",
    "fasttext",
    "flickr8k",
    "glove",
    "he_translit",
    "isbi_membrane",
    "job_salaries",
    "mnist",
    "multi30k",
    "photos",
    "questions_words",
    "toxic_comments",
    "ud_english_ewt",
    "uk_ru_dictionary",
)
MODULES = tuple(importlib.import_module(f"{__name__}.{name}") for name in NAMES)


def register_all() -> None:
    """Register every module's entries (once; called by ``course_utils.data``)."""
    for module in MODULES:
        for entry in module.ENTRIES:
            if REGISTRY.get(entry.name) is not entry:
                register(entry)
