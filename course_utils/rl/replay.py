"""Uniform experience replay in preallocated NumPy arrays, with a memory check before
allocating."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from course_utils.rl.envs import _to_numpy

MEMORY_FRACTION = 0.9


def available_memory_bytes() -> int | None:
    """Memory the system can give this process now, in bytes; ``None`` if unknown.

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux, Colab), else asks
    ``psutil`` when it is installed (macOS, Windows).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file counts kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # pragma: no cover - psutil missing or unsupported platform
        return None


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``: a size in bytes, readable."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_memory(needed: int, what: str = "this allocation", hint: str = "") -> None:
    """Raise ``MemoryError`` when ``needed`` bytes exceed what the machine has free.

    The limit is :data:`MEMORY_FRACTION` of :func:`available_memory_bytes`; when the
    available memory is unknown nothing is checked. ``hint`` says what to change
    (it is appended to the message).
    """
    available = available_memory_bytes()
    if available is None:
        return
    limit = int(available * MEMORY_FRACTION)
    if needed > limit:
        raise MemoryError(
            f"{what} needs {format_bytes(needed)}, but only {format_bytes(available)} of memory "
            f"is available ({format_bytes(limit)} usable, {MEMORY_FRACTION:.0%}). {hint}".rstrip()
        )


_check_memory = check_memory  # ReplayBuffer's argument of the same name hides it


class Batch(NamedTuple):
    """A sampled batch of transitions (NumPy arrays or torch tensors)."""

    obs: Any  #: observations, ``[batch, *obs_shape]``
    actions: Any  #: actions taken, ``[batch, *action_shape]``
    rewards: Any  #: float32 ``[batch]``
    next_obs: Any  #: observations after the action, ``[batch, *obs_shape]``
    dones: Any  #: float32 ``[batch]``: 1.0 where the episode *terminated* there

    def __repr__(self) -> str:
        parts = [
            f"{name}={type(value).__name__}{tuple(value.shape)} {value.dtype}"
            for name, value in zip(self._fields, self)
        ]
        return "Batch(" + ", ".join(parts) + ")"


