"""nbgrader's AUTOTEST directives, expanded at release.

A test cell may hold lines such as ``# AUTOTEST double(3); double(-1)`` or
``# HASHED AUTOTEST answer``. ``course release`` expands them as nbgrader's
``generate_assignment`` does, after the format nbgrader documents for
``autotests.yml`` (the assignment folder's, else one in a parent folder; ``tests.yml``
is read too), with a section per kernel name (``python3``) holding:

- ``dispatch``: code whose value names the snippet's type (e.g. ``type(...).__name__``);
- ``templates``: for each type name (and ``default``), a list of ``{test, fail}``;
- ``normalize``: wraps each test's code, so its value can be written as text;
- ``hash``: with ``{{salt}}``, for HASHED directives (the value is never shown);
- ``check``: the line written per test, from ``{{snippet}}``, ``{{value}}`` and
  ``{{message}}``;
- ``success``: the line written at the end of the cell; ``setup``: code written (and
  run) once per cell, before the first directive.

Templates are Jinja2. The values are computed by running the source notebook, its
reference solutions included, in the grader's sandbox, with the assignment's data
files. The expanded cells are kept beside the source in ``NAME.autotests.json``, keyed
to the source and to ``autotests.yml``: the student notebook and the grader use them,
and a changed source or template file makes them stale (an error, not a silent
directive run as a comment).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import secrets
import shutil
import tempfile
from pathlib import Path

from course_utils.io import atomic_write
from course_utils.tools.grading.notebook_format import (
    AUTOTEST,
    Cell,
    FormatError,
    digest,
    homework_name,
    read_trusted_json,
)

FORMAT = 1
SPEC_NAMES = ("autotests.yml", "tests.yml")
REQUIRED = ("dispatch", "templates", "normalize", "check", "hash", "success")


def expansion_path(source_path: Path) -> Path:
    return Path(source_path).with_name(homework_name(source_path) + ".autotests.json")


def spec_path(source_path: Path) -> Path | None:
    for folder in Path(source_path).resolve().parents:
        for name in SPEC_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def _kernel_name(nb) -> str:
    return (nb.metadata.get("kernelspec") or {}).get("name") or "python3"


def load_spec(source_path: Path, nb) -> tuple[dict, Path]:
    import yaml

    path = spec_path(source_path)
    if path is None:
        raise FormatError(
            f"{source_path}: its test cells use AUTOTEST directives, but no "
            f"{SPEC_NAMES[0]} was found in its folder or above (nbgrader's "
            "template file: per kernel, dispatch, templates, normalize, check, "
            "hash and success)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError) as exc:
        raise FormatError(f"{path}: not valid YAML: {exc}") from None
    kernel = _kernel_name(nb)
    names = [kernel] + (["python3", "python"] if kernel.startswith("python") else [])
    spec = next((data[n] for n in names if isinstance(data, dict) and n in data), None)
    if not isinstance(spec, dict):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise FormatError(
            f"{path}: expected a section for the notebook's kernel {kernel!r}, found {found}"
        )
    missing = [k for k in REQUIRED if k not in spec]
    if missing:
        raise FormatError(
            f"{path}: section {kernel!r} lacks {', '.join(missing)} (expected "
            f"{', '.join(REQUIRED)}, and optionally setup)"
        )
    templates = spec["templates"]
    if not isinstance(templates, dict) or "default" not in templates:
        raise FormatError(
            f"{path}: 'templates' must map type names to lists of tests and have a 'default' entry"
        )
    for name, tests in templates.items():
        if not isinstance(tests, list) or not all(
            isinstance(t, dict) and "test" in t and "fail" in t for t in tests
        ):
            raise FormatError(
                f"{path}: templates.{name} must be a list of entries with 'test' and 'fail'"
            )
    return spec, path


def _render(template: str, **values) -> str:
    import jinja2

    return (
        jinja2.Environment(loader=jinja2.BaseLoader()).from_string(str(template)).render(**values)
    )


def _text(run) -> str:
    """The text a snippet evaluated to (its execute_result), quotes stripped as
    nbgrader's Python sanitiser does."""
    for out in run.outputs:
        if out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {}).get("text/plain", "")
            text = data if isinstance(data, str) else "".join(data)
            return text.strip('"').strip("'")
    return ""


