"""Registry entry ``multi30k``: German-English image descriptions (task 1)."""

from __future__ import annotations

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

# ------------------------------------------------------------------------- Multi30k
# Commit of multi30k/dataset whose task-1 raw files have the SHA-256 below (the
# mirror's MANIFEST.tsv gives the same digests); master is the fallback URL.
_M30K_COMMIT = "a3d2e0d26b56f3846f66a952536ffed4e401d05a"
_M30K_URLS = (
    f"https://raw.githubusercontent.com/multi30k/dataset/{_M30K_COMMIT}/data/task1/raw",
    "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw",
)
_M30K_STEMS = {"train": "train", "valid": "val", "test2016": "test_2016_flickr"}
_M30K_FILES = {  # file -> (sha256, size)
    "train.de.gz": ("726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637044),
    "train.en.gz": ("d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568929),
    "val.de.gz": ("f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24681),
    "val.en.gz": ("14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21650),
    "test_2016_flickr.de.gz": (
        "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        22890,
    ),
    "test_2016_flickr.en.gz": (
        "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        21077,
    ),
}


def _read_lines_gz(path) -> list[str]:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh]


def _load_multi30k(get, split):
    de_path, en_path = get(f"{split}.de"), get(f"{split}.en")
    de, en = _read_lines_gz(de_path), _read_lines_gz(en_path)
    if len(de) != len(en):
        raise ValueError(
            f"multi30k {split}: {de_path} has {len(de)} lines but {en_path} has {len(en)}; "
            "the two sides must be line-aligned"
        )
    return list(zip(de, en))


MULTI30K = Dataset(
    name="multi30k",
    description="Multi30k task 1 German-English image descriptions: (de, en) sentence pairs, "
    "29,000 train / 1,014 valid / 1,000 test2016",
    license="research and education (Flickr30K-derived; see the repository's README)",
    homepage="https://github.com/multi30k/dataset",
    files={
        f"{split}.{lang}": RemoteFile(
            f"{stem}.{lang}.gz",
            urls=tuple(f"{base}/{stem}.{lang}.gz" for base in _M30K_URLS),
            sha256=_M30K_FILES[f"{stem}.{lang}.gz"][0],
            size=_M30K_FILES[f"{stem}.{lang}.gz"][1],
            mirror_path=f"multi30k/{stem}.{lang}.gz",
        )
        for split, stem in _M30K_STEMS.items()
        for lang in ("de", "en")
    },
    splits=("train", "valid", "test2016"),
    loader=_load_multi30k,
    standin=lambda split: (
        standins.multi30k_like(
            {"train": 3000, "valid": 300, "test2016": 300}[split],
            seed={"train": 0, "valid": 1, "test2016": 2}[split],
        ),
        "generated German-English sentence pairs from a small grammar (course_utils.data.standins)",
    ),
    notes="Raw (untokenised) sentences, one per line, the two languages line-aligned.",
)

ENTRIES = (MULTI30K,)
