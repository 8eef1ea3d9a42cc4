"""The data layer: registry, mirror, cache, atomic verified downloads, stand-ins."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from course_utils import data
from course_utils.data import ChecksumError, DataError, Dataset, RemoteFile, StandInWarning
from course_utils.data.fetch import tofu_path
from course_utils.data.registry import REGISTRY
from tests.conftest import mirror_path, requires_mirror

MIRROR = mirror_path()

BODY = b"label,text\n" + b"1,hello world\n0,goodbye\n" * 200
DIGEST = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def toy_dataset():
    """Register a one-file dataset; the test fills in its file, then it is removed."""
    created = []

    def make(rf: RemoteFile, standin=None):
        entry = Dataset(
            name="toy",
            description="toy",
            license="CC0",
            homepage="",
            files={"all": rf},
            loader=lambda get, split: pd.read_csv(get("all")),
            standin=standin,
        )
        REGISTRY["toy"] = entry
        created.append(entry)
        return entry

    yield make
    REGISTRY.pop("toy", None)


def cache_listing(cache):
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_download_good_file_lands_in_cache(isolated_cache, http_server, toy_dataset):
    url = http_server.serve("/toy.csv", BODY)
    toy_dataset(RemoteFile("toy.csv", urls=(url,), sha256=DIGEST))
    df = data.load("toy")
    assert df.shape == (400, 2)
    assert (isolated_cache / "toy" / "toy.csv").read_bytes() == BODY
    assert cache_listing(isolated_cache) == ["toy.csv"]  # no .part left behind
    # the second load reads the cache: the server may be gone
    http_server.serve("/toy.csv", b"", mode="die")
    assert data.load("toy").shape == (400, 2)


def test_checksum_mismatch_leaves_cache_empty(isolated_cache, http_server, toy_dataset):
    url = http_server.serve("/toy.csv", BODY)
    toy_dataset(RemoteFile("toy.csv", urls=(url,), sha256="0" * 64))
    with pytest.raises(ChecksumError, match="expected 0000.*not saved"):
        data.load("toy")
    assert cache_listing(isolated_cache) == []


def test_server_dying_mid_transfer_leaves_nothing(isolated_cache, http_server, toy_dataset):
    url = http_server.serve("/toy.csv", BODY, mode="die")
    toy_dataset(RemoteFile("toy.csv", urls=(url,), sha256=DIGEST))
    with pytest.raises(DataError, match="could not download toy.csv"):
        data.load("toy")
    assert cache_listing(isolated_cache) == []


def test_404_in_full_mode_names_dataset_places_and_fix(
    isolated_cache, http_server, toy_dataset, monkeypatch
):
    monkeypatch.setenv("COURSE_SMALL", "0")
    url = http_server.url + "/missing.csv"
    toy_dataset(RemoteFile("toy.csv", urls=(url,), sha256=DIGEST, mirror_path="toy/toy.csv"))
    with pytest.raises(DataError) as info:
        data.load("toy")
    msg = str(info.value)
    assert "dataset 'toy'" in msg and "HTTP Error 404" in msg
    assert "COURSE_DATA is not set" in msg and str(isolated_cache) in msg
    assert "course data fetch toy" in msg
    assert cache_listing(isolated_cache) == []


def test_second_url_is_tried_when_first_is_dead(isolated_cache, http_server, toy_dataset):
    good = http_server.serve("/good.csv", BODY)
    toy_dataset(RemoteFile("toy.csv", urls=(http_server.url + "/dead", good), sha256=DIGEST))
    assert data.load("toy").shape == (400, 2)


def test_trust_on_first_use_stores_and_then_enforces_digest(
    isolated_cache, http_server, toy_dataset
):
    url = http_server.serve("/toy.csv", BODY)
    toy_dataset(RemoteFile("toy.csv", urls=(url,), sha256=None))
    data.load("toy")
    cached = isolated_cache / "toy" / "toy.csv"
    assert tofu_path(cached).read_text().split()[0] == DIGEST
    cached.write_bytes(BODY + b"tampered\n")
    with pytest.raises(ChecksumError, match=r"toy.csv.*rm .*course data fetch toy"):
        data.load("toy")


def test_corrupted_mirror_file_gives_one_clear_error(
    tmp_path, isolated_cache, toy_dataset, monkeypatch
):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "toy.csv").write_bytes(BODY[:-5])
    monkeypatch.setenv("COURSE_DATA", str(mirror))
    toy_dataset(RemoteFile("toy.csv", sha256=DIGEST, mirror_path="toy/toy.csv"))
    with pytest.raises(ChecksumError, match=r"mirror file toy/toy.csv.*unset COURSE_DATA"):
        data.load("toy")


def test_mirror_is_read_before_the_network(tmp_path, isolated_cache, toy_dataset, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "toy.csv").write_bytes(BODY)
    monkeypatch.setenv("COURSE_DATA", str(mirror))
    toy_dataset(
        RemoteFile(
            "toy.csv", urls=("http://127.0.0.1:9/never",), sha256=DIGEST, mirror_path="toy/toy.csv"
        )
    )
    assert data.load("toy").shape == (400, 2)
    assert cache_listing(isolated_cache) == []  # the mirror is not copied


def test_unknown_dataset_suggests_close_names():
    with pytest.raises(KeyError, match=r"unknown dataset 'ag_newz'.*Did you mean 'ag_news'"):
        data.load("ag_newz")


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match=r"no split 'dev'.*'train', 'test'"):
        data.load("ag_news", split="dev")


def test_offline_small_mode_uses_announced_standin(isolated_cache, toy_dataset, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    stand = pd.DataFrame({"label": [0], "text": ["x"]})
    toy_dataset(
        RemoteFile("toy.csv", urls=("http://127.0.0.1:9/x",), sha256=DIGEST),
        standin=lambda split: (stand, "one generated row"),
    )
    with pytest.warns(StandInWarning, match="one generated row"):
        assert data.load("toy").equals(stand)


def test_ag_news_standin_without_mirror_is_generated_and_balanced(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(StandInWarning, match="generated"):
        df = data.load("ag_news", split="train")
    assert list(df.columns) == ["text", "label", "label_text"]
    assert set(df["label"]) == {0, 1, 2, 3}
    assert df["label"].value_counts().min() > len(df) / 8


def test_ag_news_train_missing_in_full_mode(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "0")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DataError, match=r"dataset 'ag_news': file 'train.csv'.*stand-in instead"):
        data.load("ag_news", split="train")


@requires_mirror
def test_ag_news_official_test_split_from_mirror():
    df = data.load("ag_news", split="test")
    assert len(df) == 7600
    assert df["label"].value_counts().to_dict() == {0: 1900, 1: 1900, 2: 1900, 3: 1900}
    assert df.loc[0, "text"].startswith("Fears for T N pension after talks Unions")
    assert "\\" not in "".join(df["text"].head(50))


@requires_mirror
def test_ag_news_small_mode_standin_is_the_real_subset(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(StandInWarning, match="4,000-row AG News subset"):
        df = data.load("ag_news", split="train")
    assert len(df) == 4000 and set(df["label"]) == {0, 1, 2, 3}


@requires_mirror
def test_toxic_comments_and_glove_from_mirror(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    df = data.load("toxic_comments")
    assert df.shape == (1000, 2) and set(df["should_ban"]) == {0, 1}
    kv = data.load("glove-wiki-gigaword-50", limit=5000)
    assert len(kv.index_to_key) == 5000 and kv.vector_size == 50
    assert kv.most_similar("king", topn=5)[0][0] in {"prince", "queen"}


def _toxic_parts():
    every = data.load("toxic_comments")
    train = data.load("toxic_comments", split="train")
    heldout = data.load("toxic_comments", split="heldout")
    return every, train, heldout


def _check_toxic_split_rule(every, train, heldout):
    # the rule, written out again: SHA-256 of the UTF-8 text, modulo 5; bucket 0 is held out
    bucket = every["comment_text"].map(
        lambda t: int(hashlib.sha256(t.encode("utf-8")).hexdigest(), 16) % 5
    )
    assert heldout["comment_text"].tolist() == every.loc[bucket == 0, "comment_text"].tolist()
    assert train["comment_text"].tolist() == every.loc[bucket != 0, "comment_text"].tolist()
    assert heldout["should_ban"].tolist() == every.loc[bucket == 0, "should_ban"].tolist()
    assert not set(train["comment_text"]) & set(heldout["comment_text"])
    assert list(train.index) == list(range(len(train)))  # a fresh index, as for every split
    assert data.load("toxic_comments", split="all").equals(every)


@requires_mirror
def test_toxic_comments_splits_from_mirror(mirror):
    every, train, heldout = _toxic_parts()
    assert (len(every), len(train), len(heldout)) == (1000, 804, 196)
    _check_toxic_split_rule(every, train, heldout)
    assert set(heldout["should_ban"]) == {0, 1}


def test_toxic_comments_splits_of_the_standin(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(StandInWarning):
        every, train, heldout = _toxic_parts()
        _check_toxic_split_rule(every, train, heldout)
    assert len(every) == 1000 and 150 < len(heldout) < 250


def test_toxic_comments_bad_split_is_rejected(isolated_cache):
    with pytest.raises(ValueError, match=r"no split 'test'.*'train', 'heldout'"):
        data.load("toxic_comments", split="test")


def test_glove_standin_is_trained_on_gensim_corpus(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(StandInWarning, match="Lee corpus"):
        kv = data.load("glove-wiki-gigaword-50")
    assert kv.vector_size == 50 and "government" in kv.key_to_index


def test_mirror_may_hold_a_different_version_than_the_download(
    tmp_path, isolated_cache, toy_dataset, monkeypatch
):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    subset = BODY[: BODY.index(b"\n", 100) + 1]
    (mirror / "toy" / "toy.csv").write_bytes(subset)
    monkeypatch.setenv("COURSE_DATA", str(mirror))
    toy_dataset(
        RemoteFile(
            "toy.csv",
            sha256=DIGEST,
            mirror_path="toy/toy.csv",
            mirror_sha256=hashlib.sha256(subset).hexdigest(),
        )
    )
    assert len(data.load("toy")) < 400
