"""Text plumbing: a regex tokenizer, a vocabulary, a padding collate, BLEU
(sacrebleu) and edit distance (rapidfuzz).

>>> from collections import Counter
>>> from course_utils.text import Vocab, tokenize, pad_collate
>>> tokenize("Stocks rose 2.5% on Monday!")
['stocks', 'rose', '2', '.', '5', '%', 'on', 'monday', '!']
>>> counts = Counter(tok for text in ["a b b", "b c"] for tok in tokenize(text))
>>> vocab = Vocab(counts, min_freq=2)
>>> vocab.itos
['<pad>', '<unk>', '<bos>', '<eos>', 'b']
>>> vocab.encode(["b", "zebra"])
[4, 1]

Nothing here needs the network (no NLTK punkt, no downloaded tokenizer models).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import torch

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "UNK",
    "PadCollate",
    "Vocab",
    "corpus_bleu",
    "edit_distance",
    "normalized_edit_distance",
    "pad_collate",
    "sentence_bleu",
    "tokenize",
]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

#: Words (letters/digits/underscore, with inner apostrophes or hyphens kept:
#: "don't", "e-mail") or single punctuation characters.
TOKEN_PATTERN = r"\w+(?:['\-]\w+)*|[^\w\s]"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def tokenize(text: str, lower: bool = True, pattern: str | re.Pattern | None = None) -> list[str]:
    """Split ``text`` into word and punctuation tokens with a regular expression.

    ``lower=True`` lower-cases first. ``pattern`` replaces :data:`TOKEN_PATTERN`
    (every match becomes one token).
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expected a str, found {type(text).__name__}: {text!r:.60}")
    regex = _TOKEN_RE if pattern is None else re.compile(pattern)
    if lower:
        text = text.lower()
    return regex.findall(text)


