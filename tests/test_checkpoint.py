"""course_utils.checkpoint: the one checkpoint format every module and lesson uses."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from course_utils import checkpoint
from course_utils.checkpoint import CheckpointError


def test_round_trip_keeps_fields_and_tensors(tmp_path):
    net = torch.nn.Linear(3, 2)
    path = checkpoint.save(
        tmp_path / "sub" / "m.pt", "captioner", state_dict=net.state_dict(), config={"d": 3}
    )
    state = checkpoint.load(path, "captioner")
    assert set(state) == {"state_dict", "config"} and state["config"] == {"d": 3}
    clone = torch.nn.Linear(3, 2)
    clone.load_state_dict(state["state_dict"])
    assert torch.equal(clone.weight, net.weight)


def test_errors_name_the_file_the_kind_and_the_version(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "missing.pt", "captioner")
    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(CheckpointError, match="not a captioner checkpoint .torch.load failed"):
        checkpoint.load(tmp_path / "text.pt", "captioner")
    torch.save({"weights": 1}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match=r"found a dict with keys \['weights'\]"):
        checkpoint.load(tmp_path / "plain.pt", "captioner")
    checkpoint.save(tmp_path / "c.pt", "classifier", version=2, x=1)
    with pytest.raises(CheckpointError, match="is a 'classifier' checkpoint, expected 'captioner'"):
        checkpoint.load(tmp_path / "c.pt", "captioner")
    with pytest.raises(CheckpointError, match="version 2, this course_utils reads version 1"):
        checkpoint.load(tmp_path / "c.pt", "classifier")
    with pytest.raises(ValueError, match="reserved"):
        checkpoint.save(tmp_path / "r.pt", "x", kind="y")


def test_untrusted_load_refuses_pickled_objects(tmp_path):
    """weights_only by default: a file carrying an arbitrary object is refused, not run;
    trusted=True (a run's own random states and extras) reads it."""
    checkpoint.save(tmp_path / "run.pt", "training run", extra={"obj": Fraction(1, 3)})
    with pytest.raises(CheckpointError, match="torch.load failed"):
        checkpoint.load(tmp_path / "run.pt", "training run")
    assert "extra" in checkpoint.load(tmp_path / "run.pt", "training run", trusted=True)


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = checkpoint.save(tmp_path / "m.pt", "captioner", step=1)

    def crash(obj, f, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, "captioner", step=2)
    monkeypatch.undo()
    assert checkpoint.load(path, "captioner") == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
