"""Run a lesson notebook as a benchmark: its own code, at benchmark size.

A lesson keeps its sizes in one code cell tagged ``parameters`` (papermill's convention).
:func:`run_lesson` executes the instructor source in a fresh Jupyter kernel (nbclient),
with a cell injected right after that one which assigns the benchmark's values, and a
last cell that writes the variables the benchmark reads to a JSON file. The executed
notebook is kept under ``build/bench/`` so that a number in ``docs/results.md`` can be
traced to the outputs it came from.

Full mode is the default (``COURSE_SMALL`` unset), as a student gets it; the lesson's
own ``if not SMALL:`` checks then run too, and a failing one fails the benchmark.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "bench"
TAG = "parameters"

# Run in the kernel at the end: the requested globals as JSON (numpy and pandas values
# become lists, dicts and floats).
_DUMP = """
import json as _json


def _plain(v):
    import numpy as _np

    if hasattr(v, "to_dict") and hasattr(v, "columns"):  # a DataFrame: column -> list
        return {str(k): _plain(list(c)) for k, c in v.to_dict(orient="list").items()}
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, _np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, _np.generic):
        return v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)
"""


class LessonError(RuntimeError):
    pass


def parameters_cell(nb) -> int:
    """The index of the lesson's code cell tagged ``parameters``."""
    tagged = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and TAG in c.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise LessonError(f"expected one code cell tagged {TAG!r}, found {len(tagged)}")
    return tagged[0]


def inject(nb, parameters: dict, names: list[str], target: Path):
    """A copy of ``nb`` with the parameters assigned after its parameters cell and the
    dump cell at the end."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    at = parameters_cell(nb)
    if parameters:
        lines = ["# Parameters injected by the benchmark (tests/benchmarks/lessons.py)"]
        lines += [f"{k} = {v!r}" for k, v in parameters.items()]
        cell = nbformat.v4.new_code_cell("\n".join(lines))
        cell.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(at + 1, cell)
    dump = (
        _DUMP
        + f"\n\nwith open({str(target)!r}, 'w') as _fh:\n"
        + f"    _json.dump({{_n: _plain(globals()[_n]) for _n in {names!r}}}, _fh)\n"
    )
    nb.cells.append(nbformat.v4.new_code_cell(dump))
    return nb


def run_lesson(
    lesson: str,
    names: list[str],
    parameters: dict | None = None,
    small: bool = False,
    tag: str = "",
    timeout: int = 3600,
    env: dict | None = None,
) -> dict:
    """Execute ``notebooks/<lesson>.source.ipynb`` with ``parameters`` injected and return
    the globals named in ``names`` plus ``_seconds`` (the whole run). ``env``: environment
    variables the kernel starts with (for a lesson's choices made from the environment,
    such as ``COURSE_CAPTION_DATA``), on top of this process's."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = ROOT / "notebooks" / f"{lesson}.source.ipynb"
    nb = nbformat.read(path, as_version=4)
    OUT.mkdir(parents=True, exist_ok=True)
    stem = lesson.replace("/", "_") + (f"_{tag}" if tag else "")
    executed = OUT / f"{stem}.ipynb"
    saved = {k: os.environ.get(k) for k in ["COURSE_SMALL", *(env or {})]}
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        target = Path(work) / "values.json"
        run = inject(nb, parameters or {}, list(names), target)
        os.environ.update(env or {})  # the kernel inherits this process's environment
        if small:
            os.environ["COURSE_SMALL"] = "1"
        else:
            os.environ.pop("COURSE_SMALL", None)
        start = time.perf_counter()
        try:
            NotebookClient(
                run, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": work}}
            ).execute()
        except CellExecutionError as err:
            raise LessonError(f"{path.name} failed (outputs in {executed}):\n{err}") from None
        finally:
            seconds = time.perf_counter() - start
            nbformat.write(run, executed)
            for k, before in saved.items():
                if before is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = before
        values = json.loads(target.read_text())
    values["_seconds"] = seconds
    values["_executed"] = str(executed.relative_to(ROOT))
    return values


def executed_cell(executed: str, start: str):
    """The one code cell of the executed notebook ``executed`` (a path relative to the
    repository, as ``run_lesson`` returns in ``_executed``) whose source begins with
    ``start``."""
    import nbformat

    nb = nbformat.read(ROOT / executed, as_version=4)
    found = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    if len(found) != 1:
        raise LessonError(
            f"{executed}: expected one code cell starting with {start!r}, found {len(found)}"
        )
    return found[0]


def cell_seconds(executed: str, *starts: str) -> float:
    """Seconds the executed notebook spent in the code cells whose source begins with one
    of ``starts`` (nbclient's timing metadata): for a lesson step it does not time itself."""
    from datetime import datetime

    total = 0.0
    for start in starts:
        t = executed_cell(executed, start).metadata["execution"]
        begin, end = (
            datetime.fromisoformat(t[k].replace("Z", "+00:00"))
            for k in ("iopub.execute_input", "shell.execute_reply")
        )
        total += (end - begin).total_seconds()
    return total
