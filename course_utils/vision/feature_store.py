"""An on-disk store of CNN features, written in batches and read lazily.

Extracting features once and training a small head on them is the usual way to
caption (or classify) with a frozen backbone. With many images the features do
not fit in memory (a 7x7x1280 MobileNetV2 grid is 250 KB per image in float32),
so they go to a file, batch after batch, and training reads only the rows it
needs:

>>> store = extract_features(backbone, images, "cache/feats", batch_size=64)  # doctest: +SKIP
>>> ds = FeatureDataset(store, targets=captions)                              # doctest: +SKIP

A store is a folder with ``features.npy`` (a NumPy array file, opened as a
memory map) and ``index.json`` (shape, dtype, number of rows, your metadata,
``"complete": true``). It is written in ``<path>.partial`` and renamed to
``<path>`` only when every row is there, so a store that looks complete is
complete. An interrupted extraction is resumed from its last finished batch
when it is run again with the same inputs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FeatureDataset", "FeatureStore", "FeatureStoreError", "extract_features"]

INDEX, DATA = "index.json", "features.npy"
FORMAT = 1


class FeatureStoreError(ValueError):
    """A store that is partial, corrupt, or does not match what was asked for."""


def _read_index(path: Path) -> dict:
    try:
        return json.loads((path / INDEX).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FeatureStoreError(
            f"{path} is not a feature store: {INDEX} is missing (an extraction that never finished "
            "leaves only a '.partial' folder; run extract_features again)"
        ) from None
    except json.JSONDecodeError as exc:
        raise FeatureStoreError(
            f"{path / INDEX} is not valid JSON ({exc}); delete {path} and extract again"
        ) from None


class FeatureStore:
    """A finished store opened read-only. ``features`` is a ``np.memmap`` of shape
    ``(n, *feature_shape)``: indexing it reads only the rows asked for."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            partial = self.path.with_name(self.path.name + ".partial")
            hint = (
                f" (a partial extraction exists at {partial}: run extract_features to finish it)"
                if partial.exists()
                else ""
            )
            raise FeatureStoreError(f"no feature store at {self.path}{hint}")
        index = _read_index(self.path)
        if not index.get("complete"):
            raise FeatureStoreError(
                f"{self.path} is a partial store ({index.get('rows_done', 0)} of "
                f"{index.get('n')} rows): run extract_features again to finish it"
            )
        if index.get("format") != FORMAT:
            raise FeatureStoreError(
                f"{self.path}: store format {index.get('format')!r}, expected {FORMAT}"
            )
        self.index = index
        data = self.path / DATA
        if not data.exists():
            raise FeatureStoreError(
                f"{self.path}: {DATA} is missing; delete the folder and extract again"
            )
        self.features = np.load(data, mmap_mode="r")
        expected = (index["n"], *index["feature_shape"])
        if self.features.shape != expected or str(self.features.dtype) != index["dtype"]:
            raise FeatureStoreError(
                f"{self.path}: {DATA} holds {self.features.shape} {self.features.dtype}, the index says "
                f"{expected} {index['dtype']}; the store is corrupt: delete it and extract again"
            )

    @property
    def meta(self) -> dict:
        return self.index.get("meta", {})

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(self.index["feature_shape"])

    @property
    def nbytes(self) -> int:
        return int(self.features.nbytes)

    def __len__(self) -> int:
        return int(self.index["n"])

    def __getitem__(self, i):
        """Rows ``i`` (int, slice or index array) as an ordinary in-memory array."""
        return np.array(self.features[i])

    def __repr__(self) -> str:
        return (
            f"FeatureStore({self.path}, {len(self)} rows of {self.feature_shape} {self.index['dtype']}, "
            f"{self.nbytes / 2**20:.1f} MiB on disk)"
        )


def _batches(n: int, batch_size: int, start: int = 0):
    for lo in range(start, n, batch_size):
        yield lo, min(lo + batch_size, n)


