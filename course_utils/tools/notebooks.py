"""Maintenance of the course notebooks: setup-cell sync, output checks, execution.

``course nb sync``   rewrite the setup cell of every notebook from the template
``course nb check``  fail on a stale setup cell, a missing header or saved outputs
``course run``       execute every notebook headless into ``build/`` with an index
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.tools.templates import SETUP_MARKER, colab_badge, setup_cell_source

NOTEBOOK_DIRS = ("notebooks", "homeworks")


def find_notebooks(root: Path, dirs=NOTEBOOK_DIRS) -> list[Path]:
    found = []
    for d in dirs:
        base = root / d
        if base.is_dir():
            found += [p for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    return sorted(found)


def expand(paths: list[str]) -> list[Path]:
    """Notebook files from command-line paths: files as given, folders searched."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(
                f"expected a notebook (.ipynb) or a folder of them, found {raw!r}"
            )
    return out


SOURCE_SUFFIX = ".source.ipynb"


def source_of(path: Path) -> Path:
    """Where the instructor source of a (student) notebook would be."""
    path = Path(path)
    if path.name.endswith(SOURCE_SUFFIX):
        return path
    return path.with_name(path.name[: -len(".ipynb")] + SOURCE_SUFFIX)


def is_generated(path: Path) -> bool:
    """A student version that ``course release`` writes from a source beside it."""
    path = Path(path)
    return not path.name.endswith(SOURCE_SUFFIX) and source_of(path).is_file()


def course_notebooks(root: Path) -> list[Path]:
    """Lessons as they run (``notebooks/<track>/NN_topic...``): the instructor source
    ``NN_topic.source.ipynb`` with its solutions, not the student seminar generated from
    it; a lesson without a source is its ``NN_topic.ipynb``."""
    return [p for p in find_notebooks(root, ("notebooks",)) if not is_generated(p)]


def seminars(root: Path) -> list[Path]:
    """The generated student seminars (each beside its lesson source)."""
    return [p for p in find_notebooks(root, ("notebooks",)) if is_generated(p)]


def problems(path: Path) -> list[str]:
    """Convention violations of one lesson notebook (empty when it is fine). A
    generated student seminar is checked as its source: it must be what the source
    releases now."""
    if is_generated(path):
        return stale_release(source_of(path))
    nb = nbformat.read(path, as_version=4)
    found = []
    cells = nb.cells
    if len(cells) < 2:
        return [f"{path}: expected at least a header cell and the setup cell"]
    if cells[0].cell_type != "markdown" or not cells[0].source.lstrip().startswith("#"):
        found.append(f"{path}: cell 1 must be a markdown header starting with a '# Title'")
    elif colab_badge(badge_path(path)) not in cells[0].source:
        found.append(f"{path}: the header cell has no current Colab badge (run `course nb sync`)")
    if cells[1].cell_type != "code" or cells[1].source != setup_cell_source():
        found.append(f"{path}: cell 2 is not the current setup cell (run `course nb sync`)")
    for i, cell in enumerate(cells, 1):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            found.append(f"{path}: cell {i} has saved outputs (run `course nb strip`)")
            break
    return found + dead_cells(path, nb) + stale_release(path)


def stale_release(path: Path) -> list[str]:
    """For a source (lesson or homework): the committed student notebook must be what
    `course release` writes from it now; for a homework, the answer key too (checked
    by its recorded hash)."""
    path = Path(path)
    if not path.name.endswith(SOURCE_SUFFIX):
        return []
    from course_utils.tools.grading.grade import trust_table
    from course_utils.tools.grading.notebook_format import FormatError, is_lesson, student_path
    from course_utils.tools.grading.release import student_notebook

    student = student_path(path)
    found = []
    try:
        released = nbformat.writes(student_notebook(path)) + "\n"
    except FormatError as err:  # its message names the file
        return [str(err).splitlines()[0]]
    if not student.exists():
        found.append(f"{path}: no student version {student.name} (run `course release {path}`)")
    elif student.read_text() != released:
        found.append(
            f"{student}: stale, not what the source releases (run `course release {path}`)"
        )
    if is_lesson(path):
        return found
    try:
        trust_table(path)
    except (FormatError, FileNotFoundError, ValueError) as err:
        found.append(f"{path}: {str(err).splitlines()[0]}")
    return found


