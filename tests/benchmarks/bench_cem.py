"""Cross-entropy method: tabular on Taxi-v4 and deep on CartPole-v1 and LunarLander-v3,
measured by running lesson rl/01 itself in full mode (``tests/benchmarks/lessons.py``).

The lesson's deep CEM plays ``N_SESSIONS`` sessions per iteration with its small MLP
policy (in parallel joblib workers), keeps the sessions at or above the ``PERCENTILE``-th
percentile and fits the policy to their (state, action) pairs. CartPole-v1 stops when the
sessions of an iteration average 490 or more; LunarLander-v3 when they average 70.

Rows: the CartPole-v1 training time (target <= 30 s on 2 CPU cores) and its mean return
over 100 fresh episodes (target >= 475), the LunarLander-v3 mean return over 100 fresh
episodes (target >= 50), and Taxi-v4's tabular CEM against the random policy. The lesson
asserts the same targets in full mode. Evaluation plays the learned stochastic policy.
"""

from __future__ import annotations

from statistics import mean

from tests.benchmarks.lessons import run_lesson

NAMES = [
    "cartpole_seconds",
    "cartpole_log",
    "cartpole_returns",
    "lander_seconds",
    "lander_log",
    "lander_returns",
    "random_lander",
    "taxi_returns",
    "random_taxi",
    "taxi_log",
    "N_SESSIONS",
    "N_JOBS",
    "BACKEND",
]


def run() -> list[dict]:
    v = run_lesson("rl/01_gym_and_cem", NAMES)
    where = f"lesson rl/01 in full mode ({v['_executed']}, whole run {v['_seconds']:.0f} s)"
    workers = f"{v['N_SESSIONS']} sessions per iteration, {v['N_JOBS']} {v['BACKEND']} workers"
    cp_iters = len(v["cartpole_log"]["mean reward"])
    cp_mean = mean(v["cartpole_returns"])
    ll_iters = len(v["lander_log"]["mean reward"])
    ll_mean = mean(v["lander_returns"])
    taxi_mean = mean(v["taxi_returns"])
    return [
        {
            "benchmark": "cem",
            "metric": "CartPole-v1 deep CEM: training seconds (until the sessions average >= 490)",
            "value": round(v["cartpole_seconds"], 1),
            "target": "<= 30 s",
            "passed": v["cartpole_seconds"] <= 30.0,
            "seconds": round(v["cartpole_seconds"], 1),
            "notes": f"{cp_iters} iterations, {workers}; {where}",
        },
        {
            "benchmark": "cem",
            "metric": "CartPole-v1 deep CEM: mean return over 100 fresh episodes",
            "value": round(cp_mean, 1),
            "target": ">= 475",
            "passed": cp_mean >= 475.0,
            "seconds": None,
            "notes": f"min {min(v['cartpole_returns']):.0f}; stochastic policy, seed 1",
        },
        {
            "benchmark": "cem",
            "metric": "LunarLander-v3 deep CEM: mean return over 100 fresh episodes",
            "value": round(ll_mean, 1),
            "target": ">= 50",
            "passed": ll_mean >= 50.0,
            "seconds": round(v["lander_seconds"], 1),
            "notes": (
                f"{ll_iters} iterations (stop when the sessions average >= 70), {workers}; "
                f"random policy {mean(v['random_lander']):.1f}"
            ),
        },
        {
            "benchmark": "cem",
            "metric": "Taxi-v4 tabular CEM: mean return over 100 episodes",
            "value": round(taxi_mean, 1),
            "target": "> random + 500",
            "passed": taxi_mean > mean(v["random_taxi"]) + 500,
            "seconds": None,
            "notes": (
                f"{len(v['taxi_log']['mean reward'])} iterations; random policy "
                f"{mean(v['random_taxi']):.1f}"
            ),
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
