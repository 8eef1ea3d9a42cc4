"""course_utils.vision.features: the backbone choice and the named feature maps."""

from __future__ import annotations

import os
import warnings

import pytest
import torch

from course_utils.data import DataError, StandInWarning
from course_utils.vision.features import LAYERS, FeatureExtractor, style_feature_extractor
from tests.conftest import mirror_path, requires_mirror

MIRROR = mirror_path()


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """No torch hub cache, no mirror, no network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_DATA", raising=False)


@requires_mirror
def test_vgg19_missing_falls_back_to_the_mirrors_pretrained_mobilenet(no_weights, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    monkeypatch.setenv("COURSE_SMALL", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StandInWarning)  # no stand-in may be announced
        fx = style_feature_extractor(prefer=("vgg19", "mobilenet_v2"))
    assert fx.name == "mobilenet_v2" and fx.pretrained
    assert [a.name for a in fx.attempts] == ["vgg19", "mobilenet_v2"]
    assert "not available" in fx.attempts[0].outcome and fx.attempts[1].outcome == "pretrained"
    assert os.environ["COURSE_SMALL"] == "1"  # restored after asking for VGG19 as in full mode
    # the weights are the mirror's ImageNet ones
    w = fx.trunk[0][0].weight
    ref = torch.hub.load_state_dict_from_url(
        "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
        model_dir=str(MIRROR / "torch" / "hub" / "checkpoints"),
        map_location="cpu",
        progress=False,
    )
    assert torch.equal(w, ref["features.0.0.weight"])


@requires_mirror
def test_feature_maps_have_the_documented_names_channels_and_strides(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    fx = style_feature_extractor(prefer=("mobilenet_v2",))
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    maps = fx(x)
    assert list(maps) == ["block6", "block1", "block3", "block10", "block13"]
    shapes = {k: tuple(v.shape) for k, v in maps.items()}
    assert shapes == {
        "block1": (2, 16, 32, 32),
        "block3": (2, 24, 16, 16),
        "block6": (2, 32, 8, 8),
        "block10": (2, 64, 4, 4),
        "block13": (2, 96, 4, 4),
    }
    # gradients reach the image, never the weights
    sum(m.pow(2).mean() for m in maps.values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in fx.parameters())
    # only the asked layers, and the trunk stays in eval mode
    assert list(fx(x, layers=["block3"])) == ["block3"]
    fx.train()
    assert not fx.trunk.training
    with pytest.raises(ValueError, match="unknown layer.*relu4_2"):
        fx(x, layers=["relu4_2"])


def test_vgg19_layer_table_points_at_relus():
    from torchvision.models import vgg19

    features = vgg19(weights=None).features
    for name, index in LAYERS["vgg19"]["layers"].items():
        assert isinstance(features[index], torch.nn.ReLU), name
    fx = FeatureExtractor("vgg19", features, pretrained=False)
    assert len(fx.trunk) == 30  # cut after relu5_1
    maps = fx(torch.rand(1, 3, 32, 32))
    assert maps["relu1_1"].shape == (1, 64, 32, 32) and maps["relu5_1"].shape == (1, 512, 2, 2)
    assert maps["relu4_2"].shape == (1, 512, 4, 4)


def test_small_mode_without_weights_gives_announced_random_weights(no_weights, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    with pytest.warns(StandInWarning, match="RANDOM weights"):
        fx = style_feature_extractor(prefer=("mobilenet_v2",))
    assert fx.name == "mobilenet_v2" and not fx.pretrained
    assert fx.attempts[-1].outcome == "random weights (stand-in)"


def test_full_mode_without_weights_is_a_clear_error(no_weights, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "0")
    with pytest.raises(DataError, match="mobilenet_v2-b0353104.pth|mobilenet_v2"):
        style_feature_extractor(prefer=("vgg19", "mobilenet_v2"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one"):
        style_feature_extractor(prefer=())
    with pytest.raises(ValueError, match="no layer table.*resnet50"):
        style_feature_extractor(prefer=("resnet50",))
