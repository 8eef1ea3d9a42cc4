"""Trusted checks: values leave the student's kernel as plain data and are judged
outside it.

Student code runs in the kernel and can change anything there (the functions a
test calls, the objects it compares, ``numpy.allclose`` itself). So a hidden test
does not decide inside the kernel. It *sends values out*::

    from course_utils.tools.grading.checks import submit
    submit("idf_zero_counts", compute_idf(np.zeros((4, 2))))

and the grader compares them, in its own process, with the answer key that
``course release`` made by running the reference solution (``NAME.key.json``
beside the source, hidden from the sandbox like the source itself).

Only plain data crosses: ``None``, ``bool``, ``int``, ``float``, ``str``, lists,
dicts with string keys, and arrays (numpy or torch, numeric or boolean dtypes,
sent as ``.npy`` files read back with ``allow_pickle=False``). The grader applies
the type, shape, dtype and tolerance rules itself, with the tolerances recorded in
the key; nothing the kernel sends can change how a value is compared. The worst a
submission can do is send wrong values.

Outside a grading run (``COURSE_CHECKS`` unset) :func:`submit` does nothing, so the
instructor's source runs anywhere.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

MIME = "application/vnd.course-check+json"
ENV = "COURSE_CHECKS"  # the folder (inside the work folder) that carries arrays
INLINE_MAX = 64  # arrays up to this many elements travel inside the message
MAX_ARRAY_BYTES = 64 * 2**20
MAX_DEPTH = 8
NPY_NAME = re.compile(r"[0-9a-f]{32}\.npy")
ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats


class CheckError(ValueError):
    """A value cannot be sent to, or was not understood by, the grader."""


# ====================================================================== kernel side
def to_plain(value, folder: Path | None = None, depth: int = 0):
    """``value`` as JSON-able plain data; arrays larger than INLINE_MAX go to
    ``folder`` as .npy files. Raises CheckError for any other type."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise CheckError(f"values nested more than {MAX_DEPTH} levels deep cannot be sent")
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return _float_out(value)
    if isinstance(value, np.generic):
        return to_plain(value.item(), folder, depth + 1)
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().to("cpu").resolve_conj().resolve_neg().numpy()
        value = np.array(value, copy=True)  # a plain ndarray, never a subclass
    if isinstance(value, np.ndarray):
        arr = np.array(value, copy=True, subok=False)
        if arr.dtype.kind not in ARRAY_KINDS:
            raise CheckError(f"arrays of dtype {arr.dtype} cannot be sent (numeric or bool only)")
        if arr.size <= INLINE_MAX or folder is None:
            return {
                "__array__": {
                    "dtype": arr.dtype.str,
                    "shape": list(arr.shape),
                    "data": [
                        _float_out(x) if isinstance(x, float) else x for x in arr.ravel().tolist()
                    ],
                }
            }
        name = secrets.token_hex(16) + ".npy"
        if isinstance(folder, Outbox):
            folder.save_npy(name, arr)
        else:
            np.save(Path(folder) / name, arr, allow_pickle=False)
        return {"__npy__": name}
    if type(value) in (list, tuple):
        return [to_plain(v, folder, depth + 1) for v in value]
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str or k.startswith("__"):
                raise CheckError("dict keys must be strings that do not start with '__'")
            out[k] = to_plain(v, folder, depth + 1)
        return out
    # subclasses of the plain types: read through the base type's own methods, so
    # overridden __eq__, __iter__, __float__ and the like play no part
    if isinstance(value, dict):
        return to_plain(
            {str.__str__(k) if isinstance(k, str) else k: v for k, v in dict.items(value)},
            folder,
            depth + 1,
        )
    if isinstance(value, (list, tuple)):
        base = list if isinstance(value, list) else tuple
        return [to_plain(v, folder, depth + 1) for v in base.__iter__(value)]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _float_out(float.__float__(value))
    raise CheckError(
        f"a value of type {type(value).__module__}.{type(value).__qualname__} "
        "cannot be sent to the grader: convert it to a number, a string, a "
        "list, a dict or an array first"
    )


def _float_out(x: float):
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _torch():
    import sys

    return sys.modules.get("torch")


def submit(name: str, value, *, atol: float | None = None, rtol: float | None = None) -> None:
    """Send ``value`` to the grader under ``name`` (a no-op outside grading).

    ``atol``/``rtol`` only count when the answer key is made (``course release``
    records them from the reference run); at grading time the key's tolerances are
    used, whatever the kernel sends.
    """
    folder = os.environ.get(ENV)
    if not folder:
        return
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise CheckError(f"a check name is letters, digits, '_', '-' or '.', found {name!r}")
    payload = {"name": name, "value": to_plain(value, Path(folder)), "atol": atol, "rtol": rtol}
    from IPython.display import publish_display_data

    publish_display_data({MIME: payload})


