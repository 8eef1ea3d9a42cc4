"""Deep cross-entropy method on CartPole-v1 and LunarLander-v3 (notebook rl/01).

The same algorithm as ``notebooks/rl/01_gym_and_cem.source.ipynb``, written compactly:

1. play a batch of sessions with the current stochastic policy (a small MLP whose
   softmax gives the action probabilities), all sessions of a batch stepping
   together in a gymnasium vector environment, so that the policy runs one
   forward pass per time step for the whole batch;
2. keep the elite sessions, those whose return is at least the ``percentile``-th
   percentile of the batch;
3. fit the policy to the elite (state, action) pairs by a few full-batch steps of
   cross-entropy (Adam).

Rows: CartPole-v1 wall time and environment steps until the mean return over 100
evaluation episodes reaches 475 (checked after every iteration; target <= 30 s on
2 CPU cores), and LunarLander-v3 mean return over 100 fresh evaluation episodes
after training under a bounded budget (target >= +50). Evaluation plays the
learned stochastic policy (actions sampled, as in training); the greedy (argmax)
policy is reported in the notes.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from joblib import Parallel, delayed
from torch import nn

from course_utils import rl
from course_utils.config import seed_everything

EVAL_EPISODES = 100


def sample_actions(policy: nn.Module, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``obs``, drawn from the policy's softmax."""
    with torch.no_grad():
        probs = torch.softmax(policy(torch.as_tensor(obs, dtype=torch.float32)), -1).numpy()
    # inverse-CDF sampling, vectorised over the batch
    return (rng.random((len(obs), 1)) > np.cumsum(probs, 1)[:, :-1]).sum(1)


def play_sessions(policy: nn.Module, venv, rng: np.random.Generator):
    """Play one session in each sub-environment of ``venv``.

    Returns (states, actions, alive, returns): states/actions stacked over time
    (T, N, ...), ``alive[t, i]`` True while session i had not ended before step t.
    """
    obs, _ = venv.reset()
    n = venv.num_envs
    states, actions, alive_log = [], [], []
    returns = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        action = sample_actions(policy, obs, rng)
        states.append(obs)
        actions.append(action)
        alive_log.append(alive.copy())
        obs, reward, terminated, truncated, _ = venv.step(action)
        returns[alive] += reward[alive]
        alive &= ~(terminated | truncated)
    return np.stack(states), np.stack(actions), np.stack(alive_log), returns


def _play_chunk(policy: nn.Module, env_id: str, n: int, seed: int):
    """Worker job: a fresh vector env of ``n`` sessions (for joblib)."""
    torch.set_num_threads(1)
    venv = rl.make_vec_env(env_id, n, seed=seed)
    try:
        return play_sessions(policy, venv, np.random.default_rng(seed))
    finally:
        venv.close()


def make_policy(obs_dim: int, n_actions: int, hidden: int, layers: int) -> nn.Module:
    mods: list[nn.Module] = []
    width = obs_dim
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.Tanh()]
        width = hidden
    mods.append(nn.Linear(width, n_actions))
    return nn.Sequential(*mods)


def evaluation_policy(policy: nn.Module, seed: int, greedy: bool = False):
    rng = np.random.default_rng(seed)

    def act(obs):
        if greedy:
            with torch.no_grad():
                return policy(torch.as_tensor(obs, dtype=torch.float32)).argmax(-1).numpy()
        return sample_actions(policy, obs, rng)

    return act


