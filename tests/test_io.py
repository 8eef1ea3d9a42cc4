"""course_utils.io: the one atomic write (docs/design.md; used by downloads, caches,
checkpoints, keys, gradebooks and the manual-grading store)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from course_utils.io import atomic_path, atomic_write


def test_text_bytes_and_writer_functions(tmp_path):
    assert atomic_write(tmp_path / "sub" / "a.txt", "é\n").read_text(encoding="utf-8") == "é\n"
    assert atomic_write(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, x=np.arange(3))

    with np.load(atomic_write(tmp_path / "c.npz", write)) as z:
        assert z["x"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "c.npz", "sub"]


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = atomic_write(tmp_path / "store.json", '{"old": 1}')

    def half_then_crash(tmp):
        tmp.write_text('{"new": ')
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError, match="killed"):
        atomic_write(target, half_then_crash)
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise KeyboardInterrupt
    assert target.read_text() == '{"old": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["store.json"]


def test_a_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        atomic_write(tmp_path / "x", lambda tmp: None)
    assert not list(tmp_path.iterdir())


def test_bad_content_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="text, bytes or a function.*found dict"):
        atomic_write(tmp_path / "x", {"a": 1})


def test_usual_permissions_and_fsync(tmp_path):
    path = atomic_write(tmp_path / "g.csv", "a,b\n", fsync=True)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
