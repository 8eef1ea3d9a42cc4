"""Reinforcement-learning plumbing: environments, evaluation, videos, reward plots.

The notebooks implement the algorithms (cross-entropy method, Q-learning, DQN...);
this module only hides what every one of them repeats:

- :func:`make_env` / :func:`make_vec_env`: a gymnasium environment (classic
  control, Box2D, toy text, Atari) whose first ``reset()`` and whose action space
  are seeded, with a clear error on an unknown id;
- :func:`evaluate`: per-episode returns of a policy over ``n`` episodes, on one
  environment or, faster, on a vector environment with a batched policy;
- :func:`record_video` / :func:`show_video`: an ``.mp4`` of one episode, written
  headless with gymnasium's ``RecordVideo`` wrapper and embedded in the notebook
  so that it shows in Jupyter, in Colab and in an executed copy of the notebook;
- :func:`plot_returns`: returns per iteration with a moving average and a target;
- :class:`ReplayBuffer`: uniform experience replay in preallocated NumPy arrays,
  with a memory check before allocating (:func:`check_memory`);
- :func:`linear_schedule` / :func:`exponential_schedule`: exploration rate or
  learning rate as a function of the step;
- :func:`save_checkpoint` / :func:`load_checkpoint`: atomic checkpoints of a long
  run (networks, optimizers, step, random states, optionally the replay buffer)
  from which it resumes exactly.

A *policy* is any callable ``policy(observation) -> action``. With a vector
environment it receives a batch of observations (first axis: sub-environment)
and returns one action per sub-environment.
"""

from __future__ import annotations

import copy
import difflib
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from course_utils.config import DEFAULT_SEED
from course_utils.io import atomic_save_npz, atomic_write

Policy = Callable[[Any], Any]

__all__ = [
    "InvalidActionError",
    "evaluate",
    "make_env",
    "make_vec_env",
    "moving_average",
    "plot_returns",
    "random_policy",
    "record_video",
    "show_video",
    # replay, schedules, memory, checkpoints
    "Batch",
    "ReplayBuffer",
    "available_memory_bytes",
    "check_memory",
    "exponential_schedule",
    "format_bytes",
    "linear_schedule",
    "load_checkpoint",
    "save_checkpoint",
    "set_learning_rate",
]


class InvalidActionError(ValueError):
    """A policy returned something that is not in the environment's action space."""


# --------------------------------------------------------------------------- #
# Environment creation
# --------------------------------------------------------------------------- #


def _registered_ids() -> list[str]:
    return sorted(gym.registry.keys())


def _check_env_id(env_id: Any) -> str:
    """Return ``env_id`` if gymnasium knows it, else raise a ValueError with suggestions."""
    if not isinstance(env_id, str):
        raise TypeError(
            f"env_id must be a string such as 'CartPole-v1', got {type(env_id).__name__}: {env_id!r}"
        )
    if env_id.startswith("ALE/") and env_id not in gym.registry:
        try:  # Atari ids are registered by ale-py on request (gymnasium >= 1.0)
            import ale_py

            gym.register_envs(ale_py)
        except ImportError:  # pragma: no cover - ale-py is a course dependency
            pass
    if env_id in gym.registry or ":" in env_id:  # "module:Env-v0" is imported by gym.make
        return env_id
    ids = _registered_ids()
    lowered = {i.lower(): i for i in ids}
    base = env_id.split("-v")[0].lower()
    close = [i for i in ids if i.split("-v")[0].lower() == base]  # other versions first
    close += [m for m in difflib.get_close_matches(env_id, ids, n=3, cutoff=0.6) if m not in close]
    close += [
        lowered[m]
        for m in difflib.get_close_matches(env_id.lower(), list(lowered), n=3, cutoff=0.6)
        if lowered[m] not in close
    ]
    hint = (
        f" Did you mean {', '.join(repr(c) for c in close[:3])}?"
        if close
        else " List the registered ids with gymnasium.pprint_registry()."
    )
    raise ValueError(f"Unknown environment id {env_id!r}.{hint}")


