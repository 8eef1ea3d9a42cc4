"""Hebrew-to-English transliteration before and after self-critical sequence training
(the solved lesson source ``notebooks/nlp/09_rl_for_seq2seq.source.ipynb``).

The benchmark runs the lesson itself in full mode (``run_lesson``, nothing injected) and
reads its rows from the variables it leaves: the mean edit distance (to the nearest
reading) of greedy decoding on the 700 held-out words after cross-entropy training and
after SCST, beam search after SCST, exact-match rates and the training times.

Needs ``he_translit`` (the ``COURSE_DATA`` mirror, the cache or the network).
"""

from __future__ import annotations

from tests.benchmarks.lessons import run_lesson

NAMES = [
    "ed_before",
    "ed_after",
    "ed_beam",
    "summary",
    "test_words",
    "train_words",
    "EMB",
    "HIDDEN",
    "SUP_EPOCHS",
    "SCST_STEPS",
    "SCST_BATCH",
    "N_SAMPLES",
    "SCST_LR",
    "sup_seconds",
    "scst_seconds",
]


def run() -> list[dict]:
    ns = run_lesson("nlp/09_rl_for_seq2seq", NAMES)
    seconds = ns["_seconds"]
    before, after, beam = ns["ed_before"], ns["ed_after"], ns["ed_beam"]
    exact = ns["summary"]["exact match"]  # the lesson's table, one value per decoder
    n_test, n_train = len(ns["test_words"]), len(ns["train_words"])
    setup = (
        f"{n_train} training words, {n_test} held-out words; GRU {ns['EMB']}/{ns['HIDDEN']} with attention; "
        f"{ns['SUP_EPOCHS']} cross-entropy epochs; {ns['SCST_STEPS']} SCST steps x {ns['SCST_BATCH']} words x "
        f"{ns['N_SAMPLES']} samples, lr {ns['SCST_LR']:g}"
    )
    return [
        {
            "benchmark": "translit",
            "metric": "he->en transliteration: mean edit distance, greedy, after cross-entropy",
            "value": round(before, 4),
            "target": "reference",
            "passed": None,
            "seconds": round(ns["sup_seconds"], 1),
            "notes": f"{setup}; exact match {exact[0]:.3f}",
        },
        {
            "benchmark": "translit",
            "metric": "he->en transliteration: mean edit distance, greedy, after SCST",
            "value": round(after, 4),
            "target": "< after cross-entropy",
            "passed": after < before,
            "seconds": round(ns["scst_seconds"], 1),
            "notes": f"exact match {exact[1]:.3f}; whole notebook {seconds:.0f} s",
        },
        {
            "benchmark": "translit",
            "metric": "he->en transliteration: mean edit distance, beam 4, after SCST",
            "value": round(beam, 4),
            "target": "",
            "passed": None,
            "seconds": None,
            "notes": f"course_utils.text.decoding.beam_search; exact match {exact[2]:.3f}",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
