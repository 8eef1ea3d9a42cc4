"""Registry entries for the vision track: CIFAR-10, MNIST, ISBI membranes and
the style-transfer / ImageNet sample photos.

Image arrays come back as :class:`ImageSet` (``uint8`` arrays, ``N x H x W`` or
``N x H x W x 3``) so that a notebook decides itself how to turn them into
tensors; the transforms are part of what is taught.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils import config
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset, register
from course_utils.io import atomic_save_npz

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


# ------------------------------------------------------------------ CIFAR-10
_CIFAR_PY = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def _decode_cifar_jpg_tar(path: Path) -> dict[str, np.ndarray]:
    """The mirror's layout: ``{train,test}/<class>/NNNN.jpg`` inside a .tar.gz."""
    from PIL import Image
    from tqdm.auto import tqdm

    out = {s: ([], []) for s in ("train", "test")}
    pattern = re.compile(r"(?:^|/)(train|test)/([a-z]+)/[^/]+\.(?:jpg|jpeg|png)$")
    with tarfile.open(path) as tf, tqdm(total=60000, desc="decoding CIFAR-10 (once)") as bar:
        for member in tf:
            m = pattern.search(member.name)
            if not (member.isfile() and m):
                continue
            split, cls = m.groups()
            if cls not in CIFAR10_CLASSES:
                raise ValueError(f"{path}: unexpected class folder {cls!r} in {member.name}")
            img = Image.open(io.BytesIO(tf.extractfile(member).read())).convert("RGB")
            out[split][0].append(np.asarray(img, dtype=np.uint8))
            out[split][1].append(CIFAR10_CLASSES.index(cls))
            bar.update(1)
    arrays = {}
    for split, (imgs, labels) in out.items():
        if not imgs:
            raise ValueError(f"{path}: no {split}/<class>/*.jpg images found")
        arrays[f"{split}_x"] = np.stack(imgs)
        arrays[f"{split}_y"] = np.asarray(labels, dtype=np.int64)
    return arrays


def _decode_cifar_python_tar(path: Path) -> dict[str, np.ndarray]:
    """The official ``cifar-10-python.tar.gz`` (pickled batches)."""
    import pickle

    parts = {"train": [], "test": []}
    with tarfile.open(path) as tf:
        for member in tf:
            base = member.name.rsplit("/", 1)[-1]
            split = (
                "train"
                if base.startswith("data_batch_")
                else "test"
                if base == "test_batch"
                else None
            )
            if split is None or not member.isfile():
                continue
            batch = pickle.load(tf.extractfile(member), encoding="bytes")
            x = (
                np.asarray(batch[b"data"], dtype=np.uint8)
                .reshape(-1, 3, 32, 32)
                .transpose(0, 2, 3, 1)
            )
            parts[split].append((base, x, np.asarray(batch[b"labels"], dtype=np.int64)))
    arrays = {}
    for split, batches in parts.items():
        if not batches:
            raise ValueError(
                f"{path}: expected data_batch_1..5 and test_batch, found no {split} batch"
            )
        batches.sort(key=lambda b: b[0])
        arrays[f"{split}_x"] = np.concatenate([b[1] for b in batches])
        arrays[f"{split}_y"] = np.concatenate([b[2] for b in batches])
    return arrays


