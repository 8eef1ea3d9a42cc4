"""The notebook session: what the setup cell calls (:func:`setup_notebook`: seed,
threads, mode) and how a notebook reports its headline metric for ``course run``."""

from __future__ import annotations

import json
import os
from pathlib import Path


def setup_notebook(seed: int | None = None) -> bool:
    """Seed everything, set torch's threads, make plots inline and say which mode runs;
    return SMALL.

    Threads: one in small mode (small tensors, and CI runs two notebooks at once on two
    cores, where more threads only wait for each other); torch's default (the machine's
    cores) in full mode. A lesson whose networks are tiny enough that one thread is
    faster in full mode too says so with its own ``torch.set_num_threads(1)``.
    """
    from course_utils import __version__
    from course_utils.config import DEFAULT_SEED, device, is_small, seed_everything, step_cap

    small = is_small()
    seed_everything(DEFAULT_SEED if seed is None else seed)
    import torch

    if small:
        torch.set_num_threads(1)
    try:
        import matplotlib.pyplot as plt

        plt.rcParams.update({"figure.figsize": (8, 4), "figure.dpi": 90})
        _headless_figures(plt)
    except ImportError:  # pragma: no cover
        pass
    mode = "SMALL (COURSE_SMALL=1)" if small else "FULL"
    cap = step_cap()  # also checks the variable's value before anything runs
    if cap is not None:
        mode += f", training capped at {cap} steps (COURSE_STEP_CAP)"
    print(
        f"course_utils {__version__} | mode: {mode} | device: {device()} | "
        f"threads: {torch.get_num_threads()}"
    )
    return small


def headline(name: str, value: float, fmt: str = ".4f") -> float:
    """Report a notebook's headline metric (printed, and recorded for ``make run``).

    The runner sets ``COURSE_HEADLINE_FILE``; each call appends a JSON line there.
    """
    print(f"HEADLINE {name} = {value:{fmt}}")
    record_run({"name": name, "value": float(value)})
    return value


def record_run(record: dict) -> None:
    """Append one JSON line to the run log ``course run`` reads (``COURSE_HEADLINE_FILE``,
    set by the runner): headline metrics, and the stand-ins a notebook ran on."""
    target = os.environ.get("COURSE_HEADLINE_FILE")
    if target:
        with Path(target).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def _headless_figures(plt) -> None:
    """With ``MPLBACKEND=Agg`` (the test targets set it: nothing looks at the figures, and
    drawing them into inline PNGs was a quarter of a small notebook's time) figures are
    built but not drawn: ``plt.show()`` says nothing and every figure is closed after its
    cell, as the inline backend does."""
    import warnings

    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        return
    warnings.filterwarnings("ignore", message=".*non-interactive, and thus cannot be shown")
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None and not getattr(shell, "_course_closes_figures", False):
        shell.events.register("post_execute", lambda: plt.close("all"))
        shell._course_closes_figures = True