def deep_cem(
    env_id: str,
    *,
    n_sessions: int,
    percentile: float,
    hidden: int,
    layers: int,
    lr: float,
    fit_steps: int,
    max_iters: int,
    time_budget: float,
    eval_every: int,
    stop_at: float,
    n_jobs: int = 1,
    seed: int = 0,
    log=print,
) -> dict:
    """Train until the 100-episode check reaches ``stop_at`` or the budget ends."""
    start = time.perf_counter()
    seed_everything(seed)
    torch.set_num_threads(1)
    probe = rl.make_env(env_id)
    obs_dim = probe.observation_space.shape[0]
    n_actions = probe.action_space.n
    probe.close()
    policy = make_policy(obs_dim, n_actions, hidden, layers)
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    venv = rl.make_vec_env(env_id, n_sessions, seed=seed) if n_jobs == 1 else None
    eval_env = rl.make_vec_env(env_id, EVAL_EPISODES, seed=seed + 10_000)
    pool = Parallel(n_jobs=n_jobs, backend="loky") if n_jobs > 1 else None
    env_steps, history, check = 0, [], None
    reached_at = None
    for it in range(max_iters):
        # 1. sessions
        if pool is None:
            chunks = [play_sessions(policy, venv, rng)]
        else:
            sizes = [len(c) for c in np.array_split(np.arange(n_sessions), n_jobs)]
            chunks = pool(
                delayed(_play_chunk)(policy, env_id, k, seed + 1_000 * it + 100 * j)
                for j, k in enumerate(sizes)
            )
        returns = np.concatenate([c[3] for c in chunks])
        env_steps += int(sum(c[2].sum() for c in chunks))
        # 2. elites
        threshold = np.percentile(returns, percentile)
        elite_s, elite_a = [], []
        for states, actions, alive, ret in chunks:
            mask = alive & (ret >= threshold)[None, :]
            elite_s.append(states[mask])
            elite_a.append(actions[mask])
        x = torch.as_tensor(np.concatenate(elite_s), dtype=torch.float32)
        y = torch.as_tensor(np.concatenate(elite_a), dtype=torch.long)
        # 3. fit the policy to the elite pairs
        for _ in range(fit_steps):
            loss = nn.functional.cross_entropy(policy(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        history.append((returns.mean(), threshold))
        if (it + 1) % eval_every == 0:
            check = rl.evaluate(
                evaluation_policy(policy, seed + it), eval_env, EVAL_EPISODES
            ).mean()
            log(
                f"  {env_id} iter {it + 1}: sessions {returns.mean():.1f}, "
                f"elite threshold {threshold:.1f}, check {check:.1f}, "
                f"{time.perf_counter() - start:.1f} s, {env_steps} env steps"
            )
            if check >= stop_at:
                reached_at = time.perf_counter() - start
                break
        if time.perf_counter() - start > time_budget:
            break
    train_seconds = time.perf_counter() - start
    # fresh episodes (other seeds) for the reported numbers
    fresh = rl.make_vec_env(env_id, EVAL_EPISODES, seed=seed + 50_000)
    sampled = rl.evaluate(evaluation_policy(policy, seed + 7), fresh, EVAL_EPISODES)
    greedy = rl.evaluate(evaluation_policy(policy, 0, greedy=True), fresh, EVAL_EPISODES)
    if pool is not None:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    return {
        "iterations": len(history),
        "check": check,
        "reached_at": reached_at,
        "train_seconds": train_seconds,
        "env_steps": env_steps,
        "fresh_mean": float(sampled.mean()),
        "fresh_greedy_mean": float(greedy.mean()),
    }


CARTPOLE = dict(
    n_sessions=100,
    percentile=70,
    hidden=64,
    layers=1,
    lr=1e-2,
    fit_steps=10,
    max_iters=200,
    time_budget=120.0,
    eval_every=1,
    stop_at=475.0,
)
LUNAR = dict(
    n_sessions=100,
    percentile=70,
    hidden=64,
    layers=2,
    lr=3e-3,
    fit_steps=20,
    max_iters=250,
    time_budget=360.0,
    eval_every=5,
    stop_at=60.0,
    n_jobs=1,
)


def run() -> list[dict]:
    rows = []
    cp = deep_cem("CartPole-v1", **CARTPOLE)
    seconds = cp["reached_at"]
    rows.append(
        {
            "benchmark": "cem",
            "metric": "CartPole-v1 deep CEM: seconds to mean return >= 475 (100 episodes)",
            "value": round(seconds, 2) if seconds is not None else float("nan"),
            "target": "<= 30 s",
            "passed": seconds is not None and seconds <= 30.0,
            "seconds": cp["train_seconds"],
            "notes": (
                f"{cp['iterations']} iterations x {CARTPOLE['n_sessions']} sessions, "
                f"check {cp['check']:.1f}; fresh 100 episodes: sampled {cp['fresh_mean']:.1f}, "
                f"greedy {cp['fresh_greedy_mean']:.1f}; 1 process, native vector env"
            ),
        }
    )
    rows.append(
        {
            "benchmark": "cem",
            "metric": "CartPole-v1 deep CEM: environment steps to mean return >= 475",
            "value": cp["env_steps"],
            "target": "",
            "passed": None,
            "seconds": cp["train_seconds"],
            "notes": "training sessions only (evaluation episodes not counted)",
        }
    )
    ll = deep_cem("LunarLander-v3", **LUNAR)
    rows.append(
        {
            "benchmark": "cem",
            "metric": "LunarLander-v3 deep CEM: mean return over 100 fresh episodes",
            "value": round(ll["fresh_mean"], 1),
            "target": ">= 50",
            "passed": ll["fresh_mean"] >= 50.0,
            "seconds": ll["train_seconds"],
            "notes": (
                f"{ll['iterations']} iterations x {LUNAR['n_sessions']} sessions, "
                f"{ll['env_steps']} env steps, stop when the 100-episode check >= "
                f"{LUNAR['stop_at']:.0f} (last check {ll['check']:.1f}) or "
                f"{LUNAR['time_budget']:.0f} s; greedy policy {ll['fresh_greedy_mean']:.1f}; "
                f"{LUNAR['n_jobs']} process(es)"
            ),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