class ReplayBuffer:
    """A uniform experience-replay buffer in preallocated NumPy arrays.

    Stores transitions ``(obs, action, reward, next_obs, terminated)`` in a ring:
    once ``capacity`` transitions are stored, each new one overwrites the oldest.
    ``sample`` draws a batch uniformly with replacement from what is stored.

    - ``obs_shape``/``obs_dtype``: one observation, e.g. ``(4,)``/``float32`` for
      CartPole or ``(4, 84, 84)``/``uint8`` for stacked Atari frames (keep frames
      as ``uint8``: four times smaller than float32; divide by 255 in the network).
    - ``action_shape``/``action_dtype``: ``()``/``int64`` for discrete actions.
    - ``terminated`` must be the environment's ``terminated`` flag, *not*
      ``terminated or truncated``: a transition cut by a time limit still has a
      next state worth bootstrapping from. Stored as ``dones`` (float32 1.0/0.0).

    The arrays are allocated once in ``__init__``; before that the needed memory is
    compared with the available memory (``check_memory=True``) and a
    ``MemoryError`` says what to change, rather than the process being killed
    hours into a run when the pages are finally touched.
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: Sequence[int],
        obs_dtype: Any = np.float32,
        action_shape: Sequence[int] = (),
        action_dtype: Any = np.int64,
        *,
        check_memory: bool = True,
    ):
        if not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        if isinstance(obs_shape, (int, np.integer)):
            obs_shape = (obs_shape,)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.obs_dtype = np.dtype(obs_dtype)
        self.action_shape = tuple(int(d) for d in action_shape)
        self.action_dtype = np.dtype(action_dtype)
        if check_memory:
            per = self.bytes_per_transition()
            fits = int((available_memory_bytes() or 0) * MEMORY_FRACTION // per)
            _check_memory(
                self.capacity * per,
                what=(
                    f"ReplayBuffer(capacity={self.capacity:,}, obs {self.obs_shape} "
                    f"{self.obs_dtype.name}: {format_bytes(per)} per transition)"
                ),
                hint=(
                    f"Lower the capacity to at most {fits:,} transitions"
                    + (
                        " (store frames as uint8, not float32)"
                        if self.obs_dtype.itemsize > 1
                        else ""
                    )
                    + ", or free memory (restart other notebooks)."
                ),
            )
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=self.obs_dtype)
        self.next_obs = np.zeros((self.capacity, *self.obs_shape), dtype=self.obs_dtype)
        self.actions = np.zeros((self.capacity, *self.action_shape), dtype=self.action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.dones = np.zeros(self.capacity, dtype=np.float32)
        self.pos = 0  # where the next transition goes
        self.size = 0  # how many are stored

    # -- sizes ------------------------------------------------------------- #

    @staticmethod
    def estimate_bytes(
        capacity: int,
        obs_shape: Sequence[int],
        obs_dtype: Any = np.float32,
        action_shape: Sequence[int] = (),
        action_dtype: Any = np.int64,
    ) -> int:
        """Bytes a buffer of these sizes allocates (without allocating it)."""
        obs = int(np.prod(obs_shape)) * np.dtype(obs_dtype).itemsize
        act = int(np.prod(action_shape)) * np.dtype(action_dtype).itemsize
        return int(capacity) * (2 * obs + act + 4 + 4)

    def bytes_per_transition(self) -> int:
        return self.estimate_bytes(
            1, self.obs_shape, self.obs_dtype, self.action_shape, self.action_dtype
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(
            a.nbytes for a in (self.obs, self.next_obs, self.actions, self.rewards, self.dones)
        )

    def __len__(self) -> int:
        return self.size

    @property
    def full(self) -> bool:
        return self.size == self.capacity

    def __repr__(self) -> str:
        return (
            f"ReplayBuffer({self.size:,}/{self.capacity:,} transitions, obs {self.obs_shape} "
            f"{self.obs_dtype.name}, actions {self.action_shape} {self.action_dtype.name}, "
            f"{format_bytes(self.nbytes)})"
        )

    # -- adding ------------------------------------------------------------ #

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        """Store one transition (overwrites the oldest once the buffer is full)."""
        obs = np.asarray(obs)
        if obs.shape != self.obs_shape:
            raise ValueError(
                f"obs has shape {obs.shape}, the buffer stores {self.obs_shape}; "
                "use add_batch for a batch of transitions from a vector environment"
            )
        i = self.pos
        self.obs[i] = obs
        self.next_obs[i] = next_obs
        self.actions[i] = _to_numpy(action)
        self.rewards[i] = reward
        self.dones[i] = float(bool(terminated))
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_batch(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Store ``n`` transitions at once (first axis), e.g. one step of a vector env."""
        obs = np.asarray(obs)
        if obs.shape[1:] != self.obs_shape:
            raise ValueError(f"obs batch has shape {obs.shape}, expected (n, *{self.obs_shape})")
        n = obs.shape[0]
        arrays = {
            "next_obs": np.asarray(next_obs),
            "actions": np.asarray(_to_numpy(actions)),
            "rewards": np.asarray(rewards, dtype=np.float32),
            "terminated": np.asarray(terminated),
        }
        for name, value in arrays.items():
            if value.shape[:1] != (n,):
                raise ValueError(f"{name} has shape {value.shape}, expected {n} rows like obs")
        if n > self.capacity:  # only the last `capacity` survive
            keep = slice(n - self.capacity, n)
            obs = obs[keep]
            arrays = {k: v[keep] for k, v in arrays.items()}
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.next_obs[idx] = arrays["next_obs"]
        self.actions[idx] = arrays["actions"]
        self.rewards[idx] = arrays["rewards"]
        self.dones[idx] = arrays["terminated"].astype(bool)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    # -- sampling ---------------------------------------------------------- #

    def sample(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        *,
        as_tensors: bool = False,
        device=None,
    ) -> Batch:
        """``batch_size`` transitions drawn uniformly (with replacement).

        Returns a :class:`Batch` ``(obs, actions, rewards, next_obs, dones)`` of
        NumPy arrays: obs/next_obs ``[B, *obs_shape]`` in the stored dtype, actions
        ``[B, *action_shape]``, rewards and dones float32 ``[B]``. With
        ``as_tensors=True`` (or a ``device``) they are torch tensors on that
        device, with the same dtypes (uint8 frames stay uint8: convert on the GPU).
        ``rng`` is a ``np.random.Generator`` (pass one for reproducible batches).
        """
        if self.size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer: add transitions first")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        rng = np.random.default_rng() if rng is None else rng
        idx = rng.integers(0, self.size, size=int(batch_size))
        batch = Batch(
            self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.dones[idx]
        )
        if as_tensors or device is not None:
            import torch

            batch = Batch(*(torch.as_tensor(a, device=device) for a in batch))
        return batch

    # -- checkpoints --------------------------------------------------------- #

    def state_dict(self) -> dict:
        """Everything needed to rebuild the buffer: its arrays, ``pos`` and ``size``."""
        return {
            "capacity": self.capacity,
            "pos": self.pos,
            "size": self.size,
            "obs": self.obs,
            "next_obs": self.next_obs,
            "actions": self.actions,
            "rewards": self.rewards,
            "dones": self.dones,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (same capacity and shapes)."""
        if int(state["capacity"]) != self.capacity:
            raise ValueError(
                f"the saved buffer has capacity {int(state['capacity']):,}, this one {self.capacity:,}"
            )
        for name in ("obs", "next_obs", "actions", "rewards", "dones"):
            saved = np.asarray(state[name])
            mine = getattr(self, name)
            if saved.shape != mine.shape or saved.dtype != mine.dtype:
                raise ValueError(
                    f"saved {name} is {saved.dtype}{saved.shape}, this buffer has {mine.dtype}{mine.shape}"
                )
            mine[...] = saved
        self.pos = int(state["pos"])
        self.size = int(state["size"])
