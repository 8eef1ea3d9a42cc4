"""Public checks of a DQN temporal-difference loss, to call on your own function.

Write ``compute_td_loss`` with this signature (the DQN notebook does):

.. code-block:: python

    def compute_td_loss(obs, actions, rewards, next_obs, dones,
                        q_network, target_network, gamma=0.99, double_dqn=False):
        ...
        return loss  # a scalar torch.Tensor

- ``obs``, ``next_obs``: float32 tensors ``[B, *obs_shape]``;
- ``actions``: int64 ``[B]``; ``rewards``: float32 ``[B]``;
- ``dones``: float32 ``[B]``, 1.0 where the episode *terminated* after the action;
- ``q_network(obs)`` and ``target_network(obs)`` return Q-values ``[B, n_actions]``.

It returns the mean over the batch of the squared TD error (or of the Huber loss:
tell the checks with ``loss="huber"``)::

    y = r + gamma * (1 - done) * max_a' Q_target(s', a')                 # DQN
    y = r + gamma * (1 - done) * Q_target(s', argmax_a' Q(s', a'))       # double DQN
    loss = mean((Q(s, a) - y) ** 2)

and the target ``y`` carries no gradient.

Then, in the notebook::

    from course_utils.rl import checks as dqn_checks
    dqn_checks.run_all(compute_td_loss)                    # DQN and double DQN
    dqn_checks.run_all(compute_td_loss, double_dqn=False)  # if you wrote only DQN

Each check feeds the function a hand-made batch and two mock networks whose
Q-values are fixed tables (:class:`TabularQNetwork`: the observation is a state
number), compares the loss with a value computed by hand (the arithmetic is in the
comments), and on failure raises :class:`TDLossCheckError` with what was expected,
what was found and, when the value matches a typical mistake, which one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn

__all__ = [
    "TDLossCheckError",
    "TabularQNetwork",
    "check_double_dqn",
    "check_gamma",
    "check_gradients",
    "check_returns_scalar",
    "check_target_network",
    "check_terminal",
    "check_values",
    "make_batch",
    "make_networks",
    "run_all",
]

TOL = 1e-5


class TDLossCheckError(AssertionError):
    """``compute_td_loss`` gave a wrong answer; the message says what and why."""


class TabularQNetwork(nn.Module):
    """A mock Q-network: Q-values are rows of a learnable table.

    The observation is a float tensor ``[B, 1]`` holding a state number;
    ``forward`` returns ``table[state]``, ``[B, n_actions]``. The table is an
    ``nn.Parameter``, so gradients show which Q-values the loss depends on.
    """

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.as_tensor(table, dtype=torch.float32).clone())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if obs.ndim != 2 or obs.shape[1] != 1:
            raise TDLossCheckError(
                f"the Q-network was called with observations of shape {tuple(obs.shape)}; "
                "the checks pass obs and next_obs of shape [batch, 1] (one state number per row): "
                "call q_network(obs) / target_network(next_obs) on them as they are"
            )
        return self.table[obs[:, 0].long()]


# Q-values of the two mock networks: 4 states x 3 actions.
ONLINE_Q = [
    [1.0, 2.0, 3.0],  # state 0: argmax 2
    [0.5, -1.0, 4.0],  # state 1: argmax 2
    [2.0, 0.0, -2.0],  # state 2: argmax 0
    [-1.0, 1.5, 0.5],  # state 3: argmax 1
]
TARGET_Q = [
    [0.0, 1.0, 0.5],  # state 0: max 1.0
    [3.0, 2.0, 1.0],  # state 1: max 3.0
    [-1.0, 2.5, 0.0],  # state 2: max 2.5
    [1.0, 0.0, 2.0],  # state 3: max 2.0
]

# The batch: four transitions (s, a, r, s', done).
STATES = [0, 1, 2, 3]
ACTIONS = [2, 0, 1, 1]
REWARDS = [1.0, -1.0, 0.5, 2.0]
NEXT_STATES = [1, 2, 3, 0]
DONES = [0.0, 0.0, 1.0, 0.0]  # the third transition ends its episode
GAMMA = 0.9

# Q(s, a) of the batch, read from ONLINE_Q: [3.0, 0.5, 0.0, 1.5]
#
# DQN targets y = r + 0.9 * (1 - done) * max_a' TARGET_Q[s']:
#   1: 1.0 + 0.9 * 3.0 = 3.7    error 3.0 - 3.7 = -0.7    squared 0.49
#   2: -1.0 + 0.9 * 2.5 = 1.25  error 0.5 - 1.25 = -0.75  squared 0.5625
#   3: terminal: 0.5            error 0.0 - 0.5 = -0.5    squared 0.25
#   4: 2.0 + 0.9 * 1.0 = 2.9    error 1.5 - 2.9 = -1.4    squared 1.96
#   mean squared error (0.49 + 0.5625 + 0.25 + 1.96) / 4 = 0.815625
#   Huber (0.5 e^2 if |e| < 1 else |e| - 0.5): (0.245 + 0.28125 + 0.125 + 0.9) / 4 = 0.3878125
EXPECTED_DQN = {"mse": 0.815625, "huber": 0.3878125}
#
# Double DQN: the online network picks a' = argmax ONLINE_Q[s'], the target network values it:
#   1: s'=1, a'=2, TARGET_Q[1][2] = 1.0:  y = 1.9   error 1.1    squared 1.21
#   2: s'=2, a'=0, TARGET_Q[2][0] = -1.0: y = -1.9  error 2.4    squared 5.76
#   3: terminal: y = 0.5                            error -0.5   squared 0.25
#   4: s'=0, a'=2, TARGET_Q[0][2] = 0.5:  y = 2.45  error -0.95  squared 0.9025
#   mean squared error 8.1225 / 4 = 2.030625; Huber (0.6 + 1.9 + 0.125 + 0.45125) / 4 = 0.7690625
EXPECTED_DOUBLE = {"mse": 2.030625, "huber": 0.7690625}
#
# Every transition terminal (or gamma = 0, or a target network of zeros): y = r,
#   errors Q(s,a) - r = [2.0, 1.5, -0.5, -0.5]
#   mean squared error (4 + 2.25 + 0.25 + 0.25) / 4 = 1.6875; Huber (1.5 + 1.0 + 0.125 + 0.125) / 4 = 0.6875
EXPECTED_NO_BOOTSTRAP = {"mse": 1.6875, "huber": 0.6875}
#
# d loss / d Q(s, a) for DQN: MSE 2 * error / 4, Huber clip(error, -1, 1) / 4, at the
# four (s, a) of the batch; zero everywhere else (in particular at the next states).
EXPECTED_GRAD = {
    "mse": {(0, 2): -0.35, (1, 0): -0.375, (2, 1): -0.25, (3, 1): -0.7},
    "huber": {(0, 2): -0.175, (1, 0): -0.1875, (2, 1): -0.125, (3, 1): -0.25},
}


def make_batch(
    states=STATES, actions=ACTIONS, rewards=REWARDS, next_states=NEXT_STATES, dones=DONES
):
    """The tensors ``obs, actions, rewards, next_obs, dones`` of a hand-made batch."""
    return (
        torch.tensor(states, dtype=torch.float32)[:, None],
        torch.tensor(actions, dtype=torch.int64),
        torch.tensor(rewards, dtype=torch.float32),
        torch.tensor(next_states, dtype=torch.float32)[:, None],
        torch.tensor(dones, dtype=torch.float32),
    )


def make_networks(online=ONLINE_Q, target=TARGET_Q):
    """Fresh mock ``(q_network, target_network)`` with the given tables."""
    return TabularQNetwork(online), TabularQNetwork(target)


# --------------------------------------------------------------------------- #
# Typical mistakes, to name them when a value matches
# --------------------------------------------------------------------------- #


def _reference(batch, q_net, target_net, gamma, double, loss, bug=None):
    """The loss, or the loss with one typical ``bug``, computed directly (no gradients)."""
    obs, actions, rewards, next_obs, dones = batch
    with torch.no_grad():
        q = q_net(obs)
        q_next_target = target_net(next_obs)
        q_next_online = q_net(next_obs)
        q_sa = q[torch.arange(len(actions)), actions]
        if bug == "max instead of gather":
            q_sa = q.max(1).values
        elif bug == "gather on dim 0":
            q_sa = q.gather(0, actions[:, None]).squeeze(1)
        evaluator = q_next_online if bug == "online network in target" else q_next_target
        if double != (bug == "double instead of plain"):
            best = q_next_online.argmax(1)
            bootstrap = evaluator[torch.arange(len(actions)), best]
        else:
            bootstrap = evaluator.max(1).values
        mask = 1 - dones
        if bug == "no done mask":
            mask = torch.ones_like(dones)
        elif bug == "inverted done mask":
            mask = dones
        g = 1.0 if bug == "no gamma" else gamma
        y = rewards + g * mask * bootstrap
        if bug == "[B] minus [B, 1] broadcast":
            err = q_sa[:, None] - y[None, :]
        elif bug == "q[:, actions] indexing":
            err = q[:, actions] - y
        else:
            err = q_sa - y
        per = (
            err**2
            if loss == "mse"
            else nn.functional.smooth_l1_loss(err, torch.zeros_like(err), reduction="none")
        )
        return float(per.sum() if bug == "sum instead of mean" else per.mean())


_BUG_ADVICE = {
    "no done mask": (
        "the done mask is missing (or inverted): a terminal transition has no next state, "
        "its target is just r. Multiply the bootstrap term by (1 - dones)"
    ),
    "inverted done mask": "the done mask is inverted: bootstrap where dones == 0, i.e. multiply by (1 - dones)",
    "online network in target": (
        "the target uses q_network for the next state's value: evaluate the next state with "
        "target_network (double DQN uses q_network only to pick the action)"
    ),
    "max instead of gather": (
        "Q(s, a) was taken as max_a Q(s, a): select the Q-value of the action taken, e.g. "
        "q_values.gather(1, actions[:, None]).squeeze(1)"
    ),
    "gather on dim 0": "gather picked along the batch dimension: "
    "use gather(1, actions[:, None]) (dimension 1 = actions)",
    "q[:, actions] indexing": (
        "q_values[:, actions] builds a [B, B] matrix (every row with every action): use "
        "q_values[torch.arange(B), actions] or gather(1, actions[:, None]).squeeze(1)"
    ),
    "[B] minus [B, 1] broadcast": (
        "a [B] tensor met a [B, 1] tensor and broadcast to [B, B]: squeeze the gathered "
        "Q-values (or keep every term of the TD error of shape [B])"
    ),
    "no gamma": "the discount gamma is not applied to the bootstrap term",
    "sum instead of mean": "the loss is summed over the batch: take the mean",
    "double instead of plain": "with double_dqn=False the target is r + gamma * (1 - done) * max_a' Q_target(s', a')",
}


def _diagnose(value, batch, q_net, target_net, gamma, double, loss):
    other_loss = "huber" if loss == "mse" else "mse"
    if abs(value - _reference(batch, q_net, target_net, gamma, double, other_loss)) < TOL:
        return (
            f"it matches the {'Huber' if other_loss == 'huber' else 'mean squared error'} loss: "
            f"call the check with loss={other_loss!r}, or change the loss"
        )
    if not double and abs(value - _reference(batch, q_net, target_net, gamma, True, loss)) < TOL:
        return _BUG_ADVICE["double instead of plain"]
    if double and abs(value - _reference(batch, q_net, target_net, gamma, False, loss)) < TOL:
        return (
            "with double_dqn=True it gives the plain DQN loss: the double DQN target is not used "
            "(picking the next action with target_network's argmax is the same as its max: "
            "double DQN picks it with q_network)"
        )
    for bug, advice in _BUG_ADVICE.items():
        if bug == "double instead of plain":
            continue
        if abs(value - _reference(batch, q_net, target_net, gamma, double, loss, bug)) < TOL:
            return advice
    return (
        "no typical mistake matches this value; print the shapes of Q(s, a), the target and the "
        "TD error: each must be [batch]"
    )


# --------------------------------------------------------------------------- #
# The checks
# --------------------------------------------------------------------------- #


def _call(fn, batch, q_net, target_net, gamma, double):
    kwargs = {"gamma": gamma}
    if double:
        kwargs["double_dqn"] = True
    try:
        out = fn(*batch, q_net, target_net, **kwargs)
    except TDLossCheckError:
        raise
    except TypeError as err:
        if "argument" in str(err):
            try:
                sig = f"compute_td_loss{inspect.signature(fn)}"
            except (TypeError, ValueError):
                sig = "your function"
            raise TDLossCheckError(
                f"calling {sig} failed with {err!r}; the checks call "
                "compute_td_loss(obs, actions, rewards, next_obs, dones, q_network, target_network, "
                f"gamma=..., double_dqn=...)"
            ) from err
        raise
    if not isinstance(out, torch.Tensor):
        raise TDLossCheckError(
            f"compute_td_loss returned {type(out).__name__}, expected a scalar torch.Tensor "
            "(return the loss tensor itself, not loss.item(), so that it can be backpropagated)"
        )
    return out


def _value(out: torch.Tensor) -> float:
    if out.numel() != 1:
        raise TDLossCheckError(
            f"compute_td_loss returned a tensor of shape {tuple(out.shape)}; expected a scalar "
            "(the mean over the batch). A [B, B] shape means broadcasting between [B] and [B, 1]."
        )
    return float(out.detach())


def _expect(value, expected, what, batch, q_net, target_net, gamma, double, loss):
    if abs(value - expected) > TOL:
        hint = _diagnose(value, batch, q_net, target_net, gamma, double, loss)
        raise TDLossCheckError(
            f"{what}: compute_td_loss returned {value:.6f}, expected {expected:.6f} "
            f"({loss} loss). Likely cause: {hint}."
        )


def check_returns_scalar(fn: Callable, loss: str = "mse") -> None:
    """The loss is a scalar tensor connected to the Q-network's parameters."""
    q_net, target_net = make_networks()
    out = _call(fn, make_batch(), q_net, target_net, GAMMA, False)
    _value(out)
    if out.ndim != 0:
        raise TDLossCheckError(
            f"the loss has shape {tuple(out.shape)}: return a 0-d tensor (use .mean())"
        )
    if not out.requires_grad:
        raise TDLossCheckError(
            "the loss has no gradient: Q(s, a) must come from q_network(obs) with gradients "
            "enabled (only the target is computed under torch.no_grad())"
        )


