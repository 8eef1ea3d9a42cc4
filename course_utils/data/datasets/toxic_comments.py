"""Registry entry ``toxic_comments``: comments labelled toxic or not, with a held-out split."""

from __future__ import annotations

import pandas as pd

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

# -------------------------------------------------------------------- toxic comments
_NLP_COURSE = "https://raw.githubusercontent.com/yandexdataschool/nlp_course/master"
TOXIC_SPLITS = ("all", "train", "heldout")
TOXIC_HELDOUT_BUCKETS = 5  # one bucket of five is held out


def toxic_bucket(text: str) -> int:
    """The bucket (0-4) of a comment: its SHA-256 (of the UTF-8 text) modulo 5; the
    same on every machine, and the same for two copies of one comment."""
    import hashlib

    return int(hashlib.sha256(str(text).encode("utf-8")).hexdigest(), 16) % TOXIC_HELDOUT_BUCKETS


def _check_toxic_split(split: str | None) -> None:
    if split is not None and split not in TOXIC_SPLITS:
        raise ValueError(
            f"dataset 'toxic_comments' has no split {split!r}; expected one of "
            f"{list(TOXIC_SPLITS)} (or none: all rows)"
        )


def toxic_split(df: pd.DataFrame, split: str | None) -> pd.DataFrame:
    """The rows of ``split``: ``"heldout"`` = the comments in bucket 0 (about one in
    five), ``"train"`` = the others, ``None`` or ``"all"`` = every row."""
    _check_toxic_split(split)
    if split in (None, "all"):
        return df
    heldout = df["comment_text"].map(toxic_bucket) == 0
    keep = heldout if split == "heldout" else ~heldout
    return df[keep].reset_index(drop=True)


def _load_toxic(get, split):
    _check_toxic_split(split)  # before any file is looked for
    path = get("comments")
    df = pd.read_csv(path, sep="\t")
    expected = {"should_ban", "comment_text"}
    if not expected <= set(df.columns):
        raise ValueError(f"{path}: expected columns {sorted(expected)}, found {list(df.columns)}")
    return toxic_split(df[["should_ban", "comment_text"]], split)


def _toxic_standin(split):
    from course_utils.data.standins import toxic_like

    return (
        toxic_split(toxic_like(1000), split),
        "generated polite and rude comments (course_utils.data.standins)",
    )


TOXIC_COMMENTS = Dataset(
    name="toxic_comments",
    description="1,000 Wikipedia talk-page comments labelled should_ban (0/1); "
    "split='train' (about 4/5) or 'heldout' (about 1/5, by a hash of the text)",
    license="Wikipedia talk pages, CC BY-SA",
    homepage="https://github.com/yandexdataschool/nlp_course/tree/master/week02_classification",
    files={
        "comments": RemoteFile(
            "comments.tsv",
            urls=(f"{_NLP_COURSE}/week02_classification/comments.tsv",),
            sha256="e9369e93c3a5206d6d76f09c4f226e6e7a86c3769ae347ba29a00ae820fcf846",
            size=353358,
            mirror_path="toxic_comments/comments.tsv",
        )
    },
    loader=_load_toxic,
    standin=_toxic_standin,
    notes="Splits (optional): split='heldout' is the comments whose SHA-256 of the UTF-8 "
    "text is 0 modulo 5 (196 of the 1,000), split='train' the rest (804); no split "
    "or split='all' gives every row. Homework 1's grader keeps the held-out rows.",
)

ENTRIES = (TOXIC_COMMENTS,)
