"""A generated image-captioning data set: coloured shapes with captions that
describe them.

Every image shows 1-3 shapes (circle, square, triangle) of a colour and a size,
each in its own quadrant of the picture, on a dark noisy background. Each image
comes with several captions (lower-case words and commas) that describe what is
drawn: the shapes' sizes, colours and kinds, their quadrant ("in the top left")
and how they sit relative to each other ("above", "to the left of").

>>> sets = shapes_splits(n_train=20, n_val=5, n_test=5, size=48, seed=0)
>>> s = sets["train"]
>>> s.images.shape, s.images.dtype, len(s.captions[0]) >= 3
((20, 48, 48, 3), dtype('uint8'), True)

Everything is deterministic by seed; the splits use independent seeds, so the
test images are not training images. ``s.objects[i]`` lists what image ``i``
contains (shape, colour, size, quadrant and centre pixel), which lets tests check
that the captions really describe the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "COLOURS",
    "SHAPES",
    "SIZES",
    "CaptionSet",
    "ShapeObject",
    "make_shapes",
    "shapes_splits",
]

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 80, 230),
    "yellow": (235, 215, 40),
    "white": (235, 235, 235),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.10, "large": 0.20}  # half-extent as a fraction of the image side
QUADRANTS = {(0, 0): "top left", (0, 1): "top right", (1, 0): "bottom left", (1, 1): "bottom right"}
BACKGROUND = (30, 30, 35)


@dataclass(frozen=True)
class ShapeObject:
    shape: str
    colour: str
    size: str
    row: int  # quadrant row (0 top, 1 bottom)
    col: int  # quadrant column (0 left, 1 right)
    cx: int  # centre pixel (x = column, y = row)
    cy: int

    @property
    def where(self) -> str:
        return QUADRANTS[(self.row, self.col)]

    def phrase(self, with_size: bool = True) -> str:
        return (
            f"{self.size} {self.colour} {self.shape}"
            if with_size
            else f"{self.colour} {self.shape}"
        )


@dataclass
class CaptionSet:
    """``images`` uint8 (N, S, S, 3); ``captions[i]`` a list of caption strings;
    ``objects[i]`` the drawn shapes of image ``i``."""

    images: np.ndarray
    captions: list[list[str]]
    objects: list[list[ShapeObject]]
    seed: int = 0

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        n_caps = sum(len(c) for c in self.captions)
        return f"CaptionSet({len(self)} images {self.images.shape[1:]}, {n_caps} captions, seed={self.seed})"

    def subset(self, index) -> CaptionSet:
        idx = np.arange(len(self))[index]
        return CaptionSet(
            self.images[idx],
            [self.captions[i] for i in idx],
            [self.objects[i] for i in idx],
            self.seed,
        )


def _draw(img: np.ndarray, obj: ShapeObject, half: float, grid: np.ndarray) -> None:
    yy, xx = grid
    dx, dy = xx - obj.cx, yy - obj.cy
    if obj.shape == "circle":
        mask = dx * dx + dy * dy <= half * half
    elif obj.shape == "square":
        mask = (np.abs(dx) <= 0.85 * half) & (np.abs(dy) <= 0.85 * half)
    elif obj.shape == "triangle":  # apex up, base below the centre
        mask = (dy >= -half) & (dy <= 0.8 * half) & (np.abs(dx) <= (dy + half) / 1.8)
    else:  # pragma: no cover - guarded by make_shapes
        raise ValueError(obj.shape)
    img[mask] = COLOURS[obj.colour]


def _relation(a: ShapeObject, b: ShapeObject) -> str:
    if a.row != b.row:
        return "above" if a.row < b.row else "below"
    return "to the left of" if a.col < b.col else "to the right of"


def _captions(objs: list[ShapeObject], rng: np.random.Generator, n: int) -> list[str]:
    objs = sorted(objs, key=lambda o: (o.row, o.col))  # reading order
    sized = rng.random(len(objs)) < 0.8  # a phrase mostly names the size too
    p = [o.phrase(bool(w)) for o, w in zip(objs, sized)]
    full = [o.phrase(True) for o in objs]
    if len(objs) == 1:
        (o,) = objs
        pool = [
            f"a {full[0]}",
            f"a {full[0]} in the {o.where}",
            f"there is a {p[0]} in the {o.where}",
            f"a {o.colour} {o.shape} in the {o.where}",
            f"one {full[0]}",
            f"a {o.size} {o.shape} that is {o.colour}",
        ]
    elif len(objs) == 2:
        a, b = objs
        pool = [
            f"a {full[0]} {_relation(a, b)} a {full[1]}",
            f"a {p[1]} {_relation(b, a)} a {p[0]}",
            f"a {full[0]} and a {full[1]}",
            f"there is a {p[0]} and a {p[1]}",
            f"two shapes , a {p[0]} and a {p[1]}",
            f"a {p[0]} in the {a.where} and a {p[1]}",
        ]
    else:
        a, b, c = objs
        pool = [
            f"a {full[0]} , a {full[1]} and a {full[2]}",
            f"a {p[0]} {_relation(a, b)} a {p[1]} and a {p[2]}",
            f"three shapes , a {p[0]} , a {p[1]} and a {p[2]}",
            f"a {full[0]} {_relation(a, c)} a {full[2]} and a {p[1]}",
            f"there is a {p[1]} , a {p[0]} and a {p[2]}",
        ]
    order = rng.permutation(len(pool))
    first = [0]  # the canonical caption is always there
    rest = [int(i) for i in order if i != 0]
    return [pool[i] for i in (first + rest)[:n]]


def make_shapes(
    n: int,
    size: int = 64,
    seed: int = 0,
    max_shapes: int = 3,
    captions_per_image: int = 5,
    noise: float = 8.0,
) -> CaptionSet:
    """``n`` images ``size`` x ``size`` with 1..``max_shapes`` shapes and
    ``captions_per_image`` captions each (fewer when an image has fewer
    distinct templates: at least 5 exist for every count)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, found {n!r}")
    if size < 24:
        raise ValueError(f"size must be >= 24 pixels, found {size}")
    if not 1 <= max_shapes <= 3:
        raise ValueError(
            f"max_shapes must be 1, 2 or 3 (one shape per quadrant, at most 3), found {max_shapes}"
        )
    if captions_per_image < 1:
        raise ValueError(f"captions_per_image must be >= 1, found {captions_per_image}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    captions, objects = [], []
    colours, quads = list(COLOURS), list(QUADRANTS)
    cell = size / 2
    grid = np.mgrid[0:size, 0:size].astype(np.float32)
    for i in range(n):
        k = int(rng.integers(1, max_shapes + 1))
        cells = [quads[j] for j in rng.choice(4, size=k, replace=False)]
        objs = []
        for row, col in cells:
            sz = str(rng.choice(list(SIZES)))
            half = SIZES[sz] * size
            slack = max(cell / 2 - half - 1, 0)
            cx = int(round(col * cell + cell / 2 + rng.uniform(-slack, slack) * 0.5))
            cy = int(round(row * cell + cell / 2 + rng.uniform(-slack, slack) * 0.5))
            objs.append(
                ShapeObject(str(rng.choice(SHAPES)), str(rng.choice(colours)), sz, row, col, cx, cy)
            )
        img = np.empty((size, size, 3), dtype=np.float32)
        img[:] = BACKGROUND
        img += rng.normal(0, noise, size=(size, size, 1))  # grey noise on the background
        img = np.clip(img, 0, 255).astype(np.uint8)
        for o in objs:
            _draw(img, o, SIZES[o.size] * size, grid)
        images[i] = img
        captions.append(_captions(objs, rng, captions_per_image))
        objects.append(sorted(objs, key=lambda o: (o.row, o.col)))
    return CaptionSet(images, captions, objects, seed)


def shapes_splits(
    n_train: int = 1000,
    n_val: int = 200,
    n_test: int = 200,
    size: int = 64,
    seed: int = 0,
    **kwargs,
) -> dict[str, CaptionSet]:
    """Train / val / test :class:`CaptionSet` s drawn with independent seeds
    (``seed * 3 + 0/1/2``... via a SeedSequence), so a split never depends on
    the size of another."""
    seeds = np.random.SeedSequence(seed).spawn(3)
    return {
        name: make_shapes(k, size=size, seed=int(ss.generate_state(1)[0]), **kwargs)
        for name, k, ss in zip(("train", "val", "test"), (n_train, n_val, n_test), seeds)
    }
