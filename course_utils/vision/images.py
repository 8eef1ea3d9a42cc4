"""Image datasets on disk: class folders, CSV splits and a CSV-backed torch Dataset.

The layout used throughout the vision track is the one torchvision's
``ImageFolder`` reads::

    root/cat/00000.png
    root/cat/00001.png
    root/dog/00000.png

>>> write_image_folder(cats_vs_dogs, "data/cats_dogs")          # ImageSet -> PNG files
>>> train_csv, val_csv = split_folder_to_csv("data/cats_dogs", "data/splits", val_fraction=0.1)
>>> ds = CsvImageDataset(train_csv, transform=my_transform)     # (image, class index) pairs

A split is two CSV files with the columns ``path,label`` (``label`` is the class
name, ``path`` is relative to the CSV file's folder unless absolute), so that a
split can be inspected, versioned and shared without copying images. For a
plain class-folder tree without a split, use ``torchvision.datasets.ImageFolder``.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from course_utils.io import atomic_path

__all__ = [
    "IMAGE_EXTENSIONS",
    "CsvImageDataset",
    "NoImagesError",
    "UnreadableImageError",
    "list_class_folders",
    "list_images",
    "open_image",
    "split_folder_to_csv",
    "write_image_folder",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
CSV_COLUMNS = ("path", "label")


class NoImagesError(ValueError):
    """A folder that should hold images holds none."""


class UnreadableImageError(OSError):
    """An image file that exists but cannot be decoded (corrupt, truncated, not an image)."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read image {self.path}: {reason}")


