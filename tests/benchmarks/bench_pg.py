"""Policy gradients: REINFORCE on CartPole-v1 and A2C on Acrobot-v1 (notebook rl/05).

The same algorithms and hyper-parameters as ``notebooks/rl/05_reinforce_a2c.source.ipynb``,
written compactly:

- **REINFORCE** with a learned state-value baseline: play a batch of 16 complete
  episodes at once (CartPole's NumPy vector environment), advantages
  ``G_t - V(s_t)`` centred and scaled over the batch, one Adam step on
  ``-log pi(a|s) * A - 0.01 * entropy``, one Adam step of regression of ``V`` on
  ``G_t``. After every iteration whose training batch averaged at least 400, the
  sampled policy plays 100 evaluation episodes; the clock stops when their mean
  return reaches 475. Seeds 0, 1 and 2; the median is reported, each seed in the
  notes. The same runs without the baseline (returns only scaled by their standard
  deviation) are measured for comparison.
- **A2C**: 16 Acrobot-v1 environments (``SyncVectorEnv``, same-step autoreset),
  8-step bootstrapped returns (time-limit truncations bootstrapped from
  ``V(final observation)``, terminations not), separate actor and critic MLPs
  trained by one Adam on actor loss + 0.5 * value loss - 0.01 * entropy with
  normalised advantages and gradient clipping at 0.5. Trained for at most 300k
  environment steps; from the point where the last 50 training episodes average
  at least -100, the sampled policy plays 100 evaluation episodes every 16k steps
  and training stops when their mean is >= -90 (a margin over the target). The
  reported value is the mean over 100 *fresh* evaluation episodes (other seeds).

Environment steps count training steps only (evaluation episodes are not counted);
wall times include the evaluation checks.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from course_utils import rl
from course_utils.config import seed_everything

GAMMA = 0.99
EVAL_EPISODES = 100

REINFORCE = dict(
    episodes=16,
    policy_lr=3e-3,
    value_lr=3e-3,
    entropy_coef=0.01,
    max_iters=150,
    stop_at=475.0,
    check_from=400.0,
)
SEEDS = (0, 1, 2)
A2C = dict(
    n_envs=16,
    n_steps=8,
    lr=1e-3,
    entropy_coef=0.01,
    value_coef=0.5,
    max_grad_norm=0.5,
    total_steps=300_000,
    check_every=16_384,
    stop_at=-90.0,
)


def discounted_returns(rewards, gamma, dones=None, last_value=0.0) -> np.ndarray:
    """G_t = r_t + gamma * (1 - done_t) * G_{t+1}, G_T = last_value; (T,) or (T, N)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.zeros(rewards.shape, bool) if dones is None else np.asarray(dones, bool)
    returns = np.zeros_like(rewards)
    future = np.broadcast_to(np.asarray(last_value, np.float64), rewards.shape[1:]).copy()
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * np.where(dones[t], 0.0, future)
        returns[t] = future
    return returns


def make_mlp(n_in: int, n_out: int, hidden: int = 64) -> nn.Module:
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, n_out),
    )


