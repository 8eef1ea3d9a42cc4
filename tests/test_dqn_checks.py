"""The public TD-loss checks pass a correct implementation and name typical bugs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course_utils.rl import checks as dqn_checks
from course_utils.rl.checks import TDLossCheckError


def correct(
    obs,
    actions,
    rewards,
    next_obs,
    dones,
    q_network,
    target_network,
    gamma=0.99,
    double_dqn=False,
    *,
    huber=False,
):
    q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
    with torch.no_grad():
        if double_dqn:
            best = q_network(next_obs).argmax(1, keepdim=True)
            next_v = target_network(next_obs).gather(1, best).squeeze(1)
        else:
            next_v = target_network(next_obs).max(1).values
        y = rewards + gamma * (1 - dones) * next_v
    return F.smooth_l1_loss(q_sa, y) if huber else F.mse_loss(q_sa, y)


def correct_huber(*args, **kwargs):
    return correct(*args, **kwargs, huber=True)


def test_hand_computed_constants_match_a_direct_computation():
    """The literals in dqn_checks were computed by hand; recompute them with loops."""
    q, t = dqn_checks.ONLINE_Q, dqn_checks.TARGET_Q
    g = dqn_checks.GAMMA
    rows = zip(
        dqn_checks.STATES,
        dqn_checks.ACTIONS,
        dqn_checks.REWARDS,
        dqn_checks.NEXT_STATES,
        dqn_checks.DONES,
    )
    plain, double, none = [], [], []
    for s, a, r, s2, d in rows:
        plain.append(q[s][a] - (r + g * (1 - d) * max(t[s2])))
        best = max(range(3), key=lambda k: q[s2][k])
        double.append(q[s][a] - (r + g * (1 - d) * t[s2][best]))
        none.append(q[s][a] - r)

    def mse(errors):
        return sum(e * e for e in errors) / len(errors)

    def huber(errors):
        return sum(0.5 * e * e if abs(e) < 1 else abs(e) - 0.5 for e in errors) / len(errors)

    for name, fn in (("mse", mse), ("huber", huber)):
        assert fn(plain) == pytest.approx(dqn_checks.EXPECTED_DQN[name])
        assert fn(double) == pytest.approx(dqn_checks.EXPECTED_DOUBLE[name])
        assert fn(none) == pytest.approx(dqn_checks.EXPECTED_NO_BOOTSTRAP[name])
    for (s, a), grad in dqn_checks.EXPECTED_GRAD["mse"].items():
        i = dqn_checks.STATES.index(s)
        assert dqn_checks.ACTIONS[i] == a and grad == pytest.approx(2 * plain[i] / 4)


def test_correct_implementations_pass(capsys):
    assert dqn_checks.run_all(correct) == 7
    assert "All 7 TD-loss checks passed" in capsys.readouterr().out
    assert dqn_checks.run_all(correct_huber, loss="huber", verbose=False) == 7


def test_plain_dqn_only_function_passes_without_double():
    def plain_only(obs, actions, rewards, next_obs, dones, q_network, target_network, gamma=0.99):
        q_sa = q_network(obs)[torch.arange(len(actions)), actions]
        y = rewards + gamma * (1 - dones) * target_network(next_obs).max(1).values.detach()
        return ((q_sa - y) ** 2).mean()

    assert dqn_checks.run_all(plain_only, double_dqn=False, verbose=False) == 6
    with pytest.raises(TDLossCheckError, match="checks call compute_td_loss"):
        dqn_checks.run_all(plain_only, verbose=False)


def _fails(fn, match, **kwargs):
    with pytest.raises(TDLossCheckError, match=match) as err:
        dqn_checks.run_all(fn, verbose=False, **kwargs)
    return str(err.value)


def test_forgetting_the_done_mask_is_named():
    def no_mask(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            y = rewards + gamma * target_network(next_obs).max(1).values
        return F.mse_loss(q_sa, y)

    msg = _fails(no_mask, r"\(1 - dones\)")
    assert "every transition terminal" in msg and "expected 1.687500" in msg


def test_inverted_done_mask_is_named():
    def inverted(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            y = rewards + gamma * dones * target_network(next_obs).max(1).values
        return F.mse_loss(q_sa, y)

    _fails(inverted, "inverted")


def test_no_detach_is_caught_by_the_gradient_check():
    def no_detach(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        y = rewards + gamma * (1 - dones) * target_network(next_obs).max(1).values
        return F.mse_loss(q_sa, y)

    _fails(no_detach, "gradients flowed into target_network.*no_grad")


def test_online_network_for_the_target_is_named():
    def online_target(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            y = rewards + gamma * (1 - dones) * q_network(next_obs).max(1).values
        return F.mse_loss(q_sa, y)

    _fails(online_target, "evaluate the next state with target_network")


def test_online_network_without_detach_is_caught():
    def online_no_detach(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        y = rewards + gamma * (1 - dones) * q_network(next_obs).max(1).values
        return F.mse_loss(q_sa, y)

    _fails(online_no_detach, "target_network")


@pytest.mark.parametrize(
    "select, match",
    [
        (lambda q, a: q.max(1).values, "action taken"),
        (lambda q, a: q.gather(0, a[:, None]).squeeze(1), "dimension 1"),
        (lambda q, a: q[:, a], r"\[B, B\]"),
        (lambda q, a: q.gather(1, a[:, None]), r"\[B, B\]|broadcast"),  # forgot the squeeze
    ],
    ids=["max", "gather-dim0", "q[:,actions]", "no-squeeze"],
)
def test_wrong_gather_is_named(select, match):
    def wrong(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = select(q_network(obs), actions)
        with torch.no_grad():
            y = rewards + gamma * (1 - dones) * target_network(next_obs).max(1).values
        return ((q_sa - y) ** 2).mean()

    _fails(wrong, match)


def test_double_dqn_mistakes_are_named():
    def ignores_double(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        return correct(obs, actions, rewards, next_obs, dones, q_network, target_network, gamma)

    _fails(ignores_double, "double DQN target is not used")

    def target_argmax(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        q_sa = q_network(obs).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            nxt = target_network(next_obs)
            y = rewards + gamma * (1 - dones) * nxt.gather(1, nxt.argmax(1, keepdim=True)).squeeze(
                1
            )
        return F.mse_loss(q_sa, y)

    _fails(target_argmax, "double DQN picks it with q_network")


def test_other_mistakes_are_named():
    def summed(*args, **kwargs):
        return correct(*args, **kwargs) * 4

    _fails(summed, "take the mean")

    def item(*args, **kwargs):
        return correct(*args, **kwargs).item()

    _fails(item, "not loss.item")
    _fails(correct_huber, "loss='huber'")  # a Huber loss checked as MSE says so

    def no_grad_at_all(*args, **kwargs):
        with torch.no_grad():
            return correct(*args, **kwargs)

    _fails(no_grad_at_all, "no gradient")

    def flattens_obs(
        obs,
        actions,
        rewards,
        next_obs,
        dones,
        q_network,
        target_network,
        gamma=0.99,
        double_dqn=False,
    ):
        return correct(
            obs[:, 0], actions, rewards, next_obs, dones, q_network, target_network, gamma
        )

    _fails(flattens_obs, "shape")


def test_run_all_rejects_an_unknown_loss():
    with pytest.raises(ValueError, match="mse"):
        dqn_checks.run_all(correct, loss="l1")