# --------------------------------------------------------------------- reading
def open_image(path, mode: str = "RGB"):
    """The image at ``path`` as a fully decoded PIL image in ``mode``.

    Raises FileNotFoundError for a missing file and :class:`UnreadableImageError`
    (naming the file) for one that is not a readable image."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as img:
            return img.convert(mode)  # convert() forces the full decode
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImageError(path, f"{type(exc).__name__}: {exc}") from None


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def list_images(folder, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (by extension, see ``IMAGE_EXTENSIONS``), sorted.

    ``recursive``: also look in sub-folders. Raises FileNotFoundError /
    NotADirectoryError for a bad folder and :class:`NoImagesError` when it
    holds no image file."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"image folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    found = sorted(
        p for p in (folder.rglob("*") if recursive else folder.iterdir()) if _is_image(p)
    )
    if not found:
        where = "in it or its sub-folders" if recursive else "directly in it"
        raise NoImagesError(
            f"no image files ({', '.join(IMAGE_EXTENSIONS)}) {where}: {folder}"
            + (
                ""
                if recursive or not any(p.is_dir() for p in folder.iterdir())
                else " (it has sub-folders: pass recursive=True / --recursive?)"
            )
        )
    return found


def list_class_folders(root) -> dict[str, list[Path]]:
    """``class name -> sorted image paths`` for a ``root/<class>/*`` tree.

    Raises when ``root`` is missing, has no class sub-folders, or a class folder
    holds no image."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder tree not found: {root}")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise NoImagesError(
            f"{root} has no class sub-folders (expected root/<class>/<image files>)"
        )
    return {c.name: list_images(c) for c in classes}


# --------------------------------------------------------------------- writing
def write_image_folder(
    images,
    root,
    labels=None,
    classes: Sequence[str] | None = None,
    *,
    fmt: str = "png",
    overwrite: bool = False,
) -> dict[str, int]:
    """Write images to ``root/<class>/<NNNNN>.<fmt>``; return ``class -> count``.

    ``images``: an ImageSet (its ``labels`` and ``classes`` are used) or a uint8
    array (N, H, W[, 3]) with ``labels`` (N ints) and ``classes`` (names).
    The tree is written to a temporary folder beside ``root`` and renamed into
    place, so ``root`` is either absent or complete. An existing ``root`` is an
    error unless ``overwrite=True`` (then it is replaced)."""
    from PIL import Image

    if hasattr(images, "images") and hasattr(images, "labels"):
        labels = images.labels if labels is None else labels
        classes = classes or tuple(images.classes)
        images = images.images
    images = np.asarray(images)
    if labels is None:
        raise ValueError("write_image_folder: pass labels (or an ImageSet)")
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(
            f"expected uint8 images (N, H, W[, 3]), found {images.dtype} {images.shape}"
        )
    if not classes:
        classes = [str(c) for c in range(int(labels.max()) + 1)] if len(labels) else []
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f"labels must be in 0..{len(classes) - 1} (classes {list(classes)})")
    for name in classes:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"class name {name!r} cannot be a folder name")
    root = Path(root)
    if root.exists() and not overwrite:
        raise FileExistsError(f"{root} exists; pass overwrite=True to replace it")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.part-"))
    counts = {}
    try:
        for k, name in enumerate(classes):
            (tmp / name).mkdir()
            idx = np.flatnonzero(labels == k)
            for j, i in enumerate(idx):
                Image.fromarray(images[i]).save(tmp / name / f"{j:05d}.{fmt}")
            counts[name] = len(idx)
        if root.exists():  # overwrite: move the old tree aside, then delete it
            old = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.old-"))
            os.replace(root, old / "tree")
            os.replace(tmp, root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return counts


def _write_csv(path: Path, rows) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        w.writerows(rows)


def split_folder_to_csv(
    root,
    out_dir,
    val_fraction: float = 0.1,
    seed: int = 0,
    names: tuple[str, str] = ("train.csv", "val.csv"),
) -> tuple[Path, Path]:
    """Split a ``root/<class>/*`` tree into ``out_dir/train.csv`` and ``out_dir/val.csv``.

    Stratified: each class is shuffled (NumPy generator seeded with ``seed``,
    applied to the sorted file list, so the split depends only on the files and
    the seed) and ``round(n * val_fraction)`` of its images go to validation
    (at least one when the class has two or more). Paths are written relative
    to ``out_dir``; rows are sorted by class then path. Returns the two paths."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), found {val_fraction!r}")
    per_class = list_class_folders(root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train_rows, val_rows = [], []
    for name, paths in per_class.items():
        order = rng.permutation(len(paths))
        n_val = int(round(len(paths) * val_fraction))
        if len(paths) >= 2:
            n_val = min(max(n_val, 1), len(paths) - 1)
        val_idx = set(order[:n_val].tolist())
        for i, p in enumerate(paths):
            rel = Path(os.path.relpath(p.resolve(), out_dir.resolve())).as_posix()
            (val_rows if i in val_idx else train_rows).append((rel, name))
    train_csv, val_csv = out_dir / names[0], out_dir / names[1]
    _write_csv(train_csv, train_rows)
    _write_csv(val_csv, val_rows)
    return train_csv, val_csv


# --------------------------------------------------------------------- dataset
class CsvImageDataset(Dataset):
    """A torch Dataset of ``(transform(image), class index)`` read from a CSV file
    with the columns ``path,label`` (as written by :func:`split_folder_to_csv`).

    - relative paths are resolved against the CSV file's folder;
    - ``classes``: the class names in index order (default: the sorted labels of
      this CSV; pass the training set's ``classes`` to the validation set so the
      indices agree);
    - ``transform``: applied to the PIL image (RGB by default, ``mode``).

    A CSV without the two columns, a label outside ``classes``, a missing image
    and an unreadable image are errors naming the CSV file, its row and the image.
    """

    def __init__(
        self,
        csv_path,
        transform: Callable | None = None,
        classes: Sequence[str] | None = None,
        mode: str = "RGB",
    ):
        self.csv_path = Path(csv_path)
        if not self.csv_path.is_file():
            raise FileNotFoundError(f"CSV file not found: {self.csv_path}")
        with self.csv_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in CSV_COLUMNS if c not in header]
            if missing:
                raise ValueError(
                    f"{self.csv_path}: expected the columns {','.join(CSV_COLUMNS)}, "
                    f"found {header or 'an empty file'} (missing {missing})"
                )
            rows = [(r["path"], r["label"]) for r in reader]
        if not rows:
            raise NoImagesError(f"{self.csv_path}: no rows after the header")
        base = self.csv_path.parent
        self.paths = [Path(p) if Path(p).is_absolute() else base / p for p, _ in rows]
        labels = [lab for _, lab in rows]
        self.classes = list(classes) if classes is not None else sorted(set(labels))
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        unknown = sorted(set(labels) - set(self.class_to_idx))
        if unknown:
            raise ValueError(
                f"{self.csv_path}: labels {unknown} are not among the classes {self.classes}"
            )
        self.targets = [self.class_to_idx[lab] for lab in labels]
        self.transform = transform
        self.mode = mode

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        path = self.paths[i]
        try:
            img = open_image(path, self.mode)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{self.csv_path} row {i + 2}: image file not found: {path}"
            ) from None
        except UnreadableImageError as exc:
            raise UnreadableImageError(
                path, f"{exc.reason} (listed in {self.csv_path} row {i + 2})"
            ) from None
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[i]

    def __repr__(self) -> str:
        counts = np.bincount(self.targets, minlength=len(self.classes))
        per = ", ".join(f"{c}: {n}" for c, n in zip(self.classes, counts))
        return f"CsvImageDataset({self.csv_path}, {len(self)} images; {per})"
