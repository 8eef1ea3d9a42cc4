"""NLP registry entries: real files from the mirror (skipped without COURSE_DATA),
stand-ins offline, clear errors in full mode."""

from __future__ import annotations

import shutil

import pytest

from course_utils import data
from course_utils.data import DataError, StandInWarning
from tests.conftest import mirror_path, requires_mirror

MIRROR = mirror_path()
NEW = ["multi30k", "he_translit", "uk_ru_dictionary", "ud_english_ewt", "brown", "conll2000"]
UNIVERSAL = {"ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X", "."}
UPOS = {
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
}


@pytest.fixture
def offline_small(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return isolated_cache


@pytest.fixture
def nltk_finds_nothing(tmp_path, monkeypatch):
    """NLTK's own search path emptied (NLTK_DATA may point at the mirror)."""
    import nltk

    empty = tmp_path / "no_nltk_data"
    empty.mkdir()
    monkeypatch.setattr(nltk.data, "path", [str(empty)])
    return nltk.data.path


def test_entries_are_complete():
    for name in NEW:
        entry = data.get_entry(name)
        assert entry.license and entry.homepage.startswith("http") and entry.standin is not None
        for role, rf in entry.files.items():
            assert rf.urls and all(u.startswith("https://") for u in rf.urls), (name, role)
            # a digest is known wherever the mirror has the file
            assert (rf.sha256 is not None) == (rf.mirror_path is not None), (name, role)
    assert data.get_entry("ud_english_ewt").trust_on_first_use == ["train"]


# ------------------------------------------------------------------ real files
@requires_mirror
def test_mirror_files_match_registered_checksums(mirror):
    for name in NEW:
        for role, rf in data.get_entry(name).files.items():
            if rf.mirror_path:
                assert data.path(name, role) == MIRROR / rf.mirror_path  # verified on the way


@requires_mirror
def test_multi30k_from_mirror(mirror):
    sizes = {"train": 29000, "valid": 1014, "test2016": 1000}
    for split, n in sizes.items():
        pairs = data.load("multi30k", split=split)
        assert len(pairs) == n
        assert all(de and en and "\n" not in de + en for de, en in pairs)
    train = data.load("multi30k", split="train")
    assert train[0] == (
        "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
        "Two young, White males are outside near many bushes.",
    )


@requires_mirror
def test_he_translit_from_mirror(mirror):
    pairs = data.load("he_translit")
    assert len(pairs) == 7056
    assert pairs[0] == ("אֵב", "ev")
    # raw text: a few entries start with a maqaf or an invisible left-to-right mark
    not_letter_first = [he for he, _ in pairs if not "\u05d0" <= he[0] <= "\u05ea"]
    assert 0 < len(not_letter_first) < 30
    assert all(lat.isascii() for _, lat in pairs)


@requires_mirror
def test_uk_ru_dictionary_from_mirror(mirror):
    train, test = (
        data.load("uk_ru_dictionary", split="train"),
        data.load("uk_ru_dictionary", split="test"),
    )
    assert (len(train), len(test)) == (1927, 400)
    assert test[0] == ("або", "либо")
    tale = data.load("uk_ru_dictionary", split="fairy_tale")
    assert isinstance(tale, str) and tale.startswith("Лисичка")


@requires_mirror
def test_ud_english_ewt_from_mirror_skips_multiword_and_empty_nodes(mirror):
    dev = data.load("ud_english_ewt", split="dev")
    test = data.load("ud_english_ewt", split="test")
    assert (len(dev), len(test)) == (2001, 2077)
    assert dev[0][:3] == [("From", "ADP"), ("the", "DET"), ("AP", "PROPN")]
    words = [w for sent in dev for w, _ in sent]
    tags = {t for sent in dev for _, t in sent}
    assert tags == UPOS - {"X"} or tags <= UPOS
    assert "didn't" not in words and "n't" in words  # the 29-30 line is dropped, its parts kept
    with_ids = data.load("ud_english_ewt", split="dev", fields=("id", "form"))
    assert all(isinstance(i, int) for sent in with_ids for i, _ in sent)  # no 8.1 nodes


@requires_mirror
def test_brown_through_the_registry_when_nltk_finds_nothing(mirror, nltk_finds_nothing):
    sents = data.load("brown", categories=["news"])
    assert len(sents) == 4623
    assert sents[0][:4] == [
        ("The", "DET"),
        ("Fulton", "NOUN"),
        ("County", "NOUN"),
        ("Grand", "ADJ"),
    ]
    assert {t for s in sents for _, t in s} <= UNIVERSAL
    assert str(MIRROR / "nltk_data") in nltk_finds_nothing
    raw = data.load("brown", categories=["news"], tagset=None, limit=2)
    assert len(raw) == 2 and raw[0][0] == ("The", "AT")


@requires_mirror
def test_brown_zips_in_the_cache_layout_are_found(isolated_cache, monkeypatch, nltk_finds_nothing):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    for rel in ("corpora/brown.zip", "taggers/universal_tagset.zip"):
        dest = isolated_cache / "brown" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MIRROR / "nltk_data" / rel, dest)
    sents = data.load("brown", categories=["news"], limit=3)
    assert len(sents) == 3 and sents[0][0] == ("The", "DET")
    assert str(isolated_cache / "brown") in nltk_finds_nothing


