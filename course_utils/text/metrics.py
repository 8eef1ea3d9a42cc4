"""Scores of generated text: BLEU (sacrebleu) and edit distance (rapidfuzz)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["corpus_bleu", "edit_distance", "normalized_edit_distance", "sentence_bleu"]


# ------------------------------------------------------------------------ BLEU
def _bleu_inputs(hypotheses, references, tokenize):
    if isinstance(hypotheses, str):
        raise TypeError(
            "corpus_bleu expected a list of hypotheses, found a single str; wrap it: [hyp]"
        )
    hypotheses = list(hypotheses)
    references = list(references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"corpus_bleu: {len(hypotheses)} hypotheses but {len(references)} references; "
            "give one reference (or one list of references) per hypothesis"
        )
    if not hypotheses:
        raise ValueError("corpus_bleu expected at least one hypothesis, found 0")
    tokens = not isinstance(hypotheses[0], str)

    def join(x, what, n):
        if tokens:
            if isinstance(x, str):
                raise TypeError(
                    f"{what} {n} is a str but hypothesis 0 is a token list; use one kind"
                )
            return " ".join(x)
        if not isinstance(x, str):
            raise TypeError(
                f"{what} {n} is a {type(x).__name__} but hypothesis 0 is a str; use one kind"
            )
        return x

    hyps = [join(h, "hypothesis", i) for i, h in enumerate(hypotheses)]
    # one reference per hypothesis (str or token list) or several (a list of them)
    first = references[0]
    multi = (not tokens and not isinstance(first, str)) or (
        tokens and len(first) > 0 and not isinstance(first[0], str)
    )
    per_hyp = [list(r) if multi else [r] for r in references]
    n_refs = {len(r) for r in per_hyp}
    if len(n_refs) != 1:
        raise ValueError(
            f"every hypothesis needs the same number of references, found {sorted(n_refs)}"
        )
    ref_streams = [
        [join(r[k], "reference", i) for i, r in enumerate(per_hyp)] for k in range(n_refs.pop())
    ]
    tok = tokenize if tokenize is not None else ("none" if tokens else "13a")
    return hyps, ref_streams, tok


def corpus_bleu(
    hypotheses, references, tokenize: str | None = None, lowercase: bool = False
) -> float:
    """Corpus BLEU (0-100) computed by sacrebleu.

    ``hypotheses``: one per segment, each a str or a list of tokens.
    ``references``: one per hypothesis (a str or a token list), or one list of
    several references per hypothesis. Tokenisation: token lists are joined with
    spaces and scored as they are (sacrebleu ``tokenize="none"``: BLEU of *your*
    tokens, e.g. after a lower-casing tokenizer); strings are tokenised by
    sacrebleu's standard ``"13a"`` (the WMT default, comparable with published
    scores). ``tokenize`` overrides either choice (any sacrebleu tokenizer name).
    For the signature, n-gram precisions etc. call ``sacrebleu.corpus_bleu`` itself.
    """
    import sacrebleu

    hyps, refs, tok = _bleu_inputs(hypotheses, references, tokenize)
    return float(sacrebleu.corpus_bleu(hyps, refs, tokenize=tok, lowercase=lowercase).score)


def sentence_bleu(
    hypothesis, references, tokenize: str | None = None, lowercase: bool = False
) -> float:
    """Smoothed BLEU (0-100) of one hypothesis (str or tokens) against one or more
    references (same kind); sacrebleu's ``sentence_bleu`` with its default
    exponential smoothing. Use corpus BLEU to report a system: averaging
    sentence BLEU is not corpus BLEU."""
    import sacrebleu

    refs = (
        [references]
        if isinstance(references, str)
        or (references and isinstance(references[0], str) and not isinstance(hypothesis, str))
        else list(references)
    )
    hyps, ref_streams, tok = _bleu_inputs([hypothesis], [refs], tokenize)
    return float(
        sacrebleu.sentence_bleu(
            hyps[0], [r[0] for r in ref_streams], tokenize=tok, lowercase=lowercase
        ).score
    )


# --------------------------------------------------------------- edit distance
def _check_seq(x, name):
    if not isinstance(x, (str, Sequence)):
        raise TypeError(f"{name} must be a str or a sequence of tokens, found {type(x).__name__}")


def edit_distance(a: str | Sequence, b: str | Sequence) -> int:
    """Levenshtein distance (insertions, deletions, substitutions, each cost 1)
    between two strings (characters) or two token sequences; rapidfuzz computes it."""
    from rapidfuzz.distance import Levenshtein

    _check_seq(a, "a")
    _check_seq(b, "b")
    return int(Levenshtein.distance(a, b))


def normalized_edit_distance(a: str | Sequence, b: str | Sequence) -> float:
    """Edit distance divided by the longer length, in [0, 1] (0 for two empty inputs)."""
    from rapidfuzz.distance import Levenshtein

    _check_seq(a, "a")
    _check_seq(b, "b")
    return float(Levenshtein.normalized_distance(a, b))
