"""Hebrew-to-English transliteration before and after self-critical sequence training
(the solved lesson source ``notebooks/nlp/09_rl_for_seq2seq.source.ipynb``).

The benchmark *is* the notebook's full mode: its code cells are executed in one
namespace with ``COURSE_SMALL`` unset (figures go to a non-interactive backend), and the
rows are read from the variables it leaves: the mean edit distance (to the nearest
reading) of greedy decoding on the 700 held-out words after cross-entropy training and
after SCST, beam search after SCST, exact-match rates and the training times.

Needs ``he_translit`` (the ``COURSE_DATA`` mirror, the cache or the network).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

NOTEBOOK = (
    Path(__file__).resolve().parents[2] / "notebooks" / "nlp" / "09_rl_for_seq2seq.source.ipynb"
)


def execute_notebook(path: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    nb = nbformat.read(path, as_version=4)
    ns: dict = {"__name__": "__bench__", "display": lambda *a, **k: None}
    plt.show = lambda *a, **k: None
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{path.name}", "exec"), ns)
            plt.close("all")
    return ns


def run() -> list[dict]:
    os.environ.pop("COURSE_SMALL", None)
    start = time.perf_counter()
    ns = execute_notebook(NOTEBOOK)
    seconds = time.perf_counter() - start
    before, after, beam = ns["ed_before"], ns["ed_after"], ns["ed_beam"]
    summary = ns["summary"]
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
            "notes": f"{setup}; exact match {summary['exact match'].iloc[0]:.3f}",
        },
        {
            "benchmark": "translit",
            "metric": "he->en transliteration: mean edit distance, greedy, after SCST",
            "value": round(after, 4),
            "target": "< after cross-entropy",
            "passed": after < before,
            "seconds": round(ns["scst_seconds"], 1),
            "notes": f"exact match {summary['exact match'].iloc[1]:.3f}; whole notebook {seconds:.0f} s",
        },
        {
            "benchmark": "translit",
            "metric": "he->en transliteration: mean edit distance, beam 4, after SCST",
            "value": round(beam, 4),
            "target": "",
            "passed": None,
            "seconds": None,
            "notes": f"course_utils.text.decoding.beam_search; exact match {summary['exact match'].iloc[2]:.3f}",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
