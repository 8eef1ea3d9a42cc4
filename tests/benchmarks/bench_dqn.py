"""DQN on CartPole-v1 and Breakout (lesson rl/04), measured by running the lesson itself
(``tests/benchmarks/lessons.py``): the figures are the lesson's own variables.

Two runs of the lesson:

1. **Full mode**, with ``CPU_SIZE`` injected into its parameters cell. CartPole-v1 runs
   at the lesson's full-mode settings, untouched: double DQN, MLP 4-128-128-2, Adam 1e-3,
   batch 128, buffer 50,000, learning from step 1,000, one update every 4 steps, target
   copied every 250 steps, epsilon 1 -> 0.05 over 10,000 steps, Huber loss; the greedy
   policy plays 100 episodes every 2,500 steps and training stops at the first evaluation
   >= 475 (at most 150,000 steps). The lesson then restores the best network, plays 100
   fresh episodes and asserts a mean >= 450 (its full-mode check).
   The DQN / double / dueling comparison that follows (three more CartPole runs of
   50,000 steps each) runs at its full-mode size too; it has no target, its evaluations
   are in the notes. Injected: only the size of the Breakout run, whose full mode (5
   million agent steps, a 100,000-transition buffer of 5.6 GB, learning from step 50,000)
   is for a GPU. It runs at the largest size that keeps the benchmark within about 25
   minutes on 2 shared cores under the heaviest load seen (20,000 steps took 6 minutes at
   a load average of 4, about 9 expected at 7, next to 1.5 to 5 minutes for the rest of
   the lesson, which slows down more with the load): ``BREAKOUT_STEPS``
   agent steps with learning from ``BREAKOUT_LEARNING_STARTS`` (so that most of the run
   trains, as most of a full run does) and a buffer as large as the run. Every other
   Breakout setting is the lesson's full mode: dueling double DQN, Adam 1e-4, batch 32,
   one update every 4 steps, target every 1,000 steps, epsilon over the first million
   steps (so still about 1 here: acting is random, as at the start of a full run), a
   checkpoint every 100,000 steps (none within this run), then 10 evaluation games with
   epsilon 0.05 and a video.
2. **Small mode** (``COURSE_SMALL=1``, nothing injected): its Breakout run of 600 agent
   steps trains 300, writes a checkpoint (replay buffer included), drops the network and
   resumes from the file for the other 300. Full mode does not show a resume.

Rows: seconds and environment steps of CartPole-v1 to the lesson's first evaluation
>= 475 (seed 0; CleanRL's DQN, 500,000 steps with 10,000 random steps first and an update
every 10 steps, reaches 475 at about 270,000 steps); the small-mode Breakout run with its
checkpoint and resume (completes); Breakout agent steps per second at the full-mode
settings, at the size above. The old compact copy also ran CartPole with seed 1 when its
time budget allowed and gave its figures in the notes; the lesson runs one seed, and a
second full-mode run would not fit the time, so seed 1 is gone.

All on one torch thread (the lesson sets it); the whole benchmark took 8 minutes at a load
average of 4 on 2 cores shared with other work (the CartPole seconds depend on the load
most: 35,000 steps took 10 s at a load of 4 and 55 s at 7).
"""

from __future__ import annotations

from statistics import mean

from tests.benchmarks.lessons import run_lesson

# Injected into the full-mode run (see the docstring): Breakout at a size that a 2-core CPU
# finishes within the benchmark's time; the rest of the lesson runs at its full-mode size
CPU_SIZE = {"BREAKOUT_STEPS": 20_000, "BREAKOUT_BUFFER": 20_000, "BREAKOUT_LEARNING_STARTS": 2_000}
NAMES = [
    "cartpole_hist",
    "cartpole_returns",
    "random_returns",
    "compare",
    "breakout_hist",
    "breakout_scores",
    "sps",
    "SEED",
    "CARTPOLE_STEPS",
    "CARTPOLE_EVAL_EVERY",
    "EVAL_EPISODES",
    "COMPARE_STEPS",
    "COMPARE_EVAL_EVERY",
    "CHECKPOINT_EVERY",
    "BREAKOUT_EVAL_EPISODES",
    "BREAKOUT_EVAL_MAX_STEPS",
    *CPU_SIZE,
]
SMALL_NAMES = ["breakout_hist", "sps", "BREAKOUT_STEPS", "CHECKPOINT_EVERY"]
TARGET = 475.0


def _hist(h: dict) -> dict:
    """The evaluation log of a CartPole run: first evaluation >= 475, best evaluation."""
    evals = list(zip(h["eval_step"], h["eval_return"]))
    reached = next((step for step, score in evals if score >= TARGET), None)
    return {"reached": reached, "best": max((s for _, s in evals), default=float("nan"))}


