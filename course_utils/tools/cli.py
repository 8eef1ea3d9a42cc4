"""The ``course`` command.

course data list              what is registered and where it is found
course data fetch NAME...     download into the cache (or find in the mirror)
course data verify [--online] check every mirror and cache file; online, every URL
course nb sync | strip | check   keep notebooks to the conventions
course run [--full]           execute every notebook into build/ with an index
course release SOURCE...      write the student notebook and the answer key
course grade SOURCE SUB...    grade submissions in a sandbox into a gradebook
course check NOTEBOOK         a student's self-check with the public tests
course manual OUT             grade written answers and tasks by hand in a local web page
course classify FOLDER --model CHECKPOINT   label a folder of images into a JSON file
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path

from course_utils import config


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _where(name, rf) -> str:
    from course_utils.data.fetch import cache_file

    root = config.mirror_dir()
    if root is not None and rf.mirror_path and (root / rf.mirror_path).is_file():
        return "mirror"
    if cache_file(name, rf).is_file():
        return "cache"
    return "missing"


def cmd_data_list(args) -> int:
    from course_utils.data import REGISTRY

    print(f"mirror (COURSE_DATA): {config.mirror_dir() or 'not set'}")
    print(f"cache  (COURSE_CACHE): {config.cache_dir()}\n")
    for name, entry in sorted(REGISTRY.items()):
        print(f"{name}: {entry.description}")
        print(f"  license: {entry.license}; size: {_human(entry.size)}")
        for role, rf in entry.files.items():
            tofu = "  [checksum: trust on first use]" if rf.sha256 is None and rf.urls else ""
            print(f"  {role:<11} {rf.name:<22} {_human(rf.size):>9}  {_where(name, rf)}{tofu}")
        if entry.standin is not None:
            print("  small mode without the files: a stand-in (announced)")
    return 0


def cmd_data_fetch(args) -> int:
    from course_utils.data import REGISTRY, DataError, get_entry, path

    names = sorted(REGISTRY) if args.all else args.names
    if not names:
        print("name a dataset (see `course data list`) or pass --all", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            entry = get_entry(name)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            failed += 1
            continue
        for role in entry.files:
            try:
                print(f"{name}/{role}: {path(name, role)}")
            except DataError as exc:
                print(f"error: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def _url_alive(url: str) -> str | None:
    """None when the URL answers, else the reason."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "course-utils"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                if response.status < 400:
                    return None
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405):
                continue  # some hosts refuse HEAD
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return str(getattr(exc, "reason", exc))
    return "no answer"