def check_terminal(fn: Callable, loss: str = "mse") -> None:
    """All transitions terminal: the target is the reward alone, whatever the next state."""
    batch = make_batch(dones=[1.0, 1.0, 1.0, 1.0])
    q_net, target_net = make_networks()
    value = _value(_call(fn, batch, q_net, target_net, GAMMA, False))
    _expect(
        value,
        EXPECTED_NO_BOOTSTRAP[loss],
        "every transition terminal (dones = 1)",
        batch,
        q_net,
        target_net,
        GAMMA,
        False,
        loss,
    )


def check_gamma(fn: Callable, loss: str = "mse") -> None:
    """gamma = 0: the target is the reward alone; gamma must be used, not a constant."""
    batch = make_batch()
    q_net, target_net = make_networks()
    value = _value(_call(fn, batch, q_net, target_net, 0.0, False))
    _expect(
        value, EXPECTED_NO_BOOTSTRAP[loss], "gamma = 0", batch, q_net, target_net, 0.0, False, loss
    )


def check_values(fn: Callable, loss: str = "mse") -> None:
    """Terminal and non-terminal transitions, gamma = 0.9, DQN target; inputs left unchanged."""
    batch = make_batch()
    kept = [t.clone() for t in batch]
    q_net, target_net = make_networks()
    value = _value(_call(fn, batch, q_net, target_net, GAMMA, False))
    for name, before, after in zip(("obs", "actions", "rewards", "next_obs", "dones"), kept, batch):
        if not torch.equal(before, after):
            raise TDLossCheckError(
                f"compute_td_loss modified its input {name} in place; leave the batch unchanged"
            )
    _expect(
        value,
        EXPECTED_DQN[loss],
        "a batch of 3 non-terminal and 1 terminal transitions, gamma=0.9",
        batch,
        q_net,
        target_net,
        GAMMA,
        False,
        loss,
    )


