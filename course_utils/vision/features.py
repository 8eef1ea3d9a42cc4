"""Intermediate feature maps of a pretrained ImageNet CNN, for style transfer and
similar "use the CNN as a measuring instrument" lessons.

>>> fx = style_feature_extractor(prefer=("vgg19", "mobilenet_v2"))
>>> fx.name, fx.pretrained, fx.content_layers, fx.style_layers
>>> maps = fx(images)            # {layer name: (N, C, H, W) activation}

:func:`style_feature_extractor` tries the backbones in ``prefer`` in order
through :func:`course_utils.pretrained.load_torchvision` and keeps the first
one whose *pretrained* weights can be had (the mirror has MobileNetV2; VGG19 is
online only). If none can, the last one is returned as
``load_torchvision`` gives it: random weights announced in small mode
(``pretrained=False``), a :class:`course_utils.data.DataError` in full mode.

What the layers are for (the Gram matrices, the losses, the optimisation) is
left to the notebook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LAYERS", "FeatureExtractor", "style_feature_extractor"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Per backbone: ``{layer name: index in model.features}`` (the output of that
#: module is taken) and the default content and style layers.
LAYERS: dict[str, dict] = {
    # Gatys et al.: style from relu1_1 ... relu5_1, content from relu4_2.
    "vgg19": {
        "layers": {
            "relu1_1": 1,
            "relu2_1": 6,
            "relu3_1": 11,
            "relu4_1": 20,
            "relu4_2": 22,
            "relu5_1": 29,
        },
        "content": ("relu4_2",),
        "style": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    },
    # MobileNetV2: the outputs of inverted-residual blocks at strides 2, 4, 8, 16, 16
    # (16, 24, 32, 64 and 96 channels); content at stride 8 like VGG's relu4_2.
    "mobilenet_v2": {
        "layers": {"block1": 1, "block3": 3, "block6": 6, "block10": 10, "block13": 13},
        "content": ("block6",),
        "style": ("block1", "block3", "block6", "block10", "block13"),
    },
}


class FeatureExtractor(nn.Module):
    """A frozen CNN trunk that returns the activations of named layers.

    ``forward(x)`` takes images in ``[0, 1]`` (N, 3, H, W), normalises them with
    the ImageNet statistics and returns ``{name: activation}`` for every layer in
    ``layers`` (default: content and style layers). Gradients flow to ``x``,
    never to the weights.
    """

    def __init__(self, name: str, trunk: nn.Sequential, pretrained: bool, weights=None):
        super().__init__()
        if name not in LAYERS:
            raise ValueError(f"no layer table for {name!r}; expected one of {sorted(LAYERS)}")
        spec = LAYERS[name]
        self.name = name
        self.pretrained = pretrained
        self.weights = weights
        self.layer_index: dict[str, int] = dict(spec["layers"])
        self.content_layers: tuple[str, ...] = tuple(spec["content"])
        self.style_layers: tuple[str, ...] = tuple(spec["style"])
        last = max(self.layer_index.values())
        self.trunk = nn.Sequential(*list(trunk.children())[: last + 1]).eval()
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True):  # the trunk stays in eval mode (batch norm statistics)
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, x: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
        wanted = (
            list(layers)
            if layers is not None
            else list(dict.fromkeys(self.content_layers + self.style_layers))
        )
        unknown = [n for n in wanted if n not in self.layer_index]
        if unknown:
            raise ValueError(
                f"unknown layer(s) {unknown} for {self.name}; expected some of {list(self.layer_index)}"
            )
        by_index = {self.layer_index[n]: n for n in wanted}
        stop = max(by_index)
        out = {}
        h = (x - self.mean) / self.std
        for i, module in enumerate(self.trunk):
            h = module(h)
            if i in by_index:
                out[by_index[i]] = h
            if i == stop:
                break
        return {n: out[n] for n in wanted}


@dataclass
class _Attempt:
    name: str
    outcome: str


def style_feature_extractor(prefer=("vgg19", "mobilenet_v2")) -> FeatureExtractor:
    """The first backbone of ``prefer`` whose pretrained weights can be had, as a
    :class:`FeatureExtractor` (``.attempts`` lists what was tried and why not)."""
    from course_utils.data import DataError
    from course_utils.data import standins_used as data_standins
    from course_utils.pretrained import load_torchvision

    prefer = tuple(prefer)
    if not prefer:
        raise ValueError("prefer must name at least one backbone, e.g. ('vgg19', 'mobilenet_v2')")
    unknown = [n for n in prefer if n not in LAYERS]
    if unknown:
        raise ValueError(f"no layer table for {unknown}; expected some of {sorted(LAYERS)}")
    attempts: list[_Attempt] = []
    for i, name in enumerate(prefer):
        last = i == len(prefer) - 1
        if last:  # the last choice: its stand-in warning or error reaches the caller
            with data_standins() as used:
                model, weights = load_torchvision(name)
            standin = bool(used)
            attempts.append(
                _Attempt(name, "random weights (stand-in)" if standin else "pretrained")
            )
        else:
            # Asked as in full mode, so that missing weights are a DataError (no
            # random stand-in announced for a model we are about to skip).
            saved = os.environ.get("COURSE_SMALL")
            os.environ["COURSE_SMALL"] = "0"
            try:
                model, weights = load_torchvision(name)
            except DataError as exc:
                attempts.append(_Attempt(name, f"not available: {str(exc).splitlines()[0]}"))
                continue
            finally:
                if saved is None:
                    del os.environ["COURSE_SMALL"]
                else:
                    os.environ["COURSE_SMALL"] = saved
            attempts.append(_Attempt(name, "pretrained"))
            standin = False
        fx = FeatureExtractor(name, model.features, pretrained=not standin, weights=weights)
        fx.attempts = attempts
        return fx
    raise AssertionError("unreachable")  # pragma: no cover
