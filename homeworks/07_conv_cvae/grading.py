"""Trusted side of homework 7 (runs in the grader's process, never in the student's kernel).

Data: the mirror has the 10,000 MNIST *test* images only; the notebook holds out the first
2,000 of a ``default_rng(0)`` permutation and trains on the other 8,000. While grading, the
kernel reads a derived copy of the MNIST test files that holds only those 8,000 training
digits (in permutation order, so the notebook's ``x_train`` is unchanged); the held-out
digits never enter the sandbox. Offline (no mirror) both sides use the same generated
stand-in digits, which are public anyway.

Figures, all computed here: the kernel only maps arrays through ``encode_batch(x, y)`` ->
``(mu, log_var)`` and ``decode_batch(z, y)`` -> logits. The grader draws every epsilon and
every prior sample itself and computes the Bernoulli reconstruction, the KL, the label gap and
the class agreement with its own copy of the images and labels.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course_utils import data
from course_utils.tools.grading.trusted import Ladder

N_HELDOUT = 2000
N_DRAWS = 5  # reparameterised samples per held-out image
N_PER_CLASS = 50  # prior samples per requested digit
SEED = 20_251_207  # the grader's draws (epsilon and prior samples)
# Below this a figure on real MNIST is not believable for a model of these digits (the
# reference solution reaches about 94 in full mode): a decoder that remembers the images its
# encoder was just shown could get there.
MIN_BELIEVABLE_NATS = 30.0


@lru_cache(maxsize=1)
def _digits():
    """(x_held, y_held, x_train, y_train, standin, raw images, raw labels, permutation)."""
    mnist = data.load("mnist", split="test")
    standin = mnist.source.startswith("stand-in")
    x = (mnist.images >= 128).astype(np.float32)[:, None]
    y = mnist.labels.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(x))  # the notebook's split
    n_held = min(N_HELDOUT, len(x) // 5)
    held, train = perm[:n_held], perm[n_held:]
    return x[held], y[held], x[train], y[train], standin, mnist.images, mnist.labels, perm


def _standin() -> bool:
    return _digits()[4]


@dataclass
class DigitsLadder(Ladder):
    """A ladder whose small-mode steps differ on the generated stand-in digits."""

    standin: tuple = ()

    def steps(self, small: bool) -> tuple[float, ...]:
        if small and self.standin and _standin():
            return tuple(self.standin)
        return super().steps(small)


def _array(value, shape, what):
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what}: expected numbers, found {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"{what}: expected shape {tuple(shape)}, found {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: not finite")
    return arr


def _encode(session, x, y):
    out = session.call("encode_batch", x, y)
    if type(out) is not list or len(out) != 2:
        raise ValueError("encode_batch must return (mu, log_var)")
    mu = np.asarray(out[0])
    if mu.ndim != 2 or mu.shape[0] != len(x) or not 1 <= mu.shape[1] <= 1024:
        raise ValueError(f"encode: expected mu of shape [{len(x)}, latent], found {mu.shape}")
    return _array(out[0], mu.shape, "mu"), _array(out[1], mu.shape, "log_var")


def _decode(session, z, y):
    return _array(
        session.call("decode_batch", z.astype(np.float32), y), (len(z), 1, 28, 28), "decode logits"
    )


def _neg_elbo(session, x, y, mu, log_var, eps):
    """Per-image negative ELBO for one draw: Bernoulli reconstruction + closed-form KL."""
    z = mu + np.exp(0.5 * log_var) * eps
    logits = _decode(session, z, y).reshape(len(x), -1)
    target = x.reshape(len(x), -1).astype(np.float64)
    rec = (np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))).sum(1)
    kl = 0.5 * (mu**2 + np.exp(log_var) - 1.0 - log_var).sum(1)
    return rec + kl


def _draws(shape):
    rng = np.random.default_rng(SEED)
    return [rng.standard_normal(shape) for _ in range(N_DRAWS)]


def heldout_neg_elbo(session) -> float:
    """Mean over the held-out digits of the negative ELBO with the true labels, averaged
    over N_DRAWS draws of epsilon."""
    x, y = _digits()[:2]
    mu, log_var = _encode(session, x, y)
    value = float(
        np.mean([_neg_elbo(session, x, y, mu, log_var, eps).mean() for eps in _draws(mu.shape)])
    )
    if not _standin() and value < MIN_BELIEVABLE_NATS:
        raise ValueError(
            f"held-out negative ELBO {value:.1f} nats is not believable for MNIST "
            f"(below {MIN_BELIEVABLE_NATS:g}): does decode depend on more than (z, y)?"
        )
    return value


def label_gap(session) -> float:
    """Negative ELBO with wrong labels (the next digit) minus with the true ones, on the
    held-out digits, with the same first draw of epsilon."""
    x, y = _digits()[:2]
    out = []
    for labels in (y, (y + 1) % 10):
        mu, log_var = _encode(session, x, labels)
        out.append(_neg_elbo(session, x, labels, mu, log_var, _draws(mu.shape)[0]).mean())
    return float(out[1] - out[0])


@lru_cache(maxsize=1)
def _classifier():
    """The hidden test's classifier: an MLP trained for 3 epochs on the 8,000 training digits
    (deterministic; trained once per grader process)."""
    import torch
    from torch import nn

    x_train, y_train = _digits()[2:4]
    x = torch.from_numpy(x_train.reshape(len(x_train), -1))
    y = torch.from_numpy(y_train)
    with torch.random.fork_rng(), torch.enable_grad():  # the grader may run with grad disabled
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(0)
        clf = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
        for _ in range(3):
            for idx in torch.randperm(len(x), generator=g).split(100):
                loss = nn.functional.cross_entropy(clf(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return clf.eval()


def class_agreement(session) -> float:
    import torch

    x_held, y_held = _digits()[:2]
    latent = _encode(session, x_held[:2], y_held[:2])[0].shape[1]
    requested = np.repeat(np.arange(10), N_PER_CLASS)
    z = np.random.default_rng(SEED + 1).standard_normal((len(requested), latent))
    logits = _decode(session, z, requested)
    images = torch.sigmoid(torch.from_numpy(logits.astype(np.float32))).reshape(len(requested), -1)
    with torch.no_grad():
        predicted = _classifier()(images).argmax(1).numpy()
    return float(np.mean(predicted == requested))


LADDERS = {
    "heldout_elbo": DigitsLadder(
        heldout_neg_elbo,
        small=(210.0, 190.0),
        full=(115.0, 100.0),
        standin=(90.0, 80.0),
        metric="held-out negative ELBO (nats)",
        lower_is_better=True,
    ),
    "conditional_likelihood": DigitsLadder(
        label_gap,
        small=(5.0,),
        full=(5.0,),
        standin=(1.0,),
        metric="wrong-label minus true-label negative ELBO (nats)",
    ),
    "conditional_samples": DigitsLadder(
        class_agreement,
        small=(0.6,),
        full=(0.6,),
        standin=(0.15,),
        metric="agreement with the requested digit",
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
    standin, images, labels, perm = digits[4:]
    if standin:
        return  # the grader has no MNIST either: the kernel generates the same stand-in
    train = perm[min(N_HELDOUT, len(images) // 5) :]
    view.file("mnist", "test_images", data=_idx(images[train]))
    view.file("mnist", "test_labels", data=_idx(labels[train]))
