"""BLEU, edit distance (course_utils.text), greedy and beam search (course_utils.text.decoding),
corpus readers (course_utils.text.corpora)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from course_utils.text import corpus_bleu, edit_distance, normalized_edit_distance, sentence_bleu
from course_utils.text.corpora import read_analogies, read_brown_tagged, read_conllu
from course_utils.text.decoding import beam_search, greedy_decode, length_penalty
from tests.conftest import mirror_path, requires_mirror

LOG = math.log


# ----------------------------------------------------------------------- BLEU
def test_bleu_identical_is_100_and_disjoint_is_0():
    assert corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100)
    assert corpus_bleu(["a b c d"], ["w x y z"]) == pytest.approx(0)


def test_bleu_hand_computed_value():
    # hyp "the cat is on the mat" vs ref "the cat sat on the mat": precisions 5/6, 3/5,
    # 1/4, 0/3 -> BLEU 0 without smoothing; with a second hypothesis all orders match.
    hyp = ["the cat is on the mat", "a dog barks at the moon tonight"]
    ref = ["the cat sat on the mat", "a dog barks at the moon tonight"]
    p = [(5 + 7) / (6 + 7), (3 + 6) / (5 + 6), (1 + 5) / (4 + 5), (0 + 4) / (3 + 4)]
    expected = 100 * math.exp(sum(map(math.log, p)) / 4)  # same lengths: brevity penalty 1
    assert corpus_bleu(hyp, ref) == pytest.approx(expected, abs=1e-9)


def test_bleu_tokens_are_scored_as_given_strings_are_tokenised_13a():
    hyp, ref = [["hello", ",", "world", "!"]], [["hello", ",", "world", "!"]]
    assert corpus_bleu(hyp, ref) == pytest.approx(100)
    # "world!" is one token to tokenize="none", 13a splits the "!" off
    assert corpus_bleu(["so hello big world!"], ["so hello big world !"]) == pytest.approx(100)
    assert (
        corpus_bleu([["so", "hello", "big", "world!"]], [["so", "hello", "big", "world", "!"]]) < 70
    )
    assert corpus_bleu(
        ["Hello big new world"], ["hello big new world"], lowercase=True
    ) == pytest.approx(100)
    assert corpus_bleu(["Hello big new world"], ["hello big new world"]) < 70


def test_bleu_multiple_references_and_brevity():
    one = corpus_bleu(["the cat is on the mat"], ["the cat sat on the mat"])
    two = corpus_bleu(
        ["the cat is on the mat"], [["the cat sat on the mat", "the cat is on the rug"]]
    )
    assert two > one
    short = corpus_bleu(["the cat"], ["the cat sat on the mat"])
    assert short < 10  # brevity penalty exp(1 - 6/2)


def test_bleu_errors():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="single str"):
        corpus_bleu("a b", ["a b"])
    with pytest.raises(TypeError, match="token list"):
        corpus_bleu([["a", "b"]], ["a b"])


def test_sentence_bleu_smoothed():
    assert sentence_bleu("the cat sat", "the cat sat") == pytest.approx(100)
    s = sentence_bleu("the cat is on the mat", "the cat sat on the mat")
    assert 0 < s < 100  # smoothing: no zero for a missing 4-gram
    assert sentence_bleu(["a", "b", "c"], ["a", "b", "c"]) == pytest.approx(100)
    assert sentence_bleu("the cat", ["a dog", "the cat"]) == pytest.approx(100)


# -------------------------------------------------------------- edit distance
@pytest.mark.parametrize(
    "a,b,d",
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("flaw", "lawn", 2),
        ("שָׁלוֹם", "שלום", 3),
    ],
)
def test_edit_distance_known_values(a, b, d):
    assert edit_distance(a, b) == d == edit_distance(b, a)


def test_edit_distance_on_token_lists_and_normalised():
    assert edit_distance(["the", "cat", "sat"], ["the", "dog", "sat", "down"]) == 2
    assert normalized_edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert normalized_edit_distance("", "") == 0.0
    assert normalized_edit_distance("abc", "xyz") == 1.0
    with pytest.raises(TypeError):
        edit_distance(5, "a")


# ---------------------------------------------------------------- decoding
BOS, EOS, A, B = 0, 1, 2, 3


def table_decoder(table, default=None):
    """step() from a table prefix (without bos) -> next-token probabilities."""
    calls = []

    def step(prev, state):
        calls.append(tuple(prev))
        probs = table.get(tuple(prev[1:]), default)
        if probs is None:
            raise AssertionError(f"decoder asked for an unexpected prefix {prev}")
        return torch.log(torch.tensor(probs, dtype=torch.float64)), state

    step.calls = calls
    return step


# P(A)=0.6, P(B)=0.4; after A: eos 0.4, A 0.3, B 0.3; after B: eos 0.9.
GREEDY_TRAP = {
    (): [0, 0, 0.6, 0.4],
    (A,): [0, 0.4, 0.3, 0.3],
    (B,): [0, 0.9, 0.05, 0.05],
}


def test_greedy_and_beam_differ_and_beam_finds_the_best():
    step = table_decoder(GREEDY_TRAP, default=[0, 1.0, 0, 0])
    g = greedy_decode(step, BOS, EOS, max_len=5)
    assert g.tokens == [A] and g.finished and g.log_prob == pytest.approx(LOG(0.6 * 0.4))
    best = beam_search(step, BOS, EOS, beam_size=2, max_len=5)
    assert best[0].tokens == [B] and best[0].log_prob == pytest.approx(LOG(0.4 * 0.9))
    assert best[0].finished
    assert [h.tokens for h in best] == [[B], [A]]
    assert beam_search(step, BOS, EOS, beam_size=1, max_len=5)[0].tokens == g.tokens


def test_beam_search_equals_exhaustive_search_when_the_beam_is_wide():
    rng = np.random.default_rng(0)
    vocab, max_len = 4, 4
    table = {}
    for n in range(max_len):
        for prefix in itertools.product([EOS + 1, EOS + 2], repeat=n):
            p = rng.dirichlet(np.ones(vocab - 1))  # never bos
            table[prefix] = [0.0, *p]
    step = table_decoder(table)

    def exhaustive():
        best = []
        for n in range(max_len):
            for prefix in itertools.product([A, B], repeat=n):
                lp = sum(LOG(table[prefix[:i]][tok]) for i, tok in enumerate(prefix))
                best.append((lp + LOG(table[prefix][EOS]), list(prefix)))
        return max(best)

    lp, tokens = exhaustive()
    hyp = beam_search(step, BOS, EOS, beam_size=2**max_len, max_len=max_len)[0]
    assert hyp.tokens == tokens and hyp.log_prob == pytest.approx(lp)


def test_length_penalty_prefers_longer_outputs():
    # short: eos at once (p=0.5); long: A A A eos with p = 0.5 * 0.9**3
    table = {
        (): [0, 0.5, 0.5, 0],
        (A,): [0, 0.1, 0.9, 0],
        (A, A): [0, 0.1, 0.9, 0],
        (A, A, A): [0, 1.0, 0, 0],
    }
    step = table_decoder(table)
    assert beam_search(step, BOS, EOS, beam_size=2, max_len=6)[0].tokens == []
    long = beam_search(step, BOS, EOS, beam_size=2, max_len=6, alpha=2.0)[0]
    assert long.tokens == [A, A, A]
    assert long.score == pytest.approx(long.log_prob / length_penalty(4, 2.0))
    assert length_penalty(7, 0.0) == 1.0 and length_penalty(1, 1.0) == 1.0


def test_max_len_cuts_unfinished_hypotheses():
    step = table_decoder({}, default=[0, 0.01, 0.99, 0])
    g = greedy_decode(step, BOS, EOS, max_len=3)
    assert g.tokens == [A, A, A] and not g.finished
    hyps = beam_search(step, BOS, EOS, beam_size=2, max_len=3)
    assert len(hyps) == 2
    assert hyps[0].tokens == [A, A, A] and not hyps[0].finished


def test_state_is_threaded_per_hypothesis():
    # the state counts the steps of each hypothesis; eos becomes certain at 2
    def step(prev, state):
        assert state == len(prev) - 1  # the parent's state, not a sibling's
        p = [0, 1.0, 0, 0] if state >= 2 else [0, 0.1, 0.5, 0.4]
        return torch.log(torch.tensor(p)), state + 1

    out = beam_search(step, BOS, EOS, beam_size=3, max_len=10, state=0)
    assert out[0].tokens == [A, A] and out[0].state == 3
    assert greedy_decode(step, BOS, EOS, max_len=10, state=0).tokens == [A, A]


def test_decoder_errors_are_explained():
    with pytest.raises(ValueError, match="log_softmax"):
        greedy_decode(lambda p, s: (torch.tensor([0.5, 0.5]), s), BOS, EOS)
    with pytest.raises(ValueError, match=r"shape \[vocab\]"):
        beam_search(lambda p, s: (torch.zeros(2, 3), s), BOS, EOS)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(lambda p, s: (torch.zeros(3), s), BOS, EOS, beam_size=0)


# ---------------------------------------------------------------- corpora
CONLLU = """# sent_id = 1
# text = I didn't go.
1	I	I	PRON	PRP	_	3	nsubj	_	_
2-3	didn't	_	_	_	_	_	_	_	_
2	did	do	AUX	VBD	_	4	aux	_	_
3	n't	not	PART	RB	_	4	advmod	_	_
4	go	go	VERB	VB	_	0	root	_	_
4.1	went	go	VERB	VBD	_	_	_	0:root	_
5	.	.	PUNCT	.	_	4	punct	_	_

