"""The generated shapes-and-captions data set: the captions describe the pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_utils.vision.shape_captions import (
    COLOURS,
    QUADRANTS,
    SHAPES,
    SIZES,
    make_shapes,
    shapes_splits,
)


@pytest.fixture(scope="module")
def data():
    return make_shapes(300, size=64, seed=3)


def test_shapes_and_types(data):
    assert data.images.shape == (300, 64, 64, 3) and data.images.dtype == np.uint8
    assert len(data.captions) == len(data.objects) == 300
    assert all(len(c) == 5 for c in data.captions)
    counts = {len(o) for o in data.objects}
    assert counts == {1, 2, 3}


def test_deterministic_by_seed():
    a, b, c = make_shapes(20, seed=1), make_shapes(20, seed=1), make_shapes(20, seed=2)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    assert not np.array_equal(a.images, c.images)


def test_pixel_at_each_described_centre_has_its_colour(data):
    for img, objs in zip(data.images, data.objects):
        for o in objs:
            got = img[o.cy, o.cx].astype(int)
            assert np.abs(got - np.array(COLOURS[o.colour])).max() <= 1, (o, got)
            # the shape sits in the quadrant its caption names
            assert (o.cy >= 32) == (o.row == 1) and (o.cx >= 32) == (o.col == 1)


def test_background_far_from_shapes_is_dark(data):
    img, objs = data.images[0], data.objects[0]
    free = [q for q in QUADRANTS if all((o.row, o.col) != q for o in objs)]
    for r, c in free:
        patch = img[r * 32 + 2 : (r + 1) * 32 - 2, c * 32 + 2 : (c + 1) * 32 - 2].astype(int)
        assert patch.mean() < 70


def test_large_shapes_cover_more_pixels_than_small():
    d = make_shapes(200, size=64, seed=5, max_shapes=1)
    area = {"small": [], "large": []}
    for img, (o,) in zip(d.images, d.objects):
        colour = np.array(COLOURS[o.colour])
        area[o.size].append(int((np.abs(img.astype(int) - colour).max(-1) <= 1).sum()))
    assert min(area["large"]) > 2 * max(area["small"])


def _mentions(caption):
    """(size or None, colour, shape) triples named in a caption."""
    words = re.findall(r"[a-z]+", caption)
    found = []
    for i, w in enumerate(words):
        if w in SHAPES:
            if words[i - 1] in COLOURS:
                size = words[i - 2] if words[i - 2] in SIZES else None
                found.append((size, words[i - 1], w))
            else:  # "a small triangle that is red"
                found.append((words[i - 1], words[i + 3], w))
    return found


def test_every_caption_names_only_drawn_shapes(data):
    for caps, objs in zip(data.captions, data.objects):
        drawn = {(o.size, o.colour, o.shape) for o in objs}
        for cap in caps:
            assert cap == cap.lower() and re.fullmatch(r"[a-z ,]+", cap), cap
            named = _mentions(cap)
            assert named, cap
            for size, colour, shape in named:
                assert any(colour == c and shape == s and size in (None, z) for z, c, s in drawn), (
                    cap,
                    objs,
                )
        # the first caption names every shape with its size
        assert sorted(_mentions(caps[0])) == sorted((o.size, o.colour, o.shape) for o in objs), (
            caps[0],
            objs,
        )


def test_relations_and_positions_are_true(data):
    checked = 0
    for caps, objs in zip(data.captions, data.objects):
        for cap in caps:
            if len(objs) == 1 and "in the " in cap:
                assert cap.endswith("in the " + objs[0].where), (cap, objs)
            if (
                len(objs) == 2
                and objs[0].row != objs[1].row
                and (" above " in cap or " below " in cap)
            ):
                first, second = _mentions(cap)
                if first[1:] == second[1:]:
                    continue  # two identical-looking shapes: nothing to check
                a = next(o for o in objs if (o.colour, o.shape) == first[1:])
                b = next(o for o in objs if (o.colour, o.shape) == second[1:])
                assert (a.row < b.row) == (" above " in cap), (cap, objs)
                checked += 1
    assert checked > 20


def test_splits_are_independent():
    s = shapes_splits(n_train=30, n_val=10, n_test=10, size=48, seed=0)
    assert [len(s[k]) for k in ("train", "val", "test")] == [30, 10, 10]
    assert s["train"].images.shape[1:] == (48, 48, 3)
    bigger = shapes_splits(n_train=60, n_val=10, n_test=10, size=48, seed=0)
    assert np.array_equal(bigger["test"].images, s["test"].images), "test split depends on n_train"
    assert not np.array_equal(s["train"].images[:10], s["test"].images)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_shapes"):
        make_shapes(3, max_shapes=4)
    with pytest.raises(ValueError, match="size"):
        make_shapes(3, size=8)
    with pytest.raises(ValueError, match="n must be"):
        make_shapes(-1)


def test_subset(data):
    sub = data.subset([2, 5])
    assert len(sub) == 2 and sub.captions[1] == data.captions[5]
    assert np.array_equal(sub.images[0], data.images[2])
