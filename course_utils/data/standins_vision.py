"""Generated stand-ins for the vision datasets (small mode without the data).

Each is built so that the lesson's model has something real to learn (a class
is a visual pattern, a digit is a digit, a membrane is a thin dark boundary) and
nothing here pretends to be the real data: the registry announces every use.
"""

from __future__ import annotations

import numpy as np

# One (shape, colour, background) scheme per CIFAR-10 class.
_CIFAR_SCHEMES = [
    ("triangle", (200, 200, 230), (90, 140, 220)),  # airplane: pale shape on sky blue
    ("rect", (200, 40, 40), (110, 110, 110)),  # automobile: red box on grey road
    ("ellipse", (150, 100, 60), (120, 180, 230)),  # bird
    ("ellipse", (230, 150, 60), (90, 70, 60)),  # cat
    ("triangle", (160, 110, 70), (60, 130, 60)),  # deer
    ("rect", (120, 80, 40), (80, 150, 80)),  # dog
    ("ellipse", (60, 170, 60), (70, 90, 40)),  # frog
    ("triangle", (100, 60, 30), (150, 170, 90)),  # horse
    ("rect", (230, 230, 230), (30, 70, 150)),  # ship
    ("rect", (220, 180, 40), (90, 90, 90)),  # truck
]


def cifar10_like(n: int, seed: int = 0, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``n`` RGB images (uint8, n x size x size x 3) and labels 0..9, balanced."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i, c in enumerate(labels):
        shape, fg, bg = _CIFAR_SCHEMES[c]
        jitter = lambda col: tuple(int(np.clip(v + rng.normal(0, 25), 0, 255)) for v in col)  # noqa: E731
        img = Image.new("RGB", (size, size), jitter(bg))
        draw = ImageDraw.Draw(img)
        w, h = rng.integers(size // 3, size - 4, size=2)
        x0, y0 = rng.integers(0, size - w), rng.integers(0, size - h)
        box = [int(x0), int(y0), int(x0 + w), int(y0 + h)]
        if shape == "rect":
            draw.rectangle(box, fill=jitter(fg))
        elif shape == "ellipse":
            draw.ellipse(box, fill=jitter(fg))
        else:
            draw.polygon(
                [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])],
                fill=jitter(fg),
            )
        arr = np.asarray(img, dtype=np.float32) + rng.normal(0, 12, (size, size, 3))
        out[i] = np.clip(arr, 0, 255).astype(np.uint8)
    return out, labels.astype(np.int64)


def digits_like(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``n`` grey digit images (uint8, n x size x size, white on black, MNIST-like)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    fonts = [ImageFont.load_default(size=s) for s in (18, 20, 22)]
    out = np.empty((n, size, size), dtype=np.uint8)
    big = 2 * size
    for i, d in enumerate(labels):
        img = Image.new("L", (big, big), 0)
        draw = ImageDraw.Draw(img)
        font = fonts[rng.integers(len(fonts))]
        draw.text(
            (big / 2, big / 2),
            str(d),
            fill=255,
            font=font,
            anchor="mm",
            stroke_width=int(rng.integers(1, 3)),
            stroke_fill=255,
        )
        angle = rng.normal(0, 12)
        shear = rng.normal(0, 0.15)
        img = img.rotate(angle, resample=Image.BILINEAR)
        img = img.transform(
            img.size, Image.AFFINE, (1, shear, -shear * big / 2, 0, 1, 0), resample=Image.BILINEAR
        )
        img = img.filter(ImageFilter.GaussianBlur(0.6)).resize((size, size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.float32)
        arr = np.roll(arr, tuple(rng.integers(-2, 3, size=2)), axis=(0, 1))
        out[i] = np.clip(arr * rng.uniform(0.9, 1.3), 0, 255).astype(np.uint8)
    return out, labels.astype(np.int64)


def membranes_like(n: int, size: int = 256, seed: int = 0, cells: int | None = None):
    """``n`` grey EM-like images with thin dark boundaries between Voronoi cells and
    their masks (1 = cell interior, 0 = membrane), as in ISBI 2012."""
    rng = np.random.default_rng(seed)
    scale = size / 256  # the same picture at any resolution: about 60 cells at 256 px
    cells = cells or max(6, int(round(60 * scale**2)))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    images = np.empty((n, size, size), dtype=np.uint8)
    masks = np.empty((n, size, size), dtype=np.uint8)
    for i in range(n):
        pts = rng.uniform(0, size, size=(cells, 2)).astype(np.float32)
        d = np.sqrt((yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2)
        d.sort(axis=-1)
        width = rng.uniform(1.5, 3.0) * max(scale, 0.4)
        membrane = (d[..., 1] - d[..., 0]) < width
        tone = rng.uniform(150, 200, size=cells)
        owner = np.argmin(
            np.sqrt((yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2), -1
        )
        img = tone[owner] + rng.normal(0, 18, (size, size))
        img[membrane] = rng.uniform(30, 70) + rng.normal(0, 15, membrane.sum())
        # a few dark organelle-like blobs inside cells (not membrane: the model must tell)
        for _ in range(int(rng.integers(3, 8))):
            cy, cx, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(3, 8) * scale
            blob = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
            img[blob & ~membrane] -= 60
        images[i] = np.clip(img, 0, 255).astype(np.uint8)
        masks[i] = (~membrane).astype(np.uint8)
    return images, masks


def picture_like(name: str, size: int = 256):
    """A generated RGB picture (PIL): a simple landscape for content, swirling
    brush-stroke patterns for the style names."""
    from PIL import Image, ImageDraw, ImageFilter

    seed = sum(map(ord, name))
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    if name in ("dancing", "kitten", "fox", "hen", "tiger", "albatross"):
        for y in range(size):  # sky gradient, then ground
            t = y / size
            colour = (
                (int(80 + 120 * t), int(140 + 80 * t), 235)
                if t < 0.6
                else (70, int(140 - 60 * (t - 0.6)), 50)
            )
            draw.line([(0, y), (size, y)], fill=colour)
        r = size // 8
        draw.ellipse(
            [size * 0.7 - r, size * 0.2 - r, size * 0.7 + r, size * 0.2 + r], fill=(250, 220, 90)
        )
        for k in range(3):
            x0 = int(size * (0.1 + 0.28 * k))
            top = int(size * rng.uniform(0.35, 0.5))
            draw.rectangle(
                [x0, top, x0 + size // 5, int(size * 0.75)],
                fill=tuple(int(v) for v in rng.integers(80, 220, 3)),
            )
            draw.polygon(
                [(x0 - 4, top), (x0 + size // 5 + 4, top), (x0 + size // 10, top - size // 8)],
                fill=(150, 50, 40),
            )
        return img.filter(ImageFilter.GaussianBlur(1))
    palette = rng.integers(0, 255, size=(5, 3))
    draw.rectangle([0, 0, size, size], fill=tuple(int(v) for v in palette[0]))
    for _ in range(400):
        cx, cy = rng.uniform(0, size, 2)
        a = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(size / 20, size / 6)
        pts = [
            (cx + length * np.cos(a + 0.3 * j) * j / 4, cy + length * np.sin(a + 0.3 * j) * j / 4)
            for j in range(5)
        ]
        draw.line(
            pts,
            fill=tuple(int(v) for v in palette[rng.integers(1, 5)]),
            width=int(rng.integers(2, 6)),
        )
    return img.filter(ImageFilter.GaussianBlur(0.7))
