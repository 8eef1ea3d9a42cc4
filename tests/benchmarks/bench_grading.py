"""Grader throughput: 40 copies of a homework with --jobs 2 against --jobs 1, and the
grader's own overhead per submission (wall time minus the kernel's cell time), with the
time of the integrity snapshot and restores and of the trusted checks (judging the sent
values, evaluating the ladders) per submission."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from course_utils.tools.grading import Limits, grade

ROOT = Path(__file__).resolve().parents[2]
COPIES = int(os.environ.get("BENCH_GRADING_COPIES", "40"))
# Measured with the grader before trusted checks (commit c14e93c: in-kernel hidden tests,
# the unshare deny-list sandbox), 6 copies of the then homework 01, on the same machine,
# 2026-12-06, by the same code as below.
BEFORE = {
    1: {"wall": 45.8, "overhead": 0.85, "cells": 6.8},
    2: {"wall": 24.2, "overhead": 0.88, "cells": 7.2},
}
HOMEWORK = os.environ.get(
    "BENCH_GRADING_SOURCE", str(ROOT / "homeworks/01_bow_tfidf/01_bow_tfidf.source.ipynb")
)


def run() -> list[dict]:
    os.environ["COURSE_SMALL"] = "1"
    source = Path(HOMEWORK)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for i in range(COPIES):
            shutil.copy(source, subs / f"student{i:02d}.ipynb")
        walls = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            results = grade(
                source,
                [subs],
                Path(tmp) / f"out{jobs}",
                jobs=jobs,
                limits=Limits(cell_timeout=300),
                force=True,
                progress=False,
            )
            walls[jobs] = time.perf_counter() - start
            scores = {r.score for r in results}
            overhead = sum(r.seconds - r.cell_seconds for r in results) / len(results)
            cells = sum(r.cell_seconds for r in results) / len(results)
            rows.append(
                {
                    "metric": f"{COPIES} submissions, --jobs {jobs}: wall seconds",
                    "value": round(walls[jobs], 1),
                    "seconds": walls[jobs],
                    "notes": f"{source.name}; scores {sorted(scores)}; "
                    f"mean cell time {cells:.1f} s per submission",
                }
            )
            rows.append(
                {
                    "metric": f"grader overhead per submission (--jobs {jobs})",
                    "value": round(overhead, 2),
                    "notes": "wall time minus the kernel's cell time: sandbox and "
                    "kernel start, bookkeeping; before trusted checks (c14e93c): "
                    f"{BEFORE[jobs]['overhead']} s",
                }
            )
            integrity = sum(r.integrity_seconds for r in results) / len(results)
            trusted = sum(r.check_seconds for r in results) / len(results)
            rows.append(
                {
                    "metric": f"integrity snapshot + restores per submission (--jobs {jobs})",
                    "value": round(integrity, 2),
                    "notes": "part of the cell time: imports and checks the libraries "
                    "tests rely on, before the first answer and every test",
                }
            )
            rows.append(
                {
                    "metric": f"trusted checks per submission (--jobs {jobs})",
                    "value": round(trusted, 2),
                    "target": "<= 1 s",
                    "passed": trusted <= 1.0,
                    "notes": "judging the values hidden tests sent and evaluating the "
                    "ladders (the student's predict included)",
                }
            )
        rows.append(
            {
                "metric": "speed-up of --jobs 2 over --jobs 1",
                "value": round(walls[1] / walls[2], 2),
                "target": "> 1 on 2 cores",
                "passed": walls[1] / walls[2] > 1.0,
            }
        )
    return rows
