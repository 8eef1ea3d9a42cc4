"""``course manual OUT``: grade written answers, manually graded code and tasks by hand.

``course grade`` lists in every ``OUT/results/<stem>.json`` the items a person grades
(its ``"manual"`` list: the student's answer, the rubric from the source notebook and
the points). This module keeps the points and comments given to them in
``OUT/manual.json``::

    {"format": 1,
     "grades": {"<stem>/<grade_id>": {"points": 1.5, "comment": "...",
                                      "answer_sha256": "...", "saved_at": "..."}}}

and serves a small local web page to give them (:func:`serve`). A grade remembers the
answer it was given to: when a regrade brings another answer (a new submission), the
old grade is *stale* and the item is ungraded again (the old points are shown for
reference).

Safety of the page: it listens on loopback only; every response forbids scripts
(``Content-Security-Policy: default-src 'none'``; the page itself has no JavaScript);
student text is escaped, or rendered by markdown-it with raw HTML off; a form post
needs the per-run CSRF token, the served ``Host`` and, when the browser sends one, the
served ``Origin`` (or, for the ``Origin: null`` that browsers send under
``Referrer-Policy: no-referrer``, ``Sec-Fetch-Site: same-origin``); items are found
only through the table of known ``(stem, grade_id)`` pairs, so no file is ever opened by
a name taken from a URL.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import hmac
import html
import json
import math
import os
import re
import secrets
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from course_utils.io import atomic_write

STORE = "manual.json"
LOCK = "manual.json.lock"
FORMAT = 1
MAX_COMMENT = 10_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_STEM = re.compile(r"^[A-Za-z0-9_.\-]+$")
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
_MAX_BODY = 256 * 1024  # a 10,000-character comment, percent-encoded, fits


class ManualError(ValueError):
    """A grade that cannot be saved, or a store that cannot be read (the message says why)."""


class UnknownItem(ManualError):
    """No such (stem, grade_id) among the graded results."""


class StaleAnswer(ManualError):
    """The answer was regraded (it changed) after the page showing it was loaded."""


# ------------------------------------------------------------------------ items
@dataclass
class Item:
    """One answer a person grades, with its grade."""

    stem: str
    grade_id: str
    kind: str  # manual | task
    cell_type: str  # code | markdown
    answer: str
    answer_sha256: str
    rubric: str
    max_points: float
    student: str
    assignment: str
    notebook: str
    submission: str
    position: int  # of the item in its notebook
    grade: dict | None = None  # the grade given to this very answer, else None
    stale: dict | None = None  # a grade given to an earlier answer (for reference)

    @property
    def key(self) -> str:
        return f"{self.stem}/{self.grade_id}"

    @property
    def graded(self) -> bool:
        return self.grade is not None


_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, list]] = {}  # result file -> (stat signature, its items)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _items_of(path: Path, stem: str) -> list[Item]:
    """The manual items of one result file (cached while the file is unchanged)."""
    st = path.stat()
    signature = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(str(path))
    if hit is not None and hit[0] == signature:
        return hit[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManualError(f"{path}: not a readable result file ({exc})") from None
    if not isinstance(data, dict):
        raise ManualError(f"{path}: not a result file (a JSON object was expected)")
    items = []
    if data.get("status") == "graded":
        for pos, m in enumerate(data.get("manual") or []):
            try:
                answer = str(m.get("answer") or "")
                max_points = float(m["max_points"])
                items.append(
                    Item(
                        stem=stem,
                        grade_id=str(m["id"]),
                        kind=str(m.get("kind", "manual")),
                        cell_type="code" if m.get("cell_type") == "code" else "markdown",
                        answer=answer,
                        answer_sha256=str(m.get("answer_sha256") or _sha256(answer)),
                        rubric=str(m.get("rubric") or ""),
                        max_points=max_points,
                        student=str(data.get("student") or ""),
                        assignment=str(data.get("assignment") or ""),
                        notebook=str(data.get("notebook") or data.get("homework") or ""),
                        submission=str(data.get("submission") or ""),
                        position=pos,
                    )
                )
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise ManualError(f"{path}: manual item {pos} is malformed ({exc!r})") from None
    with _cache_lock:
        _cache[str(path)] = (signature, items)
    return items


def _catalog(out_dir: Path) -> list[Item]:
    """Every manual item of the graded results, without grades, in queue order."""
    folder = Path(out_dir) / "results"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} does not exist: is {out_dir} a folder written by `course grade`?"
        )
    items = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.name.endswith(".json") or not entry.is_file():
            continue
        stem = entry.name[: -len(".json")]
        if _STEM.match(stem):
            items.extend(_items_of(Path(entry.path), stem))
    # group by question: a question's first position in its notebook orders questions
    first: dict = {}
    for it in items:
        k = (it.assignment, it.notebook, it.grade_id)
        first[k] = min(first.get(k, it.position), it.position)
    items.sort(
        key=lambda it: (
            it.assignment,
            it.notebook,
            first[(it.assignment, it.notebook, it.grade_id)],
            it.grade_id,
            it.student,
            it.submission,
            it.stem,
        )
    )
    return items


def queue(out_dir) -> list[Item]:
    """Every item to grade by hand over the graded results of ``out_dir``, ordered by
    assignment, notebook, question (its place in the notebook, then grade_id) and
    student; each with its current grade (``item.grade``, None when ungraded or stale)."""
    grades = load(out_dir)
    items = []
    for it in _catalog(Path(out_dir)):
        given = grades.get(it.key)
        fresh = given is not None and given.get("answer_sha256") == it.answer_sha256
        items.append(
            Item(
                **{
                    **it.__dict__,
                    "grade": given if fresh else None,
                    "stale": None if fresh else given,
                }
            )
        )
    return items


def progress(items: list[Item]) -> tuple[int, int]:
    """(graded, total)."""
    return sum(1 for it in items if it.graded), len(items)


# ------------------------------------------------------------------------ store
def load(out_dir) -> dict:
    """The grades of ``OUT/manual.json``: ``{"<stem>/<grade_id>": {"points", "comment",
    "answer_sha256", "saved_at"}}``; {} when there is none yet."""
    path = Path(out_dir) / STORE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManualError(
            f"{path} is corrupt (not valid JSON: {exc}); restore it from a "
            "backup or move it away to start over"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("grades"), dict):
        raise ManualError(f'{path} is corrupt: expected an object with a "grades" object')
    if data.get("format") != FORMAT:
        raise ManualError(f"{path}: unknown format {data.get('format')!r} (expected {FORMAT})")
    for key, g in data["grades"].items():
        if not isinstance(g, dict) or not isinstance(g.get("points"), (int, float)):
            raise ManualError(f"{path} is corrupt: the grade of {key!r} has no points")
    return data["grades"]


def parse_points(raw, max_points: float) -> float:
    """``raw`` (a number, or the text of a form field) as points in [0, max_points]."""
    value = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")  # a decimal comma
        try:
            value = float(text)
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or not 0 <= value <= max_points:
        shown = raw if isinstance(raw, str) else repr(raw)
        raise ManualError(
            f"points must be a number between 0 and {max_points:g}, found '{shown[:40]}'"
        )
    return value


def _find(out_dir: Path, stem: str, grade_id: str) -> Item:
    for it in _catalog(out_dir):
        if it.stem == stem and it.grade_id == grade_id:
            return it
    raise UnknownItem(
        f"no item {grade_id!r} to grade by hand in results/{stem}.json "
        f"(among the graded results of {out_dir})"
    )


def save(out_dir, stem: str, grade_id: str, points, comment: str, answer_sha256: str) -> dict:
    """Record ``points`` and ``comment`` for item ``grade_id`` of ``results/<stem>.json``
    given to the answer whose SHA-256 is ``answer_sha256``; return the stored grade.

    Raises :class:`UnknownItem`, :class:`StaleAnswer` or :class:`ManualError` (bad
    points or comment) and then saves nothing. Safe against concurrent saves (threads
    or processes): an exclusive lock, then read, update one entry, write a temporary
    file, fsync and rename."""
    out_dir = Path(out_dir)
    item = _find(out_dir, stem, grade_id)
    value = parse_points(points, item.max_points)
    if not isinstance(comment, str):
        raise ManualError(f"the comment must be text, found {type(comment).__name__}")
    if len(comment) > MAX_COMMENT:
        raise ManualError(
            f"the comment is {len(comment):,} characters long; at most {MAX_COMMENT:,} are kept"
        )
    if not isinstance(answer_sha256, str) or not hmac.compare_digest(
        answer_sha256.encode("utf-8", "replace"), item.answer_sha256.encode()
    ):
        raise StaleAnswer(
            f"the answer changed since the page was loaded ({item.key} was "
            "regraded); reload the page to see the current answer"
        )
    entry = {
        "points": value,
        "comment": comment,
        "answer_sha256": item.answer_sha256,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    fd = os.open(out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        grades = dict(load(out_dir))
        grades[item.key] = entry
        _write_store(out_dir, grades)
    finally:
        os.close(fd)  # releases the lock
    return entry


def _write_store(out_dir: Path, grades: dict) -> None:
    text = (
        json.dumps(
            {"format": FORMAT, "grades": grades}, indent=1, sort_keys=True, ensure_ascii=False
        )
        + "\n"
    )
    atomic_write(out_dir / STORE, text, fsync=True)
    try:  # make the rename itself durable
        dfd = os.open(out_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------- rendering
_md = None
_styles = None


def _markdown(text: str) -> str:
    global _md
    if _md is None:
        from markdown_it import MarkdownIt

        # raw HTML off: <script>, <img onerror=...> and the like come out as text;
        # markdown-it's validateLink keeps javascript:/vbscript:/data: links out
        _md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return _md.render(text)


def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="hl", style="default")


def _code(text: str) -> str:
    from pygments import highlight
    from pygments.lexers import PythonLexer

    return highlight(text, PythonLexer(), _formatter())  # escapes the code


def _style_defs() -> str:
    global _styles
    if _styles is None:
        _styles = _formatter().get_style_defs(".hl")
    return _styles


def _render(text: str, cell_type: str) -> str:
    return _code(text) if cell_type == "code" else f'<div class="md">{_markdown(text)}</div>'


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _url(item: Item) -> str:
    return (
        "/item/"
        + urllib.parse.quote(item.stem, safe="")
        + "/"
        + urllib.parse.quote(item.grade_id, safe="")
    )


def _pts(x: float) -> str:
    return f"{x:g}"


_CSS = """
body{font-family:system-ui,sans-serif;margin:1rem 2rem;color:#222}
a{color:#0645ad}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.pane{border:1px solid #ccc;border-radius:4px;padding:.5rem 1rem;overflow:auto}
.hl pre{padding:.5rem;overflow:auto}
.error{background:#fdd;border:1px solid #c00;padding:.5rem 1rem}
.notice{background:#ffd;border:1px solid #cc0;padding:.5rem 1rem}
.ok{background:#dfd;border:1px solid #0a0;padding:.5rem 1rem}
.muted{color:#666}
textarea{width:100%;min-height:8rem}
nav a{margin-right:1rem}
"""


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}{_style_defs()}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def _progress_line(items: list[Item]) -> str:
    done, total = progress(items)
    return f'<p id="progress"><strong>{done} of {total} graded</strong></p>'


def _next_ungraded(items: list[Item], after: Item | None = None) -> Item | None:
    start = 0
    if after is not None:
        keys = [it.key for it in items]
        start = keys.index(after.key) + 1 if after.key in keys else 0
    for it in items[start:] + items[:start]:
        if not it.graded and (after is None or it.key != after.key):
            return it
    return None


def _index_page(items: list[Item], message: str = "") -> bytes:
    nxt = _next_ungraded(items)
    rows = []
    for i, it in enumerate(items, 1):
        if it.grade is not None:
            state = f"{_pts(it.grade['points'])} / {_pts(it.max_points)}"
        elif it.stale is not None:
            state = (
                f"ungraded (answer changed; was {_pts(it.stale.get('points', 0))} / "
                f"{_pts(it.max_points)})"
            )
        else:
            state = f"— / {_pts(it.max_points)}"
        rows.append(
            f"<tr><td>{i}</td><td>{_e(it.assignment)}</td><td>{_e(it.notebook)}</td>"
            f'<td><a href="{_e(_url(it))}">{_e(it.grade_id)}</a></td><td>{_e(it.kind)}</td>'
            f"<td>{_e(it.student or it.submission)}</td><td>{state}</td></tr>"
        )
    body = ["<h1>Manual grading</h1>", _progress_line(items)]
    if message:
        body.append(f'<p class="ok">{_e(message)}</p>')
    if nxt is not None:
        body.append(
            f'<p><a id="next-ungraded" href="/next">Next ungraded: {_e(nxt.grade_id)} '
            f"of {_e(nxt.student or nxt.submission)}</a></p>"
        )
    elif items:
        body.append('<p class="ok">Everything is graded.</p>')
    else:
        body.append("<p>Nothing to grade by hand in these results.</p>")
    if items:
        body.append(
            "<table><thead><tr><th>#</th><th>assignment</th><th>notebook</th>"
            "<th>item</th><th>kind</th><th>student</th><th>points</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return _page("Manual grading", "".join(body))


def _item_page(
    items: list[Item],
    item: Item,
    csrf: str,
    error: str = "",
    points: str | None = None,
    comment: str | None = None,
) -> bytes:
    keys = [it.key for it in items]
    i = keys.index(item.key)
    prev_it = items[i - 1] if i > 0 else None
    next_it = items[i + 1] if i + 1 < len(items) else None
    nav = ['<nav><a href="/">Index</a>']
    if prev_it is not None:
        nav.append(f'<a id="prev" href="{_e(_url(prev_it))}">Previous</a>')
    if next_it is not None:
        nav.append(f'<a id="next" href="{_e(_url(next_it))}">Next</a>')
    nav.append('<a href="/next">Next ungraded</a></nav>')
    who = item.student or "(no student name)"
    body = [
        "".join(nav),
        _progress_line(items),
        f'<h1>{_e(item.grade_id)} <span class="muted">({_e(item.kind)}, '
        f"{_pts(item.max_points)} point{'s' if item.max_points != 1 else ''})</span></h1>",
        f'<p>Student: <strong id="student">{_e(who)}</strong>; '
        f"submission <code>{_e(item.submission)}</code>"
        + (f"; assignment {_e(item.assignment)}" if item.assignment else "")
        + (f"; notebook {_e(item.notebook)}" if item.notebook else "")
        + "</p>",
    ]
    if error:
        body.append(f'<p class="error" id="error">{_e(error)}</p>')
    if item.grade is not None:
        body.append(
            f'<p class="ok">Graded: {_pts(item.grade["points"])} / '
            f"{_pts(item.max_points)} (saved {_e(item.grade.get('saved_at', ''))})</p>"
        )
    elif item.stale is not None:
        body.append(
            '<p class="notice">The answer changed since it was graded: ungraded '
            f"again. Earlier: {_pts(item.stale.get('points', 0))} / "
            f"{_pts(item.max_points)}, comment: "
            f"{_e(item.stale.get('comment', '')) or '(none)'}</p>"
        )
    if item.answer.strip():
        answer = _render(item.answer, item.cell_type)
        if item.cell_type != "code":
            answer += (
                f"<details><summary>markdown source</summary><pre>{_e(item.answer)}</pre></details>"
            )
    elif item.kind == "task":
        answer = (
            '<p class="muted">A task: the student\'s work is elsewhere in the '
            f"notebook (<code>{_e(item.submission)}</code>).</p>"
        )
    else:
        answer = '<p class="muted">(empty answer)</p>'
    rubric = (
        _render(item.rubric, item.cell_type)
        if item.rubric.strip()
        else '<p class="muted">(no rubric)</p>'
    )
    body.append(
        '<div class="cols">'
        f'<section class="pane" id="answer"><h2>Student answer</h2>{answer}</section>'
        f'<section class="pane" id="rubric"><h2>Rubric / model solution '
        f"(max {_pts(item.max_points)})</h2>{rubric}</section></div>"
    )
    if points is None:
        points = _pts(item.grade["points"]) if item.grade is not None else ""
    if comment is None:
        comment = item.grade.get("comment", "") if item.grade is not None else ""
    body.append(
        f'<form method="post" action="{_e(_url(item))}">'
        f'<p><label for="points">Points (0 to {_pts(item.max_points)})</label> '
        f'<input type="text" inputmode="decimal" id="points" name="points" '
        f'value="{_e(points)}" autofocus required> / {_pts(item.max_points)}</p>'
        f'<p><label for="comment">Comment for the student</label><br>'
        f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT}">{_e(comment)}'
        f"</textarea></p>"
        f'<input type="hidden" name="answer_sha256" value="{_e(item.answer_sha256)}">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        '<p><button type="submit" id="save">Save and go to the next ungraded</button></p>'
        "</form>"
    )
    return _page(f"{item.grade_id}: {who}", "".join(body))


def _message_page(title: str, message: str, link: str = "/") -> bytes:
    return _page(
        title,
        f'<h1>{_e(title)}</h1><p class="error" id="error">{_e(message)}</p>'
        f'<p><a href="{_e(link)}">Back</a></p>',
    )


# ------------------------------------------------------------------------- server
class ManualServer(ThreadingHTTPServer):
    """The manual-grading page for one grades folder (:func:`make_server`)."""

    daemon_threads = True

    def __init__(self, out_dir: Path, host: str, port: int, on_save: Callable | None):
        import socket

        self.out_dir = Path(out_dir)
        self.on_save = on_save
        self.csrf = secrets.token_urlsafe(32)
        self.save_lock = threading.Lock()  # one save and report rewrite at a time
        self.host_name = host
        if host == "::1":
            self.address_family = socket.AF_INET6
        super().__init__(("::1" if host == "::1" else "127.0.0.1", port), _Handler)
        self.port = self.server_address[1]
        netloc = f"[::1]:{self.port}" if host == "::1" else f"{host}:{self.port}"
        self.url = f"http://{netloc}/"
        names = ["[::1]", "localhost"] if host == "::1" else ["127.0.0.1", "localhost"]
        self.hosts = {f"{n}:{self.port}" for n in names}
        self.origins = {f"http://{h}" for h in self.hosts}


def _check_host(host: str) -> str:
    if host not in LOOPBACK:
        raise ValueError(
            f"refusing to serve on {host!r}: the manual-grading page shows "
            f"student work and listens on loopback only ({', '.join(LOOPBACK)})"
        )
    return host


def make_server(
    out_dir, host: str = "127.0.0.1", port: int = 0, on_save: Callable | None = None
) -> ManualServer:
    """A bound, not yet serving, :class:`ManualServer` (``server.url``; run it with
    ``serve_forever()``, stop it with ``shutdown()`` then ``server_close()``)."""
    _check_host(host)
    out_dir = Path(out_dir)
    queue(out_dir)  # a missing folder or a corrupt store fails now, not on the first page
    return ManualServer(out_dir, host, port, on_save)


def serve(
    out_dir,
    host: str = "127.0.0.1",
    port: int = 0,
    on_save: Callable | None = None,
    ready: Callable | None = None,
) -> None:
    """Serve the manual-grading page for the grades folder ``out_dir`` until Ctrl-C.

    ``host`` must be a loopback name (else ValueError); ``port=0`` picks a free port.
    ``on_save(out_dir)`` runs after every saved grade (to rewrite the reports);
    ``ready(url)`` once the server listens."""
    server = make_server(out_dir, host, port, on_save)
    done, total = progress(queue(server.out_dir))
    print(
        f"manual grading of {server.out_dir}: {done} of {total} graded\n"
        f"open {server.url} in a browser (Ctrl-C to stop)",
        flush=True,
    )
    if ready is not None:
        ready(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: ManualServer
    timeout = 60  # seconds a connection may stay silent
    server_version = "course-manual"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write(f"[manual] {fmt % args}\n")

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        # the stock error page, with the headers above and the message escaped
        try:
            title = HTTPStatus(code).phrase
        except ValueError:
            title = "Error"
        self._send(code, _message_page(f"{code} {title}", message or title))

    def _send(self, code: int, body: bytes, location: str | None = None) -> None:
        self.send_response(code)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(303, _page("Moved", f'<p><a href="{_e(location)}">continue</a></p>'), location)

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        return host in self.server.hosts

    def _origin_ok(self) -> bool:
        """No Origin (an old client), or the served one. Under ``Referrer-Policy:
        no-referrer`` browsers send ``Origin: null`` with the page's own forms; then the
        browser's ``Sec-Fetch-Site`` (which no page can set) must say same-origin."""
        origin = self.headers.get("Origin")
        site = (self.headers.get("Sec-Fetch-Site") or "").strip().lower()
        if site and site != "same-origin":
            return False
        if origin is None:
            return True
        origin = origin.strip().lower()
        if origin == "null":
            return site == "same-origin"
        return origin in self.server.origins

    def _lookup(self, path: str) -> tuple[Item | None, list[Item]]:
        """The item a path names, looked up among the known items only."""
        items = queue(self.server.out_dir)
        if not path.startswith("/item/"):
            return None, items
        parts = path[len("/item/") :].split("/")
        if len(parts) != 2:
            return None, items
        stem, gid = (urllib.parse.unquote(p, errors="strict") for p in parts)
        known = {(it.stem, it.grade_id): it for it in items}
        return known.get((stem, gid)), items

    def _path(self) -> str | None:
        raw = self.path
        if not raw.startswith("/") or raw.startswith("//"):
            return None
        return raw.split("?", 1)[0].split("#", 1)[0]

    def do_GET(self):
        if not self._host_ok():  # DNS rebinding: only the served host name
            return self._send(403, _message_page("403 Forbidden", "unexpected Host header"))
        path = self._path()
        try:
            if path == "/":
                return self._send(200, _index_page(queue(self.server.out_dir)))
            if path == "/next":
                nxt = _next_ungraded(queue(self.server.out_dir))
                return self._redirect(_url(nxt) if nxt is not None else "/")
            if path is not None:
                item, items = self._lookup(path)
                if item is not None:
                    return self._send(200, _item_page(items, item, self.server.csrf))
        except UnicodeDecodeError:
            pass
        except (ManualError, OSError) as exc:
            return self._send(500, _message_page("500 Error", str(exc)))
        return self._send(404, _message_page("404 Not Found", "no such page"))

    def do_POST(self):
        if not self._host_ok():
            return self._send(403, _message_page("403 Forbidden", "unexpected Host header"))
        if not self._origin_ok():
            return self._send(
                403,
                _message_page(
                    "403 Forbidden", f"a form from another origin ({self.headers.get('Origin')})"
                ),
            )
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._send(411, _message_page("411 Length Required", "no Content-Length"))
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            return self._send(413, _message_page("413 Too Large", "the form is too large"))
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        raw = self.rfile.read(length)
        if ctype != "application/x-www-form-urlencoded":
            return self._send(415, _message_page("415 Unsupported", "expected a form post"))
        try:
            form = urllib.parse.parse_qs(
                raw.decode("utf-8"), keep_blank_values=True, max_num_fields=16
            )
        except (UnicodeDecodeError, ValueError):
            return self._send(400, _message_page("400 Bad Request", "unreadable form"))
        field = {k: v[0] for k, v in form.items() if len(v) == 1}
        token = field.get("csrf", "")
        if not hmac.compare_digest(token.encode("utf-8"), self.server.csrf.encode()):
            return self._send(
                403, _message_page("403 Forbidden", "missing or wrong form token: reload the page")
            )
        path = self._path()
        try:
            item, items = self._lookup(path) if path is not None else (None, [])
        except UnicodeDecodeError:
            item = None
        except (ManualError, OSError) as exc:
            return self._send(500, _message_page("500 Error", str(exc)))
        if item is None:
            return self._send(404, _message_page("404 Not Found", "no such item"))
        points, comment = field.get("points", ""), field.get("comment", "")
        comment = comment.replace("\r\n", "\n")
        with self.server.save_lock:
            try:
                save(
                    self.server.out_dir,
                    item.stem,
                    item.grade_id,
                    points,
                    comment,
                    field.get("answer_sha256", ""),
                )
            except StaleAnswer as exc:
                return self._send(409, _message_page("409 Conflict", str(exc), _url(item)))
            except UnknownItem as exc:
                return self._send(404, _message_page("404 Not Found", str(exc)))
            except ManualError as exc:
                return self._send(
                    400,
                    _item_page(
                        items, item, self.server.csrf, str(exc), points=points, comment=comment
                    ),
                )
            except OSError as exc:
                return self._send(500, _message_page("500 Error", f"not saved: {exc}"))
            if self.server.on_save is not None:
                try:
                    self.server.on_save(self.server.out_dir)
                except Exception as exc:  # the grade is saved; say what failed after
                    self.log_message("on_save failed: %s", exc)
                    return self._send(
                        500,
                        _message_page(
                            "Saved, but the reports were not updated",
                            f"the grade was saved, but rewriting the reports failed: "
                            f"{type(exc).__name__}: {exc}",
                            "/next",
                        ),
                    )
        nxt = _next_ungraded(queue(self.server.out_dir), item)
        return self._redirect(_url(nxt) if nxt is not None else "/")
