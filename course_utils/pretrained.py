"""Pretrained models, found like the course's data: Hugging Face transformers
(:func:`load_transformer`) and torchvision's ImageNet models (:func:`load_torchvision`).

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
from pathlib import Path

from course_utils import config

__all__ = ["MINILM", "load_torchvision", "load_transformer", "torchvision_weights"]

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

    from course_utils.data import DataError, StandInWarning, note_standin

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
    found = attempt(
        f"Hugging Face cache (HF_HOME={os.environ.get('HF_HOME', 'default')})",
        local_files_only=True,
    )
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

        what = (
            f"a tiny randomly initialised BERT (2 layers, 384-d) instead of {name}, "
            "NOT pretrained: results say nothing about the real model"
        )
        note = f"STAND-IN MODEL: {what}. Looked in: {'; '.join(looked)}. Small mode only."
        print("\n" + "!" * 78 + f"\n{note}\n" + "!" * 78, file=sys.stderr)
        warnings.warn(f"stand-in model for {name!r}: {what}", StandInWarning, stacklevel=2)
        note_standin(name, what)
        return tiny_bert(model_class=cls, **model_kwargs)
    raise DataError(
        f"pretrained model {name!r} was not found.\nLooked in:\n  "
        + "\n  ".join(looked)
        + ("\nErrors:\n  " + "\n  ".join(errors) if errors else "")
        + "\nTo fix: point COURSE_DATA at a data mirror that has huggingface/hub/models--"
        + name.replace("/", "--")
        + "; or set HF_HOME to a Hugging Face cache that has it (with HF_HUB_OFFLINE=1 offline);"
        + " or run once where the network reaches huggingface.co (unset HF_HUB_OFFLINE and "
        "COURSE_OFFLINE)."
    )


# ------------------------------------------------------------------ torchvision
def torchvision_weights(name: str, weights: str = "DEFAULT"):
    """The torchvision weights enum member for model ``name`` (e.g.
    ``torchvision_weights("mobilenet_v2").transforms()``); no download."""
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(name)
    except (KeyError, ValueError):
        from torchvision.models import list_models

        raise ValueError(
            f"unknown torchvision model {name!r}; expected one of torchvision.models.list_models(), "
            f"e.g. {', '.join(m for m in list_models() if m.startswith(('mobilenet', 'resnet', 'vgg', 'dense')))}"
        ) from None
    try:
        return enum[weights] if weights != "DEFAULT" else enum.DEFAULT
    except KeyError:
        raise ValueError(
            f"model {name!r} has no weights {weights!r}; expected one of {[w.name for w in enum]}"
        ) from None


def _checkpoint_dirs():
    import torch

    dirs = [("TORCH_HOME / torch hub", Path(torch.hub.get_dir()) / "checkpoints")]
    mirror = config.mirror_dir()
    if mirror is not None:
        dirs.append(("mirror", mirror / "torch" / "hub" / "checkpoints"))
    return dirs


def load_torchvision(name: str = "mobilenet_v2", weights: str = "DEFAULT", **model_kwargs):
    """``(model, weights)``: torchvision model ``name`` with its ImageNet weights,
    in eval mode. ``weights.transforms()`` is the matching preprocessing and
    ``weights.meta["categories"]`` the class names.

    The weights file is looked for in the torch hub cache (``TORCH_HOME``), then
    in the data mirror (``COURSE_DATA/torch/hub/checkpoints``) (with
    ``weights="DEFAULT"`` any of the model's ImageNet weights found there will
    do; the returned ``weights`` says which), then downloaded
    (torch hub checks the hash in the file name) unless ``COURSE_OFFLINE=1``.
    Without any of them: in small mode a randomly initialised model, announced
    loudly; in full mode a :class:`course_utils.data.DataError` saying what to do.
    """
    import torch
    from torchvision.models import get_model

    from course_utils.data import DataError, StandInWarning, note_standin

    w = torchvision_weights(name, weights)
    filename = w.url.rsplit("/", 1)[-1]
    # "DEFAULT" accepts any ImageNet weights of the model already on disk
    # (the mirror holds MobileNetV2's IMAGENET1K_V1, the default is V2).
    candidates = [w] + ([o for o in type(w) if o is not w] if weights == "DEFAULT" else [])
    looked = []
    for where, folder in _checkpoint_dirs():
        for cand in candidates:
            path = folder / cand.url.rsplit("/", 1)[-1]
            looked.append(f"{where}: {path}")
            if path.is_file():
                model = get_model(name, weights=None, **model_kwargs)
                state = torch.hub.load_state_dict_from_url(
                    cand.url, model_dir=str(folder), map_location="cpu", progress=False
                )
                model.load_state_dict(state)
                return model.eval(), cand
    if config.offline():
        looked.append(f"download from {w.url}: skipped (COURSE_OFFLINE=1)")
    else:
        try:
            return get_model(name, weights=w, **model_kwargs).eval(), w
        except (OSError, RuntimeError) as exc:  # URLError is an OSError
            looked.append(f"download from {w.url}: {str(exc).splitlines()[0][:200]}")
    if config.is_small():
        what = (
            f"{name} with RANDOM weights instead of {w}: features and predictions are "
            "meaningless, only the code path is exercised"
        )
        print(
            "\n" + "!" * 78 + f"\nSTAND-IN MODEL: {what}. Looked in: {'; '.join(looked)}. "
            "Small mode only.\n" + "!" * 78,
            file=sys.stderr,
        )
        warnings.warn(f"stand-in model for {name!r}: {what}", StandInWarning, stacklevel=2)
        note_standin(name, what)
        return get_model(name, weights=None, **model_kwargs).eval(), w
    raise DataError(
        f"pretrained weights {w} ({filename}) were not found.\nLooked in:\n  "
        + "\n  ".join(looked)
        + f"\nTo fix: set TORCH_HOME to a folder whose hub/checkpoints/ holds {filename}; or point "
        f"COURSE_DATA at a data mirror with torch/hub/checkpoints/{filename}; or run once where the "
        f"network reaches {w.url} (unset COURSE_OFFLINE)."
    )
