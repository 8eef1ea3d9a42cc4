"""Registry entries ``ag_news`` and ``ag_news_subset``: AG News topic classification."""

from __future__ import annotations

import pandas as pd

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset
from course_utils.data.standins import AG_NEWS_CLASSES, ag_news_like

# --------------------------------------------------------------------------- AG News
_AG_CSV = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv"
_CHIMERA = (
    "https://raw.githubusercontent.com/cjanowski/project-chimera/"
    "b9ed81097d661042122a5205d19e61595d3b5b27/data/ag_news"
)


def read_ag_news_csv(path) -> pd.DataFrame:
    """Read the original AG News CSV (``class(1-4),title,description``)."""
    raw = pd.read_csv(
        path,
        header=None,
        names=["cls", "title", "description"],
        dtype={"cls": int, "title": str, "description": str},
        keep_default_na=False,
    )
    bad = raw.loc[~raw["cls"].between(1, 4), "cls"]
    if len(bad):
        raise ValueError(
            f"{path}: expected class ids 1-4 in the first column, found {sorted(set(bad))[:5]}"
        )
    text = (
        raw["title"].str.strip()
        + " "
        + raw["description"].str.replace("\\", " ", regex=False).str.strip()
    )
    label = raw["cls"] - 1
    return pd.DataFrame(
        {
            "text": text,
            "label": label.astype("int64"),
            "label_text": label.map(dict(enumerate(AG_NEWS_CLASSES))),
        }
    )


def _check_schema(df: pd.DataFrame, path) -> pd.DataFrame:
    expected = {"text", "label", "label_text"}
    if not expected <= set(df.columns):
        raise ValueError(f"{path}: expected columns {sorted(expected)}, found {list(df.columns)}")
    return df[["text", "label", "label_text"]].reset_index(drop=True)


def _load_ag_news(get, split):
    return read_ag_news_csv(get(split))


def _ag_news_standin(split):
    """Small-mode stand-in for the full AG News: real rows when the subset is
    there (the mirror's 4,000 labelled training rows), else generated text."""
    from course_utils.data import _Missing

    try:
        df = _load_ag_news_subset_all(split)
        return df, "the 4,000-row AG News subset (real AG News rows, fewer of them)"
    except _Missing:
        n = 4000 if split == "train" else 1000
        return ag_news_like(n, seed=0 if split == "train" else 1), (
            "generated four-class news-like sentences (course_utils.data.standins)"
        )


def _load_ag_news_subset_all(split):
    from course_utils.data import _Missing, locate

    entry = AG_NEWS_SUBSET
    roles = ("train", "validation") if split == "train" else ("test",)
    frames = []
    for role in roles:
        found, looked = locate(entry.name, entry.files[role])
        if found is None:
            raise _Missing(role, looked)
        frames.append(_check_schema(pd.read_parquet(found), found))
    return pd.concat(frames, ignore_index=True)


AG_NEWS = Dataset(
    name="ag_news",
    description="AG News topic classification, 4 classes, 120,000 train / 7,600 test rows",
    license="AG corpus: academic, non-commercial use",
    homepage="http://groups.di.unipi.it/~gulli/AG_corpus_of_news_articles.html",
    files={
        "train": RemoteFile(
            "train.csv",
            urls=(f"{_AG_CSV}/train.csv",),
            sha256=None,
            size=None,  # about 29 MB
        ),
        "test": RemoteFile(
            "test.csv",
            urls=(f"{_AG_CSV}/test.csv",),
            sha256="521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699",
            size=1857427,
            mirror_path="ag_news/csv/test.csv",
        ),
    },
    splits=("train", "test"),
    loader=_load_ag_news,
    standin=_ag_news_standin,
    notes="The train split's checksum is not known offline: trusted on first download.",
)


def _load_ag_news_subset(get, split):
    path = get(split)
    return _check_schema(pd.read_parquet(path), path)


AG_NEWS_SUBSET = Dataset(
    name="ag_news_subset",
    description="2,000 train + 2,000 validation rows from AG News train, first 2,000 test rows",
    license="AG corpus: academic, non-commercial use",
    homepage="https://github.com/cjanowski/project-chimera",
    files={
        "train": RemoteFile(
            "train.parquet",
            urls=(f"{_CHIMERA}/train/train.parquet",),
            sha256="a02d415cef4d3533cc6af05e7c7c994d76d8fa85ce611285e3aa627b0b64d18a",
            size=336669,
            mirror_path="ag_news/subset/train.parquet",
        ),
        "validation": RemoteFile(
            "validation.parquet",
            urls=(f"{_CHIMERA}/validation/validation.parquet",),
            sha256="aa3284249e4a0e566c9e2b5661f540deaf034b39974a891ccc959575bb330b89",
            size=333166,
            mirror_path="ag_news/subset/validation.parquet",
        ),
        "test": RemoteFile(
            "test.parquet",
            urls=(f"{_CHIMERA}/test/test.parquet",),
            sha256="533252e371a683b0819bed8132124ce67f26b9a879c764cc9f2260b650352236",
            size=329600,
            mirror_path="ag_news/subset/test.parquet",
        ),
    },
    splits=("train", "validation", "test"),
    loader=_load_ag_news_subset,
    standin=lambda split: (
        ag_news_like(2000, seed={"train": 0, "validation": 2, "test": 1}[split]),
        "generated four-class news-like sentences (course_utils.data.standins)",
    ),
)

ENTRIES = (
    AG_NEWS,
    AG_NEWS_SUBSET,
)
