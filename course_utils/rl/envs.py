"""Gymnasium environments whose first ``reset()`` and action space are seeded, with a
clear error on an unknown id or an invalid action; a random policy."""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from course_utils.config import DEFAULT_SEED

Policy = Callable[[Any], Any]


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
