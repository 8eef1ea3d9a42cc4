"""Atomic checkpoints of a long run (networks, optimizers, step, random states,
optionally the replay buffer) from which it resumes exactly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from course_utils import checkpoint
from course_utils.io import atomic_save_npz
from course_utils.rl.replay import ReplayBuffer

KIND = "training run"  # course_utils.checkpoint kind


def _rng_states(rngs: Mapping[str, Any] | None) -> dict:
    import random

    import torch

    state = {
        "python": random.getstate(),
        "numpy_global": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "generators": {},
    }
    for name, rng in (rngs or {}).items():
        if isinstance(rng, np.random.Generator):
            state["generators"][name] = rng.bit_generator.state
        elif isinstance(rng, torch.Generator):
            state["generators"][name] = rng.get_state()
        else:
            raise TypeError(
                f"rngs[{name!r}] must be a numpy Generator or a torch Generator, got {type(rng).__name__}"
            )
    return state


def _restore_rng_states(state: Mapping[str, Any], rngs: Mapping[str, Any] | None) -> None:
    import random

    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy_global"])
    torch.set_rng_state(state["torch"])
    if state.get("torch_cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])
    for name, rng in (rngs or {}).items():
        if name not in state["generators"]:
            raise KeyError(
                f"the checkpoint has no random generator {name!r}; it has {sorted(state['generators'])}"
            )
        if isinstance(rng, np.random.Generator):
            rng.bit_generator.state = state["generators"][name]
        else:
            rng.set_state(state["generators"][name])


def save_checkpoint(
    path: str | os.PathLike,
    *,
    step: int,
    models: Mapping[str, Any] | None = None,
    optimizers: Mapping[str, Any] | None = None,
    rngs: Mapping[str, Any] | None = None,
    replay_buffer: ReplayBuffer | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save a training run so that it can be resumed exactly; return ``path``.

    Saves the ``state_dict`` of each model and optimizer (by name, e.g.
    ``{"q": q_net, "target": target_net}``), the step counter, the random states
    (Python, NumPy's global one, torch's CPU and CUDA ones, and the named
    NumPy/torch generators in ``rngs``) and anything picklable in ``extra``
    (episode counters, returns so far, even a gymnasium environment).

    The file is a :mod:`course_utils.checkpoint` of kind ``"training run"``. The
    write is atomic: everything goes to a temporary file that then replaces
    ``path`` (``os.replace``), so a run killed while saving leaves the previous
    checkpoint intact. The replay buffer, if given, goes to a separate
    ``<name>.buffer-<id>.npz`` file (written first, also atomically) that the
    checkpoint names; the previous buffer file is deleted after the swap.
    """
    import uuid

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "step": int(step),
        "models": {k: m.state_dict() for k, m in (models or {}).items()},
        "optimizers": {k: o.state_dict() for k, o in (optimizers or {}).items()},
        "rng": _rng_states(rngs),
        "extra": dict(extra or {}),
        "buffer_file": None,
    }
    if replay_buffer is not None:
        buffer_path = path.with_name(f"{path.name}.buffer-{uuid.uuid4().hex[:12]}.npz")
        bstate = replay_buffer.state_dict()
        atomic_save_npz(buffer_path, **{k: np.asarray(v) for k, v in bstate.items()})
        state["buffer_file"] = buffer_path.name
    checkpoint.save(path, KIND, **state)
    for stale in path.parent.glob(f"{path.name}.buffer-*.npz"):  # older buffers of this checkpoint
        if stale.name != state["buffer_file"]:
            stale.unlink(missing_ok=True)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    models: Mapping[str, Any] | None = None,
    optimizers: Mapping[str, Any] | None = None,
    rngs: Mapping[str, Any] | None = None,
    replay_buffer: ReplayBuffer | None = None,
    restore_rng: bool = True,
    map_location=None,
) -> dict:
    """Restore what :func:`save_checkpoint` saved, in place; return ``{"step", "extra"}``.

    Models, optimizers, named generators and the replay buffer are updated in
    place (pass the same names as when saving); the global random states are
    restored unless ``restore_rng=False``. Only load checkpoints you wrote
    yourself: they are pickles (``checkpoint.load(trusted=True)``).
    """
    path = Path(path)
    state = checkpoint.load(path, KIND, trusted=True, map_location=map_location or "cpu")
    for kind, saved, objects in (
        ("model", state["models"], models),
        ("optimizer", state["optimizers"], optimizers),
    ):
        for name, obj in (objects or {}).items():
            if name not in saved:
                raise KeyError(f"the checkpoint has no {kind} {name!r}; it has {sorted(saved)}")
            obj.load_state_dict(saved[name])
    if replay_buffer is not None:
        if not state["buffer_file"]:
            raise ValueError(f"{str(path)!r} was saved without a replay buffer")
        with np.load(path.with_name(state["buffer_file"])) as data:
            replay_buffer.load_state_dict({k: data[k] for k in data.files})
    if restore_rng:
        _restore_rng_states(state["rng"], rngs)
    return {"step": state["step"], "extra": state["extra"]}