def expand(source_path: Path, nb, cells: list[Cell], level: str, limits=None) -> dict:
    """Run the source and expand every directive; return ``{grade_id: expanded source}``."""
    from course_utils.tools.grading import assignment
    from course_utils.tools.grading import sandbox as sb
    from course_utils.tools.grading.grade import kernel_env
    from course_utils.tools.grading.kernel import Kernel

    spec, _ = load_spec(source_path, nb)
    limits = limits or sb.Limits()
    files = assignment.data_files(Path(source_path).parent)
    workdir = Path(tempfile.mkdtemp(prefix="course-autotest-"))
    env = kernel_env(workdir, workdir / ".course_checks", level, None, small=True)
    kernel = Kernel(workdir, level, limits, env=env, files=files)
    out: dict[str, str] = {}

    def run(code: str, where: str):
        result = kernel.execute(code, limits.cell_timeout)
        if result.status != "ok":
            what = f"{result.ename}: {result.evalue}" if result.status == "error" else result.status
            raise FormatError(
                f"{source_path}: {where}: expanding AUTOTEST directives, the "
                f"source's code failed ({what[:300]}):\n{code[:500]}"
            )
        return result

    try:
        kernel.start()
        for cell in cells:
            if cell.cell_type != "code":
                continue
            where = cell.grade_id or f"cell {cell.index + 1}"
            if not cell.autotest:
                run(cell.source, where)
                continue
            lines, pending, setup_done = [], [], False
            for line in cell.source.split("\n"):
                if not AUTOTEST.match(line):
                    lines.append(line)
                    pending.append(line)
                    continue
                if "\n".join(pending).strip():
                    run("\n".join(pending), where)
                pending = []
                if spec.get("setup") and not setup_done:
                    lines.append(str(spec["setup"]))
                    run(str(spec["setup"]), where + " (autotests.yml setup)")
                    setup_done = True
                head, _, rest = line.partition("AUTOTEST")
                salt = secrets.token_hex(8) if "HASHED" in head else None
                for snippet in [s.strip() for s in rest.split(";") if s.strip()]:
                    kind = _text(run(_render(spec["dispatch"], snippet=snippet), where))
                    tests = spec["templates"].get(kind, spec["templates"]["default"])
                    for test in tests:
                        code = _render(spec["normalize"], snippet=test["test"])
                        if salt is not None:
                            code = _render(spec["hash"], snippet=code, salt=salt)
                        code = _render(code, snippet=snippet)
                        value = _text(run(code, f"{where}: AUTOTEST {snippet}"))
                        message = _render(test["fail"], snippet=snippet)
                        lines.append(
                            _render(spec["check"], snippet=code, value=value, message=message)
                        )
                lines.append("")
            if "\n".join(pending).strip():
                run("\n".join(pending), where)
            lines.append(str(spec["success"]))
            out[cell.grade_id] = "\n".join(lines)
    finally:
        kernel.kill()
        if kernel.outbox is not None:
            kernel.outbox.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _digests(source_path: Path, nb) -> dict:
    spec = spec_path(source_path)
    return {
        "source_sha256": digest(source_path),
        "autotests_sha256": digest(spec) if spec is not None else "",
    }


def write(source_path: Path, level: str, limits=None) -> tuple[Path, bool]:
    """Write the expansion when the source has directives and it is missing or stale;
    return (its path, whether it changed)."""
    from course_utils.tools.grading.notebook_format import read_source

    source_path = Path(source_path)
    nb, cells = read_source(source_path, expand=False)
    path = expansion_path(source_path)
    if not any(c.autotest for c in cells):
        return path, False
    try:
        apply(source_path, nb, cells)
        return path, False
    except FormatError:
        pass
    data = {
        "format": FORMAT,
        **_digests(source_path, nb),
        "cells": expand(source_path, nb, cells, level, limits),
    }
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path, True


def apply(source_path: Path, nb, cells: list[Cell]):
    """The notebook and cells with every directive replaced by its expansion."""
    path = expansion_path(source_path)
    release = f"`course release {source_path}`"
    data = read_trusted_json(
        path,
        "AUTOTEST expansion",
        f"{source_path}: its test cells use AUTOTEST directives and their "
        f"expansion {path.name} is missing: run {release}",
    )
    if data.get("format") != FORMAT or {
        k: data.get(k) for k in _digests(source_path, nb)
    } != _digests(source_path, nb):
        raise FormatError(
            f"{path} is stale: it was made from another version of "
            f"{Path(source_path).name} or of autotests.yml; run {release}"
        )
    expanded = data.get("cells", {})
    nb = copy.deepcopy(nb)
    new_cells = []
    for cell in cells:
        if cell.autotest:
            if cell.grade_id not in expanded:
                raise FormatError(
                    f"{path} is stale: no expansion of {cell.grade_id!r}; run {release}"
                )
            nb.cells[cell.index].source = expanded[cell.grade_id]
            cell = dataclasses.replace(cell, source=expanded[cell.grade_id], autotest=False)
        new_cells.append(cell)
    return nb, new_cells
