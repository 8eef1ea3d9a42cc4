"""Files written whole or not at all: the one atomic write of the package.

Everything that writes a file others may read while it is written, or that a crash may
interrupt (downloads, caches, checkpoints, answer keys, gradebooks, the manual-grading
store), goes through :func:`atomic_path` or :func:`atomic_write`: the content goes to a
temporary file beside the target, which then replaces the target in one rename
(``os.replace``, atomic on POSIX and Windows). A reader sees the old file or the new
one, never half of one, and a failure leaves the old file as it was.

>>> from pathlib import Path; import tempfile
>>> p = Path(tempfile.mkdtemp()) / "a.txt"
>>> atomic_write(p, "hello\\n").read_text()
'hello\\n'
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_save_npz", "atomic_write"]


@contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; when the block ends without an
    error, the file written there replaces ``path``. On an error it is removed and
    ``path`` is left untouched. ``fsync=True`` flushes the data to disk before the rename
    (for stores a power cut must not lose). The folder is created when missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of our own (not mkstemp's 0600 file): the result gets the usual permissions
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file for {path}")
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(
    path: str | os.PathLike,
    content: str | bytes | Callable[[Path], object],
    *,
    fsync: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Write ``content`` to ``path`` atomically and return ``path``.

    ``content`` is text, bytes, or a function that writes the file at the temporary
    path it is given (``lambda tmp: torch.save(state, tmp)``, ``np.savez`` on an open
    file, ...)."""
    path = Path(path)
    if not isinstance(content, str | bytes) and not callable(content):
        raise TypeError(
            f"atomic_write expects text, bytes or a function of the temporary path, "
            f"found {type(content).__name__}"
        )
    with atomic_path(path, fsync=fsync) as tmp:
        if isinstance(content, str):
            with open(tmp, "w", encoding=encoding, newline="") as fh:
                fh.write(content)
        elif isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            content(tmp)
    return path


def atomic_save_npz(path: str | os.PathLike, **arrays) -> Path:
    """``np.savez(path, **arrays)`` through :func:`atomic_write` (written to an open
    file, so NumPy does not append ``.npz`` to the temporary name)."""
    import numpy as np

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    return atomic_write(path, write)
