"""Tests for the DQN plumbing in course_utils.rl: replay buffer, memory check,
schedules, checkpoints."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import rl

# --------------------------------------------------------------------------- #
# ReplayBuffer
# --------------------------------------------------------------------------- #


def frames(i, shape=(4, 84, 84)):
    """An Atari-like uint8 observation whose every pixel is i % 256."""
    return np.full(shape, i % 256, dtype=np.uint8)


def test_buffer_preallocates_arrays_of_the_right_shapes_and_dtypes():
    buf = rl.ReplayBuffer(100, (4, 84, 84), np.uint8)
    assert buf.obs.shape == buf.next_obs.shape == (100, 4, 84, 84)
    assert buf.obs.dtype == buf.next_obs.dtype == np.uint8
    assert buf.actions.shape == (100,) and buf.actions.dtype == np.int64
    assert buf.rewards.dtype == buf.dones.dtype == np.float32
    assert len(buf) == 0 and not buf.full
    assert buf.nbytes == rl.ReplayBuffer.estimate_bytes(100, (4, 84, 84), np.uint8)
    assert buf.nbytes == 100 * (2 * 4 * 84 * 84 + 8 + 4 + 4)
    assert "0/100" in repr(buf)


def test_buffer_accepts_an_int_obs_shape():
    buf = rl.ReplayBuffer(5, 4)
    assert buf.obs.shape == (5, 4) and buf.obs.dtype == np.float32


def test_add_stores_transitions_in_order_and_counts_them():
    buf = rl.ReplayBuffer(10, (4, 84, 84), np.uint8)
    for i in range(3):
        buf.add(frames(i), i % 4, float(i), frames(i + 1), terminated=(i == 2))
    assert len(buf) == 3 and buf.pos == 3
    assert buf.obs[1, 0, 0, 0] == 1 and buf.next_obs[1, 0, 0, 0] == 2
    assert buf.actions[:3].tolist() == [0, 1, 2]
    assert buf.rewards[:3].tolist() == [0.0, 1.0, 2.0]
    assert buf.dones[:3].tolist() == [0.0, 0.0, 1.0]


def test_ring_overwrites_the_oldest_at_capacity():
    buf = rl.ReplayBuffer(5, (2,))
    for i in range(12):
        buf.add([i, i], 0, float(i), [i + 1, i + 1], False)
        assert len(buf) == min(i + 1, 5)
    assert buf.full and len(buf) == 5
    assert buf.pos == 12 % 5
    # transitions 7..11 survive; 10 and 11 wrapped to slots 0 and 1
    assert sorted(buf.rewards.tolist()) == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert buf.rewards[0] == 10.0 and buf.rewards[1] == 11.0 and buf.rewards[2] == 7.0
    assert np.all(buf.next_obs[:, 0] == buf.obs[:, 0] + 1)


def test_add_batch_wraps_around_like_repeated_add():
    one, many = rl.ReplayBuffer(7, (3,)), rl.ReplayBuffer(7, (3,))
    rng = np.random.default_rng(0)
    for _step in range(5):  # a vector env of 3 sub-environments, 5 steps: 15 > 7
        obs = rng.normal(size=(3, 3)).astype(np.float32)
        nxt = rng.normal(size=(3, 3)).astype(np.float32)
        act = rng.integers(0, 2, size=3)
        rew = rng.normal(size=3)
        term = rng.random(3) < 0.3
        many.add_batch(obs, act, rew, nxt, term)
        for k in range(3):
            one.add(obs[k], act[k], rew[k], nxt[k], term[k])
    for name in ("obs", "next_obs", "actions", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(one, name), getattr(many, name))
    assert (one.pos, one.size) == (many.pos, many.size) == (15 % 7, 7)


def test_add_batch_larger_than_capacity_keeps_the_last():
    buf = rl.ReplayBuffer(4, (1,))
    n = 10
    buf.add_batch(
        np.arange(n)[:, None], np.zeros(n), np.arange(n), np.arange(n)[:, None] + 1, np.zeros(n)
    )
    assert len(buf) == 4 and sorted(buf.rewards.tolist()) == [6.0, 7.0, 8.0, 9.0]


def test_add_rejects_wrong_shapes_with_a_clear_message():
    buf = rl.ReplayBuffer(4, (4,))
    with pytest.raises(ValueError, match=r"shape \(2, 4\).*add_batch"):
        buf.add(np.zeros((2, 4)), 0, 0.0, np.zeros((2, 4)), False)
    with pytest.raises(ValueError, match="rewards"):
        buf.add_batch(np.zeros((2, 4)), [0, 1], [0.0], np.zeros((2, 4)), [False, False])
    with pytest.raises(ValueError, match="capacity"):
        rl.ReplayBuffer(0, (4,))


def test_sample_shapes_and_dtypes_numpy_and_torch():
    buf = rl.ReplayBuffer(50, (4, 84, 84), np.uint8)
    for i in range(20):
        buf.add(frames(i), i % 4, 1.0, frames(i + 1), i % 5 == 4)
    batch = buf.sample(32, np.random.default_rng(0))
    assert isinstance(batch, rl.Batch) and batch._fields == (
        "obs",
        "actions",
        "rewards",
        "next_obs",
        "dones",
    )
    assert batch.obs.shape == batch.next_obs.shape == (32, 4, 84, 84)
    assert batch.obs.dtype == np.uint8
    assert batch.actions.shape == (32,) and batch.actions.dtype == np.int64
    assert batch.rewards.shape == batch.dones.shape == (32,)
    assert batch.rewards.dtype == batch.dones.dtype == np.float32
    # each sampled transition is consistent: next frame = frame + 1, done every 5th
    assert np.all(batch.next_obs[:, 0, 0, 0] == batch.obs[:, 0, 0, 0] + 1)
    np.testing.assert_array_equal(batch.dones, (batch.obs[:, 0, 0, 0] % 5 == 4).astype(np.float32))
    obs, actions, rewards, next_obs, dones = buf.sample(
        8, np.random.default_rng(0), as_tensors=True
    )
    assert (
        isinstance(obs, torch.Tensor) and obs.dtype == torch.uint8 and obs.shape == (8, 4, 84, 84)
    )
    assert actions.dtype == torch.int64 and rewards.dtype == dones.dtype == torch.float32
    assert buf.sample(3, device="cpu").obs.device.type == "cpu"
    assert "uint8" in repr(batch)


def test_sample_is_reproducible_with_a_seeded_generator():
    buf = rl.ReplayBuffer(100, (1,))
    buf.add_batch(
        np.arange(60)[:, None], np.zeros(60), np.arange(60), np.arange(60)[:, None], np.zeros(60)
    )
    a = buf.sample(16, np.random.default_rng(123)).rewards
    b = buf.sample(16, np.random.default_rng(123)).rewards
    np.testing.assert_array_equal(a, b)


def test_sample_only_stored_transitions_and_refuse_empty():
    buf = rl.ReplayBuffer(1000, (1,))
    with pytest.raises(ValueError, match="empty"):
        buf.sample(4)
    buf.add_batch(np.ones((10, 1)), np.zeros(10), np.arange(10) + 1, np.ones((10, 1)), np.zeros(10))
    r = buf.sample(5000, np.random.default_rng(0)).rewards
    assert r.min() >= 1 and r.max() <= 10  # never an empty (zero) slot


def test_sampling_is_uniform_chi_square():
    """Draw 50,000 indices from 20 stored transitions: counts fit a uniform law.

    With 19 degrees of freedom the chi-square statistic exceeds 43.8 with
    probability 0.001; the seed makes the test deterministic.
    """
    n, draws = 20, 50_000
    buf = rl.ReplayBuffer(n, (1,))  # 27 transitions: the ring wrapped, 7..26 are stored
    buf.add_batch(
        np.zeros((n + 7, 1)),
        np.zeros(n + 7),
        np.arange(n + 7),
        np.zeros((n + 7, 1)),
        np.zeros(n + 7),
    )
    rewards = buf.sample(draws, np.random.default_rng(2024)).rewards.astype(int)
    counts = np.bincount(rewards - 7, minlength=n)
    assert counts.shape == (n,) and counts.sum() == draws
    expected = draws / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 43.8, (chi2, counts)
    # a biased sampler (last 5 slots twice as likely) is rejected by the same test
    p = np.ones(n)
    p[-5:] = 2
    biased = np.bincount(np.random.default_rng(2024).choice(n, draws, p=p / p.sum()), minlength=n)
    assert ((biased - expected) ** 2 / expected).sum() > 43.8


def test_state_dict_roundtrip_and_mismatch():
    buf = rl.ReplayBuffer(6, (2,), np.uint8)
    for i in range(9):
        buf.add([i, i], i % 2, i, [i + 1, i + 1], i == 8)
    copy = rl.ReplayBuffer(6, (2,), np.uint8)
    copy.load_state_dict(buf.state_dict())
    assert (copy.pos, copy.size) == (buf.pos, buf.size)
    np.testing.assert_array_equal(copy.obs, buf.obs)
    np.testing.assert_array_equal(copy.dones, buf.dones)
    with pytest.raises(ValueError, match="capacity"):
        rl.ReplayBuffer(7, (2,), np.uint8).load_state_dict(buf.state_dict())
    with pytest.raises(ValueError, match="obs"):
        rl.ReplayBuffer(6, (2,), np.float32).load_state_dict(buf.state_dict())


# --------------------------------------------------------------------------- #
# Memory check
# --------------------------------------------------------------------------- #


def test_available_memory_reads_meminfo():
    avail = rl.available_memory_bytes()
    if os.path.exists("/proc/meminfo"):
        line = next(row for row in open("/proc/meminfo") if row.startswith("MemAvailable:"))
        kb = int(line.split()[1])
        assert abs(avail - kb * 1024) < 2**30  # read moments apart
    assert avail is None or avail > 0


def test_big_buffer_raises_memory_error_saying_what_to_change(monkeypatch):
    monkeypatch.setattr(rl.replay, "available_memory_bytes", lambda: 8 * 2**30)  # 8 GiB free
    per = rl.ReplayBuffer.estimate_bytes(1, (4, 84, 84), np.uint8)
    assert per == 2 * 4 * 84 * 84 + 8 + 4 + 4 == 56_464
    with pytest.raises(MemoryError) as err:
        rl.ReplayBuffer(1_000_000, (4, 84, 84), np.uint8)
    message = str(err.value)
    assert "capacity=1,000,000" in message
    assert "52.6 GiB" in message  # needed: 1e6 * 56,460 bytes
    assert "8.0 GiB" in message  # available
    fits = int(8 * 2**30 * rl.replay.MEMORY_FRACTION // per)
    assert f"at most {fits:,}" in message and "capacity" in message.lower()
    # the advice is right: that capacity passes the check (allocation is lazy in NumPy)
    rl.ReplayBuffer(fits, (4, 84, 84), np.uint8)
    with pytest.raises(MemoryError):
        rl.ReplayBuffer(fits + 1, (4, 84, 84), np.uint8)


def test_float_frames_get_the_uint8_hint(monkeypatch):
    monkeypatch.setattr(rl.replay, "available_memory_bytes", lambda: 2**30)
    with pytest.raises(MemoryError, match="uint8"):
        rl.ReplayBuffer(100_000, (4, 84, 84), np.float32)


def test_memory_check_can_be_skipped_or_unknown(monkeypatch):
    monkeypatch.setattr(rl.replay, "available_memory_bytes", lambda: 1000)
    rl.ReplayBuffer(100, (4,), check_memory=False)
    with pytest.raises(MemoryError, match="my tensor needs 2.0 KiB.*1000 B"):
        rl.check_memory(2048, what="my tensor")
    monkeypatch.setattr(rl.replay, "available_memory_bytes", lambda: None)
    rl.check_memory(10**15)  # unknown: nothing to compare with


def test_format_bytes():
    assert rl.format_bytes(512) == "512 B"
    assert rl.format_bytes(1536) == "1.5 KiB"
    assert rl.format_bytes(3 * 2**30) == "3.0 GiB"


# --------------------------------------------------------------------------- #
# Schedules
# --------------------------------------------------------------------------- #


def test_linear_schedule_known_values():
    eps = rl.linear_schedule(1.0, 0.05, 10_000)
    assert eps(0) == 1.0
    assert eps(5_000) == pytest.approx(0.525)
    assert eps(2_500) == pytest.approx(0.7625)
    assert eps(10_000) == pytest.approx(0.05)
    assert eps(10**7) == 0.05  # the floor
    assert eps(-5) == 1.0
    delayed = rl.linear_schedule(1.0, 0.0, 100, begin=50)
    assert delayed(50) == 1.0 and delayed(100) == pytest.approx(0.5) and delayed(150) == 0.0
    assert (
        rl.linear_schedule(3e-4, 1e-5, 0)(0) == 3e-4
        and rl.linear_schedule(3e-4, 1e-5, 0)(1) == 1e-5
    )
    values = [eps(t) for t in range(0, 12_000, 100)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_exponential_schedule_known_values():
    eps = rl.exponential_schedule(1.0, 0.5, end=0.1)
    assert [eps(t) for t in range(5)] == [1.0, 0.5, 0.25, 0.125, 0.1]
    slow = rl.exponential_schedule(1.0, 0.999, 0.01)
    assert slow(1000) == pytest.approx(np.exp(1000 * np.log(0.999)))
    assert slow(1000) == pytest.approx(0.3677, abs=1e-4)
    with pytest.raises(ValueError):
        rl.exponential_schedule(1.0, 1.5)


def test_learning_rate_schedule_sets_the_optimizer():
    net = nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters(), lr=1.0)
    lr = rl.linear_schedule(1e-3, 1e-4, 100)
    rl.set_learning_rate(opt, lr(50))
    assert opt.param_groups[0]["lr"] == pytest.approx(5.5e-4)


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


def _toy_run(state, steps, ckpt=None, save_at=None):
    """A miniature DQN-shaped loop driven by every random source a real run uses.

    ``state``: dict with q, target, opt, buffer, rng. Returns the losses per step.
    """
    q, target, opt, buf, rng = (
        state["q"],
        state["target"],
        state["opt"],
        state["buffer"],
        state["rng"],
    )
    eps = rl.linear_schedule(1.0, 0.1, 40)
    losses = []
    for step in range(state["step"], steps):
        obs = rng.normal(size=3).astype(np.float32)
        if random.random() < eps(step):  # Python's RNG for exploration
            action = int(np.random.randint(2))  # NumPy's global RNG
        else:
            action = int(q(torch.as_tensor(obs)).argmax())
        nxt = obs + torch.randn(3).numpy() * 0.1  # torch's RNG
        buf.add(obs, action, float(obs.sum()), nxt, rng.random() < 0.1)
        b = buf.sample(8, rng, as_tensors=True)
        with torch.no_grad():
            y = b.rewards + 0.9 * (1 - b.dones) * target(b.next_obs).max(1).values
        loss = ((q(b.obs).gather(1, b.actions[:, None]).squeeze(1) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 10 == 9:
            target.load_state_dict(q.state_dict())
        state["step"] = step + 1
        if ckpt is not None and step + 1 == save_at:
            rl.save_checkpoint(
                ckpt,
                step=step + 1,
                models={"q": q, "target": target},
                optimizers={"opt": opt},
                rngs={"rng": rng},
                replay_buffer=buf,
                extra={"losses": list(losses)},
            )
    return losses


def _fresh_state(seed):
    torch.manual_seed(seed)
    q = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    target = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    target.load_state_dict(q.state_dict())
    return {
        "q": q,
        "target": target,
        "opt": torch.optim.Adam(q.parameters(), lr=1e-2),
        "buffer": rl.ReplayBuffer(25, (3,)),
        "rng": np.random.default_rng(seed),
        "step": 0,
    }


def test_resumed_run_continues_identically(tmp_path):
    ckpt = tmp_path / "run" / "dqn.pt"
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    whole = _fresh_state(0)
    reference = _toy_run(whole, 60, ckpt=ckpt, save_at=30)
    assert ckpt.exists() and len(list(ckpt.parent.glob("dqn.pt.buffer-*.npz"))) == 1

    # a new process would start from other random states and other weights
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    resumed = _fresh_state(7)
    info = rl.load_checkpoint(
        ckpt,
        models={"q": resumed["q"], "target": resumed["target"]},
        optimizers={"opt": resumed["opt"]},
        rngs={"rng": resumed["rng"]},
        replay_buffer=resumed["buffer"],
    )
    assert info["step"] == 30 and info["extra"]["losses"] == reference[:30]
    resumed["step"] = info["step"]
    rest = _toy_run(resumed, 60)
    assert rest == reference[30:]  # bit for bit
    for a, b in zip(whole["q"].parameters(), resumed["q"].parameters()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(whole["buffer"].obs, resumed["buffer"].obs)


def test_checkpoint_restores_every_random_state(tmp_path):
    gen = np.random.default_rng(5)
    tgen = torch.Generator().manual_seed(3)
    path = rl.save_checkpoint(tmp_path / "c.pt", step=7, rngs={"np": gen, "torch": tgen})
    expected = (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
        gen.random(),
        torch.rand(1, generator=tgen).item(),
    )
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    gen2, tgen2 = np.random.default_rng(0), torch.Generator()
    assert rl.load_checkpoint(path, rngs={"np": gen2, "torch": tgen2})["step"] == 7
    got = (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
        gen2.random(),
        torch.rand(1, generator=tgen2).item(),
    )
    assert got == expected


def test_checkpoint_can_carry_an_environment(tmp_path):
    env = rl.make_env("CartPole-v1", seed=3)
    env.reset()
    for _ in range(5):
        env.step(1)
    rl.save_checkpoint(tmp_path / "env.pt", step=5, extra={"env": env})
    expected = env.step(0)[0]
    restored = rl.load_checkpoint(tmp_path / "env.pt")["extra"]["env"]
    np.testing.assert_array_equal(restored.step(0)[0], expected)


def test_save_is_atomic_and_replaces_the_old_buffer(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    buf = rl.ReplayBuffer(4, (2,))
    buf.add([1, 1], 0, 1.0, [2, 2], False)
    path = tmp_path / "ck.pt"
    rl.save_checkpoint(path, step=1, models={"net": net}, replay_buffer=buf)
    first_buffer = list(tmp_path.glob("ck.pt.buffer-*.npz"))
    assert len(first_buffer) == 1

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(torch, "save", crash)
    with torch.no_grad():
        net.weight.fill_(42.0)
    with pytest.raises(KeyboardInterrupt):
        rl.save_checkpoint(path, step=2, models={"net": net}, replay_buffer=buf)
    monkeypatch.undo()
    # the previous checkpoint is intact and still finds its buffer; no temp file is left
    fresh, fresh_buf = nn.Linear(2, 2), rl.ReplayBuffer(4, (2,))
    assert rl.load_checkpoint(path, models={"net": fresh}, replay_buffer=fresh_buf)["step"] == 1
    assert not torch.all(fresh.weight == 42.0) and len(fresh_buf) == 1
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    # a successful save removes the older buffer file
    rl.save_checkpoint(path, step=3, models={"net": net}, replay_buffer=buf)
    buffers = list(tmp_path.glob("ck.pt.buffer-*.npz"))
    assert len(buffers) == 1 and buffers != first_buffer


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        rl.load_checkpoint(tmp_path / "missing.pt")
    path = rl.save_checkpoint(tmp_path / "c.pt", step=0, models={"a": nn.Linear(1, 1)})
    with pytest.raises(KeyError, match="no model 'b'"):
        rl.load_checkpoint(path, models={"b": nn.Linear(1, 1)})
    with pytest.raises(ValueError, match="without a replay buffer"):
        rl.load_checkpoint(path, replay_buffer=rl.ReplayBuffer(2, (1,)))
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a training run checkpoint"):
        rl.load_checkpoint(tmp_path / "other.pt")
