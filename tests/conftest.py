"""Shared fixtures: an isolated cache, the mirror (when present), a local HTTP server."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_MIRROR = ROOT.parent / "shared" / "data"


def mirror_path() -> Path | None:
    raw = os.environ.get("COURSE_DATA")
    return Path(raw) if raw and Path(raw).is_dir() else None


MIRROR = mirror_path()  # read once: fixtures below may change COURSE_DATA
# `make test-offline` sets COURSE_TEST_OFFLINE_PASS=1: the second CI pass, with no mirror
# and no network, which runs again only what can behave differently there (the root
# conftest.py drops notebooks that read no data; tests/test_homeworks.py grades less).
OFFLINE_PASS = os.environ.get("COURSE_TEST_OFFLINE_PASS") == "1"
requires_mirror = pytest.mark.skipif(
    MIRROR is None, reason="COURSE_DATA (the data mirror) is not set"
)


def pytest_ignore_collect(collection_path, config):
    """tests/test_full_mode.py runs the lessons in full mode (capped, minutes): only
    `make test-full` (COURSE_TEST_FULL=1), `make test-full-ci` (COURSE_TEST_FULL=ci) or
    naming the file collects it."""
    if collection_path.name != "test_full_mode.py" or os.environ.get("COURSE_TEST_FULL") in (
        "1",
        "ci",
    ):
        return None
    named = any(Path(arg.split("::")[0]).resolve() == collection_path for arg in config.args)
    return None if named else True


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty cache folder and no mirror, for data-layer tests."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE", str(cache))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return cache


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404, "not here")
            return
        body, mode = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "die":
            # promise the whole file, send half of it, then drop the connection
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


@pytest.fixture
def mirror(isolated_cache, monkeypatch):
    """The real data mirror with an empty cache and no network (tests skip without it)."""
    monkeypatch.setenv("COURSE_DATA", str(MIRROR))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return MIRROR


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1; ``serve(path, body, mode)`` adds a route."""
    routes: dict = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    class Server:
        url = base

        @staticmethod
        def serve(path: str, body: bytes, mode: str = "ok") -> str:
            routes[path] = (body, mode)
            return base + path

    yield Server
    server.shutdown()
    server.server_close()


# The grading fixtures are submissions, some broken or hostile on purpose: they are
# graded inside the sandbox by tests/test_grading.py, never executed by nbval.
collect_ignore_glob = ["fixtures/*"]