def dead_cells(path: Path, nb=None) -> list[str]:
    """Code cells with nothing to run (empty, or comments only): a student runs them for
    nothing; text belongs in markdown. Answer stubs (nbgrader metadata) are exempt."""
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    found = []
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code" or cell.get("metadata", {}).get("nbgrader"):
            continue
        lines = [line.strip() for line in cell.source.splitlines()]
        if all(not line or line.startswith("#") for line in lines):
            what = "is empty" if not any(lines) else "holds only comments"
            found.append(
                f"{path}: cell {i} is a code cell that {what}: delete it, or make "
                "it a markdown cell"
            )
    return found


BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def badge_path(path: Path) -> str:
    """A notebook's path in the repository, as its Colab badge names it (for a
    ``.source.ipynb``, the student version ``course release`` makes from it)."""
    path = Path(path)
    if path.name.endswith(".source.ipynb"):  # the badge opens the generated student version
        path = path.with_name(path.name[: -len(".source.ipynb")] + ".ipynb")
    parts = path.resolve().parts
    for top in ("notebooks", "homeworks"):
        if top in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(top) :])
    return path.name


def _sync_badge(nb, path: Path) -> bool:
    """Write the current Colab badge into the header cell (after the title line)."""
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return False
    badge = colab_badge(badge_path(path))
    header = nb.cells[0].source
    if BADGE.search(header):
        new = BADGE.sub(lambda _: badge, header, count=1)
    else:
        title, _, rest = header.partition("\n")
        new = f"{title}\n\n{badge}\n" + (f"\n{rest.lstrip(chr(10))}" if rest.strip() else "")
    if new == header:
        return False
    nb.cells[0].source = new
    return True


def sync(path: Path) -> bool:
    """Put the current setup cell and Colab badge in place (both made from the
    repository URL in pyproject.toml); return True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    badge_changed = _sync_badge(nb, path)
    source = setup_cell_source()
    idx = next(
        (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and SETUP_MARKER in c.source),
        None,
    )
    if idx is None:
        nb.cells.insert(1, nbformat.v4.new_code_cell(source))
    elif nb.cells[idx].source == source and idx == 1:
        if badge_changed:
            nbformat.write(nb, path)
        return badge_changed
    else:
        cell = nb.cells.pop(idx)
        cell.source = source
        nb.cells.insert(1, cell)
    nbformat.write(nb, path)
    return True


def strip(path: Path) -> bool:
    """Remove outputs and execution counts; return True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            cell.outputs, cell.execution_count = [], None
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


@dataclass
class RunResult:
    notebook: str
    status: str
    seconds: float
    headline: str
    error: str = ""
    standins: str = ""  # what ran on stand-in data or models (no mirror, small mode)


