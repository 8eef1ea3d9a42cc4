"""Registry entry ``he_translit``: Hebrew-to-English transliteration pairs."""

from __future__ import annotations

from course_utils.data import standins
from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset


# ---------------------------------------------------------------- he_translit
def _load_he_translit(get, split):
    path = get("pairs")
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise ValueError(f"{path}:{lineno}: expected 'hebrew<TAB>latin', found {line!r}")
            pairs.append((parts[0], parts[1]))
    return pairs


HE_TRANSLIT = Dataset(
    name="he_translit",
    description="Hebrew words (with niqqud) and their Latin pronunciation, 7,056 pairs",
    license="Wiktionary-derived, CC BY-SA",
    homepage="https://github.com/yandexdataschool/Practical_RL/tree/master/week07_seq2seq",
    files={
        "pairs": RemoteFile(
            "he-pron-wiktionary.txt",
            urls=(
                "https://raw.githubusercontent.com/yandexdataschool/Practical_RL/master/"
                "week07_seq2seq/he-pron-wiktionary.txt",
            ),
            sha256="659e070e0aa2640aa9d9665e1997a6401318e1623dd013a10833d886426439fb",
            size=171863,
            mirror_path="he_translit/he-pron-wiktionary.txt",
        )
    },
    loader=_load_he_translit,
    standin=lambda split: (
        standins.translit_like(2000),
        "generated Hebrew-script syllable words with rule-based Latin readings "
        "(course_utils.data.standins), not real Hebrew words",
    ),
    notes="Some entries are several words (a space inside both sides); some Hebrew words "
    "appear more than once with different readings; the text is returned as is (26 entries begin "
    "with a maqaf or an invisible U+200E left-to-right mark).",
)

ENTRIES = (HE_TRANSLIT,)
