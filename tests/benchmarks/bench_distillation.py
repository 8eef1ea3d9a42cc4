"""Knowledge distillation on CIFAR-10 (notebook vision/03), full size.

The same recipe as ``notebooks/vision/03_knowledge_distillation.source.ipynb``, written
compactly:

1. a VGG-style teacher (4 conv layers, ~240k parameters) trained on the 50,000
   training images with random crops and flips; its weights and its logits on
   the (un-augmented) training images are cached under ``COURSE_CACHE`` so that a
   rerun trains it only once;
2. a small student (3 conv layers, ~24k parameters) trained from scratch with
   cross-entropy;
3. the same student (same initialisation, same batch order, same epochs)
   trained with ``alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE``
   against the cached teacher logits.

Students see no augmentation, so that the cached teacher logits match their
inputs exactly. Rows: teacher accuracy, both students' test accuracy (mean over
the seeds) and the gain; target: distilled >= scratch + 1 point.

Sizes can be lowered for a quick check with environment variables:
``KD_TEACHER_EPOCHS``, ``KD_STUDENT_EPOCHS``, ``KD_SEEDS`` (e.g. ``0,1``),
``KD_THREADS``, ``KD_LIMIT`` (a smoke test on fewer images). A run below the
default sizes is labelled SHORT RUN in its notes and its target is not assessed.
``KD_JOBS=2`` trains the students in two processes at a time (same results,
about half the wall time on two cores).
Defaults: teacher 15 epochs (as the notebook's full mode), students 10 epochs,
seeds 0 and 1, one torch thread per process (on a shared 2-core CPU two threads
spin and run several times slower). Measured on a quiet 2-core EPYC: the teacher
about 55 s an epoch with ``KD_THREADS=2`` (15 min in all, once), a student about
27 s an epoch on one thread; ``KD_JOBS=2`` then runs all four students in 10 min.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import config, data
from course_utils.config import seed_everything

TEACHER_EPOCHS = int(os.environ.get("KD_TEACHER_EPOCHS", 15))  # as notebook vision/03
STUDENT_EPOCHS = int(os.environ.get("KD_STUDENT_EPOCHS", 10))
SEEDS = [int(s) for s in os.environ.get("KD_SEEDS", "0,1").split(",")]
THREADS = int(os.environ.get("KD_THREADS", 1))  # 2 threads spin and lose on a shared CPU
JOBS = int(os.environ.get("KD_JOBS", 1))  # student runs in parallel processes
LIMIT = int(os.environ.get("KD_LIMIT", 0)) or None  # smoke test only: fewer images
BATCH = 128
T, ALPHA = 4.0, 0.9
MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def log(msg: str) -> None:
    print(f"[distillation {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def block(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


def make_teacher() -> nn.Module:
    return nn.Sequential(
        *block(3, 32),
        nn.MaxPool2d(2),
        *block(32, 64),
        nn.MaxPool2d(2),
        *block(64, 128),
        *block(128, 128),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, 10),
    )


def make_student() -> nn.Module:
    return nn.Sequential(
        *block(3, 16),
        nn.MaxPool2d(2),
        *block(16, 32),
        nn.MaxPool2d(2),
        *block(32, 64),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def to_tensor(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)
    return ((x - MEAN) / STD).contiguous()


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random crop (4-pixel zero padding) and horizontal flip, per image."""
    n = len(x)
    padded = F.pad(x, (4, 4, 4, 4))
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits_of(model, x).argmax(1) == y).float().mean())


def kd_loss(student_logits, teacher_logits, target, temperature=T, alpha=ALPHA):
    """alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, target)."""
    kl = F.kl_div(
        F.log_softmax(student_logits / temperature, 1),
        F.log_softmax(teacher_logits / temperature, 1),
        reduction="batchmean",
        log_target=True,
    )
    return alpha * temperature**2 * kl + (1 - alpha) * F.cross_entropy(student_logits, target)


