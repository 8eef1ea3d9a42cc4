"""Assignment folders: several notebooks and the files beside them.

An assignment is a folder of source notebooks (nbgrader's ``source/<assignment>/``, or
any folder of ``*.source.ipynb`` / nbgrader-marked notebooks) with the data files its
notebooks read. ``course release FOLDER`` releases every notebook and copies the data
files; ``course grade FOLDER submitted/`` grades every student's notebooks, and the
kernel of each finds the data files in its work folder (copied from the trusted source
folder, never from a submission).

What is never copied: notebooks (sources and student versions), answer keys and
AUTOTEST expansions, ``grading.py``, ``autotests.yml``, dot files, caches and the
``release/`` folder a plain-named source writes into.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from course_utils.tools.grading.notebook_format import SOURCE_SUFFIX, FormatError

MAX_DATA_BYTES = 512 * 2**20  # what an assignment's data files may add up to
TRUSTED_FILES = ("grading.py", "autotests.yml", "tests.yml")
TRUSTED_SUFFIXES = (".key.json", ".autotests.json", ".ipynb", ".tmp", ".pyc")
SKIPPED_DIRS = ("__pycache__", ".ipynb_checkpoints", "release", "feedback", "grades")


def _is_student_version(path: Path) -> bool:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(meta, dict) and (meta.get("course") or {}).get("role") == "student"


def source_notebooks(folder: Path) -> list[Path]:
    """The source notebooks of an assignment folder (not recursive): every
    ``*.ipynb`` except the student versions ``course release`` wrote there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(
            f"{folder}: not an assignment folder (expected a folder of source notebooks)"
        )
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        if not path.name.endswith(SOURCE_SUFFIX) and (
            path.with_name(path.stem + SOURCE_SUFFIX).exists() or _is_student_version(path)
        ):
            continue  # the student version of a source beside it
        found.append(path)
    if not found:
        raise FormatError(
            f"{folder}: no source notebook in this folder (expected "
            "*.ipynb files with nbgrader cell metadata)"
        )
    return found


def data_files(folder: Path) -> list[tuple[Path, str]]:
    """(path, relative name) of the files an assignment's notebooks may read."""
    folder = Path(folder)
    out, total = [], 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if path.name in TRUSTED_FILES or path.name.endswith(TRUSTED_SUFFIXES):
            continue
        total += path.stat().st_size
        if total > MAX_DATA_BYTES:
            raise FormatError(
                f"{folder}: the assignment's data files add up to more than "
                f"{MAX_DATA_BYTES // 2**20} MB; keep large data in the data "
                "mirror (COURSE_DATA) instead"
            )
        out.append((path, rel.as_posix()))
    return out


def copy_files(files: list[tuple[Path, str]], target: Path) -> list[Path]:
    """Copy data files under ``target`` (atomically per file); return what changed."""
    changed = []
    for path, rel in files:
        dest = Path(target) / rel
        if dest.exists() and dest.read_bytes() == path.read_bytes():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(dest)
        changed.append(dest)
    return changed


def split_submission(rel: str) -> tuple[str, str]:
    """(student, assignment) of a submission's path relative to the folder given to
    ``course grade``: nbgrader's ``<student>/<assignment>/X.ipynb``, or
    ``<student>/X.ipynb``, or a lone file (the student is the file's name)."""
    parts = Path(rel).parts
    if len(parts) >= 3:
        return parts[-3], parts[-2]
    if len(parts) == 2:
        return parts[0], ""
    return Path(rel).stem, ""
