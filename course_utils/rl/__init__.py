"""Reinforcement-learning plumbing: environments, evaluation, videos, reward plots.

One module per concern (``envs``, ``evaluation``, ``replay``, ``schedules``,
``checkpoints``, and ``checks``: public checks of a student's DQN pieces); the names
below are importable from ``course_utils.rl`` directly.

The notebooks implement the algorithms (cross-entropy method, Q-learning, DQN...);
this module only hides what every one of them repeats:

- :func:`make_env` / :func:`make_vec_env`: a gymnasium environment (classic
  control, Box2D, toy text, Atari) whose first ``reset()`` and whose action space
  are seeded, with a clear error on an unknown id;
- :func:`evaluate`: per-episode returns of a policy over ``n`` episodes, on one
  environment or, faster, on a vector environment with a batched policy;
- :func:`record_video` / :func:`show_video`: an ``.mp4`` of one episode, written
  headless with gymnasium's ``RecordVideo`` wrapper and embedded in the notebook
  so that it shows in Jupyter, in Colab and in an executed copy of the notebook;
- :func:`plot_returns`: returns per iteration with a moving average and a target;
- :class:`ReplayBuffer`: uniform experience replay in preallocated NumPy arrays,
  with a memory check before allocating (:func:`check_memory`);
- :func:`linear_schedule` / :func:`exponential_schedule`: exploration rate or
  learning rate as a function of the step;
- :func:`save_checkpoint` / :func:`load_checkpoint`: atomic checkpoints of a long
  run (networks, optimizers, step, random states, optionally the replay buffer)
  from which it resumes exactly.

A *policy* is any callable ``policy(observation) -> action``. With a vector
environment it receives a batch of observations (first axis: sub-environment)
and returns one action per sub-environment.
"""

from course_utils.rl.checkpoints import load_checkpoint, save_checkpoint
from course_utils.rl.envs import InvalidActionError, Policy, make_env, make_vec_env, random_policy
from course_utils.rl.evaluation import (
    evaluate,
    moving_average,
    plot_returns,
    record_video,
    show_video,
)
from course_utils.rl.replay import (
    Batch,
    ReplayBuffer,
    available_memory_bytes,
    check_memory,
    format_bytes,
)
from course_utils.rl.schedules import exponential_schedule, linear_schedule, set_learning_rate

__all__ = [
    "Batch",
    "InvalidActionError",
    "Policy",
    "ReplayBuffer",
    "available_memory_bytes",
    "check_memory",
    "evaluate",
    "exponential_schedule",
    "format_bytes",
    "linear_schedule",
    "load_checkpoint",
    "make_env",
    "make_vec_env",
    "moving_average",
    "plot_returns",
    "random_policy",
    "record_video",
    "save_checkpoint",
    "set_learning_rate",
    "show_video",
]
