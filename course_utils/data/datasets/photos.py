"""Registry entries ``style_images`` and ``imagenet_samples``: photos for style transfer and classification demos."""

from __future__ import annotations

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

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


STYLE_IMAGES = Dataset(
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

IMAGENET_SAMPLES = Dataset(
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

ENTRIES = (
    STYLE_IMAGES,
    IMAGENET_SAMPLES,
)
