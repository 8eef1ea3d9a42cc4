"""course_utils.vision.segmentation: IoU, Dice, soft Dice loss, tiled prediction, on
hand-computed cases."""

import math

import numpy as np
import pytest
import torch

from course_utils.vision.segmentation import dice_score, iou_score, predict_tiled, soft_dice_loss

# A 3x4 example counted by hand:
#   target: 4 foreground pixels, prediction: 3, overlap: 2
#   IoU  = 2 / (3 + 4 - 2) = 2/5,  Dice = 2*2 / (3 + 4) = 4/7
TARGET = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=np.uint8)
PRED = np.array([[1, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.uint8)


def test_hand_computed_single_image():
    assert iou_score(PRED, TARGET) == pytest.approx(2 / 5)
    assert dice_score(PRED, TARGET) == pytest.approx(4 / 7)
    # boolean and tensor inputs give the same numbers
    assert dice_score(torch.tensor(PRED).bool(), torch.tensor(TARGET)) == pytest.approx(4 / 7)


def test_perfect_and_disjoint():
    assert iou_score(TARGET, TARGET) == 1.0 and dice_score(TARGET, TARGET) == 1.0
    assert iou_score(1 - TARGET, TARGET) == 0.0 and dice_score(1 - TARGET, TARGET) == 0.0


def test_probabilities_threshold_and_logits():
    probs = np.where(PRED == 1, 0.7, 0.2).astype(np.float32)
    probs[2, 3] = 0.5  # exactly at the threshold: not positive (strictly greater is required)
    assert dice_score(probs, TARGET) == pytest.approx(4 / 7)
    # a higher threshold removes every positive: P empty, T not -> 0
    assert dice_score(probs, TARGET, threshold=0.8) == 0.0
    # a lower one makes every pixel positive: IoU = |T| / all pixels = 4/12
    assert iou_score(probs, TARGET, threshold=0.1) == pytest.approx(4 / 12)
    logits = torch.logit(torch.tensor(probs).clamp(1e-4, 1 - 1e-4))
    assert dice_score(logits, TARGET, from_logits=True) == pytest.approx(4 / 7)


def test_dice_iou_relation_per_image():
    rng = np.random.default_rng(0)
    pred = rng.random((5, 16, 16))
    target = (rng.random((5, 16, 16)) > 0.6).astype(np.uint8)
    iou = iou_score(pred, target, reduction="none")
    dice = dice_score(pred, target, reduction="none")
    assert iou.shape == (5,)
    torch.testing.assert_close(dice, 2 * iou / (1 + iou))


def test_mean_versus_global_reduction():
    # image 1: the hand example (IoU 2/5); image 2: 1 true pixel, 1 predicted elsewhere (IoU 0)
    t2 = np.zeros_like(TARGET)
    t2[0, 0] = 1
    p2 = np.zeros_like(PRED)
    p2[2, 3] = 1
    pred, target = np.stack([PRED, p2]), np.stack([TARGET, t2])
    assert iou_score(pred, target, reduction="none").tolist() == pytest.approx([0.4, 0.0])
    assert iou_score(pred, target) == pytest.approx(0.2)  # (0.4 + 0) / 2
    assert iou_score(pred, target, reduction="global") == pytest.approx(
        2 / (5 + 2)
    )  # pooled counts
    assert dice_score(pred, target, reduction="global") == pytest.approx(4 / (7 + 2))
    # (N, 1, H, W) is accepted too
    assert iou_score(pred[:, None], target[:, None]) == pytest.approx(0.2)


def test_empty_mask_conventions():
    empty = np.zeros((3, 4), dtype=np.uint8)
    # both empty: a perfect "nothing here" by default, or whatever `empty` says
    assert dice_score(empty, empty) == 1.0 and iou_score(empty, empty) == 1.0
    assert dice_score(empty, empty, empty=0.0) == 0.0
    assert math.isnan(dice_score(empty, empty, empty=float("nan")))
    # only one of them empty: 0 whatever the convention
    assert dice_score(empty, TARGET) == 0.0 and dice_score(TARGET, empty) == 0.0
    # NaN images are left out of the mean: (4/7 + NaN) -> 4/7
    both = dice_score(np.stack([PRED, empty]), np.stack([TARGET, empty]), empty=float("nan"))
    assert both == pytest.approx(4 / 7)
    scores = dice_score(np.stack([PRED, empty]), np.stack([TARGET, empty]), reduction="none")
    assert scores.tolist() == pytest.approx([4 / 7, 1.0])


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="from_logits"):
        dice_score(PRED * 3.0, TARGET)
    with pytest.raises(ValueError, match="0/1"):
        dice_score(PRED, TARGET * 255)
    with pytest.raises(ValueError, match="differ in shape"):
        dice_score(PRED[:2], TARGET)
    with pytest.raises(ValueError, match="one channel"):
        dice_score(np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="reduction"):
        dice_score(PRED, TARGET, reduction="sum")
    with pytest.raises(ValueError, match="threshold"):
        dice_score(PRED, TARGET, threshold=1.0)


def test_soft_dice_loss_values_and_gradient():
    t = torch.tensor(TARGET, dtype=torch.float32)[None]
    # confident and right: loss near 0; confident and wrong: near 1
    right = torch.where(t == 1, 20.0, -20.0)
    assert float(soft_dice_loss(right, t)) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_dice_loss(-right, t, smooth=0.0)) == pytest.approx(1.0, abs=1e-6)
    # logits 0 -> p = 1/2 everywhere: soft Dice = (2*2 + 1) / (6 + 4 + 1) = 5/11
    zero = torch.zeros_like(t, requires_grad=True)
    loss = soft_dice_loss(zero, t)
    assert float(loss.detach()) == pytest.approx(1 - 5 / 11)
    loss.backward()
    # raising a foreground logit lowers the loss, raising a background one raises it
    assert zero.grad[0, 0, 0] < 0 < zero.grad[0, 2, 3]
    # empty target and empty prediction: loss 0 thanks to the smoothing term
    assert float(
        soft_dice_loss(torch.full((1, 3, 4), -30.0), torch.zeros(1, 3, 4))
    ) == pytest.approx(0.0, abs=1e-6)


