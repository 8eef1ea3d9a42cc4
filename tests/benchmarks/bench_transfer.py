"""Transfer learning on CIFAR-10 cats vs dogs (lesson vision/01) and `course classify`
speed, measured by running the lesson itself in full mode (``tests/benchmarks/lessons.py``): the
figures are the lesson's own variables.

The lesson writes all 10,000 CIFAR-10 training cats and dogs as PNG files to a
class-folder tree, splits it 90/10 (stratified, seed 0) into train.csv / val.csv, reads
them back with ``CsvImageDataset`` (resize, ImageNet normalisation of the weights) and
replaces the head of MobileNetV2 (IMAGENET1K_V1) by a 2-class one. Feature extraction:
one pass of the frozen backbone caches the pooled 1280-d features and the block-14
activations of the training, validation and 2,000 test images; six linear heads (SGD
with momentum and Adam, batch 8/16/32, ``HEAD_EPOCHS`` each) train on the features and
the best on validation is kept. Fine-tuning: ``features[14:]`` and that head, Adam 1e-4
for both groups, batch 32, on the cached activations, the best validation epoch kept
(patience ``PATIENCE``). The fine-tuned model is saved with ``save_classifier`` and
``course classify`` (the CLI's main function, in-process) labels the 1,000 validation
PNGs.

Everything runs at the lesson's full-mode sizes (all 10,000 + 2,000 images at 128 px, 30
epochs for each of the six heads, at most 15 fine-tuning epochs with patience 3, one torch
thread); nothing is injected. It fits a shared 2-core CPU: the whole lesson took 372 s on
2026-12-07 (1-minute load average 0.3 to 2.1; early stopping after 10 fine-tuning epochs
of about 18 s), and 470 s under a load of 2.6 with the fine-tuning capped at 6 epochs.
The lesson's full-mode checks run on the way: 10,000 / 2,000 images, frozen features > 0.6
on test, fine-tuning within 0.05 of them on validation, fine-tuned test accuracy > 0.8,
the saved checkpoint reproducing the validation accuracy.

Rows: validation and test accuracy of feature extraction (the best head; seconds: the
lesson's feature-extraction cell plus its six head runs, from the executed notebook's
cell timings) and of fine-tuning (seconds: the fine-tuning cell), and ``course classify``
images/s (the lesson's timing, checkpoint load included). The old compact copy
classified 1,000 *test* PNGs at batch 64; the lesson labels its 1,000 validation PNGs at
the command's default batch size, so that row measures that now.
"""

from __future__ import annotations

from tests.benchmarks.lessons import cell_seconds, run_lesson

NAMES = [
    "fe_val_acc",
    "fe_test_acc",
    "ft_val_acc",
    "ft_test_acc",
    "best_name",
    "rows",
    "best_epoch",
    "ft_log",
    "split_sizes",
    "classify_seconds",
    "cli_acc",
    "labels",
    "n_trainable",
    "n_weights",
    "REAL_DATA",
    "PRETRAINED",
    "weights",
    "IMAGE_SIZE",
    "FT_EPOCHS",
    "N_TRAIN_IMAGES",
    "N_TEST_IMAGES",
    "HEAD_EPOCHS",
    "PATIENCE",
    "FT_FROM_BLOCK",
    "FT_LR",
    "HEAD_LR",
]


def run() -> list[dict]:
    v = run_lesson("vision/01_transfer_learning", NAMES)
    executed = v["_executed"]
    extract_s = cell_seconds(executed, "@torch.no_grad()\ndef extract")
    heads_s = cell_seconds(executed, "def feature_loader")
    finetune_s = cell_seconds(executed, "model.classifier[1].load_state_dict(best_head")
    stand_in = []
    if not v["REAL_DATA"]:
        stand_in.append("STAND-IN data")
    if not v["PRETRAINED"]:
        stand_in.append("RANDOM MobileNetV2 weights (stand-in)")
    sizes = v["split_sizes"]
    n_train, n_val = sum(sizes["train"]), sum(sizes["validation"])
    setup = (
        f"lesson vision/01 in full mode, nothing injected; {v['IMAGE_SIZE']} px, MobileNetV2 "
        f"{v['weights']}, train/val {n_train}/{n_val} (all "
        f"{v['N_TRAIN_IMAGES']:,} CIFAR-10 train cats+dogs, 90/10 stratified seed 0), test "
        f"{v['N_TEST_IMAGES']:,}; one torch thread; {executed}, whole run {v['_seconds']:.0f} s"
        + ("; " + ", ".join(stand_in) if stand_in else "")
    )
    best = v["rows"][v["best_name"]]
    val_log = [round(a, 4) for a in v["ft_log"]["val_accuracy"]]
    n_classified = len(v["labels"])
    return [
        {
            "benchmark": "transfer",
            "metric": "feature extraction: validation accuracy",
            "value": round(v["fe_val_acc"], 4),
            "target": "reported",
            "passed": None,
            "seconds": round(extract_s + heads_s, 1),
            "notes": (
                f"{setup}; best of 6 linear heads (SGD momentum 0.01 / Adam 1e-3, batch 8/16/32, "
                f"{v['HEAD_EPOCHS']} epochs each, last epoch kept): {v['best_name']} (its best "
                f"epoch {best['best epoch']}); feature extraction of "
                f"{n_train + n_val + v['N_TEST_IMAGES']:,} images {extract_s:.0f} s, "
                f"head runs {heads_s:.0f} s"
            ),
        },
        {
            "benchmark": "transfer",
            "metric": "feature extraction: test accuracy",
            "value": round(v["fe_test_acc"], 4),
            "target": "> 0.6 (the lesson's check)",
            "passed": v["fe_test_acc"] > 0.6 and not stand_in,
            "notes": "head chosen on validation",
        },
        {
            "benchmark": "transfer",
            "metric": "fine-tuning: validation accuracy",
            "value": round(v["ft_val_acc"], 4),
            "target": "reported",
            "passed": None,
            "seconds": round(finetune_s, 1),
            "notes": (
                f"features[{v['FT_FROM_BLOCK']}:] + head ({v['n_trainable']:,} of "
                f"{v['n_weights']:,} parameters) from the trained head, Adam {v['FT_LR']:g} / "
                f"{v['HEAD_LR']:g}, batch 32, at most {v['FT_EPOCHS']} epochs (patience "
                f"{v['PATIENCE']}) on cached block-{v['FT_FROM_BLOCK']} activations (no "
                f"augmentation), best epoch {v['best_epoch']}; val accuracy per epoch "
                f"(0: before) {val_log}"
            ),
        },
        {
            "benchmark": "transfer",
            "metric": "fine-tuning: test accuracy",
            "value": round(v["ft_test_acc"], 4),
            "target": "> 0.8 (the lesson's check)",
            "passed": v["ft_test_acc"] > 0.8 and not stand_in,
            "notes": "best validation epoch",
        },
        {
            "benchmark": "transfer",
            "metric": "course classify: images/s",
            "value": round(n_classified / v["classify_seconds"], 1),
            "target": "reported",
            "passed": None,
            "seconds": round(v["classify_seconds"], 1),
            "notes": (
                f"{n_classified} validation PNGs ({v['IMAGE_SIZE']} px), the command's default "
                f"batch size (32), one torch thread, in-process, checkpoint load included; "
                f"accuracy of its labels {v['cli_acc']:.4f}"
            ),
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
