"""U-Net segmentation of the ISBI 2012 membranes (notebook vision/04): held-out
Dice of a U-Net trained from scratch against a U-Net whose encoder is the
ImageNet-pretrained MobileNetV2, the same epochs, crops and order for both.

The same models, augmentations and loss as ``notebooks/vision/04_semantic_segmentation.source.ipynb``,
written compactly, at 256 pixels (the slices resized from 512), CPU-sized:

- data: the 30 annotated slices; the last 6 (a contiguous block of the stack) are
  held out, the first 24 train;
- foreground = **membrane** (mask value 0 in the ISBI labels): the thin, rare
  class (about 22 % of the pixels) that segmentation is about. The cell-class Dice
  is reported in the notes too; it is much higher because predicting "cell"
  everywhere already scores about 0.88 on it;
- augmentations (``torchvision.transforms.v2`` on ``tv_tensors.Image``/``Mask``):
  random crop, rotation up to 15 degrees, flips, elastic deformation (p=0.3),
  brightness/contrast jitter; ``CROPS_PER_IMAGE`` random crops per slice and epoch;
- loss BCE + soft Dice; Adam (the pretrained encoder at a third of the
  learning rate, its batch-norm statistics frozen), cosine decay to 0 per batch;
- held-out slices predicted whole; Dice and IoU per image (threshold 0.5),
  averaged over the 6 slices (``course_utils.vision.segmentation``).

Settings can be overridden for a quick check: ``BENCH_SEG_EPOCHS``,
``BENCH_SEG_SIZE`` (image side), ``BENCH_SEG_THREADS``.
"""

from __future__ import annotations

import math
import os
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from course_utils import data
from course_utils.config import seed_everything
from course_utils.data import StandInWarning
from course_utils.pretrained import load_torchvision
from course_utils.vision.segmentation import dice_score, iou_score, predict_tiled, soft_dice_loss

SIZE = int(os.environ.get("BENCH_SEG_SIZE", 256))
EPOCHS = int(os.environ.get("BENCH_SEG_EPOCHS", 15))
THREADS = int(os.environ.get("BENCH_SEG_THREADS", 1))
N_HELD_OUT = 6
CROP = 128
CROPS_PER_IMAGE = 4
BATCH_SIZE = 8
LR = 2e-3
WIDTH, DEPTH = 8, 4  # the scratch U-Net: 8-16-32-64-128 channels (CPU-sized)
ENCODER_STAGES = (1, 3, 6, 13)  # MobileNetV2 blocks at strides 2, 4, 8, 16
SEED = 0


def joint_transform(crop: int, elastic_p: float):
    margin = int(math.ceil(crop * 1.27))
    return v2.Compose(
        [
            v2.RandomCrop(margin),
            v2.RandomRotation(15),
            v2.CenterCrop(crop),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.RandomApply([v2.ElasticTransform(alpha=crop / 3, sigma=6.0)], p=elastic_p),
            v2.ColorJitter(brightness=0.2, contrast=0.2),
        ]
    )


class CropDataset(Dataset):
    def __init__(self, images, membrane, transform, crops_per_image):
        self.images, self.membrane = images, membrane
        self.transform, self.crops_per_image = transform, crops_per_image

    def __len__(self):
        return len(self.images) * self.crops_per_image

    def __getitem__(self, i):
        k = i % len(self.images)
        image = tv_tensors.Image(torch.from_numpy(self.images[k])[None])
        mask = tv_tensors.Mask(torch.from_numpy(self.membrane[k])[None])
        image, mask = self.transform(image, mask)
        return image.float() / 255, mask.float()


def conv_block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, in_channels=1, width=16, depth=4):
        super().__init__()
        chans = [width * 2**k for k in range(depth + 1)]
        self.down = nn.ModuleList(
            [conv_block(in_channels, chans[0])]
            + [conv_block(chans[k], chans[k + 1]) for k in range(depth)]
        )
        self.up = nn.ModuleList(
            [
                nn.ConvTranspose2d(chans[k + 1], chans[k], 2, stride=2)
                for k in reversed(range(depth))
            ]
        )
        self.merge = nn.ModuleList(
            [conv_block(2 * chans[k], chans[k]) for k in reversed(range(depth))]
        )
        self.head = nn.Conv2d(chans[0], 1, 1)

    def forward(self, x):
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


class MobileNetUNet(nn.Module):
    def __init__(self, features, stages=ENCODER_STAGES):
        super().__init__()
        self.encoder, self.stages = features[: stages[-1] + 1], stages
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        with torch.no_grad():
            chans = [1] + [f.shape[1] for f in self.encode(torch.zeros(1, 1, 64, 64))]
        dec = [max(c, 16) for c in chans[:-1]]
        ups, merges, below = [], [], chans[-1]
        for k in reversed(range(len(chans) - 1)):
            ups.append(nn.ConvTranspose2d(below, dec[k], 2, stride=2))
            merges.append(conv_block(dec[k] + chans[k], dec[k]))
            below = dec[k]
        self.up, self.merge = nn.ModuleList(ups), nn.ModuleList(merges)
        self.head = nn.Conv2d(dec[0], 1, 1)

    def encode(self, x):
        x = (x.expand(-1, 3, -1, -1) - self.mean) / self.std
        taps = []
        for k, block in enumerate(self.encoder):
            x = block(x)
            if k in self.stages:
                taps.append(x)
        return taps

    def forward(self, image):
        skips = [image] + self.encode(image)
        x = skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)

    def train(self, mode=True):
        super().train(mode)
        for m in self.encoder.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


