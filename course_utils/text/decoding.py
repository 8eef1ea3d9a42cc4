"""Decoding for sequence models: greedy decoding and beam search over a small
decoder interface.

The decoder is a callable ``step(prev_tokens, state) -> (log_probs, state)``:

- ``prev_tokens``: the tokens of one hypothesis so far, a list of ints starting
  with ``bos`` (an RNN decoder uses ``prev_tokens[-1]``; a Transformer decoder
  can use all of them);
- ``state``: whatever the decoder carries between steps (an RNN hidden state,
  encoder outputs for attention, ``None``...); beam search gives every child
  hypothesis the state returned for its parent, so ``step`` must return a new
  state instead of changing the one it was given;
- ``log_probs``: a 1-D tensor (or array / list) of log-probabilities over the
  vocabulary for the next token.

>>> import math
>>> table = {(): [0.0, 0.0, math.log(0.6), math.log(0.4)],       # bos=0 eos=1 A=2 B=3
...          (2,): [0.0, math.log(0.4), math.log(0.3), math.log(0.3)],
...          (3,): [0.0, math.log(0.9), math.log(0.05), math.log(0.05)]}
>>> def step(prev, state):
...     p = table.get(tuple(prev[1:]), [0.0, 0.0, math.log(0.5), math.log(0.5)])
...     return [-math.inf if x == 0.0 else x for x in p], state
>>> greedy_decode(step, bos=0, eos=1, max_len=3).tokens      # A then eos: p = 0.6 * 0.4
[2]
>>> beam_search(step, bos=0, eos=1, beam_size=2, max_len=3)[0].tokens   # B eos: 0.4 * 0.9
[3]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Hypothesis", "beam_search", "decoder_step", "greedy_decode", "length_penalty"]

StepFn = Callable[[list[int], Any], tuple[Any, Any]]


@dataclass
class Hypothesis:
    """One decoded sequence.

    ``tokens``: the generated tokens, without ``bos`` and without ``eos``;
    ``log_prob``: the sum of the log-probabilities of the generated tokens
    (``eos`` included when ``finished``); ``score``: ``log_prob`` divided by the
    length penalty (equal to ``log_prob`` when the penalty is 0); ``finished``:
    whether ``eos`` was produced (else ``max_len`` stopped it).
    """

    tokens: list[int]
    log_prob: float
    score: float
    finished: bool
    state: Any = field(default=None, repr=False, compare=False)


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ``((5 + length) / 6) ** alpha`` (Wu et al., 2016).

    Scores are ``log_prob / length_penalty``: ``alpha=0`` ranks by total
    log-probability (which favours short outputs); larger ``alpha`` favours
    longer ones. ``length`` counts the generated tokens, ``eos`` included.
    """
    return ((5.0 + length) / 6.0) ** alpha


def _log_probs(step_out, n: int | None) -> torch.Tensor:
    lp = torch.as_tensor(step_out, dtype=torch.float64).detach().cpu()
    if lp.dim() == 2 and lp.shape[0] == 1:
        lp = lp[0]
    if lp.dim() != 1:
        raise ValueError(
            f"step must return log-probabilities of shape [vocab] (or [1, vocab]), found {tuple(lp.shape)}"
        )
    if n is not None and lp.numel() != n:
        raise ValueError(
            f"step returned {lp.numel()} log-probabilities, earlier {n}: the vocabulary changed"
        )
    if torch.isnan(lp).any():
        raise ValueError("step returned NaN log-probabilities")
    if (lp > 1e-6).any():
        raise ValueError(
            "step must return log-probabilities (<= 0), found positive values; "
            "apply torch.log_softmax to the logits"
        )
    return lp


