"""course_utils.text: tokenizer, vocabulary, padding collate."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader

from course_utils.text import SPECIALS, PadCollate, Vocab, pad_collate, tokenize
from tests.conftest import requires_mirror


# ---------------------------------------------------------------------- tokenize
def test_tokenize_words_numbers_punctuation():
    assert tokenize("Stocks rose 2.5% on Monday!") == [
        "stocks",
        "rose",
        "2",
        ".",
        "5",
        "%",
        "on",
        "monday",
        "!",
    ]


def test_tokenize_keeps_inner_apostrophes_and_hyphens():
    assert tokenize("Don't re-elect O'Brien") == ["don't", "re-elect", "o'brien"]


def test_tokenize_lower_option_and_unicode():
    assert tokenize("Zürich BEATS Genève", lower=False) == ["Zürich", "BEATS", "Genève"]
    assert tokenize("Zürich BEATS Genève") == ["zürich", "beats", "genève"]


def test_tokenize_custom_pattern_and_empty():
    assert tokenize("a-b c", pattern=r"[a-z]") == ["a", "b", "c"]
    assert tokenize("   ") == []


def test_tokenize_rejects_non_str():
    with pytest.raises(TypeError, match="expected a str, found int"):
        tokenize(42)
    with pytest.raises(TypeError, match="found list"):
        tokenize(["a", "b"])


# ------------------------------------------------------------------------- Vocab
COUNTS = Counter({"the": 5, "cat": 3, "dog": 3, "sat": 1, "mat": 2})


def test_vocab_specials_first_then_frequency_then_alphabetical():
    vocab = Vocab(COUNTS)
    assert vocab.itos == list(SPECIALS) + ["the", "cat", "dog", "mat", "sat"]
    assert (vocab.pad_index, vocab.unk_index, vocab.bos_index, vocab.eos_index) == (0, 1, 2, 3)
    assert len(vocab) == 9


def test_vocab_order_does_not_depend_on_count_order():
    shuffled = dict(reversed(list(COUNTS.items())))
    assert Vocab(shuffled).itos == Vocab(COUNTS).itos


def test_vocab_min_freq_threshold():
    vocab = Vocab(COUNTS, min_freq=3)
    assert vocab.itos[4:] == ["the", "cat", "dog"]
    assert "cat" in vocab and "mat" not in vocab and "<pad>" in vocab
    assert 5 not in vocab  # only tokens are members


def test_vocab_max_size_counts_specials():
    vocab = Vocab(COUNTS, max_size=6)
    assert len(vocab) == 6
    assert vocab.itos[4:] == ["the", "cat"]
    assert len(Vocab(COUNTS, max_size=4)) == 4


def test_vocab_encode_decode_roundtrip_and_unknowns():
    vocab = Vocab(COUNTS, min_freq=2)
    ids = vocab.encode(["the", "cat", "sat", "zebra"], add_bos=True, add_eos=True)
    assert ids == [2, 4, 5, 1, 1, 3]
    assert vocab["zebra"] == vocab.unk_index and vocab["the"] == 4
    assert vocab.decode(ids) == ["<bos>", "the", "cat", "<unk>", "<unk>", "<eos>"]
    assert vocab.decode(torch.tensor([2, 4, 0, 0]), skip_specials=True) == ["the"]


def test_vocab_counts_kept_for_members_only():
    vocab = Vocab(COUNTS, min_freq=2)
    assert vocab.counts == {"the": 5, "cat": 3, "dog": 3, "mat": 2}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"counts": ["a", "b"]}, TypeError, "expected token counts as a mapping.*found list"),
        ({"counts": {1: 3}}, TypeError, "expected str tokens in counts, found int"),
        ({"counts": {"a": -1}}, ValueError, "non-negative int counts, found -1"),
        ({"counts": {"a": 1.5}}, ValueError, "non-negative int counts, found 1.5"),
        ({"counts": COUNTS, "min_freq": 0}, ValueError, "min_freq must be an int >= 1, found 0"),
        (
            {"counts": COUNTS, "max_size": 3},
            ValueError,
            r"max_size must be None or an int >= 4.*found 3",
        ),
        ({"counts": COUNTS, "specials": ["<unk>", "<pad>"]}, ValueError, "must start with '<pad>'"),
    ],
)
def test_vocab_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        Vocab(**kwargs)


def test_vocab_encode_rejects_a_raw_string():
    vocab = Vocab(COUNTS)
    with pytest.raises(
        TypeError, match=r"expected a list of tokens, found a str; tokenize it first"
    ):
        vocab.encode("the cat")
    with pytest.raises(TypeError, match="expected str tokens, found int"):
        vocab.encode(["the", 3])


def test_vocab_decode_bad_indices():
    vocab = Vocab(COUNTS)
    with pytest.raises(IndexError, match="index 99 is out of range for a vocabulary of size 9"):
        vocab.decode([4, 99])
    with pytest.raises(ValueError, match=r"expected a 1-D tensor, found shape \(1, 2\)"):
        vocab.decode(torch.tensor([[4, 5]]))


# ---------------------------------------------------------------------- collate
def test_pad_collate_shapes_values_lengths():
    ids, lengths, labels = pad_collate([([5, 6, 7], 2), ([8], 0), ([9, 10], 3)])
    assert ids.dtype == torch.long and ids.shape == (3, 3)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2]
    assert labels.tolist() == [2, 0, 3]


def test_pad_collate_pad_index_and_max_len():
    ids, lengths, _ = pad_collate([([5, 6, 7, 8], 1), ([9], 0)], pad_index=-1, max_len=2)
    assert ids.tolist() == [[5, 6], [9, -1]]
    assert lengths.tolist() == [2, 1]


def test_pad_collate_accepts_tensors_and_works_in_a_dataloader():
    data = [(torch.tensor([1, 2]), 0), (torch.tensor([3, 4, 5]), 1), ([6], 1)]
    loader = DataLoader(data, batch_size=2, collate_fn=PadCollate(pad_index=0, max_len=5))
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(2, 3), (1, 1)]
    assert batches[0][0].tolist() == [[1, 2, 0], [3, 4, 5]]
    assert repr(PadCollate(0, 5)) == "PadCollate(pad_index=0, max_len=5)"


@pytest.mark.parametrize(
    "batch, kwargs, error, match",
    [
        ([], {}, ValueError, "expected a non-empty batch, found 0 items"),
        ([([1, 2], 0), ([], 1)], {}, ValueError, "item 1 has no tokens"),
        ([[1, 2, 3]], {}, TypeError, r"expected \(token ids, label\) pairs, found item 0"),
        (
            [([[1, 2]], 0)],
            {},
            TypeError,
            r"item 0's token ids as a 1-D sequence of ints, found shape \(1, 2\)",
        ),
        ([([1.5, 2.0], 0)], {}, TypeError, "found shape .* dtype torch.float"),
        ([([1], 0)], {"max_len": 0}, ValueError, "max_len must be None or an int >= 1, found 0"),
        ([([1], "World")], {}, TypeError, "expected numeric labels"),
    ],
)
def test_pad_collate_bad_input(batch, kwargs, error, match):
    with pytest.raises(error, match=match):
        pad_collate(batch, **kwargs)


def test_padcollate_validates_max_len_early():
    with pytest.raises(ValueError, match="max_len must be None or an int >= 1, found -3"):
        PadCollate(max_len=-3)


# --------------------------------------------------------------- on real AG News
@requires_mirror
def test_vocab_and_collate_on_ag_news_rows():
    from course_utils import data

    df = data.load("ag_news_subset", split="train")
    assert len(df) == 2000
    tokens = [tokenize(t) for t in df.text]
    counts = Counter(t for ts in tokens for t in ts)
    vocab = Vocab(counts, min_freq=2)
    # a threshold shrinks the vocabulary but keeps most running tokens
    assert 2000 < len(vocab) < len(counts)
    covered = sum(c for t, c in counts.items() if t in vocab) / sum(counts.values())
    assert 0.85 < covered < 1.0
    assert {"the", ".", "reuters"} <= set(vocab.itos[:60])
    batch = [(vocab.encode(ts), int(y)) for ts, y in zip(tokens[:32], df.label[:32])]
    ids, lengths, labels = pad_collate(batch, pad_index=vocab.pad_index, max_len=48)
    assert ids.shape == (32, int(lengths.max())) and int(lengths.max()) <= 48
    assert set(labels.tolist()) <= {0, 1, 2, 3}
    # the padding sits exactly after each text's length
    for row, n in zip(ids, lengths):
        assert (row[n:] == vocab.pad_index).all() and (row[:n] != vocab.pad_index).all()
