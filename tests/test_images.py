"""course_utils.vision.images: class folders, CSV splits and the CSV dataset."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.data.imagesets import ImageSet
from course_utils.vision.images import (
    CsvImageDataset,
    NoImagesError,
    UnreadableImageError,
    list_class_folders,
    list_images,
    open_image,
    split_folder_to_csv,
    write_image_folder,
)


def _imageset(n_per_class=10, classes=("cat", "dog"), size=8):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(classes)), n_per_class)
    images = rng.integers(0, 256, (len(labels), size, size, 3), dtype=np.uint8)
    return ImageSet(images, labels, tuple(classes), "test")


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_write_image_folder_round_trips_pixels(tmp_path):
    ims = _imageset(3)
    counts = write_image_folder(ims, tmp_path / "tree")
    assert counts == {"cat": 3, "dog": 3}
    tree = list_class_folders(tmp_path / "tree")
    assert list(tree) == ["cat", "dog"] and [p.name for p in tree["dog"]] == [
        "00000.png",
        "00001.png",
        "00002.png",
    ]
    # PNG is lossless: the second dog is the fifth image
    np.testing.assert_array_equal(np.asarray(Image.open(tree["dog"][1])), ims.images[4])
    # no temporary folder left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]


def test_write_image_folder_arrays_grey_and_overwrite(tmp_path):
    images = np.zeros((4, 5, 5), dtype=np.uint8)
    images[2] = 200
    write_image_folder(images, tmp_path / "t", labels=[0, 1, 1, 0], classes=["a", "b"])
    assert np.asarray(Image.open(tmp_path / "t" / "b" / "00001.png")).max() == 200
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_image_folder(images, tmp_path / "t", labels=[0, 1, 1, 0], classes=["a", "b"])
    write_image_folder(images[:2], tmp_path / "t", labels=[0, 0], classes=["only"], overwrite=True)
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["only"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_write_image_folder_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        write_image_folder(
            np.zeros((2, 4, 4), np.uint8), tmp_path / "x", labels=[0, 5], classes=["a", "b"]
        )
    with pytest.raises(ValueError, match="uint8"):
        write_image_folder(
            np.zeros((2, 4, 4), np.float32), tmp_path / "x", labels=[0, 1], classes=["a", "b"]
        )
    with pytest.raises(ValueError, match="folder name"):
        write_image_folder(
            np.zeros((1, 4, 4), np.uint8), tmp_path / "x", labels=[0], classes=["a/b"]
        )
    assert not (tmp_path / "x").exists()


def test_list_images_errors_and_filtering(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        list_images(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        list_images(tmp_path / "f.txt")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "sub" / "a.PNG")
    with pytest.raises(NoImagesError, match="recursive"):
        list_images(tmp_path)
    assert [p.name for p in list_images(tmp_path, recursive=True)] == ["a.PNG"]
    Image.new("RGB", (4, 4)).save(tmp_path / "b.jpg")
    (tmp_path / ".hidden.png").write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["b.jpg"]


def test_list_class_folders_needs_subfolders(tmp_path):
    with pytest.raises(NoImagesError, match="class sub-folders"):
        list_class_folders(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(NoImagesError, match="empty_class"):
        list_class_folders(tmp_path)


def test_split_is_stratified_disjoint_and_deterministic(tmp_path):
    write_image_folder(_imageset(20, ("cat", "dog", "owl")), tmp_path / "tree")
    tr, va = split_folder_to_csv(tmp_path / "tree", tmp_path / "splits", val_fraction=0.1, seed=3)
    train, val = _read_csv(tr), _read_csv(va)
    assert list(train[0]) == ["path", "label"]
    assert len(train) == 54 and len(val) == 6
    assert {r["label"]: sum(v["label"] == r["label"] for v in val) for r in val} == {
        "cat": 2,
        "dog": 2,
        "owl": 2,
    }
    assert not {r["path"] for r in train} & {r["path"] for r in val}
    # paths are relative to the CSV's folder and point at real files
    assert all(
        not r["path"].startswith("/") and (tmp_path / "splits" / r["path"]).is_file() for r in train
    )
    # same seed -> same files; another seed -> another split
    tr2, va2 = split_folder_to_csv(tmp_path / "tree", tmp_path / "again", seed=3)
    assert [r["path"].split("tree/")[1] for r in _read_csv(va2)] == [
        r["path"].split("tree/")[1] for r in val
    ]
    _, va3 = split_folder_to_csv(tmp_path / "tree", tmp_path / "other", seed=4)
    assert {r["path"] for r in _read_csv(va3)} != {r["path"] for r in _read_csv(va2)}


def test_split_keeps_one_validation_image_of_a_tiny_class(tmp_path):
    write_image_folder(_imageset(2), tmp_path / "tree")
    tr, va = split_folder_to_csv(tmp_path / "tree", tmp_path, val_fraction=0.1)
    assert len(_read_csv(tr)) == 2 and len(_read_csv(va)) == 2
    with pytest.raises(ValueError, match="val_fraction"):
        split_folder_to_csv(tmp_path / "tree", tmp_path, val_fraction=1.0)


def test_csv_dataset_reads_images_and_labels(tmp_path):
    ims = _imageset(5)
    write_image_folder(ims, tmp_path / "tree")
    tr, va = split_folder_to_csv(tmp_path / "tree", tmp_path / "s", val_fraction=0.2)
    train = CsvImageDataset(tr, transform=lambda im: torch.as_tensor(np.array(im)))
    val = CsvImageDataset(va, classes=train.classes)
    assert train.classes == ["cat", "dog"] and len(train) == 8 and len(val) == 2
    x, y = train[0]
    assert x.shape == (8, 8, 3) and x.dtype == torch.uint8 and y == 0
    img, y_val = val[1]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and y_val == 1
    assert "cat: 4, dog: 4" in repr(train)
    loader = torch.utils.data.DataLoader(train, batch_size=4)
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 8, 8, 3) and yb.tolist() == [0, 0, 0, 0]


def test_csv_dataset_clear_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("file,class\na.png,cat\n")
    with pytest.raises(ValueError, match=r"bad\.csv.*path,label"):
        CsvImageDataset(bad)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        CsvImageDataset(tmp_path / "nope.csv")
    Image.new("RGB", (4, 4)).save(tmp_path / "ok.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    rows = tmp_path / "rows.csv"
    rows.write_text("path,label\nok.png,cat\nmissing.png,dog\nbroken.jpg,dog\n")
    ds = CsvImageDataset(rows)
    assert ds[0][1] == 0
    with pytest.raises(FileNotFoundError, match=r"rows\.csv row 3.*missing\.png"):
        ds[1]
    with pytest.raises(UnreadableImageError, match=r"broken\.jpg.*rows\.csv row 4"):
        ds[2]
    with pytest.raises(ValueError, match="not among the classes"):
        CsvImageDataset(rows, classes=["cat"])


def test_open_image_truncated_file(tmp_path):
    Image.new("RGB", (64, 64), "red").save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert open_image(tmp_path / "full.jpg").size == (64, 64)
    with pytest.raises(UnreadableImageError, match="cut.jpg"):
        open_image(tmp_path / "cut.jpg")
