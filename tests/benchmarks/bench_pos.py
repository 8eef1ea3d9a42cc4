"""BiLSTM PoS tagger with GloVe-initialised embeddings and character BiLSTM features
(notebook nlp/06), trained on Brown with the universal tagset.

The same model as ``notebooks/nlp/06_pos_tagging.source.ipynb`` in full mode, written compactly:
all 57,340 Brown sentences, 10% held out (same seeded shuffle), word embeddings from
GloVe-50 (100,000 words in the mirror) fine-tuned, a character BiLSTM (24-d characters,
32 per direction) per distinct word form of a batch, a word BiLSTM of 128 per direction,
dropout 0.33, Adam 2e-3 halved after every epoch, batches of 64 sentences of similar length.

To stay within about 20 minutes on 2 CPU cores, training stops after ``EPOCHS`` epochs
or when the next epoch would pass ``TRAIN_BUDGET_S`` (estimated from the epochs so far),
whichever comes first; the number of epochs done is in the notes. Rows: held-out Brown
token accuracy (target >= 0.97), UD English-EWT test token accuracy (UPOS mapped to the
12 universal tags with the notebook's Brown-aligned mapping) and the wall time.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_utils import data
from course_utils.config import seed_everything

SEED = 0
EPOCHS = 5
TRAIN_BUDGET_S = float(os.environ.get("BENCH_POS_BUDGET_S", 15 * 60))
LIMIT = int(os.environ.get("BENCH_POS_LIMIT", 0)) or None  # smoke tests only: fewer sentences
BATCH = 64
HIDDEN, CHAR_DIM, CHAR_HIDDEN, DROPOUT, LR = 128, 24, 32, 0.33, 2e-3
PAD, UNK = 0, 1
UPOS_BROWN = {
    "PROPN": "NOUN",
    "AUX": "VERB",
    "CCONJ": "CONJ",
    "SCONJ": "ADP",
    "PART": "PRT",
    "INTJ": "PRT",
    "SYM": "X",
    "PUNCT": ".",
}


class Tagger(nn.Module):
    def __init__(self, emb, n_chars, n_tags):
        super().__init__()
        self.word = nn.Embedding.from_pretrained(
            torch.as_tensor(emb), freeze=False, padding_idx=PAD
        )
        self.char_emb = nn.Embedding(n_chars, CHAR_DIM, padding_idx=PAD)
        self.char_lstm = nn.LSTM(CHAR_DIM, CHAR_HIDDEN, batch_first=True, bidirectional=True)
        self.lstm = nn.LSTM(
            emb.shape[1] + 2 * CHAR_HIDDEN, HIDDEN, batch_first=True, bidirectional=True
        )
        self.drop = nn.Dropout(DROPOUT)
        self.out = nn.Linear(2 * HIDDEN, n_tags)

    def forward(self, words, lengths, chars, char_lengths, form_index):
        packed = pack_padded_sequence(
            self.char_emb(chars), char_lengths, batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.char_lstm(packed)
        x = torch.cat([self.word(words), torch.cat([h[0], h[1]], 1)[form_index]], -1)
        packed = pack_padded_sequence(self.drop(x), lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(
            self.lstm(packed)[0], batch_first=True, total_length=words.shape[1]
        )
        return self.out(self.drop(out))


def run() -> list[dict]:
    wall = time.perf_counter()
    torch.set_num_threads(
        1
    )  # LSTMs with small batches: one thread is as fast and does not fight other jobs
    brown = data.load("brown", tagset="universal", limit=LIMIT)
    order = np.random.default_rng(SEED).permutation(len(brown))
    n_held = int(round(0.1 * len(brown)))
    held = [brown[i] for i in order[:n_held]]
    train = [brown[i] for i in order[n_held:]]
    tags = sorted({t for s in brown for _, t in s})
    ttoi = {t: i for i, t in enumerate(tags)}
    glove = data.load("glove-wiki-gigaword-50")
    counts = Counter(w.lower() for s in train for w, _ in s)
    itos = ["<pad>", "<unk>"] + sorted(counts, key=lambda w: (-counts[w], w))
    itos += [w for w in glove.index_to_key if w not in counts]
    stoi = {w: i for i, w in enumerate(itos)}
    ctoi = {c: i + 2 for i, c in enumerate(sorted({c for s in train for w, _ in s for c in w}))}
    emb = (
        np.random.default_rng(SEED)
        .normal(0, glove.vectors.std(), (len(itos), 50))
        .astype(np.float32)
    )
    known = np.array([w in glove.key_to_index for w in itos])
    emb[known] = glove[[w for w, k in zip(itos, known) if k]]
    emb[PAD] = 0

    def batchify(sents):
        lengths = torch.tensor([len(s) for s in sents])
        words = torch.zeros(len(sents), int(lengths.max()), dtype=torch.long)
        target = torch.full_like(words, -100)
        index = torch.zeros_like(words)
        forms: dict[str, int] = {}
        for i, s in enumerate(sents):
            words[i, : len(s)] = torch.tensor([stoi.get(w.lower(), UNK) for w, _ in s])
            target[i, : len(s)] = torch.tensor([ttoi.get(t, -100) for _, t in s])
            index[i, : len(s)] = torch.tensor([forms.setdefault(w, len(forms)) for w, _ in s])
        clen = torch.tensor([min(len(f), 20) for f in forms])
        chars = torch.zeros(len(forms), int(clen.max()), dtype=torch.long)
        for j, f in enumerate(forms):
            chars[j, : clen[j]] = torch.tensor([ctoi.get(c, UNK) for c in f[:20]])
        return (words, lengths, chars, clen, index), target

    def batches(sents, size):
        by_len = np.argsort([len(s) for s in sents], kind="stable")
        return [
            batchify([sents[i] for i in by_len[k : k + size]]) for k in range(0, len(sents), size)
        ]

    @torch.no_grad()
    def accuracy(model, batched):
        model.eval()
        ok = n = 0
        for inputs, target in batched:
            pred = model(*inputs).argmax(-1)
            keep = target != -100
            ok += int(((pred == target) & keep).sum())
            n += int(keep.sum())
        return ok / n

    train_b, held_b = batches(train, BATCH), batches(held, 256)
    ud_raw = data.load("ud_english_ewt", split="test")[:LIMIT]
    ud_b = batches([[(w, UPOS_BROWN.get(u, u)) for w, u in s] for s in ud_raw], 256)
    prep_s = time.perf_counter() - wall

    seed_everything(SEED)
    model = Tagger(emb, len(ctoi) + 2, len(tags))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    train_start = time.perf_counter()
    epoch_accs, epoch_secs = [], []
    partial = None
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        model.train()
        for step, k in enumerate(torch.randperm(len(train_b)).tolist()):
            if step % 50 == 0 and time.perf_counter() - train_start > TRAIN_BUDGET_S:
                partial = step / len(train_b)  # out of time in the middle of an epoch
                break
            inputs, target = train_b[k]
            loss = loss_fn(model(*inputs).flatten(0, 1), target.flatten())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        sched.step()
        epoch_accs.append(accuracy(model, held_b))
        epoch_secs.append(time.perf_counter() - t0)
        print(
            f"  epoch {epoch + 1}: held-out {epoch_accs[-1]:.4f} ({epoch_secs[-1]:.0f} s)",
            flush=True,
        )
        elapsed = time.perf_counter() - train_start
        if partial is not None or elapsed + np.mean(epoch_secs) > TRAIN_BUDGET_S:
            break
    train_s = time.perf_counter() - train_start
    brown_acc = epoch_accs[-1]
    ud_acc = accuracy(model, ud_b)
    total_s = time.perf_counter() - wall
    epochs_note = (
        f"{len(epoch_accs) - (partial is not None)} of {EPOCHS} epochs"
        + (f" and {partial:.0%} of the next" if partial is not None else "")
        + (" (stopped by the time budget)" if len(epoch_accs) < EPOCHS else "")
        + f", held-out accuracy per epoch {[round(a, 4) for a in epoch_accs]}, "
        f"{np.mean(epoch_secs):.0f} s per epoch, {torch.get_num_threads()} threads"
    )
    return [
        {
            "benchmark": "pos",
            "metric": "Brown held-out token accuracy (universal tags)",
            "value": round(brown_acc, 4),
            "target": ">= 0.97",
            "passed": brown_acc >= 0.97,
            "seconds": round(train_s, 1),
            "notes": f"{len(train):,} train / {len(held):,} held-out sentences; {epochs_note}",
        },
        {
            "benchmark": "pos",
            "metric": "UD English-EWT test token accuracy (UPOS mapped to 12 tags)",
            "value": round(ud_acc, 4),
            "target": "reported",
            "passed": None,
            "seconds": None,
            "notes": f"{len(ud_raw):,} sentences; SCONJ->ADP and INTJ->PRT as Brown's own mapping, "
            "PROPN->NOUN, AUX->VERB, CCONJ->CONJ, PART->PRT, SYM->X, PUNCT->'.'; "
            "not/n't, possessive pronouns and existential 'there' differ by convention",
        },
        {
            "benchmark": "pos",
            "metric": "wall time (load, train, evaluate)",
            "value": round(total_s, 1),
            "target": "<= 1200 s",
            "passed": total_s <= 1200,
            "seconds": round(total_s, 1),
            "notes": f"data preparation {prep_s:.0f} s, training {train_s:.0f} s "
            f"(budget {TRAIN_BUDGET_S:.0f} s, checked every 50 batches); the machine was shared with other jobs",
        },
    ]


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(row)
