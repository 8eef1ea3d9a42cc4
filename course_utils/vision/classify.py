"""A self-contained checkpoint for a fine-tuned image classifier, and labelling a
folder of images with it (the ``course classify`` command).

>>> save_classifier("cats_dogs.pt", model, arch="mobilenet_v2", classes=["cat", "dog"],
...                 image_size=96, mean=weights.transforms().mean, std=weights.transforms().std)
>>> clf = load_classifier("cats_dogs.pt")          # needs only the file
>>> classify_folder("photos/", "cats_dogs.pt")     # {"a.jpg": {"label": "cat", "probability": 0.97}, ...}

The checkpoint is a :mod:`course_utils.checkpoint` of kind ``"classifier"``, version
1 (loaded with ``weights_only=True``), holding:

- ``arch``: a torchvision model name (``torchvision.models.get_model``);
- ``head``: where the new classification layer sits (``module``, a dotted name
  such as ``classifier.1``) and its shape (``in_features``, ``out_features``);
- ``classes``: the class names, in output order;
- ``preprocessing``: ``image_size`` [height, width], ``mean``, ``std`` (the
  ImageNet statistics of the backbone's weights), ``interpolation``;
- ``state_dict``: every weight of the model; ``meta``: free-form notes
  (metrics, dataset, date).

Loading builds ``get_model(arch, weights=None)``, puts a fresh ``nn.Linear`` of
the stored shape at ``head.module`` and loads the weights: no download needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_utils import checkpoint, config
from course_utils.checkpoint import CheckpointError
from course_utils.io import atomic_write
from course_utils.vision.images import NoImagesError, UnreadableImageError, list_images, open_image

__all__ = [
    "CheckpointError",
    "Classifier",
    "classify_folder",
    "find_head",
    "load_classifier",
    "save_classifier",
    "write_json_atomic",
]

VERSION = 1


KIND = "classifier"  # course_utils.checkpoint kind


@dataclass
class Classifier:
    """A loaded checkpoint: the model (eval mode), its class names and preprocessing."""

    model: nn.Module
    arch: str
    classes: list[str]
    image_size: tuple[int, int]
    mean: list[float]
    std: list[float]
    interpolation: str = "bilinear"
    meta: dict[str, Any] = field(default_factory=dict)

    def transform(self):
        """The preprocessing of the checkpoint, a torchvision.transforms.v2 pipeline
        from a PIL image to a normalised float tensor."""
        from torchvision.transforms import InterpolationMode, v2

        return v2.Compose(
            [
                v2.Resize(
                    self.image_size,
                    interpolation=InterpolationMode(self.interpolation),
                    antialias=True,
                ),
                v2.ToImage(),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(self.mean, self.std),
            ]
        )

    @torch.no_grad()
    def predict_proba(self, batch: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (N, classes) of a preprocessed batch."""
        dev = next(self.model.parameters()).device
        return torch.softmax(self.model(batch.to(dev)), dim=-1).cpu()


def find_head(model: nn.Module) -> tuple[str, nn.Linear]:
    """``(dotted name, module)`` of the last ``nn.Linear`` of ``model``: the
    classification head of torchvision's classifiers (``classifier.1`` for
    MobileNetV2, ``fc`` for ResNets)."""
    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = (name, module)
    if last is None:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to use as the head")
    return last


