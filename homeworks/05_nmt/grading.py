"""Trusted side of homework 5 (runs in the grader's process, never in the student's kernel).

The held-out BLEU ladder: the grader loads Multi30k test2016 itself, sends only the German
sentences into the kernel (``translate(sentences)``, greedy), and scores the returned strings
here against the English references, which never enter the kernel. The kernel may read the
training and validation files only.
"""

from course_utils import data
from course_utils.text import corpus_bleu, tokenize
from course_utils.tools.grading.trusted import Ladder

SMALL_MAX_TOKENS = 10  # small mode: the test2016 pairs with at most 10 tokens on both sides (263)


def heldout_pairs(small: bool) -> list[tuple[str, str]]:
    pairs = data.load("multi30k", split="test2016")
    if small:
        pairs = [
            (de, en)
            for de, en in pairs
            if len(tokenize(de)) <= SMALL_MAX_TOKENS and len(tokenize(en)) <= SMALL_MAX_TOKENS
        ]
    return list(pairs)


def heldout_bleu(session) -> float:
    pairs = heldout_pairs(session.small)
    hyps = session.call("translate", [de for de, _ in pairs])
    if type(hyps) is not list or len(hyps) != len(pairs):
        raise ValueError(
            f"translate must return a list of one string per sentence ({len(pairs)}), "
            f"found {len(hyps) if type(hyps) is list else type(hyps).__name__}"
        )
    if any(type(h) is not str for h in hyps):
        raise TypeError("translate must return strings")
    return corpus_bleu([tokenize(h) for h in hyps], [tokenize(en) for _, en in pairs])


LADDERS = {
    "heldout_bleu": Ladder(
        heldout_bleu, small=(3.0, 6.0), full=(28.0, 32.0), metric="held-out BLEU (test2016)"
    )
}


def sandbox_data(view) -> None:
    view.dataset("multi30k", roles=["train.de", "train.en", "valid.de", "valid.en"])
