"""Small-mode runtime of every lesson notebook (target: at most 60 s each).

Each notebook under ``notebooks/`` is executed headless, one after the other, with
``COURSE_SMALL=1`` through the same code as ``course run`` (nbclient, a fresh
kernel per notebook). A row per notebook gives its wall time, kernel start-up
included, and its headline metrics; a last row counts the notebooks over 60 s.
Whether the data mirror was used (``COURSE_DATA``) or stand-ins is in the notes.
The notebooks start from an empty ``COURSE_CACHE`` (as in CI), so decoding and
feature caches are paid for; ``NB_WARM_CACHE=1`` keeps the user's cache instead.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from unittest import mock

from course_utils.tools import notebooks as nbtools

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 60.0
WARM = os.environ.get("NB_WARM_CACHE") == "1"


def log(msg: str) -> None:
    print(f"[notebooks {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run() -> list[dict]:
    notebooks = nbtools.course_notebooks(ROOT)
    if not notebooks:
        raise SystemExit(f"no notebooks found under {ROOT / 'notebooks'}")
    data = (
        f"mirror {os.environ['COURSE_DATA']}"
        if os.environ.get("COURSE_DATA")
        else "no mirror (cache or stand-ins)"
    )
    data += ", warm cache" if WARM else ", empty cache"
    rows, over, failed = [], [], []
    t0 = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as out,
        tempfile.TemporaryDirectory() as cache,
        mock.patch.dict(os.environ, {} if WARM else {"COURSE_CACHE": cache}),
    ):
        # kernels inherit the environment: without NB_WARM_CACHE every notebook sees the empty cache
        for i, path in enumerate(notebooks, 1):
            load = os.getloadavg()[0]
            result = nbtools.execute(path, Path(out), ROOT, timeout=300, small=True)
            rel = str(path.relative_to(ROOT))
            log(f"{i}/{len(notebooks)} {rel}: {result.status}, {result.seconds:.1f} s")
            if result.status != "ok":
                failed.append(rel)
            elif result.seconds > LIMIT_S:
                over.append(rel)
            notes = f"{data}; 1-min load {load:.1f} at the start; " + (
                result.headline or "no headline"
                if result.status == "ok"
                else f"FAILED: {result.error}"
            )
            rows.append(
                {
                    "benchmark": "notebooks",
                    "metric": f"{rel}: small-mode seconds",
                    "value": round(result.seconds, 1),
                    "target": f"<= {LIMIT_S:.0f} s",
                    "passed": result.status == "ok" and result.seconds <= LIMIT_S,
                    "seconds": result.seconds,
                    "notes": notes,
                }
            )
    slowest = max(rows, key=lambda r: r["value"])
    rows.append(
        {
            "benchmark": "notebooks",
            "metric": "notebooks over 60 s or failing (small mode)",
            "value": len(over) + len(failed),
            "target": "0",
            "passed": not over and not failed,
            "seconds": time.perf_counter() - t0,
            "notes": (
                f"{len(notebooks)} notebooks, run one at a time; slowest "
                f"{slowest['metric'].split(':')[0]} {slowest['value']} s"
                + (f"; over: {', '.join(over)}" if over else "")
                + (f"; failed: {', '.join(failed)}" if failed else "")
            ),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
