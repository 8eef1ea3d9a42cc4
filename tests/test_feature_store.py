"""course_utils.vision.feature_store: batched extraction to disk, lazy reading, atomic finalisation."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from course_utils.vision.feature_store import (
    FeatureDataset,
    FeatureStore,
    FeatureStoreError,
    extract_features,
)


def double_pool(batch):
    x = torch.as_tensor(np.asarray(batch), dtype=torch.float32)
    return torch.stack([x.mean(dim=(1, 2)), x.amax(dim=(1, 2))], dim=1)  # [B, 2, C]


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 255, size=(37, 8, 8, 3)).astype(np.uint8)


def test_extract_writes_every_row_and_reads_back(images, tmp_path):
    calls = []
    store = extract_features(
        lambda b: calls.append(len(b)) or double_pool(b),
        images,
        tmp_path / "s",
        batch_size=10,
        meta={"model": "pool"},
        progress=False,
    )
    assert calls == [10, 10, 10, 7], "extraction must run in batches"
    assert len(store) == 37 and store.feature_shape == (2, 3)
    assert isinstance(store.features, np.memmap)
    np.testing.assert_allclose(store[:], double_pool(images).numpy(), rtol=1e-6)
    index = json.loads((tmp_path / "s" / "index.json").read_text())
    assert index["complete"] and index["meta"] == {"model": "pool"}
    assert not (tmp_path / "s.partial").exists()
    reopened = FeatureStore(tmp_path / "s")
    np.testing.assert_array_equal(reopened[[3, 36]], store[[3, 36]])


def test_existing_store_is_a_cache_and_mismatch_is_an_error(images, tmp_path):
    extract_features(
        double_pool, images, tmp_path / "s", batch_size=16, meta={"v": 1}, progress=False
    )

    def boom(batch):
        raise AssertionError("must not extract again")

    again = extract_features(
        boom, images, tmp_path / "s", batch_size=16, meta={"v": 1}, progress=False
    )
    assert len(again) == 37
    with pytest.raises(FeatureStoreError, match="different feature store.*meta"):
        extract_features(double_pool, images, tmp_path / "s", meta={"v": 2}, progress=False)
    with pytest.raises(FeatureStoreError, match="rows 37 vs 20"):
        extract_features(double_pool, images[:20], tmp_path / "s", meta={"v": 1}, progress=False)
    replaced = extract_features(
        double_pool, images[:20], tmp_path / "s", meta={"v": 1}, overwrite=True, progress=False
    )
    assert len(replaced) == 20


def test_interrupted_extraction_never_looks_complete_and_resumes(images, tmp_path):
    seen = []

    def flaky(batch):
        if len(seen) == 2:
            raise KeyboardInterrupt  # the kernel is interrupted during the third batch
        seen.append(len(batch))
        return double_pool(batch)

    with pytest.raises(KeyboardInterrupt):
        extract_features(flaky, images, tmp_path / "s", batch_size=10, progress=False)
    assert not (tmp_path / "s").exists(), "an unfinished store must not appear at the final path"
    assert (tmp_path / "s.partial").exists()
    with pytest.raises(FeatureStoreError, match="partial extraction exists"):
        FeatureStore(tmp_path / "s")

    resumed = []
    store = extract_features(
        lambda b: resumed.append(len(b)) or double_pool(b),
        images,
        tmp_path / "s",
        batch_size=10,
        progress=False,
    )
    assert resumed == [10, 7], "the two finished batches must not be extracted again"
    np.testing.assert_allclose(store[:], double_pool(images).numpy(), rtol=1e-6)


def test_partial_or_corrupt_store_gives_clear_errors(images, tmp_path):
    extract_features(double_pool, images, tmp_path / "s", batch_size=16, progress=False)
    index_path = tmp_path / "s" / "index.json"
    index = json.loads(index_path.read_text())
    index_path.write_text(json.dumps({**index, "complete": False}))
    with pytest.raises(FeatureStoreError, match="partial store"):
        FeatureStore(tmp_path / "s")
    index_path.write_text(json.dumps({**index, "n": 50}))
    with pytest.raises(FeatureStoreError, match="corrupt"):
        FeatureStore(tmp_path / "s")
    index_path.unlink()
    with pytest.raises(FeatureStoreError, match="index.json is missing"):
        FeatureStore(tmp_path / "s")
    with pytest.raises(FeatureStoreError, match="no feature store"):
        FeatureStore(tmp_path / "nothing")


def test_bad_fn_output(images, tmp_path):
    with pytest.raises(ValueError, match="rows for a batch"):
        extract_features(
            lambda b: np.zeros((1, 4)), images, tmp_path / "a", batch_size=8, progress=False
        )
    shapes = iter([(8, 4), (8, 5)])
    with pytest.raises(ValueError, match="features of shape"):
        extract_features(
            lambda b: np.zeros(next(shapes)),
            images[:16],
            tmp_path / "b",
            batch_size=8,
            progress=False,
        )


def test_dataset_reads_rows_lazily(images, tmp_path):
    store = extract_features(double_pool, images, tmp_path / "s", batch_size=16, progress=False)
    targets = [f"caption {i}" for i in range(37)]
    ds = FeatureDataset(store, targets=targets, indices=[5, 7])
    assert len(ds) == 2
    x, y = ds[1]
    assert isinstance(x, torch.Tensor) and x.shape == (2, 3) and y == "caption 7"
    torch.testing.assert_close(x, double_pool(images[7:8])[0])
    loader = torch.utils.data.DataLoader(FeatureDataset(tmp_path / "s"), batch_size=8)
    assert sum(len(b) for b in loader) == 37
    with pytest.raises(ValueError, match="targets"):
        FeatureDataset(store, targets=[1, 2])


READER = r"""
import resource, sys
import numpy as np
import torch
from course_utils.vision.feature_store import FeatureDataset

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

warm = [torch.zeros(64, 32, 32) for _ in range(16)]  # first-use allocations of torch and the loader
float(next(iter(torch.utils.data.DataLoader(warm, batch_size=16))).sum())
del warm
# cap private memory (heap, anonymous maps) at 48 MiB more than now: a copy of the
# 160 MiB store would raise MemoryError; the read-only file map does not count
cap = int((status_mb("VmData") + 48) * 2**20)
resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
ds = FeatureDataset(sys.argv[1])
loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True,
                                     generator=torch.Generator().manual_seed(0))
total = 0.0
for i, batch in enumerate(loader):
    total += float(batch.sum())
    if i == 7:
        break
print(status_mb("RssAnon"), ds.store.nbytes / 2**20)
"""


def test_reading_does_not_load_the_store(tmp_path):
    """A 160 MiB store read by a DataLoader in a process whose private memory may grow by
    48 MiB at most: rows are read from the memory map one at a time."""
    n, shape = 640, (64, 32, 32)  # 256 KiB a row

    class Rows:  # inputs generated batch by batch: the whole array never exists in memory
        def __len__(self):
            return n

        def __getitem__(self, s):
            k = len(range(*s.indices(n)))
            return np.full((k, *shape), s.start, dtype=np.float32)

    store = extract_features(lambda b: b, Rows(), tmp_path / "big", batch_size=64, progress=False)
    assert store.nbytes >= 160 * 2**20
    assert store[130, 0, 0, 0] == 128.0  # row 130 came from the batch that started at 128
    out = subprocess.run(
        [sys.executable, "-c", READER, str(tmp_path / "big")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[1]) >= 160
