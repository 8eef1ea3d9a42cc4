"""Image captioning on the generated shapes (notebook vision/06): held-out BLEU-4 of
an LSTM decoder started from the pooled image vector ("show and tell") against an
LSTM decoder with additive attention over the 4 x 4 grid ("show, attend and tell").

Features: MobileNetV2 (ImageNet weights from the mirror / TORCH_HOME; random weights,
flagged in the notes, when none are found) cut after block 13, 64-px images ->
96 x 4 x 4 grids, extracted once into a ``course_utils.vision.feature_store`` under
COURSE_CACHE (a rerun reuses them), standardised per channel. Both decoders are
trained with teacher forcing (Adam, 5 captions per image) and scored by corpus
BLEU-4 of greedy captions against the five references of each held-out image.

Sizes: ``BENCH_CAPTION_TRAIN`` (default 5000 images), ``BENCH_CAPTION_TEST`` (500),
``BENCH_CAPTION_EPOCHS`` (4). Run under ``nice -n 10`` with one torch thread.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from course_utils import config
from course_utils.data import StandInWarning
from course_utils.pretrained import load_torchvision
from course_utils.text import Vocab, corpus_bleu, tokenize
from course_utils.text.decoding import greedy_decode
from course_utils.vision.feature_store import FeatureDataset, extract_features
from course_utils.vision.shape_captions import shapes_splits

N_TRAIN = int(os.environ.get("BENCH_CAPTION_TRAIN", 5000))
N_TEST = int(os.environ.get("BENCH_CAPTION_TEST", 500))
EPOCHS = int(os.environ.get("BENCH_CAPTION_EPOCHS", 4))
IMG = 64


def features():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backbone, _ = load_torchvision("mobilenet_v2")
    pretrained = not any(issubclass(w.category, StandInWarning) for w in caught)
    cnn = backbone.features[:14].eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    @torch.no_grad()
    def grid(images):
        x = torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float() / 255
        return cnn((x - mean) / std)

    sets = shapes_splits(n_train=N_TRAIN, n_val=10, n_test=N_TEST, size=IMG, seed=0)
    root = (
        config.cache_dir()
        / "captioning"
        / f"bench_shapes{IMG}_{'imagenet' if pretrained else 'random'}"
    )
    meta = {"model": "mobilenet_v2.features[:14]", "imagenet": pretrained, "size": IMG, "seed": 0}
    stores = {
        s: extract_features(
            grid,
            sets[s].images,
            root / f"{s}_{len(sets[s])}",
            batch_size=100,
            meta=meta,
            overwrite=True,
            progress=False,
        )
        for s in ("train", "test")
    }
    return sets, stores, pretrained


class ShowAndTell(nn.Module):
    def __init__(self, feat_dim, vocab_size, emb=64, hidden=128):
        super().__init__()
        self.init_h, self.init_c = nn.Linear(feat_dim, hidden), nn.Linear(feat_dim, hidden)
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def start(self, feats):
        v = feats.mean(dim=(2, 3))
        return torch.tanh(self.init_h(v))[None], torch.tanh(self.init_c(v))[None]

    def forward(self, feats, tokens):
        return self.out(self.lstm(self.embed(tokens), self.start(feats))[0])

    def step(self, token, state):
        out, state = self.lstm(self.embed(token)[:, None], state)
        return self.out(out[:, 0]), state


class AttendAndTell(nn.Module):
    def __init__(self, feat_dim, vocab_size, emb=64, hidden=128, att=64):
        super().__init__()
        self.init_h, self.init_c = nn.Linear(feat_dim, hidden), nn.Linear(feat_dim, hidden)
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.W_a, self.W_h, self.v = (
            nn.Linear(feat_dim, att, bias=False),
            nn.Linear(hidden, att),
            nn.Linear(att, 1, bias=False),
        )
        self.cell = nn.LSTMCell(emb + feat_dim, hidden)
        self.out = nn.Linear(hidden + feat_dim, vocab_size)

    def start(self, feats):
        grid = feats.flatten(2).transpose(1, 2)
        v = grid.mean(1)
        return torch.tanh(self.init_h(v)), torch.tanh(self.init_c(v)), self.W_a(grid), grid

    def step(self, token, state):
        h, c, keys, grid = state
        alpha = torch.softmax(self.v(torch.tanh(keys + self.W_h(h)[:, None])).squeeze(-1), -1)
        z = torch.bmm(alpha[:, None], grid)[:, 0]
        h, c = self.cell(torch.cat([self.embed(token), z], -1), (h, c))
        return self.out(torch.cat([h, z], -1)), (h, c, keys, grid)

    def forward(self, feats, tokens):
        state, logits = self.start(feats), []
        for t in range(tokens.shape[1]):
            out, state = self.step(tokens[:, t], state)
            logits.append(out)
        return torch.stack(logits, 1)


def run() -> list[dict]:
    torch.set_num_threads(1)
    config.seed_everything(0)
    t0 = time.perf_counter()
    sets, stores, pretrained = features()
    feat_seconds = time.perf_counter() - t0
    f = torch.as_tensor(stores["train"][: min(len(stores["train"]), 2000)]).double()
    mu, sd = (
        f.mean(dim=(0, 2, 3)).float().view(-1, 1, 1),
        f.std(dim=(0, 2, 3)).float().view(-1, 1, 1) + 1e-6,
    )
    vocab = Vocab(Counter(t for caps in sets["train"].captions for c in caps for t in tokenize(c)))
    bos, eos = vocab.bos_index, vocab.eos_index

    class Pairs(Dataset):
        def __init__(self):
            self.feats = FeatureDataset(stores["train"], transform=lambda x: (x - mu) / sd)
            self.pairs = [
                (i, vocab.encode(tokenize(c), add_bos=True, add_eos=True))
                for i, caps in enumerate(sets["train"].captions)
                for c in caps
            ]

        def __len__(self):
            return len(self.pairs)

        def __getitem__(self, k):
            i, ids = self.pairs[k]
            return self.feats[i], ids

    def collate(batch):
        caps = torch.zeros(len(batch), max(len(ids) for _, ids in batch), dtype=torch.long)
        for r, (_, ids) in enumerate(batch):
            caps[r, : len(ids)] = torch.tensor(ids)
        target = caps[:, 1:].clone()
        target[target == 0] = -100
        return torch.stack([x for x, _ in batch]), caps[:, :-1], target

    refs = [[tokenize(c) for c in caps] for caps in sets["test"].captions]
    rows = []
    for name, cls in (
        ("LSTM (pooled vector)", ShowAndTell),
        ("LSTM + attention over the grid", AttendAndTell),
    ):
        torch.manual_seed(0)
        model = cls(stores["train"].feature_shape[0], len(vocab))
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        loader = DataLoader(
            Pairs(),
            batch_size=100,
            shuffle=True,
            collate_fn=collate,
            generator=torch.Generator().manual_seed(0),
        )
        start = time.perf_counter()
        model.train()
        for _ in range(EPOCHS):
            for x, tin, tout in loader:
                logits = model(x, tin)
                loss = F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), tout.reshape(-1), ignore_index=-100
                )
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
        train_seconds = time.perf_counter() - start
        model.eval()

        def step(prev, state, model=model):
            logits, state = model.step(torch.tensor([prev[-1]]), state)
            return torch.log_softmax(logits[0], -1), state

        hyps = []
        with torch.no_grad():
            for i in range(len(stores["test"])):
                state = model.start(((torch.as_tensor(stores["test"][i]) - mu) / sd)[None])
                hyps.append(
                    vocab.decode(
                        greedy_decode(step, bos, eos, max_len=20, state=state).tokens,
                        skip_specials=True,
                    )
                )
        bleu = corpus_bleu(hyps, refs)
        attention = cls is AttendAndTell
        rows.append(
            {
                "benchmark": "captioning",
                "metric": f"shapes held-out BLEU-4, {name}, greedy",
                "value": round(bleu, 2),
                "target": "> LSTM without attention" if attention else "",
                "passed": (bleu > rows[0]["value"]) if attention else None,
                "seconds": round(time.perf_counter() - start, 1),  # training + greedy captioning
                "notes": (
                    f"{N_TRAIN} train images x 5 captions, {N_TEST} held-out images, {EPOCHS} epochs, "
                    f"training {train_seconds:.0f} s, CPU 1 thread; MobileNetV2 grid 96x4x4 "
                    f"({'ImageNet' if pretrained else 'RANDOM stand-in'} weights), feature extraction "
                    f"{feat_seconds:.0f} s (cached in COURSE_CACHE); full-mode GPU result: none (no GPU lent)"
                ),
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