def _headless_rendering(render_mode: str | None) -> None:
    """Let pygame render off-screen quietly when there is no display (CI, Colab, ssh)."""
    if render_mode not in (None, "human") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


class _SeedFirstReset(gym.Wrapper):
    """Use ``seed`` for the first ``reset()`` that is called without one."""

    def __init__(self, env: gym.Env, seed: int):
        super().__init__(env)
        self._first_seed: int | None = seed

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is None:
            seed = self._first_seed
        self._first_seed = None
        return self.env.reset(seed=seed, options=options)


class _SeedFirstVectorReset(gym.vector.VectorWrapper):
    """Vector version of :class:`_SeedFirstReset` (sub-environment ``i`` gets ``seed + i``)."""

    def __init__(self, env: gym.vector.VectorEnv, seed: int):
        super().__init__(env)
        self._first_seed: int | None = seed

    def reset(self, *, seed: int | list | None = None, options: dict | None = None):
        if seed is None:
            seed = self._first_seed
        self._first_seed = None
        return self.env.reset(seed=seed, options=options)


def make_env(
    env_id: str,
    seed: int | None = None,
    render_mode: str | None = None,
    **kwargs: Any,
) -> gym.Env:
    """Create ``gym.make(env_id, render_mode=..., **kwargs)`` with seeding done for you.

    The first ``reset()`` called without a seed uses ``seed`` (default: the course
    seed, :data:`course_utils.config.DEFAULT_SEED`), and the action and observation
    spaces are seeded too, so ``env.action_space.sample()`` is reproducible.
    Later resets continue the environment's random stream, as in gymnasium.

    ``render_mode="rgb_array"`` makes ``env.render()`` return an image (works
    without a display); ``kwargs`` go to the environment (e.g.
    ``max_episode_steps=200``, ``continuous=True`` for LunarLander).

    Raises ``ValueError`` for an unknown id, suggesting the closest registered ones.
    """
    env_id = _check_env_id(env_id)
    seed = DEFAULT_SEED if seed is None else int(seed)
    _headless_rendering(render_mode)
    env = gym.make(env_id, render_mode=render_mode, **kwargs)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return _SeedFirstReset(env, seed)


def make_vec_env(
    env_id: str,
    num_envs: int,
    seed: int | None = None,
    vectorization_mode: str | None = None,
    render_mode: str | None = None,
    **kwargs: Any,
) -> gym.vector.VectorEnv:
    """A gymnasium vector environment of ``num_envs`` copies of ``env_id``.

    Uses :func:`gymnasium.make_vec`: the environment's own vectorised
    implementation when it has one (CartPole-v1 steps all copies in one NumPy
    call), else ``SyncVectorEnv``; ``vectorization_mode="sync"`` or ``"async"``
    forces one. Autoreset follows gymnasium's default (next-step) mode.

    Seeded like :func:`make_env`: the first ``reset()`` without a seed uses ``seed``
    (sub-environment ``i`` gets ``seed + i`` in sync/async mode).
    """
    env_id = _check_env_id(env_id)
    if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    seed = DEFAULT_SEED if seed is None else int(seed)
    _headless_rendering(render_mode)
    venv = gym.make_vec(
        env_id,
        num_envs=int(num_envs),
        vectorization_mode=vectorization_mode,
        render_mode=render_mode,
        **kwargs,
    )
    venv.action_space.seed(seed)
    venv.single_action_space.seed(seed)
    venv.observation_space.seed(seed)
    return _SeedFirstVectorReset(venv, seed)


def random_policy(action_space: gym.Space, seed: int | None = None) -> Policy:
    """A policy that ignores the observation and samples ``action_space`` (seeded copy).

    Pass ``env.action_space`` for one environment, ``venv.action_space`` (the
    batched space) for a vector environment.
    """
    space = copy.deepcopy(action_space)
    space.seed(DEFAULT_SEED if seed is None else int(seed))

    def policy(observation: Any) -> Any:
        return space.sample()

    return policy


