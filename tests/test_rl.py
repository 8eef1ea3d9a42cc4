"""Tests for course_utils.rl: environments, evaluation, videos and reward plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless, whatever the machine has

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import rl
from course_utils.config import DEFAULT_SEED


def always_left(obs):
    return 0


def batched_always_left(obs):
    return np.zeros(len(obs), dtype=np.int64)


def pole_angle_policy(obs):
    """Push the cart towards the side the pole leans to: balances for a while."""
    return int(obs[2] > 0)


# --------------------------------------------------------------------------- #
# make_env / make_vec_env
# --------------------------------------------------------------------------- #


def test_make_env_seeds_first_reset_like_gymnasium():
    env = rl.make_env("CartPole-v1", seed=3)
    reference = gym.make("CartPole-v1")
    obs, _ = env.reset()
    expected, _ = reference.reset(seed=3)
    np.testing.assert_array_equal(obs, expected)
    # a second reset continues the stream: a different start state
    obs2, _ = env.reset()
    assert not np.array_equal(obs, obs2)


def test_make_env_default_seed_is_the_course_seed():
    a, _ = rl.make_env("CartPole-v1").reset()
    b, _ = gym.make("CartPole-v1").reset(seed=DEFAULT_SEED)
    np.testing.assert_array_equal(a, b)


def test_make_env_seeds_the_action_space():
    def actions(seed):
        env = rl.make_env("Taxi-v4", seed=seed)
        return [int(env.action_space.sample()) for _ in range(20)]

    assert actions(5) == actions(5)
    assert actions(5) != actions(6)


def test_make_env_passes_kwargs_and_render_mode():
    env = rl.make_env("CartPole-v1", render_mode="rgb_array", max_episode_steps=7)
    env.reset()
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, _ = env.step(pole_angle_policy(env.unwrapped.state))
        steps += 1
        done = terminated or truncated
    assert steps <= 7


@pytest.mark.parametrize(
    "bad, suggestion",
    [("CartPol-v1", "CartPole-v1"), ("Taxi-v3", "Taxi-v4"), ("lunarlander-v3", "LunarLander-v3")],
)
def test_unknown_env_id_names_it_and_suggests(bad, suggestion):
    with pytest.raises(
        ValueError, match=rf"Unknown environment id '{bad}'.*Did you mean.*'{suggestion}'"
    ):
        rl.make_env(bad)


def test_unknown_env_id_without_close_match_points_to_registry():
    with pytest.raises(ValueError, match=r"'NoSuchThing'.*pprint_registry"):
        rl.make_vec_env("NoSuchThing", 2)


def test_env_id_must_be_a_string():
    with pytest.raises(TypeError, match="env_id must be a string.*got int"):
        rl.make_env(42)


def test_make_vec_env_uses_native_cartpole_and_checks_num_envs():
    venv = rl.make_vec_env("CartPole-v1", 8, seed=1)
    assert venv.num_envs == 8
    assert "CartPoleVectorEnv" in repr(venv)
    obs, _ = venv.reset()
    assert obs.shape == (8, 4)
    with pytest.raises(ValueError, match="num_envs must be a positive integer, got 0"):
        rl.make_vec_env("CartPole-v1", 0)


# --------------------------------------------------------------------------- #
# evaluate
# --------------------------------------------------------------------------- #


def test_constant_action_cartpole_falls_fast_and_deterministically():
    returns = rl.evaluate(always_left, "CartPole-v1", n_episodes=5, seed=0)
    assert returns.shape == (5,)
    # pushing one way topples the pole in about ten steps; reward is 1 per step
    assert np.all((returns >= 8) & (returns <= 12))
    np.testing.assert_array_equal(returns, np.round(returns))
    np.testing.assert_array_equal(returns, rl.evaluate(always_left, "CartPole-v1", 5, seed=0))


def test_same_seed_same_returns_other_seed_other_returns():
    policy_a = rl.random_policy(gym.spaces.Discrete(2), seed=1)
    policy_b = rl.random_policy(gym.spaces.Discrete(2), seed=1)
    a = rl.evaluate(policy_a, "CartPole-v1", 6, seed=11)
    b = rl.evaluate(policy_b, "CartPole-v1", 6, seed=11)
    np.testing.assert_array_equal(a, b)
    c = rl.evaluate(rl.random_policy(gym.spaces.Discrete(2), seed=1), "CartPole-v1", 6, seed=12)
    assert not np.array_equal(a, c)


def test_random_policy_returns_shape_and_range():
    returns = rl.evaluate(rl.random_policy(gym.spaces.Discrete(4)), "LunarLander-v3", 3)
    assert returns.shape == (3,) and returns.dtype == np.float64
    assert np.all(np.isfinite(returns))
    assert np.all(returns < 100)  # a random lander does not land


def test_vector_sync_evaluation_matches_one_env_episode_by_episode():
    one = rl.evaluate(pole_angle_policy, "CartPole-v1", 5, seed=4)
    batched = rl.evaluate(
        lambda obs: (obs[:, 2] > 0).astype(np.int64),
        "CartPole-v1",
        5,
        seed=4,
        num_envs=3,  # two batches, the second one partly used
        vectorization_mode="sync",
    )
    np.testing.assert_array_equal(one, batched)
    assert one.mean() > 25  # the heuristic beats always-left


def test_native_vector_evaluation_counts_each_episode_once():
    venv = rl.make_vec_env("CartPole-v1", 16, seed=2)
    returns = rl.evaluate(batched_always_left, venv, 40, seed=2)
    assert returns.shape == (40,)
    assert np.all((returns >= 8) & (returns <= 12))
    np.testing.assert_array_equal(returns, rl.evaluate(batched_always_left, venv, 40, seed=2))


def test_max_steps_cuts_episodes():
    returns = rl.evaluate(pole_angle_policy, "CartPole-v1", 3, max_steps=5)
    np.testing.assert_array_equal(returns, [5.0, 5.0, 5.0])


def test_evaluate_accepts_torch_actions():
    torch = pytest.importorskip("torch")
    returns = rl.evaluate(lambda obs: torch.tensor(0), "CartPole-v1", 2)
    np.testing.assert_array_equal(returns, rl.evaluate(always_left, "CartPole-v1", 2))


def test_invalid_action_is_reported():
    with pytest.raises(
        rl.InvalidActionError, match=r"invalid action 2 .*step 0 of episode 0.*Discrete\(2\)"
    ):
        rl.evaluate(lambda obs: 2, "CartPole-v1", 1)
    with pytest.raises(ValueError, match=r"invalid action 0\.5 \(float\)"):
        rl.evaluate(lambda obs: 0.5, "CartPole-v1", 1)


def test_invalid_batched_action_is_reported():
    with pytest.raises(rl.InvalidActionError, match="one action per sub-environment"):
        rl.evaluate(lambda obs: 0, "CartPole-v1", 4, num_envs=4)


def test_evaluate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_episodes must be >= 1, got 0"):
        rl.evaluate(always_left, "CartPole-v1", 0)
    with pytest.raises(TypeError, match="policy must be a callable"):
        rl.evaluate("left", "CartPole-v1", 1)
    env = rl.make_env("CartPole-v1")
    with pytest.raises(TypeError, match="only apply when env is an id"):
        rl.evaluate(always_left, env, 1, max_episode_steps=3)


# --------------------------------------------------------------------------- #
# videos
# --------------------------------------------------------------------------- #


def test_record_video_writes_a_playable_mp4_headless(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    path = rl.record_video(
        pole_angle_policy, "CartPole-v1", tmp_path / "clips" / "cart.mp4", max_steps=40
    )
    assert path == tmp_path / "clips" / "cart.mp4"
    assert path.is_file() and path.stat().st_size > 0
    assert path.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    assert sorted(p.name for p in path.parent.iterdir()) == ["cart.mp4"]


def test_record_video_from_an_env_and_show_it(tmp_path):
    env = rl.make_env("LunarLander-v3", render_mode="rgb_array")
    path = rl.record_video(lambda obs: 0, env, tmp_path / "lander.mp4", max_steps=20)
    assert path.stat().st_size > 0
    video = rl.show_video(path, width=320)
    html = video._repr_html_()
    assert "data:video/mp4;base64," in html and 'width="320"' in html


def test_record_video_errors(tmp_path):
    with pytest.raises(ValueError, match="render_mode='rgb_array'.*got render_mode=None"):
        rl.record_video(always_left, rl.make_env("CartPole-v1"), tmp_path / "x.mp4")
    with pytest.raises(ValueError, match=r"\.mp4 file, got path"):
        rl.record_video(always_left, "CartPole-v1", tmp_path / "x.gif")
    with pytest.raises(rl.InvalidActionError, match="recorded episode"):
        rl.record_video(lambda obs: 7, "CartPole-v1", tmp_path / "x.mp4")
    with pytest.raises(FileNotFoundError, match="no video at"):
        rl.show_video(tmp_path / "missing.mp4")


# --------------------------------------------------------------------------- #
# plots
# --------------------------------------------------------------------------- #


def test_moving_average_values():
    np.testing.assert_allclose(rl.moving_average([0, 2, 4, 6], 2), [0, 1, 3, 5])
    np.testing.assert_allclose(rl.moving_average([1, 2, 3], 10), [1, 1.5, 2])
    with pytest.raises(ValueError, match="window must be >= 1"):
        rl.moving_average([1, 2], 0)


def test_plot_returns_lines_and_target():
    returns = np.arange(30, dtype=float)
    fig = rl.plot_returns(
        returns, window=5, target=20, others={"elite threshold": returns + 3}, title="CEM"
    )
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        ax = fig.axes[0]
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"return", "moving average (5)", "elite threshold", "target"}
        np.testing.assert_allclose(lines["return"].get_ydata(), returns)
        np.testing.assert_allclose(
            lines["moving average (5)"].get_ydata()[-1], np.mean(returns[-5:])
        )
        np.testing.assert_allclose(lines["target"].get_ydata(), [20, 20])
        assert ax.get_title() == "CEM" and ax.get_xlabel() == "iteration"
    finally:
        plt.close(fig)


def test_plot_returns_on_given_axes_and_bad_input():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    try:
        assert rl.plot_returns([1.0, 2.0], window=1, ax=ax2) is fig
        assert [line.get_label() for line in ax2.get_lines()] == ["return"]
        assert ax1.get_lines() == []
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        rl.plot_returns([])
