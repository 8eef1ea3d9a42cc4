"""Finding one file: mirror -> cache -> download, always verified.

A file is described by a :class:`RemoteFile`: where it lives in the mirror, its
cache name, the URLs to download it from and its SHA-256. ``sha256=None`` means
the checksum of the online source could not be learned when the registry was
written: the first download stores its digest beside the file (trust on first
use) and every later read is verified against that digest.

Downloads go to a temporary file in the cache folder and are renamed into place
only after the checksum matched, so the cache never holds a partial or unverified
file.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from course_utils import config
from course_utils.io import atomic_path

CHUNK = 1 << 20
TIMEOUT_S = 30


class DataError(RuntimeError):
    """A dataset could not be found, verified or downloaded."""


class ChecksumError(DataError):
    """A file's SHA-256 differs from the expected one."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset."""

    name: str  # file name in the cache folder of the dataset
    urls: tuple[str, ...] = ()
    sha256: str | None = None  # None: unknown in advance, trust on first use
    size: int | None = None  # bytes, informational
    mirror_path: str | None = None  # path relative to COURSE_DATA
    mirror_sha256: str | None = None  # when the mirror holds another version (a subset)
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def tofu_path(path: Path) -> Path:
    """Where the trust-on-first-use digest of a cached file is kept."""
    return path.with_name(path.name + ".sha256")


def expected_digest(rf: RemoteFile, cached: Path) -> str | None:
    if rf.sha256:
        return rf.sha256
    stored = tofu_path(cached)
    if stored.exists():
        return stored.read_text().split()[0]
    return None


def verify(path: Path, expected: str | None, what: str, fix: str) -> None:
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"{what}: {path} has SHA-256 {actual}, expected {expected}. "
            f"The file is corrupted or not the one the registry describes. {fix}"
        )


def mirror_file(dataset: str, rf: RemoteFile) -> Path | None:
    """The verified mirror copy of ``rf``, or None when there is none."""
    root = config.mirror_dir()
    if root is None or rf.mirror_path is None:
        return None
    path = root / rf.mirror_path
    if not path.is_file():
        return None
    if os.environ.get("COURSE_DATA_VERIFIED") == "1":
        # the grader's sandbox view: the grader verified these files (or derived them
        # from verified ones) before binding them read-only
        return path
    verify(
        path,
        rf.mirror_sha256 or rf.sha256,
        f"dataset {dataset!r}, mirror file {rf.mirror_path}",
        "Restore the mirror from its source, or unset COURSE_DATA to use the cache "
        "and the network instead.",
    )
    return path


def cache_file(dataset: str, rf: RemoteFile) -> Path:
    return config.cache_dir() / dataset / rf.name


def cached_file(dataset: str, rf: RemoteFile) -> Path | None:
    """The verified cache copy of ``rf``, or None when it is not cached."""
    path = cache_file(dataset, rf)
    if not path.is_file():
        return None
    verify(
        path,
        expected_digest(rf, path),
        f"dataset {dataset!r}, cached file",
        f"Delete it (rm {path}) and run `course data fetch {dataset}` again.",
    )
    return path


def download(url: str, dest: Path, expected: str | None, desc: str = "") -> str:
    """Download ``url`` to ``dest`` atomically; return the SHA-256.

    The bytes go to a temporary file beside ``dest``; it is verified against
    ``expected`` (when given) and only then renamed to ``dest``. On any failure the
    temporary file is removed and ``dest`` is left as it was.
    """
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "course-utils"})
    with atomic_path(dest) as tmp:  # the temporary file goes unless every check passes
        with (
            urllib.request.urlopen(request, timeout=TIMEOUT_S) as response,
            open(tmp, "wb") as out,
        ):
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            received = 0
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=desc or dest.name, leave=False
            ) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
            if total is not None and received != total:
                raise DataError(f"download of {url} stopped after {received} of {total} bytes")
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise ChecksumError(
                f"download of {url} has SHA-256 {actual}, expected {expected}; "
                "the file was not saved. The source may have changed: report it."
            )
    return actual


def fetch_file(dataset: str, rf: RemoteFile) -> Path:
    """Download ``rf`` into the cache (trying each URL), verify, return the path."""
    if config.offline():
        raise DataError(f"dataset {dataset!r}: COURSE_OFFLINE=1 forbids downloads")
    if not rf.urls:
        raise DataError(f"dataset {dataset!r}: file {rf.name} has no download URL")
    dest = cache_file(dataset, rf)
    errors = []
    for url in rf.urls:
        try:
            digest = download(url, dest, rf.sha256, desc=f"{dataset}/{rf.name}")
        except ChecksumError:
            raise
        except (urllib.error.URLError, OSError, DataError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
            continue
        if rf.sha256 is None:
            tofu_path(dest).write_text(f"{digest}  {rf.name}\n")
        return dest
    raise DataError(f"dataset {dataset!r}: could not download {rf.name}:\n  " + "\n  ".join(errors))


def locate(dataset: str, rf: RemoteFile, download_ok: bool = True) -> tuple[Path | None, list[str]]:
    """Resolve one file; return (path or None, the places looked at)."""
    looked = []
    root = config.mirror_dir()
    if rf.mirror_path is not None:
        if root is None:
            looked.append(f"mirror: COURSE_DATA is not set (would read {rf.mirror_path})")
        else:
            looked.append(f"mirror: {root / rf.mirror_path}")
            path = mirror_file(dataset, rf)
            if path is not None:
                return path, looked
    looked.append(f"cache: {cache_file(dataset, rf)}")
    path = cached_file(dataset, rf)
    if path is not None:
        return path, looked
    if not download_ok:
        return None, looked
    if config.offline():
        looked.append("network: skipped (COURSE_OFFLINE=1)")
        return None, looked
    if not rf.urls:
        looked.append("network: no public URL for this file")
        return None, looked
    try:
        return fetch_file(dataset, rf), looked
    except ChecksumError:
        raise
    except DataError as exc:
        looked.append(f"network: {exc}")
        return None, looked
