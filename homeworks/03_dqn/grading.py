"""Trusted side of homework 3 (runs in the grader's process, never in the kernel).

The grader runs the CartPole-v1 episodes itself, with seeds the notebook never sees,
all in lockstep: at every step it sends the observations of the episodes still
running to the notebook's ``greedy_actions(observations)`` (one kernel call per
step) and applies the actions it gets back. Returns are counted here.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from course_utils.tools.grading.trusted import Ladder

CHECK_EPISODES = 20  # cartpole_tests: the public check's size
HELDOUT_EPISODES = {True: 30, False: 100}  # cartpole_heldout, by small mode
CHECK_SEED = 4_731_000  # episode i starts from reset(seed=SEED + i)
HELDOUT_SEED = 8_209_000


def mean_return(session, n_episodes: int, seed: int) -> float:
    envs = [gym.make("CartPole-v1") for _ in range(n_episodes)]
    try:
        obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
        returns = np.zeros(n_episodes)
        running = list(range(n_episodes))
        while running:
            batch = np.stack([obs[i] for i in running]).astype(np.float32)
            actions = np.asarray(session.call("greedy_actions", batch))
            if actions.shape != (len(running),):
                raise ValueError(
                    f"greedy_actions returned shape {actions.shape} for "
                    f"{len(running)} observations, expected ({len(running)},)"
                )
            if actions.dtype.kind not in "iu" or not np.isin(actions, (0, 1)).all():
                raise ValueError("greedy_actions must return actions 0 or 1 (ints)")
            still = []
            for i, action in zip(running, actions.tolist()):
                obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
                returns[i] += reward
                if not (terminated or truncated):
                    still.append(i)
            running = still
        return float(returns.mean())
    finally:
        for env in envs:
            env.close()


def check_return(session) -> float:
    return mean_return(session, CHECK_EPISODES, CHECK_SEED)


def heldout_return(session) -> float:
    return mean_return(session, HELDOUT_EPISODES[session.small], HELDOUT_SEED)


LADDERS = {
    "cartpole_tests": Ladder(
        check_return,
        small=(40,),
        full=(150,),
        metric=f"mean return of {CHECK_EPISODES} greedy episodes",
    ),
    "cartpole_heldout": Ladder(
        heldout_return,
        small=(60, 100),
        full=(300, 450),
        metric="mean return of the greedy episodes",
    ),
}


def sandbox_data(view) -> None:
    pass  # no data: CartPole ships with gymnasium
