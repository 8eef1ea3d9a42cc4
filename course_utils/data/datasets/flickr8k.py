"""Registry entry ``flickr8k``: 8,000 Flickr photos with five captions each
(Hodosh, Young and Hockenmaier, 2013), as packed in the two public zips of
``jbrownlee/Datasets``.

>>> from course_utils import data
>>> train = data.load("flickr8k", split="train", limit=500, size=224)   # doctest: +SKIP
>>> train.names[0], train.captions[0][:2], train.images[0].shape         # doctest: +SKIP
('2513260012_03d33305cf.jpg', ['A black dog is running ...', ...], (224, 224, 3))

The photos are never all in memory: the image zip is extracted **once** into
the cache (``<COURSE_CACHE>/flickr8k/images-<zip size>-<zip mtime>/``, written
in a temporary folder and renamed into place when complete) and
:class:`PhotoCaptions` opens a photo only when it is asked for
(``split.open(i)``, ``split.paths[i]``, or ``split.images[lo:hi]``, which
decodes and resizes just those rows: the contract of
:func:`course_utils.vision.feature_store.extract_features`).

Splits: ``train`` (6,000 names), ``valid`` (1,000) and ``test`` (1,000) from
the official lists. Real-world quirks are tolerated: the token file names one
image that is not in the image folder (``2258277193_586949ec62.jpg.1``, a typo
for a caption of ``2258277193_586949ec62.jpg``): such captions are skipped and
listed in ``split.skipped``; Windows line endings are read like Unix ones. A
line that is not ``NAME#K<TAB>caption`` is a :class:`DataError` naming the file
and line.

The checksums of the two zips were not known when this entry was written:
``sha256=None``, trusted on first download (the digest of the first download is
stored beside the file and every later read is checked against it). They are
not in the course's data mirror; a mirror that holds them at
``flickr8k/Flickr8k_Dataset.zip`` and ``flickr8k/Flickr8k_text.zip`` is used.
The course's mirror holds the caption files unzipped, in ``flickr8k_text/``
(checksums known: :data:`MIRROR_TEXT_SHA256`); when they are there they are
read instead of the caption zip, so only the photos are missing offline.
There is no stand-in: offline, the captioning notebook uses its generated
shapes data instead (``COURSE_CAPTION_DATA=shapes``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np

from course_utils import config
from course_utils.data.fetch import DataError, RemoteFile
from course_utils.data.registry import Dataset

__all__ = [
    "FLICKR8K_SPLIT_FILES",
    "IMAGE_FOLDER",
    "MIRROR_TEXT_FOLDER",
    "MIRROR_TEXT_SHA256",
    "TOKEN_FILE",
    "LazyImages",
    "PhotoCaptions",
    "extract_images",
    "parse_flickr8k_tokens",
    "parse_image_list",
    "read_text_folder",
]

_RELEASE = "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k"
TOKEN_FILE = "Flickr8k.token.txt"
#: Split name -> the official list of its image file names.
FLICKR8K_SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "valid": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
IMAGE_FOLDER = "Flicker8k_Dataset"  # sic: the archive's folder is spelled so
#: The data mirror's unzipped caption files (its README's ``flickr8k_text/``) and their
#: SHA-256 (its MANIFEST.tsv): read instead of ``Flickr8k_text.zip`` when present.
MIRROR_TEXT_FOLDER = "flickr8k_text"
MIRROR_TEXT_SHA256 = {
    TOKEN_FILE: "9b8608b02da9040581f1e3d4c8738db1fb6f63314342100432adc3962f77d71a",
    "Flickr_8k.trainImages.txt": "e330ddd5156a4c2d2e2b67bc587e70e588f2d132bd8a10dc54dcb71e58115d8e",
    "Flickr_8k.devImages.txt": "18ba829f47f6df1cb830bf7f0506e2ddf333818925299babbd1bbcaf50fdc504",
    "Flickr_8k.testImages.txt": "c0924146c131458ceba45da59670fe9520eadce1e5cafffa16a817672a9b1f17",
}
_IMAGE_SUFFIXES = (".jpg", ".jpeg")
_COMPLETE = ".complete.json"
_ID = re.compile(r"^(?P<name>.+)#(?P<k>\d+)$")

OFFLINE_HINT = (
    "Flickr8k is online only (two zips, about 1.1 GB): Flickr8k_Dataset.zip and "
    f"Flickr8k_text.zip from {_RELEASE.replace('/download/', '/tag/')}. Put them in "
    "{cache} (or in $COURSE_DATA/flickr8k/ for a shared mirror), or run "
    "`course data fetch flickr8k` where the network reaches github.com. "
    "The captioning notebook runs without them on its generated shapes: set "
    'CAPTION_DATA = "shapes" in it (or the environment variable COURSE_CAPTION_DATA=shapes).'
)


# ------------------------------------------------------------------- text files
def _lines(text: str | bytes | Iterable[str]) -> Iterable[tuple[int, str]]:
    """(line number, line without its end) for str/bytes text or an iterable of lines;
    ``\\r\\n`` and ``\\n`` endings alike."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    if isinstance(text, str):
        text = text.split("\n")
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\r\n")