def sample_actions(logits: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    probs = torch.softmax(logits, dim=-1).numpy()
    return (rng.random((len(probs), 1)) > probs.cumsum(axis=1)[:, :-1]).sum(axis=1)


def agent(policy, rng, greedy: bool = False):
    def act(obs):
        with torch.no_grad():
            logits = policy(torch.as_tensor(obs, dtype=torch.float32))
        return logits.argmax(-1).numpy() if greedy else sample_actions(logits, rng)

    return act


# --------------------------------------------------------------------------- #
# REINFORCE
# --------------------------------------------------------------------------- #


def play_episodes(policy, venv, rng):
    obs, _ = venv.reset()
    states, actions, rewards, alive_log = [], [], [], []
    alive = np.ones(venv.num_envs, dtype=bool)
    while alive.any():
        with torch.no_grad():
            action = sample_actions(policy(torch.as_tensor(obs, dtype=torch.float32)), rng)
        states.append(obs)
        actions.append(action)
        alive_log.append(alive.copy())
        obs, reward, terminated, truncated, _ = venv.step(action)
        rewards.append(np.where(alive, reward, 0.0))
        alive &= ~(terminated | truncated)
    return np.stack(states), np.stack(actions), np.stack(rewards), np.stack(alive_log)


def reinforce(
    use_baseline: bool,
    *,
    episodes,
    policy_lr,
    value_lr,
    entropy_coef,
    max_iters,
    stop_at,
    check_from,
    seed: int = 0,
    log=print,
) -> dict:
    start = time.perf_counter()
    seed_everything(seed)
    torch.set_num_threads(1)
    policy, value = make_mlp(4, 2), make_mlp(4, 1)
    policy_opt = torch.optim.Adam(policy.parameters(), lr=policy_lr)
    value_opt = torch.optim.Adam(value.parameters(), lr=value_lr)
    venv = rl.make_vec_env("CartPole-v1", episodes, seed=seed)
    check_env = rl.make_vec_env("CartPole-v1", EVAL_EPISODES, seed=seed + 10_000)
    rng = np.random.default_rng(seed)
    steps, reached_at, reached_steps, check, checks = 0, None, None, float("nan"), 0
    for it in range(max_iters):
        states, actions, rewards, alive = play_episodes(policy, venv, rng)
        steps += int(alive.sum())
        s = torch.as_tensor(states[alive], dtype=torch.float32)
        a = torch.as_tensor(actions[alive])
        g = torch.as_tensor(discounted_returns(rewards, GAMMA)[alive], dtype=torch.float32)
        with torch.no_grad():
            if use_baseline:
                adv = g - value(s).squeeze(-1)
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            else:
                adv = g / (g.std() + 1e-8)
        log_probs = torch.log_softmax(policy(s), dim=-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        loss = -(log_probs.gather(1, a[:, None]).squeeze(1) * adv).mean() - entropy_coef * entropy
        policy_opt.zero_grad()
        loss.backward()
        policy_opt.step()
        if use_baseline:
            value_loss = ((value(s).squeeze(-1) - g) ** 2).mean()
            value_opt.zero_grad()
            value_loss.backward()
            value_opt.step()
        if rewards.sum(0).mean() >= check_from:  # a check costs up to 50k steps: skip hopeless ones
            check = rl.evaluate(agent(policy, rng), check_env, EVAL_EPISODES).mean()
            checks += 1
        if (it + 1) % 10 == 0 or check >= stop_at:
            log(
                f"  REINFORCE {'V(s) baseline' if use_baseline else 'no baseline'} iter {it + 1}: "
                f"batch {rewards.sum(0).mean():.1f}, check {check:.1f}, entropy {entropy.item():.3f}, "
                f"{time.perf_counter() - start:.1f} s, {steps} env steps"
            )
        if check >= stop_at:
            reached_at, reached_steps = time.perf_counter() - start, steps
            break
    train_seconds = time.perf_counter() - start
    fresh_sampled = rl.evaluate(
        agent(policy, np.random.default_rng(seed + 7)),
        "CartPole-v1",
        EVAL_EPISODES,
        num_envs=EVAL_EPISODES,
        seed=seed + 50_000,
    )
    fresh_greedy = rl.evaluate(
        agent(policy, None, greedy=True),
        "CartPole-v1",
        EVAL_EPISODES,
        num_envs=EVAL_EPISODES,
        seed=seed + 50_000,
    )
    return {
        "iterations": it + 1,
        "check": float(check),
        "checks": checks,
        "reached_at": reached_at,
        "reached_steps": reached_steps,
        "env_steps": steps,
        "train_seconds": train_seconds,
        "fresh_mean": float(fresh_sampled.mean()),
        "fresh_greedy_mean": float(fresh_greedy.mean()),
    }


# --------------------------------------------------------------------------- #
# A2C
# --------------------------------------------------------------------------- #


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.actor = make_mlp(obs_dim, n_actions, hidden)
        self.critic = make_mlp(obs_dim, 1, hidden)

    def forward(self, obs):
        return self.actor(obs), self.critic(obs).squeeze(-1)


def a2c(
    *,
    n_envs,
    n_steps,
    lr,
    entropy_coef,
    value_coef,
    max_grad_norm,
    total_steps,
    check_every,
    stop_at,
    seed: int = 0,
    log=print,
) -> dict:
    start = time.perf_counter()
    seed_everything(seed)
    torch.set_num_threads(1)
    venv = rl.make_vec_env(
        "Acrobot-v1",
        n_envs,
        seed=seed,
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )
    obs_dim, n_actions = venv.single_observation_space.shape[0], venv.single_action_space.n
    model = ActorCritic(obs_dim, n_actions)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)

    def tensor(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32)

    def policy(x):
        return model(x)[0]

    running = np.zeros(n_envs)
    episode_returns: list[float] = []
    obs, _ = venv.reset()
    steps, next_check, check, checks = 0, check_every, float("nan"), 0
    while steps < total_steps:
        states, actions, rewards, dones = [], [], [], []
        for _ in range(n_steps):
            with torch.no_grad():
                logits, _ = model(tensor(obs))
            action = sample_actions(logits, rng)
            next_obs, reward, terminated, truncated, info = venv.step(action)
            running += reward
            reward = reward.astype(np.float64)
            cut = truncated & ~terminated
            if cut.any():
                with torch.no_grad():
                    _, v_final = model(tensor(np.stack(info["final_obs"][cut])))
                reward[cut] += GAMMA * v_final.numpy()
            for i in np.flatnonzero(terminated | truncated):
                episode_returns.append(running[i])
                running[i] = 0.0
            states.append(obs)
            actions.append(action)
            rewards.append(reward)
            dones.append(terminated | truncated)
            obs = next_obs
            steps += n_envs
        with torch.no_grad():
            _, last_value = model(tensor(obs))
        returns = tensor(
            discounted_returns(np.stack(rewards), GAMMA, np.stack(dones), last_value.numpy())
        ).flatten()
        logits, values = model(tensor(np.stack(states)).reshape(-1, obs_dim))
        adv = (returns - values).detach()
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        log_probs = torch.log_softmax(logits, dim=-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        log_pi = log_probs.gather(1, torch.as_tensor(np.stack(actions)).reshape(-1, 1)).squeeze(1)
        value_loss = ((returns - values) ** 2).mean()
        loss = -(log_pi * adv).mean() + value_coef * value_loss - entropy_coef * entropy
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        if steps >= next_check:
            next_check += check_every
            recent = float(np.mean(episode_returns[-50:])) if episode_returns else -500.0
            if recent >= -100:
                check = rl.evaluate(
                    agent(policy, rng), "Acrobot-v1", EVAL_EPISODES, num_envs=50, seed=seed + 10_000
                ).mean()
                checks += 1
            log(
                f"  A2C Acrobot {steps} steps: last 50 episodes {recent:.1f}, check {check:.1f}, "
                f"entropy {entropy.item():.3f}, value loss {value_loss.item():.2f}, "
                f"{time.perf_counter() - start:.1f} s"
            )
            if check >= stop_at:
                break
    venv.close()
    train_seconds = time.perf_counter() - start
    fresh = rl.evaluate(
        agent(policy, np.random.default_rng(seed + 7)),
        "Acrobot-v1",
        EVAL_EPISODES,
        num_envs=50,
        seed=seed + 50_000,
    )
    greedy = rl.evaluate(
        agent(policy, None, greedy=True),
        "Acrobot-v1",
        EVAL_EPISODES,
        num_envs=50,
        seed=seed + 50_000,
    )
    return {
        "env_steps": steps,
        "train_seconds": train_seconds,
        "check": float(check),
        "checks": checks,
        "episodes": len(episode_returns),
        "fresh_mean": float(fresh.mean()),
        "fresh_std": float(fresh.std()),
        "fresh_greedy_mean": float(greedy.mean()),
    }


def _median(values):
    return float(np.median(values)) if values else float("nan")


def run() -> list[dict]:
    rows = []
    hp = (
        f"{REINFORCE['episodes']} episodes/iteration, Adam {REINFORCE['policy_lr']:g}, "
        f"entropy {REINFORCE['entropy_coef']:g}, gamma {GAMMA}"
    )
    results = {True: [], False: []}
    for seed in SEEDS:
        for use_baseline in (True, False):
            results[use_baseline].append(reinforce(use_baseline, seed=seed, **REINFORCE))

    def per_seed(runs):
        return "; ".join(
            f"seed {seed}: "
            + (
                f"{r['reached_at']:.0f} s, {r['reached_steps']} steps, {r['iterations']} it"
                if r["reached_at"] is not None
                else f"not reached in {r['iterations']} it"
            )
            + f", fresh {r['fresh_mean']:.0f}/{r['fresh_greedy_mean']:.0f}"
            for seed, r in zip(SEEDS, runs)
        )

    base = results[True]
    solved = [r for r in base if r["reached_at"] is not None]
    rows.append(
        {
            "benchmark": "pg",
            "metric": "CartPole-v1 REINFORCE + V(s) baseline: seconds to mean return >= 475 "
            f"(100 episodes), median of {len(SEEDS)} seeds",
            "value": round(_median([r["reached_at"] for r in solved]), 1),
            "target": ">= 475 reached (every seed)",
            "passed": len(solved) == len(base),
            "seconds": sum(r["train_seconds"] for r in base),
            "notes": (
                f"{per_seed(base)} (fresh = mean over 100 fresh episodes, sampled/greedy "
                f"policy); {hp}; 1 process; check time included"
            ),
        }
    )
    rows.append(
        {
            "benchmark": "pg",
            "metric": "CartPole-v1 REINFORCE + V(s) baseline: environment steps to mean return >= 475, median",
            "value": int(_median([r["reached_steps"] for r in solved])) if solved else "-",
            "target": "",
            "passed": None,
            "seconds": sum(r["train_seconds"] for r in base),
            "notes": "training episodes only: " + ", ".join(str(r["reached_steps"]) for r in base),
        }
    )
    plain = results[False]
    plain_solved = [r for r in plain if r["reached_at"] is not None]
    rows.append(
        {
            "benchmark": "pg",
            "metric": "CartPole-v1 REINFORCE without baseline (same seeds): environment steps to 475, median",
            "value": int(_median([r["reached_steps"] for r in plain_solved]))
            if plain_solved
            else "-",
            "target": "comparison",
            "passed": None,
            "seconds": sum(r["train_seconds"] for r in plain),
            "notes": f"{len(plain_solved)}/{len(plain)} seeds reached it; {per_seed(plain)}",
        }
    )
    ac = a2c(**A2C)
    rows.append(
        {
            "benchmark": "pg",
            "metric": "Acrobot-v1 A2C: mean return over 100 fresh episodes",
            "value": round(ac["fresh_mean"], 1),
            "target": ">= -100",
            "passed": ac["fresh_mean"] >= -100,
            "seconds": ac["train_seconds"],
            "notes": (
                f"std {ac['fresh_std']:.1f}, greedy {ac['fresh_greedy_mean']:.1f}; "
                f"{A2C['n_envs']} envs x {A2C['n_steps']}-step, Adam {A2C['lr']:g}; "
                f"{ac['env_steps']} env steps ({ac['episodes']} training episodes), "
                f"stop when a 100-episode check >= {A2C['stop_at']:.0f} "
                f"(last check {ac['check']:.1f}) or {A2C['total_steps']} steps"
            ),
        }
    )
    rows.append(
        {
            "benchmark": "pg",
            "metric": "Acrobot-v1 A2C: environment steps of training",
            "value": ac["env_steps"],
            "target": "",
            "passed": None,
            "seconds": ac["train_seconds"],
            "notes": f"wall time {ac['train_seconds']:.1f} s including {ac['checks']} evaluation checks",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
