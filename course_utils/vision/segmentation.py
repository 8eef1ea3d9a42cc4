"""Binary segmentation metrics and plumbing: IoU, Dice, a soft Dice loss and a
tiled (sliding-window) predictor.

Masks and predictions are tensors (or NumPy arrays) shaped ``(H, W)`` for one
image, or ``(N, H, W)`` / ``(N, 1, H, W)`` for a batch. Targets are 0/1 (or
boolean). Predictions are either

- scores in ``[0, 1]`` (probabilities): a pixel is positive when ``score > threshold``;
- logits (``from_logits=True``): positive when ``sigmoid(logit) > threshold``;
- already binary (0/1 or boolean): any threshold in ``[0, 1)`` keeps them as they are.

Definitions, for a predicted set ``P`` and a true set ``T`` of foreground pixels::

    IoU  = |P & T| / |P | T|                  (Jaccard index)
    Dice = 2 |P & T| / (|P| + |T|)             (F1 score of the foreground pixels)

Both are 1 for a perfect prediction and 0 when nothing overlaps; for one image
``Dice = 2 IoU / (1 + IoU)``, so Dice >= IoU.

**Empty masks.** When both ``P`` and ``T`` are empty the ratio is ``0 / 0``. We
count that image as a perfect prediction (score ``empty=1.0``, the convention of
most challenge scorers: the model correctly found nothing); pass ``empty=0.0``
or ``empty=float("nan")`` for another convention (NaN images are then left out
of the mean). When only one of them is empty the score is 0, as the formula says.

**Averaging.** ``reduction="mean"`` computes the score of every image and
averages them (each image counts the same); ``reduction="global"`` pools the
pixels of all images first (large objects count more); ``reduction="none"``
returns the per-image scores as a tensor.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["dice_score", "iou_score", "predict_tiled", "soft_dice_loss"]

_REDUCTIONS = ("mean", "global", "none")


def _as_batch(x, name: str) -> torch.Tensor:
    """``x`` as a tensor of shape (N, H*W)."""
    t = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    t = t.detach()
    if t.dim() == 2:
        t = t.unsqueeze(0)
    elif t.dim() == 4:
        if t.shape[1] != 1:
            raise ValueError(
                f"{name}: expected one channel, shape (N, 1, H, W), found {tuple(t.shape)}; "
                "binary metrics take one mask per image"
            )
        t = t[:, 0]
    elif t.dim() != 3:
        raise ValueError(
            f"{name}: expected shape (H, W), (N, H, W) or (N, 1, H, W), found {tuple(t.shape)}"
        )
    return t.reshape(t.shape[0], -1)


def _binarize(pred, threshold: float, from_logits: bool) -> torch.Tensor:
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), found {threshold!r}")
    p = _as_batch(pred, "pred")
    if p.dtype == torch.bool:
        if from_logits:
            raise ValueError("from_logits=True expected real-valued logits, found a boolean mask")
        return p
    p = p.float()
    if from_logits:
        p = torch.sigmoid(p)
    elif p.numel() and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            f"pred has values in [{float(p.min()):.3g}, {float(p.max()):.3g}]; expected probabilities "
            "in [0, 1] or a 0/1 mask (pass from_logits=True for logits)"
        )
    return p > threshold


def _target(target) -> torch.Tensor:
    t = _as_batch(target, "target")
    if t.dtype != torch.bool:
        values = torch.unique(t)
        if not bool(((values == 0) | (values == 1)).all()):
            raise ValueError(
                f"target must be a 0/1 (or boolean) mask, found values {values[:6].tolist()}"
            )
        t = t == 1
    return t


def _counts(pred, target, threshold, from_logits):
    p = _binarize(pred, threshold, from_logits)
    t = _target(target)
    if p.shape != t.shape:
        raise ValueError(
            f"pred and target differ in shape: {tuple(p.shape)} vs {tuple(t.shape)} (flattened per image)"
        )
    inter = (p & t).sum(1).double()
    return inter, p.sum(1).double(), t.sum(1).double()


def _reduce(num, den, empty: float, reduction: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, found {reduction!r}")
    if reduction == "global":
        n, d = float(num.sum()), float(den.sum())
        return n / d if d > 0 else float(empty)
    per_image = torch.where(den > 0, num / den.clamp(min=1), torch.full_like(num, float(empty)))
    if reduction == "none":
        return per_image.float()
    keep = ~torch.isnan(per_image)
    return float(per_image[keep].mean()) if keep.any() else math.nan


def iou_score(
    pred,
    target,
    *,
    threshold: float = 0.5,
    from_logits: bool = False,
    reduction: str = "mean",
    empty: float = 1.0,
):
    """Intersection over union of the foreground (``1``) pixels.

    ``reduction``: ``"mean"`` (per image, then averaged; a float), ``"global"``
    (all pixels pooled; a float) or ``"none"`` (a tensor of per-image scores).
    ``empty``: the score of an image whose prediction and target are both empty.
    """
    inter, p, t = _counts(pred, target, threshold, from_logits)
    return _reduce(inter, p + t - inter, empty, reduction)


def dice_score(
    pred,
    target,
    *,
    threshold: float = 0.5,
    from_logits: bool = False,
    reduction: str = "mean",
    empty: float = 1.0,
):
    """Dice coefficient ``2|P & T| / (|P| + |T|)`` of the foreground pixels.

    Same arguments and conventions as :func:`iou_score`.
    """
    inter, p, t = _counts(pred, target, threshold, from_logits)
    return _reduce(2 * inter, p + t, empty, reduction)


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Differentiable ``1 - soft Dice``, averaged over the images of the batch.

    The hard counts are replaced by sums of probabilities ``p = sigmoid(logits)``::

        loss = 1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)

    per image; ``smooth`` keeps the ratio defined on empty masks (an all-background
    image predicted as background has loss 0) and softens the gradient.
    ``logits`` and ``target`` have the same shape, (N, ...) with N images.
    """
    if logits.shape != target.shape:
        raise ValueError(
            f"logits and target differ in shape: {tuple(logits.shape)} vs {tuple(target.shape)}"
        )
    if logits.dim() < 2:
        raise ValueError(f"expected a batch (N, ...) of images, found shape {tuple(logits.shape)}")
    p = torch.sigmoid(logits).flatten(1)
    t = target.to(p.dtype).flatten(1)
    dice = (2 * (p * t).sum(1) + smooth) / (p.sum(1) + t.sum(1) + smooth)
    return (1 - dice).mean()


