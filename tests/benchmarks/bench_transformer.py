"""AG News with a pretrained encoder (notebook nlp/08) next to the RNN (notebook nlp/02).

Same rows for every model: the 4,000 labelled rows of the course's AG News subset
(its train + validation splits) for training, its 2,000 test rows for evaluation.

1. frozen ``sentence-transformers/all-MiniLM-L6-v2``: mean-pooled last hidden states
   (padding masked out), standardised, scikit-learn logistic regression;
2. the same encoder fine-tuned end to end with a linear head on the mean-pooled
   vector: AdamW (encoder 5e-5, head 1e-3, weight decay 0.01), linear warm-up (10%)
   and decay, gradient clipping at 1, batches of 32 texts grouped by length;
3. a bidirectional GRU over word embeddings learned from scratch (max + mean pooling
   over the real tokens, notebook 02's final recipe) trained on the same rows.

Texts are cut at ``MAX_LEN`` word pieces (64: 90% of the texts are shorter). Needs the
MiniLM weights (``COURSE_DATA`` mirror, ``HF_HOME`` cache or the Hub) and the subset
(mirror or download); full mode only.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from course_utils import config, data
from course_utils.pretrained import MINILM, load_transformer
from course_utils.text import PadCollate, Vocab, tokenize

SEED = 0
MAX_LEN = 64
BATCH = 32
FT_EPOCHS = 2
FT_LR, HEAD_LR, WARMUP = 5e-5, 1e-3, 0.1
RNN_EPOCHS = 8


def mean_pool(hidden, mask):
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def length_batches(lengths, batch_size, rng, shuffle):
    """Index batches of texts of similar length (less padding); batch order shuffled."""
    order = np.argsort(lengths, kind="stable")
    if shuffle:  # sort within random chunks of 50 batches so that epochs differ
        perm = rng.permutation(len(lengths))
        chunks = [perm[i : i + 50 * batch_size] for i in range(0, len(perm), 50 * batch_size)]
        order = np.concatenate(
            [c[np.argsort(np.asarray(lengths)[c], kind="stable")] for c in chunks]
        )
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class Classifier(nn.Module):
    def __init__(self, encoder, n_classes):
        super().__init__()
        self.encoder, self.dropout = encoder, nn.Dropout(0.1)
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(mean_pool(h, attention_mask)))


class BiGRU(nn.Module):
    def __init__(self, vocab_size, n_classes, emb=128, hidden=128, dropout=0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden, n_classes)

    def forward(self, ids, lengths):
        x = self.dropout(self.embedding(ids))
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = nn.utils.rnn.pad_packed_sequence(
            self.rnn(packed)[0], batch_first=True, total_length=ids.shape[1]
        )
        mask = (torch.arange(ids.shape[1], device=ids.device)[None] < lengths[:, None]).unsqueeze(
            -1
        )
        pooled = torch.cat(
            [
                out.masked_fill(~mask, float("-inf")).amax(1),
                (out * mask).sum(1) / lengths[:, None].to(out.dtype),
            ],
            1,
        )
        return self.head(self.dropout(pooled))


def rnn_accuracy(train_df, test_df, dev) -> tuple[float, float]:
    from course_utils.train import fit, predict

    config.seed_everything(SEED)
    vocab = Vocab(Counter(t for text in train_df.text for t in tokenize(text)), min_freq=2)

    def loader(df, shuffle):
        items = [
            (vocab.encode(tokenize(t)) or [vocab.unk_index], y) for t, y in zip(df.text, df.label)
        ]
        return DataLoader(
            items, batch_size=32, shuffle=shuffle, collate_fn=PadCollate(0, max_len=128)
        )

    model = BiGRU(len(vocab), 4)
    start = time.perf_counter()
    fit(
        model,
        loader(train_df, True),
        nn.CrossEntropyLoss(),
        torch.optim.Adam(model.parameters(), lr=3e-3),
        RNN_EPOCHS,
        grad_clip=1.0,
        seed=SEED,
        progress=False,
        device=dev,
    )
    seconds = time.perf_counter() - start
    pred, target = predict(model, loader(test_df, False), device=dev)
    return float((pred == target).mean()), seconds


def run() -> list[dict]:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from transformers import get_linear_schedule_with_warmup

    os.environ.pop("COURSE_SMALL", None)
    # all cores, or one thread when other work already fills them (threads that wait
    # for each other on a busy machine made it several times slower here)
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores if os.getloadavg()[0] < cores else 1)
    dev = config.device()
    train_df = pd.concat(
        [
            data.load("ag_news_subset", split="train"),
            data.load("ag_news_subset", split="validation"),
        ],
        ignore_index=True,
    )
    test_df = data.load("ag_news_subset", split="test")
    y_train, y_test = train_df.label.to_numpy(), test_df.label.to_numpy()
    rows = []
    common = f"train {len(train_df)} rows (subset train+validation), test {len(test_df)} subset test rows"

    # --- RNN from scratch
    acc, secs = rnn_accuracy(train_df, test_df, dev)
    rows.append(
        {
            "benchmark": "transformer",
            "metric": "AG News subset: bi-GRU from scratch, test accuracy",
            "value": round(acc, 4),
            "target": "reference",
            "passed": None,
            "seconds": round(secs, 1),
            "notes": f"{common}; emb 128, hidden 128, {RNN_EPOCHS} epochs, Adam 3e-3, {dev}",
        }
    )
    print(rows[-1], flush=True)

    tokenizer, encoder = load_transformer(MINILM)
    encoder.to(dev)
    enc_train = tokenizer(list(train_df.text), truncation=True, max_length=MAX_LEN)
    enc_test = tokenizer(list(test_df.text), truncation=True, max_length=MAX_LEN)
    len_train = [len(x) for x in enc_train["input_ids"]]
    len_test = [len(x) for x in enc_test["input_ids"]]

    def collate(enc, idx):
        feats = [
            {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]}
            for i in idx
        ]
        b = tokenizer.pad(feats, return_tensors="pt")
        return b["input_ids"].to(dev), b["attention_mask"].to(dev)

    @torch.no_grad()
    def features(enc, lengths):
        encoder.eval()
        out = np.zeros((len(lengths), encoder.config.hidden_size), dtype=np.float32)
        for idx in length_batches(lengths, 128, None, shuffle=False):
            ids, mask = collate(enc, idx)
            out[idx] = (
                mean_pool(encoder(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
                .cpu()
                .numpy()
            )
        return out

    # --- frozen features + logistic regression
    start = time.perf_counter()
    f_train, f_test = features(enc_train, len_train), features(enc_test, len_test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000)).fit(
        f_train, y_train
    )
    frozen = float((clf.predict(f_test) == y_test).mean())
    rows.append(
        {
            "benchmark": "transformer",
            "metric": "AG News subset: frozen MiniLM-L6 mean pooling + logistic regression, test accuracy",
            "value": round(frozen, 4),
            "target": ">= bi-GRU",
            "passed": frozen >= acc,
            "seconds": round(time.perf_counter() - start, 1),
            "notes": f"{common}; max_length {MAX_LEN}; C=0.1 on standardised features; {dev}",
        }
    )
    print(rows[-1], flush=True)

    # --- fine-tuning
    config.seed_everything(SEED)
    model = Classifier(encoder, 4).to(dev)
    opt = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": FT_LR},
            {"params": model.head.parameters(), "lr": HEAD_LR},
        ],
        weight_decay=0.01,
    )
    rng = np.random.default_rng(SEED)
    n_steps = FT_EPOCHS * math.ceil(len(train_df) / BATCH)
    sched = get_linear_schedule_with_warmup(opt, int(WARMUP * n_steps), n_steps)
    loss_fn = nn.CrossEntropyLoss()
    labels = torch.as_tensor(np.array(y_train))
    start = time.perf_counter()
    losses = []
    for epoch in range(FT_EPOCHS):
        model.train()
        for idx in length_batches(len_train, BATCH, rng, shuffle=True):
            ids, mask = collate(enc_train, idx)
            loss = loss_fn(model(ids, mask), labels[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        print(
            f"fine-tuning epoch {epoch + 1}: mean loss {np.mean(losses[-len(train_df) // BATCH :]):.4f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    train_secs = time.perf_counter() - start
    model.eval()
    pred = np.zeros(len(test_df), dtype=np.int64)
    with torch.no_grad():
        for idx in length_batches(len_test, 128, None, shuffle=False):
            pred[idx] = model(*collate(enc_test, idx)).argmax(1).cpu().numpy()
    tuned = float((pred == y_test).mean())
    rows.append(
        {
            "benchmark": "transformer",
            "metric": "AG News subset: fine-tuned MiniLM-L6 + linear head, test accuracy",
            "value": round(tuned, 4),
            "target": ">= frozen features",
            "passed": tuned >= frozen,
            "seconds": round(train_secs, 1),
            "notes": (
                f"{common}; {FT_EPOCHS} epochs x {math.ceil(len(train_df) / BATCH)} steps of {BATCH}, "
                f"max_length {MAX_LEN}, AdamW {FT_LR:g}/{HEAD_LR:g}, warm-up {WARMUP:g}, "
                f"last-epoch mean loss {np.mean(losses[-len(train_df) // BATCH :]):.4f}; {dev}"
            ),
        }
    )
    print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
