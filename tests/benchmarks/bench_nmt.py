"""GRU encoder-decoder with additive attention on Multi30k de->en (notebook nlp/04).

The architecture of ``notebooks/nlp/04_seq2seq_nmt.source.ipynb`` (bidirectional GRU encoder,
Bahdanau attention, GRU decoder fed the previous word and the context), sized so that a
full training run fits a 2-core CPU:

* a *deep output* layer: ``tanh(W [s; c; y])`` maps the decoder state, the context and
  the previous word's embedding to the embedding size, and the output projection reuses
  the target embedding matrix (weight tying, Press & Wolf 2017). The softmax over the
  ~6,000-word vocabulary is the most expensive part of training; tying cuts its input
  from 3h + e to e and acts as a regulariser on 29,000 sentences;
* the projection is applied only to real (non-pad) target positions, and batches are
  made of sentences of similar length (less padding);
* label smoothing 0.1; Adam 2e-3, halved when validation BLEU stops improving; the
  epoch with the best validation BLEU (greedy) is kept.

Rows: test2016 corpus BLEU (sacrebleu on lower-cased regex tokens, ``tokenize="none"``)
with greedy decoding and with beam search (beam 5, GNMT length penalty 0.6) on all
1,000 test sentences, and the training time. Target: BLEU >= 30 (the PyTorch tutorial
with this architecture: 28.3).

Environment: ``BENCH_NMT_EPOCHS`` (default 10), ``BENCH_NMT_HIDDEN`` (256),
``BENCH_NMT_BUDGET_S`` (training stops after this many seconds, checked after every
batch; default none on a GPU, 6000 on a CPU; a stopped run says so in its notes),
``BENCH_NMT_THREADS`` (CPU threads, default 1: two threads spin on a shared 2-core CPU).
Needs the data (``COURSE_DATA`` mirror or a network); full mode, no stand-in.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_utils import data
from course_utils.config import device, seed_everything
from course_utils.text import Vocab, corpus_bleu, pad_collate, tokenize
from course_utils.text.decoding import beam_search

CFG = dict(
    emb=256,
    hidden=int(os.environ.get("BENCH_NMT_HIDDEN", 256)),
    dropout=0.3,
    label_smoothing=0.1,
    lr=2e-3,
    batch=64,
    epochs=int(os.environ.get("BENCH_NMT_EPOCHS", 10)),
    min_freq=2,
    beam=5,
    alpha=0.6,
    max_decode=50,
)
PAD = 0


class Encoder(nn.Module):
    def __init__(self, vocab, emb, hid, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.rnn = nn.GRU(emb, hid, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hid, hid)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_len):
        packed = pack_padded_sequence(
            self.dropout(self.embedding(src)), src_len.cpu(), batch_first=True, enforce_sorted=False
        )
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return self.dropout(out), torch.tanh(self.bridge(torch.cat([h[0], h[1]], -1)))


class AttnDecoder(nn.Module):
    def __init__(self, vocab, emb, hid, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.W_k = nn.Linear(2 * hid, hid, bias=False)
        self.W_q = nn.Linear(hid, hid)
        self.v = nn.Linear(hid, 1, bias=False)
        self.cell = nn.GRUCell(emb + 2 * hid, hid)
        self.deep_out = nn.Linear(3 * hid + emb, emb)
        self.out_bias = nn.Parameter(torch.zeros(vocab))
        self.dropout = nn.Dropout(dropout)

    def step(self, token, s, keys, enc_out, mask):
        """One decoder step: the features that predict the next word, and the new state."""
        x = self.dropout(self.embedding(token))
        scores = self.v(torch.tanh(keys + self.W_q(s).unsqueeze(1))).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
        context = torch.bmm(weights.unsqueeze(1), enc_out).squeeze(1)
        s = self.cell(torch.cat([x, context], -1), s)
        return torch.cat([s, context, x], -1), s

    def logits(self, features):
        """Deep output, projected with the (tied) target embedding matrix."""
        return F.linear(
            self.dropout(torch.tanh(self.deep_out(features))), self.embedding.weight, self.out_bias
        )


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, emb, hid, dropout):
        super().__init__()
        self.encoder = Encoder(src_vocab, emb, hid, dropout)
        self.decoder = AttnDecoder(tgt_vocab, emb, hid, dropout)

    def start(self, src, src_len):
        enc_out, s = self.encoder(src, src_len)
        return s, (self.decoder.W_k(enc_out), enc_out, src != PAD)

    def forward(self, src, src_len, tgt_in, keep):
        """Logits of the target positions selected by the boolean mask ``keep``."""
        s, memory = self.start(src, src_len)
        features = []
        for t in range(tgt_in.shape[1]):
            f, s = self.decoder.step(tgt_in[:, t], s, *memory)
            features.append(f)
        return self.decoder.logits(torch.stack(features, 1)[keep])


def run() -> list[dict]:
    dev = device()
    on_gpu = dev.type == "cuda"
    if not on_gpu:
        torch.set_num_threads(int(os.environ.get("BENCH_NMT_THREADS", 1)))
    budget = float(os.environ.get("BENCH_NMT_BUDGET_S", "0" if on_gpu else "6000")) or math.inf
    seed_everything(0)

    def prep(split):
        pairs = [(tokenize(de), tokenize(en)) for de, en in data.load("multi30k", split=split)]
        return [(de, en) for de, en in pairs if de and en]

    train, valid, test = prep("train"), prep("valid"), prep("test2016")
    sv = Vocab(Counter(t for de, _ in train for t in de), min_freq=CFG["min_freq"])
    tv = Vocab(Counter(t for _, en in train for t in en), min_freq=CFG["min_freq"])

    def batch(pairs):
        src, src_len, _ = pad_collate([(sv.encode(de, add_eos=True), 0) for de, _ in pairs])
        tgt, _, _ = pad_collate([(tv.encode(en, add_bos=True, add_eos=True), 0) for _, en in pairs])
        return src.to(dev), src_len, tgt[:, :-1].to(dev), tgt[:, 1:].to(dev)

    def strip(ids):
        ids = ids[: ids.index(tv.eos_index)] if tv.eos_index in ids else ids
        return tv.decode(ids, skip_specials=True)

    @torch.no_grad()
    def greedy(model, pairs):
        model.eval()
        hyps = []
        for i in range(0, len(pairs), 500):
            src, src_len, _, _ = batch(pairs[i : i + 500])
            s, memory = model.start(src, src_len)
            tok = torch.full((len(src),), tv.bos_index, device=dev)
            steps = []
            for _ in range(CFG["max_decode"]):
                f, s = model.decoder.step(tok, s, *memory)
                tok = model.decoder.logits(f).argmax(-1)
                steps.append(tok)
                if (torch.stack(steps, 1) == tv.eos_index).any(1).all():
                    break
            hyps += [strip(r) for r in torch.stack(steps, 1).tolist()]
        return hyps

    @torch.no_grad()
    def beam(model, pairs):
        model.eval()
        hyps = []
        for de, en in pairs:
            src, src_len, _, _ = batch([(de, en)])

            def step(prev, state):
                s, memory = state
                f, s = model.decoder.step(torch.tensor([prev[-1]], device=dev), s, *memory)
                return torch.log_softmax(model.decoder.logits(f)[0], -1), (s, memory)

            best = beam_search(
                step,
                tv.bos_index,
                tv.eos_index,
                beam_size=CFG["beam"],
                max_len=CFG["max_decode"],
                state=model.start(src, src_len),
                alpha=CFG["alpha"],
            )[0]
            hyps.append(tv.decode(best.tokens, skip_specials=True))
        return hyps

    model = Seq2Seq(len(sv), len(tv), CFG["emb"], CFG["hidden"], CFG["dropout"]).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    rng = random.Random(0)
    start = time.perf_counter()
    best_bleu, best_state, batches, epochs_done, capped, log = -1.0, None, 0, 0.0, False, []
    for epoch in range(1, CFG["epochs"] + 1):
        if time.perf_counter() - start > budget:  # the budget ran out during the last validation
            capped = True
            break
        model.train()
        # sentences of similar source length together, batches in random order
        order = sorted(range(len(train)), key=lambda i: (len(train[i][0]), rng.random()))
        chunks = [order[i : i + CFG["batch"]] for i in range(0, len(order), CFG["batch"])]
        rng.shuffle(chunks)
        total = 0.0
        for b, chunk in enumerate(chunks):  # noqa: B007 (b is read after the loop)
            src, src_len, tgt_in, tgt_out = batch([train[i] for i in chunk])
            keep = tgt_out != PAD
            logits = model(src, src_len, tgt_in, keep)
            loss = F.cross_entropy(logits, tgt_out[keep], label_smoothing=CFG["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item()
            batches += 1
            if time.perf_counter() - start > budget:
                capped = True
                break
        epochs_done = epoch - 1 + (b + 1) / len(chunks)
        vb = corpus_bleu(greedy(model, valid), [en for _, en in valid])
        log.append(f"epoch {epochs_done:.2f}: loss {total / (b + 1):.3f} valid BLEU {vb:.2f}")
        print(
            "  nmt",
            log[-1],
            f"lr {opt.param_groups[0]['lr']:.0e}",
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        sched.step(vb)
        if vb > best_bleu:
            best_bleu, best_state = (
                vb,
                {k: v.detach().clone() for k, v in model.state_dict().items()},
            )
        if capped:
            break
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    refs = [en for _, en in test]
    t0 = time.perf_counter()
    g_bleu = corpus_bleu(greedy(model, test), refs)
    greedy_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    b_bleu = corpus_bleu(beam(model, test), refs)
    beam_seconds = time.perf_counter() - t0
    hw = (
        torch.cuda.get_device_name(0)
        if on_gpu
        else f"CPU, {torch.get_num_threads()} torch thread(s)"
    )
    cap = (
        f"STOPPED by the {budget:.0f} s budget after {epochs_done:.2f} of {CFG['epochs']} epochs; "
        if capped
        else f"{epochs_done:.0f} epochs; "
    )
    settings = (
        f"best validation BLEU {best_bleu:.2f}; emb {CFG['emb']}, bi-GRU/GRU {CFG['hidden']}, deep output "
        f"tied to the target embeddings, dropout {CFG['dropout']}, label smoothing "
        f"{CFG['label_smoothing']}, batch {CFG['batch']}, {n_params / 1e6:.1f}M parameters, vocab "
        f"{len(sv)} de / {len(tv)} en (min_freq {CFG['min_freq']}); {hw}"
    )
    return [
        {
            "benchmark": "nmt",
            "metric": "Multi30k test2016 BLEU, GRU + additive attention, greedy",
            "value": round(g_bleu, 2),
            "target": ">= 30",
            "passed": g_bleu >= 30,
            "seconds": round(greedy_seconds, 1),
            "notes": cap
            + f"all {len(test)} test sentences; lower-cased regex tokens, sacrebleu tokenize=none; "
            + settings
            + "; "
            + " | ".join(log[-3:]),
        },
        {
            "benchmark": "nmt",
            "metric": f"Multi30k test2016 BLEU, GRU + additive attention, beam {CFG['beam']} (alpha {CFG['alpha']})",
            "value": round(b_bleu, 2),
            "target": ">= 30",
            "passed": b_bleu >= 30,
            "seconds": round(beam_seconds, 1),
            "notes": cap + f"all {len(test)} test sentences; " + settings,
        },
        {
            "benchmark": "nmt",
            "metric": "Multi30k attention model: training seconds",
            "value": round(train_seconds, 1),
            "target": "",
            "passed": None,
            "seconds": round(train_seconds, 1),
            "notes": cap + f"{batches} batches; " + settings,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