class Vocab:
    """A token <-> index mapping built from token counts.

    Index 0 is ``<pad>``, then ``<unk>``, ``<bos>``, ``<eos>``; then every token
    seen at least ``min_freq`` times, most frequent first (ties alphabetically,
    so the order does not depend on the order of the counts). ``max_size`` caps
    the total number of entries, special tokens included. Unknown tokens map to
    ``<unk>``.
    """

    def __init__(
        self,
        counts: Mapping[str, int],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = SPECIALS,
    ):
        if not isinstance(counts, Mapping):
            raise TypeError(
                "Vocab expected token counts as a mapping token -> count "
                f"(e.g. collections.Counter), found {type(counts).__name__}"
            )
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, found {min_freq!r}")
        specials = list(specials)
        if specials[:2] != [PAD, UNK]:
            raise ValueError(
                f"specials must start with {PAD!r} (index 0) and {UNK!r}, found {specials[:2]}"
            )
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials must be distinct, found {specials}")
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < len(specials)
        ):
            raise ValueError(
                f"max_size must be None or an int >= {len(specials)} (the special tokens), "
                f"found {max_size!r}"
            )
        for token, count in counts.items():
            if not isinstance(token, str):
                raise TypeError(
                    f"Vocab expected str tokens in counts, found {type(token).__name__}: {token!r}"
                )
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"Vocab expected non-negative int counts, found {count!r} for {token!r}"
                )

        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        self.itos: list[str] = specials + kept
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self.counts = {t: int(counts[t]) for t in kept}
        self.min_freq = min_freq
        self.max_size = max_size

    # ------------------------------------------------------------------ lookups
    @property
    def pad_index(self) -> int:
        return self.stoi[PAD]

    @property
    def unk_index(self) -> int:
        return self.stoi[UNK]

    @property
    def bos_index(self) -> int:
        return self.stoi[BOS]

    @property
    def eos_index(self) -> int:
        return self.stoi[EOS]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The index of ``token`` (``<unk>``'s index when it is not in the vocabulary)."""
        return self.stoi.get(token, self.unk_index)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, min_freq={self.min_freq}, max_size={self.max_size})"

    # ------------------------------------------------------------ encode/decode
    def encode(
        self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Token list -> index list (unknown tokens become ``<unk>``)."""
        if isinstance(tokens, str):
            raise TypeError(
                "Vocab.encode expected a list of tokens, found a str; "
                "tokenize it first: vocab.encode(tokenize(text))"
            )
        ids = [self.bos_index] if add_bos else []
        unk = self.unk_index
        for tok in tokens:
            if not isinstance(tok, str):
                raise TypeError(
                    f"Vocab.encode expected str tokens, found {type(tok).__name__}: {tok!r}"
                )
            ids.append(self.stoi.get(tok, unk))
        if add_eos:
            ids.append(self.eos_index)
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor, skip_specials: bool = False) -> list[str]:
        """Index list (or 1-D tensor) -> token list; ``skip_specials`` drops
        ``<pad>``, ``<bos>``, ``<eos>`` (``<unk>`` is kept: it carries meaning)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(
                    f"Vocab.decode expected a 1-D tensor, found shape {tuple(ids.shape)}"
                )
            ids = ids.tolist()
        drop = {self.pad_index, self.stoi.get(BOS), self.stoi.get(EOS)} if skip_specials else set()
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(
                    f"Vocab.decode expected int indices, found {type(i).__name__}: {i!r}"
                )
            if not 0 <= i < len(self.itos):
                raise IndexError(
                    f"Vocab.decode: index {i} is out of range for a vocabulary of size {len(self)}"
                )
            if i not in drop:
                out.append(self.itos[i])
        return out


def pad_collate(
    batch: Sequence[tuple[Sequence[int], int]],
    pad_index: int = 0,
    max_len: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Collate ``(token ids, label)`` pairs into padded tensors.

    Returns ``(ids, lengths, labels)``: ``ids`` a LongTensor ``[batch, time]``
    padded with ``pad_index`` at the end up to the longest sequence of the
    batch, ``lengths`` the true lengths ``[batch]``, ``labels`` ``[batch]``.
    Sequences longer than ``max_len`` are cut to their first ``max_len`` tokens.
    Use it as ``DataLoader(..., collate_fn=PadCollate(vocab.pad_index, max_len))``.
    """
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
    ):
        raise ValueError(f"max_len must be None or an int >= 1, found {max_len!r}")
    if len(batch) == 0:
        raise ValueError("pad_collate expected a non-empty batch, found 0 items")
    seqs, labels = [], []
    for n, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(
                f"pad_collate expected (token ids, label) pairs, found item {n}: {item!r:.80}"
            )
        ids, label = item
        ids = torch.as_tensor(ids)
        if ids.dim() != 1 or (ids.numel() and ids.is_floating_point()):
            raise TypeError(
                f"pad_collate expected item {n}'s token ids as a 1-D sequence of ints, "
                f"found shape {tuple(ids.shape)} dtype {ids.dtype}"
            )
        if ids.numel() == 0:
            raise ValueError(
                f"pad_collate: item {n} has no tokens; every sequence needs at least one "
                "(an empty text encodes to [], map it to [<unk>] or drop it)"
            )
        seqs.append(ids[:max_len].long() if max_len else ids.long())
        labels.append(label)
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    padded = torch.full((len(seqs), int(lengths.max())), pad_index, dtype=torch.long)
    for row, s in enumerate(seqs):
        padded[row, : len(s)] = s
    try:
        label_tensor = torch.as_tensor(labels)
    except (TypeError, ValueError) as err:
        raise TypeError(f"pad_collate expected numeric labels, found {labels[:5]!r}...") from err
    return padded, lengths, label_tensor


class PadCollate:
    """A picklable ``collate_fn``: :func:`pad_collate` with a fixed pad index and max length."""

    def __init__(self, pad_index: int = 0, max_len: int | None = None):
        if max_len is not None and (
            isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
        ):
            raise ValueError(f"max_len must be None or an int >= 1, found {max_len!r}")
        self.pad_index = pad_index
        self.max_len = max_len

    def __call__(self, batch):
        return pad_collate(batch, pad_index=self.pad_index, max_len=self.max_len)

    def __repr__(self) -> str:
        return f"PadCollate(pad_index={self.pad_index}, max_len={self.max_len})"


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


def seq_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over the positions of a batch of sequences.

    ``logits`` ``[B, T, V]`` (scores over a vocabulary or tag set at every position),
    ``target`` ``[B, T]`` with ``ignore_index`` at the padding, which counts nowhere: the
    mean is over the real tokens only, so long and short batches weigh tokens alike.
    """
    import torch.nn.functional as F

    if logits.dim() != 3 or target.dim() != 2 or logits.shape[:2] != target.shape:
        raise ValueError(
            f"seq_loss expects logits [B, T, V] and target [B, T], "
            f"found {tuple(logits.shape)} and {tuple(target.shape)}"
        )
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=ignore_index
    )