def train(
    model, x, y, epochs, seed, *, teacher_logits=None, aug=False, name="", x_test=None, y_test=None
):
    """SGD + one-cycle schedule; the batch order depends only on ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    steps = epochs * ((len(x) + BATCH - 1) // BATCH)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.25)
    curve = []
    for epoch in range(epochs):
        model.train()
        start, total, n = time.perf_counter(), 0.0, 0
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            xb, yb = x[idx], y[idx]
            if aug:
                xb = augment(xb, gen)
            out = model(xb)
            loss = (
                F.cross_entropy(out, yb)
                if teacher_logits is None
                else kd_loss(out, teacher_logits[idx], yb)
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        acc = accuracy(model, x_test, y_test) if x_test is not None else float("nan")
        curve.append(acc)
        log(
            f"{name} epoch {epoch + 1}/{epochs}: loss {total / n:.4f}, test acc {acc:.4f}, "
            f"{time.perf_counter() - start:.0f} s"
        )
    return curve


def teacher_cache_path(n_train: int):
    tag = hashlib.sha1(f"v1-{TEACHER_EPOCHS}-{n_train}".encode()).hexdigest()[:10]
    folder = config.cache_dir() / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"distillation_teacher_{tag}.pt"


def load_or_train_teacher(x, y, x_test, y_test):
    """The teacher and its logits on the training images: from the cache, or trained."""
    path = teacher_cache_path(len(x))
    teacher = make_teacher()
    t1 = time.perf_counter()
    if path.exists():
        state = torch.load(path)
        teacher.load_state_dict(state["model"])
        log(f"teacher loaded from {path}")
        return teacher, state["train_logits"], state["seconds"], state.get("threads")
    seed_everything(1234)
    teacher = make_teacher()
    train(
        teacher, x, y, TEACHER_EPOCHS, 1234, aug=True, name="teacher", x_test=x_test, y_test=y_test
    )
    train_logits = logits_of(teacher, x)
    seconds = time.perf_counter() - t1
    tmp = path.with_suffix(".tmp")
    threads = torch.get_num_threads()
    torch.save(
        {
            "model": teacher.state_dict(),
            "train_logits": train_logits,
            "seconds": seconds,
            "threads": threads,
        },
        tmp,
    )
    os.replace(tmp, path)  # atomic: an interrupted run leaves no half-written cache
    return teacher, train_logits, seconds, threads


def load_cifar():
    t0 = time.perf_counter()
    train_set = data.load("cifar10", split="train", limit=LIMIT)
    test_set = data.load("cifar10", split="test", limit=LIMIT and LIMIT // 5)
    x, y = to_tensor(train_set.images), torch.from_numpy(train_set.labels).long()
    x_test, y_test = to_tensor(test_set.images), torch.from_numpy(test_set.labels).long()
    log(f"data: {len(x)} train, {len(x_test)} test ({time.perf_counter() - t0:.0f} s)")
    return x, y, x_test, y_test


def train_student(seed, kind, x, y, x_test, y_test, train_logits):
    """One student run; returns (test accuracy, seconds)."""
    t0 = time.perf_counter()
    seed_everything(seed)
    student = make_student()
    train(
        student,
        x,
        y,
        STUDENT_EPOCHS,
        seed,
        name=f"{kind} seed {seed}",
        teacher_logits=train_logits if kind == "distilled" else None,
        x_test=x_test,
        y_test=y_test,
    )
    return accuracy(student, x_test, y_test), time.perf_counter() - t0


def student_in_subprocess(seed: int, kind: str):
    """``train_student`` in a new process (the teacher must be in the cache already)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run(
            [sys.executable, __file__, "--student", str(seed), kind, str(out)], check=True
        )
        result = json.loads(out.read_text())
    return result["accuracy"], result["seconds"]