class _PixelNet(torch.nn.Module):
    """A per-pixel network (1x1 convolution): tiling must not change its output."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 1)

    def forward(self, x):
        return self.conv(x)


@pytest.mark.parametrize("size,tile,overlap", [(20, 8, 2), (16, 8, 0), (5, 8, 0), (17, 16, 4)])
def test_predict_tiled_matches_a_whole_image_pass(size, tile, overlap):
    torch.manual_seed(0)
    net = _PixelNet()
    image = torch.randn(2, 2, size, size + 3)
    out = predict_tiled(net, image, tile=tile, overlap=overlap)
    assert out.shape == (2, 3, size, size + 3)
    torch.testing.assert_close(out, net(image).detach())
    single = predict_tiled(net, image[0], tile=tile, overlap=overlap)
    torch.testing.assert_close(single, out[0])
    assert net.training  # the mode is restored


def test_predict_tiled_averages_overlaps():
    # a "network" that outputs the number of windows seen so far: overlap pixels average them
    class Counter(torch.nn.Module):
        calls = 0

        def forward(self, x):
            outs = []
            for _ in range(len(x)):
                Counter.calls += 1
                outs.append(torch.full((1, x.shape[-2], x.shape[-1]), float(Counter.calls)))
            return torch.stack(outs)

    out = predict_tiled(Counter(), torch.zeros(1, 1, 6), tile=4, overlap=2)
    # windows at x = 0 and x = 2 (values 1 and 2): columns 0-1 -> 1, 2-3 -> 1.5, 4-5 -> 2
    assert out[0, 0].tolist() == [1.0, 1.0, 1.5, 1.5, 2.0, 2.0]
    with pytest.raises(ValueError, match="overlap"):
        predict_tiled(Counter(), torch.zeros(1, 4, 4), tile=4, overlap=4)
