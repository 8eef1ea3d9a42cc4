"""How good a policy is: per-episode returns over ``n`` episodes (on one environment or,
faster, a vector environment with a batched policy), a video of an episode, and
return curves with a moving average."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from course_utils.config import DEFAULT_SEED
from course_utils.rl.envs import Policy, _invalid, _to_numpy, make_env, make_vec_env


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
