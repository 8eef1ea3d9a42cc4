"""Registry entry flickr8k (course_utils/data/datasets/flickr8k.py) on a small fake
Flickr8k built in the real archives' formats, and notebook vision/06 on it."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course_utils import data
from course_utils.data import DataError
from course_utils.data.datasets import flickr8k
from course_utils.data.datasets.flickr8k import (
    FLICKR8K_SPLIT_FILES,
    LazyImages,
    PhotoCaptions,
    parse_flickr8k_tokens,
    parse_image_list,
)
from tests.conftest import MIRROR, OFFLINE_PASS, ROOT, requires_mirror

COLOURS = {
    "red": (200, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 70, 220),
    "yellow": (230, 210, 40),
}
THINGS = ("dog", "ball", "boat", "house")
#: The real token file names one photo that is not in the image zip: a typo of
#: this kind (the ".1" suffix) must be skipped, not fatal.
QUIRK = "1000000099_0000000099.jpg"


def _photo_name(i: int) -> str:
    return f"{1000000000 + i}_{i:010x}.jpg"


def make_fake_flickr8k(
    folder: Path,
    n_train=6,
    n_valid=3,
    n_test=3,
    crlf=False,
    size=(40, 30),
    token_text: str | None = None,
) -> dict:
    """Write ``Flickr8k_Dataset.zip`` and ``Flickr8k_text.zip`` into ``folder`` in the
    real layouts: photos in ``Flicker8k_Dataset/`` (plus macOS ``__MACOSX`` junk),
    ``NAME.jpg#K<TAB>caption`` lines, one name a line in the split lists. Each photo
    is one colour with a lighter square, and its captions name that colour; one more
    photo (``QUIRK``) is in the zip but in no split, with four captions, and a
    caption line names ``QUIRK + '.1'``, which is not in the zip (as in the real file).
    Returns {split: names} and the captions."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    counts = {"train": n_train, "valid": n_valid, "test": n_test}
    names, captions, k = {}, {}, 0
    for split, n in counts.items():
        names[split] = []
        for _ in range(n):
            name = _photo_name(k)
            colour = list(COLOURS)[k % len(COLOURS)]
            thing = THINGS[(k // len(COLOURS)) % len(THINGS)]
            captions[name] = [
                f"A {colour} {thing} .",
                f"a {thing} that is {colour}",
                f"There is a {colour} {thing} here .",
                f"The {thing} is {colour} .",
                f"A picture of a {colour} {thing}",
            ]
            names[split].append(name)
            k += 1
    captions[QUIRK] = [
        "Some people waiting .",
        "Three people .",
        "People at a station .",
        "Two women and a man .",
    ]
    with zipfile.ZipFile(folder / "Flickr8k_Dataset.zip", "w") as zf:
        for i, name in enumerate([*captions]):
            colour = list(COLOURS.values())[i % len(COLOURS)]
            img = Image.new("RGB", size, colour)
            img.paste(tuple(min(255, c + 50) for c in colour), (5, 5, 15, 15))
            path = folder / "tmp.jpg"
            img.save(path, quality=90)
            zf.write(path, f"Flicker8k_Dataset/{name}")
            zf.writestr(f"__MACOSX/Flicker8k_Dataset/._{name}", b"\x00\x05\x16\x07 mac junk")
            path.unlink()
    eol = "\r\n" if crlf else "\n"
    if token_text is None:
        lines = []
        for name, caps in captions.items():
            if name == QUIRK:
                lines.append(f"{QUIRK}.1#0\tpeople waiting for the subway")
                lines += [f"{name}#{j + 1}\t{c}" for j, c in enumerate(caps)]
            else:
                lines += [f"{name}#{j}\t{c}" for j, c in enumerate(caps)]
        token_text = eol.join(lines) + eol
    with zipfile.ZipFile(folder / "Flickr8k_text.zip", "w") as zf:
        zf.writestr("Flickr8k.token.txt", token_text)
        zf.writestr("Flickr8k.lemma.token.txt", token_text.lower())
        for split, file in FLICKR8K_SPLIT_FILES.items():
            zf.writestr(file, eol.join(names[split]) + eol)
        zf.writestr("readme.txt", "Flickr8k (fake, for the course's tests)" + eol)
    return {"names": names, "captions": captions}


@pytest.fixture
def fake_mirror(tmp_path, isolated_cache, monkeypatch):
    """A COURSE_DATA folder holding the two zips where the registry expects them; no network."""
    root = tmp_path / "mirror"
    made = make_fake_flickr8k(root / "flickr8k")
    monkeypatch.setenv("COURSE_DATA", str(root))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_SMALL", "0")
    return made


def test_entry_is_online_only_and_trusted_on_first_download():
    entry = data.get_entry("flickr8k")
    assert entry.splits == ("train", "valid", "test")
    assert entry.trust_on_first_use == ["text", "images"]
    base = "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/"
    assert entry.files["images"].urls == (base + "Flickr8k_Dataset.zip",)
    assert entry.files["text"].urls == (base + "Flickr8k_text.zip",)
    assert entry.files["images"].mirror_path == "flickr8k/Flickr8k_Dataset.zip"
    assert entry.standin is None and "trusted on first download" in entry.notes


def test_token_parser_orders_captions_and_reads_crlf():
    text = "b.jpg#1\tsecond of b\r\na.jpg#0\tfirst of a\r\n\r\nb.jpg#0\t  first of b \r\n"
    assert parse_flickr8k_tokens(text) == {
        "b.jpg": ["first of b", "second of b"],
        "a.jpg": ["first of a"],
    }
    assert parse_flickr8k_tokens(text.encode()) == parse_flickr8k_tokens(text.replace("\r\n", "\n"))
    assert parse_image_list("a.jpg\r\nb.jpg\r\n\r\n") == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    "bad", ["a.jpg#0 no tab here", "a.jpg\tno caption number", "a.jpg#x\tcaption", "a.jpg#0\t   "]
)
def test_token_parser_names_file_and_line_of_a_malformed_line(bad):
    with pytest.raises(
        DataError, match=r"tokens\.txt, line 3: expected 'IMAGE\.jpg#K<TAB>caption'"
    ):
        parse_flickr8k_tokens(f"b.jpg#0\tok\n\n{bad}\nc.jpg#0\tok\n", source="tokens.txt")
    with pytest.raises(DataError, match="list.txt, line 2"):
        parse_image_list("a.jpg\na.jpg#0\tcaption\n", source="list.txt")
    with pytest.raises(DataError, match="no captions"):
        parse_flickr8k_tokens("\n\n")


@requires_mirror
def test_the_real_caption_files_of_the_mirror_parse():
    """The data mirror has Flickr8k's text files (not its photos): the real quirks."""
    folder = MIRROR / "flickr8k_text"
    caps = parse_flickr8k_tokens((folder / "Flickr8k.token.txt").read_bytes())
    assert len(caps) == 8093 and sum(map(len, caps.values())) == 40460
    odd = {name: len(c) for name, c in caps.items() if len(c) != 5}
    assert odd == {"2258277193_586949ec62.jpg": 4, "2258277193_586949ec62.jpg.1": 1}
    splits = {
        s: parse_image_list((folder / f).read_bytes()) for s, f in FLICKR8K_SPLIT_FILES.items()
    }
    assert {s: len(v) for s, v in splits.items()} == {"train": 6000, "valid": 1000, "test": 1000}
    every = [n for v in splits.values() for n in v]
    assert len(set(every)) == 8000 and all(len(caps[n]) == 5 for n in every)


def test_loads_splits_from_the_mirror_layout(fake_mirror, isolated_cache):
    train = data.load("flickr8k", split="train", size=32)
    assert isinstance(train, PhotoCaptions) and len(train) == 6
    assert train.names == fake_mirror["names"]["train"]
    assert train.captions == [fake_mirror["captions"][n] for n in train.names]
    assert all(len(c) == 5 for c in train.captions)
    assert train.captions[1][0] == "A green dog ."
    # the caption line of a photo that is not in the zip is skipped, and said so
    assert any(
        s.startswith(f"{QUIRK}.1: captioned in Flickr8k.token.txt but not in")
        for s in train.skipped
    )
    # photos: extracted into the cache, decoded lazily at the asked size
    assert all(p.is_file() and isolated_cache in p.parents for p in train.paths)
    assert not any("__MACOSX" in str(p) or p.name.startswith("._") for p in train.paths)
    images = train.images
    assert isinstance(images, LazyImages) and images.shape == (6, 32, 32, 3)
    one, batch = images[1], images[2:5]
    assert one.shape == (32, 32, 3) and one.dtype == np.uint8 and batch.shape == (3, 32, 32, 3)
    assert abs(int(one[25, 25, 1]) - 180) < 25 and one[25, 25, 1] > one[25, 25, 0]  # green, not red
    assert train.open(0).size == (40, 30) and train.with_size(16).images[0].shape == (16, 16, 3)
    assert len(train.subset(slice(0, 2))) == 2
    valid, test = data.load("flickr8k", split="valid"), data.load("flickr8k", split="test")
    assert (
        valid.names == fake_mirror["names"]["valid"] and test.names == fake_mirror["names"]["test"]
    )
    assert (
        not set(train.names) & set(test.names)
        and QUIRK not in train.names + valid.names + test.names
    )
    assert len(data.load("flickr8k", split="train", limit=4).names) == 4
    assert data.load("flickr8k", split="train", limit=4).names == train.names[:4]
    with pytest.raises(ValueError, match="limit"):
        data.load("flickr8k", split="train", limit=0)


def test_extraction_happens_once_and_atomically(fake_mirror, isolated_cache, monkeypatch):
    import shutil

    real_copy = shutil.copyfileobj
    calls = []

    def failing_copy(src, dst, *args):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full (simulated)")
        return real_copy(src, dst, *args)

    monkeypatch.setattr(flickr8k.shutil, "copyfileobj", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        data.load("flickr8k", split="train")
    cache = isolated_cache / "flickr8k"
    assert list(cache.iterdir()) == []  # no half-extracted folder is left, nor a temporary one
    monkeypatch.setattr(flickr8k.shutil, "copyfileobj", real_copy)
    first = data.load("flickr8k", split="train")
    folders = list(cache.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("images-")
    assert len(list(folders[0].glob("*.jpg"))) == 13  # 12 photos in the splits + the quirk's photo

    def no_copy(*args):
        raise AssertionError("the photos were extracted again")

    monkeypatch.setattr(flickr8k.shutil, "copyfileobj", no_copy)
    again = data.load("flickr8k", split="test")
    assert again.paths[0].parent == first.paths[0].parent and list(cache.iterdir()) == folders


def test_malformed_token_file_in_the_zip_is_a_clear_error(tmp_path, isolated_cache, monkeypatch):
    lines = "".join(f"{_photo_name(i)}#{j}\tcaption {j}\n" for i in range(12) for j in range(5))
    bad = lines.replace(f"{_photo_name(1)}#2\tcaption 2", f"{_photo_name(1)}#2 caption 2")
    make_fake_flickr8k(tmp_path / "m" / "flickr8k", token_text=bad)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "m"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(
        DataError, match=r"Flickr8k_text\.zip:Flickr8k\.token\.txt, line 8: expected"
    ):
        data.load("flickr8k", split="train")


@pytest.mark.parametrize("small", ["0", "1"])
def test_offline_without_the_zips_says_what_to_download_and_where(
    isolated_cache, monkeypatch, small
):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_SMALL", small)
    with pytest.raises(DataError) as err:
        data.load("flickr8k", split="train", limit=10)
    text = str(err.value)
    for needed in (
        "Flickr8k_Dataset.zip",
        "Flickr8k_text.zip",
        "not found",
        "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_Dataset.zip",
        str(isolated_cache / "flickr8k"),
        "flickr8k/Flickr8k_Dataset.zip",
        'CAPTION_DATA = "shapes"',
        "COURSE_CAPTION_DATA=shapes",
    ):
        assert needed in text, needed


def _loose_text_mirror(root: Path, monkeypatch) -> dict:
    """A mirror in the course mirror's layout: the caption files unzipped in
    ``flickr8k_text/`` (their digests patched to the fake files'), the photo zip in
    ``flickr8k/``, and no caption zip."""
    made = make_fake_flickr8k(root / "flickr8k")
    loose = root / flickr8k.MIRROR_TEXT_FOLDER
    loose.mkdir()
    with zipfile.ZipFile(root / "flickr8k" / "Flickr8k_text.zip") as zf:
        for name in flickr8k.MIRROR_TEXT_SHA256:
            (loose / name).write_bytes(zf.read(name))
    (root / "flickr8k" / "Flickr8k_text.zip").unlink()
    from course_utils.data.fetch import sha256_of

    digests = {name: sha256_of(loose / name) for name in flickr8k.MIRROR_TEXT_SHA256}
    monkeypatch.setattr(flickr8k, "MIRROR_TEXT_SHA256", digests)
    monkeypatch.setenv("COURSE_DATA", str(root))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return made


def test_the_mirrors_unzipped_caption_files_replace_the_caption_zip(
    tmp_path, isolated_cache, monkeypatch
):
    made = _loose_text_mirror(tmp_path / "m", monkeypatch)
    train = data.load("flickr8k", split="train", size=16)
    assert train.names == made["names"]["train"]
    assert train.captions == [made["captions"][n] for n in train.names]
    # a corrupted mirror file is a checksum error that names it, not a silent misread
    token = tmp_path / "m" / flickr8k.MIRROR_TEXT_FOLDER / flickr8k.TOKEN_FILE
    token.write_text(token.read_text().replace("green", "purple"))
    with pytest.raises(data.ChecksumError, match=r"flickr8k_text/Flickr8k\.token\.txt"):
        data.load("flickr8k", split="train")


def test_without_photos_the_loose_caption_files_leave_only_the_photos_missing(
    tmp_path, isolated_cache, monkeypatch
):
    _loose_text_mirror(tmp_path / "m", monkeypatch)
    (tmp_path / "m" / "flickr8k" / "Flickr8k_Dataset.zip").unlink()
    with pytest.raises(DataError) as err:
        data.load("flickr8k", split="train")
    text = str(err.value)
    assert "'Flickr8k_Dataset.zip' (images) was not found" in text
    assert "'Flickr8k_text.zip' (text)" not in text


@requires_mirror
def test_the_real_mirror_reads_its_caption_files_and_lacks_only_the_photos(
    isolated_cache, monkeypatch
):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert flickr8k.mirror_text_folder() == MIRROR / "flickr8k_text"
    captions, splits = flickr8k.read_text_folder(MIRROR / "flickr8k_text")  # checksums verified
    assert len(captions) == 8093 and len(splits["train"]) == 6000
    with pytest.raises(DataError) as err:
        data.load("flickr8k", split="train")
    assert "(images) was not found" in str(err.value)
    assert "(text) was not found" not in str(err.value)


def test_first_download_is_trusted_then_verified(
    tmp_path, isolated_cache, monkeypatch, http_server
):
    make_fake_flickr8k(tmp_path / "src")
    entry = data.get_entry("flickr8k")
    files = {
        role: dataclasses.replace(
            rf, urls=(http_server.serve(f"/{rf.name}", (tmp_path / "src" / rf.name).read_bytes()),)
        )
        for role, rf in entry.files.items()
    }
    monkeypatch.setitem(data.REGISTRY, "flickr8k", dataclasses.replace(entry, files=files))
    assert len(data.load("flickr8k", split="test")) == 3
    digest = isolated_cache / "flickr8k" / "Flickr8k_text.zip.sha256"
    assert (
        digest.is_file() and (isolated_cache / "flickr8k" / "Flickr8k_Dataset.zip.sha256").is_file()
    )
    with zipfile.ZipFile(isolated_cache / "flickr8k" / "Flickr8k_text.zip", "a") as zf:
        zf.writestr("extra.txt", "tampered")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.ChecksumError, match="Flickr8k_text.zip"):
        data.load("flickr8k", split="test")


@pytest.mark.skipif(
    OFFLINE_PASS,
    reason="its own fake mirror: runs the same in `make test`",
)
def test_notebook_runs_in_small_mode_on_flickr8k(tmp_path, monkeypatch):
    """Notebook vision/06 with COURSE_CAPTION_DATA=flickr8k on a fake mirror of 60 photos."""
    from course_utils.tools import notebooks as nbtools

    root = tmp_path / "mirror"
    make_fake_flickr8k(root / "flickr8k", n_train=40, n_valid=10, n_test=10)
    monkeypatch.setenv("COURSE_DATA", str(root))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CAPTION_DATA", "flickr8k")
    path = ROOT / "notebooks" / "vision" / "06_image_captioning.source.ipynb"
    result = nbtools.execute(path, tmp_path / "out", ROOT, timeout=300, small=True)
    assert result.status == "ok", result.error
    assert "Flickr8k=" in result.headline, result.headline
    executed = (tmp_path / "out" / path.relative_to(ROOT)).read_text()
    assert "{'train': 40, 'val': 10, 'test': 10}" in executed
    assert f"{QUIRK}.1: captioned in Flickr8k.token.txt" in executed
