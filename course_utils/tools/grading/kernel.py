"""One Jupyter kernel driven over the messaging protocol, with hard time limits.

The verdict on a cell is the kernel's ``execute_reply`` status, read by the grader
from the shell channel, never anything the cell prints. Before each test cell the
grader runs a trusted *reset* that undoes the IPython hooks student code could use
to swallow exceptions or rewrite the test (custom exception handlers, input and
AST transformers, event callbacks, trace functions) and reports whether IPython's
execution machinery itself was replaced.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from course_utils.tools.grading import sandbox as sb

# CPython 3.11's AST conversion is not safe in parallel threads: its recursion counter is
# shared, and two threads building AST objects at once fail with "SystemError: AST
# constructor recursion depth mismatch" (seen with --jobs 2: the integrity scan of one
# submission while numpy read the header of another one's array with ast.literal_eval).
# serialize_ast() makes every ast.parse of the grader's process (literal_eval, numpy's
# .npy headers and the traceback module included) hold this lock.
AST_LOCK = threading.RLock()
_ast_parse = None


def serialize_ast() -> None:
    """Wrap ``ast.parse`` once, process-wide, so that only one thread at a time builds an
    AST (what the functions above the grader's own code call, such as
    ``ast.literal_eval``, look ``parse`` up in the ``ast`` module at each call)."""
    import ast

    global _ast_parse
    if _ast_parse is not None:
        return
    _ast_parse = ast.parse

    def parse(*args, **kwargs):
        with AST_LOCK:
            return _ast_parse(*args, **kwargs)

    parse.__doc__ = _ast_parse.__doc__
    parse.__wrapped__ = _ast_parse
    ast.parse = parse


@dataclass
class CellRun:
    status: str  # "ok" | "error" | "timeout" | "died"
    seconds: float
    ename: str = ""
    evalue: str = ""
    outputs: list = field(default_factory=list)
    truncated: bool = False
    user_expressions: dict = field(default_factory=dict)


# Run silently right after the kernel starts, before any student code: it keeps
# what the reset must restore in a closure, under a name drawn per kernel.
_PREAMBLE = r"""
def __grader_make_reset(NONCE="{nonce}"):
    import builtins, sys
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    saved = {
        "cleanup": list(ip.input_transformers_cleanup),
        "post": list(ip.input_transformers_post),
        "ast": list(ip.ast_transformers),
        "callbacks": {k: list(v) for k, v in ip.events.callbacks.items()},
        "excepthook": sys.excepthook,
        "displayhook": sys.displayhook,
    }
    shell_names = ("run_cell", "run_cell_async", "should_run_async", "run_code",
                   "run_ast_nodes", "showtraceback", "_showtraceback", "transform_cell",
                   "transform_ast", "user_expressions", "ev", "set_custom_exc")
    kernel_names = ("do_execute", "execute_request", "send_response", "dispatch_shell",
                    "process_one", "send", "serialize", "sign", "msg")

    def snapshot(obj, names):
        # every class on the MRO: a patch of a base class counts too
        if obj is None:
            return {}
        found = {(k.__module__, k.__qualname__, n): k.__dict__.get(n)
                 for k in type(obj).__mro__ for n in names if n in k.__dict__}
        found.update({("instance", type(obj).__qualname__, n): vars(obj).get(n)
                      for n in names if n in vars(obj)})
        return found

    watched = [(ip, shell_names), (kernel, kernel_names),
               (getattr(kernel, "session", None), kernel_names)]
    methods = {}
    for obj, names in watched:
        methods.update(snapshot(obj, names))

    def reset():
        ip.input_transformers_cleanup[:] = saved["cleanup"]
        ip.input_transformers_post[:] = saved["post"]
        ip.ast_transformers[:] = saved["ast"]
        for k, v in saved["callbacks"].items():
            ip.events.callbacks[k][:] = v
        ip.set_custom_exc((), None)
        sys.settrace(None)
        sys.setprofile(None)
        sys.excepthook = saved["excepthook"]
        tampered = []
        for obj, names in watched:
            if obj is None:
                continue
            now = snapshot(obj, names)
            owners = {(c.__module__, c.__qualname__) for c in type(obj).__mro__}
            owners.add(("instance", type(obj).__qualname__))
            tampered += [f"{k[1]}.{k[2]}" for k in set(now) | set(methods)
                         if k[:2] in owners and k[2] in names and now.get(k) is not methods.get(k)]
        return [NONCE] + sorted(set(tampered))
    return reset

