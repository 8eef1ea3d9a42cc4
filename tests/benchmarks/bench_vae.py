"""Variational autoencoder on binarised MNIST (notebook vision/05).

The same model family as ``notebooks/vision/05_vae.source.ipynb``: an MLP encoder gives
``mu, log_var`` of a diagonal Gaussian q(z|x), a sample ``z = mu + sigma * eps``
(the reparameterisation trick) goes through an MLP decoder that gives the logits of
784 independent Bernoulli pixels, and the loss is the negative ELBO
``-log p(x|z) + KL(q(z|x) || N(0, I))`` in nats per image.

Data: the data mirror has only the 10,000 MNIST *test* images, so the model trains on
8,000 of them and the 2,000 others (a fixed, seeded, class-balanced-by-chance split,
the same as the notebook's) are held out. Binarisation: a **static threshold**
(pixel >= 128 -> 1), so every image is one fixed binary vector. The usual published
figures (about 85-95 nats for a VAE) train on the 60,000 training images, with
stochastically binarised or fixed-binarised data; our 8,000 images overfit sooner,
so the model is regularised by early stopping on 500 of the 8,000 training images, within
a training time budget (``TIME_BUDGET``) that keeps the benchmark under ~15 minutes.

Rows: held-out negative ELBO (nats, target <= 100) with a single-sample estimate
averaged over 10 draws; and an importance-weighted estimate of -log p(x)
(IWAE bound with k samples), which is tighter than the ELBO.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import data
from course_utils.config import seed_everything

N_HELDOUT = 2000
N_VALID = 500  # taken from the 8,000 training images, for early stopping
LATENT = 32
HIDDEN = 512
EPOCHS = 60  # upper bound; early stopping and TIME_BUDGET usually end it first
TIME_BUDGET = 720  # seconds of training (wall) on the shared 2-core machine
BATCH = 100
LR = 1e-3
WARMUP = 10  # epochs of linear KL warm-up (beta 0 -> 1)
IWAE_K = 200


def split_mnist(seed: int = 0):
    """Binarised MNIST test images split 8,000 / 2,000 by a seeded permutation."""
    mnist = data.load("mnist", split="test")
    x = torch.from_numpy((mnist.images >= 128).astype(np.float32)).flatten(1)
    perm = np.random.default_rng(seed).permutation(len(x))
    held, train = perm[:N_HELDOUT], perm[N_HELDOUT:]
    return (
        x[train],
        torch.from_numpy(mnist.labels[train]),
        x[held],
        torch.from_numpy(mnist.labels[held]),
    )


class VAE(nn.Module):
    def __init__(self, d_in=784, hidden=HIDDEN, latent=LATENT):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, d_in),
        )

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.log_var(h)

    def forward(self, x):
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        return self.dec(z), mu, log_var


def neg_elbo_terms(x, logits, mu, log_var):
    """Per-image reconstruction (-log p(x|z)) and KL terms, in nats."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1)
    return rec, kl


@torch.no_grad()
def heldout_neg_elbo(model, x, draws: int = 10) -> float:
    model.eval()
    total = 0.0
    for _ in range(draws):
        rec, kl = neg_elbo_terms(x, *model(x))
        total += (rec + kl).mean().item()
    return total / draws


@torch.no_grad()
def iwae_nll(model, x, k: int = IWAE_K, chunk: int = 50) -> float:
    """-log p(x) ~ -log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z|x)."""
    model.eval()
    out = []
    for i in range(0, len(x), chunk):
        xb = x[i : i + chunk]
        mu, log_var = model.encode(xb)
        std = torch.exp(0.5 * log_var)
        z = mu + std * torch.randn(k, *mu.shape)  # [k, B, L]
        log_q = (-0.5 * ((z - mu) / std).pow(2) - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(
            -1
        )
        log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
        logits = model.dec(z)
        log_lik = -F.binary_cross_entropy_with_logits(
            logits, xb.expand(k, -1, -1), reduction="none"
        ).sum(-1)
        log_w = log_lik + log_prior - log_q
        out.append(-(torch.logsumexp(log_w, 0) - math.log(k)))
    return torch.cat(out).mean().item()


def train(x_train, x_valid, epochs=EPOCHS, seed=0, log=print):
    """Adam with KL warm-up; keeps the parameters of the best validation -ELBO
    (checked every 5 epochs from the end of the warm-up)."""
    seed_everything(seed)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    best, best_state, best_epoch, bad = float("inf"), None, 0, 0
    g = torch.Generator().manual_seed(seed)
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        beta = min(1.0, epoch / WARMUP)
        for idx in torch.randperm(len(x_train), generator=g).split(BATCH):
            xb = x_train[idx]
            rec, kl = neg_elbo_terms(xb, *model(xb))
            loss = (rec + beta * kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch >= WARMUP and epoch % 5 == 0:
            v = heldout_neg_elbo(model, x_valid, draws=2)
            if v < best:
                best, best_epoch, bad = v, epoch, 0
                best_state = {k: t.clone() for k, t in model.state_dict().items()}
            else:
                bad += 1
            log(
                f"epoch {epoch}: train -ELBO {loss.item():.1f}, valid -ELBO {v:.2f} (best {best:.2f} @ {best_epoch})"
                f" [{time.time() - start:.0f} s]",
                flush=True,
            )
            if bad >= 6 or time.time() - start > TIME_BUDGET:
                break
    model.load_state_dict(best_state)
    return model, best_epoch


def run() -> list[dict]:
    torch.set_num_threads(1)  # measured faster than 2 threads on the shared, loaded machine
    t0 = time.time()
    x_tr, _, x_held, _ = split_mnist()
    x_valid, x_fit = x_tr[:N_VALID], x_tr[N_VALID:]
    model, best_epoch = train(x_fit, x_valid)
    train_s = time.time() - t0
    torch.manual_seed(1)
    nelbo = heldout_neg_elbo(model, x_held)
    t1 = time.time()
    nll = iwae_nll(model, x_held)
    iwae_s = time.time() - t1
    notes = (
        f"MLP VAE {HIDDEN}-{HIDDEN}, z={LATENT}, Bernoulli decoder; MNIST test images thresholded at 128, "
        f"trained on {len(x_fit)} (+{N_VALID} for early stopping, best epoch {best_epoch}), "
        f"evaluated on {len(x_held)} held-out; KL warm-up {WARMUP} epochs; CPU, 1 thread"
    )
    return [
        dict(
            benchmark="vae",
            metric="MNIST held-out negative ELBO (nats)",
            value=round(nelbo, 2),
            target="<= 100",
            passed=nelbo <= 100,
            seconds=round(train_s, 1),
            notes=notes,
        ),
        dict(
            benchmark="vae",
            metric=f"MNIST held-out -log p(x), IWAE k={IWAE_K} (nats)",
            value=round(nll, 2),
            target="reported",
            passed=None,
            seconds=round(iwae_s, 1),
            notes="importance-weighted bound with the same model; tighter than the ELBO",
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
