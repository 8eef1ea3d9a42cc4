"""The sandbox a submission's kernel runs in.

The grader starts every kernel through ``unshare`` with new network, mount and PID
namespaces, and through this module's launcher, which inside those namespaces

- hides the folders students must not read (the homework sources with the hidden
  tests, the repository's ``.git``, the submissions, the grader's output) under
  empty read-only tmpfs mounts;
- makes every file system read-only except the submission's own work folder and a
  private ``/dev/shm``;
- drops every capability (bounding set included) and sets ``no_new_privs``, so the
  kernel cannot undo the mounts, gain privileges through set-uid programs, or escape
  the process limit;
- sets resource limits: data memory (heap and private mappings), processes and threads, file size,
  open files, no core dumps;
- execs the Jupyter kernel as PID 1 of its namespace with the CPU only, one BLAS
  thread and a fixed hash seed. ``unshare --kill-child`` kills it when the grader
  kills ``unshare``, and with it every process the submission started.

Levels (``probe()`` tells which one this machine gives):

``bwrap``       bubblewrap (Debian's ``bubblewrap``) is installed and works: an
                **allow-list** sandbox. The kernel's file system is built from
                nothing: the system folders (``/usr``, ``/etc``), the Python
                installation and the ``course_utils`` package read-only, the data the
                homework declares read-only (see :class:`Bind`), its own work folder
                read-write, a private ``/tmp``, ``/proc`` and ``/dev``. Home folders,
                the temporary folder, other checkouts, other runs' submissions and
                gradebooks, the sources and answer keys do not exist inside. New
                user, network, PID, IPC and UTS namespaces, no capabilities, a new
                session; it dies with the grader (``--die-with-parent``).
``namespaces``  no bubblewrap, but ``unshare`` works (as root, or as a user with unprivileged user
                namespaces through ``--map-root-user``): everything above.
                This is a **deny-list**: everything not hidden stays readable, so the
                grader treats it as weak.
``rlimits``     no ``unshare``: resource limits only. The submission could reach
                the network and read the source notebook.

The grader refuses the two weak levels unless ``allow_weak=True``
(``--allow-weak-sandbox``), and records the level in every result.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38


@dataclass
class Limits:
    cell_timeout: float = 120.0  # seconds per cell
    notebook_timeout: float = 900.0  # seconds per submission, restarts included
    memory_mb: int = 4096  # data memory (heap, private mappings) of each process
    max_tasks: int = 256  # processes and threads
    file_size_mb: int = 256  # largest file the submission may write
    max_output_bytes: int = 2_000_000  # outputs kept per cell; the rest is dropped
    max_restarts: int = 4
    threads: int = 1  # OpenMP/BLAS threads of the kernel (torch's default follows them)

    def __post_init__(self) -> None:
        thread_env(self.threads)  # a bad value fails here, not in the kernel's launch


@dataclass
class SandboxSpec:
    workdir: str
    hide: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    env_tasks: int = 0  # tasks this user already runs (the process limit is per user)
    env: dict = field(default_factory=dict)
    binds: list = field(default_factory=list)  # [source, destination] pairs, read-only (bwrap)
    home: str = ""  # HOME and the IPython/matplotlib folders; "" = the work folder


STRONG = "bwrap"
WEAK = ("namespaces", "rlimits")
# What every kernel needs from the system, read-only (bwrap level).
SYSTEM_DIRS = ("/usr", "/etc", "/opt")


@functools.lru_cache(maxsize=1)
def probe() -> str:
    """The strongest sandbox level this machine supports."""
    bwrap = shutil.which("bwrap")
    if bwrap is not None:
        try:
            ok = (
                subprocess.run(
                    _bwrap_base(bwrap) + ["/bin/true"], capture_output=True, timeout=20
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return "bwrap"
    unshare = shutil.which("unshare")
    if unshare is None:
        return "rlimits"
    flags = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        flags.insert(0, "--map-root-user")
    try:
        ok = (
            subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=20).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        return "rlimits"
    return "namespaces"


def _bwrap_base(bwrap: str) -> list[str]:
    args = [
        bwrap,
        "--die-with-parent",
        "--unshare-all",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for d in SYSTEM_DIRS:
        if Path(d).is_dir():
            args += ["--ro-bind", d, d]
    return args


def python_dirs() -> list[str]:
    """The Python installation and the packages a kernel imports, nothing else."""
    import course_utils

    found = {
        os.path.realpath(sys.base_prefix),
        os.path.realpath(sys.prefix),
        str(Path(course_utils.__file__).resolve().parent),
    }
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and ("site-packages" in real or "dist-packages" in real):
            found.add(real)
    # the interpreter the venv links to
    found.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    roots = sorted(found)
    # keep only the outermost folders, and never a folder that holds the repository
    keep = [
        r for r in roots if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in roots)
    ]
    return [r for r in keep if r not in ("/", "/root", "/home", "/tmp", "/work")]


def bwrap_command(spec: SandboxSpec, launcher: list[str]) -> list[str]:
    """The allow-list sandbox: only what the spec names exists inside."""
    args = _bwrap_base(shutil.which("bwrap") or "bwrap")
    system = set(SYSTEM_DIRS)
    for d in python_dirs():
        if not any(d == s or d.startswith(s + "/") for s in system):
            args += ["--ro-bind", d, d]
    for src, dest in spec.binds:
        args += ["--ro-bind", str(src), str(dest)]
    args += ["--bind", spec.workdir, spec.workdir, "--chdir", spec.workdir]
    return args + launcher


def kernel_command(
    spec_file: Path, connection_file: Path, level: str, spec: SandboxSpec | None = None
) -> list[str]:
    # -P: the work folder (the kernel's cwd) is not put first on sys.path, so a module a
    # submission wrote there (json.py, ipykernel_launcher.py) is not what starts next time
    launcher = [
        sys.executable,
        "-P",
        "-m",
        "course_utils.tools.grading.sandbox",
        "--spec",
        str(spec_file),
        "--",
        sys.executable,
        "-P",
        "-m",
        "ipykernel_launcher",
        "-f",
        str(connection_file),
    ]
    if level == "rlimits":
        return launcher
    if level == "bwrap":
        return bwrap_command(spec, launcher)
    flags = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if level == "namespaces":
        flags.insert(0, "--map-root-user")
    return [shutil.which("unshare") or "unshare", *flags, *launcher]


def write_spec(spec: SandboxSpec, path: Path) -> None:
    path.write_text(json.dumps(asdict(spec)))


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        points.append(point)
    return points


def _lock_filesystems(workdir: str, hide: list[str]) -> None:
    """Hide, then make everything read-only but the work folder and /dev/shm."""
    for p in hide:
        if os.path.isdir(p):
            _mount("-t", "tmpfs", "-o", "ro,size=16k,mode=0555", "tmpfs", p)
        elif os.path.exists(p):
            _mount("--bind", "-o", "ro", "/dev/null", p)
    _mount("--bind", workdir, workdir)
    _mount("-t", "tmpfs", "-o", "size=256m,mode=1777", "tmpfs", "/dev/shm")
    skip = {workdir, "/dev/shm", "/proc", "/dev", "/dev/pts"}
    for point in _mount_points():
        if point in skip or point.startswith("/proc/") or point in hide:
            continue
        try:
            _mount("-o", "remount,bind,ro", point)
        except subprocess.CalledProcessError:
            pass  # e.g. a mount we may not touch; the capability drop still holds


def _drop_privileges() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last capability

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _limit(name: int, value: int) -> None:
    soft, hard = resource.getrlimit(name)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(name, (value, value))


def user_task_count(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count


def launch(spec: SandboxSpec, argv: list[str]) -> None:
    """Inside the namespaces: hide, lock, limit, drop privileges, exec the kernel."""
    in_namespace = os.getpid() == 1  # unshare's level: the launcher hides and locks
    if in_namespace:
        _lock_filesystems(spec.workdir, spec.hide)
        _drop_privileges()
    lim = spec.limits
    # RLIMIT_DATA (heap and private writable mappings) rather than RLIMIT_AS: torch's
    # shared libraries alone map over 3 GB of address space without using it
    _limit(resource.RLIMIT_DATA, lim.memory_mb * 2**20)
    _limit(resource.RLIMIT_FSIZE, lim.file_size_mb * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 1024)
    # per user: leave room for the tasks the user already runs outside the sandbox
    _limit(resource.RLIMIT_NPROC, spec.env_tasks + lim.max_tasks)
    if in_namespace:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.chdir(spec.workdir)
    env = dict(spec.env)
    # bwrap level: HOME (IPython's startup files, matplotlib's and Jupyter's folders) is
    # in the sandbox's private /tmp, new at every kernel start, so nothing planted
    # there survives a restart
    home = spec.home or spec.workdir
    os.makedirs(home, exist_ok=True)
    env.update(
        {
            "HOME": home,
            "TMPDIR": spec.workdir,
            "PYTHONHASHSEED": "0",
            "CUDA_VISIBLE_DEVICES": "",
            **thread_env(lim.threads),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "JUPYTER_PLATFORM_DIRS": "1",
            "IPYTHONDIR": os.path.join(home, ".ipython"),
            "MPLCONFIGDIR": os.path.join(home, ".mpl"),
        }
    )
    for var in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONSAFEPATH"):
        env.pop(var, None)
    os.execvpe(argv[0], argv, env)


def thread_env(threads: int) -> dict[str, str]:
    """The variables that give the kernel ``threads`` OpenMP/BLAS threads; torch reads
    ``OMP_NUM_THREADS`` for its default, so a notebook that does not set its own threads
    (full mode) computes with this many."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads: expected a whole number of 1 or more, found {threads!r}")
    n = str(threads)
    return {"OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="course grader sandbox launcher (internal)")
    parser.add_argument("--spec", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    raw = json.loads(Path(args.spec).read_text())
    raw["limits"] = Limits(**raw["limits"])
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    launch(SandboxSpec(**raw), command)


if __name__ == "__main__":
    main()
