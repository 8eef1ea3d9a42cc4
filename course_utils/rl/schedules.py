"""Exploration or learning rate as a function of the step."""

from __future__ import annotations

from collections.abc import Callable


def linear_schedule(
    start: float, end: float, duration: int, begin: int = 0
) -> Callable[[int], float]:
    """``value(step)``: ``start`` until ``begin``, then linear to ``end`` over ``duration`` steps, then ``end``.

    The usual DQN exploration: ``eps = linear_schedule(1.0, 0.05, 10_000)``;
    ``eps(0) == 1.0``, ``eps(5_000) == 0.525``, ``eps(10**6) == 0.05`` (the floor).
    """
    if duration < 0:
        raise ValueError(f"duration must be >= 0, got {duration!r}")
    start, end, duration, begin = float(start), float(end), int(duration), int(begin)

    def value(step: int) -> float:
        t = step - begin
        if t <= 0:
            return start
        if duration == 0 or t >= duration:
            return end
        return start + (end - start) * t / duration

    return value


def exponential_schedule(start: float, decay: float, end: float = 0.0) -> Callable[[int], float]:
    """``value(step) = max(end, start * decay ** step)`` (``end <= start``; for decreasing values).

    ``decay`` in (0, 1]; e.g. ``exponential_schedule(1.0, 0.999, 0.01)(1000) ≈ 0.368``.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    start, decay, end = float(start), float(decay), float(end)

    def value(step: int) -> float:
        return max(end, start * decay ** max(int(step), 0))

    return value


def set_learning_rate(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (call it with ``schedule(step)``)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)