# sent_id = 2
1	Hi	hi	INTJ	UH	_	0	root	_	_

"""


def test_read_conllu_skips_comments_multiword_tokens_and_empty_nodes(tmp_path):
    sents = read_conllu(text=CONLLU)
    assert sents == [
        [("I", "PRON"), ("did", "AUX"), ("n't", "PART"), ("go", "VERB"), (".", "PUNCT")],
        [("Hi", "INTJ")],
    ]
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    assert read_conllu(path, fields=("id", "lemma", "head"))[0][1] == (2, "do", 4)
    with pytest.raises(ValueError, match="unknown CoNLL-U field"):
        read_conllu(path, fields=("form", "pos"))
    with pytest.raises(ValueError, match="exactly one"):
        read_conllu(path, text=CONLLU)


def test_read_brown_tagged_raw_format():
    text = "\n\n\tThe/at Fulton/np-tl jury/nn said/vbd ./.\n\n\tIt/pps ended/vbd ./.\n"
    assert read_brown_tagged(text, tagset=None) == [
        [("The", "AT"), ("Fulton", "NP-TL"), ("jury", "NN"), ("said", "VBD"), (".", ".")],
        [("It", "PPS"), ("ended", "VBD"), (".", ".")],
    ]
    assert read_brown_tagged("1/2/cd", tagset=None) == [[("1/2", "CD")]]
    with pytest.raises(ValueError, match="word/tag"):
        read_brown_tagged("oops", tagset=None)


@requires_mirror
def test_read_brown_tagged_agrees_with_nltk_on_the_real_corpus(monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(mirror_path() / "nltk_data")] + nltk.data.path)
    from nltk.corpus import brown

    for fileid in ("ca01", "cp12"):
        raw = brown.raw(fileid)
        assert read_brown_tagged(raw) == [
            list(s) for s in brown.tagged_sents(fileid, tagset="universal")
        ]
        assert read_brown_tagged(raw, tagset=None) == [list(s) for s in brown.tagged_sents(fileid)]


def test_read_analogies_sections(tmp_path):
    q = read_analogies()
    assert list(q)[:2] == ["capital-common-countries", "capital-world"]
    assert len(q["family"]) == 506 and q["family"][0] == ("boy", "girl", "brother", "sister")
    only = read_analogies(sections=["gram8-plural"], lower=True)
    assert list(only) == ["gram8-plural"]
    with pytest.raises(KeyError, match="no section"):
        read_analogies(sections=["colours"])
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\na b c\n")
    with pytest.raises(ValueError, match="four words"):
        read_analogies(bad)


def test_seq_loss_is_the_mean_over_real_tokens_only():
    import torch.nn.functional as F

    from course_utils.text import seq_loss

    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    target = torch.tensor([[1, 2, -100], [4, -100, -100]])
    per_token = [
        F.cross_entropy(logits[0, 0:1], target[0, 0:1]),
        F.cross_entropy(logits[0, 1:2], target[0, 1:2]),
        F.cross_entropy(logits[1, 0:1], target[1, 0:1]),
    ]
    assert torch.allclose(seq_loss(logits, target), torch.stack(per_token).mean())
    with pytest.raises(
        ValueError, match=r"logits \[B, T, V\] and target \[B, T\].*\(2, 3, 5\) and \(2, 2\)"
    ):
        seq_loss(logits, target[:, :2])


def test_decoder_step_feeds_the_last_token_and_returns_log_probs():
    from course_utils.text.decoding import decoder_step, greedy_decode

    class Counter(torch.nn.Module):  # predicts "previous token + 1", eos = 3
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def step(self, token, state):
            logits = torch.full((1, 4), -5.0)
            logits[0, (token.item() + 1) % 4] = 5.0
            return logits, state + 1, "attention weights"

    step = decoder_step(Counter())
    lp, state = step([0], 0)
    assert state == 1 and torch.allclose(lp.exp().sum(), torch.tensor(1.0)) and lp.argmax() == 1
    assert greedy_decode(step, 0, 3, max_len=10, state=0).tokens == [1, 2]  # eos not included
