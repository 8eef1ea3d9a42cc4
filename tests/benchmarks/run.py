"""Run the benchmarks and write ``docs/results.md``.

Each ``tests/benchmarks/bench_<name>.py`` defines ``run() -> list[dict]``; a row has
``benchmark``, ``metric``, ``value`` and optionally ``target``, ``passed``,
``seconds`` and ``notes``. Results are merged into ``docs/results.json`` (so one
benchmark can be rerun alone) and rendered to ``docs/results.md`` with the machine
and the date of each row.

Usage: ``python tests/benchmarks/run.py [NAME ...]`` (``make bench``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS_JSON = ROOT / "docs" / "results.json"
if str(ROOT) not in sys.path:  # benchmarks import tests.benchmarks.lessons
    sys.path.insert(0, str(ROOT))
RESULTS_MD = ROOT / "docs" / "results.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = ""
    try:
        import torch

        if torch.cuda.is_available():
            gpu = ", GPU " + torch.cuda.get_device_name(0)
    except ImportError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores {cpu}{mem}{gpu}"


def load_bench(name: str):
    path = HERE / f"bench_{name}.py"
    if not path.exists():
        known = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
        raise SystemExit(f"unknown benchmark {name!r}; expected one of {known}")
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(results: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python tests/benchmarks/run.py`); each row keeps the",
        "machine and date it was measured on. Quality and speed targets live here, not",
        "in timed unit tests.",
        "",
    ]
    for name in sorted(results):
        entry = results[name]
        lines += [
            f"## {name}",
            "",
            f"Measured {entry['date']} on {entry['machine']} in {entry['seconds']:.0f} s"
            + (
                f" (1-minute load average {entry['load'][0]:.1f} at the start, "
                f"{entry['load'][1]:.1f} at the end: other work shared the cores)."
                if "load" in entry and max(entry["load"]) > 1.5
                else "."
            ),
            "",
            "| metric | value | target | met | seconds | notes |",
            "|---|---|---|---|---|---|",
        ]
        for row in entry["rows"]:
            value = row["value"]
            value = f"{value:.4g}" if isinstance(value, float) else str(value)
            met = {True: "yes", False: "**no**", None: ""}[row.get("passed")]
            secs = row.get("seconds")
            secs = f"{secs:.1f}" if isinstance(secs, (int, float)) else ""
            lines.append(
                f"| {row['metric']} | {value} | {row.get('target', '')} | {met} "
                f"| {secs} | {row.get('notes', '')} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
    failed = []
    for name in names:
        print(f"=== benchmark {name}", flush=True)
        module = load_bench(name)
        load_start = os.getloadavg()[0]
        start = time.perf_counter()
        rows = module.run()
        seconds = time.perf_counter() - start
        # Re-read just before writing: another benchmark may have finished meanwhile.
        results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
        results[name] = {
            "date": dt.date.today().isoformat(),
            "machine": machine(),
            "seconds": seconds,
            "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
            "rows": rows,
        }
        for row in rows:
            print(f"  {row['metric']}: {row['value']} (target {row.get('target', '-')})")
            if row.get("passed") is False:
                failed.append(f"{name}: {row['metric']}")
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
        RESULTS_MD.write_text(render(results))
    if failed:
        print("targets not met:\n  " + "\n  ".join(failed))
    print(f"wrote {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
