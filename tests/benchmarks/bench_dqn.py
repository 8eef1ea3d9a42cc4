"""DQN on CartPole-v1 and a short Breakout run (notebook rl/04).

The algorithm of ``notebooks/rl/04_dqn_atari.source.ipynb`` with its full-mode settings, written
compactly:

- epsilon-greedy acting (1 -> 0.05 linearly over 10,000 steps), transitions stored in
  ``course_utils.rl.ReplayBuffer`` with ``done = terminated``;
- from step 1,000 on, one Adam step (lr 1e-3, batch 128, gradient norm clipped at 10)
  every 4 environment steps on the Huber loss of the **double DQN** target computed by a
  target network refreshed every 250 steps; MLP 4-128-128-2;
- every 2,500 steps the greedy policy is evaluated on 100 episodes (one vector env);
  training stops at the first evaluation >= 475.

Rows: wall time and environment steps to that first evaluation >= 475 (seed 0, then
seed 1 in the notes), with CleanRL's DQN as the reference (its CartPole-v1 run,
500,000 steps with 10,000 random steps first and a gradient step every 10 steps,
reaches 475 at about 270,000 steps); the Breakout small-mode run of the notebook (it
must complete, checkpoint and resume included) with its steps per second; and the
steps per second of Breakout with the full-mode settings on this CPU, which says what
a full run costs without a GPU.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import rl
from course_utils.config import seed_everything

EVAL_EPISODES = 100
CARTPOLE = dict(
    total_steps=150_000,
    lr=1e-3,
    gamma=0.99,
    batch_size=128,
    buffer_size=50_000,
    learning_starts=1_000,
    train_freq=4,
    target_update=250,
    eps_start=1.0,
    eps_end=0.05,
    eps_steps=10_000,
    double_dqn=True,
    max_grad_norm=10.0,
)
CARTPOLE_EVAL_EVERY = 2_500
CARTPOLE_TIME_BUDGET = 480.0  # seconds for seed 0
CARTPOLE_TOTAL_BUDGET = 720.0  # seed 1 runs in what seed 0 left of this (skipped under 60 s)
# notebook small mode (BREAKOUT_STEPS = 600, checkpoint at 300 then resume)
BREAKOUT_SMALL = dict(
    total_steps=600,
    lr=1e-4,
    gamma=0.99,
    batch_size=8,
    buffer_size=600,
    learning_starts=200,
    train_freq=10,
    target_update=1_000,
    eps_start=1.0,
    eps_end=0.01,
    eps_steps=600,
    double_dqn=True,
    max_grad_norm=10.0,
)
# notebook full mode, measured for a short while (learning starts early to time updates)
BREAKOUT_FULL = dict(
    total_steps=1_000,
    lr=1e-4,
    gamma=0.99,
    batch_size=32,
    buffer_size=1_000,
    learning_starts=100,
    train_freq=4,
    target_update=1_000,
    eps_start=1.0,
    eps_end=0.01,
    eps_steps=1_000_000,
    double_dqn=True,
    max_grad_norm=10.0,
)


# --------------------------------------------------------------------------- #
# The notebook's pieces
# --------------------------------------------------------------------------- #


class QHead(nn.Module):
    def __init__(self, in_features, n_actions, hidden, dueling=False):
        super().__init__()
        self.dueling = dueling
        if dueling:
            self.value = nn.Sequential(
                nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, 1)
            )
            self.advantage = nn.Sequential(
                nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, n_actions)
            )
        else:
            self.q = nn.Sequential(
                nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, n_actions)
            )

    def forward(self, x):
        if not self.dueling:
            return self.q(x)
        adv = self.advantage(x)
        return self.value(x) + adv - adv.mean(dim=1, keepdim=True)


class MLPQNetwork(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden=128, dueling=False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU())
        self.head = QHead(hidden, n_actions, hidden, dueling)

    def forward(self, obs):
        return self.head(self.body(obs.float()))


class AtariQNetwork(nn.Module):
    def __init__(self, n_actions, dueling=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.head = QHead(64 * 7 * 7, n_actions, 512, dueling)

    def forward(self, obs):
        return self.head(self.body(obs.float() / 255.0))


def compute_td_loss(
    obs, actions, rewards, next_obs, dones, q_network, target_network, gamma=0.99, double_dqn=False
):
    q_taken = q_network(obs).gather(1, actions[:, None]).squeeze(1)
    with torch.no_grad():
        if double_dqn:
            best = q_network(next_obs).argmax(dim=1, keepdim=True)
            next_value = target_network(next_obs).gather(1, best).squeeze(1)
        else:
            next_value = target_network(next_obs).max(dim=1).values
        targets = rewards + gamma * (1.0 - dones) * next_value
    return F.smooth_l1_loss(q_taken, targets)


def make_breakout(seed=0):
    import ale_py
    import gymnasium as gym
    from gymnasium.wrappers import (
        AtariPreprocessing,
        ClipReward,
        FrameStackObservation,
        RecordEpisodeStatistics,
    )

    gym.register_envs(ale_py)
    env = rl.make_env("ALE/Breakout-v5", seed=seed, frameskip=1)
    env = AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True)
    env = RecordEpisodeStatistics(env)
    env = FrameStackObservation(env, stack_size=4)
    return ClipReward(env, -1.0, 1.0)


def greedy_batch_policy(q):
    def act(obs):
        with torch.no_grad():
            return q(torch.as_tensor(obs)).argmax(1).numpy()

    return act


def train_dqn(
    env,
    q_net,
    cfg,
    *,
    eval_fn=None,
    eval_every=None,
    stop_at=None,
    time_budget=None,
    checkpoint=None,
    checkpoint_every=None,
    seed=0,
    log=print,
):
    """The notebook's loop (no TensorBoard, no progress bar). Returns a result dict."""
    target_net = copy.deepcopy(q_net).requires_grad_(False)
    opt = torch.optim.Adam(q_net.parameters(), lr=cfg["lr"])
    buf = rl.ReplayBuffer(
        cfg["buffer_size"], env.observation_space.shape, env.observation_space.dtype
    )
    epsilon = rl.linear_schedule(cfg["eps_start"], cfg["eps_end"], cfg["eps_steps"])
    rng = np.random.default_rng(seed)
    start = 0
    episodes, evals, reached = [], [], None
    if checkpoint is not None and Path(checkpoint).exists():
        info = rl.load_checkpoint(
            checkpoint,
            models={"q": q_net, "target": target_net},
            optimizers={"adam": opt},
            rngs={"rng": rng},
            replay_buffer=buf,
        )
        start, episodes = info["step"], info["extra"]["episodes"]
    obs, _ = env.reset(seed=seed + start)
    t0 = time.perf_counter()
    step = start - 1
    for step in range(start, cfg["total_steps"]):
        if rng.random() < epsilon(step):
            action = int(rng.integers(env.action_space.n))
        else:
            with torch.no_grad():
                action = int(q_net(torch.as_tensor(obs[None])).argmax())
        next_obs, reward, terminated, truncated, info = env.step(action)
        buf.add(obs, action, reward, next_obs, terminated)
        obs = next_obs
        if terminated or truncated:
            episodes.append(float(info["episode"]["r"]))
            obs, _ = env.reset()
        if step >= cfg["learning_starts"] and step % cfg["train_freq"] == 0:
            b = buf.sample(cfg["batch_size"], rng, as_tensors=True)
            loss = compute_td_loss(*b, q_net, target_net, cfg["gamma"], cfg["double_dqn"])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(q_net.parameters(), cfg["max_grad_norm"])
            opt.step()
        if step % cfg["target_update"] == 0:
            target_net.load_state_dict(q_net.state_dict())
        if eval_fn is not None and (step + 1) % eval_every == 0:
            score = eval_fn(q_net)
            evals.append((step + 1, score, time.perf_counter() - t0))
            log(f"    step {step + 1}: evaluation {score:.1f}, {time.perf_counter() - t0:.1f} s")
            if stop_at is not None and score >= stop_at:
                reached = evals[-1]
                break
        if checkpoint is not None and (step + 1) % checkpoint_every == 0:
            rl.save_checkpoint(
                checkpoint,
                step=step + 1,
                models={"q": q_net, "target": target_net},
                optimizers={"adam": opt},
                rngs={"rng": rng},
                replay_buffer=buf,
                extra={"episodes": episodes},
            )
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            break
    return {
        "steps": step + 1 - start,
        "last_step": step + 1,
        "seconds": time.perf_counter() - t0,
        "episodes": episodes,
        "evals": evals,
        "reached": reached,
    }