setattr(__import__("builtins"), "{name}", __grader_make_reset())
del __grader_make_reset
"""


# Run first of all in a sandboxed kernel: an audit hook (which no Python code can
# remove) that reports, through a pipe only the grader reads, every file the kernel
# opens or lists outside the folders it is expected to use. The report makes a flag
# for a human; the sandbox, not the hook, is what keeps those files out of reach.
_AUDIT = r"""
def __grader_audit():
    import os, sys
    fd = int(os.environ.pop("COURSE_AUDIT_FD", "-1"))
    allowed = tuple(p for p in os.environ.pop("COURSE_AUDIT_ALLOW", "").split(os.pathsep) if p)
    if fd < 0:
        return
    write, fspath, normpath, join, getcwd = os.write, os.fspath, os.path.normpath, os.path.join, os.getcwd
    realpath = os.path.realpath
    seen = set()
    def hook(event, args, _events={"open", "os.listdir", "os.scandir", "glob.glob", "os.walk"},
             _spawn={"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"},
             _benign={"ldconfig", "fc-list", "fc-match", "uname", "nvidia-smi", "lscpu"}):
        if event in _spawn:
            try:
                argv = args[1] if event == "subprocess.Popen" else args[0]
                first = argv[0] if isinstance(argv, (list, tuple)) and argv else argv
                if str(first).rsplit("/", 1)[-1] in _benign:  # libraries probing the system
                    return
                what = event + " " + repr(argv)[:200]
            except Exception:
                what = event
            if what not in seen and len(seen) <= 1000:
                seen.add(what)
                try:
                    write(fd, (what.replace("\n", " ") + "\n").encode("utf-8", "replace"))
                except OSError:
                    pass
            return
        if event not in _events or not args:
            return
        path = args[0]
        if path is None or isinstance(path, int):
            return
        try:
            path = fspath(path)
            if isinstance(path, bytes):
                path = path.decode("utf-8", "replace")
            path = normpath(join(getcwd(), path))
            if path.startswith(allowed):
                if path.startswith("/proc/") and "/root" not in path and "/cwd" not in path:
                    return  # /proc/self/stat, /proc/cpuinfo and the like
                real = realpath(path)  # a link made in the work folder, /proc/self/root/...
                if real.startswith(allowed) and not real.startswith("/proc/"):
                    return
                path = path + " -> " + real
        except Exception:
            return
        if path in seen or len(seen) > 1000:
            return
        seen.add(path)
        try:
            write(fd, (event + " " + path + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
    sys.addaudithook(hook)
__grader_audit()
del __grader_audit
"""


class Kernel:
    """A kernel in a sandbox (or, for self-checks, without one)."""

    def __init__(
        self,
        workdir: Path,
        level: str | None,
        limits: sb.Limits,
        hide: list[str] = (),
        env: dict | None = None,
        startup_timeout: float = 60.0,
        binds: list = (),
        files: list = (),
    ):
        self.workdir = Path(workdir)
        # (path, relative name): the assignment's data files, copied into the work
        # folder at every start (a restart empties it)
        self.files = list(files)
        self.level = level
        self.limits = limits
        self.hide = list(hide)
        self.binds = [list(b) for b in binds]
        self.env = dict(os.environ if env is None else env)
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.client: BlockingKernelClient | None = None
        self.reset_name = "_grader_reset_" + secrets.token_hex(8)
        # the grader's functions in the kernel answer with this first: a stand-in
        # installed by a submission does not know it
        self.nonce = secrets.token_hex(16)
        self.restore_name = "_grader_restore_" + secrets.token_hex(8)
        self.snapshotted = False  # integrity snapshot taken in this kernel's life
        self.restarts = 0
        self.outside_reads: list[str] = []  # what the audit hook reported (all starts)
        self.outbox = None  # checks.Outbox of the checks folder (sandboxed kernels)
        self._audit_threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        for path, rel in self.files:
            dest = self.workdir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        if self.level is not None:
            self._fresh_outbox()
        conn_dir = Path(tempfile.mkdtemp(prefix="k", dir=self.workdir))
        conn_file = conn_dir / "kernel.json"
        write_connection_file(str(conn_file), transport="ipc", ip=str(conn_dir / "s"))
        os.chmod(conn_file, 0o644)
        if self.level is None:
            cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn_file)]
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            spec_file = conn_dir / "sandbox.json"
            read_end, write_end = os.pipe()
            env = dict(
                self.env,
                COURSE_AUDIT_FD=str(write_end),
                COURSE_AUDIT_ALLOW=os.pathsep.join(self.expected_paths()),
            )
            spec = sb.SandboxSpec(
                str(self.workdir),
                self.hide,
                self.limits,
                sb.user_task_count(os.getuid()),
                env,
                self.binds,
                home="/tmp/home" if self.level == sb.STRONG else "",
            )
            sb.write_spec(spec, spec_file)
            cmd = sb.kernel_command(spec_file, conn_file, self.level, spec)
            try:
                self.proc = subprocess.Popen(
                    cmd,
                    cwd=self.workdir,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                    pass_fds=[write_end],
                )
            finally:
                os.close(write_end)
            reader = threading.Thread(target=self._read_audit, args=(read_end,), daemon=True)
            reader.start()
            self._audit_threads.append(reader)
        client = BlockingKernelClient()
        client.load_connection_file(str(conn_file))
        client.start_channels()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                err = (
                    self.proc.stderr.read().decode(errors="replace")[-2000:]
                    if self.proc.stderr
                    else ""
                )
                raise RuntimeError(
                    f"the kernel exited at start (code {self.proc.returncode}): {err}"
                )
            try:
                client.wait_for_ready(timeout=2)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("the kernel did not start in time") from None
        self.client = client
        if self.level is not None:
            run = self.execute(_AUDIT, timeout=60, silent=True)
            if run.status != "ok":
                raise RuntimeError(f"the grader's audit hook failed: {run.ename}: {run.evalue}")
        run = self.execute(
            _PREAMBLE.replace("{name}", self.reset_name).replace("{nonce}", self.nonce),
            timeout=60,
            silent=True,
        )
        if run.status != "ok":
            raise RuntimeError(f"the grader's preamble failed: {run.ename}: {run.evalue}")

    def expected_paths(self) -> list[str]:
        """Where a kernel reads without raising a flag: its work folder, the system,
        the Python installation, the data view and the pseudo file systems."""
        paths = [
            str(self.workdir),
            "/usr",
            "/etc",
            "/proc",
            "/dev",
            "/sys",
            "/tmp",
            "/course",
            "/bin",
            "/lib",
            "/lib64",
            "/sbin",
            "/opt",
            *sb.python_dirs(),
        ]
        paths += [str(dest) for _, dest in self.binds]
        return sorted(set(paths))

    def _read_audit(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            for raw in pipe:
                if len(self.outside_reads) < 200:
                    self.outside_reads.append(raw.decode("utf-8", "replace").rstrip()[:300])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    def restart(self) -> None:
        """A new kernel in an emptied work folder: the grader replays the cells that
        had run, so nothing a submission planted for the next kernel survives."""
        self.kill()
        self.restarts += 1
        self.snapshotted = False
        if self.level is not None:
            for entry in list(self.workdir.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        self.start()

    def _fresh_outbox(self) -> None:
        """The checks folder, opened before the kernel can touch it."""
        from course_utils.tools.grading import checks

        if self.outbox is not None:
            self.outbox.close()
        folder = self.workdir / ".course_checks"  # new: the work folder is new or emptied
        folder.mkdir()
        self.outbox = checks.Outbox(folder)

    # ------------------------------------------------------------------ execution
    def execute(
        self, code: str, timeout: float, silent: bool = False, user_expressions: dict | None = None
    ) -> CellRun:
        """Run ``code``; return its status from the shell reply, with outputs."""
        client = self.client
        start = time.monotonic()
        deadline = start + timeout
        # 'silent' here means: no history and no execution count; outputs still come
        msg_id = client.execute(
            code,
            silent=False,
            store_history=not silent,
            allow_stdin=False,
            stop_on_error=False,
            user_expressions=user_expressions or {},
        )
        outputs, size, truncated = [], 0, False
        idle = False
        reply = None
        while True:
            now = time.monotonic()
            if now > deadline:
                return CellRun("timeout", now - start, outputs=outputs, truncated=truncated)
            if not self.alive():
                return CellRun("died", now - start, outputs=outputs, truncated=truncated)
            if not idle:
                try:
                    msg = client.get_iopub_msg(timeout=min(0.5, max(deadline - now, 0.01)))
                except queue.Empty:
                    msg = None
                if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                    kind = msg["msg_type"]
                    if kind == "status" and msg["content"]["execution_state"] == "idle":
                        idle = True
                    elif kind in ("stream", "display_data", "execute_result", "error"):
                        try:
                            blob = len(json.dumps(msg["content"], default=str))
                        except (RecursionError, ValueError, TypeError):
                            blob = None  # unreadable (e.g. nested 1,000 deep): dropped
                        if blob is not None and size + blob <= self.limits.max_output_bytes:
                            size += blob
                            try:
                                outputs.append(nbformat.v4.output_from_msg(msg))
                            except (ValueError, RecursionError):
                                pass
                        else:
                            truncated = True
                    elif kind == "clear_output":
                        outputs.clear()
                        size = 0
                if not idle:
                    continue
            try:
                msg = client.get_shell_msg(timeout=min(0.5, max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]
                break
        seconds = time.monotonic() - start
        if reply.get("status") == "ok":
            return CellRun(
                "ok",
                seconds,
                outputs=outputs,
                truncated=truncated,
                user_expressions=reply.get("user_expressions") or {},
            )
        return CellRun(
            "error",
            seconds,
            reply.get("ename", ""),
            str(reply.get("evalue", ""))[:2000],
            outputs=outputs,
            truncated=truncated,
        )

    def snapshot(self, extra_modules=()) -> None:
        """Take the integrity snapshot (:mod:`course_utils.tools.grading.integrity`): run
        once per kernel, after the instructor's setup cells and before any answer."""
        from course_utils.tools.grading import integrity

        source = integrity.snapshot_source(self.restore_name, extra_modules)
        # restore() answers with the nonce first, as the hook reset does
        marker = "        return _sorted(_set(found))"
        if source.count(marker) != 1:
            raise RuntimeError("integrity.SNAPSHOT_SOURCE changed: restore's return not found")
        source = source.replace(marker, f"        return [{self.nonce!r}] + _sorted(_set(found))")
        run = self.execute(source, timeout=120, silent=True)
        if run.status != "ok":
            raise RuntimeError(
                f"the grader's integrity snapshot failed: {run.ename}: {run.evalue[:300]}"
            )
        self.snapshotted = True

    def restore_integrity(self) -> list[str] | None:
        """Put back what a submission patched in the libraries tests rely on; return
        what that was (None when the restore did not answer as expected)."""
        if not self.snapshotted:
            return []
        run = self.execute(
            "", timeout=60, silent=True, user_expressions={"restore": f"{self.restore_name}()"}
        )
        return _list_answer(run, "restore", self.nonce)

    def reset_hooks(self) -> list[str] | None:
        """Undo student hooks before a test; return what was found replaced
        (None when the reset did not answer as expected).

        The reset is evaluated as a *user expression* of an empty execute request:
        IPython evaluates those directly, so input and AST transformers installed
        by the submission cannot rewrite it.
        """
        run = self.execute(
            "", timeout=30, silent=True, user_expressions={"reset": f"{self.reset_name}()"}
        )
        return _list_answer(run, "reset", self.nonce)


def _list_answer(run: CellRun, name: str, nonce: str) -> list[str] | None:
    """A list of strings evaluated as a user expression, or None when the kernel's
    answer is anything else (a sign that the grader's code there was tampered with)."""
    answer = run.user_expressions.get(name) or {}
    if run.status != "ok" or answer.get("status") != "ok":
        return None
    text = (answer.get("data") or {}).get("text/plain", "")
    if len(text) > 200_000:
        return None
    try:
        with AST_LOCK:
            found = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(found, list) or not all(isinstance(x, str) for x in found):
        return None
    if not found or found[0] != nonce:
        return None
    return [x[:200] for x in found[1:]]