def _check(bos, eos, max_len):
    for name, v in (("bos", bos), ("eos", eos), ("max_len", max_len)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int, found {v!r}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, found {max_len}")


def greedy_decode(
    step: StepFn, bos: int, eos: int, max_len: int = 50, state: Any = None
) -> Hypothesis:
    """Pick the most probable next token at every step, until ``eos`` or
    ``max_len`` generated tokens. Returns one :class:`Hypothesis`."""
    _check(bos, eos, max_len)
    prefix, total, n = [bos], 0.0, None
    for _ in range(max_len):
        lp, state = step(list(prefix), state)
        lp = _log_probs(lp, n)
        n = lp.numel()
        token = int(torch.argmax(lp))
        total += float(lp[token])
        if token == eos:
            return Hypothesis(prefix[1:], total, total, True, state)
        prefix.append(token)
    return Hypothesis(prefix[1:], total, total, False, state)


def beam_search(
    step: StepFn,
    bos: int,
    eos: int,
    beam_size: int = 4,
    max_len: int = 50,
    state: Any = None,
    alpha: float = 0.0,
    n_best: int | None = None,
) -> list[Hypothesis]:
    """Beam search: keep the ``beam_size`` most probable prefixes at every step.

    At each step every live prefix is extended by its ``beam_size`` best next
    tokens; of all these candidates the ``beam_size`` with the highest total
    log-probability survive. A candidate ending in ``eos`` is set aside as
    finished. The search stops when no live prefix can still beat the ``n_best``
    best finished hypotheses (log-probabilities only decrease; the length
    penalty is bounded by its value at ``max_len``), when no prefix is left, or
    after ``max_len`` generated tokens; prefixes cut by ``max_len`` compete with
    the finished ones and are marked ``finished=False`` (as greedy decoding does). Hypotheses are ranked by
    ``log_prob / length_penalty(len, alpha)``.

    Returns the ``n_best`` (default ``beam_size``) best hypotheses, best first.
    ``beam_size=1`` is greedy decoding.
    """
    _check(bos, eos, max_len)
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be an int >= 1, found {beam_size!r}")
    if alpha < 0:
        raise ValueError(f"alpha (the length penalty exponent) must be >= 0, found {alpha}")
    n_best = beam_size if n_best is None else n_best

    def score(logp, length):
        return logp / length_penalty(length, alpha)

    live = [([bos], 0.0, state)]  # (prefix, log_prob, state)
    finished: list[Hypothesis] = []
    n = None
    for t in range(1, max_len + 1):
        candidates = []
        for prefix, logp, st in live:
            lp, new_state = step(list(prefix), st)
            lp = _log_probs(lp, n)
            n = lp.numel()
            k = min(beam_size, n)
            top_lp, top_ids = torch.topk(lp, k)
            for v, i in zip(top_lp.tolist(), top_ids.tolist()):
                if v == -math.inf:
                    continue
                candidates.append((logp + v, prefix, int(i), new_state))
        # stable order: by log-prob, ties by token sequence
        candidates.sort(key=lambda c: (-c[0], c[1][1:] + [c[2]]))
        live = []
        for logp, prefix, token, st in candidates:
            if token == eos:
                finished.append(Hypothesis(prefix[1:], logp, score(logp, t), True, st))
            else:
                live.append((prefix + [token], logp, st))
            if len(live) == beam_size:
                break
        if not live:
            break
        if len(finished) >= n_best:
            # a live prefix's log-prob only goes down, its length penalty at most
            # reaches length_penalty(max_len): an upper bound on what it can still score
            kth_best = sorted((h.score for h in finished), reverse=True)[n_best - 1]
            if live[0][1] / length_penalty(max_len, alpha) < kth_best:
                break
    unfinished = [
        Hypothesis(p[1:], lp_, score(lp_, len(p) - 1), False, st)
        for p, lp_, st in live
        if len(p) - 1 == max_len
    ]
    pool = finished + unfinished
    pool.sort(key=lambda h: (-h.score, not h.finished, h.tokens))
    return pool[:n_best]


def decoder_step(model: torch.nn.Module) -> Callable:
    """The ``step(prev_tokens, state) -> (log_probs, state)`` that :func:`greedy_decode`
    and :func:`beam_search` call, for a model with ``model.step(token [1], state)``
    returning ``(logits [1, V], state, ...)``: it feeds the last token on the model's
    device, takes the log-softmax and keeps anything after the state out."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def step(prev_tokens, state):
        out = model.step(torch.tensor([prev_tokens[-1]], device=device), state)
        logits, state = out[0], out[1]
        return torch.log_softmax(logits[0], -1), state

    return step
