"""Mode switch, seeding, device choice and paths."""

from __future__ import annotations

import random

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
