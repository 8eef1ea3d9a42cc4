"""Transfer learning on CIFAR-10 cats vs dogs (notebook vision/01) and `course classify` speed.

The pipeline of ``notebooks/vision/01_transfer_learning.source.ipynb`` at a larger size:

1. all 10,000 CIFAR-10 training cats and dogs written as PNG files to a class-folder
   tree (``course_utils.vision.images.write_image_folder``), split 90/10 (stratified, seed 0)
   into train.csv / val.csv, read back with ``CsvImageDataset``; the 2,000 test cats
   and dogs are written too and used only for the test rows;
2. preprocessing: Resize to ``IMAGE_SIZE``, ToImage/ToDtype, Normalize with the
   ImageNet statistics of the weights; MobileNetV2 (IMAGENET1K_V1 from the mirror);
3. feature extraction: one forward pass of the frozen backbone caches the pooled
   1280-d features and the activations after ``features[:14]`` (both kept under
   COURSE_CACHE, so a rerun skips this step); a new 2-class linear head is trained on
   the features with Adam, keeping the epoch of best validation accuracy;
4. fine-tuning: ``features[14:]`` and the head, starting from that head, trained on
   the cached block-14 activations (the frozen blocks are in eval mode, so this is
   exact) with Adam lr 1e-4 for ``FT_EPOCHS`` epochs, best validation epoch kept;
5. the fine-tuned model saved with ``save_classifier`` and ``course classify`` (the
   CLI's main function, in-process) timed on a folder of ``N_CLASSIFY`` test PNGs.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

IMAGE_SIZE = 96
FT_FROM_BLOCK = 14
HEAD_EPOCHS = 30
FT_EPOCHS = 2
N_CLASSIFY = 1000
CLASSES = ["cat", "dog"]
THREADS = 1


def _extract(model, dataset, batch_size=200):
    acts, feats, labels = [], [], []
    model.eval()
    with torch.no_grad():
        for xb, yb in DataLoader(dataset, batch_size=batch_size, num_workers=0):
            a = model.features[:FT_FROM_BLOCK](xb)
            feats.append(model.features[FT_FROM_BLOCK:](a).mean(dim=(2, 3)))
            acts.append(a.half())  # half precision halves the cache; fine-tuning casts back
            labels.append(yb)
    return torch.cat(acts), torch.cat(feats), torch.cat(labels)


def _accuracy(net, x, y, batch_size=500):
    net.eval()
    with torch.no_grad():
        pred = torch.cat(
            [net(x[i : i + batch_size].float()).argmax(1) for i in range(0, len(x), batch_size)]
        )
    return (pred == y).float().mean().item()


def run() -> list[dict]:
    from torchvision.transforms import v2
    from tqdm import tqdm

    from course_utils import config, data
    from course_utils.pretrained import load_torchvision
    from course_utils.tools import cli
    from course_utils.vision.classify import save_classifier
    from course_utils.vision.images import CsvImageDataset, split_folder_to_csv, write_image_folder

    torch.set_num_threads(THREADS)
    config.seed_everything(0)
    t_all = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench_transfer_"))
    try:
        train_set = data.load("cifar10", split="train").of_classes(CLASSES)
        test_set = data.load("cifar10", split="test").of_classes(CLASSES)
        write_image_folder(train_set, work / "train")
        write_image_folder(test_set, work / "test")
        train_csv, val_csv = split_folder_to_csv(
            work / "train", work / "splits", val_fraction=0.1, seed=0
        )
        model, weights = load_torchvision("mobilenet_v2")
        mean, std = weights.transforms().mean, weights.transforms().std
        transform = v2.Compose(
            [
                v2.Resize((IMAGE_SIZE, IMAGE_SIZE), antialias=True),
                v2.ToImage(),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(mean, std),
            ]
        )
        test_csv = work / "test.csv"
        test_csv.write_text(
            "path,label\n"
            + "".join(
                f"{p},{c}\n" for c in CLASSES for p in sorted((work / "test" / c).glob("*.png"))
            )
        )
        sets = {
            "train": CsvImageDataset(train_csv, transform),
            "val": CsvImageDataset(val_csv, transform, classes=CLASSES),
            "test": CsvImageDataset(test_csv, transform, classes=CLASSES),
        }
        model.classifier[1] = nn.Linear(1280, 2)

        # ---- 1. features, cached
        cache = (
            config.cache_dir() / "bench_transfer" / f"features-{IMAGE_SIZE}-{len(sets['train'])}.pt"
        )
        t0 = time.perf_counter()
        if cache.exists():
            feats = torch.load(cache, weights_only=True)
            feat_note = f"features loaded from {cache}"
        else:
            feats = {}
            for name, ds in sets.items():
                print(f"extracting {name} ({len(ds)} images)", flush=True)
                feats[name] = _extract(model, ds)
            cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save(feats, cache.with_suffix(".part"))
            os.replace(cache.with_suffix(".part"), cache)
            feat_note = "features extracted"
        t_feat = time.perf_counter() - t0
        n_imgs = sum(len(ds) for ds in sets.values())

        # ---- 2. the head on frozen features (Adam, batch 32, best validation epoch kept)
        t0 = time.perf_counter()
        (_, ftr, ytr), (_, fva, yva), (_, fte, yte) = feats["train"], feats["val"], feats["test"]
        head = nn.Linear(1280, 2)
        opt = torch.optim.Adam(head.parameters(), lr=1e-3)
        loader = DataLoader(TensorDataset(ftr, ytr), batch_size=32, shuffle=True)
        best = (-1.0, 0, None)
        for epoch in range(1, HEAD_EPOCHS + 1):
            head.train()
            for xb, yb in loader:
                loss = nn.functional.cross_entropy(head(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            acc = _accuracy(head, fva, yva)
            if acc > best[0]:
                best = (acc, epoch, copy.deepcopy(head.state_dict()))
        head.load_state_dict(best[2])
        fe_val, fe_epoch = best[0], best[1]
        fe_test = _accuracy(head, fte, yte)
        t_head = time.perf_counter() - t0

        # ---- 3. fine-tune features[14:] + head on the cached activations
        t0 = time.perf_counter()
        model.classifier[1].load_state_dict(head.state_dict())
        top = nn.Sequential(
            model.features[FT_FROM_BLOCK:], nn.AdaptiveAvgPool2d(1), nn.Flatten(), model.classifier
        )
        atr, ava, ate = feats["train"][0], feats["val"][0], feats["test"][0]
        opt = torch.optim.Adam(top.parameters(), lr=1e-4)
        loader = DataLoader(TensorDataset(atr, ytr), batch_size=32, shuffle=True)
        log = [_accuracy(top, ava, yva)]
        best = (log[0], 0, copy.deepcopy(top.state_dict()))
        for epoch in range(1, FT_EPOCHS + 1):
            top.train()
            for xb, yb in tqdm(loader, desc=f"fine-tune epoch {epoch}", mininterval=30):
                loss = nn.functional.cross_entropy(top(xb.float()), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            log.append(_accuracy(top, ava, yva))
            if log[-1] > best[0]:
                best = (log[-1], epoch, copy.deepcopy(top.state_dict()))
        top.load_state_dict(best[2])
        ft_val, ft_epoch = best[0], best[1]
        ft_test = _accuracy(top, ate, yte)
        t_ft = time.perf_counter() - t0

        # ---- 4. save, then `course classify` on N_CLASSIFY test images
        ckpt = save_classifier(
            work / "model.pt", model.eval(), "mobilenet_v2", CLASSES, IMAGE_SIZE, mean=mean, std=std
        )
        folder = work / "to_label"
        folder.mkdir()
        rng = np.random.default_rng(0)
        chosen = [
            sets["test"].paths[i]
            for i in sorted(rng.choice(len(sets["test"]), N_CLASSIFY, replace=False))
        ]
        for p in chosen:
            shutil.copy(p, folder / f"{p.parent.name}_{p.name}")
        t0 = time.perf_counter()
        code = cli.main(
            [
                "classify",
                str(folder),
                "--model",
                str(ckpt),
                "--out",
                str(work / "labels.json"),
                "--batch-size",
                "64",
                "--quiet",
            ]
        )
        t_cls = time.perf_counter() - t0
        labels = json.loads((work / "labels.json").read_text())
        cls_acc = float(np.mean([v["label"] == k.split("_")[0] for k, v in labels.items()]))
        assert code == 0 and len(labels) == N_CLASSIFY
    finally:
        shutil.rmtree(work, ignore_errors=True)

    setup = (
        f"MobileNetV2 IMAGENET1K_V1, {IMAGE_SIZE} px, train/val {len(ytr)}/{len(yva)} "
        f"(all CIFAR-10 train cats+dogs, 90/10 stratified seed 0), test {len(yte)}"
    )
    return [
        {
            "benchmark": "transfer",
            "metric": "feature extraction: validation accuracy",
            "value": round(fe_val, 4),
            "target": "reported",
            "passed": None,
            "seconds": round(t_feat + t_head, 1),
            "notes": f"{setup}; linear head, Adam lr 1e-3 batch 32, best of {HEAD_EPOCHS} epochs "
            f"(epoch {fe_epoch}); {feat_note} for {n_imgs} images in {t_feat:.0f} s",
        },
        {
            "benchmark": "transfer",
            "metric": "feature extraction: test accuracy",
            "value": round(fe_test, 4),
            "target": "reported",
            "passed": None,
            "notes": "head chosen on validation",
        },
        {
            "benchmark": "transfer",
            "metric": "fine-tuning: validation accuracy",
            "value": round(ft_val, 4),
            "target": "reported",
            "passed": None,
            "seconds": round(t_ft, 1),
            "notes": f"features[{FT_FROM_BLOCK}:] + head from the trained head, Adam lr 1e-4 batch 32, "
            f"{FT_EPOCHS} epochs on cached block-{FT_FROM_BLOCK} activations (no augmentation), "
            f"best epoch {ft_epoch}; val accuracy per epoch {[round(a, 4) for a in log]}",
        },
        {
            "benchmark": "transfer",
            "metric": "fine-tuning: test accuracy",
            "value": round(ft_test, 4),
            "target": "reported",
            "passed": None,
            "notes": "best validation epoch",
        },
        {
            "benchmark": "transfer",
            "metric": "course classify: images/s",
            "value": round(N_CLASSIFY / t_cls, 1),
            "target": "reported",
            "passed": None,
            "seconds": round(t_cls, 1),
            "notes": f"{N_CLASSIFY} test PNGs, batch 64, {THREADS} torch threads, checkpoint load included; "
            f"accuracy of its labels {cls_acc:.4f}; whole benchmark {time.perf_counter() - t_all:.0f} s",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