def check_target_network(fn: Callable, loss: str = "mse") -> None:
    """A target network of zeros: the bootstrap term vanishes, the online values must not be used."""
    batch = make_batch()
    q_net, target_net = make_networks(target=[[0.0, 0.0, 0.0]] * 4)
    value = _value(_call(fn, batch, q_net, target_net, GAMMA, False))
    _expect(
        value,
        EXPECTED_NO_BOOTSTRAP[loss],
        "target_network that outputs zeros",
        batch,
        q_net,
        target_net,
        GAMMA,
        False,
        loss,
    )


def check_gradients(fn: Callable, loss: str = "mse", double_dqn: bool = False) -> None:
    """Gradients reach only Q(s, a) of the batch; none reach the target or the next states."""
    batch = make_batch()
    q_net, target_net = make_networks()
    out = _call(fn, batch, q_net, target_net, GAMMA, double_dqn)
    _value(out)
    if not out.requires_grad:
        raise TDLossCheckError(
            "the loss has no gradient: Q(s, a) must come from q_network(obs) with gradients enabled"
        )
    out.backward()
    if target_net.table.grad is not None and target_net.table.grad.abs().max() > 0:
        raise TDLossCheckError(
            "gradients flowed into target_network: the TD target is a fixed label, compute it "
            "under torch.no_grad() (or .detach() it)"
        )
    grad = q_net.table.grad
    if grad is None:
        raise TDLossCheckError("no gradient reached q_network: compute Q(s, a) with q_network(obs)")
    if double_dqn:
        return  # the double DQN target values differ; the leak checks below are the point
    expected = torch.zeros_like(grad)
    for (s, a), g in EXPECTED_GRAD[loss].items():
        expected[s, a] = g
    if not torch.allclose(grad, expected, atol=TOL):
        leaked = [
            (s, a)
            for s in range(4)
            for a in range(3)
            if (s, a) not in EXPECTED_GRAD[loss] and grad[s, a] != 0
        ]
        if leaked:
            raise TDLossCheckError(
                f"gradients reached Q-values of actions not taken or of next states {leaked}: "
                "the target must carry no gradient (torch.no_grad() or .detach()) and only "
                "Q(s, a) of the taken actions should be in the loss"
            )
        raise TDLossCheckError(
            f"the gradient of the loss with respect to the Q-values is {grad.tolist()}, expected "
            f"{expected.tolist()} ({loss} loss averaged over the batch)"
        )


