"""One checkpoint format for the whole course: a ``torch.save`` file holding a dict
tagged with its kind, written atomically, read back with a clear error when the file
is missing, broken, of another kind or of another version.

>>> checkpoint.save("model.pt", "captioner", state_dict=model.state_dict(), config=cfg)
>>> state = checkpoint.load("model.pt", "captioner")     # {"state_dict": ..., "config": ...}

Every checkpoint the course writes goes through here: ``rl.save_checkpoint`` (a
resumable training run: networks, optimizers, random states, replay buffer),
``train.load_or_train`` (weights and history), ``vision.classify.save_classifier``
(a self-contained classifier) and the lessons' own models. The kind names what the
file holds, so loading a classifier where a training run is expected says so.

Loading uses ``weights_only=True`` (plain containers and tensors: safe on a file from
elsewhere) unless ``trusted=True``, which a resumable run needs for its random states
and picklable extras: only pass it for files you wrote yourself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from course_utils.io import atomic_write

__all__ = ["FORMAT", "CheckpointError", "load", "save"]

FORMAT = "course_utils checkpoint"
_RESERVED = ("format", "kind", "version")


class CheckpointError(ValueError):
    """A file that is not a checkpoint of the expected kind and version."""


def save(path: str | os.PathLike, kind: str, /, *, version: int = 1, **fields: Any) -> Path:
    """Write ``fields`` (tensors, state dicts, plain containers...) to ``path`` as a
    checkpoint of ``kind``; atomic: a crash while writing keeps the previous file."""
    import torch

    if not isinstance(kind, str) or not kind:
        raise ValueError(f"checkpoint kind must be a non-empty str, found {kind!r}")
    clash = [k for k in _RESERVED if k in fields]
    if clash:
        raise ValueError(f"checkpoint fields may not be named {clash} (reserved)")
    state = {"format": FORMAT, "kind": kind, "version": int(version), **fields}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load(
    path: str | os.PathLike,
    kind: str,
    version: int = 1,
    *,
    trusted: bool = False,
    map_location: Any = "cpu",
) -> dict[str, Any]:
    """The fields :func:`save` wrote to ``path`` (without the format tags).

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for a
    file that is not a course checkpoint, or one of another kind or version."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {str(path)!r}" + (" (it is a folder)" if path.is_dir() else "")
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=not trusted)
    except Exception as exc:  # pickle, zip and torch errors all mean "not a checkpoint"
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise CheckpointError(
            f"{path} is not a {kind} checkpoint (torch.load failed: {type(exc).__name__}: {first})"
        ) from None
    if not isinstance(state, Mapping) or state.get("format") != FORMAT:
        found = (
            f"a dict with keys {sorted(map(str, state))[:8]}"
            if isinstance(state, Mapping)
            else type(state).__name__
        )
        raise CheckpointError(
            f"{path} is not a {kind} checkpoint written by course_utils.checkpoint.save "
            f"(found {found})"
        )
    if state.get("kind") != kind:
        raise CheckpointError(f"{path} is a {state.get('kind')!r} checkpoint, expected {kind!r}")
    if state.get("version") != version:
        raise CheckpointError(
            f"{path}: {kind} checkpoint version {state.get('version')!r}, this course_utils "
            f"reads version {version}"
        )
    return {k: v for k, v in state.items() if k not in _RESERVED}
