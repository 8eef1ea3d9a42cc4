"""Text: words to ids (``vocab``), batches of sequences and their loss (``sequences``),
decoding (``decoding``: greedy and beam search over a step function), scores of
generated text (``metrics``: BLEU, edit distance) and corpus readers (``corpora``:
CoNLL-U, Brown, analogy sets; imported on their own, as they read data).

The names below are importable from ``course_utils.text`` directly.
"""

from course_utils.text.decoding import (
    Hypothesis,
    beam_search,
    decoder_step,
    greedy_decode,
    length_penalty,
)
from course_utils.text.metrics import (
    corpus_bleu,
    edit_distance,
    normalized_edit_distance,
    sentence_bleu,
)
from course_utils.text.sequences import PadCollate, pad_collate, seq_loss
from course_utils.text.vocab import BOS, EOS, PAD, SPECIALS, TOKEN_PATTERN, UNK, Vocab, tokenize

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "TOKEN_PATTERN",
    "UNK",
    "Hypothesis",
    "PadCollate",
    "Vocab",
    "beam_search",
    "corpus_bleu",
    "decoder_step",
    "edit_distance",
    "greedy_decode",
    "length_penalty",
    "normalized_edit_distance",
    "pad_collate",
    "sentence_bleu",
    "seq_loss",
    "tokenize",
]
