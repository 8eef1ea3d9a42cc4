"""Words to ids: a regex tokenizer and a vocabulary.

>>> from collections import Counter
>>> from course_utils.text import Vocab, tokenize
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

__all__ = ["BOS", "EOS", "PAD", "SPECIALS", "TOKEN_PATTERN", "UNK", "Vocab", "tokenize"]

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
