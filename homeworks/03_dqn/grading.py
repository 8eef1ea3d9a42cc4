"""Trusted side of homework 3 (runs in the grader's process, never in the kernel).

The grader runs the LunarLander-v3 episodes itself, with seeds the notebook never sees,
all in lockstep: at every step it sends the observations of the episodes still running
to the notebook's ``greedy_actions(observations)`` (one kernel call per step) and applies
the actions it gets back. Returns are counted here.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from course_utils.tools.grading.trusted import Ladder

ENV_ID = "LunarLander-v3"
N_ACTIONS = 4
HELDOUT_EPISODES = {True: 20, False: 100}  # lunar_heldout, by small mode
HELDOUT_SEED = 6_113_000  # episode i starts from reset(seed=HELDOUT_SEED + i)


def mean_return(session, n_episodes: int, seed: int) -> float:
    envs = [gym.make(ENV_ID) for _ in range(n_episodes)]
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
            if actions.dtype.kind not in "iu" or not np.isin(actions, range(N_ACTIONS)).all():
                raise ValueError(f"greedy_actions must return actions 0..{N_ACTIONS - 1} (ints)")
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


def heldout_return(session) -> float:
    return mean_return(session, HELDOUT_EPISODES[session.small], HELDOUT_SEED)


LADDERS = {
    "lunar_heldout": Ladder(
        heldout_return,
        small=(-120, -90),
        # full mode: 200 is "solved" (gymnasium's definition); not measured yet
        full=(100, 200),
        metric="mean return of the greedy episodes",
    ),
}


def sandbox_data(view) -> None:
    pass  # no data: LunarLander ships with gymnasium (Box2D)
