"""Registry entry ``isbi_membrane``: ISBI 2012 electron-microscopy slices and membrane masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_utils.data.fetch import RemoteFile
from course_utils.data.imagesets import ImageSet
from course_utils.data.registry import Dataset

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


ISBI_MEMBRANE = Dataset(
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

ENTRIES = (ISBI_MEMBRANE,)
