"""The data layer: a registry of datasets and weights, resolved mirror -> cache ->
download -> (small mode) stand-in, with checksums everywhere.

>>> from course_utils import data
>>> train = data.load("ag_news", split="train")     # a pandas DataFrame

See ``course data list`` for what is registered.
"""

from __future__ import annotations

import contextlib
import sys
import warnings

from course_utils import config
from course_utils.data.datasets import register_all
from course_utils.data.fetch import ChecksumError, DataError, RemoteFile, locate
from course_utils.data.registry import REGISTRY, Dataset, get_entry

register_all()


class StandInWarning(UserWarning):
    """Emitted when a loader returns a stand-in instead of the real data."""


_WATCHERS: list[list] = []


@contextlib.contextmanager
def standins_used():
    """Which loads in the block returned stand-ins (data or pretrained models)::

        with data.standins_used() as used:
            train = data.load("ag_news", "train")
        REAL_DATA = not used          # used: [(name, what), ...]

    Every stand-in is also recorded for ``course run``'s index (``COURSE_HEADLINE_FILE``)."""
    used: list = []
    _WATCHERS.append(used)
    try:
        yield used
    finally:
        _WATCHERS.remove(used)


def note_standin(name: str, what: str) -> None:
    """Record that ``name`` was replaced by a stand-in (called by the loaders)."""
    for used in _WATCHERS:
        used.append((name, what))
    from course_utils.session import record_run

    record_run({"standin": name, "what": what})


class _Missing(DataError):
    def __init__(self, role: str, looked: list[str]):
        super().__init__(role)
        self.role = role
        self.looked = looked


def path(name: str, role: str) -> Path:  # noqa: F821
    """The local path of one file of a dataset (mirror, cache or fresh download)."""
    entry = get_entry(name)
    rf = _file(entry, role)
    found, looked = locate(name, rf)
    if found is None:
        raise DataError(_missing_message(entry, role, looked))
    return found


def load(name: str, split: str | None = None, **kwargs):
    """Load a registered dataset (``split`` where the dataset has splits)."""
    entry = get_entry(name)
    if entry.splits and split is None:
        raise ValueError(f"dataset {name!r} needs split=, one of {list(entry.splits)}")
    if split is not None and entry.splits and split not in entry.splits:
        raise ValueError(
            f"dataset {name!r} has no split {split!r}; expected one of {list(entry.splits)}"
        )

    def get(role: str):
        rf = _file(entry, role)
        found, looked = locate(name, rf)
        if found is None:
            raise _Missing(role, looked)
        return found

    try:
        return entry.loader(get, split, **kwargs)
    except _Missing as missing:
        message = _missing_message(entry, missing.role, missing.looked)
        if config.is_small() and entry.standin is not None:
            result, what = entry.standin(split, **kwargs)
            note = (
                f"STAND-IN DATA for {name!r} ({split or 'all'}): {what}. "
                f"The real data was not found ({'; '.join(missing.looked)}). "
                "Small mode only; results are not comparable with the real dataset."
            )
            print("\n" + "!" * 78 + f"\n{note}\n" + "!" * 78, file=sys.stderr)
            warnings.warn(
                f"stand-in data for {name!r} ({split or 'all'}): {what}",
                StandInWarning,
                stacklevel=2,
            )
            note_standin(name, what)
            return result
        raise DataError(message) from None


def _file(entry: Dataset, role: str) -> RemoteFile:
    try:
        return entry.files[role]
    except KeyError:
        raise KeyError(
            f"dataset {entry.name!r} has no file {role!r}; it has {list(entry.files)}"
        ) from None


def _missing_message(entry: Dataset, role: str, looked: list[str]) -> str:
    rf = entry.files[role]
    fixes = []
    if rf.mirror_path:
        fixes.append(f"point COURSE_DATA at a data mirror that has {rf.mirror_path}")
    if rf.urls:
        fixes.append(f"run `course data fetch {entry.name}` where the network reaches {rf.urls[0]}")
    fixes.append(f"or put the file at {config.cache_dir() / entry.name / rf.name} yourself")
    mode = (
        ""
        if config.is_small() or entry.standin is None
        else (" (small mode, COURSE_SMALL=1, would use a stand-in instead)")
    )
    return (
        f"dataset {entry.name!r}: file {rf.name!r} ({role}) was not found{mode}.\n"
        "Looked in:\n  " + "\n  ".join(looked) + "\nTo fix: " + "; ".join(fixes) + "."
    )


__all__ = [
    "REGISTRY",
    "ChecksumError",
    "DataError",
    "Dataset",
    "RemoteFile",
    "StandInWarning",
    "note_standin",
    "standins_used",
    "get_entry",
    "load",
    "path",
]
