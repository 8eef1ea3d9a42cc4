"""BiLSTM part-of-speech tagger with GloVe-initialised word embeddings and character BiLSTM
features (lesson nlp/06), measured by running the lesson itself (``tests/benchmarks/
lessons.py``): the figures are the lesson's own variables.

The lesson trains on all 57,340 Brown sentences with the 12 universal tags (10 % held out
by a seeded shuffle; it asserts the 57,340 in full mode): word embeddings from GloVe-50
(the 100,000 words of the mirror) fine-tuned, a character BiLSTM (24-d characters, 32 per
direction) per distinct word form of a batch, a word BiLSTM of 128 per direction, dropout
0.33, Adam 2e-3 halved after every epoch, gradient norm clipped at 5, batches of 64
sentences of similar length, on a CPU (the benchmark environment's OMP_NUM_THREADS=1 gives
torch one thread; the notes quote the lesson's own line). It then trains the same tagger
without the character features (the ablation) and tags the UD English-EWT test set.

The lesson runs in its full mode, nothing injected: 5 epochs and a 2-epoch ablation,
about 60 s an epoch with characters on one thread at a light load (a shared machine at
load 8 takes several times longer). The lesson's full-mode checks run: held-out Brown >=
0.96 (the course threshold; the lesson prints whether 0.97 was reached), UD EWT >= 0.80.

Rows: held-out Brown token accuracy (target >= 0.97; seconds: the lesson's training cell,
per-epoch held-out evaluation included) and UD English-EWT test token accuracy with the
lesson's Brown-aligned UPOS mapping. The old compact copy also had a row "wall time (load,
train, evaluate) <= 1200 s" of its own copy; the lesson does not measure its wall time, so
that row is gone (the whole run's time is in the notes).
"""

from __future__ import annotations

from tests.benchmarks.lessons import cell_seconds, executed_cell, run_lesson

NAMES = [
    "brown_accuracy",
    "ud_accuracy",
    "held_loader_accuracy",
    "noun_share",
    "n_held",
    "TAGS",
    "EPOCHS",
    "ABLATION_EPOCHS",
    "N_SENTENCES",
    "N_UD",
    "GLOVE_LIMIT",
    "HIDDEN",
    "CHAR_DIM",
    "CHAR_HIDDEN",
    "DROPOUT",
    "BATCH_SIZE",
    "LR",
]
TRAIN_CELL = "optimizer = torch.optim.Adam(model.parameters(), lr=LR)"
ABLATION_CELL = "no_chars = build(use_chars=False)"
PARAMETERS_CELL = "import inspect"  # it prints "device cpu, N CPU thread(s)"


def _epochs(cell) -> list[dict]:
    """The per-epoch table the training cell displays (``history.to_frame().round(4)``)."""
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    lines = result.data["text/plain"].splitlines()
    columns = lines[0].split()
    return [dict(zip(columns, map(float, line.split()[1:]))) for line in lines[2:]]


def run() -> list[dict]:
    v = run_lesson("nlp/06_pos_tagging", NAMES)
    train = executed_cell(v["_executed"], TRAIN_CELL)
    train_s = cell_seconds(v["_executed"], TRAIN_CELL)
    ablation_s = cell_seconds(v["_executed"], ABLATION_CELL)
    epochs = _epochs(train)
    printed = "".join(
        o.get("text", "") for o in executed_cell(v["_executed"], PARAMETERS_CELL).outputs
    ).strip()
    glove_words = "100,000" if v["GLOVE_LIMIT"] is None else f"{v['GLOVE_LIMIT']:,}"
    n_all = 57_340 if v["N_SENTENCES"] is None else v["N_SENTENCES"]
    per_epoch = ", ".join(f"{e['eval_accuracy']:.4f}" for e in epochs)
    secs = ", ".join(f"{e['seconds']:.0f}" for e in epochs)
    where = (
        f"lesson nlp/06 in full mode, nothing injected; {v['_executed']}, whole run "
        f"{v['_seconds']:.0f} s"
    )
    return [
        {
            "benchmark": "pos",
            "metric": "Brown held-out token accuracy (universal tags)",
            "value": round(v["brown_accuracy"], 4),
            "target": ">= 0.97",
            "passed": v["brown_accuracy"] >= 0.97,
            "seconds": round(train_s, 1),
            "notes": (
                f"{n_all - v['n_held']:,} train / {v['n_held']:,} held-out sentences, "
                f"{len(v['TAGS'])} tags; {v['EPOCHS']} epochs, held-out accuracy per epoch "
                f"[{per_epoch}], seconds per epoch [{secs}] (evaluation included); word BiLSTM "
                f"{v['HIDDEN']}, chars {v['CHAR_DIM']}-d / {v['CHAR_HIDDEN']}, dropout "
                f"{v['DROPOUT']}, batch {v['BATCH_SIZE']}, Adam {v['LR']} halved per epoch, "
                f"GloVe-50 ({glove_words} words); the lesson printed '{printed}'; always-NOUN "
                f"{v['noun_share']:.4f}; ablation without characters: "
                f"{v['ABLATION_EPOCHS']} epoch(s), {ablation_s:.0f} s; {where}"
            ),
        },
        {
            "benchmark": "pos",
            "metric": "UD English-EWT test token accuracy (UPOS mapped to 12 tags)",
            "value": round(v["ud_accuracy"], 4),
            "target": "reported (>= 0.80: the lesson's check)",
            "passed": None,
            "seconds": None,
            "notes": (
                f"{'all 2,077' if v['N_UD'] is None else v['N_UD']} test sentences, the lesson's "
                "Brown-aligned mapping: SCONJ->ADP and INTJ->PRT as Brown's own mapping, "
                "PROPN->NOUN, AUX->VERB, CCONJ->CONJ, PART->PRT, SYM->X, PUNCT->'.'; "
                "not/n't, possessive pronouns and existential 'there' differ by convention; "
                f"the tagger of the row above ({v['EPOCHS']} epochs)"
            ),
        },
    ]


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(row)
