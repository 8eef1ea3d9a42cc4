"""Mode switch, step cap, seeding, device choice and paths: read in one place.

``COURSE_SMALL=1`` switches every notebook to small mode: a small slice of the
data, a small model and one or two epochs, so that the notebook finishes in about
a minute on two CPU cores. Anything else (or unset) is full mode.

``COURSE_STEP_CAP=N`` (a positive integer; maintainers only) keeps every size of the
mode but stops training early: :func:`course_utils.train.fit` runs one epoch of at most
N optimizer steps (see :func:`step_cap`). ``make test-full`` runs every lesson in full
mode this way, so that full-mode code paths (full data, augmentations, model widths)
run on every change; the lessons' targets are then not checked (:func:`trained_fully`).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_small() -> bool:
    """True when ``COURSE_SMALL`` asks for small mode (read at every call)."""
    raw = os.environ.get("COURSE_SMALL", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"COURSE_SMALL must be one of 1/0/true/false/yes/no, found {raw!r}")


#: Mode at import time; notebooks use ``SMALL`` for their size knobs.
SMALL: bool = is_small()


def step_cap() -> int | None:
    """The step cap from ``COURSE_STEP_CAP`` (read at every call): None when unset or
    empty, else a positive integer N. Under a cap :func:`course_utils.train.fit` trains
    one epoch of at most N optimizer steps. Anything but a positive integer is an error."""
    raw = os.environ.get("COURSE_STEP_CAP", "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
        raise ValueError(
            f"COURSE_STEP_CAP must be a positive integer (optimizer steps per epoch), "
            f"found {raw!r}; unset it for uncapped training"
        )
    return int(raw)


def trained_fully() -> bool:
    """False under ``COURSE_STEP_CAP`` (training stopped after a few steps, so a lesson's
    targets on accuracy, return, BLEU ... cannot hold), after printing that the targets are
    not checked; True otherwise. Lessons guard their targets with it::

        if not SMALL and course_utils.trained_fully():  # full-mode targets
            assert accuracy >= 0.9
    """
    cap = step_cap()
    if cap is None:
        return True
    print(f"targets not checked: training capped at {cap} steps (COURSE_STEP_CAP)")
    return False


DEFAULT_SEED = 0


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed ``random``, NumPy and torch (CPU and CUDA); return the seed.

    Gymnasium environments are seeded through ``env.reset(seed=...)``;
    :func:`course_utils.rl.make_env` does that with this seed.
    """
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        pass
    try:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:  # pragma: no cover
        pass
    return seed


def device(prefer: str | None = None):
    """The torch device to train on: CUDA when present, else CPU.

    ``COURSE_DEVICE`` (or ``prefer``) overrides the choice, e.g. ``cpu``.
    Never hard-codes ``cuda:0``.
    """
    import torch

    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cache_dir() -> Path:
    """Where downloads are kept: ``COURSE_CACHE`` or ``~/.cache/course_utils``."""
    raw = os.environ.get("COURSE_CACHE")
    if raw:
        return Path(raw).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "course_utils"


def mirror_dir() -> Path | None:
    """The local read-only data mirror named by ``COURSE_DATA``, if any."""
    raw = os.environ.get("COURSE_DATA")
    return Path(raw).expanduser() if raw else None


def offline() -> bool:
    """True when ``COURSE_OFFLINE=1``: never try the network."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in _TRUE