def parse_flickr8k_tokens(text, source: str = TOKEN_FILE) -> dict[str, list[str]]:
    """``{image name: [caption, ...]}`` from the lines of ``Flickr8k.token.txt``.

    Each line is ``NAME#K<TAB>caption`` (K = 0..4); captions come back in the
    order of K. Blank lines are ignored; any other line that does not fit is a
    :class:`DataError` naming ``source`` and the line number.
    """
    found: dict[str, list[tuple[int, str]]] = {}
    for number, line in _lines(text):
        if not line.strip():
            continue
        ident, tab, caption = line.partition("\t")
        m = _ID.match(ident.strip())
        if not tab or m is None or not caption.strip():
            raise DataError(
                f"{source}, line {number}: expected 'IMAGE.jpg#K<TAB>caption' "
                f"(K a caption number), found {line[:80]!r}"
            )
        found.setdefault(m["name"], []).append((int(m["k"]), caption.strip()))
    if not found:
        raise DataError(f"{source}: no captions found (an empty or truncated file)")
    return {
        name: [c for _, c in sorted(caps, key=lambda kc: kc[0])] for name, caps in found.items()
    }


def parse_image_list(text, source: str = "image list") -> list[str]:
    """Image file names, one a line (blank lines ignored), as in ``Flickr_8k.*Images.txt``."""
    names = []
    for number, line in _lines(text):
        name = line.strip()
        if not name:
            continue
        if "\t" in name or "#" in name or not name.lower().endswith(_IMAGE_SUFFIXES):
            raise DataError(
                f"{source}, line {number}: expected one image file name, found {line[:80]!r}"
            )
        names.append(name)
    return names


def _read_member(zf: zipfile.ZipFile, zip_path: Path, basename: str) -> bytes:
    """The bytes of the member whose file name is ``basename`` (any folder)."""
    matches = [
        i
        for i in zf.infolist()
        if not i.is_dir()
        and "__MACOSX" not in i.filename
        and PurePosixPath(i.filename).name == basename
    ]
    if not matches:
        raise DataError(f"{zip_path}: no file {basename!r} inside; is this Flickr8k_text.zip?")
    return zf.read(matches[0])


def _unreadable(zip_path: Path, exc: Exception) -> DataError:
    return DataError(f"{zip_path}: not a readable zip ({exc}); delete it and download it again")