def _decode_cifar_jpg_subset(path: Path, split: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Only the first ``ceil(limit / 10)`` images of each class of ``split``: reading
    a few thousand JPEGs is much cheaper than decoding all 60,000."""
    from PIL import Image

    per_class = -(-limit // 10)
    pattern = re.compile(rf"(?:^|/){split}/([a-z]+)/[^/]+\.(?:jpg|jpeg|png)$")
    taken = {c: 0 for c in CIFAR10_CLASSES}
    imgs, labels = [], []
    with tarfile.open(path) as tf:
        for member in tf:
            m = pattern.search(member.name)
            if not (member.isfile() and m) or taken.get(m.group(1), per_class) >= per_class:
                continue
            taken[m.group(1)] += 1
            img = Image.open(io.BytesIO(tf.extractfile(member).read())).convert("RGB")
            imgs.append(np.asarray(img, dtype=np.uint8))
            labels.append(CIFAR10_CLASSES.index(m.group(1)))
    if not imgs:
        raise ValueError(f"{path}: no {split}/<class>/*.jpg images found")
    return np.stack(imgs), np.asarray(labels, dtype=np.int64)


def _is_python_format(archive: Path) -> bool:
    with tarfile.open(archive) as tf:
        first = [m.name for _, m in zip(range(50), tf)]
    return any("data_batch" in n or "test_batch" in n for n in first)


def _load_cifar10(get, split, limit: int | None = None):
    archive = Path(get("archive"))
    cached = _decoded_cache(archive, "cifar10")
    if cached.exists() or limit is None or _is_python_format(archive):
        if not cached.exists():
            python_format = _is_python_format(archive)
            arrays = (_decode_cifar_python_tar if python_format else _decode_cifar_jpg_tar)(archive)
            atomic_save_npz(cached, **arrays)
        with np.load(cached) as z:
            x, y = z[f"{split}_x"], z[f"{split}_y"]
    else:  # a small slice of the JPEG archive: decode just that
        x, y = _decode_cifar_jpg_subset(archive, split, limit)
    if limit is not None:
        x, y = _balanced_head(x, y, limit)
    return ImageSet(x, y, CIFAR10_CLASSES, f"CIFAR-10 {split} ({archive.name})")


def _balanced_head(x, y, limit: int):
    """The first ``limit`` rows in a class-interleaved order, so that a prefix of a
    class-sorted archive still holds every class in equal numbers."""
    idx = np.sort(_interleave(y)[:limit])
    return x[idx], y[idx]


def _rank_within_class(y):
    rank = np.zeros(len(y), dtype=np.int64)
    for c in np.unique(y):
        where = np.flatnonzero(y == c)
        rank[where] = np.arange(len(where))
    return rank


def _interleave(y):
    """Indices ordered by (rank within class, class): c0, c1, ..., c9, c0, ..."""
    return np.lexsort((y, _rank_within_class(y)))


def _cifar10_standin(split, limit: int | None = None):
    from course_utils.data.standins_vision import cifar10_like

    n = limit or (5000 if split == "train" else 1000)
    x, y = cifar10_like(n, seed=0 if split == "train" else 1)
    return (
        ImageSet(x, y, CIFAR10_CLASSES, f"stand-in: generated shapes ({split})"),
        "generated 32x32 pictures, one shape/colour scheme per CIFAR-10 class "
        "(course_utils.data.standins_vision), not photographs",
    )


register(
    Dataset(
        name="cifar10",
        description="CIFAR-10: 50,000 train / 10,000 test 32x32 colour images, 10 classes "
        "(load(...) -> ImageSet; limit=N keeps every class)",
        license="CIFAR-10 terms (Krizhevsky 2009): free for research and teaching",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files={
            "archive": RemoteFile(
                "cifar-10-python.tar.gz",
                urls=(_CIFAR_PY,),
                sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                size=170498071,
                mirror_path="cifar10/cifar10-jpg.tar.gz",
                mirror_sha256="b5ae53bd4c6e1a9ba90d02723057ed2b08020831eab31364efd7f06976cfb19d",
            ),
        },
        splits=("train", "test"),
        loader=_load_cifar10,
        standin=_cifar10_standin,
        notes="The mirror holds the images re-encoded as JPEG (lossy, ~0.5 point lower accuracy "
        "is possible); online the official pickled archive. Decoded once into the cache.",
    )
)


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


register(
    Dataset(
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
)


# -------------------------------------------------------------- ISBI membranes
_UNET = "https://raw.githubusercontent.com/zhixuhao/unet/master/data/membrane"
_ISBI_SHA = {
    "image": [
        "12c0ed6f42fc09f512abf6b354f217c950e4c8223b57a0315449b62a14556523",
        "2cfc7ee635a6f85d5faf5c82a71d3a37bf5af4784b554964e3e07193e3ee2166",
        "fe60d8d4f93102666a23a18d718b4b59fab8e616987d11c5072f4a87fac7301f",
        "636d16cbb02f99dda4c9fb6db98dfba066142afa981ffdcfaf54453982e8250c",
        "991fb3a8e4abc73da1d6159ca28fa4397f0a8351f30a8ba3669c86414d2ce239",
        "7e9d9fb787664336d6f2cd68b23986f04527e7f8f494410983b4d70c6de1de3b",
        "7c0a87933ffc72f4ff02f5996d9c3f69fe9a0b5277507415743ad8afb5e5d308",
        "19f2c25716107d41008c83ba8a814ae47a090e00dea766dde38dce1f00899270",
        "a8979e4abd1a10af9ca75e614d97875659adbd8ee3a68eba483bf556cfe3023d",
        "730ebf435ab0f6e625d342552ad03736799fd660d0c6af744674c61a46aa082a",
        "7c3717bcd48c4b7e5c878d7f0b809b8687a4e6fac471f3863de320a82ee72b8a",
        "dd7857b25ca1417f87c282750e22c50947f75e81fa032d4e0c96b902c9dc9757",
        "9f8eff9239bb764d51524a998387a7babcff9f62161804651b030b81aabd5ab8",
        "377e5cdbcd7f0ac7336f482fc7ead7446887863f26769b3841fe98aadca77dad",
        "f50d2d77acd2df564c5f0f40b1b24cd929f5944460aa4cd90c422cb5cef33a59",
        "3e13fdea09accc14f46fb2f3ffa1e882cdd9c53b28a6842c4c10229692c7d1a4",
        "ffc951c12450f94129582c16fd0d4b165c4a31469b0c42d966f07c183d3132e2",
        "0f4f7e8e0619e4c7d517ac68d3789a3b6248253747717eac418bb7d32bef4de3",
        "1bb1edd50595861743d14e1955dfa5d3c9395fb87563eca6dc81433bf9df49de",
        "999b55633f8d7082add72082656e9532c5c3d97203b376eb317f09ba88a5a5b7",
        "9153d14bfd15955fab576ea23281c4f23104b45dceed6e03e0b254607f50a1b2",
        "9ad07cf4f67984f17a08aa63e6d92d395ce55f5132e6ff4fa6d95d6890ea7f97",
        "6278609b4c42a7cb43212de0e2e2ceded758bafe0856fb56214ce658a61668e4",
        "9ef4e9fbc838b9791af83a36918d729a0ea2e90ebc71c4a3c4554059f9379756",
        "f0f917b9c3e9c96d16ea287aff9b05ecf4de88bc61d478e4aefcb64932fba70c",
        "e0154737e76392e8bf94fb2c0dfa5ddad4b53aeec942a0a8cdd8ba63443e6072",
        "d0ff11e09b0ee0c817334946e746a38ab621161d5f9c46af95c68b851f8d9a1a",
        "eed8e8bee1db8fe7af39b5b43ecf14282c5c33eca0959726eea06f662027eacc",
        "974df4b51e8905bdaabe61e80496cbf331f5c9aa9ddc2cb94113f58c2b7d2837",
        "d9ae868509c610a69acbf3d69cde4f36a8e344cbbc444f93c917bf7b9f3e784f",
    ],
    "label": [
        "13b67edd7607a1f284c09170c96a27d38422b0ffaf88024ea5b689acb5e1b4b0",
        "cff60a00de2901e67165c91d7708d784e4c5bcc9d1c8c677922c905d63bbc3d1",
        "a578af998c017f56763b81941c4dc612dde5731809b2cea0e8ebc37aecb84dbb",
        "c8ae3b843fed02e09411a24c10850160922c331041b17c2674025f05a99b8834",
        "a2f19c01b5d982a97923a0d29e64127a05e3f496731480ac9d9d302b5427f7ff",
        "2dd5779118f6f4d87f88ec112f1cea20663b50acb8c748b0db1f23eda82b5118",
        "2b0984e9f31fb41d4c5f4a754a3e080036b7321a0cbd9591a62010d20a574ce7",
        "2ebc8c835999589bfd7d80d81f83d24e5c41138362b0faafef0f009e1ce82144",
        "db979010ca4fbdb38c8b32d455aed0da90d598153f2a0046b63d02a6efa32b9e",
        "8ee6c79adbb740595c4d61776e065e7164c00d52c7dd7562b5279041e7f3567b",
        "b0156cc8186b0ee521927ac95645b406a42d27564607a6fea3a59c34add78f7c",
        "e47b3aa0cfb3106476af1666e631d45bd16dbf2aff88260ee65d16e4134332db",
        "85a7a899c0b72b81633ad122887ba5161d650385d7775a5b3074eb00131b3620",
        "88549c22fd647312d6b37e17d33e90800d347d60ccb1156a8dde5e67394f9f3d",
        "bcd775017eb4fdbdfe7ad6cc6420b2f16aa9d0576894d08370edcf564b46680a",
        "59a854887b504ff00a5b4b93b2299bbc0bf0cbe54dea58d2b31969229b28b369",
        "b34eb88cdc3313a6f4190f5753465df7f69d8f3c243a5c25427b1b99ecfe2499",
        "4fa076cbeb744803d987dc46cf308dc3026408e7a5188838e30e25fe3ea67dbe",
        "bd009dda57f204804732f592ed1d41ba18961d83c492413fe71548efa4a288d9",
        "bf38407c55b6033c1677230228ecb100a11294aa74a7b92e5edfdc4abadcfef9",
        "7af7296f2e892866669d4e4f9c0d4178987e6ec6e7d0751ec238d1bbe2da9c55",
        "772c722acb2eac01769b53fa5037a3d62745e53102398bf9b2202df605cadda4",
        "b19f5533ec24077a2395a085fe53af75dd350ef03798c4ff40ba9ebecb2ee0ad",
        "2d8f1df5c9ee83e59eb2d709eb153b0570f12e726690f586154b01b0a88bb540",
        "6ab02d922b5c937ecfe2a479be87a5d3e5ef950dc48da09d31f37b47d899ca9c",
        "c5ea59aca7789dd507ac31c4a82bbd4c172f9e3544f8e040442c20d1dfa9e16d",
        "b056fae9f358111b6c9e2494bdba645f206be581959b8d3763e97d62a65dd961",
        "5be3823a57c82b632cead6eb09f438c6010a244dc0975f2a3e466f45d2c06840",
        "c0b0e2a2b7aad46919d1afc980f7d5e39101fb07948ce65d9cac802d8b47682e",
        "1e8839a97178914171defd6a97158f06fcac1fc3f0d45f2acdff9c49ab3fced9",
    ],
}
ISBI_N = 30


def _isbi_files() -> dict[str, RemoteFile]:
    files = {}
    for kind in ("image", "label"):
        for i, sha in enumerate(_ISBI_SHA[kind]):
            files[f"{kind}/{i}"] = RemoteFile(
                f"{kind}_{i}.png",
                urls=(f"{_UNET}/train/{kind}/{i}.png",),
                sha256=sha,
                mirror_path=f"isbi_membrane/train/{kind}/{i}.png",
            )
    return files


def _read_gray_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8)


def _load_isbi(get, split, size: int | None = None):
    images, masks = [], []
    for i in range(ISBI_N):
        img, lab = _read_gray_png(get(f"image/{i}")), _read_gray_png(get(f"label/{i}"))
        if img.shape != lab.shape:
            raise ValueError(f"ISBI pair {i}: image {img.shape} but mask {lab.shape}")
        images.append(img)
        masks.append((lab > 127).astype(np.uint8))
    x, m = np.stack(images), np.stack(masks)
    if size is not None and size != x.shape[1]:
        x, m = _resize_stack(x, size, smooth=True), _resize_stack(m, size, smooth=False)
    # In the labels, 1 (white) is cell interior and 0 (black) is membrane.
    return ImageSet(
        x, np.arange(len(x)), ("membrane", "cell"), "ISBI 2012 membranes (train volume)", masks=m
    )


def _resize_stack(arr: np.ndarray, size: int, smooth: bool) -> np.ndarray:
    from PIL import Image

    method = Image.BILINEAR if smooth else Image.NEAREST
    return np.stack([np.asarray(Image.fromarray(a).resize((size, size), method)) for a in arr])


def _isbi_standin(split, size: int | None = None):
    from course_utils.data.standins_vision import membranes_like

    x, m = membranes_like(ISBI_N, size=size or 256, seed=0)
    return (
        ImageSet(
            x,
            np.arange(len(x)),
            ("membrane", "cell"),
            "stand-in: generated cell membranes",
            masks=m,
        ),
        f"{ISBI_N} generated Voronoi-cell pictures with thin dark membranes and noise "
        "(course_utils.data.standins_vision), not electron microscopy",
    )


register(
    Dataset(
        name="isbi_membrane",
        description="ISBI 2012 EM membrane segmentation: 30 grey 512x512 images with masks "
        "(load(...) -> ImageSet: .images (30,H,W) uint8, .masks 1 = cell, 0 = membrane; size=N resizes)",
        license="ISBI 2012 challenge data; repository MIT (zhixuhao/unet)",
        homepage="https://imagej.net/events/isbi-2012-segmentation-challenge",
        files=_isbi_files(),
        splits=("train",),
        loader=_load_isbi,
        standin=_isbi_standin,
        notes="Only the 30 annotated training images exist publicly: hold some of them out.",
    )
)


# --------------------------------------------------------- photos: style, ImageNet
_PDL = "https://raw.githubusercontent.com/yandexdataschool/Practical_DL/master"
_STYLE = {
    "picasso": ("6b3c67ea9ec82b09bd7520dd09dad2f1176347d740fd2042c88720e780691a7c", 114573),
    "dancing": ("78e804c0c1d54da8d67e9d072c1eec514b91f4d1f296cdf9bf16d6e54d63116a", 40484),
    "starry_night": ("0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098", 315236),
    "the_scream": ("45d763b132ba2075f4ff3dd26bce7db155bb1a5574be8d1bfb7d412dae260d04", 54881),
}
_SAMPLES = {
    "albatross": ("60d1c9cb3faa4781ba658a0a6c3c3c6bc7e33f8b9306fc0b7a5cedaef2cec331", 11607),
    "fox": ("c4864eb46342ea90e793b2ae8dd7bb86c1918ad57f4a5ef68de8ccaeaeea1da7", 15247),
    "hen": ("430f9fdd40082aa17d904578d5adcba33536785907c18f5b8a079a3bf18ad6be", 15334),
    "kitten": ("6aae37795df9193857538cd95fdd523c3d307e3297f36065827104838c215581", 16777),
    "tiger": ("0ca74eee07d65cab679233a7c1cea2395560c6da84e8e8ea41b4e07dcb98a55e", 24506),
}


def _photo_files(table, url_dir, mirror_dir):
    return {
        name: RemoteFile(
            f"{name}.jpg",
            urls=(f"{_PDL}/{url_dir}/{name}.jpg",),
            sha256=sha,
            size=size,
            mirror_path=f"{mirror_dir}/{name}.jpg",
        )
        for name, (sha, size) in table.items()
    }


def _load_photos(get, split, names, max_side: int | None = None):
    from PIL import Image

    if split is not None:
        if split not in names:
            raise ValueError(f"unknown picture {split!r}; expected one of {names}")
        names = [split]
    out = {}
    for name in names:
        with Image.open(get(name)) as im:
            img = im.convert("RGB")
        if max_side is not None and max(img.size) > max_side:
            img.thumbnail((max_side, max_side))
        out[name] = img
    return out[split] if split is not None else out


def _photo_standin(kind):
    def standin(split, max_side: int | None = None):
        from course_utils.data.standins_vision import picture_like

        names = [split] if split is not None else list(_STYLE if kind == "style" else _SAMPLES)
        pics = {n: picture_like(n, size=max_side or 256) for n in names}
        return (
            pics[split] if split is not None else pics,
            "generated pictures (a painted landscape and stroke patterns, "
            "course_utils.data.standins_vision), not the real photographs or paintings",
        )

    return standin


register(
    Dataset(
        name="style_images",
        description="Four pictures for style transfer (picasso, dancing, starry_night, the_scream); "
        "load('style_images', split='starry_night') -> PIL image, no split -> dict",
        license="repository MIT (yandexdataschool/Practical_DL); the artworks are in the public domain",
        homepage="https://github.com/yandexdataschool/Practical_DL",
        files=_photo_files(
            _STYLE, "week05_interpretability/bonus_style_transfer/images", "images/style"
        ),
        loader=lambda get, split, max_side=None: _load_photos(get, split, list(_STYLE), max_side),
        standin=_photo_standin("style"),
    )
)

register(
    Dataset(
        name="imagenet_samples",
        description="Five ImageNet-like photos (albatross, fox, hen, kitten, tiger); "
        "load('imagenet_samples', split='tiger') -> PIL image, no split -> dict",
        license="repository MIT (yandexdataschool/Practical_DL)",
        homepage="https://github.com/yandexdataschool/Practical_DL",
        files=_photo_files(_SAMPLES, "week04_finetuning/sample_images", "images/imagenet_samples"),
        loader=lambda get, split, max_side=None: _load_photos(get, split, list(_SAMPLES), max_side),
        standin=_photo_standin("samples"),
        notes="Class names: torchvision's weights carry them (weights.meta['categories']).",
    )
)
