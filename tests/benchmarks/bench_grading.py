"""Grader throughput: 40 copies of a homework with --jobs 2 against --jobs 1, and the
grader's own overhead per submission (wall time minus the kernel's cell time)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from course_utils.grading import Limits, grade

ROOT = Path(__file__).resolve().parents[2]
COPIES = int(os.environ.get("BENCH_GRADING_COPIES", "40"))
HOMEWORK = os.environ.get("BENCH_GRADING_SOURCE",
                          str(ROOT / "homeworks/01_bow_tfidf/01_bow_tfidf.source.ipynb"))


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
            results = grade(source, [subs], Path(tmp) / f"out{jobs}", jobs=jobs,
                            limits=Limits(cell_timeout=300), force=True, progress=False)
            walls[jobs] = time.perf_counter() - start
            scores = {r.score for r in results}
            overhead = sum(r.seconds - r.cell_seconds for r in results) / len(results)
            cells = sum(r.cell_seconds for r in results) / len(results)
            rows.append({"metric": f"{COPIES} submissions, --jobs {jobs}: wall seconds",
                         "value": round(walls[jobs], 1), "seconds": walls[jobs],
                         "notes": f"{source.name}; scores {sorted(scores)}; "
                                  f"mean cell time {cells:.1f} s per submission"})
            rows.append({"metric": f"grader overhead per submission (--jobs {jobs})",
                         "value": round(overhead, 2),
                         "notes": "wall time minus the kernel's cell time: sandbox and "
                                  "kernel start, hook resets, bookkeeping"})
        rows.append({"metric": "speed-up of --jobs 2 over --jobs 1",
                     "value": round(walls[1] / walls[2], 2), "target": "> 1 on 2 cores",
                     "passed": walls[1] / walls[2] > 1.0})
    return rows
