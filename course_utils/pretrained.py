"""Pretrained Hugging Face models, found like the course's data.

>>> tokenizer, model = load_transformer()                       # MiniLM-L6, 384-d
>>> from transformers import AutoModelForSequenceClassification
>>> tok, clf = load_transformer(model_class=AutoModelForSequenceClassification, num_labels=4)

Where the weights are looked for, in order:

1. the data mirror named by ``COURSE_DATA`` (``<mirror>/huggingface/hub``, the
   Hugging Face cache layout), read with ``local_files_only``;
2. Hugging Face's own cache (``HF_HOME``; ``HF_HOME=<mirror>/huggingface`` with
   ``HF_HUB_OFFLINE=1`` works too);
3. the Hub, unless ``COURSE_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``;
4. in small mode, a stand-in: a tiny randomly initialised BERT with a tokenizer
   trained on gensim's bundled corpus (announced loudly; not pretrained); in
   full mode a :class:`course_utils.data.DataError` that says what to do.
"""

from __future__ import annotations

import os
import sys
import warnings

from course_utils import config

__all__ = ["MINILM", "load_transformer"]

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
_TRUE = {"1", "true", "yes", "on"}


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def load_transformer(name: str = MINILM, model_class=None, **model_kwargs):
    """``(tokenizer, model)`` for the Hugging Face model ``name``.

    ``model_class``: a transformers ``Auto*`` class (default ``AutoModel``, the
    bare encoder; e.g. ``AutoModelForSequenceClassification`` with
    ``num_labels=4``). ``model_kwargs`` go to ``from_pretrained`` (and to the
    stand-in's config). The model is returned in eval mode.
    """
    from transformers import AutoModel, AutoTokenizer

    from course_utils.data import DataError, StandInWarning

    cls = model_class or AutoModel
    looked, errors = [], []

    def attempt(where, **kw):
        looked.append(where)
        try:
            tok = AutoTokenizer.from_pretrained(name, **kw)
            model = cls.from_pretrained(name, **kw, **model_kwargs)
        except (OSError, ValueError) as exc:
            errors.append(f"{where}: {str(exc).splitlines()[0][:200]}")
            return None
        model.eval()
        return tok, model

    mirror = config.mirror_dir()
    hub = None if mirror is None else mirror / "huggingface" / "hub"
    if hub is None:
        looked.append("mirror: COURSE_DATA is not set")
    elif (hub / ("models--" + name.replace("/", "--"))).is_dir():
        found = attempt(f"mirror: {hub}", cache_dir=str(hub), local_files_only=True)
        if found:
            return found
    else:
        looked.append(f"mirror: {hub} has no {name}")
    found = attempt(f"Hugging Face cache (HF_HOME={os.environ.get('HF_HOME', 'default')})",
                    local_files_only=True)
    if found:
        return found
    if config.offline() or _hub_offline():
        looked.append("Hub: skipped (COURSE_OFFLINE=1 or HF_HUB_OFFLINE=1)")
    else:
        found = attempt("Hugging Face Hub")
        if found:
            return found

    if config.is_small():
        from course_utils.data.standins import tiny_bert

        what = (f"a tiny randomly initialised BERT (2 layers, 384-d) instead of {name}, "
                "NOT pretrained: results say nothing about the real model")
        note = (f"STAND-IN MODEL: {what}. Looked in: {'; '.join(looked)}. Small mode only.")
        print("\n" + "!" * 78 + f"\n{note}\n" + "!" * 78, file=sys.stderr)
        warnings.warn(f"stand-in model for {name!r}: {what}", StandInWarning, stacklevel=2)
        return tiny_bert(model_class=cls, **model_kwargs)
    raise DataError(
        f"pretrained model {name!r} was not found.\nLooked in:\n  " + "\n  ".join(looked)
        + ("\nErrors:\n  " + "\n  ".join(errors) if errors else "")
        + "\nTo fix: point COURSE_DATA at a data mirror that has huggingface/hub/models--"
        + name.replace("/", "--")
        + "; or set HF_HOME to a Hugging Face cache that has it (with HF_HUB_OFFLINE=1 offline);"
        + " or run once where the network reaches huggingface.co (unset HF_HUB_OFFLINE and "
        "COURSE_OFFLINE)."
    )