def _starts(length: int, tile: int, stride: int) -> list[int]:
    """Window origins that cover ``[0, length)``; the last window ends at ``length``."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


@torch.no_grad()
def predict_tiled(
    model: torch.nn.Module, image: torch.Tensor, tile: int, overlap: int = 0, batch_size: int = 8
) -> torch.Tensor:
    """Run ``model`` over an image in overlapping ``tile x tile`` windows and
    average the outputs where windows overlap.

    ``image``: (C, H, W) or (N, C, H, W); the model maps (B, C, tile, tile) to
    (B, K, tile, tile) (logits, say). Returns (K, H, W) or (N, K, H, W). Images
    smaller than ``tile`` are zero-padded (bottom/right) and cropped back. Windows
    advance by ``tile - overlap``; the last row and column of windows are moved
    back to end at the image border, so every pixel is covered. This is how a
    network trained on crops predicts images too large for memory (or too large
    for the sizes it saw in training).
    """
    if tile <= 0 or not 0 <= overlap < tile:
        raise ValueError(
            f"expected tile > 0 and 0 <= overlap < tile, found tile={tile}, overlap={overlap}"
        )
    single = image.dim() == 3
    if single:
        image = image.unsqueeze(0)
    if image.dim() != 4:
        raise ValueError(f"image must be (C, H, W) or (N, C, H, W), found {tuple(image.shape)}")
    n, _, h, w = image.shape
    ph, pw = max(0, tile - h), max(0, tile - w)
    if ph or pw:
        image = torch.nn.functional.pad(image, (0, pw, 0, ph))
    H, W = image.shape[-2:]
    stride = tile - overlap
    origins = [(y, x) for y in _starts(H, tile, stride) for x in _starts(W, tile, stride)]
    was_training = model.training
    model.eval()
    total = count = None
    try:
        for i in range(n):
            for k in range(0, len(origins), batch_size):
                chunk = origins[k : k + batch_size]
                crops = torch.stack([image[i, :, y : y + tile, x : x + tile] for y, x in chunk])
                out = model(crops)
                if out.dim() != 4 or out.shape[-2:] != (tile, tile):
                    raise ValueError(
                        f"the model must map (B, C, {tile}, {tile}) to (B, K, {tile}, {tile}); "
                        f"found output {tuple(out.shape)}"
                    )
                if total is None:
                    total = out.new_zeros((n, out.shape[1], H, W))
                    count = out.new_zeros((1, 1, H, W))
                for (y, x), o in zip(chunk, out):
                    total[i, :, y : y + tile, x : x + tile] += o
                    if i == 0:
                        count[0, 0, y : y + tile, x : x + tile] += 1
    finally:
        model.train(was_training)
    result = (total / count)[..., :h, :w]
    return result[0] if single else result
