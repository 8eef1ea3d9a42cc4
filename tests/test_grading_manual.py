"""Manual grading (course_utils.tools.grading.manual): the store, the queue, the local web
page's defences, and a real headless browser (Playwright driving Debian's chromium)
that grades through the forms.

The browser test is skipped only when chromium or the Playwright client is missing and
the environment variable CI is unset; under CI it fails instead. It runs the chromium
on PATH (Debian's package; ``playwright install`` is not needed), or $CHROMIUM.
:func:`grade_in_browser` grades through the page for other tests (end to end).
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest

from course_utils.tools.grading import manual
from tests.conftest import ROOT

# ------------------------------------------------------------------ a grades folder
XSS = (
    "# Heading\n\nMy *answer* to the question.\n\n"
    "<script>window.__pwned=1; document.title='PWNED'</script>\n\n"
    "<img src=x onerror=\"document.title='PWNED'\">\n\n"
    "[click me](javascript:document.title='PWNED')\n"
)
MARKDOWN = "# Heading\n\nBob's *answer*: gradient descent follows the slope.\n"
CODE = "def f(x):\n    # add one\n    return x + 1\n"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def item(gid: str, kind: str, cell_type: str, answer: str, rubric: str, max_points: float):
    return {
        "id": gid,
        "kind": kind,
        "cell_type": cell_type,
        "answer": answer,
        "answer_sha256": sha(answer),
        "rubric": rubric,
        "max_points": max_points,
    }


def result(student: str, items: list, status: str = "graded", notebook: str = "problem1.ipynb"):
    return {
        "homework": notebook.removesuffix(".ipynb"),
        "submission": f"{student}/ps1/{notebook}",
        "student": student,
        "assignment": "ps1",
        "notebook": notebook,
        "status": status,
        "score": 4.0,
        "max_score": 4.0 + sum(i["max_points"] for i in items),
        "tests": [
            {"id": "t_auto", "points": 4.0, "max_points": 4.0, "status": "passed", "message": ""}
        ]
        + [
            {
                "id": i["id"],
                "points": 0.0,
                "max_points": i["max_points"],
                "status": "manual",
                "message": "waits for manual grading",
            }
            for i in items
        ],
        "manual": items,
    }


def standard_items(markdown_answer: str) -> list:
    return [
        item(
            "q_explain",
            "manual",
            "markdown",
            markdown_answer,
            "**Model answer**: the gradient points uphill; mention the step size.",
            2,
        ),
        item("q_code", "manual", "code", CODE, "def f(x):\n    return x + 1\n", 3),
        item("t_plot", "task", "markdown", "", "## Task\n\nPlot the loss curve.", 1),
    ]


def write_result(out: Path, stem: str, data: dict) -> None:
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / f"{stem}.json").write_text(json.dumps(data, indent=1))


def make_grades(out: Path) -> Path:
    """Two graded students × three items (markdown, code, task), plus a rejected and an
    erroneous submission (never queued) and one without any manual item."""
    write_result(out, "alice__ps1__problem1", result("alice", standard_items(XSS)))
    write_result(out, "bob__ps1__problem1", result("bob", standard_items(MARKDOWN)))
    write_result(
        out, "carol__ps1__problem1", result("carol", standard_items(MARKDOWN), status="rejected")
    )
    write_result(
        out, "dave__ps1__problem1", result("dave", standard_items(MARKDOWN), status="error")
    )
    no_manual = result("erin", [])
    del no_manual["manual"]
    write_result(out, "erin__ps1__problem1", no_manual)
    return out


@pytest.fixture
def grades(tmp_path) -> Path:
    return make_grades(tmp_path / "grades")


def stored(out: Path) -> dict:
    return json.loads((out / "manual.json").read_text())


# ------------------------------------------------------------------ store and queue
def test_store_round_trip(grades):
    assert manual.load(grades) == {}
    items = manual.queue(grades)
    assert [(i.student, i.grade_id) for i in items] == [
        ("alice", "q_explain"),
        ("bob", "q_explain"),
        ("alice", "q_code"),
        ("bob", "q_code"),
        ("alice", "t_plot"),
        ("bob", "t_plot"),
    ]  # by question in notebook order, then student
    assert manual.progress(items) == (0, 6)
    entry = manual.save(grades, "bob__ps1__problem1", "q_code", "2.5", "tidy", sha(CODE))
    assert entry["points"] == 2.5 and entry["comment"] == "tidy"
    data = stored(grades)
    assert data["format"] == 1
    assert set(data["grades"]) == {"bob__ps1__problem1/q_code"}
    g = manual.load(grades)["bob__ps1__problem1/q_code"]
    assert g["points"] == 2.5 and g["answer_sha256"] == sha(CODE)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", g["saved_at"])
    items = manual.queue(grades)
    assert manual.progress(items) == (1, 6)
    graded = [i for i in items if i.graded]
    assert [(i.key, i.grade["points"]) for i in graded] == [("bob__ps1__problem1/q_code", 2.5)]
    # saving again replaces the one entry; a decimal comma is read as a point
    manual.save(grades, "bob__ps1__problem1", "q_code", "1,5", "", sha(CODE))
    assert manual.load(grades)["bob__ps1__problem1/q_code"]["points"] == 1.5
    assert not list(grades.glob("*.tmp"))


@pytest.mark.parametrize(
    "points, message",
    [
        ("abc", "points must be a number between 0 and 2, found 'abc'"),
        ("", "points must be a number between 0 and 2, found ''"),
        ("2.5", "points must be a number between 0 and 2, found '2.5'"),
        ("-1", "points must be a number between 0 and 2, found '-1'"),
        ("nan", "points must be a number between 0 and 2, found 'nan'"),
        ("inf", "points must be a number between 0 and 2, found 'inf'"),
        (float("nan"), "points must be a number between 0 and 2"),
        (True, "points must be a number between 0 and 2"),
    ],
)
def test_bad_points_save_nothing(grades, points, message):
    with pytest.raises(manual.ManualError) as err:
        manual.save(grades, "alice__ps1__problem1", "q_explain", points, "", sha(XSS))
    assert message in str(err.value)
    assert not (grades / "manual.json").exists()


def test_unknown_items_stale_answers_and_long_comments(grades):
    with pytest.raises(manual.UnknownItem, match="no item 'nope'"):
        manual.save(grades, "alice__ps1__problem1", "nope", 1, "", sha(XSS))
    for stem in (
        "zed",
        "../alice__ps1__problem1",
        "carol__ps1__problem1",
        "dave__ps1__problem1",
    ):  # missing, a path, rejected, grader error
        with pytest.raises(manual.UnknownItem):
            manual.save(grades, stem, "q_explain", 1, "", sha(MARKDOWN))
    with pytest.raises(manual.StaleAnswer, match="the answer changed since the page was loaded"):
        manual.save(grades, "alice__ps1__problem1", "q_explain", 1, "", sha("old answer"))
    with pytest.raises(manual.ManualError, match="at most 10,000"):
        manual.save(grades, "alice__ps1__problem1", "q_explain", 1, "x" * 10_001, sha(XSS))
    manual.save(grades, "alice__ps1__problem1", "q_explain", 0, "x" * 10_000, sha(XSS))
    assert list(manual.load(grades)) == ["alice__ps1__problem1/q_explain"]


def test_a_regraded_answer_makes_the_grade_stale(grades):
    manual.save(grades, "bob__ps1__problem1", "q_explain", 2, "fine", sha(MARKDOWN))
    assert manual.progress(manual.queue(grades)) == (1, 6)
    write_result(grades, "bob__ps1__problem1", result("bob", standard_items("a new answer")))
    items = {i.key: i for i in manual.queue(grades)}
    bob = items["bob__ps1__problem1/q_explain"]
    assert bob.grade is None and not bob.graded
    assert bob.stale["points"] == 2 and bob.stale["comment"] == "fine"
    assert manual.progress(list(items.values())) == (0, 6)


def test_corrupt_store_is_named(grades):
    (grades / "manual.json").write_text('{"format": 1, "grades": {')
    with pytest.raises(manual.ManualError, match=r"manual\.json is corrupt"):
        manual.load(grades)
    with pytest.raises(manual.ManualError, match=r"manual\.json"):
        manual.save(grades, "bob__ps1__problem1", "q_code", 1, "", sha(CODE))
    (grades / "manual.json").write_text("[1, 2]")
    with pytest.raises(manual.ManualError, match=str(grades / "manual.json")):
        manual.load(grades)


def test_a_failed_write_leaves_the_old_store(grades, monkeypatch):
    manual.save(grades, "bob__ps1__problem1", "q_code", 3, "", sha(CODE))
    before = (grades / "manual.json").read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(manual.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        manual.save(grades, "bob__ps1__problem1", "q_code", 1, "", sha(CODE))
    assert (grades / "manual.json").read_bytes() == before
    assert [p.name for p in grades.iterdir() if "tmp" in p.name] == []


def many_items(out: Path, n: int) -> Path:
    items = [item(f"q{i:03d}", "manual", "markdown", f"answer {i}", "rubric", 10) for i in range(n)]
    write_result(out, "many", result("many", items))
    return out


def test_concurrent_threads_lose_nothing(tmp_path):
    out = many_items(tmp_path / "grades", 160)
    errors = []

    def work(t):
        try:
            for j in range(20):
                i = t * 20 + j
                manual.save(out, "many", f"q{i:03d}", i % 11, f"t{t}", sha(f"answer {i}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    grades_ = stored(out)["grades"]
    assert len(grades_) == 160
    assert all(grades_[f"many/q{i:03d}"]["points"] == i % 11 for i in range(160))


def _process_saves(out: str, proc: int) -> None:
    """In a separate process: 20 saves, alternating an own item and the shared one."""
    for j in range(20):
        if j % 2:
            manual.save(out, "many", "q000", proc, f"p{proc}-{j}", sha("answer 0"))
        else:
            i = 1 + proc * 10 + j // 2
            manual.save(out, "many", f"q{i:03d}", 1, f"p{proc}", sha(f"answer {i}"))


def test_concurrent_processes_lose_nothing(tmp_path):
    out = many_items(tmp_path / "grades", 41)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_saves, args=(str(out), p)) for p in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    grades_ = stored(out)["grades"]  # valid JSON
    assert set(grades_) == {f"many/q{i:03d}" for i in range(41)}
    assert grades_["many/q000"]["comment"] in {f"p{p}-19" for p in range(4)}
    assert not [p.name for p in out.iterdir() if "tmp" in p.name]


def test_missing_grades_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="course grade"):
        manual.queue(tmp_path / "nowhere")


# ------------------------------------------------------------------ the web page
@contextmanager
def running(out: Path, on_save=None, host="127.0.0.1"):
    server = manual.make_server(out, host=host, port=0, on_save=on_save)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def server(grades):
    with running(grades) as srv:
        yield srv


def request(server, method: str, path: str, body: dict | None = None, headers=None):
    """A raw request (the path is sent exactly as given); returns (status, headers, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    data = urllib.parse.urlencode(body).encode() if body is not None else None
    hdrs = {"Host": f"127.0.0.1:{server.port}"}
    if data is not None:
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    hdrs.update(headers or {})
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    if data is not None:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, resp.headers, text


def form(server, item_: manual.Item, points="1", comment="", **extra):
    return {
        "points": points,
        "comment": comment,
        "answer_sha256": item_.answer_sha256,
        "csrf": server.csrf,
        **extra,
    }


def first(out, student="alice", gid="q_explain") -> manual.Item:
    return next(i for i in manual.queue(out) if i.student == student and i.grade_id == gid)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::", ""])
def test_only_loopback(grades, host):
    with pytest.raises(ValueError, match="loopback"):
        manual.make_server(grades, host=host)
    with pytest.raises(ValueError, match="loopback"):
        manual.serve(grades, host=host)


def test_pages_and_security_headers(server, grades):
    status, headers, text = request(server, "GET", "/")
    assert status == 200
    assert headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "0 of 6 graded" in text and "<script" not in text
    status, headers, _ = request(server, "GET", "/next")
    assert status == 303 and headers["Location"] == "/item/alice__ps1__problem1/q_explain"
    status, headers, text = request(server, "GET", headers["Location"])
    assert status == 200 and "Content-Security-Policy" in headers
    # student HTML comes out as text, never as markup
    assert "&lt;script&gt;window.__pwned=1" in text
    assert "<script" not in text and "<img" not in text
    assert 'href="javascript' not in text  # markdown-it's validateLink: left as text
    assert "<h1>Heading</h1>" in text


@pytest.mark.parametrize(
    "path",
    [
        "/item/../results/alice__ps1__problem1.json",
        "/item/..%2Fresults/q_explain",
        "/item/alice__ps1__problem1%2F..%2F..%2Fmanual/q_explain",
        "/..",
        "/../manual.json",
        "/item/%2e%2e/%2e%2e",
        "/manual.json",
        "/results/alice__ps1__problem1.json",
        "/item/alice__ps1__problem1",
        "/item/alice__ps1__problem1/q_explain/x",
        "/item/alice__ps1__problem1/nope",
        "/item/carol__ps1__problem1/q_explain",
        "//etc/passwd",
        "/item//etc/passwd",
        "/etc/passwd",
        "/item/%ff/q",
        "/favicon.ico",
        "http://127.0.0.1/item/alice__ps1__problem1/q_explain",
    ],
)
def test_unknown_paths_are_404(server, path):
    status, headers, text = request(server, "GET", path)
    assert status == 404, path
    assert "Content-Security-Policy" in headers
    assert "q_explain" not in text or "no such" in text


def test_post_needs_token_host_and_origin(server, grades):
    path = "/item/bob__ps1__problem1/q_code"
    it = first(grades, "bob", "q_code")
    good = form(server, it, "2")
    for body, headers in [
        ({k: v for k, v in good.items() if k != "csrf"}, {}),  # no token
        ({**good, "csrf": "x" * 43}, {}),  # wrong token
        ({**good, "csrf": "é"}, {}),  # not even ASCII
        (good, {"Origin": "http://evil.example"}),
        (good, {"Origin": "null"}),  # a sandboxed frame, a data: URL
        (good, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
        (good, {"Origin": f"http://127.0.0.1:{server.port}", "Sec-Fetch-Site": "cross-site"}),
        (good, {"Host": "evil.example"}),  # DNS rebinding
        (good, {"Host": f"127.0.0.1:{server.port + 1}"}),
    ]:
        status, hdrs, _ = request(server, "POST", path, body, headers)
        assert status == 403, (body.keys(), headers)
        assert "Content-Security-Policy" in hdrs
    assert not (grades / "manual.json").exists()
    assert request(server, "GET", "/", headers={"Host": "evil.example"})[0] == 403
    # the same form from the page's own origin is saved, then the next ungraded follows
    status, hdrs, _ = request(
        server, "POST", path, good, {"Origin": f"http://127.0.0.1:{server.port}"}
    )
    assert status == 303 and hdrs["Location"] == "/item/alice__ps1__problem1/t_plot"
    assert stored(grades)["grades"]["bob__ps1__problem1/q_code"]["points"] == 2
    # what a browser sends for its own form under Referrer-Policy: no-referrer
    status, hdrs, _ = request(
        server,
        "POST",
        path,
        {**good, "points": "1"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert status == 303
    assert stored(grades)["grades"]["bob__ps1__problem1/q_code"]["points"] == 1


def test_post_errors(server, grades):
    it = first(grades, "alice", "q_explain")
    path = "/item/alice__ps1__problem1/q_explain"
    status, _, text = request(server, "POST", path, form(server, it, "abc", "a comment"))
    assert status == 400
    assert "points must be a number between 0 and 2, found &#x27;abc&#x27;" in text
    assert "a comment</textarea>" in text  # what was typed is kept
    status, _, text = request(server, "POST", path, form(server, it, "1", answer_sha256="0" * 64))
    assert status == 409 and "the answer changed since the page was loaded" in text
    status, _, _ = request(server, "POST", "/item/../manual.json/x", form(server, it))
    assert status == 404
    status, _, _ = request(server, "POST", path, form(server, it), {"Content-Type": "text/plain"})
    assert status == 415
    assert not (grades / "manual.json").exists()


def test_on_save_runs_after_each_saved_grade(grades):
    calls = []
    with running(grades, on_save=calls.append) as srv:
        it = first(grades, "bob", "t_plot")
        status, hdrs, _ = request(
            srv, "POST", "/item/bob__ps1__problem1/t_plot", form(srv, it, "1", "nice plot")
        )
        assert status == 303
        request(srv, "POST", "/item/bob__ps1__problem1/t_plot", form(srv, it, "x"))
    assert calls == [grades]


def test_the_last_grade_leads_to_the_index(grades):
    for it in manual.queue(grades)[1:]:
        manual.save(grades, it.stem, it.grade_id, 0, "", it.answer_sha256)
    with running(grades) as srv:
        it = manual.queue(grades)[0]
        status, hdrs, _ = request(
            srv, "POST", "/item/alice__ps1__problem1/q_explain", form(srv, it, "2")
        )
        assert status == 303 and hdrs["Location"] == "/"
        text = request(srv, "GET", "/")[2]
        assert "6 of 6 graded" in text and "Everything is graded" in text
        assert request(srv, "GET", "/next")[1]["Location"] == "/"


def test_a_stale_grade_is_shown_for_reference(server, grades):
    manual.save(grades, "bob__ps1__problem1", "q_explain", 1.5, "<b>was</b> fine", sha(MARKDOWN))
    write_result(grades, "bob__ps1__problem1", result("bob", standard_items("new text")))
    text = request(server, "GET", "/item/bob__ps1__problem1/q_explain")[2]
    assert "The answer changed since it was graded" in text
    assert "Earlier: 1.5 / 2" in text and "&lt;b&gt;was&lt;/b&gt; fine" in text
    assert "new text" in text and "0 of 6 graded" in text
    assert "was 1.5 / 2" in request(server, "GET", "/")[2]


@pytest.mark.parametrize("host", ["localhost", "::1"])
def test_other_loopback_names(grades, host):
    try:
        srv_cm = running(grades, host=host)
        srv = srv_cm.__enter__()
    except OSError as exc:  # no IPv6 here
        pytest.skip(f"cannot listen on {host}: {exc}")
    try:
        assert srv.url == (
            f"http://[::1]:{srv.port}/" if host == "::1" else f"http://localhost:{srv.port}/"
        )
        family = "::1" if host == "::1" else "127.0.0.1"
        conn = http.client.HTTPConnection(family, srv.port, timeout=10)
        conn.request("GET", "/", headers={"Host": srv.url.split("/")[2]})
        resp = conn.getresponse()
        assert resp.status == 200 and "0 of 6 graded" in resp.read().decode()
        conn.close()
    finally:
        srv_cm.__exit__(None, None, None)


def test_serve_calls_ready_and_stops_on_ctrl_c(grades, monkeypatch, capsys):
    def one_request_then_ctrl_c(self, poll_interval=0.5):
        self.handle_request()
        raise KeyboardInterrupt

    monkeypatch.setattr(manual.ManualServer, "serve_forever", one_request_then_ctrl_c)
    urls = []
    thread = threading.Thread(
        target=manual.serve, args=(grades,), kwargs={"ready": urls.append}, daemon=True
    )
    thread.start()
    deadline = time.time() + 10
    while not urls and time.time() < deadline:
        time.sleep(0.01)
    port = int(urls[0].rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().status == 200
    conn.close()
    thread.join(10)
    assert not thread.is_alive()
    out = capsys.readouterr().out
    assert urls[0] in out and "0 of 6 graded" in out and "stopped" in out
    with pytest.raises(ConnectionRefusedError):  # the socket is closed
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")


def test_an_empty_grades_folder(tmp_path, grades):
    (tmp_path / "empty" / "results").mkdir(parents=True)
    with running(tmp_path / "empty") as srv:
        status, _, text = request(srv, "GET", "/")
        assert status == 200 and "0 of 0 graded" in text and "Nothing to grade" in text
        assert request(srv, "GET", "/next")[1]["Location"] == "/"


def test_cli_rewrites_the_reports_after_a_save(grades, monkeypatch):
    from course_utils.tools import cli

    # the module (course_utils.tools.grading.grade is the function of that name)
    grade_module = importlib.import_module("course_utils.tools.grading.grade")
    seen, rewritten = {}, []
    monkeypatch.setattr(manual, "serve", lambda out, **kw: seen.update(out=out, **kw))
    monkeypatch.setattr(grade_module, "write_reports", rewritten.append, raising=False)
    assert cli.main(["manual", str(grades), "--port", "8123"]) == 0
    assert seen["out"] == grades and seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    seen["on_save"](grades)
    assert rewritten == [grades]
    monkeypatch.delattr(grade_module, "write_reports")  # a grader without it: nothing to do
    seen["on_save"](grades)
    assert rewritten == [grades]


def test_cli_serves_until_interrupted(grades):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils.tools.cli",
            "manual",
            str(grades),
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "loopback" in bad.stderr
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "course_utils.tools.cli",
            "manual",
            str(grades),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = None
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = m.group(0) if m else None
        assert url, proc.stderr.read() if proc.poll() is not None else "no URL printed"
        port = int(url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200 and "0 of 6 graded" in resp.read().decode()
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ a real browser
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Playwright client is not installed (pip install -e '.[dev]')"
    return None


def need_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def browser_page():
    """A Playwright page in headless chromium (Debian's, not a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def item_url(url: str, stem: str, grade_id: str) -> str:
    return (
        url.rstrip("/")
        + "/item/"
        + urllib.parse.quote(stem, safe="")
        + "/"
        + urllib.parse.quote(grade_id, safe="")
    )


def grade_in_browser(url: str, entries, page=None) -> list[str]:
    """Grade through the web page like a person: for each (stem, grade_id, points,
    comment), open the item, type the points and the comment, press save. Returns the
    URL each save led to. Raises AssertionError with the page's message when a save is
    refused. ``url``: the server's root URL; ``page``: a Playwright page (one is
    launched when None)."""
    if page is None:
        with browser_page() as page:
            return grade_in_browser(url, entries, page)
    landed = []
    for stem, grade_id, points, comment in entries:
        resp = page.goto(item_url(url, stem, grade_id))
        assert resp is not None and resp.status == 200, f"{stem}/{grade_id}: {resp and resp.status}"
        page.fill("#points", str(points))
        page.fill("#comment", comment)
        with page.expect_navigation() as nav:
            page.click("#save")
        status = nav.value.status if nav.value is not None else None
        if status != 200:
            error = page.locator("#error")
            message = error.inner_text() if error.count() else page.content()[:500]
            raise AssertionError(f"saving {stem}/{grade_id} = {points!r}: HTTP {status}: {message}")
        landed.append(page.url)
    return landed


def test_grade_in_a_real_browser(grades):
    need_browser()
    with running(grades) as srv, browser_page() as page:
        url = srv.url
        alice, bob = "alice__ps1__problem1", "bob__ps1__problem1"
        page.goto(url)
        assert page.inner_text("#progress") == "0 of 6 graded"
        page.click("#next-ungraded")
        assert page.url == item_url(url, alice, "q_explain")
        # rendered markdown, and the student's HTML inert and visible as text
        assert page.locator("#answer .md h1").inner_text() == "Heading"
        assert page.locator("#answer .md em").first.inner_text() == "answer"
        assert page.title() != "PWNED"
        assert page.evaluate("typeof window.__pwned") == "undefined"
        answer_text = page.inner_text("#answer .md")
        assert "<script>window.__pwned=1; document.title='PWNED'</script>" in answer_text
        assert "<img src=x onerror=" in answer_text
        assert page.locator("#answer script, #answer img, #answer iframe").count() == 0
        assert page.locator("#answer a[href^='javascript']").count() == 0
        assert page.locator("#rubric strong").inner_text() == "Model answer"
        # grade it: saved, then led to the next ungraded item (the same question, bob)
        page.fill("#points", "1.5")
        page.fill("#comment", "Good start; <b>mention</b> the step size.")
        with page.expect_navigation() as nav:
            page.click("#save")
        assert nav.value.status == 200
        assert page.url == item_url(url, bob, "q_explain")
        assert page.inner_text("#student") == "bob"
        assert page.inner_text("#progress") == "1 of 6 graded"
        assert page.title() != "PWNED"
        # a bad value: a 400 page that says why, keeps what was typed, saves nothing
        page.fill("#points", "abc")
        page.fill("#comment", "keep me")
        with page.expect_navigation() as nav:
            page.click("#save")
        assert nav.value.status == 400
        assert page.inner_text("#error") == ("points must be a number between 0 and 2, found 'abc'")
        assert page.input_value("#comment") == "keep me"
        assert page.inner_text("#progress") == "1 of 6 graded"
        # code is highlighted
        page.goto(item_url(url, bob, "q_code"))
        assert page.locator("#answer .hl span").count() >= 5
        assert "return x + 1" in page.inner_text("#answer .hl")
        # the rest through the helper; the task shows the note about the notebook
        page.goto(item_url(url, alice, "t_plot"))
        assert "A task" in page.inner_text("#answer")
        landed = grade_in_browser(
            url,
            [
                (bob, "q_explain", "2", "Complete."),
                (alice, "q_code", "3", ""),
                (bob, "q_code", "2,5", "An off-by-one\nin the loop."),
            ],
            page,
        )
        assert landed[-1] == item_url(url, alice, "t_plot")
        with pytest.raises(AssertionError, match="found '9'"):
            grade_in_browser(url, [(alice, "t_plot", "9", "")], page)
        # resume: a fresh load shows what was saved
        page.goto(url)
        page.reload()
        assert page.inner_text("#progress") == "4 of 6 graded"
        page.click("#next-ungraded")
        assert page.url == item_url(url, alice, "t_plot")
        page.goto(item_url(url, alice, "q_explain"))
        assert page.input_value("#points") == "1.5"
        assert page.input_value("#comment") == "Good start; <b>mention</b> the step size."
    got = {k: (g["points"], g["comment"]) for k, g in stored(grades)["grades"].items()}
    assert got == {
        f"{alice}/q_explain": (1.5, "Good start; <b>mention</b> the step size."),
        f"{bob}/q_explain": (2.0, "Complete."),
        f"{alice}/q_code": (3.0, ""),
        f"{bob}/q_code": (2.5, "An off-by-one\nin the loop."),
    }