def read_text_zip(zip_path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(captions by image name, image names by split) from ``Flickr8k_text.zip``."""
    zip_path = Path(zip_path)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            captions = parse_flickr8k_tokens(
                _read_member(zf, zip_path, TOKEN_FILE), f"{zip_path.name}:{TOKEN_FILE}"
            )
            splits = {
                s: parse_image_list(_read_member(zf, zip_path, f), f"{zip_path.name}:{f}")
                for s, f in FLICKR8K_SPLIT_FILES.items()
            }
    except zipfile.BadZipFile as exc:
        raise _unreadable(zip_path, exc) from None
    return captions, splits


def mirror_text_folder() -> Path | None:
    """``$COURSE_DATA/flickr8k_text`` when it holds the token file and the three split
    lists, else None."""
    root = config.mirror_dir()
    if root is None:
        return None
    folder = root / MIRROR_TEXT_FOLDER
    return folder if all((folder / f).is_file() for f in MIRROR_TEXT_SHA256) else None


def read_text_folder(folder: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(captions by image name, image names by split) from the unzipped caption files in
    ``folder``, each checked against :data:`MIRROR_TEXT_SHA256` first."""
    from course_utils.data.fetch import verify

    folder = Path(folder)
    for name, digest in MIRROR_TEXT_SHA256.items():
        verify(
            folder / name,
            digest,
            "flickr8k captions (data mirror)",
            "Restore the mirror's copy, or unset COURSE_DATA to use Flickr8k_text.zip.",
        )
    captions = parse_flickr8k_tokens((folder / TOKEN_FILE).read_bytes(), str(folder / TOKEN_FILE))
    splits = {
        s: parse_image_list((folder / f).read_bytes(), str(folder / f))
        for s, f in FLICKR8K_SPLIT_FILES.items()
    }
    return captions, splits


# ------------------------------------------------------------------- the images
def _is_image_member(info: zipfile.ZipInfo) -> bool:
    p = PurePosixPath(info.filename)
    return (
        not info.is_dir()
        and "__MACOSX" not in p.parts
        and not p.name.startswith("._")
        and p.name.lower().endswith(_IMAGE_SUFFIXES)
    )


def extract_images(zip_path: Path, progress: bool = True) -> Path:
    """The folder of the photos of ``Flickr8k_Dataset.zip``, extracted once into the cache.

    The folder is named after the zip's size and modification time, so a replaced
    zip is extracted again. Extraction writes into a temporary folder beside it
    and renames it into place only when every photo is written: a folder that
    exists is complete. Only the ``*.jpg`` files are written (flat, by base name;
    macOS ``__MACOSX`` entries are left out).
    """
    zip_path = Path(zip_path)
    st = zip_path.stat()
    parent = config.cache_dir() / "flickr8k"
    final = parent / f"images-{st.st_size}-{int(st.st_mtime)}"
    if (final / _COMPLETE).is_file():
        return final
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".images-", suffix=".part", dir=parent))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [i for i in zf.infolist() if _is_image_member(i)]
            if not members:
                raise DataError(
                    f"{zip_path}: no {IMAGE_FOLDER}/*.jpg inside; is this Flickr8k_Dataset.zip?"
                )
            from tqdm.auto import tqdm

            for info in tqdm(
                members, desc="extracting Flickr8k photos (once)", unit="img", disable=not progress
            ):
                with (
                    zf.open(info) as src,
                    open(tmp / PurePosixPath(info.filename).name, "wb") as dst,
                ):
                    shutil.copyfileobj(src, dst, 1 << 20)
        (tmp / _COMPLETE).write_text(json.dumps({"zip": str(zip_path), "images": len(members)}))
        if final.exists():  # an incomplete leftover, or another process finished first
            if (final / _COMPLETE).is_file():
                shutil.rmtree(tmp)
                return final
            shutil.rmtree(final)
        os.replace(tmp, final)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _unreadable(zip_path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _read_resized(path: Path, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale when that is enough
        return np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8)


class LazyImages(Sequence):
    """Photos decoded and resized to ``size x size`` (RGB ``uint8``) only when indexed.

    ``images[i]`` -> (size, size, 3); ``images[lo:hi]`` or an index array ->
    (n, size, size, 3). The whole aspect ratio is kept in the square (the photo is
    squeezed, not cropped: a caption may talk about anything in it).
    """

    def __init__(self, paths: Sequence[Path], size: int):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be an int >= 1, found {size!r}")
        self.paths, self.size = list(paths), size

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self), self.size, self.size, 3)

    dtype = np.dtype(np.uint8)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return _read_resized(self.paths[index], self.size)
        rows = np.arange(len(self))[index]
        if len(rows) == 0:
            return np.zeros((0, self.size, self.size, 3), np.uint8)
        return np.stack([_read_resized(self.paths[int(r)], self.size) for r in rows])

    def __repr__(self) -> str:
        return f"LazyImages({len(self)} photos, decoded at {self.size}x{self.size} when indexed)"


@dataclass
class PhotoCaptions:
    """One split of a photo-captioning data set.

    ``names[i]`` the image file name, ``paths[i]`` its extracted file,
    ``captions[i]`` its reference captions (five for Flickr8k), ``images`` a
    :class:`LazyImages` at ``size`` pixels, ``open(i)`` the original photo (PIL).
    ``skipped`` lists what the files named but could not be used (and why).
    """

    names: list[str]
    paths: list[Path]
    captions: list[list[str]]
    split: str = ""
    size: int = 224
    source: str = ""
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not (len(self.names) == len(self.paths) == len(self.captions)):
            raise ValueError("names, paths and captions must have the same length")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def images(self) -> LazyImages:
        return LazyImages(self.paths, self.size)

    def open(self, i: int):
        """The photo ``i`` at its own size, as a PIL RGB image."""
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            return im.convert("RGB")

    def with_size(self, size: int) -> PhotoCaptions:
        return replace(self, size=size)

    def subset(self, index) -> PhotoCaptions:
        rows = np.arange(len(self))[index]
        return replace(
            self,
            names=[self.names[i] for i in rows],
            paths=[self.paths[i] for i in rows],
            captions=[self.captions[i] for i in rows],
        )

    def __repr__(self) -> str:
        n_caps = sum(len(c) for c in self.captions)
        return (
            f"PhotoCaptions({self.split}: {len(self)} photos, {n_caps} captions, "
            f"images at {self.size}px, {self.source})"
        )