def extract_features(
    fn: Callable[[Any], Any],
    inputs: Sequence,
    path: str | os.PathLike,
    batch_size: int = 64,
    meta: dict | None = None,
    dtype: str = "float32",
    overwrite: bool = False,
    progress: bool = True,
) -> FeatureStore:
    """Run ``fn`` over ``inputs`` in batches and write the outputs to a store at ``path``.

    ``inputs``: anything with ``len`` and slicing (a NumPy array, a memmap, a
    list) - only one batch ``inputs[lo:hi]`` is in memory at a time.
    ``fn(batch) -> array or tensor [batch, *feature_shape]``: e.g. a backbone
    under ``torch.no_grad()`` followed by pooling (a tensor is moved to the CPU).
    ``meta``: a JSON-able dict describing the extraction (model, image size...):
    stored in the index and compared when the store exists.

    If a complete store with the same number of rows and ``meta`` exists it is
    returned without running ``fn`` (a cache); with a different one a
    :class:`FeatureStoreError` is raised unless ``overwrite=True``. A partial
    extraction with the same ``meta`` (``<path>.partial``) is resumed.
    """
    path = Path(path)
    n = len(inputs)
    meta = json.loads(json.dumps(meta or {}))  # what it will look like once read back
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, found {batch_size!r}")
    if n == 0:
        raise ValueError("extract_features got no inputs")
    if path.exists():
        try:
            store = FeatureStore(path)
            mismatch = (
                []
                if store.meta == meta and len(store) == n
                else [
                    f"rows {len(store)} vs {n}" if len(store) != n else "",
                    f"meta {store.meta} vs {meta}" if store.meta != meta else "",
                ]
            )
        except FeatureStoreError as exc:
            store, mismatch = None, [str(exc)]
        if not mismatch:
            return store
        if not overwrite:
            raise FeatureStoreError(
                f"a different feature store exists at {path} ({'; '.join(m for m in mismatch if m)}); "
                "pass overwrite=True to replace it, or choose another path"
            )
        shutil.rmtree(path)

    tmp = path.with_name(path.name + ".partial")
    start, out = 0, None
    if tmp.exists():
        try:
            old = json.loads((tmp / INDEX).read_text(encoding="utf-8"))
            if (
                old.get("meta") == meta
                and old.get("n") == n
                and old.get("dtype") == dtype
                and old.get("batch_size") == batch_size
            ):
                out = np.load(tmp / DATA, mmap_mode="r+")
                start = int(old["rows_done"])
                if out.shape != (n, *old["feature_shape"]):
                    out, start = None, 0
        except (OSError, ValueError, KeyError):
            out, start = None, 0
        if out is None:
            shutil.rmtree(tmp)
    if out is None:
        tmp.mkdir(parents=True)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, initial=start, desc=f"features -> {path.name}", unit="img")
    index = {}
    for lo, hi in _batches(n, batch_size, start):
        feats = fn(inputs[lo:hi])
        if hasattr(feats, "detach"):
            feats = feats.detach().cpu().numpy()
        feats = np.asarray(feats, dtype=dtype)
        if feats.shape[0] != hi - lo:
            raise ValueError(f"fn returned {feats.shape[0]} rows for a batch of {hi - lo} inputs")
        if out is None:  # the first batch tells the feature shape
            out = np.lib.format.open_memmap(
                tmp / DATA, mode="w+", dtype=dtype, shape=(n, *feats.shape[1:])
            )
        elif feats.shape[1:] != out.shape[1:]:
            raise ValueError(
                f"fn returned features of shape {feats.shape[1:]}, earlier {out.shape[1:]}"
            )
        out[lo:hi] = feats
        out.flush()
        index = {
            "format": FORMAT,
            "n": n,
            "feature_shape": list(out.shape[1:]),
            "dtype": dtype,
            "batch_size": batch_size,
            "meta": meta,
            "rows_done": hi,
            "complete": False,
        }
        (tmp / (INDEX + ".tmp")).write_text(json.dumps(index), encoding="utf-8")
        os.replace(tmp / (INDEX + ".tmp"), tmp / INDEX)  # the progress note is never half written
        if bar is not None:
            bar.update(hi - lo)
    if bar is not None:
        bar.close()
    del out  # close the memory map before the rename
    index = json.loads((tmp / INDEX).read_text(encoding="utf-8"))
    index["complete"] = True
    (tmp / INDEX).write_text(json.dumps(index, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # atomic: the store appears complete or not at all
    return FeatureStore(path)


try:
    from torch.utils.data import Dataset as _TorchDataset
except ImportError:  # pragma: no cover - torch is a dependency of the course
    _TorchDataset = object


class FeatureDataset(_TorchDataset):
    """A torch ``Dataset`` over a :class:`FeatureStore` that reads one row per
    item from the memory map (RAM use does not grow with the store).

    ``targets``: optional sequence aligned with the rows (labels, caption id
    lists...); ``transform``: applied to the feature tensor. Items are
    ``features`` or ``(features, target)``.
    """

    def __init__(
        self,
        store: FeatureStore | str | os.PathLike,
        targets: Sequence | None = None,
        transform: Callable | None = None,
        indices: Sequence[int] | None = None,
    ):
        self.store = store if isinstance(store, FeatureStore) else FeatureStore(store)
        self.indices = np.arange(len(self.store)) if indices is None else np.asarray(indices)
        if targets is not None and len(targets) != len(self.store):
            raise ValueError(f"{len(targets)} targets for a store of {len(self.store)} rows")
        self.targets, self.transform = targets, transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):
        import torch

        row = int(self.indices[i])
        x = torch.from_numpy(np.array(self.store.features[row]))
        if self.transform is not None:
            x = self.transform(x)
        return x if self.targets is None else (x, self.targets[row])
