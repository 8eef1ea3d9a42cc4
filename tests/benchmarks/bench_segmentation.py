"""U-Net segmentation of the ISBI 2012 membranes (lesson vision/04), measured by running
the lesson itself (``tests/benchmarks/lessons.py``) at a CPU size: the figures are the
lesson's own variables.

The lesson trains a U-Net from scratch and a U-Net whose encoder is the ImageNet-pretrained
MobileNetV2 (at a third of the learning rate, its batch-norm statistics frozen) on random
augmented crops of the first 24 annotated slices (crop, rotation, flips, elastic
deformation, brightness/contrast), with BCE + soft Dice and Adam cosine-decayed to 0, the
same crops in the same order for both; foreground = **membrane** (about 22 % of the
pixels). After every epoch it predicts the 6 held-out slices (tiled) and records the
mean per-image Dice and IoU at threshold 0.5.

The lesson's full mode is GPU-sized (512-pixel slices, 256-pixel crops, 8 crops per slice
and epoch, 60 epochs, a scratch U-Net of width 32). A notebook whose full mode needs a GPU
runs at the largest size a 2-core CPU finishes in about 30 minutes, and the rows say so:
``CPU_SIZE`` below is injected into the lesson's parameters cell (256-pixel slices,
128-pixel crops, 20 epochs, width 8); every other knob (8 crops per slice and epoch, batch
8, learning rate 1e-3, depth 4, encoder stages, elastic probability 0.3, tile 256: the
whole 256-pixel slice) is the lesson's full-mode value, and so is its one torch thread.
The lesson's full-mode checks run on that size too: the better model must beat the
grey-level threshold by 0.05 and reach a Dice of 0.75 (real data and weights).

Rows: the held-out membrane Dice of each model after the last epoch (seconds: the lesson's
training time, per-epoch held-out predictions included) and the Dice gain of the
pretrained encoder (target >= 0). The old compact copy also reported the Dice of the cell
class in its notes; the lesson does not compute it, so it is gone.
"""

from __future__ import annotations

from tests.benchmarks.lessons import run_lesson

# CPU size for the lesson's GPU-sized full mode (see the docstring)
CPU_SIZE = {"IMAGE_SIZE": 256, "CROP": 128, "N_EPOCHS": 20, "WIDTH": 8}

NAMES = [
    "histories",
    "baseline",
    "best_t",
    "train_idx",
    "REAL_DATA",
    "PRETRAINED",
    "mobilenet_weights",
    *CPU_SIZE,
    "BATCH_SIZE",
    "LR",
    "DEPTH",
    "ENCODER_STAGES",
    "ELASTIC_P",
    "CROPS_PER_IMAGE",
    "TILE",
]
SCRATCH, PRE = "U-Net from scratch", "U-Net, MobileNetV2 encoder"


def run() -> list[dict]:
    v = run_lesson("vision/04_semantic_segmentation", NAMES, parameters=CPU_SIZE)
    h = v["histories"]
    threshold = v["baseline"][f"grey level < {v['best_t']}"][0]
    stand_in = []
    if not v["REAL_DATA"]:
        stand_in.append("STAND-IN data")
    if not v["PRETRAINED"]:
        stand_in.append("RANDOM MobileNetV2 weights (stand-in)")
    common = (
        f"lesson vision/04 at CPU size ({', '.join(f'{k} {v[k]}' for k in CPU_SIZE)} injected; "
        f"its full mode is for a GPU: 512 px, 256-px crops, 8 crops, 60 epochs, width 32); "
        f"ISBI 2012, train slices 0-{len(v['train_idx']) - 1}, held-out the last 6; "
        f"foreground = membrane; {v['CROPS_PER_IMAGE']} crops per slice, batch "
        f"{v['BATCH_SIZE']}, Adam {v['LR']} cosine-decayed, elastic p {v['ELASTIC_P']}, "
        f"tile {v['TILE']}, one torch thread; grey-threshold baseline Dice "
        f"{threshold:.3f}; {v['_executed']}, whole run {v['_seconds']:.0f} s"
        + ("; " + ", ".join(stand_in) if stand_in else "")
    )

    def dice(name):
        return h[name]["held_out_dice"][-1]

    def seconds(name):
        return h[name]["seconds"][-1]

    def notes(name):
        d = h[name]["held_out_dice"]
        by_epoch = ", ".join(
            f"{e}:{d[e - 1]:.3f}" for e in range(1, len(d) + 1) if e % 5 == 0 or e == len(d)
        )
        return (
            f"IoU {h[name]['held_out_iou'][-1]:.3f}, {h[name]['step'][-1]} steps; "
            f"Dice by epoch {by_epoch}"
        )

    return [
        {
            "benchmark": "segmentation",
            "metric": "held-out membrane Dice, U-Net from scratch",
            "value": round(dice(SCRATCH), 4),
            "target": "reported",
            "passed": None,
            "seconds": round(seconds(SCRATCH), 1),
            "notes": f"{notes(SCRATCH)}; depth {v['DEPTH']}; {common}",
        },
        {
            "benchmark": "segmentation",
            "metric": "held-out membrane Dice, U-Net with MobileNetV2 encoder",
            "value": round(dice(PRE), 4),
            "target": "reported",
            "passed": None,
            "seconds": round(seconds(PRE), 1),
            "notes": (
                f"{notes(PRE)}; weights {v['mobilenet_weights']}, stages {v['ENCODER_STAGES']}"
            ),
        },
        {
            "benchmark": "segmentation",
            "metric": "Dice gain of the pretrained encoder (pretrained - scratch)",
            "value": round(dice(PRE) - dice(SCRATCH), 4),
            "target": ">= 0 (pretrained >= scratch)",
            "passed": dice(PRE) >= dice(SCRATCH) and not stand_in,
            "seconds": round(seconds(SCRATCH) + seconds(PRE), 1),
            "notes": "both models: the same crops in the same order, the same epochs",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