# --------------------------------------------------------------------------- #
# Evaluation
# --------------------------------------------------------------------------- #


def _to_numpy(action: Any) -> Any:
    """Accept torch tensors and Python lists from a policy; leave the rest alone."""
    if hasattr(action, "detach") and hasattr(action, "cpu"):  # torch.Tensor
        action = action.detach().cpu().numpy()
    if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        return action[()]  # 0-d integer array -> NumPy scalar
    if isinstance(action, (list, tuple)):
        return np.asarray(action)
    return action


def _invalid(action: Any, space: gym.Space, where: str) -> InvalidActionError:
    kind = type(action).__name__
    dtype = getattr(action, "dtype", None)
    shape = getattr(action, "shape", None)
    detail = f"{kind}" + (f", dtype {dtype}, shape {shape}" if dtype is not None else "")
    return InvalidActionError(
        f"The policy returned an invalid action {action!r} ({detail}) {where}; "
        f"it must be an element of the action space {space}."
    )


def _episode_seed(seed: int | None, offset: int) -> int:
    return (DEFAULT_SEED if seed is None else int(seed)) + offset


def evaluate(
    policy: Policy,
    env: str | gym.Env | gym.vector.VectorEnv,
    n_episodes: int = 10,
    *,
    seed: int | None = None,
    num_envs: int = 1,
    max_steps: int | None = None,
    **make_kwargs: Any,
) -> np.ndarray:
    """Run ``policy`` for ``n_episodes`` episodes; return each episode's return.

    ``env`` is an environment id (created with ``make_kwargs``), an environment,
    or a vector environment. With ``num_envs > 1`` (or a vector environment) the
    episodes run ``num_envs`` at a time and ``policy`` gets a *batch* of
    observations and must return one action per sub-environment: one forward
    pass of a network per step instead of one per environment.

    Episode ``i`` starts from ``reset(seed=seed + i)`` (``seed`` defaults to the
    course seed), so the same policy, seed and ``num_envs`` give the same returns.
    A vector environment with its own vectorised implementation (CartPole) seeds
    one batch at a time, so its episodes differ from the one-environment ones.
    ``max_steps`` stops an episode early (its return so far is counted).

    Raises :class:`InvalidActionError` when the policy returns an action outside
    the action space.
    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1, got {n_episodes!r}")
    if not callable(policy):
        raise TypeError(f"policy must be a callable obs -> action, got {type(policy).__name__}")
    owned = isinstance(env, str)
    if owned:
        env = (
            make_vec_env(env, num_envs, seed=seed, **make_kwargs)
            if num_envs > 1
            else make_env(env, seed=seed, **make_kwargs)
        )
    elif make_kwargs:
        raise TypeError(
            f"environment keyword arguments {sorted(make_kwargs)} only apply when env is an id"
        )
    try:
        if isinstance(env, gym.vector.VectorEnv):
            return _evaluate_vector(policy, env, n_episodes, seed, max_steps)
        return _evaluate_single(policy, env, n_episodes, seed, max_steps)
    finally:
        if owned:
            env.close()


def _evaluate_single(policy, env, n_episodes, seed, max_steps) -> np.ndarray:
    space = env.action_space
    returns = np.zeros(n_episodes, dtype=np.float64)
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=_episode_seed(seed, episode))
        total, steps, done = 0.0, 0, False
        while not done:
            action = _to_numpy(policy(obs))
            if not space.contains(action):
                raise _invalid(action, space, f"at step {steps} of episode {episode}")
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
        returns[episode] = total
    return returns


def _evaluate_vector(policy, venv, n_episodes, seed, max_steps) -> np.ndarray:
    n = venv.num_envs
    space = venv.action_space
    returns = np.zeros(n_episodes, dtype=np.float64)
    for start in range(0, n_episodes, n):
        obs, _ = venv.reset(seed=_episode_seed(seed, start))
        batch = np.zeros(n)
        active = np.ones(n, dtype=bool)
        steps = 0
        while active.any():
            actions = _to_numpy(policy(obs))
            if not space.contains(actions):
                raise _invalid(
                    actions,
                    space,
                    f"at step {steps} of a batch of {n} environments "
                    "(a vector environment needs one action per sub-environment)",
                )
            obs, reward, terminated, truncated, _ = venv.step(actions)
            batch[active] += np.asarray(reward, dtype=np.float64)[active]
            active &= ~(np.asarray(terminated) | np.asarray(truncated))
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        k = min(n, n_episodes - start)
        returns[start : start + k] = batch[:k]
    return returns


# --------------------------------------------------------------------------- #
# Videos
# --------------------------------------------------------------------------- #


def record_video(
    policy: Policy,
    env: str | gym.Env,
    path: str | os.PathLike | None = None,
    *,
    seed: int | None = None,
    max_steps: int | None = None,
    fps: int | None = None,
    **make_kwargs: Any,
) -> Path:
    """Play one episode with ``policy`` and save it as an ``.mp4``; return its path.

    Rendering is off-screen (``render_mode="rgb_array"``), so this works on a
    server, in CI and in Colab. Frames are written by gymnasium's ``RecordVideo``
    wrapper (moviepy + the ffmpeg binary of ``imageio-ffmpeg``).

    ``env`` is an id (created with ``make_kwargs``) or an environment made with
    ``render_mode="rgb_array"``. ``path`` defaults to ``videos/<env id>.mp4``.
    ``max_steps`` cuts long episodes; ``fps`` defaults to the environment's.
    Show the result with :func:`show_video`.
    """
    from gymnasium.wrappers import RecordVideo

    if isinstance(env, str):
        env_name = env
        env = make_env(env, seed=seed, render_mode="rgb_array", **make_kwargs)
        owned = True
    else:
        if make_kwargs:
            raise TypeError(
                f"environment keyword arguments {sorted(make_kwargs)} only apply when env is an id"
            )
        if env.render_mode != "rgb_array":
            raise ValueError(
                f"record_video needs an environment made with render_mode='rgb_array', "
                f"got render_mode={env.render_mode!r}"
            )
        env_name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        owned = False
    path = Path(path) if path is not None else Path("videos") / f"{env_name.replace('/', '_')}.mp4"
    if path.suffix != ".mp4":
        raise ValueError(f"record_video writes an .mp4 file, got path {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.stem}-recording"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Overwriting existing videos.*")
        recorder = RecordVideo(
            env,
            video_folder=str(path.parent),
            episode_trigger=lambda episode: episode == 0,
            name_prefix=prefix,
            fps=fps,
            disable_logger=True,
        )
    try:
        space = recorder.action_space
        obs, _ = recorder.reset(seed=_episode_seed(seed, 0))
        steps, done = 0, False
        while not done:
            action = _to_numpy(policy(obs))
            if not space.contains(action):
                raise _invalid(action, space, f"at step {steps} of the recorded episode")
            obs, _, terminated, truncated, _ = recorder.step(action)
            steps += 1
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
    finally:
        if recorder.recording:
            recorder.stop_recording()  # writes the file
        if owned:
            recorder.close()
    written = path.parent / f"{prefix}-episode-0.mp4"
    if not written.exists():  # pragma: no cover - RecordVideo skips empty recordings
        raise RuntimeError(f"no video was written for {env_name} (no frames rendered?)")
    written.replace(path)
    return path


def show_video(path: str | os.PathLike, width: int = 480):
    """Display an ``.mp4`` inline, embedded in the notebook (works in Colab and nbval).

    Returns an :class:`IPython.display.Video`; make it the last expression of a cell.
    """
    from IPython.display import Video

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no video at {str(path)!r}; record one with record_video()")
    return Video(
        str(path),
        embed=True,
        width=width,
        mimetype="video/mp4",
        html_attributes="controls autoplay loop muted",
    )


# --------------------------------------------------------------------------- #
# Plots
# --------------------------------------------------------------------------- #


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over ``window`` points (shorter at the start); same length as ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window!r}")
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of returns, got shape {values.shape}")
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


def plot_returns(
    returns: Sequence[float],
    *,
    window: int = 10,
    target: float | None = None,
    others: Mapping[str, Sequence[float]] | None = None,
    label: str = "return",
    xlabel: str = "iteration",
    ylabel: str = "return",
    title: str | None = None,
    ax=None,
):
    """Plot returns per iteration, their moving average and a target line.

    ``others`` adds more curves on the same axes (e.g. ``{"elite threshold":
    thresholds}``). Lines are labelled ``label``, ``f"moving average ({window})"``,
    the keys of ``others`` and ``"target"``. Returns the matplotlib Figure.
    Works without a display (matplotlib picks a non-interactive backend).
    """
    import matplotlib.pyplot as plt

    returns = np.asarray(returns, dtype=np.float64)
    if returns.ndim != 1 or returns.size == 0:
        raise ValueError(f"returns must be a non-empty 1-D sequence, got shape {returns.shape}")
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    x = np.arange(len(returns))
    ax.plot(x, returns, alpha=0.45 if window > 1 else 1.0, label=label)
    if window > 1:
        ax.plot(x, moving_average(returns, window), linewidth=2, label=f"moving average ({window})")
    for name, values in (others or {}).items():
        values = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(len(values)), values, label=name)
    if target is not None:
        ax.axhline(target, color="k", linestyle="--", linewidth=1, label="target")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig


# --------------------------------------------------------------------------- #
# Replay buffer (DQN and friends)
# --------------------------------------------------------------------------- #

#: A buffer may take at most this fraction of the memory the system reports as
#: available: the rest is for the network, the environments and the notebook.
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


# --------------------------------------------------------------------------- #
# Schedules (exploration rate, learning rate)
# --------------------------------------------------------------------------- #


def linear_schedule(
    start: float, end: float, duration: int, begin: int = 0
) -> Callable[[int], float]:
    """``value(step)``: ``start`` until ``begin``, then linear to ``end`` over ``duration`` steps, then ``end``.

    The usual DQN exploration: ``eps = linear_schedule(1.0, 0.05, 10_000)``;
    ``eps(0) == 1.0``, ``eps(5_000) == 0.525``, ``eps(10**6) == 0.05`` (the floor).
    """
    if duration < 0:
        raise ValueError(f"duration must be >= 0, got {duration!r}")
    start, end, duration, begin = float(start), float(end), int(duration), int(begin)

    def value(step: int) -> float:
        t = step - begin
        if t <= 0:
            return start
        if duration == 0 or t >= duration:
            return end
        return start + (end - start) * t / duration

    return value


def exponential_schedule(start: float, decay: float, end: float = 0.0) -> Callable[[int], float]:
    """``value(step) = max(end, start * decay ** step)`` (``end <= start``; for decreasing values).

    ``decay`` in (0, 1]; e.g. ``exponential_schedule(1.0, 0.999, 0.01)(1000) ≈ 0.368``.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    start, decay, end = float(start), float(decay), float(end)

    def value(step: int) -> float:
        return max(end, start * decay ** max(int(step), 0))

    return value


def set_learning_rate(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (call it with ``schedule(step)``)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


# --------------------------------------------------------------------------- #
# Checkpoints for long runs
# --------------------------------------------------------------------------- #


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

    The write is atomic: everything goes to a temporary file that then replaces
    ``path`` (``os.replace``), so a run killed while saving leaves the previous
    checkpoint intact. The replay buffer, if given, goes to a separate
    ``<name>.buffer-<id>.npz`` file (written first, also atomically) that the
    checkpoint names; the previous buffer file is deleted after the swap.
    """
    import uuid

    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": "course_utils.rl checkpoint v1",
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
    atomic_write(path, lambda tmp: torch.save(state, tmp))
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
    yourself: they are pickles (``torch.load(weights_only=False)``).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    state = torch.load(path, map_location=map_location or "cpu", weights_only=False)
    if state.get("format") != "course_utils.rl checkpoint v1":
        raise ValueError(
            f"{str(path)!r} is not a checkpoint written by course_utils.rl.save_checkpoint"
        )
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
