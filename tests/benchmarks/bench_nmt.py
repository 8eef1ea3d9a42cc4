"""GRU encoder-decoder with additive attention on Multi30k de->en (notebook nlp/04).

The same model as ``notebooks/nlp/04_seq2seq_nmt.ipynb`` with its full-mode settings
(all 29,000 training pairs, min_freq 2, embeddings 256, bidirectional GRU encoder and
GRU decoder of 512 units, dropout 0.5, Adam 1e-3, batch 128, gradient clipping 1,
up to 12 epochs, the epoch with the best validation BLEU kept), written compactly.

Rows: test2016 corpus BLEU (sacrebleu on lower-cased regex tokens, ``tokenize="none"``)
with greedy decoding and with beam search (beam 5, GNMT length penalty 0.6), and the
training time. Target: BLEU >= 30 (the PyTorch tutorial with this architecture: 28.3).

Training stops after ``BENCH_NMT_BUDGET_S`` seconds (default 900 on a CPU, none on a
GPU), checked after every batch; a capped run is reported as such and cannot pass.
On a CPU beam search runs on the first ``BENCH_NMT_BEAM_N`` test sentences (default 200).
Needs the data (``COURSE_DATA`` mirror or a network); full mode, no stand-in.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_utils import data
from course_utils.config import device, seed_everything
from course_utils.seq2seq import beam_search
from course_utils.text import Vocab, corpus_bleu, pad_collate, tokenize

CFG = dict(emb=256, hidden=512, dropout=0.5, lr=1e-3, batch=128, epochs=12, min_freq=2,
           beam=5, alpha=0.6, max_decode=50)
PAD = 0


class Encoder(nn.Module):
    def __init__(self, vocab, emb, hid, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.rnn = nn.GRU(emb, hid, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hid, hid)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_len):
        packed = pack_padded_sequence(self.dropout(self.embedding(src)), src_len.cpu(),
                                      batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return out, torch.tanh(self.bridge(torch.cat([h[0], h[1]], -1)))


class AttnDecoder(nn.Module):
    def __init__(self, vocab, emb, hid, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.W_k = nn.Linear(2 * hid, hid, bias=False)
        self.W_q = nn.Linear(hid, hid)
        self.v = nn.Linear(hid, 1, bias=False)
        self.cell = nn.GRUCell(emb + 2 * hid, hid)
        self.out = nn.Linear(3 * hid + emb, vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(self, token, s, keys, enc_out, mask):
        x = self.dropout(self.embedding(token))
        scores = self.v(torch.tanh(keys + self.W_q(s).unsqueeze(1))).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
        context = torch.bmm(weights.unsqueeze(1), enc_out).squeeze(1)
        s = self.cell(torch.cat([x, context], -1), s)
        return self.out(self.dropout(torch.cat([s, context, x], -1))), s


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, emb, hid, dropout):
        super().__init__()
        self.encoder = Encoder(src_vocab, emb, hid, dropout)
        self.decoder = AttnDecoder(tgt_vocab, emb, hid, dropout)

    def start(self, src, src_len):
        enc_out, s = self.encoder(src, src_len)
        return s, (self.decoder.W_k(enc_out), enc_out, src != PAD)

    def forward(self, src, src_len, tgt_in):
        s, memory = self.start(src, src_len)
        logits = []
        for t in range(tgt_in.shape[1]):
            lo, s = self.decoder(tgt_in[:, t], s, *memory)
            logits.append(lo)
        return torch.stack(logits, 1)


def run() -> list[dict]:
    dev = device()
    on_gpu = dev.type == "cuda"
    if not on_gpu:
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    budget = float(os.environ.get("BENCH_NMT_BUDGET_S", "0" if on_gpu else "900")) or math.inf
    beam_n = int(os.environ.get("BENCH_NMT_BEAM_N", "0" if on_gpu else "200")) or None
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
        out = tgt[:, 1:].clone()
        out[out == PAD] = -100
        return src.to(dev), src_len, tgt[:, :-1].to(dev), out.to(dev)

    def strip(ids):
        ids = ids[: ids.index(tv.eos_index)] if tv.eos_index in ids else ids
        return tv.decode(ids, skip_specials=True)

    @torch.no_grad()
    def greedy(model, pairs):
        model.eval()
        hyps = []
        for i in range(0, len(pairs), 256):
            src, src_len, _, _ = batch(pairs[i:i + 256])
            s, memory = model.start(src, src_len)
            tok = torch.full((len(src),), tv.bos_index, device=dev)
            steps = []
            for _ in range(CFG["max_decode"]):
                lo, s = model.decoder(tok, s, *memory)
                tok = lo.argmax(-1)
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
                lo, s = model.decoder(torch.tensor([prev[-1]], device=dev), s, *memory)
                return torch.log_softmax(lo[0], -1), (s, memory)

            best = beam_search(step, tv.bos_index, tv.eos_index, beam_size=CFG["beam"],
                               max_len=CFG["max_decode"], state=model.start(src, src_len), alpha=CFG["alpha"])[0]
            hyps.append(tv.decode(best.tokens, skip_specials=True))
        return hyps

    model = Seq2Seq(len(sv), len(tv), CFG["emb"], CFG["hidden"], CFG["dropout"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=1)
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    best_bleu, best_state, batches, epochs_done, capped, log = -1.0, None, 0, 0.0, False, []
    n_batches = math.ceil(len(train) / CFG["batch"])
    for epoch in range(1, CFG["epochs"] + 1):
        model.train()
        order = torch.randperm(len(train), generator=g).tolist()
        for b in range(n_batches):
            src, src_len, tgt_in, tgt_out = batch([train[i] for i in order[b * CFG["batch"]:(b + 1) * CFG["batch"]]])
            logits = model(src, src_len, tgt_in)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            batches += 1
            if time.perf_counter() - start > budget:
                capped = True
                break
        epochs_done = epoch - 1 + (b + 1) / n_batches
        vb = corpus_bleu(greedy(model, valid), [en for _, en in valid])
        log.append(f"epoch {epochs_done:.2f}: loss {float(loss.detach()):.3f} valid BLEU {vb:.2f}")
        print("  nmt", log[-1], f"{time.perf_counter() - start:.0f} s", flush=True)
        sched.step(vb)
        if vb > best_bleu:
            best_bleu, best_state = vb, {k: v.detach().clone() for k, v in model.state_dict().items()}
        if capped:
            break
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    refs = [en for _, en in test]
    t0 = time.perf_counter()
    g_bleu = corpus_bleu(greedy(model, test), refs)
    beam_pairs = test[:beam_n] if beam_n else test
    b_bleu = corpus_bleu(beam(model, beam_pairs), [en for _, en in beam_pairs])
    g_sub = corpus_bleu(greedy(model, beam_pairs), [en for _, en in beam_pairs]) if beam_n else g_bleu
    eval_seconds = time.perf_counter() - t0
    hw = torch.cuda.get_device_name(0) if on_gpu else f"CPU, {torch.get_num_threads()} threads"
    cap = (f"CAPPED at {budget:.0f} s of training: {epochs_done:.2f} of {CFG['epochs']} epochs "
           f"({batches} batches of {CFG['batch']}), so this is not the full-mode result; "
           if capped else f"{epochs_done:.0f} epochs, best validation BLEU {best_bleu:.2f}; ")
    settings = (f"emb {CFG['emb']}, bi-GRU/GRU {CFG['hidden']}, dropout {CFG['dropout']}, vocab "
                f"{len(sv)} de / {len(tv)} en (min_freq {CFG['min_freq']}); {hw}")
    rows = [
        {"benchmark": "nmt", "metric": "Multi30k test2016 BLEU, GRU + additive attention, greedy",
         "value": round(g_bleu, 2), "target": ">= 30", "passed": (not capped) and g_bleu >= 30,
         "seconds": round(train_seconds, 1),
         "notes": cap + f"all {len(test)} test sentences; lower-cased regex tokens, sacrebleu tokenize=none; "
                  + settings + "; " + " | ".join(log[-3:])},
        {"benchmark": "nmt",
         "metric": f"Multi30k test2016 BLEU, GRU + additive attention, beam {CFG['beam']} (alpha {CFG['alpha']})",
         "value": round(b_bleu, 2), "target": ">= 30",
         "passed": (not capped) and beam_n is None and b_bleu >= 30,
         "seconds": round(eval_seconds, 1),
         "notes": cap + (f"beam on the first {beam_n} test sentences only (greedy on the same: {g_sub:.2f}); "
                         if beam_n else f"all {len(test)} test sentences; ") + settings},
        {"benchmark": "nmt", "metric": "Multi30k attention model: training seconds", "value": round(train_seconds, 1),
         "target": "", "passed": None, "seconds": round(train_seconds, 1),
         "notes": cap + f"{batches} batches; " + settings},
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
