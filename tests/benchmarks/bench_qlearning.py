"""Tabular Q-learning, SARSA and expected SARSA on Taxi-v4 (lesson rl/02) and approximate
Q-learning on CartPole-v1 (lesson rl/03), measured by running the lessons themselves in
full mode (``tests/benchmarks/lessons.py``): the figures are the lessons' own variables.

Taxi-v4 rows (rl/02): the optimal mean return over the initial-state distribution, by the
lesson's value iteration; each agent's greedy mean return over the lesson's evaluation
episodes, with its standard error and training time. Target for Q-learning: within 0.3 of
the optimum (the lesson asserts it in full mode).

CartPole-v1 rows (rl/03): the lesson's online approximate Q-learning (16 sessions in
parallel, no replay, no target network) stops when its greedy check reaches 475; reported
are the training time and environment steps until then, the mean over 100 fresh episodes,
and how many of two other seeds (the lesson run again with ``SEED`` injected) reach 475
within the lesson's update budget.
"""

from __future__ import annotations

import math

from tests.benchmarks.lessons import run_lesson

EXTRA_SEEDS = (1, 2)  # robustness: the same lesson with other seeds


def taxi_rows() -> list[dict]:
    v = run_lesson(
        "rl/02_qlearning",
        [
            "TAXI_OPTIMUM",
            "optimum_here",
            "taxi_greedy",
            "taxi_seconds",
            "taxi_curves",
            "TAXI_EPISODES",
            "TAXI_EVAL_EPISODES",
            "ALPHA",
            "GAMMA",
        ],
    )
    n_eval = v["TAXI_EVAL_EPISODES"]
    optimum = v["TAXI_OPTIMUM"]
    where = f"lesson rl/02 in full mode ({v['_executed']}, whole run {v['_seconds']:.0f} s)"
    rows = [
        {
            "benchmark": "qlearning",
            "metric": "Taxi-v4 optimal mean return (value iteration, initial-state distribution)",
            "value": round(optimum, 4),
            "target": "",
            "passed": None,
            "seconds": None,
            "notes": f"undiscounted; optimum on the {n_eval} evaluation start states: "
            f"{v['optimum_here']:.3f}; {where}",
        }
    ]
    for name, returns in v["taxi_greedy"].items():
        mean = sum(returns) / len(returns)
        sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
        curve = v["taxi_curves"][name]
        is_q = name == "Q-learning"
        rows.append(
            {
                "benchmark": "qlearning",
                "metric": f"Taxi-v4 {name}: greedy mean return over {n_eval} episodes",
                "value": round(mean, 3),
                "target": f">= {optimum - 0.3:.2f} (optimum - 0.3)" if is_q else "",
                "passed": (abs(mean - optimum) <= 0.3) if is_q else None,
                "seconds": round(v["taxi_seconds"][name], 1),
                "notes": (
                    f"standard error {sd / math.sqrt(len(returns)):.3f}; gap to the optimum on "
                    f"the same start states {v['optimum_here'] - mean:.3f}; last 100 training "
                    f"episodes {sum(curve[-100:]) / 100:.2f}; {v['TAXI_EPISODES']} episodes, "
                    f"alpha {v['ALPHA']}, gamma {v['GAMMA']}, the lesson's epsilon schedule"
                ),
            }
        )
    return rows


CARTPOLE = ["log", "train_seconds", "returns", "last_check", "STOP_AT", "MAX_STEPS", "N_ENVS"]


def _cartpole(seed: int) -> dict:
    v = run_lesson(
        "rl/03_approx_qlearning",
        CARTPOLE,
        parameters={"SEED": seed} if seed else None,
        tag=f"seed{seed}",
    )
    log = v["log"]
    v["reached"] = v["last_check"] >= v["STOP_AT"]
    v["updates"], v["env_steps"] = log["updates"], log["env_steps"]
    v["fresh_mean"] = sum(v["returns"]) / len(v["returns"])
    v["fresh_min"] = min(v["returns"])
    return v


def cartpole_rows() -> list[dict]:
    res = _cartpole(0)
    others = {seed: _cartpole(seed) for seed in EXTRA_SEEDS}
    where = f"lesson rl/03 in full mode ({res['_executed']}, whole run {res['_seconds']:.0f} s)"
    return [
        {
            "benchmark": "qlearning",
            "metric": "CartPole-v1 approximate Q-learning: seconds to greedy mean >= 475 (100 episodes)",
            "value": round(res["train_seconds"], 1) if res["reached"] else float("nan"),
            "target": ">= 475 reached",
            "passed": res["reached"],
            "seconds": round(res["train_seconds"], 1),
            "notes": (
                f"{res['updates']} updates, last check {res['last_check']:.1f}; 100 fresh episodes "
                f"of that network: mean {res['fresh_mean']:.1f}, min {res['fresh_min']:.0f}; "
                f"wall time includes the checks; {res['N_ENVS']} parallel sessions; {where}"
            ),
        },
        {
            "benchmark": "qlearning",
            "metric": "CartPole-v1 approximate Q-learning: environment steps to greedy mean >= 475",
            "value": res["env_steps"],
            "target": "",
            "passed": None,
            "seconds": round(res["train_seconds"], 1),
            "notes": "training transitions only (check episodes not counted)"
            + ("" if res["reached"] else "; target NOT reached: steps used in all"),
        },
        {
            "benchmark": "qlearning",
            "metric": f"CartPole-v1 approximate Q-learning: other seeds reaching 475 "
            f"(of {len(EXTRA_SEEDS)}, at most {res['MAX_STEPS']} updates)",
            "value": sum(r["reached"] for r in others.values()),
            "target": "",
            "passed": None,
            "seconds": round(sum(r["train_seconds"] for r in others.values()), 1),
            "notes": "; ".join(
                f"seed {seed}: "
                + (
                    f"{r['train_seconds']:.1f} s, {r['env_steps']} env steps, fresh mean "
                    f"{r['fresh_mean']:.1f}"
                    if r["reached"]
                    else f"not reached in {r['updates']} updates ({r['train_seconds']:.0f} s), "
                    f"last check {r['last_check']:.1f}, fresh mean {r['fresh_mean']:.1f}"
                )
                for seed, r in others.items()
            )
            + "; SEED injected into the lesson's parameters cell",
        },
    ]


def run() -> list[dict]:
    return taxi_rows() + cartpole_rows()


if __name__ == "__main__":
    for row in run():
        print(row)