def cmd_data_verify(args) -> int:
    from course_utils.data import REGISTRY
    from course_utils.data.fetch import cache_file, expected_digest, sha256_of

    bad, checked, tofu = [], 0, []
    root = config.mirror_dir()
    for name, entry in sorted(REGISTRY.items()):
        for role, rf in entry.files.items():
            places = []
            if root is not None and rf.mirror_path and (root / rf.mirror_path).is_file():
                places.append(("mirror", root / rf.mirror_path, rf.mirror_sha256 or rf.sha256))
            cached = cache_file(name, rf)
            if cached.is_file():
                places.append(("cache", cached, expected_digest(rf, cached)))
            if rf.sha256 is None and rf.urls:
                tofu.append(f"{name}/{role}")
            for where, path, expected in places:
                checked += 1
                if expected is None:
                    bad.append(f"{name}/{role} ({where} {path}): no checksum to verify against")
                    continue
                actual = sha256_of(path)
                status = "ok" if actual == expected else "CORRUPTED"
                print(f"{status:<9} {name}/{role} ({where}: {path})")
                if actual != expected:
                    bad.append(
                        f"{name}/{role} ({where} {path}): SHA-256 {actual}, expected {expected}"
                    )
            if args.online:
                for url in rf.urls:
                    reason = _url_alive(url)
                    print(
                        f"{'alive' if reason is None else 'DEAD':<9} {url}"
                        + ("" if reason is None else f" ({reason})")
                    )
                    if reason is not None:
                        bad.append(f"{name}/{role}: dead link {url} ({reason})")
    print(f"\n{checked} file(s) checked.")
    if tofu:
        print(
            "Checksums trusted on first use (unknown when the registry was written):\n  "
            + "\n  ".join(tofu)
        )
    if bad:
        print("\nProblems:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


def _repo_root() -> Path:
    here = Path.cwd()
    for cand in (here, *here.parents):
        if (cand / "notebooks").is_dir() and (cand / "course_utils").is_dir():
            return cand
    return here


def cmd_nb(args) -> int:
    from course_utils.tools import notebooks as nbtools

    root = _repo_root()
    paths = nbtools.expand(args.paths) or nbtools.course_notebooks(root)
    if args.action == "sync":
        from course_utils.tools.grading import release
        from course_utils.tools.grading.notebook_format import is_lesson

        for p in paths:
            if nbtools.sync(p):
                print(f"updated setup cell: {p}")
            if p.name.endswith(nbtools.SOURCE_SUFFIX) and is_lesson(p) and release(p)[1]:
                print(f"released the student seminar of {p}")
        return 0
    if args.action == "strip":
        for p in paths:
            if nbtools.strip(p):
                print(f"stripped outputs: {p}")
        return 0
    found = [msg for p in paths for msg in nbtools.problems(p)]
    if not args.paths:  # the homework sources too (their student versions are generated)
        sources = sorted((root / "homeworks").glob("*/*.source.ipynb"))
        found += [msg for p in sources for msg in nbtools.dead_cells(p) + nbtools.stale_release(p)]
        paths = paths + sources
    for msg in found:
        print(msg, file=sys.stderr)
    print(f"{len(paths)} notebook(s) checked, {len(found)} problem(s)")
    return 1 if found else 0


def cmd_run(args) -> int:
    from tqdm.auto import tqdm

    from course_utils.tools import notebooks as nbtools

    root = _repo_root()
    out = Path(args.out)
    paths = [p.resolve() for p in nbtools.expand(args.paths)] or nbtools.course_notebooks(root)
    small = not args.full
    results = []
    for p in tqdm(paths, desc="notebooks", unit="nb"):
        r = nbtools.execute(p, out, root, timeout=args.timeout, small=small)
        tqdm.write(f"{r.status:<7} {r.seconds:6.1f} s  {r.notebook}  {r.headline} {r.error}")
        results.append(r)
    index = nbtools.write_index(results, out, small)
    print(f"index: {index}")
    return 0 if all(r.status == "ok" for r in results) else 1


def cmd_release(args) -> int:
    from course_utils.tools.grading import FormatError, release
    from course_utils.tools.grading.release import release_folder

    status = 0
    for source in args.sources:
        try:
            if Path(source).is_dir():
                written = release_folder(
                    Path(source),
                    key=False if args.no_key else None,
                    allow_weak=args.allow_weak_sandbox,
                )
            else:
                written = [
                    release(
                        Path(source),
                        key=False if args.no_key else None,
                        allow_weak=args.allow_weak_sandbox,
                    )
                ]
        except (FormatError, OSError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        for path, changed in written:
            if args.check and changed:
                print(
                    f"stale: {path} differed from `course release {source}` (now rewritten)",
                    file=sys.stderr,
                )
                status = 1
            else:
                print(f"{'wrote' if changed else 'up to date'}: {path}")
    return status


def cmd_grade(args) -> int:
    from course_utils.tools.grading import FormatError, Limits, grade
    from course_utils.tools.grading.notebook_format import homework_name

    try:
        limits = Limits(
            cell_timeout=args.cell_timeout,
            notebook_timeout=args.notebook_timeout,
            memory_mb=args.memory_mb,
            max_tasks=args.max_tasks,
            threads=args.threads,
        )
    except ValueError as exc:
        print(f"error: --{exc}", file=sys.stderr)
        return 2
    out = Path(args.out or f"grades/{homework_name(Path(args.source))}")
    try:
        results = grade(
            Path(args.source),
            [Path(p) for p in args.submissions],
            out,
            jobs=args.jobs,
            limits=limits,
            force=args.force,
            allow_weak=args.allow_weak_sandbox,
        )
    except (FormatError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in results:
        note = r.reason or "; ".join(r.events[:2])
        print(f"{r.score:6g} / {r.max_score:g}  {r.status:<8} {r.submission}  {note[:100]}")
    print(
        f"gradebook: {out / 'gradebook.csv'} (a row per notebook), {out / 'totals.csv'} "
        "(a row per student); results and feedback beside them"
    )
    pending = sum(1 for r in results for t in r.tests if t["status"] == "manual")
    if pending:
        print(f"{pending} answer(s) wait for manual grading: `course manual {out}`")
    return 0


def cmd_check(args) -> int:
    from course_utils.tools.grading import FormatError, check

    try:
        result = check(Path(args.notebook), cell_timeout=args.cell_timeout)
    except (FormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if _is_seminar(Path(args.notebook)):
        return _report_seminar(result)
    width = max([len(t["id"]) for t in result.tests] + [4])
    print(f"{'test':<{width}}  points   status   details")
    for t in result.tests:
        print(
            f"{t['id']:<{width}}  {t['points']:g}/{t['max_points']:g}".ljust(width + 10)
            + f" {t['status']:<8} {t['message'][:90]}"
        )
    manual = sum(t["max_points"] for t in result.tests if t["status"] == "manual")
    print(
        f"\npublic tests: {result.score:g} / {result.max_score:g} points "
        "(hidden tests are run by the grader only"
        + (f"; {manual:g} points are graded by hand)" if manual else ")")
    )
    if result.changes:
        print("\nWhat you changed, and what the grader will do with it:")
        for change in result.changes:
            print(f"  - {change}")
    auto = result.max_score - manual
    return 0 if result.score >= auto else 1


def _is_seminar(path: Path) -> bool:
    """A lesson's seminar (or its source): exercise checks without points."""
    import nbformat

    from course_utils.tools.grading.notebook_format import is_seminar

    try:
        return is_seminar(nbformat.read(path, as_version=4), path)
    except (OSError, ValueError):
        return False


def _report_seminar(result) -> int:
    """Which exercises pass: one line per check cell, then the count."""
    checks = [t for t in result.tests if t["status"] != "manual"]
    width = max([len(t["id"]) for t in checks] + [5])
    print(f"{'check':<{width}}  status   details")
    for t in checks:
        print(f"{t['id']:<{width}}  {t['status']:<8} {t['message'][:90]}")
    passed = sum(t["status"] == "passed" for t in checks)
    print(f"\nexercise checks passed: {passed} / {len(checks)}")
    print("(the cells after the last check were not run: no check depends on them)")
    if result.changes:
        print("\nCells you changed or added (they ran as you wrote them):")
        for change in result.changes:
            print(f"  - {change}")
    return 0 if checks and passed == len(checks) else 1


def cmd_manual(args) -> int:
    from course_utils.tools.grading import manual

    def on_save(out: Path) -> None:  # rewrite gradebook and feedback with the new points
        try:
            from course_utils.tools.grading.grade import write_reports
        except ImportError:  # a grader without reports of manual grades
            return
        write_reports(out)

    try:
        manual.serve(Path(args.out), host=args.host, port=args.port, on_save=on_save)
    except (ValueError, OSError) as exc:  # not loopback, port taken, corrupt manual.json
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_classify(args) -> int:
    from course_utils.vision.classify import CheckpointError, classify_folder, write_json_atomic
    from course_utils.vision.images import NoImagesError, UnreadableImageError

    try:
        labels = classify_folder(
            args.folder,
            args.model,
            batch_size=args.batch_size,
            recursive=args.recursive,
            skip_unreadable=args.skip_unreadable,
            progress=not args.quiet,
        )
    except UnreadableImageError as exc:
        print(
            f'error: {exc}\n(pass --skip-unreadable to list such files under "errors" '
            "in the JSON and label the others)",
            file=sys.stderr,
        )
        return 2
    except (
        FileNotFoundError,
        NotADirectoryError,
        NoImagesError,
        CheckpointError,
        ValueError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = write_json_atomic(args.out, labels)
    errors = labels.get("errors", {})
    n = len(labels) - (1 if errors else 0)
    print(
        f"labelled {n} image(s)"
        + (f', {len(errors)} unreadable (see "errors")' if errors else "")
        + f": {out}"
    )
    return 0


def cmd_new(args) -> int:
    from course_utils.tools import scaffold

    root = _repo_root()
    try:
        if args.kind == "dataset":
            module, test = scaffold.new_dataset(root, args.name)
            print(f"wrote: {module.relative_to(root)}, {test.relative_to(root)}")
            print(
                "listed in course_utils/data/datasets/__init__.py; fill in the entry (CONTRIBUTING.md)"
            )
            return 0
        if args.kind == "lesson":
            path = scaffold.new_lesson(root, args.name)
            seminar = path.with_name(path.name.replace(".source.ipynb", ".ipynb"))
            print(f"wrote: {path.relative_to(root)} and its seminar {seminar.name}")
            print("next: write the lesson; `make lint` and `make test` check it as you go")
            return 0
        source = scaffold.new_homework(root, args.name)
        print(f"wrote: {source.relative_to(root)} and README.md beside it")
    except scaffold.ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.no_release:
        print(f"next: `course release {source.relative_to(root)}` (student version and key)")
        return 0
    from course_utils.tools.grading import FormatError, release

    try:
        student, _ = release(source)
        print(f"wrote: {Path(student).relative_to(root)} and the answer key")
    except (FormatError, OSError, RuntimeError) as exc:
        print(
            f"error: the skeleton is written, but `course release` failed: {exc}", file=sys.stderr
        )
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="datasets and weights").add_subparsers(
        dest="action", required=True
    )
    data.add_parser("list", help="list registered datasets").set_defaults(func=cmd_data_list)
    fetch = data.add_parser("fetch", help="fetch datasets into the cache")
    fetch.add_argument("names", nargs="*")
    fetch.add_argument("--all", action="store_true")
    fetch.set_defaults(func=cmd_data_fetch)
    verify = data.add_parser("verify", help="verify checksums (and, --online, URLs)")
    verify.add_argument("--online", action="store_true", help="also check every URL is alive")
    verify.set_defaults(func=cmd_data_verify)

    nb = sub.add_parser("nb", help="notebook conventions")
    nb.add_argument("action", choices=["sync", "strip", "check"])
    nb.add_argument("paths", nargs="*")
    nb.set_defaults(func=cmd_nb)

    new = sub.add_parser(
        "new", help="write a lesson, homework or dataset skeleton that passes the checks as it is"
    )
    new.add_argument("kind", choices=["lesson", "homework", "dataset"])
    new.add_argument(
        "name",
        help="lesson: TRACK/NN_topic (nlp, rl, vision); homework: NN_topic; dataset: a_name",
    )
    new.add_argument(
        "--no-release", action="store_true", help="homework: do not run `course release`"
    )
    new.set_defaults(func=cmd_new)

    run = sub.add_parser("run", help="execute notebooks into a build folder")
    run.add_argument("paths", nargs="*")
    run.add_argument("--full", action="store_true", help="full mode (default: small)")
    run.add_argument("--out", default="build")
    run.add_argument("--timeout", type=int, default=600, help="per-cell timeout, seconds")
    run.set_defaults(func=cmd_run)

    rel = sub.add_parser("release", help="write student notebooks from sources")
    rel.add_argument(
        "sources",
        nargs="+",
        help="source notebooks, or assignment folders (every notebook in it, and its data files)",
    )
    rel.add_argument("--check", action="store_true", help="fail when a student notebook was stale")
    rel.add_argument(
        "--no-key",
        action="store_true",
        help="write the student notebook only, not the answer key of the trusted "
        "checks (which runs the reference solution in the sandbox); lessons have no key",
    )
    rel.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="make the answer key even where bubblewrap is not available",
    )
    rel.set_defaults(func=cmd_release)

    gr = sub.add_parser("grade", help="grade submissions into a gradebook")
    gr.add_argument(
        "source",
        help="the instructor's source notebook (nbgrader format), or an "
        "assignment folder of them (nbgrader's source/<assignment>/)",
    )
    gr.add_argument("submissions", nargs="+", help="submission files or folders")
    gr.add_argument("--out", help="output folder (default grades/NAME)")
    gr.add_argument("--jobs", type=int, default=1)
    gr.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    gr.add_argument("--cell-timeout", type=float, default=120.0)
    gr.add_argument("--notebook-timeout", type=float, default=900.0)
    gr.add_argument("--memory-mb", type=int, default=4096)
    gr.add_argument("--max-tasks", type=int, default=256)
    gr.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of each submission's kernel (default 1; with --jobs N use at most "
        "cores/N). Small mode sets one thread itself; full mode computes with this many",
    )
    gr.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="grade even where bubblewrap (the allow-list sandbox) is not available",
    )
    gr.set_defaults(func=cmd_grade)

    ck = sub.add_parser(
        "check",
        help="self-check a homework with its public tests, or a seminar with its exercise checks",
    )
    ck.add_argument("notebook")
    ck.add_argument("--cell-timeout", type=float, default=300.0)
    ck.set_defaults(func=cmd_check)

    mn = sub.add_parser(
        "manual",
        help="grade answers by hand in a local web page",
        description="Serve a page on loopback to give points and comments "
        "to the written answers, manually graded code and tasks of a grades "
        "folder (written by `course grade`); they are kept in OUT/manual.json "
        "and the gradebook and feedback are rewritten after each save.",
    )
    mn.add_argument("out", help="the grades folder of `course grade` (with results/)")
    mn.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    mn.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to listen on: 127.0.0.1, ::1 or localhost",
    )
    mn.set_defaults(func=cmd_manual)

    cl = sub.add_parser(
        "classify",
        help="label every image of a folder with a saved classifier",
        description="Label every image in FOLDER with a classifier checkpoint written by "
        "course_utils.vision.classify.save_classifier and write a JSON file "
        '{"file name": {"label": ..., "probability": ...}} (probability: the softmax of the '
        "chosen class). Exit code 2 with a message for a missing or invalid checkpoint, a "
        "missing or empty folder, or an unreadable image (unless --skip-unreadable).",
    )
    cl.add_argument("folder", help="folder of images (.png, .jpg, ...)")
    cl.add_argument(
        "--model", required=True, metavar="CHECKPOINT", help="checkpoint file from save_classifier"
    )
    cl.add_argument(
        "--out",
        default="labels.json",
        help="JSON file to write (default: labels.json in the current directory; "
        "written atomically, replaced if it exists)",
    )
    cl.add_argument("--batch-size", type=int, default=32)
    cl.add_argument(
        "--recursive",
        action="store_true",
        help="also label images in sub-folders (keys are paths relative to FOLDER)",
    )
    cl.add_argument(
        "--skip-unreadable",
        action="store_true",
        help='do not stop at an unreadable image: list it under the key "errors" '
        "({file name: reason}) and label the others (default: stop, exit code 2)",
    )
    cl.add_argument("--quiet", action="store_true", help="no progress bar")
    cl.set_defaults(func=cmd_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FileNotFoundError as err:  # a mistyped path: one line, not a traceback
        print(f"course: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