def test_questions_words_ships_with_gensim(isolated_cache):
    q = data.load("questions-words")
    assert len(q) == 14 and sum(map(len, q.values())) == 19544
    assert q["capital-common-countries"][0] == ("Athens", "Greece", "Baghdad", "Iraq")
    fam = data.load("questions-words", sections=["family"], lower=True)
    assert list(fam) == ["family"] and all(w.islower() for quad in fam["family"] for w in quad)


# ------------------------------------------------------------------ stand-ins
def test_multi30k_standin_is_announced_and_parallel(offline_small):
    with pytest.warns(StandInWarning, match="German-English"):
        pairs = data.load("multi30k", split="train")
    assert len(pairs) == 3000 and len(set(pairs)) > 1000
    for de, en in pairs[:200]:
        assert de.endswith(".") and en.endswith(".")
        if "einen" in de.split():  # accusative masculine article only before masculine nouns
            assert {"Hund", "Mann", "Junge", "Ball", "Hut"} & set(de.rstrip(".").split())
    with pytest.warns(StandInWarning):
        assert data.load("multi30k", split="test2016") != data.load("multi30k", split="valid")


def test_he_translit_standin(offline_small):
    with pytest.warns(StandInWarning, match="not real Hebrew"):
        pairs = data.load("he_translit")
    assert len(pairs) == 2000 and len({he for he, _ in pairs}) == 2000
    assert all(lat.isascii() and lat.isalpha() for _, lat in pairs)
    # the reading depends on the dagesh: bet with it is "b", without it "v"
    from course_utils.data.standins import translit_like

    assert translit_like(50, seed=3) == translit_like(50, seed=3)


def test_uk_ru_standin_splits_do_not_overlap(offline_small):
    with pytest.warns(StandInWarning, match="written by hand"):
        train = data.load("uk_ru_dictionary", split="train")
    with pytest.warns(StandInWarning):
        test = data.load("uk_ru_dictionary", split="test")
    assert len(train) == 64 and len(test) == 16 and not set(train) & set(test)


def test_ud_standin_has_upos_tags(offline_small):
    with pytest.warns(StandInWarning, match="UPOS"):
        sents = data.load("ud_english_ewt", split="dev")
    assert len(sents) == 1000
    assert {t for s in sents for _, t in s} <= UPOS
    assert {"PUNCT", "CCONJ", "DET", "NOUN", "VERB"} <= {t for s in sents for _, t in s}


def test_brown_standin_offline_without_nltk_data(offline_small, nltk_finds_nothing):
    with pytest.warns(StandInWarning, match="not Brown"):
        sents = data.load("brown", limit=500)
    assert len(sents) == 500
    tags = {t for s in sents for _, t in s}
    assert tags <= UNIVERSAL and {"DET", "NOUN", "VERB", "."} <= tags
    # some words are ambiguous, so a tagger needs the context
    book_tags = {t for s in sents for w, t in s if w.lower() == "book"}
    assert book_tags == {"NOUN", "VERB"}


@pytest.mark.parametrize(
    "name,split",
    [
        ("multi30k", "train"),
        ("ud_english_ewt", "train"),
        ("he_translit", None),
        ("conll2000", "train"),
    ],
)
def test_full_mode_offline_is_a_clear_error(isolated_cache, monkeypatch, name, split):
    monkeypatch.setenv("COURSE_SMALL", "0")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DataError, match=rf"dataset '{name}'.*not found.*stand-in instead") as info:
        data.load(name, split=split)
    assert "COURSE_OFFLINE" in str(info.value) and "course data fetch" in str(info.value)


@requires_mirror
def test_conll2000_from_mirror_is_what_nltk_reads():
    from nltk.corpus.reader import ConllChunkCorpusReader

    train = data.load("conll2000", split="train")
    test = data.load("conll2000", split="test")
    assert (len(train), len(test)) == (8936, 2012)
    root = str(MIRROR / "nltk_data" / "corpora" / "conll2000.zip") + "/conll2000/"
    reader = ConllChunkCorpusReader(root, ["train.txt", "test.txt"], ("NP", "VP", "PP"))
    assert [list(s) for s in reader.iob_sents("test.txt")] == [list(s) for s in test]
    tags = {c for s in train for _, _, c in s}
    assert {"O", "B-NP", "I-NP", "B-VP", "B-PP"} <= tags


def test_conll2000_standin_offline(offline_small):
    with pytest.warns(StandInWarning, match="not the Wall Street Journal"):
        sents = data.load("conll2000", split="train")
    chunks = {c for s in sents for _, _, c in s}
    assert {"B-NP", "I-NP", "B-VP", "B-PP", "O"} <= chunks
    # a sentence never starts inside a chunk
    assert all(not s[0][2].startswith("I-") for s in sents)


def test_conll2000_zip_without_the_test_split_is_a_clear_error(tmp_path, monkeypatch):
    """What a homework's grading sandbox sees: the training part only."""
    import zipfile

    from course_utils.data.datasets import conll2000

    zpath = tmp_path / "conll2000.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("conll2000/train.txt", "Confidence NN B-NP\nin IN B-PP\n\n")
    get = {"corpus": zpath}.__getitem__
    assert conll2000._load_conll2000(get, "train") == [
        [("Confidence", "NN", "B-NP"), ("in", "IN", "B-PP")]
    ]
    with pytest.raises(DataError, match="has no conll2000/test.txt.*training sentences only"):
        conll2000._load_conll2000(get, "test")
