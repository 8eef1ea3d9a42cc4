"""course_utils.pretrained: MiniLM from the mirror, stand-in and errors offline."""

from __future__ import annotations

import pytest
import torch

from course_utils.data import DataError, StandInWarning
from course_utils.pretrained import MINILM, load_transformer
from tests.conftest import mirror_path, requires_mirror

MIRROR = mirror_path()


@pytest.fixture
def no_hf_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_DATA", raising=False)


def _embed(tok, model, texts):
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


@requires_mirror
def test_minilm_from_the_mirror_through_course_data_only(no_hf_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    tok, model = load_transformer(MINILM)
    assert sum(p.numel() for p in model.parameters()) == 22_713_216
    e = _embed(
        tok,
        model,
        [
            "A man is playing a guitar.",
            "Someone plays the guitar.",
            "Stock markets fell sharply on Monday.",
        ],
    )
    assert e.shape == (3, 384)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.3  # a pretrained encoder knows paraphrases


def test_small_mode_offline_gives_an_announced_tiny_bert(no_hf_cache, monkeypatch):
    from transformers import AutoModelForSequenceClassification

    monkeypatch.setenv("COURSE_SMALL", "1")
    with pytest.warns(StandInWarning, match="NOT pretrained"):
        tok, model = load_transformer(model_class=AutoModelForSequenceClassification, num_labels=4)
    batch = tok(["the government said", "a new computer chip"], padding=True, return_tensors="pt")
    assert batch["input_ids"][0, 0] == tok.cls_token_id
    with torch.no_grad():
        assert model(**batch).logits.shape == (2, 4)


def test_full_mode_offline_without_mirror_is_a_clear_error(no_hf_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "0")
    with pytest.raises(
        DataError, match=r"(?s)all-MiniLM-L6-v2.*not found.*COURSE_DATA is not set.*HF_HOME"
    ):
        load_transformer()
