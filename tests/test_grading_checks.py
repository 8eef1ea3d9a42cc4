"""Trusted checks: what may cross out of the kernel, and how the grader compares it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from course_utils.tools.grading import checks as ck


def _roundtrip(value, folder):
    """What the grader decodes from what the kernel would send."""
    return ck.from_plain(json.loads(json.dumps(ck.to_plain(value, folder))), folder)


@pytest.mark.parametrize(
    "value", [None, True, 3, -2.5, "text", [1, 2.0, "x"], {"a": [1, {"b": None}]}]
)
def test_plain_values_roundtrip(value, tmp_path):
    assert _roundtrip(value, tmp_path) == value


def test_arrays_roundtrip_inline_and_as_npy(tmp_path):
    small = np.arange(6, dtype=np.int16).reshape(2, 3)
    big = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    out_small, out_big = _roundtrip(small, tmp_path), _roundtrip(big, tmp_path)
    assert out_small.dtype == np.int16 and np.array_equal(out_small, small)
    assert out_big.dtype == np.float32 and np.array_equal(out_big, big)
    assert len(list(tmp_path.glob("*.npy"))) == 1  # only the large one went to a file


def test_tensors_and_nonfinite_floats(tmp_path):
    t = torch.tensor([[1.0, float("nan")], [float("inf"), -2.0]], requires_grad=True) * 1
    out = _roundtrip(t, tmp_path)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    assert math.isnan(out[0, 1]) and out[1, 0] == math.inf
    assert math.isnan(_roundtrip(float("nan"), tmp_path))
    assert _roundtrip(np.float32(0.5), tmp_path) == 0.5


def test_subclasses_are_read_through_their_base_type(tmp_path):
    class Liar(list):
        def __eq__(self, other):
            return True

        def __iter__(self):
            return iter(["lies"])

    class Num(float):
        def __float__(self):
            return 99.0

        def __eq__(self, other):
            return True

    assert _roundtrip(Liar(["a", "b"]), tmp_path) == ["a", "b"]
    assert _roundtrip(Num(1.5), tmp_path) == 1.5
    assert type(_roundtrip(Num(1.5), tmp_path)) is float


@pytest.mark.parametrize(
    "value, message",
    [
        (object(), "cannot be sent"),
        (np.array(["a"], dtype=object), "dtype object"),
        (np.array([1 + 2j]), "dtype complex128"),
        ({1: "x"}, "dict keys"),
        ({"__array__": 1}, "dict keys"),
    ],
)
def test_other_values_are_refused(value, message, tmp_path):
    with pytest.raises(ck.CheckError, match=message):
        ck.to_plain(value, tmp_path)


def test_decoding_refuses_pickles_bad_names_and_tags(tmp_path):
    name = "0" * 32 + ".npy"
    np.save(tmp_path / name, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):  # numpy refuses object arrays without allow_pickle
        ck.from_plain({"__npy__": name}, tmp_path)
    with pytest.raises(ck.CheckError, match="bad array reference"):
        ck.from_plain({"__npy__": "../../etc/passwd"}, tmp_path)
    with pytest.raises(ck.CheckError, match="unknown tagged"):
        ck.from_plain({"__class__": "os.system"}, tmp_path)
    with pytest.raises(ck.CheckError, match="not accepted"):
        ck.from_plain({"__array__": {"dtype": "|O", "shape": [1], "data": [1]}})
    link = tmp_path / ("1" * 32 + ".npy")
    link.symlink_to(tmp_path / name)
    with pytest.raises(ck.CheckError, match="missing"):
        ck.from_plain({"__npy__": link.name}, tmp_path)


@pytest.mark.parametrize(
    "expected, received, ok",
    [
        (1.0, 1.0 + 1e-9, True),
        (1.0, 1.1, False),
        (1.0, 1, True),  # an int may stand for a float
        (1, 1.0, True),
        (True, 1, False),  # a bool matches a bool only
        (1, True, False),
        ("a", "a", True),
        ("a", ["a"], False),
        ([1, 2], [1, 2], True),
        ([1, 2], [1, 2, 3], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), True),
        (np.array([1.0, 2.0]), [1.0, 2.0], True),
        (np.array([1.0, 2.0]), np.array([[1.0, 2.0]]), False),  # shape
        (np.array([1, 2]), np.array([1.0, 2.0]), False),  # floats for integers
        (np.array([1.0, 2.0]), np.array([1, 2]), True),  # integers for floats
        (np.array([True]), np.array([1]), False),
        (np.array([np.nan]), np.array([np.nan]), True),
        (np.array([1.0]), np.array([np.nan]), False),
        (math.nan, 0.0, False),
        (None, None, True),
        (None, 0, False),
    ],
)
def test_compare_rules(expected, received, ok):
    assert (ck.compare(expected, received) is None) is ok


def test_tolerances_come_from_the_key():
    spec = {"x": {"value": 1.0, "atol": 0.5, "rtol": 0.0}}
    assert ck.judge(spec, [ck.Received("x", 1.4)])[0]
    # the kernel's own tolerance is ignored
    assert not ck.judge(
        {"x": {"value": 1.0, "atol": None, "rtol": None}}, [ck.Received("x", 1.4, atol=10.0)]
    )[0]


def test_judge_requires_each_name_once_and_nothing_else():
    spec = {"a": {"value": 1}, "b": {"value": 2}}
    assert ck.judge(spec, [ck.Received("a", 1), ck.Received("b", 2)]) == (True, "")
    ok, why = ck.judge(spec, [ck.Received("a", 1), ck.Received("a", 1), ck.Received("b", 2)])
    assert not ok and "twice" in why
    ok, why = ck.judge(spec, [ck.Received("a", 1), ck.Received("b", 2), ck.Received("c", 3)])
    assert not ok and "does not expect" in why
    ok, why = ck.judge(spec, [ck.Received("a", 1)])
    assert not ok and "no value arrived" in why
    ok, why = ck.judge(spec, [ck.Received("a", 1), ck.Received("b", None, error="bad")])
    assert not ok and "bad" in why


def test_collect_reads_only_check_messages(tmp_path):
    payload = {"name": "a", "value": ck.to_plain([1, 2]), "atol": None, "rtol": None}
    outputs = [
        {"output_type": "stream", "text": "hello"},
        {"output_type": "display_data", "data": {"text/plain": "x"}},
        {"output_type": "display_data", "data": {ck.MIME: payload}},
        {"output_type": "display_data", "data": {ck.MIME: {"value": 1}}},
        {
            "output_type": "display_data",
            "data": {ck.MIME: {"name": "b", "value": {"__npy__": "x"}}},
        },
    ]
    got = ck.collect(outputs, tmp_path)
    assert [g.name for g in got] == ["a", "?", "b"]
    assert got[0].value == [1, 2] and not got[0].error
    assert got[1].error and got[2].error


def test_submit_is_a_no_op_outside_grading(monkeypatch):
    monkeypatch.delenv(ck.ENV, raising=False)
    assert ck.submit("x", object()) is None  # not even converted