# --------------------------------------------------------------------------- #
# Runs
# --------------------------------------------------------------------------- #


def cartpole(seed: int, time_budget: float, log=print) -> dict:
    seed_everything(seed)
    torch.set_num_threads(1)
    eval_env = rl.make_vec_env("CartPole-v1", EVAL_EPISODES, seed=seed + 10_000)

    def eval_fn(q):
        return float(rl.evaluate(greedy_batch_policy(q), eval_env, EVAL_EPISODES).mean())

    from gymnasium.wrappers import RecordEpisodeStatistics

    env = RecordEpisodeStatistics(rl.make_env("CartPole-v1", seed=seed))
    q = MLPQNetwork(4, 2)
    res = train_dqn(
        env,
        q,
        CARTPOLE,
        eval_fn=eval_fn,
        eval_every=CARTPOLE_EVAL_EVERY,
        stop_at=475.0,
        time_budget=time_budget,
        seed=seed,
        log=log,
    )
    fresh = rl.evaluate(
        greedy_batch_policy(q),
        "CartPole-v1",
        EVAL_EPISODES,
        num_envs=EVAL_EPISODES,
        seed=seed + 50_000,
    )
    res["fresh_mean"] = float(fresh.mean())
    return res


def breakout(cfg: dict, dueling: bool, checkpoint_at: int | None, log=print) -> dict:
    seed_everything(0)
    torch.set_num_threads(1)
    q = AtariQNetwork(4, dueling=dueling)
    tmp = Path(tempfile.mkdtemp(prefix="bench_dqn_"))
    try:
        ckpt = tmp / "breakout.pt"
        t0 = time.perf_counter()
        steps = 0
        if checkpoint_at is not None:  # first part, then a fresh network resumes from the file
            first = train_dqn(
                make_breakout(),
                q,
                dict(cfg, total_steps=checkpoint_at),
                checkpoint=ckpt,
                checkpoint_every=checkpoint_at,
            )
            steps += first["steps"]
            q = AtariQNetwork(4, dueling=dueling)
        res = train_dqn(
            make_breakout(),
            q,
            cfg,
            checkpoint=ckpt if checkpoint_at else None,
            checkpoint_every=cfg["total_steps"],
        )
        steps += res["steps"]
        res["total_seconds"] = time.perf_counter() - t0
        res["total_steps"] = steps
        res["resumed_at"] = res["last_step"] - res["steps"]
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run() -> list[dict]:
    rows = []
    print("  CartPole-v1, seed 0")
    cp = cartpole(0, CARTPOLE_TIME_BUDGET)
    reached = cp["reached"]
    left = CARTPOLE_TOTAL_BUDGET - cp["seconds"]
    if left >= 60:
        print("  CartPole-v1, seed 1")
        cp1 = cartpole(1, left)
        other = (
            f"seed 1: {cp1['reached'][0]:,} steps in {cp1['reached'][2]:.0f} s"
            if cp1["reached"]
            else f"seed 1 did not reach 475 in {cp1['last_step']:,} steps "
            f"/ {cp1['seconds']:.0f} s (best evaluation {max([e[1] for e in cp1['evals']] or [0]):.1f})"
        )
        other += f"; fresh 100 episodes after stopping: seed 1 {cp1['fresh_mean']:.1f}"
    else:
        other = "seed 1 skipped (time budget)"
    rows.append(
        {
            "benchmark": "dqn",
            "metric": "CartPole-v1 double DQN: seconds to mean return >= 475 (100 greedy episodes)",
            "value": round(reached[2], 1) if reached else float("nan"),
            "target": "reported",
            "passed": reached is not None,
            "seconds": cp["seconds"],
            "notes": (
                f"seed 0 (budget {CARTPOLE_TIME_BUDGET:.0f} s), "
                f"evaluation every {CARTPOLE_EVAL_EVERY:,} steps; {other}; "
                f"fresh 100 episodes after stopping: seed 0 {cp['fresh_mean']:.1f}; 1 thread"
            ),
        }
    )
    rows.append(
        {
            "benchmark": "dqn",
            "metric": "CartPole-v1 double DQN: environment steps to mean return >= 475",
            "value": reached[0] if reached else cp["last_step"],
            "target": "CleanRL DQN reference: about 270,000",
            "passed": reached is not None,
            "seconds": cp["seconds"],
            "notes": (
                "notebook full settings: lr 1e-3, batch 128, buffer 50k, learning starts 1k, "
                "1 update / 4 steps, target every 250, eps 1->0.05 over 10k, Huber, MLP 128x2; "
                "CleanRL: lr 2.5e-4, 10k random steps, 1 update / 10 steps, target every 500, "
                "eps over 250k of 500k steps"
            ),
        }
    )
    print("  Breakout, notebook small mode")
    small = breakout(BREAKOUT_SMALL, dueling=True, checkpoint_at=300)
    sps = small["total_steps"] / small["total_seconds"]
    rows.append(
        {
            "benchmark": "dqn",
            "metric": "Breakout small run (600 agent steps, checkpoint at 300 then resume): completes",
            "value": small["total_steps"],
            "target": "600 steps",
            "passed": small["total_steps"] == 600 and small["resumed_at"] == 300,
            "seconds": small["total_seconds"],
            "notes": (
                f"{sps:.0f} agent steps/s ({4 * sps:.0f} frames/s) incl. checkpoint write and "
                f"resume; dueling double DQN, batch 8, 1 update / 10 steps after 200; "
                f"{len(small['episodes'])} episode(s) ended"
            ),
        }
    )
    print("  Breakout, full-mode settings for 1,000 steps")
    full = breakout(BREAKOUT_FULL, dueling=True, checkpoint_at=None)
    sps_full = full["total_steps"] / full["total_seconds"]
    rows.append(
        {
            "benchmark": "dqn",
            "metric": "Breakout, full-mode settings on this CPU: agent steps per second",
            "value": round(sps_full, 1),
            "target": "reported",
            "passed": None,
            "seconds": full["total_seconds"],
            "notes": (
                f"batch 32, 1 update / 4 steps (updates from step 100 of 1,000); 5M steps would "
                f"take about {5e6 / sps_full / 3600:.0f} h here: the full Breakout run is for a GPU"
            ),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
