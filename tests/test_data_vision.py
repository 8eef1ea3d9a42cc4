"""Vision registry entries and pretrained torchvision weights: real files from the
mirror (skipped without it), stand-ins offline in small mode, clear errors in full
mode, and the decoders on hand-made archives."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import warnings
from unittest import mock

import numpy as np
import pytest

from course_utils import config, data
from course_utils.data import DataError, StandInWarning
from course_utils.data import standins_vision as sv
from course_utils.data.datasets import cifar10, mnist
from tests.conftest import mirror_path, requires_mirror

MIRROR = mirror_path()
VISION = ["cifar10", "mnist", "isbi_membrane", "style_images", "imagenet_samples"]


@pytest.fixture
def offline_small(isolated_cache, monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return isolated_cache


@pytest.fixture
def offline_full(isolated_cache, monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.delenv("COURSE_SMALL", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return isolated_cache


def test_entries_are_complete():
    for name in VISION:
        entry = data.get_entry(name)
        assert entry.license and entry.homepage.startswith("http") and entry.standin is not None
        for role, rf in entry.files.items():
            assert rf.urls and all(u.startswith("https://") for u in rf.urls), (name, role)
    assert data.get_entry("mnist").trust_on_first_use == ["train_images"]
    assert len(data.get_entry("isbi_membrane").files) == 60


# ------------------------------------------------------------------ real files
@requires_mirror
def test_cifar10_slice_from_mirror_is_balanced(mirror):
    test = data.load("cifar10", split="test", limit=200)
    assert test.images.shape == (200, 32, 32, 3) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [20] * 10
    assert test.classes[3] == "cat" and test.images.std() > 30  # real photos, not blank
    cats_dogs = test.of_classes(["cat", "dog"])
    assert len(cats_dogs) == 40 and set(cats_dogs.labels) == {0, 1}
    assert cats_dogs.classes == ("cat", "dog")


@requires_mirror
def test_mnist_and_isbi_from_mirror(mirror, monkeypatch):
    mnist = data.load("mnist", split="test")
    assert mnist.images.shape == (10000, 28, 28) and np.bincount(mnist.labels).min() > 800
    isbi = data.load("isbi_membrane", split="train", size=128)
    assert isbi.images.shape == isbi.masks.shape == (30, 128, 128)
    assert set(np.unique(isbi.masks)) == {0, 1} and 0.6 < isbi.masks.mean() < 0.9
    monkeypatch.delenv("COURSE_SMALL", raising=False)  # full mode: no stand-in
    with pytest.raises(DataError, match="train-images"):
        data.load("mnist", split="train")  # not mirrored, no network: a clear error


@requires_mirror
def test_pictures_and_mobilenet_from_mirror(mirror, monkeypatch):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(mirror / "no-torch-home"))
    from course_utils.pretrained import load_torchvision

    style = data.load("style_images")
    assert set(style) == {"picasso", "dancing", "starry_night", "the_scream"}
    tiger = data.load("imagenet_samples", split="tiger")
    model, weights = load_torchvision("mobilenet_v2")  # found in the mirror's torch folder
    assert weights.name == "IMAGENET1K_V1"
    import torch

    with torch.no_grad():
        probs = model(weights.transforms()(tiger)[None]).softmax(-1)[0]
    assert weights.meta["categories"][int(probs.argmax())] == "tiger"
    with pytest.raises(ValueError, match="unknown picture"):
        data.load("imagenet_samples", split="zebra")


# ------------------------------------------------------------------ offline
def test_standins_offline_small(offline_small):
    with pytest.warns(StandInWarning):
        cifar = data.load("cifar10", split="train", limit=100)
    assert (
        cifar.images.shape == (100, 32, 32, 3) and np.bincount(cifar.labels).tolist() == [10] * 10
    )
    with pytest.warns(StandInWarning):
        mnist = data.load("mnist", split="test", limit=50)
    assert mnist.images.shape == (50, 28, 28) and mnist.images.max() > 200
    with pytest.warns(StandInWarning):
        isbi = data.load("isbi_membrane", split="train", size=64)
    assert isbi.images.shape == isbi.masks.shape == (30, 64, 64)
    assert 0.5 < isbi.masks.mean() < 0.97
    with pytest.warns(StandInWarning):
        pic = data.load("style_images", split="starry_night", max_side=64)
    assert pic.size == (64, 64)


def test_full_mode_offline_errors_say_what_to_do(offline_full):
    for name, split in [("cifar10", "train"), ("mnist", "test"), ("isbi_membrane", "train")]:
        with pytest.raises(DataError, match="COURSE_DATA|course data fetch"):
            data.load(name, split=split)


def test_torchvision_standin_small_and_error_full(isolated_cache, monkeypatch, tmp_path):
    from course_utils.pretrained import load_torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_SMALL", raising=False)
    with pytest.raises(DataError, match="mobilenet_v2-.*pth"):
        load_torchvision("mobilenet_v2")
    monkeypatch.setenv("COURSE_SMALL", "1")
    with pytest.warns(StandInWarning, match="RANDOM weights"):
        model, weights = load_torchvision("mobilenet_v2")
    assert not model.training and len(weights.meta["categories"]) == 1000
    with pytest.raises(ValueError, match="unknown torchvision model"):
        load_torchvision("mobilenet_v9")


# ------------------------------------------------------------------ decoders
def test_python_cifar_archive_is_decoded(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tf:
        for name, n in [("data_batch_1", 6), ("data_batch_2", 4), ("test_batch", 5)]:
            batch = {
                b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
                b"labels": list(range(n)),
            }
            raw = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    arrays = cifar10._decode_cifar_python_tar(path)
    assert arrays["train_x"].shape == (10, 32, 32, 3) and arrays["test_y"].tolist() == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_idx_reader_checks_the_header(tmp_path):
    good = tmp_path / "good.gz"
    body = np.arange(2 * 3 * 4, dtype=np.uint8)
    good.write_bytes(
        gzip.compress(
            bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2, 3, 4)) + body.tobytes()
        )
    )
    assert mnist._read_idx(good).shape == (2, 3, 4)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"PK\x03\x04not an idx"))
    with pytest.raises(ValueError, match="not an IDX"):
        mnist._read_idx(bad)


def test_standin_generators_are_learnable_and_deterministic():
    x1, y1 = sv.cifar10_like(40, seed=3)
    x2, y2 = sv.cifar10_like(40, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    # the classes differ visibly: mean colour of class 8 (ship, blue) vs 1 (car, grey)
    xs, ys = sv.cifar10_like(400, seed=0)
    assert xs[ys == 8][..., 2].mean() > xs[ys == 1][..., 2].mean() + 20
    img, mask = sv.membranes_like(2, size=48, seed=1)
    assert img[mask == 0].mean() < img[mask == 1].mean() - 40  # membranes are dark
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digits, labels = sv.digits_like(20, seed=0)
    assert digits.shape == (20, 28, 28) and set(labels) <= set(range(10))


@requires_mirror
def test_cifar10_slice_is_decoded_once_and_cached(mirror):
    """A limited load decodes its slice of the JPEG archive once; the next load of the
    same slice reads the cached arrays, equal to the first, without opening the archive."""
    first = data.load("cifar10", split="train", limit=30)
    found = list((config.cache_dir() / "decoded").glob("cifar10-train-*"))
    assert [p.name.split("-per-class")[0] for p in found] == ["cifar10-train-3"], found
    with mock.patch.object(cifar10, "_decode_cifar_jpg_subset", side_effect=AssertionError):
        again = data.load("cifar10", split="train", limit=30)
    assert np.array_equal(first.images, again.images)
    assert np.array_equal(first.labels, again.labels)