def loss_fn(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target) + soft_dice_loss(logits, target)


def train_and_measure(model, param_groups, train_set, held_x, held_y):
    seed_everything(SEED)
    optimizer = torch.optim.Adam(param_groups, lr=LR)
    loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, drop_last=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS * len(loader))
    start, steps, curve = time.perf_counter(), 0, []
    for epoch in range(1, EPOCHS + 1):
        model.train()
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            steps += 1
        if epoch % 5 == 0 or epoch == EPOCHS:
            logits = predict_tiled(model, held_x, tile=held_x.shape[-1])
            curve.append((epoch, dice_score(logits, held_y, from_logits=True)))
            print(
                f"  epoch {epoch}: held-out membrane Dice {curve[-1][1]:.4f} "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    seconds = time.perf_counter() - start
    logits = predict_tiled(model, held_x, tile=held_x.shape[-1])
    return {
        "dice": dice_score(logits, held_y, from_logits=True),
        "iou": iou_score(logits, held_y, from_logits=True),
        "cell_dice": dice_score(logits < 0, 1 - held_y),
        "curve": curve,
        "seconds": seconds,
        "steps": steps,
    }


def run() -> list[dict]:
    torch.set_num_threads(THREADS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StandInWarning)
        isbi = data.load("isbi_membrane", split="train", size=SIZE)
        mobilenet, weights = load_torchvision("mobilenet_v2")
    standin = [str(w.message) for w in caught if issubclass(w.category, StandInWarning)]
    images, membrane = isbi.images, 1 - isbi.masks
    train_idx = np.arange(len(images) - N_HELD_OUT)
    held_idx = np.arange(len(images) - N_HELD_OUT, len(images))
    train_set = CropDataset(
        images[train_idx], membrane[train_idx], joint_transform(CROP, 0.3), CROPS_PER_IMAGE
    )
    held_x = torch.from_numpy(images[held_idx]).float()[:, None] / 255
    held_y = torch.from_numpy(membrane[held_idx])[:, None]
    candidates = np.arange(10, 250, 5)
    best_t = candidates[
        int(np.argmax([dice_score(images[train_idx] < t, membrane[train_idx]) for t in candidates]))
    ]
    threshold_dice = dice_score(images[held_idx] < best_t, membrane[held_idx])

    seed_everything(SEED)
    scratch = UNet(width=WIDTH, depth=DEPTH)
    print(
        f"scratch U-Net ({sum(p.numel() for p in scratch.parameters()):,} parameters)", flush=True
    )
    r_scratch = train_and_measure(scratch, scratch.parameters(), train_set, held_x, held_y)
    seed_everything(SEED)
    pre = MobileNetUNet(mobilenet.features)
    print(
        f"MobileNetV2 U-Net ({sum(p.numel() for p in pre.parameters()):,} parameters, {weights})",
        flush=True,
    )
    decoder = [p for n, p in pre.named_parameters() if not n.startswith("encoder.")]
    r_pre = train_and_measure(
        pre,
        [{"params": pre.encoder.parameters(), "lr": LR / 3}, {"params": decoder}],
        train_set,
        held_x,
        held_y,
    )

    common = (
        f"ISBI 2012 at {SIZE}px, train slices 0-23, held-out 24-29; foreground = membrane; "
        f"{EPOCHS} epochs x {len(train_set)} crops of {CROP}px, batch {BATCH_SIZE}, Adam {LR} cosine-decayed; "
        f"{THREADS} torch thread(s); grey-threshold baseline Dice {threshold_dice:.3f}"
        + ("; STAND-IN: " + " | ".join(standin) if standin else "")
    )

    def notes(r):
        curve = ", ".join(f"{e}:{d:.3f}" for e, d in r["curve"])
        return (
            f"IoU {r['iou']:.3f}, cell-class Dice {r['cell_dice']:.3f}, {r['steps']} steps; "
            f"Dice by epoch {curve}; {common}"
        )

    return [
        {
            "benchmark": "segmentation",
            "metric": "held-out membrane Dice, U-Net from scratch",
            "value": round(r_scratch["dice"], 4),
            "target": "reported",
            "passed": None,
            "seconds": round(r_scratch["seconds"], 1),
            "notes": notes(r_scratch),
        },
        {
            "benchmark": "segmentation",
            "metric": "held-out membrane Dice, U-Net with MobileNetV2 encoder",
            "value": round(r_pre["dice"], 4),
            "target": "reported",
            "passed": None,
            "seconds": round(r_pre["seconds"], 1),
            "notes": notes(r_pre) + f"; weights {weights}",
        },
        {
            "benchmark": "segmentation",
            "metric": "Dice gain of the pretrained encoder (pretrained - scratch)",
            "value": round(r_pre["dice"] - r_scratch["dice"], 4),
            "target": ">= 0 (pretrained >= scratch)",
            "passed": bool(r_pre["dice"] >= r_scratch["dice"]) and not standin,
            "seconds": round(r_scratch["seconds"] + r_pre["seconds"], 1),
            "notes": common,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
