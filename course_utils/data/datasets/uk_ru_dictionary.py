"""Registry entry ``uk_ru_dictionary``: Ukrainian-Russian word pairs."""

from __future__ import annotations

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

_NLP_COURSE = "https://raw.githubusercontent.com/yandexdataschool/nlp_course/master"


# ------------------------------------------------------------ uk_ru_dictionary
def _read_pairs_tsv(path) -> list[tuple[str, str]]:
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise ValueError(
                    f"{path}:{lineno}: expected 'ukrainian<TAB>russian', found {line!r}"
                )
            pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def _load_uk_ru(get, split):
    if split == "fairy_tale":
        return get("fairy_tale").read_text(encoding="utf-8")
    return _read_pairs_tsv(get(split))


_UK_TALE = (
    "Жила собі лисичка в лісі.\n"
    "Прийшла зима, і лисичка замерзла.\n"
    "Побігла вона в село по вогонь і зустріла вовка.\n"
    "Вовк був великий і старий, а лисичка мала і швидка.\n"
)


def _uk_ru_standin(split):
    pairs = standins.UK_RU_PAIRS
    if split == "fairy_tale":
        return _UK_TALE, "a four-line Ukrainian text written for the stand-in"
    chosen = [p for i, p in enumerate(pairs) if (i % 5 == 4) == (split == "test")]
    return chosen, f"{len(chosen)} common Ukrainian-Russian word pairs written by hand"


UK_RU_DICTIONARY = Dataset(
    name="uk_ru_dictionary",
    description="Ukrainian-Russian word pairs (1,927 train / 400 test; a word may have several "
    "translations) and a short Ukrainian fairy tale (split='fairy_tale', a str)",
    license="MIT (yandexdataschool/nlp_course repository)",
    homepage="https://github.com/yandexdataschool/nlp_course/tree/master/week01_embeddings",
    files={
        "train": RemoteFile(
            "ukr_rus.train.txt",
            urls=(f"{_NLP_COURSE}/week01_embeddings/ukr_rus.train.txt",),
            sha256="b4616d981c026a7205ae3a5fd04344a670809817d93c040d4fb99c53e59f0da3",
            size=59351,
            mirror_path="uk_ru_dictionary/ukr_rus.train.txt",
        ),
        "test": RemoteFile(
            "ukr_rus.test.txt",
            urls=(f"{_NLP_COURSE}/week01_embeddings/ukr_rus.test.txt",),
            sha256="3c6890298a3d17ad70432fa0674e58e3f4a857d60870130c2db74a8412c7d82a",
            size=12188,
            mirror_path="uk_ru_dictionary/ukr_rus.test.txt",
        ),
        "fairy_tale": RemoteFile(
            "fairy_tale.txt",
            urls=(f"{_NLP_COURSE}/week01_embeddings/fairy_tale.txt",),
            sha256="6819bcca4ee8aca5730abf391d6e26ac06eaab6dc64a79e8dc9ab95e35555967",
            size=9191,
            mirror_path="uk_ru_dictionary/fairy_tale.txt",
        ),
    },
    splits=("train", "test", "fairy_tale"),
    loader=_load_uk_ru,
    standin=_uk_ru_standin,
    notes="The fastText Ukrainian/Russian vectors that go with it are not registered "
    "(several GB, not mirrored).",
)

ENTRIES = (UK_RU_DICTIONARY,)
