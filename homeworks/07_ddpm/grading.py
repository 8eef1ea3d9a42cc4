"""Trusted side of homework 7 (runs in the grader's process, never in the student's kernel).

Data: the mirror has the 10,000 MNIST *test* images only; the notebook holds out the first
2,000 of a ``default_rng(0)`` permutation and trains on the other 8,000. While grading, the
kernel reads a derived copy of the MNIST test files that holds only those 8,000 training
digits (in permutation order, so the notebook's ``x_train`` is unchanged); the held-out
digits never enter the sandbox. Offline (no mirror) both sides use the same generated
stand-in digits, which are public anyway.

The kernel is reached only through the notebook's ``predict_noise(x_t, t)`` (the student's
network in evaluation mode, numpy in, numpy out). Everything else happens here: the
schedule, the held-out noisy images (timesteps and noise drawn from ``SEED``, which the
sandbox cannot read), the denoising error, the ancestral sampler (its starting noise and
every step's noise drawn here too), and the Fréchet distance between the samples and the
held-out digits in the hidden features of a small classifier trained here on the training
digits (the FID idea with an MNIST MLP instead of Inception).

Small mode works on 14x14 digits (2x2 blocks averaged), full mode on 28x28; ``T`` and the
betas are the notebook's constants, which the student must not change for ``model``.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course_utils import data
from course_utils.tools.grading.trusted import Ladder

N_HELDOUT = 2000
T = 100  # the notebook's schedule: linear betas from BETA_START to BETA_END
BETA_START, BETA_END = 1e-3, 0.2
SEED = 0x5EED_D1FF_0507_2026  # the grader's draws; the notebook never uses it
N_SAMPLES = {True: 100, False: 500}  # digits sampled for the Fréchet distance, by SMALL
SAMPLE_STRIDE = {True: 4, False: 1}  # every k-th timestep (respaced in small mode)
CHUNK = 1000  # images per predict_noise call
CLF_EPOCHS, CLF_BATCH, CLF_LR = 6, 500, 5e-3  # the grader's classifier (features)


def _size(small: bool) -> int:
    return 14 if small else 28


@lru_cache(maxsize=1)
def _digits():
    """(raw held-out images, raw training images, raw training labels, standin,
    raw images, raw labels, permutation) of the notebook's split."""
    mnist = data.load("mnist", split="test")
    standin = mnist.source.startswith("stand-in")
    perm = np.random.default_rng(0).permutation(len(mnist.images))  # the notebook's split
    n_held = min(N_HELDOUT, len(perm) // 5)
    held, train = perm[:n_held], perm[n_held:]
    return (
        mnist.images[held],
        mnist.images[train],
        mnist.labels[train].astype(np.int64),
        standin,
        mnist.images,
        mnist.labels,
        perm,
    )


def _standin() -> bool:
    return _digits()[3]


def _images(raw: np.ndarray, size: int) -> np.ndarray:
    """The notebook's preprocessing: [-1, 1], 2x2 blocks averaged for 14x14; [N, 1, s, s]."""
    x = raw.astype(np.float64) / 127.5 - 1.0
    k = x.shape[-1] // size
    if k > 1:
        x = x.reshape(len(x), size, k, size, k).mean(axis=(2, 4))
    return x[:, None]


@lru_cache(maxsize=1)
def _alpha_bars() -> np.ndarray:
    return np.cumprod(1.0 - np.linspace(BETA_START, BETA_END, T))


@dataclass
class DigitsLadder(Ladder):
    """A ladder whose small-mode steps differ on the generated stand-in digits."""

    standin: tuple = ()

    def steps(self, small: bool) -> tuple[float, ...]:
        if small and self.standin and _standin():
            return tuple(self.standin)
        return super().steps(small)


def _predict(session, x_t: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = []
    for i in range(0, len(x_t), CHUNK):
        xs = x_t[i : i + CHUNK]
        eps = np.asarray(
            session.call("predict_noise", xs.astype(np.float32), t[i : i + CHUNK].astype(np.int64))
        )
        if eps.dtype.kind not in "biuf":
            raise TypeError(f"predict_noise: expected numbers, found {eps.dtype}")
        if eps.shape != xs.shape:
            raise ValueError(f"predict_noise: expected shape {xs.shape}, found {eps.shape}")
        eps = eps.astype(np.float64)
        if not np.all(np.isfinite(eps)):
            raise ValueError("predict_noise: not finite")
        out.append(eps)
    return np.concatenate(out)


def heldout_denoising_mse(session) -> float:
    """Mean squared error of the predicted noise on the held-out digits, one timestep and
    one noise per digit, drawn here."""
    x0 = _images(_digits()[0], _size(session.small))
    rng = np.random.default_rng(SEED)
    t = rng.integers(0, T, size=len(x0))
    noise = rng.standard_normal(x0.shape)
    a = _alpha_bars()[t][:, None, None, None]
    x_t = np.sqrt(a) * x0 + np.sqrt(1.0 - a) * noise
    return float(np.mean((_predict(session, x_t, t) - noise) ** 2))


def _sample(session, n: int, size: int, stride: int) -> np.ndarray:
    """Ancestral sampling with the student's network on the timesteps T-1, T-1-stride, ...
    and 0 (respaced for stride > 1: the betas of the sub-chain come from its alpha_bars)."""
    ab = _alpha_bars()
    steps = list(range(T - 1, -1, -stride))
    if steps[-1] != 0:
        steps.append(0)
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((n, 1, size, size))
    for i, t in enumerate(steps):
        ab_prev = ab[steps[i + 1]] if i + 1 < len(steps) else 1.0
        beta = 1.0 - ab[t] / ab_prev
        eps = _predict(session, x, np.full(n, t))
        x = (x - beta / np.sqrt(1.0 - ab[t]) * eps) / np.sqrt(1.0 - beta)
        if i + 1 < len(steps):
            var = beta * (1.0 - ab_prev) / (1.0 - ab[t])
            x = x + np.sqrt(var) * rng.standard_normal(x.shape)
    return np.clip(x, -1.0, 1.0)


@lru_cache(maxsize=2)
def _classifier(size: int):
    """An MLP (64 ReLU hidden units) trained here with Adam on the training digits, in
    numpy (seeded, once per grader process and size, under a second; the grader needs no
    torch for it). Returns its first layer ``(w1, b1)``: the hidden layer is the features."""
    x = _images(_digits()[1], size).reshape(-1, size * size)
    y = _digits()[2]
    rng = np.random.default_rng(0)
    d, h = size * size, 64
    params = [
        rng.uniform(-1, 1, (d, h)) / np.sqrt(d),
        rng.uniform(-1, 1, h) / np.sqrt(d),
        rng.uniform(-1, 1, (h, 10)) / np.sqrt(h),
        rng.uniform(-1, 1, 10) / np.sqrt(h),
    ]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    step = 0
    for _ in range(CLF_EPOCHS):
        for idx in np.array_split(rng.permutation(len(x)), max(1, len(x) // CLF_BATCH)):
            step += 1
            w1, b1, w2, b2 = params
            xb = x[idx]
            hidden = np.maximum(xb @ w1 + b1, 0.0)
            logits = hidden @ w2 + b2
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            prob[np.arange(len(idx)), y[idx]] -= 1.0  # d(mean cross-entropy)/d logits
            dlogits = prob / len(idx)
            dhidden = (dlogits @ w2.T) * (hidden > 0)
            grads = [xb.T @ dhidden, dhidden.sum(0), hidden.T @ dlogits, dlogits.sum(0)]
            for p, g, (m, v) in zip(params, grads, moments):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= CLF_LR * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params


def _features(images: np.ndarray) -> np.ndarray:
    w1, b1 = _classifier(images.shape[-1])[:2]
    return np.maximum(images.reshape(len(images), -1) @ w1 + b1, 0.0)


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((c + c.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Between Gaussians fitted to the rows of a and b:
    |m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2)."""
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    sa = _psd_sqrt(ca)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(sa @ cb @ sa), 0.0, None)).sum()
    return float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2.0 * cross)


def sample_frechet(session) -> float:
    """Fréchet distance, in whitened principal components of the training digits, between
    the digits sampled here with the student's network and the held-out digits."""
    size = _size(session.small)
    samples = _sample(session, N_SAMPLES[session.small], size, SAMPLE_STRIDE[session.small])
    held = _images(_digits()[0], size)
    return frechet_distance(_features(samples), _features(held))


LADDERS = {
    "heldout_denoising": DigitsLadder(
        heldout_denoising_mse,
        small=(0.095, 0.075),
        full=(0.060, 0.045),
        standin=(0.036, 0.033),
        metric="held-out denoising MSE",
        lower_is_better=True,
    ),
    "sample_quality": DigitsLadder(
        sample_frechet,
        small=(35.0,),
        # measured in the grader (2026-12-07): the reference's samples 44.1; the per-pixel
        # Gaussian model's 264 (40, an estimate, failed the reference)
        full=(80.0,),
        standin=(8.0,),
        metric="Fréchet distance of samples to held-out digits (classifier features)",
        lower_is_better=True,
    ),
}


def _idx(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes (the MNIST format), gzipped reproducibly."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return gzip.compress(
        header + np.ascontiguousarray(array, dtype=np.uint8).tobytes(), compresslevel=1, mtime=0
    )


def sandbox_data(view) -> None:
    try:
        digits = _digits()
    except data.DataError:
        return  # full mode without the data: the notebook fails as it would anywhere
    standin, images, labels, perm = digits[3:]
    if standin:
        return  # the grader has no MNIST either: the kernel generates the same stand-in
    train = perm[min(N_HELDOUT, len(images) // 5) :]
    view.file("mnist", "test_images", data=_idx(images[train]))
    view.file("mnist", "test_labels", data=_idx(labels[train]))