def execute(
    path: Path, out_dir: Path, root: Path, timeout: int = 600, small: bool = True
) -> RunResult:
    """Execute one notebook with nbclient; write the executed copy under out_dir."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    rel = path.relative_to(root)
    target = out_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    fd, headline_file = tempfile.mkstemp(prefix="headline-", suffix=".jsonl")
    os.close(fd)
    env_backup = dict(os.environ)
    os.environ["COURSE_SMALL"] = "1" if small else "0"
    os.environ["COURSE_HEADLINE_FILE"] = headline_file
    status, error = "ok", ""
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        status = "failed"
        text = plain_text(str(exc)).strip()
        error = text.splitlines()[-1][:300] if text else type(exc).__name__
    finally:
        seconds = time.perf_counter() - start
        os.environ.clear()
        os.environ.update(env_backup)
    nbformat.write(nb, target)
    lines = Path(headline_file).read_text().splitlines()
    Path(headline_file).unlink(missing_ok=True)
    records = [json.loads(line) for line in lines if line.strip()]
    heads = [r for r in records if "name" in r]
    headline = ", ".join(f"{h['name']}={h['value']:.4g}" for h in heads)
    standins = ", ".join(dict.fromkeys(r["standin"] for r in records if "standin" in r))
    return RunResult(str(rel), status, seconds, headline, error, standins)


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def plain_text(text: str) -> str:
    """Text without terminal colour codes (IPython colours its tracebacks)."""
    return ANSI.sub("", text)


def write_index(results: list[RunResult], out_dir: Path, small: bool) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "index.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["notebook", "status", "seconds", "headline", "error", "standins"])
        for r in results:
            writer.writerow(
                [
                    r.notebook,
                    r.status,
                    f"{r.seconds:.1f}",
                    r.headline,
                    plain_text(r.error),
                    r.standins,
                ]
            )
    mode = "small (COURSE_SMALL=1)" if small else "full"
    lines = [
        f"# Executed notebooks ({mode})",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')}; executed copies are beside this file.",
        "",
        "| notebook | status | seconds | headline metric |",
        "|---|---|---|---|",
    ]
    if any(r.standins for r in results):
        lines[3:3] = [
            "**STAND-IN** marks a notebook that ran on generated data or untrained "
            "models (no data mirror): its metrics say nothing about the real task.",
            "",
        ]
    for r in results:
        error = plain_text(r.error).replace("|", "\\|").replace("\n", " ")
        status = r.status if r.status == "ok" else f"**{r.status}**: {error}"
        head = f"**STAND-IN** ({r.standins}): {r.headline}" if r.standins else r.headline
        lines.append(f"| [{r.notebook}]({r.notebook}) | {status} | {r.seconds:.1f} | {head} |")
    index = out_dir / "index.md"
    index.write_text("\n".join(lines) + "\n")
    return index


# ------------------------------------------------------------ data dependence
# Modules and names through which code reaches the data mirror, the download cache or
# pretrained weights (COURSE_DATA, NLTK_DATA, TORCH_HOME, HF_HOME). A notebook that
# reaches none of them runs the same with and without the mirror, so the offline pass
# of `make test-offline` has nothing to learn from running it again.
_DATA_MODULES = {"course_utils.data", "course_utils.pretrained"}
# where the settings are read and the notebook set up: every module imports them, and
# they open no data themselves
# (course_utils.tools.grading: the grader's package; a homework's own grading.py, which may
# read held-out data, is scanned instead)
_NEUTRAL_MODULES = {"course_utils", "course_utils.config", "course_utils.session"}
# the grader's package: a homework's own grading.py, which may read held-out data, is
# scanned instead
_NEUTRAL_PACKAGE = "course_utils.tools.grading"
_DATA_CODE = re.compile(
    r"\bnltk\b|from_pretrained|\btorchvision\.(?:datasets|models)\b|"
    r"\bhuggingface_hub\b|\bdatasets\b\s*import|\bload_dataset\b|\bCOURSE_DATA\b|"
    r"\bTORCH_HOME\b|\bHF_HOME\b|\bgensim\.downloader\b"
)


def _package(mod: str, path: Path) -> str:
    return mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]


def _imported_course_modules(code: str, package: str = "course_utils") -> set[str]:
    """course_utils modules named by the import statements in ``code``."""
    import ast

    found: set[str] = set()
    # IPython magics and shell lines (`%pip`, `!ls`) are not Python: parse them as `pass`
    code = re.sub(r"^(\s*)[%!].*$", r"\1pass", code, flags=re.M)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("course_utils")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = node.module if node.level == 0 else f"{base}.{node.module}"
            if mod.startswith("course_utils"):
                found.add(mod)
                found |= {f"{mod}.{a.name}" for a in node.names}
    return found


def _module_file(name: str) -> Path | None:
    base = Path(__file__).resolve().parents[1].joinpath(*name.split(".")[1:])
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _reaches_data(modules: set[str]) -> str | None:
    """The first data module reached from ``modules`` through course_utils' own imports."""
    seen: set[str] = set()
    todo = sorted(modules)
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        if any(mod == d or mod.startswith(d + ".") for d in _DATA_MODULES):
            return mod
        path = _module_file(mod)
        neutral = mod in _NEUTRAL_MODULES or (mod + ".").startswith(_NEUTRAL_PACKAGE + ".")
        if path is None or neutral:
            continue
        text = path.read_text()
        if _DATA_CODE.search(text):
            return mod
        todo += sorted(_imported_course_modules(text, package=_package(mod, path)))
    return None


def reads_mirror(path: Path) -> str | None:
    """Why the notebook at ``path`` depends on the data mirror, or None when it does not.

    It does when a code cell names a data source itself (NLTK, ``from_pretrained``,
    torchvision's datasets or weights, ...) or imports a course_utils module that reaches
    ``course_utils.data`` or ``course_utils.pretrained``, directly or through other modules.
    For a homework source the ``grading.py`` beside it (held-out data) counts too.
    """
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    instructor = Path(path).parent / "grading.py"  # a homework's trusted checks and ladders
    if Path(path).name.endswith(".source.ipynb") and instructor.is_file():
        code += "\n" + instructor.read_text()
    hit = _DATA_CODE.search(code)
    if hit:
        return f"its code names {hit.group(0)!r}"
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    mods = set().union(*(_imported_course_modules(c) for c in cells)) if cells else set()
    # `import course_utils` + `course_utils.data.load(...)` reaches modules by attribute
    for dotted in re.findall(r"\bcourse_utils(?:\.[A-Za-z_]\w*)+", code):
        parts = dotted.split(".")
        mods |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)}
    mods = {m for m in mods if _module_file(m)}
    via = _reaches_data(mods)
    return f"it imports {via}" if via else None