def check_double_dqn(fn: Callable, loss: str = "mse") -> None:
    """``double_dqn=True``: the online network picks a', the target network values it."""
    batch = make_batch()
    q_net, target_net = make_networks()
    value = _value(_call(fn, batch, q_net, target_net, GAMMA, True))
    _expect(
        value,
        EXPECTED_DOUBLE[loss],
        "double_dqn=True, gamma=0.9",
        batch,
        q_net,
        target_net,
        GAMMA,
        True,
        loss,
    )
    check_gradients(fn, loss, double_dqn=True)


def run_all(fn: Callable, double_dqn: bool = True, loss: str = "mse", verbose: bool = True) -> int:
    """Run every check on ``fn``; raise :class:`TDLossCheckError` at the first failure.

    ``double_dqn=False`` skips the double DQN check (for a function without that
    option); ``loss`` is ``"mse"`` or ``"huber"`` (smooth L1 with delta 1).
    Returns the number of checks passed.
    """
    if loss not in EXPECTED_DQN:
        raise ValueError(f"loss must be 'mse' or 'huber', got {loss!r}")
    checks = [
        check_returns_scalar,
        check_terminal,
        check_gamma,
        check_values,
        check_target_network,
        check_gradients,
    ]
    if double_dqn:
        checks.append(check_double_dqn)
    for check in checks:
        check(fn, loss)
        if verbose:
            print(f"  ok  {check.__name__}: {check.__doc__.splitlines()[0]}")
    if verbose:
        print(f"All {len(checks)} TD-loss checks passed.")
    return len(checks)