# --------------------------------------------------------------------- the entry
def _get_both(get, need_text: bool = True):
    """The two zips (the caption zip None when not ``need_text``), or one DataError that
    names every missing file and the way out."""
    from course_utils.data import _Missing, _missing_message

    found, problems = {"text": None}, []
    for role in ("text", "images") if need_text else ("images",):
        try:
            found[role] = Path(get(role))
        except _Missing as missing:
            problems.append(_missing_message(FLICKR8K, missing.role, missing.looked))
    if problems:
        hint = OFFLINE_HINT.format(cache=config.cache_dir() / "flickr8k")
        raise DataError("\n".join(problems) + "\n" + hint)
    return found["text"], found["images"]


def _load_flickr8k(get, split, limit: int | None = None, size: int = 224, progress: bool = True):
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be None or an int >= 1, found {limit!r}")
    text_folder = mirror_text_folder()
    text_zip, image_zip = _get_both(get, need_text=text_folder is None)
    captions, lists = read_text_folder(text_folder) if text_zip is None else read_text_zip(text_zip)
    folder = extract_images(image_zip, progress=progress)
    skipped = [
        f"{name}: captioned in {TOKEN_FILE} but not in {image_zip.name}"
        for name in sorted(captions)
        if not (folder / name).is_file()
    ]
    names, paths, caps = [], [], []
    for name in lists[split]:
        if not (folder / name).is_file():
            skipped.append(
                f"{name}: listed in {FLICKR8K_SPLIT_FILES[split]} but not in {image_zip.name}"
            )
        elif name not in captions:
            skipped.append(f"{name}: listed in {FLICKR8K_SPLIT_FILES[split]} but has no caption")
        else:
            names.append(name)
            paths.append(folder / name)
            caps.append(captions[name])
        if limit is not None and len(names) == limit:
            break
    if not names:
        raise DataError(
            f"flickr8k {split}: no usable image in {FLICKR8K_SPLIT_FILES[split]} "
            f"({len(skipped)} skipped, e.g. {skipped[:2]})"
        )
    return PhotoCaptions(
        names,
        paths,
        caps,
        split=split,
        size=size,
        source=f"Flickr8k {split} ({image_zip.name})",
        skipped=skipped,
    )


FLICKR8K = Dataset(
    name="flickr8k",
    description="Flickr8k: 8,000 photos with 5 captions each, splits train 6,000 / valid 1,000 / "
    "test 1,000 (load(...) -> PhotoCaptions: .names, .paths, .captions, lazy .images at size=N, "
    ".open(i); limit=N)",
    license="Flickr8k terms of use (Hodosh et al. 2013): research and teaching; photos keep their "
    "Flickr owners' rights",
    homepage="https://hockenmaier.cs.illinois.edu/8k-pictures.html",
    files={
        "text": RemoteFile(
            "Flickr8k_text.zip",
            urls=(f"{_RELEASE}/Flickr8k_text.zip",),
            sha256=None,
            mirror_path="flickr8k/Flickr8k_text.zip",
        ),
        "images": RemoteFile(
            "Flickr8k_Dataset.zip",
            urls=(f"{_RELEASE}/Flickr8k_Dataset.zip",),
            sha256=None,
            mirror_path="flickr8k/Flickr8k_Dataset.zip",
        ),
    },
    splits=tuple(FLICKR8K_SPLIT_FILES),
    loader=_load_flickr8k,
    notes="Online only (about 1.1 GB; not in the data mirror, which has the caption files "
    "unzipped in flickr8k_text/, read instead of the caption zip, but no photos). Checksums "
    "unknown offline: trusted on first download. The photos are extracted once into the cache. "
    "No stand-in: offline, notebook vision/06 uses its generated shapes.",
)

ENTRIES = (FLICKR8K,)