def _set_module(model: nn.Module, dotted: str, new: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def _pair(size) -> list[int]:
    if isinstance(size, int):
        return [size, size]
    size = [int(s) for s in size]
    if len(size) != 2:
        raise ValueError(f"image_size must be an int or (height, width), found {size!r}")
    return size


def save_classifier(
    path,
    model: nn.Module,
    arch: str,
    classes: Sequence[str],
    image_size,
    mean: Sequence[float] = (0.485, 0.456, 0.406),
    std: Sequence[float] = (0.229, 0.224, 0.225),
    interpolation: str = "bilinear",
    meta: dict | None = None,
) -> Path:
    """Write ``model`` (a torchvision ``arch`` with a new ``nn.Linear`` head) to
    ``path`` with everything needed to use it (see the module docstring).

    Written to a temporary file then renamed, so ``path`` is never half-written.
    The head is the model's last ``nn.Linear``; its output size must equal
    ``len(classes)``. Defaults of ``mean``/``std`` are the ImageNet statistics."""
    classes = [str(c) for c in classes]
    head_name, head = find_head(model)
    if head.out_features != len(classes):
        raise ValueError(
            f"the head {head_name} has {head.out_features} outputs but {len(classes)} classes "
            f"were given ({classes})"
        )
    if len(set(classes)) != len(classes):
        raise ValueError(f"class names must be distinct, found {classes}")
    return checkpoint.save(
        path,
        KIND,
        version=VERSION,
        arch=arch,
        head={
            "module": head_name,
            "in_features": head.in_features,
            "out_features": head.out_features,
            "bias": head.bias is not None,
        },
        classes=classes,
        preprocessing={
            "image_size": _pair(image_size),
            "mean": [float(m) for m in mean],
            "std": [float(s) for s in std],
            "interpolation": str(interpolation),
        },
        state_dict={k: v.detach().cpu() for k, v in model.state_dict().items()},
        meta=dict(meta or {}),
    )


def load_classifier(path, device=None) -> Classifier:
    """Rebuild the model saved by :func:`save_classifier` from ``path`` alone.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for
    a file that is not such a checkpoint (another torch file, a broken file, an
    unknown architecture, weights that do not fit)."""
    from torchvision.models import get_model

    state = checkpoint.load(path, KIND, VERSION)
    head, prep = state["head"], state["preprocessing"]
    try:
        model = get_model(state["arch"], weights=None)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: unknown torchvision architecture {state['arch']!r} ({exc})"
        ) from None
    try:
        _set_module(
            model,
            head["module"],
            nn.Linear(head["in_features"], head["out_features"], bias=head.get("bias", True)),
        )
        model.load_state_dict(state["state_dict"])
    except (AttributeError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: the weights do not fit {state['arch']} with a {head['in_features']}->"
            f"{head['out_features']} head at {head['module']!r}: {str(exc).splitlines()[0][:300]}"
        ) from None
    dev = torch.device(device) if device is not None else config.device()
    return Classifier(
        model=model.to(dev).eval(),
        arch=state["arch"],
        classes=list(state["classes"]),
        image_size=tuple(prep["image_size"]),
        mean=list(prep["mean"]),
        std=list(prep["std"]),
        interpolation=prep.get("interpolation", "bilinear"),
        meta=dict(state.get("meta", {})),
    )


def classify_folder(
    folder,
    checkpoint,
    *,
    batch_size: int = 32,
    recursive: bool = False,
    skip_unreadable: bool = False,
    progress: bool = True,
    device=None,
) -> dict[str, Any]:
    """Label every image in ``folder`` with the classifier ``checkpoint`` (a path
    or a loaded :class:`Classifier`).

    Returns ``{file name: {"label": class name, "probability": softmax of that
    class}}`` (file names relative to ``folder``, sorted). An unreadable image
    raises :class:`~course_utils.vision.images.UnreadableImageError` naming the file,
    unless ``skip_unreadable``: then it is left out and listed under the extra
    key ``"errors"`` (``{file name: reason}``). An empty folder raises
    :class:`~course_utils.vision.images.NoImagesError`."""
    from course_utils.train import _progress_bar

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, found {batch_size}")
    folder = Path(folder)
    paths = list_images(folder, recursive=recursive)  # raises for a missing or empty folder
    clf = checkpoint if isinstance(checkpoint, Classifier) else load_classifier(checkpoint, device)
    transform = clf.transform()
    labels: dict[str, Any] = {}
    errors: dict[str, str] = {}
    tqdm = _progress_bar()
    with tqdm(total=len(paths), desc="classifying", unit="img", disable=not progress) as bar:
        for start in range(0, len(paths), batch_size):
            names, tensors = [], []
            for p in paths[start : start + batch_size]:
                name = p.relative_to(folder).as_posix()
                try:
                    img = open_image(p)
                except UnreadableImageError as exc:
                    if not skip_unreadable:
                        raise
                    errors[name] = exc.reason
                    continue
                names.append(name)
                tensors.append(transform(img))
            if tensors:
                probs = clf.predict_proba(torch.stack(tensors))
                p_max, idx = probs.max(dim=1)
                for name, p, i in zip(names, p_max.tolist(), idx.tolist()):
                    labels[name] = {"label": clf.classes[i], "probability": round(p, 6)}
            bar.update(len(paths[start : start + batch_size]))
    if skip_unreadable and errors:
        labels["errors"] = errors
    if not labels or list(labels) == ["errors"]:
        raise NoImagesError(f"no readable image in {folder} ({len(errors)} unreadable)")
    return labels


def write_json_atomic(path, obj) -> Path:
    """Write ``obj`` as indented JSON to ``path`` through a temporary file."""
    return atomic_write(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
