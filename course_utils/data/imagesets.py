"""What the image datasets return, and the cache of decoded arrays.

Image arrays come back as :class:`ImageSet` (``uint8`` arrays, ``N x H x W`` or
``N x H x W x 3``) so that a notebook decides itself how to turn them into
tensors; the transforms are part of what is taught.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils import config

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@dataclass
class ImageSet:
    """Images with integer labels. ``images``: uint8, (N, H, W) or (N, H, W, 3).

    For segmentation data ``masks`` holds one mask per image and ``labels`` is
    simply the image's index."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = ()
    source: str = ""
    masks: np.ndarray | None = None  # segmentation masks, (N, H, W) uint8, where present

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (
            f"ImageSet({len(self)} images {self.images.shape[1:]} {self.images.dtype}, "
            f"{len(self.classes) or len(np.unique(self.labels))} classes, {self.source})"
        )

    def subset(self, index) -> ImageSet:
        """Rows ``index`` (a slice, mask or integer array) as a new ImageSet."""
        masks = None if self.masks is None else self.masks[index]
        return ImageSet(self.images[index], self.labels[index], self.classes, self.source, masks)

    def of_classes(self, names) -> ImageSet:
        """Only the classes ``names``, relabelled 0..len(names)-1 in that order."""
        ids = [self.classes.index(n) for n in names]
        keep = np.isin(self.labels, ids)
        remap = {old: new for new, old in enumerate(ids)}
        labels = np.array([remap[int(v)] for v in self.labels[keep]], dtype=np.int64)
        masks = None if self.masks is None else self.masks[keep]
        return ImageSet(self.images[keep], labels, tuple(names), self.source, masks)


def _decoded_cache(archive: Path, tag: str) -> Path:
    """Where decoded arrays of ``archive`` are kept: keyed by the archive's size
    and mtime so that a replaced archive is decoded again."""
    st = archive.stat()
    return config.cache_dir() / "decoded" / f"{tag}-{st.st_size}-{int(st.st_mtime)}.npz"
