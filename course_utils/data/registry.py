"""The registry: one entry per dataset or set of pretrained weights.

An entry names the files (each with URLs, SHA-256, size and mirror path), the
license, a loader that turns the files into ordinary Python objects and, for
small mode, a stand-in used when no file can be found.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from course_utils.data.fetch import RemoteFile

REGISTRY: dict[str, Dataset] = {}


@dataclass
class Dataset:
    name: str
    description: str
    license: str
    homepage: str
    files: dict[str, RemoteFile]  # role (e.g. "train") -> file
    # loader(get, split) -> object; get(role) returns the local Path of a file
    loader: Callable
    splits: tuple[str, ...] = ()
    # standin(split) -> object, used in small mode when the files are missing
    standin: Callable | None = None
    standin_note: str = ""
    notes: str = ""
    roles_for_split: Callable[[str], tuple[str, ...]] | None = field(default=None, repr=False)

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files.values()]
        return None if any(s is None for s in sizes) else sum(sizes)

    @property
    def trust_on_first_use(self) -> list[str]:
        """Files whose checksum could not be known when the entry was written."""
        return [role for role, f in self.files.items() if f.sha256 is None and f.urls]


def register(ds: Dataset) -> Dataset:
    if ds.name in REGISTRY:
        raise ValueError(f"dataset {ds.name!r} is registered twice")
    REGISTRY[ds.name] = ds
    return ds


def get_entry(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(
            f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(sorted(REGISTRY))} "
            "(`course data list` shows them)."
        ) from None