def call_and_submit(token: str, target: str) -> None:
    """Run by the grader: ``target(*args)`` with the arguments it wrote under
    ``token``, the result sent back under ``token``."""
    import __main__

    folder = Path(os.environ[ENV])
    args = from_plain(json.loads((folder / f"{token}.json").read_text()), folder)
    obj = __main__.__dict__
    parts = target.split(".")
    func = obj[parts[0]] if parts[0] in obj else getattr(__import__("builtins"), parts[0])
    for part in parts[1:]:
        func = getattr(func, part)
    submit(token, func(*args))


# ====================================================================== grader side
class Outbox:
    """The folder arrays cross through, as the grader opened it before the kernel
    started: every later access goes through that directory descriptor and refuses
    symbolic links, so a kernel that swaps the folder or a file in it for a link
    cannot make the grader read or write anywhere else."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)

    def read_npy(self, name: str):
        import stat

        import numpy as np

        if not NPY_NAME.fullmatch(name):
            raise CheckError(f"bad array reference {name!r}")
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
        except OSError:
            raise CheckError(f"the array file {name} is missing") from None
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CheckError(f"the array file {name} is not a regular file")
            if info.st_size > MAX_ARRAY_BYTES:
                raise CheckError(f"the array file {name} is over {MAX_ARRAY_BYTES // 2**20} MB")
            return np.load(fh, allow_pickle=False)

    def write_text(self, name: str, text: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_]+\.json", name):
            raise ValueError(f"bad file name {name!r}")
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=self.fd
        )
        with os.fdopen(fd, "w") as fh:
            fh.write(text)

    def save_npy(self, name: str, arr) -> None:
        import numpy as np

        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=self.fd
        )
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def from_plain(data, folder: Path | None = None, depth: int = 0):
    """Decode plain data (as ``to_plain`` wrote it) into Python values and plain
    ndarrays. Anything else raises CheckError: this runs on what the kernel sent."""
    import numpy as np

    if depth > MAX_DEPTH + 2:
        raise CheckError("too deeply nested")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [from_plain(v, folder, depth + 1) for v in data]
    if type(data) is not dict:
        raise CheckError(f"unexpected {type(data).__name__} in a message")
    if set(data) == {"__float__"}:
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[str(data["__float__"])]
    if set(data) == {"__array__"}:
        spec = data["__array__"]
        dtype = np.dtype(str(spec["dtype"]))
        if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
            raise CheckError(f"arrays of dtype {dtype} are not accepted")
        shape = tuple(int(s) for s in spec["shape"])
        values = [from_plain(v, None, depth + 1) for v in spec["data"]]
        if any(type(v) not in (bool, int, float) for v in values):
            raise CheckError("an inline array holds something other than numbers")
        return np.array(values, dtype=dtype).reshape(shape)
    if set(data) == {"__npy__"}:
        name = str(data["__npy__"])
        if folder is None or not NPY_NAME.fullmatch(name):
            raise CheckError(f"bad array reference {name!r}")
        box = folder if isinstance(folder, Outbox) else Outbox(folder)
        try:
            arr = box.read_npy(name)
        finally:
            if box is not folder:
                box.close()
        if arr.dtype.kind not in ARRAY_KINDS:
            raise CheckError(f"arrays of dtype {arr.dtype} are not accepted")
        return np.array(arr, copy=True)
    if any(k.startswith("__") for k in data):
        raise CheckError(f"unknown tagged value {sorted(data)}")
    return {k: from_plain(v, folder, depth + 1) for k, v in data.items()}


DEFAULT_ATOL, DEFAULT_RTOL = 1e-6, 1e-5


def compare(
    expected, received, atol: float | None = None, rtol: float | None = None, where: str = "value"
) -> str | None:
    """None when ``received`` matches ``expected``; otherwise what differs.

    Rules: booleans match booleans only; numbers match numbers (int or float) within
    ``atol + rtol * |expected|``, NaN only NaN; strings exactly; lists by length and
    element; dicts by keys and value; arrays by shape, dtype kind (bool, integer or
    float: an integer array may stand for a float one, not the reverse) and value.
    """
    import numpy as np

    atol = DEFAULT_ATOL if atol is None else float(atol)
    rtol = DEFAULT_RTOL if rtol is None else float(rtol)
    if isinstance(expected, np.ndarray):
        if not isinstance(received, np.ndarray):
            if expected.ndim == 0 or type(received) is not list:
                return (
                    f"{where}: expected an array of shape {expected.shape}, found {_kind(received)}"
                )
            try:
                received = np.array(received)
            except ValueError:
                return f"{where}: expected an array of shape {expected.shape}, found a ragged list"
            if received.dtype.kind not in ARRAY_KINDS:
                return f"{where}: expected a numeric array, found a list of {received.dtype}"
        if received.shape != expected.shape:
            return f"{where}: expected shape {expected.shape}, found {received.shape}"
        ek, rk = expected.dtype.kind, received.dtype.kind
        if (ek == "b") != (rk == "b") or (ek in "iu" and rk == "f"):
            return f"{where}: expected {expected.dtype} values, found {received.dtype}"
        if ek == "b" or (ek in "iu" and rk in "iu"):
            same = np.array_equal(expected, received)
        else:
            e, r = expected.astype(np.float64), received.astype(np.float64)
            same = bool(
                np.all((np.isnan(e) & np.isnan(r)) | (np.abs(e - r) <= atol + rtol * np.abs(e)))
            )
        return None if same else f"{where}: wrong values"
    if type(expected) is bool:
        if type(received) is not bool:
            return f"{where}: expected a bool, found {_kind(received)}"
        return None if received == expected else f"{where}: wrong value"
    if type(expected) in (int, float):
        if type(received) not in (int, float):
            return f"{where}: expected a number, found {_kind(received)}"
        if type(expected) is int and type(received) is int:
            return None if received == expected else f"{where}: wrong value"
        if math.isnan(expected) or math.isnan(received):
            return (
                None if math.isnan(expected) and math.isnan(received) else f"{where}: wrong value"
            )
        if math.isinf(expected) or math.isinf(received):
            return None if expected == received else f"{where}: wrong value"
        ok = abs(received - expected) <= atol + rtol * abs(expected)
        return None if ok else f"{where}: wrong value"
    if type(expected) is str or expected is None:
        if type(received) is not type(expected):
            return f"{where}: expected {_kind(expected)}, found {_kind(received)}"
        return None if received == expected else f"{where}: wrong value"
    if type(expected) is list:
        if type(received) is not list:
            if isinstance(received, np.ndarray) and received.ndim == 1:
                received = received.tolist()
            else:
                return f"{where}: expected a list of {len(expected)}, found {_kind(received)}"
        if len(received) != len(expected):
            return f"{where}: expected {len(expected)} items, found {len(received)}"
        for i, (e, r) in enumerate(zip(expected, received)):
            why = compare(e, r, atol, rtol, f"{where}[{i}]")
            if why:
                return why
        return None
    if type(expected) is dict:
        if type(received) is not dict:
            return f"{where}: expected a dict, found {_kind(received)}"
        if set(received) != set(expected):
            return f"{where}: expected the keys {sorted(expected)}, found {sorted(received)}"
        for k in expected:
            why = compare(expected[k], received[k], atol, rtol, f"{where}[{k!r}]")
            if why:
                return why
        return None
    return f"{where}: the answer key holds an unsupported {_kind(expected)}"


def _kind(value) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return {
        bool: "a bool",
        int: "an int",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a dict",
        type(None): "None",
    }.get(type(value), type(value).__name__)


@dataclass
class Received:
    name: str
    value: object = None
    atol: float | None = None
    rtol: float | None = None
    error: str = ""


def collect(outputs: list, folder: Path) -> list[Received]:
    """The values a cell sent, in order, decoded (errors recorded, never raised)."""
    found = []
    if len(outputs) > 10_000:
        return [Received("?", error="more than 10,000 outputs in one cell")]
    for out in outputs:
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue
        payload = (out.get("data") or {}).get(MIME)
        if payload is None:
            continue
        try:  # plain JSON types only, whatever container the message arrived in
            payload = json.loads(payload if isinstance(payload, str) else json.dumps(payload))
        except (ValueError, TypeError, RecursionError):
            found.append(Received("?", error="an unreadable check message"))
            continue
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
            found.append(Received("?", error="a check message without a name"))
            continue
        item = Received(payload["name"][:100])
        try:
            item.value = from_plain(payload.get("value"), folder)
            for tol in ("atol", "rtol"):
                t = payload.get(tol)
                if t is not None and (type(t) not in (int, float) or not 0 <= t < 1e6):
                    raise CheckError(f"bad {tol}")
                setattr(item, tol, t)
        except (CheckError, ValueError, TypeError, KeyError, OSError, RecursionError) as exc:
            item.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        found.append(item)
    return found


# =================================================================== the answer key
KEY_FORMAT = 1
KEY_SUFFIX = ".key.json"


def key_to_json(value):
    """An expected value as JSON (arrays always inline)."""
    return to_plain(value, None)


def judge(expected_checks: dict, received: list[Received]) -> tuple[bool, str]:
    """Compare what a test cell sent with its part of the key.

    Every expected name must arrive exactly once and match; a name sent twice, a
    name the cell does not expect, or an undecodable message fails the cell.
    """
    seen: dict[str, Received] = {}
    for item in received:
        if item.error:
            return False, f"check {item.name!r}: {item.error}"
        if item.name not in expected_checks:
            return False, f"a value was sent under {item.name!r}, which this test does not expect"
        if item.name in seen:
            return False, f"check {item.name!r} was sent twice"
        seen[item.name] = item
    for name, spec in expected_checks.items():
        if name not in seen:
            return (
                False,
                f"check {name!r}: no value arrived (the code before it raised or never ran)",
            )
        expected = from_plain(spec["value"])
        why = compare(expected, seen[name].value, spec.get("atol"), spec.get("rtol"), name)
        if why:
            return False, why
    return True, ""
