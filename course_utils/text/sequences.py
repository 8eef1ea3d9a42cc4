"""Batches of sequences: padding them into tensors, and the loss over their real
positions only."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["PadCollate", "pad_collate", "seq_loss"]


def pad_collate(
    batch: Sequence[tuple[Sequence[int], int]],
    pad_index: int = 0,
    max_len: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Collate ``(token ids, label)`` pairs into padded tensors.

    Returns ``(ids, lengths, labels)``: ``ids`` a LongTensor ``[batch, time]``
    padded with ``pad_index`` at the end up to the longest sequence of the
    batch, ``lengths`` the true lengths ``[batch]``, ``labels`` ``[batch]``.
    Sequences longer than ``max_len`` are cut to their first ``max_len`` tokens.
    Use it as ``DataLoader(..., collate_fn=PadCollate(vocab.pad_index, max_len))``.
    """
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
    ):
        raise ValueError(f"max_len must be None or an int >= 1, found {max_len!r}")
    if len(batch) == 0:
        raise ValueError("pad_collate expected a non-empty batch, found 0 items")
    seqs, labels = [], []
    for n, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(
                f"pad_collate expected (token ids, label) pairs, found item {n}: {item!r:.80}"
            )
        ids, label = item
        ids = torch.as_tensor(ids)
        if ids.dim() != 1 or (ids.numel() and ids.is_floating_point()):
            raise TypeError(
                f"pad_collate expected item {n}'s token ids as a 1-D sequence of ints, "
                f"found shape {tuple(ids.shape)} dtype {ids.dtype}"
            )
        if ids.numel() == 0:
            raise ValueError(
                f"pad_collate: item {n} has no tokens; every sequence needs at least one "
                "(an empty text encodes to [], map it to [<unk>] or drop it)"
            )
        seqs.append(ids[:max_len].long() if max_len else ids.long())
        labels.append(label)
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    padded = torch.full((len(seqs), int(lengths.max())), pad_index, dtype=torch.long)
    for row, s in enumerate(seqs):
        padded[row, : len(s)] = s
    try:
        label_tensor = torch.as_tensor(labels)
    except (TypeError, ValueError) as err:
        raise TypeError(f"pad_collate expected numeric labels, found {labels[:5]!r}...") from err
    return padded, lengths, label_tensor


class PadCollate:
    """A picklable ``collate_fn``: :func:`pad_collate` with a fixed pad index and max length."""

    def __init__(self, pad_index: int = 0, max_len: int | None = None):
        if max_len is not None and (
            isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
        ):
            raise ValueError(f"max_len must be None or an int >= 1, found {max_len!r}")
        self.pad_index = pad_index
        self.max_len = max_len

    def __call__(self, batch):
        return pad_collate(batch, pad_index=self.pad_index, max_len=self.max_len)

    def __repr__(self) -> str:
        return f"PadCollate(pad_index={self.pad_index}, max_len={self.max_len})"


def seq_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over the positions of a batch of sequences.

    ``logits`` ``[B, T, V]`` (scores over a vocabulary or tag set at every position),
    ``target`` ``[B, T]`` with ``ignore_index`` at the padding, which counts nowhere: the
    mean is over the real tokens only, so long and short batches weigh tokens alike.
    """
    import torch.nn.functional as F

    if logits.dim() != 3 or target.dim() != 2 or logits.shape[:2] != target.shape:
        raise ValueError(
            f"seq_loss expects logits [B, T, V] and target [B, T], "
            f"found {tuple(logits.shape)} and {tuple(target.shape)}"
        )
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=ignore_index
    )