def rows(v: dict, s: dict) -> list[dict]:
    """The rows from the full-mode run's values ``v`` and the small-mode run's ``s``."""
    cp = v["cartpole_hist"]
    cp_log = _hist(cp)
    reached = cp_log["reached"]
    fresh = mean(v["cartpole_returns"])
    where = (
        f"lesson rl/04 in full mode, {', '.join(f'{k} {v[k]:,}' for k in CPU_SIZE)} injected "
        f"({v['_executed']}, whole run {v['_seconds']:.0f} s)"
    )
    compare = "; ".join(
        f"{name} best {_hist(h)['best']:.0f}, last {h['eval_return'][-1]:.0f}"
        for name, h in v["compare"].items()
    )
    cartpole_notes = (
        f"seed {v['SEED']}; greedy evaluation of {v['EVAL_EPISODES']} episodes every "
        f"{v['CARTPOLE_EVAL_EVERY']:,} steps (its time included), stop at the first >= 475, "
        f"at most {v['CARTPOLE_STEPS']:,} steps; evaluations "
        + ", ".join(f"{score:.0f}" for score in cp["eval_return"])
        + f"; best network on {v['EVAL_EPISODES']} fresh episodes {fresh:.1f} (the lesson "
        f"asserts >= 450; random policy {mean(v['random_returns']):.1f}); 1 torch thread; "
        f"{where}"
    )
    full = v["breakout_hist"]
    small = s["breakout_hist"]
    resumed_at = s["BREAKOUT_STEPS"] - small["steps"]
    return [
        {
            "benchmark": "dqn",
            "metric": "CartPole-v1 double DQN: seconds to mean return >= 475 (100 greedy episodes)",
            "value": round(cp["seconds"], 1) if reached else float("nan"),
            "target": "reported",
            "passed": reached is not None,
            "seconds": round(cp["seconds"], 1),
            "notes": cartpole_notes,
        },
        {
            "benchmark": "dqn",
            "metric": "CartPole-v1 double DQN: environment steps to mean return >= 475",
            "value": reached if reached else cp["steps"],
            "target": "CleanRL DQN reference: about 270,000",
            "passed": reached is not None,
            "seconds": round(cp["seconds"], 1),
            "notes": (
                "lesson full mode: lr 1e-3, batch 128, buffer 50k, learning starts 1k, "
                "1 update / 4 steps, target every 250, eps 1->0.05 over 10k, Huber, MLP 128x2; "
                "CleanRL: lr 2.5e-4, 10k random steps, 1 update / 10 steps, target every 500, "
                "eps over 250k of 500k steps; the lesson's comparison, "
                f"{v['COMPARE_STEPS']:,} steps per variant (evaluation every "
                f"{v['COMPARE_EVAL_EVERY']:,}): {compare}"
            ),
        },
        {
            "benchmark": "dqn",
            "metric": (
                f"Breakout small run ({s['BREAKOUT_STEPS']} agent steps, checkpoint at "
                f"{s['CHECKPOINT_EVERY']} then resume): completes"
            ),
            "value": resumed_at + small["steps"],
            "target": f"{s['BREAKOUT_STEPS']} steps",
            "passed": resumed_at == s["CHECKPOINT_EVERY"],
            "seconds": round(small["seconds"], 1),
            "notes": (
                f"lesson rl/04 in small mode (COURSE_SMALL=1, nothing injected; "
                f"{s['_executed']}, whole run {s['_seconds']:.0f} s): resumed from the "
                f"checkpoint at step {resumed_at} (replay buffer included) and ran "
                f"{small['steps']} more at {s['sps']:.0f} agent steps/s ({4 * s['sps']:.0f} "
                f"frames/s; seconds = this resumed part); dueling double DQN, batch 8, "
                f"1 update / 10 steps after 200; {len(small['episode_return'])} episode(s) ended"
            ),
        },
        {
            "benchmark": "dqn",
            "metric": (
                f"Breakout, full-mode settings on this CPU at {v['BREAKOUT_STEPS']:,} agent "
                f"steps (learning from {v['BREAKOUT_LEARNING_STARTS']:,}): agent steps per second"
            ),
            "value": round(v["sps"], 1),
            "target": "reported",
            "passed": None,
            "seconds": round(full["seconds"], 1),
            "notes": (
                f"the lesson's own figure (steps / seconds of its train_dqn call); injected "
                f"for a CPU: {v['BREAKOUT_STEPS']:,} steps "
                f"(full mode 5,000,000), buffer {v['BREAKOUT_BUFFER']:,} (100,000), learning "
                f"from {v['BREAKOUT_LEARNING_STARTS']:,} (50,000); full-mode settings otherwise: "
                "dueling double DQN, Adam 1e-4, batch 32, 1 update / 4 steps, target every "
                f"1,000, eps over 1M steps, a checkpoint every {v['CHECKPOINT_EVERY']:,}; "
                "5M steps would take about "
                f"{5e6 / v['sps'] / 3600:.0f} h here: the full Breakout run is for a GPU; "
                f"{len(full['episode_return'])} training episodes, evaluation "
                f"{v['BREAKOUT_EVAL_EPISODES']} game(s) of at most "
                f"{v['BREAKOUT_EVAL_MAX_STEPS']:,} steps (eps 0.05): mean score "
                f"{mean(v['breakout_scores']):.1f}"
            ),
        },
    ]


def run() -> list[dict]:
    v = run_lesson("rl/04_dqn_atari", NAMES, parameters=CPU_SIZE)
    s = run_lesson("rl/04_dqn_atari", SMALL_NAMES, small=True, tag="small")
    return rows(v, s)


if __name__ == "__main__":
    for row in run():
        print(row)
