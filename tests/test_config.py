"""Mode switch, seeding, device choice and paths."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

from course_utils import config


@pytest.mark.parametrize(
    "raw, small",
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("off", False)],
)
def test_small_mode_switch(monkeypatch, raw, small):
    monkeypatch.setenv("COURSE_SMALL", raw)
    assert config.is_small() is small


def test_unset_means_full_mode(monkeypatch):
    monkeypatch.delenv("COURSE_SMALL", raising=False)
    assert config.is_small() is False


def test_bad_mode_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "maybe")
    with pytest.raises(ValueError, match="COURSE_SMALL must be one of .* found 'maybe'"):
        config.is_small()


@pytest.mark.parametrize("raw, cap", [("", None), ("  ", None), ("1", 1), (" 25 ", 25)])
def test_step_cap_reads_a_positive_integer(monkeypatch, raw, cap):
    monkeypatch.setenv("COURSE_STEP_CAP", raw)
    assert config.step_cap() == cap
    monkeypatch.delenv("COURSE_STEP_CAP")
    assert config.step_cap() is None


@pytest.mark.parametrize("raw", ["0", "-3", "2.5", "abc", "1e3", "+4", "٣"])
def test_bad_step_cap_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("COURSE_STEP_CAP", raw)
    with pytest.raises(
        ValueError,
        match=f"COURSE_STEP_CAP must be a positive integer .*found {re.escape(repr(raw))}",
    ):
        config.step_cap()


def test_trained_fully_is_false_and_says_so_under_a_step_cap(monkeypatch, capsys):
    for small in ("1", "0"):  # the same in both modes
        monkeypatch.setenv("COURSE_SMALL", small)
        monkeypatch.delenv("COURSE_STEP_CAP", raising=False)
        assert config.trained_fully() is True
        assert capsys.readouterr().out == ""
        monkeypatch.setenv("COURSE_STEP_CAP", "5")
        assert config.trained_fully() is False
        assert capsys.readouterr().out == (
            "targets not checked: training capped at 5 steps (COURSE_STEP_CAP)\n"
        )
    monkeypatch.setenv("COURSE_STEP_CAP", "-1")
    with pytest.raises(ValueError, match="COURSE_STEP_CAP must be a positive integer"):
        config.trained_fully()


def test_setup_notebook_says_when_training_is_capped(monkeypatch, capsys):
    from course_utils.session import setup_notebook

    monkeypatch.delenv("COURSE_SMALL", raising=False)
    monkeypatch.setenv("COURSE_STEP_CAP", "4")
    torch_threads = torch.get_num_threads()
    try:
        assert setup_notebook() is False
    finally:
        torch.set_num_threads(torch_threads)
    assert "mode: FULL, training capped at 4 steps (COURSE_STEP_CAP)" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_STEP_CAP", "four")
    with pytest.raises(ValueError, match="COURSE_STEP_CAP"):
        setup_notebook()


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    config.seed_everything(123)
    first = draw()
    config.seed_everything(123)
    assert draw() == first
    config.seed_everything(124)
    assert draw() != first


def test_device_is_cuda_only_when_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert config.device().type == expected
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.device() == torch.device("cpu")


def test_paths_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "m"))
    assert config.cache_dir() == tmp_path / "c"
    assert config.mirror_dir() == tmp_path / "m"
    monkeypatch.delenv("COURSE_CACHE")
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_dir() == tmp_path / "xdg" / "course_utils"
    assert config.mirror_dir() is None
