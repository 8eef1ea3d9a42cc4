"""The instructor's trusted side of a homework: ladders judged outside the kernel
and the data the sandbox may read.

A homework folder may hold ``grading.py`` beside its source notebook. It runs in
the grader's own process, never in the student's kernel, and may define:

``LADDERS``
    ``{grade_id: Ladder(...)}``: test cells whose points the grader computes
    itself. A ladder's ``evaluate(session)`` sends only *inputs* into the kernel
    (``session.call("predict", texts)``), takes the predictions back as plain data,
    and returns a metric computed here, with labels that never enter the kernel.
    The cell scores ``points * (steps met) / (number of steps)``.

``sandbox_data(view)``
    what the kernel may read (bwrap level): ``view.dataset(name)`` binds the files
    of a registered dataset as the grader finds them, ``view.file(name, role,
    data=bytes)`` a derived copy (for example the training rows only),
    ``view.library("NLTK_DATA")`` a library cache folder. Nothing else of the
    mirror or the cache exists inside; without ``sandbox_data`` the kernel sees no
    data at all.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.tools.grading import checks

INSTRUCTOR_MODULE = "grading.py"
SANDBOX_DATA = "/course/data"  # where the data view appears inside the sandbox
LIBRARY_VARS = ("NLTK_DATA", "TORCH_HOME", "HF_HOME")


@dataclass
class Ladder:
    """Points by a metric the grader computes: ``steps`` per mode, higher is better
    (``lower_is_better`` for losses such as a negative ELBO or an edit distance)."""

    evaluate: Callable  # evaluate(session) -> float
    small: tuple[float, ...]
    full: tuple[float, ...]
    metric: str = "score"
    lower_is_better: bool = False

    def steps(self, small: bool) -> tuple[float, ...]:
        return tuple(self.small if small else self.full)

    def met(self, value: float, small: bool) -> int:
        import math

        if value is None or not math.isfinite(value):
            return 0
        if self.lower_is_better:
            return sum(value <= s for s in self.steps(small))
        return sum(value >= s for s in self.steps(small))


class LadderError(Exception):
    """The student's code failed while a ladder was evaluated (shown to the student)."""


class Session:
    """What a ladder may do with the student's kernel: call one of its functions
    with plain inputs and get plain outputs back."""

    def __init__(self, kernel, outbox: checks.Outbox, deadline: float, small: bool):
        self._kernel = kernel
        self._io = outbox
        self._deadline = deadline
        self.small = small
        self.calls = 0
        self.last_status = "ok"

    def call(self, target: str, *args):
        """``target(*args)`` in the kernel (``target`` a name or a dotted attribute
        path of the notebook's globals); returns the result as plain data."""
        import time

        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", target):
            raise ValueError(f"not a name: {target!r}")
        token = "call_" + secrets.token_hex(8)
        try:
            payload = checks.to_plain(list(args), self._io)
            self._io.write_text(f"{token}.json", json.dumps(payload))
        except OSError as exc:  # e.g. the submission removed its checks folder
            raise LadderError(
                f"the grader could not pass the inputs to {target}: the "
                f"checks folder was changed ({exc.strerror})"
            ) from None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise LadderError("the notebook time limit was reached")
        code = (
            "__import__('course_utils.tools.grading.checks', fromlist=['_'])"
            f".call_and_submit({token!r}, {target!r})"
        )
        run = self._kernel.execute(code, left, silent=True)
        self.calls += 1
        self.last_status = run.status
        if run.status != "ok":
            what = {"timeout": "timed out", "died": "crashed the kernel"}.get(run.status)
            raise LadderError(
                f"{target}(...) {what}"
                if what
                else f"{target}(...) raised {run.ename}: {run.evalue[:300]}"
            )
        got = [r for r in checks.collect(run.outputs, self._io) if r.name == token]
        if len(got) != 1 or got[0].error:
            raise LadderError(
                f"{target}(...) returned nothing the grader could read"
                + (f" ({got[0].error})" if got and got[0].error else "")
            )
        return got[0].value


@dataclass
class View:
    """The data a sandboxed kernel may read, built by ``sandbox_data(view)``."""

    folder: Path  # host folder for derived files
    binds: list = field(default_factory=list)  # [host path, sandbox path]
    env: dict = field(default_factory=dict)
    datasets: list = field(default_factory=list)

    def dataset(self, name: str, roles: list[str] | None = None) -> None:
        """Every file (or the named roles) of a registered dataset, read-only, as the
        grader finds it (mirror or cache). A missing file stays missing."""
        from course_utils.data import get_entry
        from course_utils.data.fetch import locate

        entry = get_entry(name)
        for role, rf in entry.files.items():
            if roles is not None and role not in roles:
                continue
            found, _ = locate(name, rf, download_ok=False)
            if found is not None:
                self._add(name, rf, found)
        self.datasets.append(name)

    def file(self, name: str, role: str, data: bytes) -> None:
        """A derived copy of one file of a dataset (e.g. without the held-out rows)."""
        from course_utils.data import get_entry

        rf = get_entry(name).files[role]
        host = self.folder / "derived" / name / rf.name
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(data)
        self._add(name, rf, host)
        self.datasets.append(f"{name}:{role} (derived)")

    def library(self, var: str) -> None:
        """A library cache folder (NLTK_DATA, TORCH_HOME, HF_HOME), read-only."""
        if var not in LIBRARY_VARS:
            raise ValueError(f"expected one of {LIBRARY_VARS}, found {var!r}")
        value = os.environ.get(var)
        if value and Path(value).is_dir():
            inside = f"/course/{var.lower()}"
            self.binds.append([str(Path(value).resolve()), inside])
            self.env[var] = inside

    def _add(self, name, rf, host: Path) -> None:
        # the mirror layout inside the sandbox; files that only live in the cache get
        # a mirror-like path under the dataset's name
        rel = rf.mirror_path or f"{name}/{rf.name}"
        self.binds.append([str(Path(host).resolve()), f"{SANDBOX_DATA}/{rel}"])
        self.env["COURSE_DATA"] = SANDBOX_DATA
        self.env["COURSE_DATA_VERIFIED"] = "1"


def instructor_module(source_path: Path):
    """The homework's ``grading.py`` (trusted code), or None."""
    path = Path(source_path).resolve().parent / INSTRUCTOR_MODULE
    if not path.is_file():
        return None
    name = "_course_grading_" + re.sub(r"\W", "_", path.parent.name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def ladders(module) -> dict[str, Ladder]:
    found = getattr(module, "LADDERS", {}) if module is not None else {}
    bad = [k for k, v in found.items() if not isinstance(v, Ladder)]
    if bad:
        raise TypeError(f"grading.py: LADDERS[{bad[0]!r}] is not a Ladder")
    return dict(found)


def build_view(module, folder: Path) -> View:
    view = View(Path(folder))
    fn = getattr(module, "sandbox_data", None) if module is not None else None
    if fn is not None:
        fn(view)
    return view