def run() -> list[dict]:
    torch.set_num_threads(THREADS)
    t0 = time.perf_counter()
    x, y, x_test, y_test = load_cifar()

    # 1. the teacher, trained once and cached
    teacher, train_logits, teacher_seconds, teacher_threads = load_or_train_teacher(
        x, y, x_test, y_test
    )
    teacher_acc = accuracy(teacher, x_test, y_test)
    log(f"teacher test accuracy {teacher_acc:.4f}")

    # 2./3. the student from scratch and distilled, same init, same order, same epochs
    runs = [(seed, kind) for seed in SEEDS for kind in ("scratch", "distilled")]
    if JOBS > 1:  # each run in its own process with THREADS threads, JOBS at a time
        with ThreadPoolExecutor(JOBS) as pool:
            outcomes = list(pool.map(lambda run: student_in_subprocess(*run), runs))
    else:
        outcomes = [
            train_student(seed, kind, x, y, x_test, y_test, train_logits) for seed, kind in runs
        ]
    results = {"scratch": [], "distilled": []}
    for (_seed, kind), (acc, _) in zip(runs, outcomes):
        results[kind].append(acc)
    student_seconds = sum(seconds for _, seconds in outcomes)
    scratch, distilled = np.mean(results["scratch"]), np.mean(results["distilled"])
    gain = 100 * (distilled - scratch)
    n_teacher = sum(p.numel() for p in make_teacher().parameters())
    n_student = sum(p.numel() for p in make_student().parameters())
    per_seed = ", ".join(
        f"seed {s}: {100 * a:.2f} vs {100 * b:.2f}"
        for s, a, b in zip(SEEDS, results["scratch"], results["distilled"])
    )
    short = LIMIT is not None or TEACHER_EPOCHS < 15 or STUDENT_EPOCHS < 10
    size = (
        f"SHORT RUN: {len(x)} train / {len(x_test)} test images, teacher {TEACHER_EPOCHS} epochs; "
        if short
        else f"{len(x)} train / {len(x_test)} test images; "
    )
    common = size + (
        f"{STUDENT_EPOCHS} epochs, batch {BATCH}, SGD one-cycle, no augmentation, "
        f"{len(SEEDS)} seed(s); T={T:g}, alpha={ALPHA:g}; student {n_student} params; "
        f"{THREADS} torch thread(s) x {JOBS} process(es)"
    )
    return [
        {
            "benchmark": "distillation",
            "metric": "CIFAR-10 teacher test accuracy",
            "value": round(teacher_acc, 4),
            "target": "",
            "passed": None,
            "seconds": teacher_seconds,
            "notes": size + f"VGG-style, {n_teacher} params, {TEACHER_EPOCHS} epochs, crop+flip; "
            f"trained with {teacher_threads or '?'} torch thread(s), cached in COURSE_CACHE",
        },
        {
            "benchmark": "distillation",
            "metric": "CIFAR-10 student from scratch: test accuracy",
            "value": round(float(scratch), 4),
            "target": "",
            "passed": None,
            "seconds": student_seconds / 2,
            "notes": common,
        },
        {
            "benchmark": "distillation",
            "metric": "CIFAR-10 distilled student: test accuracy",
            "value": round(float(distilled), 4),
            "target": "",
            "passed": None,
            "seconds": student_seconds / 2,
            "notes": common,
        },
        {
            "benchmark": "distillation",
            "metric": "distilled minus scratch student (points, CIFAR-10 test)",
            "value": round(float(gain), 2),
            "target": ">= 1 point" + (" (full size; not assessed on a short run)" if short else ""),
            "passed": None if short else bool(gain >= 1.0),
            "seconds": time.perf_counter() - t0,
            "notes": size + per_seed,
        },
    ]


def main(argv: list[str]) -> None:
    if argv[:1] == ["--student"]:  # a worker of student_in_subprocess
        seed, kind, out = int(argv[1]), argv[2], Path(argv[3])
        torch.set_num_threads(THREADS)
        x, y, x_test, y_test = load_cifar()
        _, train_logits, _, _ = load_or_train_teacher(x, y, x_test, y_test)
        acc, seconds = train_student(seed, kind, x, y, x_test, y_test, train_logits)
        out.write_text(json.dumps({"accuracy": acc, "seconds": seconds}))
        return
    for row in run():
        print(row)


if __name__ == "__main__":
    main(sys.argv[1:])
