"""Two defences against answers that cheat the hidden tests instead of solving them.

The threat
==========
Answer cells run in the same Jupyter kernel as the assert-style hidden tests that
come after them. Instead of computing the right answer, a hostile answer can

* patch the library functions a test relies on: ``numpy.allclose = lambda *a, **k:
  True``, ``torch.Tensor.__eq__``, ``sklearn.metrics.roc_auc_score``,
  ``math.isclose``, ``builtins.abs``, ``operator.eq``, the defaults of
  ``numpy.isclose`` (``np.isclose._implementation.__defaults__``), the code of a
  function (``f.__code__ = ...``), or a module's class (``numpy.__class__ = Liar``);
* put a fake module in ``sys.modules`` (``sys.modules["sklearn.metrics"] = fake``) or
  an import hook in ``sys.meta_path`` so that the test's own ``import`` gets the fake;
* return objects whose ``__eq__``/``__bool__``/``__array__``/``__float__``/``__len__``
  lie;
* walk frames or the garbage collector to read the test's data;
* embed the expected answers as a large literal, or read them from a file outside
  the work folder.

What this module provides
=========================
:data:`SNAPSHOT_SOURCE` (or :func:`snapshot_source`, which fills it in) is Python
source that the grader runs once in the fresh kernel, before any student code. It
imports a fixed set of modules (numpy, scipy, sklearn, torch, pandas, gymnasium --
these heavy ones only when the notebook imported them or the grader names them --
course_utils, math, operator, builtins, ... and, for numpy, scipy, sklearn, pandas,
gymnasium, course_utils and torch.nn/testing/linalg, every submodule imported by
then), records their attributes, the attributes of a few important classes and
their bases (``torch.Tensor``, ``torch.nn.Module``, ``numpy.ndarray``,
``pandas.DataFrame``/``Series``/``Index``, ``abc.ABCMeta``, the builtin types), the
code, defaults, keyword defaults and closure cells of every Python function found
there, ``sys.modules``, ``sys.meta_path``/``path_hooks``/``path_importer_cache``
and the ``__builtins__`` of the user namespace, and installs ``restore()`` in
:mod:`builtins` under a name the grader draws.

Before every test cell the grader evaluates ``NAME()`` as a *user expression*; it
puts everything back the way the snapshot saw it and returns a sorted list of what
it had to restore (``"numpy.allclose"``, ``"torch.Tensor.__eq__"``,
``"sys.modules['sklearn.metrics']"``, ``"numpy.isclose.__defaults__"``, ...; empty
when nothing was touched). ``restore`` only uses references it captured at snapshot
time, never a global or builtin name, and compares with ``is``, never ``==``, so
neither patched builtins nor planted objects disarm it. It keeps whatever it removes
alive forever, so that a ``__del__`` cannot re-patch once it has run. It takes a few
milliseconds (about 5-15 ms with torch, scipy, sklearn and pandas loaded: only
identities are compared unless something changed)::

    name = "_grader_restore_" + secrets.token_hex(8)
    kernel.execute(snapshot_source(name, extra_modules), silent=True)   # once
    ...
    reply = client.execute("", silent=True, store_history=False,
                           user_expressions={"integrity": f"{name}()"})  # each test
    # reply["content"]["user_expressions"]["integrity"]["data"]["text/plain"] is
    # the repr of the list; anything but status "ok" and a list means tampering

Honest changes ``restore`` accepts (adopting them as the new state, unreported):
IPython's builtin trap and ipykernel's ``input`` (they differ inside a cell and
between cells), ``__warningregistry__``, a real submodule set on its package by an
import, a new module in ``sys.modules`` that comes from a file or has a spec, a
library (non-dunder, nothing-hiding) function added to a watched module or class
(transformers adds ``torch.nn.Module.smart_apply``), a private None global made into
a library object (lazy singletons), and a same-package wrapper around the original
(``torch.manual_seed`` once torch._dynamo loads). Whatever else changed is undone.

:func:`scan` is a static check of one answer cell's source: it returns
human-readable flags (each starts with a short reason, see :data:`REASONS`) for
patterns worth a human look. It neither changes the score nor proves anything: it
is meant to be shown to the instructor next to the result.

What is NOT covered
===================
* Anything at the C level: ``ctypes`` writes into memory, a compiled extension
  loaded from the work folder. ``gc.get_referents`` edits of static types' dicts
  are undone, but C slots are not looked at.
* Someone who finds ``restore`` itself (it lives in ``builtins``, and its closure is
  reachable through ``gc`` or ``__closure__``) can replace it, or edit the snapshot
  it restores from; the text the kernel's display formatter makes of its answer can
  be faked too (the restoring has happened by then, only the report would lie). The
  grader should treat an answer that is not a list as tampering; :func:`scan` flags
  the tools needed (``gc``, ``__closure__``, ``cell_contents``, frames).
* Threads, signal handlers, trace functions and finalizers that re-patch after
  ``restore`` ran (the grader's IPython reset handles trace functions; :func:`scan`
  flags threads, signals and ``__del__``).
* Lying *objects* returned by the student: a test must convert what it gets before
  comparing (``float(x)``, ``np.asarray(x, dtype=float)``, ``type(x) is ...``);
  :func:`scan` flags classes that define the dunders involved.
* Names in the user namespace that shadow builtins or module aliases
  (``def abs(x): ...``, ``np = Fake()``): ``restore`` does not touch the student's
  namespace (except ``__builtins__``); tests should import what they use and
  :func:`scan` flags the obvious cases.
* Modules outside the watched set, and modules a test imports for the first time: a
  fake dressed up with a ``__file__`` or a ``__spec__`` passes for real. Pass such
  modules to :func:`snapshot_source` as ``extra_modules`` so that the snapshot
  imports them up front (e.g. ``gensim.models`` for a test that imports it).
* Other state: instance attributes, attributes of functions' ``__dict__``, module
  globals the libraries mutate in place (dicts, lists), ``os.environ``, the random
  generators, ``torch.backends`` flags.
* A ``.py`` file written into the work folder that shadows a package not yet
  imported (the work folder comes first on ``sys.path``; :func:`scan` flags
  writing one).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

__all__ = ["SNAPSHOT_SOURCE", "REASONS", "snapshot_source", "scan"]

# --------------------------------------------------------------------------- snapshot
#
# The source below runs in the student's kernel. It uses no braces other than the
# ``{name}`` placeholder, so both ``str.replace("{name}", ...)`` and
# ``str.format(name=...)`` fill it in. Everything that ``restore`` and its helpers
# use at restore time is a local of the factory (a closure variable): no global or
# builtin name is looked up after the snapshot (tests/test_grading_integrity.py
# checks the bytecode for that).
SNAPSHOT_SOURCE = r'''
def _grader_integrity_factory():
    import builtins, sys, types, importlib, warnings, os, itertools, operator, pkgutil, gc

    NAME = "{name}"
    EXTRA = ()  # extra modules to watch, filled in by snapshot_source()
    # modules watched by name
    FIXED = ("builtins", "math", "cmath", "operator", "functools", "itertools", "json",
             "re", "random", "statistics", "collections", "collections.abc", "copy",
             "time", "abc", "numbers", "importlib", "importlib.util",
             "importlib.machinery", "importlib._bootstrap", "importlib._bootstrap_external",
             "_frozen_importlib", "_frozen_importlib_external",
             "numpy", "numpy.linalg", "numpy.random", "numpy.testing", "numpy._core",
             "numpy.core", "scipy", "scipy.stats", "scipy.special", "sklearn",
             "sklearn.metrics", "torch", "torch.nn", "torch.nn.functional",
             "torch.linalg", "torch.testing", "torch._tensor", "torch._tensor_str",
             "torch.functional", "torch.overrides", "pandas", "pandas.testing",
             "gymnasium", "course_utils", "course_utils.tools.grading.checks", "os", "posixpath",
             "pathlib", "secrets", "IPython.display", "IPython.core.display_functions")
    # packages watched with every submodule imported when the snapshot is taken
    # (EXTRA modules are watched by name, not as trees: torch's lazily imported
    # submodules would otherwise read as changes)
    TREES = ("numpy", "scipy", "sklearn", "pandas", "gymnasium", "course_utils",
             "torch.nn", "torch.testing", "torch.linalg") + tuple(
                 m for m in EXTRA if m.split(".")[0] not in ("torch", "numpy", "scipy",
                                                              "sklearn", "pandas", "gymnasium"))
    # classes watched with their whole MRO: (module, attribute)
    CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"), ("torch.nn", "Parameter"),
               ("numpy", "ndarray"), ("numpy", "generic"), ("pandas", "DataFrame"),
               ("pandas", "Series"), ("pandas", "Index"), ("abc", "ABCMeta"),
               ("builtins", "int"), ("builtins", "float"), ("builtins", "bool"),
               ("builtins", "str"), ("builtins", "list"), ("builtins", "dict"),
               ("builtins", "tuple"), ("builtins", "set"))

    # A heavy library that neither the instructor's cells nor the tests import (EXTRA,
    # taken from the source) and that nothing imported so far has pulled in cannot be
    # what a test compares with: it is watched only when it is there, which spares a
    # notebook without torch the two seconds of importing it.
    HEAVY = ("numpy", "scipy", "sklearn", "torch", "pandas", "gymnasium")
    wanted = set(m.split(".")[0] for m in EXTRA) | set(n.split(".")[0] for n in sys.modules)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for modname in FIXED + EXTRA:
            if modname.split(".")[0] in HEAVY and modname.split(".")[0] not in wanted:
                continue
            try:
                importlib.import_module(modname)
            except Exception:
                pass

    # -------------------------------------------------- references restore() uses
    _id, _len, _list, _map, _type, _sorted, _set, _zip, _range, _repr = (
        id, len, list, map, type, sorted, set, zip, range, repr)
    _str, _dict, _Exception = str, dict, Exception
    _chain = itertools.chain.from_iterable
    _is, _all, _sum = operator.is_, all, sum
    _values = operator.methodcaller("values")
    _code_of = operator.attrgetter("__code__")
    _defaults_of = operator.attrgetter("__defaults__")
    _kwdefaults_of = operator.attrgetter("__kwdefaults__")
    _contents_of = operator.attrgetter("cell_contents")
    _type_setattr, _type_delattr = type.__setattr__, type.__delattr__
    _obj_setattr = object.__setattr__
    _mro_of = type.__dict__["__mro__"].__get__
    _bases_of = type.__dict__["__bases__"].__get__
    _clear_type_cache = sys._clear_type_cache
    _stat = os.stat  # the C function: os.path.isfile is Python, with patchable globals
    _ModuleType, _MethodType, _FunctionType = types.ModuleType, types.MethodType, types.FunctionType
    _module_dict_of = types.ModuleType.__dict__["__dict__"].__get__
    _module_name_of = type.__dict__["__module__"].__get__
    _module_qualname_of = type.__dict__["__qualname__"].__get__
    _class_dict_of = type.__dict__["__dict__"].__get__
    _modules = sys.modules
    _sysdict = vars(sys)
    _builtins = builtins
    _builtin_names = frozenset(sys.builtin_module_names)
    _MISSING = object()
    _IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE
    _keep = []  # whatever restore() removes stays alive: no __del__ runs later
    try:
        shell = get_ipython()
        _user_ns = shell.user_ns
    except Exception:
        shell = _user_ns = None

    def _is_class(obj):
        for klass in _mro_of(_type(obj)):
            if klass is _type:
                return True
        return False

    def _is_module(obj):
        for klass in _mro_of(_type(obj)):
            if klass is _ModuleType:
                return True
        return False

    # -------------------------------------------------- namespaces: modules, classes
    def in_trees(modname):
        for root in TREES:
            if modname == root or modname.startswith(root + "."):
                return True
        return False

    ns_label, ns_map, ns_saved, ns_kind, ns_obj, ns_keys, ns_vals = [], [], [], [], [], [], []
    seen = set()

    def add_namespace(label, kind, obj, mapping):
        seen.add(id(obj))
        ns_label.append(label)
        ns_kind.append(kind)
        ns_obj.append(obj)
        ns_map.append(mapping)
        ns_saved.append(dict(mapping))
        ns_keys.append(list(mapping))
        ns_vals.append(list(mapping.values()))

    mod_names = [n for n in sorted(_modules) if n in FIXED or n in EXTRA or in_trees(n)]
    mod_objs, mod_types = [], []
    for modname in mod_names:
        module = _modules.get(modname)
        if not _is_module(module) or id(module) in seen:
            continue
        add_namespace(modname, "m", module, vars(module))
        mod_objs.append(module)
        mod_types.append(type(module))

    cls_objs, cls_bases, cls_metas, cls_labels, cls_real = [], [], [], [], []
    for modname, attr in CLASSES:
        module = _modules.get(modname)
        top = getattr(module, attr, None) if module is not None else None
        if not isinstance(top, type):
            continue
        for klass in _mro_of(top):
            if id(klass) in seen:
                continue
            if klass is top:
                label = modname + "." + attr
            else:
                label = klass.__module__ + "." + klass.__qualname__
            proxy = type.__dict__["__dict__"].__get__(klass)
            real = None
            if klass.__flags__ & _IMMUTABLE:
                # the dict behind the proxy: the only way to undo a gc-referents edit
                found = [r for r in gc.get_referents(proxy) if type(r) is dict]
                real = found[0] if len(found) == 1 else None
            add_namespace(label, "c", klass, proxy)
            cls_objs.append(klass)
            cls_bases.append(_bases_of(klass))
            cls_metas.append(type(klass))
            cls_labels.append(label)
            cls_real.append(real)
    ns_index = dict(zip(map(id, ns_obj), range(len(ns_obj))))
    # the directory of the top-level package of each watched module
    ns_pkgdirs = []
    for label, kind in zip(ns_label, ns_kind):
        top = _modules.get(label.partition(".")[0]) if kind == "m" else None
        filename = getattr(top, "__file__", None)
        dirs = ()
        if isinstance(filename, str) and os.path.basename(filename) == "__init__.py":
            folder = os.path.dirname(filename)
            dirs = (os.path.abspath(folder) + os.sep, os.path.realpath(folder) + os.sep)
        ns_pkgdirs.append(dirs)

    # -------------------------------------------------- functions found there
    fn_objs, fn_labels, fn_seen = [], [], set()
    dispatcher = type(getattr(_modules.get("numpy"), "allclose", None))

    def collect(value, label, depth):
        kind = type(value)
        if kind is _FunctionType:
            if id(value) in fn_seen:
                return
            fn_seen.add(id(value))
            fn_objs.append(value)
            fn_labels.append(label)
            if depth < 3:
                for cell in value.__closure__ or ():
                    try:
                        inner = cell.cell_contents
                    except ValueError:
                        continue
                    if type(inner) is _FunctionType:
                        collect(inner, label + ".<closure>", depth + 1)
        elif kind is staticmethod or kind is classmethod:
            collect(value.__func__, label, depth)
        elif kind is property:
            for part in (value.fget, value.fset, value.fdel):
                collect(part, label, depth)
        elif kind is dispatcher and kind.__module__ == "numpy":
            collect(getattr(value, "_implementation", None), label, depth)

    for label, saved in zip(ns_label, ns_saved):
        for key, value in saved.items():
            collect(value, label + "." + key, 0)
    fn_codes = list(map(_code_of, fn_objs))
    fn_defaults = list(map(_defaults_of, fn_objs))
    fn_kwdefaults = list(map(_kwdefaults_of, fn_objs))
    kw_index = [i for i, kw in enumerate(fn_kwdefaults) if kw is not None]
    kw_dicts = [fn_kwdefaults[i] for i in kw_index]
    kw_saved = [dict(kw) for kw in kw_dicts]
    kw_keys = list(itertools.chain.from_iterable(kw_dicts))
    kw_vals = list(itertools.chain.from_iterable(map(_values, kw_dicts)))
    kw_lens = list(map(len, kw_dicts))
    cells, cell_owner, cell_saved = [], [], []
    for i, fn in enumerate(fn_objs):
        for cell in fn.__closure__ or ():
            try:
                cell_saved.append(cell.cell_contents)
            except ValueError:
                continue
            cells.append(cell)
            cell_owner.append(i)

    # -------------------------------------------------- sys.modules and import hooks
    protected = set(_builtin_names)
    for root in FIXED + TREES:
        protected.add(root.partition(".")[0])
    try:
        for info in pkgutil.iter_modules():
            protected.add(info.name)
    except Exception:
        pass
    protected = frozenset(protected)
    sm_saved = dict(_modules)
    sm_keys = list(_modules)
    sm_vals = list(_modules.values())
    hook_saved = dict()
    for hook in ("meta_path", "path_hooks", "path_importer_cache", "modules"):
        hook_saved[hook] = _sysdict.get(hook)
    meta_saved = list(sys.meta_path)
    hooks_saved = list(sys.path_hooks)
    pic_saved = dict(sys.path_importer_cache)
    pic_types = frozenset(id(type(v)) for v in pic_saved.values())
    # Where library code lives: the interpreter's prefixes and the watched packages
    # (course_utils may be installed in development mode), as given and resolved:
    # restore() compares file names as they are, without calling os.path.
    lib_dirs = []
    bases = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__)]
    for root in FIXED + TREES:
        filename = getattr(_modules.get(root.partition(".")[0]), "__file__", None)
        if isinstance(filename, str) and os.path.basename(filename) == "__init__.py":
            bases.append(os.path.dirname(filename))
    for base in bases:
        lib_dirs += [os.path.abspath(base) + os.sep, os.path.realpath(base) + os.sep]
    lib_dirs = tuple(sorted(set(lib_dirs)))

    # The fast path: everything is the very object it was, compared with
    # ``operator.is_`` (never ``==``, which a planted object could answer)
    state = dict(size=0, keys=None, vals=None)

    def _same_items(mapping, keys, vals):
        return (_len(mapping) == _len(keys) and _all(_map(_is, mapping, keys))
                and _all(_map(_is, _values(mapping), vals)))

    def _remember_all():
        state["size"] = _sum(_map(_len, ns_map))
        state["keys"] = _list(_chain(ns_map))
        state["vals"] = _list(_chain(_map(_values, ns_map)))

    # -------------------------------------------------- restore-time helpers
    def _same(current, saved):
        if current is saved:
            return True
        # a bound method is a new object on every access (ipykernel rebinds
        # builtins.input to one for each request): the same function on the same
        # object is the same thing
        return (_type(current) is _MethodType and _type(saved) is _MethodType
                and current.__func__ is saved.__func__ and current.__self__ is saved.__self__)

    def _benign_addition(i, key, value):
        # Libraries add helpers to modules and classes at run time (transformers
        # adds ``torch.nn.Module.smart_apply``): a library function is accepted
        # under a name that is not a dunder and, on a class, hides nothing that a
        # base class defines (``torch.Tensor.allclose = <any function>`` would)
        if (_type(value) is _FunctionType and not key.startswith("__")
                and _from_library(value.__code__)):
            if ns_kind[i] == "m":
                return True
            for klass in _mro_of(ns_obj[i]):
                if klass is not ns_obj[i] and key in _class_dict_of(klass):
                    return False
            return True
        if ns_kind[i] != "m":
            return False
        if key == "__warningregistry__" and _type(value) is _dict:
            return True
        # ``import a.b`` sets ``a.b``: a real submodule, not a patch
        return _modules.get(ns_label[i] + "." + key, _MISSING) is value and _is_module(value)

    def _class_put(i, key, value):
        klass = ns_obj[i]
        if ns_kind[i] == "m":
            if value is _MISSING:
                del ns_map[i][key]
            else:
                ns_map[i][key] = value
            return True
        real = cls_real[ns_index_cls[i]]
        if real is not None:
            if value is _MISSING:
                real.pop(key, None)
            else:
                real[key] = value
            _clear_type_cache()
            return True
        try:
            if value is _MISSING:
                _type_delattr(klass, key)
            else:
                _type_setattr(klass, key, value)
            return True
        except _Exception:
            return False

    def _repair_namespace(i, found):
        mapping, saved, label = ns_map[i], ns_saved[i], ns_label[i]
        for key in _list(mapping):
            if _type(key) is not _str:
                if ns_kind[i] == "m":
                    _keep.append(mapping.pop(key))
                found.append(label + ".<non-str key>")
                continue
            if key in saved:
                continue
            value = mapping[key]
            if i == ns_builtins and key in ns_alt and _same(value, ns_alt[key]):
                continue
            if _benign_addition(i, key, value):
                saved[key] = value
                continue
            _keep.append(value)
            ok = _class_put(i, key, _MISSING)
            found.append(label + "." + key + ("" if ok else " (could not restore)"))
        for key, value in _list(saved.items()):
            current = mapping.get(key, _MISSING)
            if _same(current, value) or (i == ns_builtins and key in ns_alt
                                         and _same(current, ns_alt[key])):
                continue
            if ns_kind[i] == "m" and _library_rebinding(i, key, value, current):
                saved[key] = current
                continue
            _keep.append(current)
            ok = _class_put(i, key, value)
            found.append(label + "." + key + ("" if ok else " (could not restore)"))
        ns_keys[i] = _list(mapping)
        ns_vals[i] = _list(_values(mapping))

    def _check_namespaces(found):
        if (_sum(_map(_len, ns_map)) == state["size"]
                and _all(_map(_is, _chain(ns_map), state["keys"]))
                and _all(_map(_is, _chain(_map(_values, ns_map)), state["vals"]))):
            return
        for i in _range(_len(ns_map)):
            mapping = ns_map[i]
            if not _same_items(mapping, ns_keys[i], ns_vals[i]):
                _repair_namespace(i, found)
        _remember_all()

    def _check_types(found):
        if not _all(_map(_is, _map(_type, mod_objs), mod_types)):
            for module, saved, label in _zip(mod_objs, mod_types, mod_label):
                if _type(module) is not saved:
                    _keep.append(_type(module))
                    _obj_setattr(module, "__class__", saved)
                    found.append(label + ".__class__")
        for j in _range(_len(cls_objs)):
            klass = cls_objs[j]
            if _bases_of(klass) is not cls_bases[j]:
                try:
                    _type_setattr(klass, "__bases__", cls_bases[j])
                    found.append(cls_labels[j] + ".__bases__")
                except _Exception:
                    found.append(cls_labels[j] + ".__bases__ (could not restore)")
            if _type(klass) is not cls_metas[j]:
                try:
                    _obj_setattr(klass, "__class__", cls_metas[j])
                    found.append(cls_labels[j] + ".__class__")
                except _Exception:
                    found.append(cls_labels[j] + ".__class__ (could not restore)")

    def _check_functions(found):
        same = (_all(_map(_is, _map(_code_of, fn_objs), fn_codes))
                and _all(_map(_is, _map(_defaults_of, fn_objs), fn_defaults))
                and _all(_map(_is, _map(_kwdefaults_of, fn_objs), fn_kwdefaults))
                and _list(_map(_len, kw_dicts)) == kw_lens
                and _all(_map(_is, _chain(kw_dicts), kw_keys))
                and _all(_map(_is, _chain(_map(_values, kw_dicts)), kw_vals)))
        if same:
            try:
                same = _all(_map(_is, _map(_contents_of, cells), cell_saved))
            except _Exception:
                same = False
        if same:
            return
        for i in _range(_len(fn_objs)):
            fn, label = fn_objs[i], fn_labels[i]
            if fn.__code__ is not fn_codes[i]:
                _keep.append(fn.__code__)
                fn.__code__ = fn_codes[i]
                found.append(label + ".__code__")
            if fn.__defaults__ is not fn_defaults[i]:
                _keep.append(fn.__defaults__)
                fn.__defaults__ = fn_defaults[i]
                found.append(label + ".__defaults__")
            if fn.__kwdefaults__ is not fn_kwdefaults[i]:
                _keep.append(fn.__kwdefaults__)
                fn.__kwdefaults__ = fn_kwdefaults[i]
                found.append(label + ".__kwdefaults__")
        for j in _range(_len(kw_dicts)):
            kw, saved = kw_dicts[j], kw_saved[j]
            changed = _len(kw) != _len(saved)
            for key, value in kw.items():
                if saved.get(key, _MISSING) is not value:
                    changed = True
            if changed:
                _keep.append(_list(kw.values()))
                kw.clear()
                kw.update(saved)
                found.append(fn_labels[kw_index[j]] + ".__kwdefaults__")
        for j in _range(_len(cells)):
            cell = cells[j]
            try:
                current = cell.cell_contents
            except _Exception:
                current = _MISSING
            if current is not cell_saved[j]:
                _keep.append(current)
                cell.cell_contents = cell_saved[j]
                found.append(fn_labels[cell_owner[j]] + ".__closure__")

    def _genuine_new_module(key, value):
        # Only names that could shadow something real are judged: a top-level
        # name importable at snapshot time, and whatever lies below it.
        top, dot, rest = key.partition(".")
        if value is None or top not in protected:
            return True
        if not _is_module(value):
            return False
        namespace = _module_dict_of(value)
        filename = namespace.get("__file__")
        if _type(filename) is _str:
            try:
                _stat(filename)
                return True
            except _Exception:
                return False
        # no file: a namespace package, a built-in or frozen module has a spec
        if namespace.get("__spec__") is not None:
            return True
        # neither file nor spec: a bare ModuleType. Extension modules make their
        # submodules that way (cv2.utils.fs); accept those below a package that
        # is not watched, never a top-level one or one under a watched package
        if not dot:
            return False
        for root in TREES + FIXED:
            if key == root or key.startswith(root + "."):
                return False
        return _modules.get(key.rpartition(".")[0]) is not None

    def _check_sys_modules(found):
        if _sysdict.get("modules") is not _modules:
            _keep.append(_sysdict.get("modules"))
            _sysdict["modules"] = _modules
            found.append("sys.modules")
        if _same_items(_modules, sm_keys, sm_vals):
            return
        for key in _list(_modules):
            if _type(key) is not _str:
                _keep.append(_modules.pop(key))
                found.append("sys.modules[<non-str key>]")
                continue
            if key in sm_saved:
                continue
            value = _modules[key]
            if _genuine_new_module(key, value):
                sm_saved[key] = value
            else:
                _keep.append(_modules.pop(key))
                found.append("sys.modules[" + _repr(key) + "]")
        for key, value in sm_saved.items():
            current = _modules.get(key, _MISSING)
            if current is not value:
                _keep.append(current)
                _modules[key] = value
                found.append("sys.modules[" + _repr(key) + "]")
        sm_keys[:] = _list(_modules)
        sm_vals[:] = _list(_values(_modules))

    def _library_object(obj):
        # a finder or hook from an installed library, not from the student's code
        kind = obj if _is_class(obj) else _type(obj)
        try:
            modname = _module_name_of(kind)
        except _Exception:
            return False
        if _type(modname) is not _str or modname == "__main__":
            return False
        module = _modules.get(modname)
        if module is None or not _is_module(module):
            return False
        # the class must really live there (``__module__`` is only a claim)
        qualname = _module_qualname_of(kind)
        if _type(qualname) is not _str or _module_dict_of(module).get(
                qualname.partition(".")[0]) is None:
            return False
        if "." not in qualname and _module_dict_of(module).get(qualname) is not kind:
            return False
        filename = _module_dict_of(module).get("__file__")
        if _type(filename) is not _str:
            return False
        return _in_library(filename)

    def _in_library(filename):
        if _type(filename) is not _str or ".." in filename:
            return False
        for base in lib_dirs:
            if filename.startswith(base):
                return True
        return False

    def _from_library(code):
        return _in_library(code.co_filename)

    def _library_rebinding(i, key, old, new):
        # Libraries rebind a few module globals at run time, after the snapshot:
        # a private, lazily made singleton (``_threadpool_controller =
        # ThreadpoolController()`` in place of None), or a wrapper around the
        # original function made by the same package (``torch.manual_seed =
        # torch._disable_dynamo(torch.manual_seed)`` when torch._dynamo is first
        # imported). Both are accepted as the new state.
        if new is _MISSING:
            return False
        kind = _type(new)
        if old is None:
            return (key.startswith("_") and kind is not _FunctionType
                    and kind is not _MethodType and not _is_class(new)
                    and not _is_module(new) and _library_object(new))
        if kind is not _FunctionType:
            return False
        filename = new.__code__.co_filename
        if _type(filename) is not _str or ".." in filename:
            return False
        inside = False
        for base in ns_pkgdirs[i]:
            if filename.startswith(base):
                inside = True
        if not inside:
            return False
        for cell in new.__closure__ or ():
            try:
                if cell.cell_contents is old:
                    return True
            except _Exception:
                pass
        return False

    def _check_import_hooks(found):
        for hook, saved in hook_saved.items():
            if hook != "modules" and _sysdict.get(hook) is not saved:
                _keep.append(_sysdict.get(hook))
                _sysdict[hook] = saved
                found.append("sys." + hook)
        for hooks, saved, hook in ((hook_saved["meta_path"], meta_saved, "sys.meta_path"),
                                   (hook_saved["path_hooks"], hooks_saved, "sys.path_hooks")):
            if _len(hooks) == _len(saved) and _list(_map(_id, hooks)) == _list(_map(_id, saved)):
                continue
            ids = _set(_map(_id, saved))
            kept = []
            for item in hooks:
                if _id(item) in ids or _library_object(item):
                    kept.append(item)
                else:
                    _keep.append(item)
                    found.append(hook)
            for item in saved:
                if _id(item) not in _set(_map(_id, kept)):
                    kept.append(item)
                    found.append(hook)
            hooks[:] = kept
            saved[:] = kept
        # a cache: dropping an entry is always safe (the import system makes a new
        # one), so entries that changed go quietly and foreign finders are reported
        cache = hook_saved["path_importer_cache"]
        for key in _list(cache):
            value = cache[key]
            if _type(key) is not _str or _id(_type(value)) not in pic_types:
                _keep.append(cache.pop(key))
                found.append("sys.path_importer_cache")
            elif pic_saved.get(key, value) is not value:
                _keep.append(cache.pop(key))

    def _check_user_namespace(found):
        if _user_ns is not None and _user_ns.get("__builtins__", _builtins) is not _builtins:
            _keep.append(_user_ns.get("__builtins__"))
            _user_ns["__builtins__"] = _builtins
            found.append("__builtins__")

    checks = (("sys.modules", _check_sys_modules), ("import hooks", _check_import_hooks),
              ("module types", _check_types), ("attributes", _check_namespaces),
              ("functions", _check_functions), ("namespace", _check_user_namespace))

    def restore():
        """Undo what was patched since the snapshot; return what that was, sorted."""
        found = []
        for phase, check in checks:
            try:
                check(found)
            except _Exception:
                found.append("integrity check failed: " + phase)
        return _sorted(_set(found))

    ns_builtins = ns_index[id(builtins)]
    ns_alt = dict()  # builtins: the value in a cell where it differs between cells
    mod_label = [ns_label[i] for i in range(len(ns_obj)) if ns_kind[i] == "m"]
    ns_index_cls = dict()
    for j, klass in enumerate(cls_objs):
        ns_index_cls[ns_index[id(klass)]] = j

    # The snapshot runs inside a cell, restore() runs between cells (as a user
    # expression). In a cell IPython's builtin trap hides exit/quit and adds
    # get_ipython, and ipykernel swaps builtins.input for its own: either state is
    # honest, the one between cells is what restore() puts back.
    setattr(builtins, NAME, restore)
    b = ns_index[id(builtins)]
    inside = dict(vars(builtins))
    outside = dict(inside)
    trap = getattr(shell, "builtin_trap", None)
    if trap is not None and getattr(trap, "_nested_level", 0) > 0:
        for key, orig in dict(getattr(trap, "_orig_builtins", None) or ()).items():
            if type(orig).__name__ == "__BuiltinUndefined":
                outside.pop(key, None)
            else:
                outside[key] = orig
    kernel = getattr(shell, "kernel", None)
    original_input = getattr(kernel, "_sys_raw_input", None)
    if original_input is not None and inside.get("input") is not original_input:
        outside["input"] = original_input
    ns_saved[b] = outside
    for key in set(inside) | set(outside):
        if inside.get(key, _MISSING) is not outside.get(key, _MISSING):
            ns_alt[key] = inside.get(key, _MISSING)
    ns_keys[b] = []  # the first restore() compares in full
    _remember_all()
    return restore


_grader_integrity_factory()
del _grader_integrity_factory
'''

_EXTRA_LINE = "    EXTRA = ()  # extra modules to watch, filled in by snapshot_source()"


def snapshot_source(name: str, extra_modules: Iterable[str] = ()) -> str:
    """Return :data:`SNAPSHOT_SOURCE` ready to run in the kernel.

    ``name`` is the identifier ``restore`` is installed under in :mod:`builtins`;
    ``extra_modules`` are more modules the snapshot imports and watches, each with
    its submodules imported by then (e.g. the homework's ``course_utils.rl``, or
    ``torchvision`` when the tests use it).
    """
    if not name.isidentifier():
        raise ValueError(f"not an identifier: {name!r}")
    extra = tuple(str(m) for m in extra_modules)
    for module in extra:
        if not all(part.isidentifier() for part in module.split(".")):
            raise ValueError(f"not a module name: {module!r}")
    source = SNAPSHOT_SOURCE.replace("{name}", name)
    if extra:
        if _EXTRA_LINE not in source:
            raise RuntimeError("SNAPSHOT_SOURCE lost its EXTRA line")
        source = source.replace(_EXTRA_LINE, f"    EXTRA = {extra!r}")
    return source


# --------------------------------------------------------------------------- static scan
#
# Each flag is "<reason>: <detail> (line N)" or, for class bodies, "defines <dunder> on
# class <Name> (line N)". The reasons, in the order of the threat list above:
REASONS = (
    "rebinds module attribute",  # np.allclose = ..., del np.isclose, setattr(np, ...)
    "patches library class",  # torch.Tensor.__eq__ = ..., np.ndarray.x = ...
    "mock patching",  # unittest.mock.patch, monkeypatch.setattr
    "edits sys.modules",  # sys.modules[...] = ..., .update/.pop/del ...
    "edits import hooks",  # sys.meta_path / sys.path_hooks
    "edits builtins",  # builtins.x = ..., __builtins__[...] = ...
    "rebinds module name",  # np = Fake(), import cheats as np
    "shadows builtin",  # def abs(x): ..., len = lambda ...
    "assigns special attribute",  # x.__class__ = ..., f.__code__ = ..., type(x).__eq__ = ...
    "defines",  # defines __eq__ on class X
    "subclasses",  # subclasses list: class X(list)
    "walks frames or gc",  # sys._getframe, f_back, gc.get_referrers, ...
    "low-level access",  # ctypes, __code__, __closure__, __subclasses__
    "runs dynamic code",  # exec, eval, compile, __import__, get_ipython().run_cell
    "writes a Python file",  # %%writefile x.py, open("x.py", "w"): shadows a module
    "runs background code",  # threads, signals, atexit, weakref.finalize
    "large literal",  # str/bytes > 5000 chars, display > 200 elements, a cell > 4000 chars
    "reads outside the work folder",  # open('/...'), np.load('../x'), os.walk('~')
)

MAX_STRING = 5000
MAX_ELEMENTS = 200
MAX_LEAVES = 1000  # constants inside one nested display (a table of rows)
# the whole cell, when no single literal is over the limits: a table cut into pieces
MAX_TOTAL_CHARS = 4000
MAX_TOTAL_ITEMS = 2000

# names usually bound to these modules in course notebooks
_DEFAULT_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "torch": "torch",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "pd": "pandas",
    "pandas": "pandas",
    "sklearn": "sklearn",
    "scipy": "scipy",
    "math": "math",
    "os": "os",
    "sys": "sys",
    "builtins": "builtins",
    "operator": "operator",
    "json": "json",
    "course_utils": "course_utils",
    "functools": "functools",
    "itertools": "itertools",
    "random": "random",
    "re": "re",
    "collections": "collections",
    "copy": "copy",
    "statistics": "statistics",
    "gym": "gymnasium",
    "gymnasium": "gymnasium",
    "inspect": "inspect",
    "gc": "gc",
    "importlib": "importlib",
    "types": "types",
}
# rebinding these names to anything but their module is flagged
_STRICT_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "torch": "torch",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "pd": "pandas",
    "pandas": "pandas",
    "sklearn": "sklearn",
    "scipy": "scipy",
    "math": "math",
    "sys": "sys",
    "builtins": "builtins",
    "operator": "operator",
}
# attribute chains through these are settings, not patches
_CONFIG_PARTS = {"options", "backends", "config", "rcParams", "flags", "defaults"}
_CONFIG_NAMES = {"PIL.Image.MAX_IMAGE_PIXELS", "PIL.ImageFile.LOAD_TRUNCATED_IMAGES"}
_CLASSY = {"ndarray", "generic", "Tensor", "TensorBase", "DataFrame", "Series", "Index"}

_SUSPECT_DUNDERS = {
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__bool__",
    "__len__",
    "__array__",
    "__array_ufunc__",
    "__array_function__",
    "__array_interface__",
    "__array_priority__",
    "__float__",
    "__int__",
    "__index__",
    "__complex__",
    "__hash__",
    "__torch_function__",
    "__torch_dispatch__",
    "__instancecheck__",
    "__subclasscheck__",
    "__getattr__",
    "__getattribute__",
    "__class__",
    "__del__",
}
# ``__len__`` (and friends) is ordinary on containers the course has students write
_CONTAINER_BASES = ("Dataset", "Sampler", "Sequence", "Mapping", "DataLoader")
_CONTAINER_NAMES = (
    "Dataset",
    "Sampler",
    "Buffer",
    "Memory",
    "Replay",
    "Queue",
    "Vocab",
    "Vocabulary",
    "Corpus",
    "Tokenizer",
    "Loader",
)
_CONTAINER_DUNDERS = {"__len__"}
_SUSPECT_BASES = {
    "list",
    "dict",
    "tuple",
    "str",
    "float",
    "int",
    "bool",
    "complex",
    "set",
    "frozenset",
    "bytes",
    "type",
    "numpy.ndarray",
    "numpy.generic",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "torch.Tensor",
    "pandas.DataFrame",
    "pandas.Series",
    "collections.UserList",
    "collections.UserDict",
    "collections.UserString",
}
_SUSPECT_BASE_TAILS = {"ndarray", "Tensor", "DataFrame", "Series"}
_SPECIAL_ATTRS = {
    "__class__",
    "__code__",
    "__defaults__",
    "__kwdefaults__",
    "__dict__",
    "__bases__",
    "__closure__",
    "__globals__",
    "__builtins__",
    "__mro__",
    "cell_contents",
} | _SUSPECT_DUNDERS

_SYS_MODULES_METHODS = {
    "update",
    "pop",
    "setdefault",
    "clear",
    "popitem",
    "__setitem__",
    "__delitem__",
}
_LIST_METHODS = {
    "insert",
    "append",
    "extend",
    "remove",
    "pop",
    "clear",
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "reverse",
    "sort",
}
_FRAME_CALLS = {
    "sys._current_frames",
    "inspect.currentframe",
    "inspect.stack",
    "inspect.getouterframes",
    "inspect.getinnerframes",
    "inspect.trace",
    "inspect.getframeinfo",
    "traceback.walk_stack",
    "traceback.extract_stack",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
}
_FRAME_ATTRS = {
    "f_back",
    "f_locals",
    "f_globals",
    "f_builtins",
    "tb_frame",
    "gi_frame",
    "cr_frame",
    "ag_frame",
    "_getframe",
}
_LOW_LEVEL_ATTRS = {"__code__", "__closure__", "cell_contents", "__subclasses__", "__globals__"}
_DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__"}
_BACKGROUND_CALLS = {
    "threading.Thread",
    "threading.Timer",
    "_thread.start_new_thread",
    "_thread.start_new",
    "signal.signal",
    "signal.setitimer",
    "signal.alarm",
    "atexit.register",
    "weakref.finalize",
    "sys.settrace",
    "sys.setprofile",
    "threading.settrace",
    "threading.setprofile",
    "sys.addaudithook",
}
_FILE_CALLS = {
    "open",
    "Path",
    "PurePath",
    "PosixPath",
    "WindowsPath",
    "load",
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "memmap",
    "read_text",
    "read_bytes",
    "listdir",
    "scandir",
    "walk",
    "glob",
    "iglob",
    "imread",
    "File",
    "copy",
    "copyfile",
    "copy2",
    "copytree",
    "system",
    "popen",
    "Popen",
    "run",
    "check_output",
    "check_call",
    "call",
    "getoutput",
    "chdir",
    "exists",
    "isfile",
    "isdir",
    "ImageFolder",
    "DatasetFolder",
    "load_dataset",
    "expanduser",
    "stat",
    "from_pretrained",
    "load_state_dict",
}
_HOME_CALLS = {"Path.home", "pathlib.Path.home", "os.path.expanduser"}
_SHADOWED_BUILTINS = {
    "abs",
    "all",
    "any",
    "bool",
    "callable",
    "dict",
    "float",
    "getattr",
    "hasattr",
    "int",
    "isinstance",
    "issubclass",
    "len",
    "list",
    "max",
    "min",
    "range",
    "repr",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
    "id",
    "iter",
    "next",
    "map",
    "filter",
    "enumerate",
    "vars",
    "setattr",
    "hash",
    "pow",
    "divmod",
}
_PYTHON_CELL_MAGICS = {
    "%%capture",
    "%%time",
    "%%timeit",
    "%%prun",
    "%%debug",
    "%%python",
    "%%python3",
}

_PATH_RE = re.compile(r"^(/|~|[A-Za-z]:[\\/])|(^|[\\/])\.\.([\\/]|$)")
_CODE_MAGICS = {"%time", "%timeit", "%prun", "%debug", "%capture"}  # run their argument
_MAGIC_LINE = re.compile(r"^\s*([%!?]|[\w.]+\s*=\s*[%!])|^\s*[\w.\[\]()]+\?{1,2}\s*$")
_HARMLESS_MAGICS = {
    "pip",
    "conda",
    "matplotlib",
    "load_ext",
    "reload_ext",
    "autoreload",
    "config",
}  # as the setup cells call them
_MAGIC_OPTIONS = re.compile(r"^\s*((-\w+)(\s+[\w.]+)?\s+)*")
_SHELL_METHODS = {
    "run_cell",
    "run_cell_async",
    "run_line_magic",
    "run_cell_magic",
    "ex",
    "ev",
    "system",
    "getoutput",
    "run_code",
    "safe_execfile",
    "magic",
}
_SHELL_PATH = re.compile(r"(^|\s|['\"=])(/[^\s'\"]*|~[^\s'\"]*|[^\s'\"]*\.\.(/[^\s'\"]*)?)")


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _suspect_path(text: str) -> bool:
    return bool(_PATH_RE.search(text))


def _strings(node: ast.AST):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _describe(verb: str, text: str) -> str:
    """``np.x = ...``, ``del np.x``, ``setattr() np.x``."""
    if not verb:
        return f"{text} = ..."
    return f"{verb} {text}"


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - unparse of odd trees
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Scanner(ast.NodeVisitor):
    def __init__(self, tree: ast.Module):
        self.flags: list[tuple[int, str]] = []
        self.aliases: dict[str, str] = {}  # name -> module it is bound to by import
        self.from_names: dict[str, str] = {}  # name -> "module.name" from ``from m import name``
        stored: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.partition(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name != "*":
                        self.from_names[alias.asname or alias.name] = base + "." + alias.name
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                stored.add(node.id)
            elif isinstance(node, ast.arg):
                stored.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stored.add(node.name)
        # a well-known name the cell uses as a plain variable is not a module here
        self.modules = {n: m for n, m in _DEFAULT_ALIASES.items() if n not in stored}
        self.modules.update(self.aliases)
        # names bound to a module, a library name or sys.modules by plain assignment
        # (``m = numpy``, ``T = torch.Tensor``, ``mods = sys.modules``) count as well
        self.var_aliases: dict[str, str] = {}
        for _ in range(2):
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                ):
                    chain = _dotted(node.value)
                    root = (chain or "").partition(".")[0]
                    if chain and (self.is_module_root(chain) or root == "__builtins__"):
                        self.var_aliases[node.targets[0].id] = self.resolve(chain)

    # ---------------------------------------------------------------- helpers
    def flag(self, node: ast.AST, reason: str, detail: str) -> None:
        self.flags.append((getattr(node, "lineno", 0), f"{reason}: {detail}"))

    def resolve(self, chain: str | None) -> str | None:
        """The dotted name with its first part replaced by what an import bound."""
        if chain is None:
            return None
        root, dot, rest = chain.partition(".")
        if root in getattr(self, "var_aliases", ()):
            full = self.var_aliases[root]
        elif root in self.from_names:
            full = self.from_names[root]
        elif root in self.modules:
            full = self.modules[root]
        else:
            return chain
        return full + dot + rest

    def is_module_root(self, chain: str | None) -> bool:
        root = (chain or "").partition(".")[0]
        return (
            root in self.modules
            or root in self.from_names
            or root in getattr(self, "var_aliases", ())
        )

    def attribute_target(self, node: ast.Attribute, verb: str) -> None:
        """An attribute assigned, deleted or set with setattr."""
        chain = _dotted(node)
        attr = node.attr
        if chain is None:
            # type(x).__eq__ = ..., sys.modules["m"].f = ..., vars(m)... = ...
            inner = _dotted(node.value.value) if isinstance(node.value, ast.Subscript) else None
            if inner is not None and self.resolve(inner) == "sys.modules":
                self.flag(node, "edits sys.modules", _describe(verb, _short(node)))
            elif attr in _SPECIAL_ATTRS:
                self.flag(node, "assigns special attribute", _describe(verb, _short(node)))
            return
        self.attribute_chain(node, chain, verb)

    def attribute_chain(self, node: ast.AST, chain: str, verb: str) -> None:
        resolved = self.resolve(chain) or chain
        parts = chain.split(".")
        attr = parts[-1]
        if resolved.partition(".")[0] == "__builtins__" or resolved.startswith("builtins."):
            self.flag(node, "edits builtins", _describe(verb, chain))
        elif resolved in ("sys.modules",) or resolved.startswith("sys.modules."):
            self.flag(node, "edits sys.modules", _describe(verb, chain))
        elif resolved.split(".")[:2] in (
            ["sys", "meta_path"],
            ["sys", "path_hooks"],
            ["sys", "path_importer_cache"],
        ):
            self.flag(node, "edits import hooks", _describe(verb, chain))
        elif self.is_module_root(chain) and len(parts) > 1:
            middle = resolved.split(".")[1:-1]
            if resolved in _CONFIG_NAMES or any(p in _CONFIG_PARTS for p in middle):
                return
            names = resolved.split(".")
            classy = [p for p in names[:-1] if p in _CLASSY or p[:1].isupper()]
            if classy:
                self.flag(node, "patches library class", _describe(verb, chain))
            else:
                self.flag(node, "rebinds module attribute", _describe(verb, chain))
        elif attr in _SPECIAL_ATTRS and len(parts) > 1:
            self.flag(node, "assigns special attribute", _describe(verb, chain))

    def subscript_target(self, node: ast.Subscript, verb: str) -> None:
        value = node.value
        chain = _dotted(value)
        resolved = self.resolve(chain)
        if resolved == "sys.modules":
            self.flag(node, "edits sys.modules", _describe(verb, _short(node)))
        elif resolved in ("sys.meta_path", "sys.path_hooks", "sys.path_importer_cache"):
            self.flag(node, "edits import hooks", _describe(verb, _short(node)))
        elif chain is not None and (
            resolved.partition(".")[0] == "__builtins__" or resolved == "builtins.__dict__"
        ):
            self.flag(node, "edits builtins", _describe(verb, _short(node)))
        elif chain is not None and chain.endswith(".__dict__"):
            owner = chain[: -len(".__dict__")]
            if self.is_module_root(owner):
                self.flag(node, "rebinds module attribute", _describe(verb, _short(node)))
            else:
                self.flag(node, "assigns special attribute", _describe(verb, _short(node)))
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            name = value.func.id
            arg = _dotted(value.args[0]) if value.args else None
            key = node.slice.value if isinstance(node.slice, ast.Constant) else None
            if name == "vars" and arg is not None and self.resolve(arg) == "builtins":
                self.flag(node, "edits builtins", _describe(verb, _short(node)))
            elif name == "vars" and self.is_module_root(arg):
                self.flag(node, "rebinds module attribute", _describe(verb, _short(node)))
            elif name in ("globals", "vars") and key == "__builtins__":
                self.flag(node, "edits builtins", _describe(verb, _short(node)))

    # ---------------------------------------------------------------- visitors
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.partition(".")[0] == "ctypes":
                self.flag(node, "low-level access", f"import {alias.name}")
            if alias.name in ("unittest.mock", "mock"):
                self.flag(node, "mock patching", f"import {alias.name}")
            expected = _STRICT_ALIASES.get(alias.asname or "")
            if expected is not None and alias.name != expected:
                self.flag(node, "rebinds module name", f"import {alias.name} as {alias.asname}")
            if alias.asname in _SHADOWED_BUILTINS:
                self.flag(node, "shadows builtin", f"import {alias.name} as {alias.asname}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.partition(".")[0] == "ctypes":
            self.flag(node, "low-level access", f"from {module} import ...")
        if module in ("unittest.mock", "mock", "unittest"):
            names = [a.name for a in node.names]
            if module != "unittest" or "mock" in names:
                self.flag(node, "mock patching", f"from {module} import {', '.join(names)}")
        for alias in node.names:
            if alias.name == "ctypes":
                self.flag(node, "low-level access", f"from {module} import ctypes")
            full = f"{module}.{alias.name}"
            if full in _FRAME_CALLS:
                self.flag(node, "walks frames or gc", f"from {module} import {alias.name}")
            expected = _STRICT_ALIASES.get(alias.asname or alias.name)
            if expected is not None and full != expected and alias.name != expected:
                self.flag(
                    node,
                    "rebinds module name",
                    f"from {module} import {alias.name} as {alias.asname or alias.name}",
                )
            if alias.asname in _SHADOWED_BUILTINS and alias.asname != alias.name:
                self.flag(
                    node, "shadows builtin", f"from {module} import {alias.name} as {alias.asname}"
                )
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Store):
            self.attribute_target(node, "")
        elif isinstance(node.ctx, ast.Del):
            self.attribute_target(node, "del")
        if node.attr in _FRAME_ATTRS:
            self.flag(node, "walks frames or gc", self.resolve(_dotted(node)) or f".{node.attr}")
        elif node.attr in _LOW_LEVEL_ATTRS:
            self.flag(node, "low-level access", _dotted(node) or f".{node.attr}")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store):
            self.subscript_target(node, "")
        elif isinstance(node.ctx, ast.Del):
            self.subscript_target(node, "del")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__" and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.flag(node, "edits builtins", "__builtins__ rebound")
        elif node.id == "ctypes" and node.id not in self.aliases:
            self.flag(node, "low-level access", "ctypes")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.name_binding(target, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.name_binding(node.target, node.value, node)
        self.generic_visit(node)

    def name_binding(self, target: ast.AST, value: ast.AST, node: ast.AST) -> None:
        if not isinstance(target, ast.Name):
            return
        name = target.id
        if name in _STRICT_ALIASES:
            if self.resolve(_dotted(value)) != _STRICT_ALIASES[name]:  # np = numpy is fine
                self.flag(node, "rebinds module name", f"{name} = {_short(value)}")
        elif (
            name in _SHADOWED_BUILTINS
            and node in self.top_level
            and isinstance(value, (ast.Lambda, ast.Name, ast.Attribute))
        ):
            self.flag(node, "shadows builtin", f"{name} = {_short(value)}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in _SHADOWED_BUILTINS and node in self.top_level:
            self.flag(node, "shadows builtin", f"def {node.name}")
        if node.name in _STRICT_ALIASES:
            self.flag(node, "rebinds module name", f"def {node.name}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [self.resolve(_dotted(b)) for b in node.bases]
        tails = [b.rpartition(".")[2] for b in bases if b]
        enum_like = any(t.endswith("Enum") or t == "NamedTuple" for t in tails)
        for base, tail in zip(bases, tails):
            if base is None:
                continue
            if not enum_like and (base in _SUSPECT_BASES or tail in _SUSPECT_BASE_TAILS):
                listed = ", ".join(_short(b) for b in node.bases)
                self.flag(node, f"subclasses {base}", f"class {node.name}({listed})")
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                meta = self.resolve(_dotted(keyword.value)) or _short(keyword.value)
                if meta.rpartition(".")[2] not in ("ABCMeta", "EnumMeta", "EnumType"):
                    self.flag(node, "subclasses type", f"class {node.name}(metaclass={meta})")
        container = any(
            t.endswith(_CONTAINER_BASES) or t in _CONTAINER_BASES for t in tails
        ) or node.name.endswith(_CONTAINER_NAMES)
        for item in node.body:
            names: list[str] = []
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [item.name]
            elif isinstance(item, ast.Assign):
                names = [t.id for t in item.targets if isinstance(t, ast.Name)]
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names = [item.target.id]
            for name in names:
                if name not in _SUSPECT_DUNDERS:
                    continue
                if container and name in _CONTAINER_DUNDERS:
                    continue
                self.flags.append((item.lineno, f"defines {name} on class {node.name}"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        chain = _dotted(node.func)
        resolved = self.resolve(chain) or ""
        head, _, tail = resolved.rpartition(".")
        self.call_patches(node, chain, head, tail)
        self.call_mocks(node, resolved, head, tail)
        self.call_runs_code(node, chain, resolved)
        self.call_reads_files(node, chain, resolved, tail)
        self.generic_visit(node)

    def call_patches(self, node: ast.Call, chain: str | None, head: str, tail: str) -> None:
        """setattr(np, ...), sys.modules.update(...), vars(builtins).update(...), ..."""
        args = node.args
        name = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else "?"
        if chain in ("setattr", "delattr") and args:
            verb, target = chain + "()", args[0]
            if (
                isinstance(target, ast.Subscript)
                and self.resolve(_dotted(target.value)) == "sys.modules"
            ):
                self.flag(node, "edits sys.modules", f"{verb} on {_short(target)}")
            elif _dotted(target) is not None:
                self.attribute_chain(node, f"{_dotted(target)}.{name}", verb)
            elif name in _SPECIAL_ATTRS:
                self.flag(node, "assigns special attribute", _describe(verb, _short(node)))
        elif tail in ("__setattr__", "__delattr__") and head in (
            "object",
            "type",
            "builtins.object",
            "builtins.type",
        ):
            self.flag(node, "assigns special attribute", _short(node))
        elif head == "sys.modules" and tail in _SYS_MODULES_METHODS:
            self.flag(node, "edits sys.modules", _short(node))
        elif head in ("sys.meta_path", "sys.path_hooks", "sys.path_importer_cache") and (
            tail in _LIST_METHODS or tail in _SYS_MODULES_METHODS
        ):
            self.flag(node, "edits import hooks", _short(node))
        elif tail in _SYS_MODULES_METHODS and (
            head.partition(".")[0] == "__builtins__" or head == "builtins.__dict__"
        ):
            self.flag(node, "edits builtins", _short(node))
        elif tail in ("update", "__setitem__", "setdefault"):
            # np.__dict__.update(...), vars(np).update(...)
            owner = None
            if head.endswith(".__dict__"):
                owner = head[: -len(".__dict__")]
            elif (
                isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Call)
                and _dotted(node.func.value.func) == "vars"
                and node.func.value.args
            ):
                owner = _dotted(node.func.value.args[0])
            if owner is not None and (
                self.resolve(owner) == "builtins" or owner.partition(".")[0] == "__builtins__"
            ):
                self.flag(node, "edits builtins", _short(node))
            elif owner is not None and self.is_module_root(owner):
                self.flag(node, "rebinds module attribute", _short(node))
        if chain == "type" and len(args) == 3 and isinstance(args[2], ast.Dict):
            for key in args[2].keys:
                if isinstance(key, ast.Constant) and key.value in _SUSPECT_DUNDERS:
                    what = args[0].value if isinstance(args[0], ast.Constant) else "?"
                    self.flag(node, f"defines {key.value} on class {what}", "type(...) call")

    def call_mocks(self, node: ast.Call, resolved: str, head: str, tail: str) -> None:
        """mock.patch(...), patch.object(...), monkeypatch.setattr(...)."""
        if tail in ("patch", "object", "dict", "multiple") and (
            "mock" in resolved.split(".") or (tail != "patch" and head.endswith("patch"))
        ):
            self.flag(node, "mock patching", _short(node))
        elif resolved.startswith("monkeypatch.") and tail in (
            "setattr",
            "setitem",
            "delattr",
            "delitem",
            "syspath_prepend",
        ):
            self.flag(node, "mock patching", _short(node))

    def call_runs_code(self, node: ast.Call, chain: str | None, resolved: str) -> None:
        """Frames, gc, exec and friends, threads and signals, module files."""
        if resolved in _FRAME_CALLS:
            self.flag(node, "walks frames or gc", resolved)
        if chain in _DYNAMIC_CALLS or resolved in {"builtins." + n for n in _DYNAMIC_CALLS}:
            self.flag(node, "runs dynamic code", _short(node))
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in _SHELL_METHODS
            and isinstance(node.func.value, ast.Call)
            and _dotted(node.func.value.func) == "get_ipython"
            and not (
                node.func.attr == "run_line_magic"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in _HARMLESS_MAGICS
            )
        ):
            self.flag(node, "runs dynamic code", _short(node))
        if resolved in _BACKGROUND_CALLS:
            self.flag(node, "runs background code", resolved)
        if self.writes_python_file(node, chain):
            self.flag(node, "writes a Python file", _short(node))

    def call_reads_files(self, node: ast.Call, chain: str | None, resolved: str, tail: str) -> None:
        """open('/etc/x'), np.load('../y'), os.walk('~'), Path.home(), ..."""
        if resolved in _HOME_CALLS or (chain or "").endswith("Path.home"):
            self.flag(node, "reads outside the work folder", _short(node))
        elif tail in _FILE_CALLS or tail.startswith("read_"):
            for arg in list(node.args) + [k.value for k in node.keywords]:
                if any(_suspect_path(text) for text in _strings(arg)):
                    self.flag(node, "reads outside the work folder", _short(node))
                    break

    @staticmethod
    def writes_python_file(node: ast.Call, chain: str | None) -> bool:
        """``open("x.py", "w")``, ``Path("x.py").write_text(...)``."""

        def is_py(arg):
            return (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and arg.value.endswith((".py", ".pth", ".so"))
            )

        if chain in ("open", "io.open") and node.args and is_py(node.args[0]):
            mode = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            return isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax+")
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("write_text", "write_bytes"):
            inner = node.func.value
            return isinstance(inner, ast.Call) and bool(inner.args) and is_py(inner.args[0])
        return False

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)) and len(node.value) > MAX_STRING:
            kind = "str" if isinstance(node.value, str) else "bytes"
            self.flag(node, "large literal", f"{kind} of {len(node.value)} characters")

    def literals(self, node: ast.AST, inside: bool = False) -> None:
        displays = (ast.List, ast.Tuple, ast.Set, ast.Dict)
        if isinstance(node, displays) and not inside:
            count = len(node.keys) if isinstance(node, ast.Dict) else len(node.elts)
            leaves = sum(isinstance(n, ast.Constant) for n in ast.walk(node))
            kind = type(node).__name__.lower()
            if count > MAX_ELEMENTS:
                self.flag(node, "large literal", f"{kind} display with {count} elements")
            elif leaves > MAX_LEAVES:
                self.flag(node, "large literal", f"nested {kind} display with {leaves} values")
            inside = True
        for child in ast.iter_child_nodes(node):
            self.literals(child, inside)

    def run(self, tree: ast.Module) -> None:
        self.top_level = set(tree.body)
        self.visit(tree)
        self.literals(tree)
        if not any(text.startswith("large literal") for _, text in self.flags):
            chars = items = 0
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
                    chars += len(node.value)
                elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                    items += len(node.elts)
                elif isinstance(node, ast.Dict):
                    items += len(node.keys)
            if chars > MAX_TOTAL_CHARS or items > MAX_TOTAL_ITEMS:
                self.flags.append(
                    (
                        0,
                        f"large literal: {chars:,} characters of string literals "
                        f"and {items:,} literal items in the cell",
                    )
                )


# fallbacks when the cell does not parse at all: (reason, pattern)
_REGEX_CHECKS = [
    (
        "rebinds module attribute",
        r"\b(?:np|numpy|torch|nn|F|pd|pandas|sklearn|scipy|math|operator|json|course_utils)"
        r"(?:\.(?!options\b|backends\b|config\b)\w+)+\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)",
    ),
    (
        "rebinds module attribute",
        r"\b(?:setattr|delattr)\s*\(\s*(?:np|numpy|torch|nn|F|pd|pandas|sklearn|scipy|math|"
        r"operator|json|course_utils)\b|\bdel\s+(?:np|numpy|torch|pd|math|operator)\.\w",
    ),
    (
        "edits sys.modules",
        r"\bsys\.modules\s*(?:\[[^\]]*\]\s*=(?!=)|\.(?:update|pop|setdefault|clear|popitem|"
        r"__setitem__|__delitem__)\s*\(|=(?!=))|\bdel\s+sys\.modules",
    ),
    ("edits import hooks", r"\bsys\.(?:meta_path|path_hooks)\b"),
    ("edits builtins", r"__builtins__|\bbuiltins\.\w+\s*=(?!=)|\bsetattr\s*\(\s*builtins\b"),
    ("mock patching", r"\bunittest\.mock\b|\bmock\.patch\b|\bmonkeypatch\.set"),
    ("defines", r"\bdef\s+(?:" + "|".join(sorted(_SUSPECT_DUNDERS - {"__len__"})) + r")\s*\("),
    (
        "walks frames or gc",
        r"\bsys\._getframe\b|\binspect\.(?:currentframe|stack|getouterframes|trace)\b|"
        r"\.f_back\b|\.f_locals\b|\.f_globals\b|\.tb_frame\b|"
        r"\bgc\.get_(?:objects|referrers|referents)\b",
    ),
    ("low-level access", r"\bctypes\b|__code__|__subclasses__|__closure__|\bcell_contents\b"),
    ("runs dynamic code", r"(?<![\w.])(?:exec|eval|compile|__import__)\s*\("),
    (
        "runs background code",
        r"\bthreading\.(?:Thread|Timer)\b|\b_thread\.start_new|\bsignal\.(?:signal|setitimer|alarm)\b"
        r"|\batexit\.register\b|\bweakref\.finalize\b",
    ),
    (
        "reads outside the work folder",
        r"\b(?:open|Path|load|loadtxt|genfromtxt|fromfile|read_\w+|listdir|scandir|walk|i?glob|imread)"
        r"\s*\(\s*[rRbBuUfF]{0,2}['\"](?:/|~|[A-Za-z]:[\\/]|[^'\"\n]*\.\.)"
        r"|\bPath\.home\s*\(|\bexpanduser\s*\(",
    ),
]
_REGEX_CHECKS = [(reason, re.compile(pattern)) for reason, pattern in _REGEX_CHECKS]


def _regex_flags(lines: list[tuple[int, str]], note: str) -> list[tuple[int, str]]:
    found = []
    for number, line in lines:
        if line.lstrip().startswith("#"):
            continue
        for reason, pattern in _REGEX_CHECKS:
            match = pattern.search(line)
            if match:
                found.append((number, f"{reason}: {match.group(0).strip()} ({note})"))
        if len(line) > MAX_STRING:
            found.append((number, f"large literal: a line of {len(line)} characters ({note})"))
    return found


def _shell_flags(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    found = []
    for number, line in lines:
        text = line.strip()
        if text.startswith("?") or text.endswith("?"):
            continue  # help
        command = text.split("=", 1)[1].strip() if re.match(r"^[\w.]+\s*=", text) else text
        if command.startswith(("%matplotlib", "%load_ext", "%autoreload", "%config")):
            continue
        if any(
            _suspect_path(m.group(2))
            for m in _SHELL_PATH.finditer(command)
            if not m.group(2).startswith("//")
        ):
            found.append((number, f"reads outside the work folder: {command[:60]}"))
    return found


def scan(code: str) -> list[str]:
    """Flags for patterns in one answer cell that are worth a human look.

    Each flag starts with a short reason (see :data:`REASONS`) and ends with the
    line it was found on. IPython magics, ``!`` shell lines and help lines are set
    aside (shell lines are checked for paths outside the work folder); lines that
    still do not parse are left out and checked with regular expressions, and so is
    the whole cell when it cannot be parsed at all.
    """
    lines = code.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    shell: list[tuple[int, str]] = []
    python = list(lines)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].split()[0]
        if magic not in _PYTHON_CELL_MAGICS:
            # the whole cell is for another program (%%bash, %%writefile, ...)
            numbered = list(enumerate(lines, 1))
            flags = _shell_flags(numbered) + _regex_flags(numbered[first + 1 :], f"in {magic} cell")
            target = lines[first].split()[1:]
            if magic == "%%writefile" and target and target[-1].endswith(".py"):
                flags.append((first + 1, f"writes a Python file: %%writefile {target[-1]}"))
            return _finish(flags)
        shell.append((first + 1, lines[first]))
        python[first] = ""
    for i, line in enumerate(python):
        if not _MAGIC_LINE.search(line) or line.lstrip().startswith("#"):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        words = line.split(None, 1)
        if words[0] in _CODE_MAGICS and len(words) > 1:
            # %time np.allclose = f runs that code: scan it as Python
            statement = _MAGIC_OPTIONS.sub("", words[1]).strip()
            try:
                ast.parse(statement)
                python[i] = indent + statement
                continue
            except SyntaxError:
                pass
        shell.append((i + 1, line))
        python[i] = indent + "pass"
    flags = _shell_flags(shell)
    skipped: list[tuple[int, str]] = []
    tree = None
    for _ in range(25):
        try:
            tree = ast.parse("\n".join(python))
            break
        except SyntaxError as err:
            number = err.lineno or 0
            if not 1 <= number <= len(python) or python[number - 1].strip() == "pass":
                break
            skipped.append((number, lines[number - 1]))
            bad = python[number - 1]
            python[number - 1] = bad[: len(bad) - len(bad.lstrip())] + "pass"
        except (ValueError, RecursionError, MemoryError):
            break
    if tree is None:
        return _finish(flags + _regex_flags(list(enumerate(lines, 1)), "unparsed cell"))
    scanner = _Scanner(tree)
    try:
        scanner.run(tree)
    except RecursionError:
        return _finish(flags + _regex_flags(list(enumerate(lines, 1)), "unparsed cell"))
    flags += scanner.flags
    flags += _regex_flags(skipped, "unparsed line")
    return _finish(flags)


def _finish(flags: list[tuple[int, str]]) -> list[str]:
    out, seen = [], set()
    for number, text in sorted(flags, key=lambda f: f[0]):
        line = f"{text} (line {number})" if number else text
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out
