"""Registry entry ``mnist``: MNIST digits as :class:`ImageSet`."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from course_utils.data.fetch import RemoteFile
from course_utils.data.imagesets import ImageSet
from course_utils.data.registry import Dataset

# --------------------------------------------------------------------- MNIST
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist"


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 8 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4]!r})")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, found {body.size} bytes of data")
    return body.reshape(shape)


def _load_mnist(get, split, limit: int | None = None):
    x = _read_idx(get(f"{split}_images"))
    y = _read_idx(get(f"{split}_labels")).astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f"MNIST {split}: {len(x)} images but {len(y)} labels")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ImageSet(x, y, tuple(str(d) for d in range(10)), f"MNIST {split}")


def _mnist_standin(split, limit: int | None = None):
    from course_utils.data.standins_vision import digits_like

    n = limit or (6000 if split == "train" else 2000)
    x, y = digits_like(n, seed=0 if split == "train" else 1)
    return (
        ImageSet(x, y, tuple(str(d) for d in range(10)), f"stand-in: rendered digits ({split})"),
        "digits 0-9 rendered from a font with random affine distortions and stroke width "
        "(course_utils.data.standins_vision), not handwriting",
    )


MNIST = Dataset(
    name="mnist",
    description="MNIST handwritten digits 28x28: 60,000 train / 10,000 test (load(...) -> ImageSet)",
    license="CC BY-SA 3.0 (Y. LeCun and C. Cortes)",
    homepage="http://yann.lecun.com/exdb/mnist/",
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            urls=(f"{_MNIST}/train-images-idx3-ubyte.gz",),
            sha256=None,
            size=9912422,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            urls=(f"{_MNIST}/train-labels-idx1-ubyte.gz",),
            sha256="ec02e7948609e5754d47881c09b8afdd8dfa60600b9e5388c8c54a67069ec772",
            size=28881,
            mirror_path="mnist/train-labels-idx1-ubyte.gz",
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            urls=(f"{_MNIST}/t10k-images-idx3-ubyte.gz",),
            sha256="167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
            size=1648877,
            mirror_path="mnist/t10k-images-idx3-ubyte.gz",
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            urls=(f"{_MNIST}/t10k-labels-idx1-ubyte.gz",),
            sha256="fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
            size=4542,
            mirror_path="mnist/t10k-labels-idx1-ubyte.gz",
        ),
    },
    splits=("train", "test"),
    loader=_load_mnist,
    standin=_mnist_standin,
    notes="The mirror has the 10,000 test images only (train images online): notebooks that "
    "must run offline split the test set into their own train/held-out parts.",
)

ENTRIES = (MNIST,)
