"""`course new lesson|homework|dataset NAME`: skeletons that pass the checks as they are.

A new lesson gets an instructor source (header with title, Colab badge, what you learn,
the exercises, run times, data, results; the generated setup cell; one parameters cell;
five example exercises, each with its check) and the student seminar released from it;
`course nb check`, ruff and nbval accept it unchanged. A new homework gets a source with
one answer cell and its test (a public assert and a hidden ``submit`` judged against the
key), a README, and, unless asked not to, its student version and key from
`course release`: the source scores full marks and the student version zero.
Replace the example with the real content; the checks keep passing while you do.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from course_utils.tools.templates import colab_badge, setup_cell_source

TRACKS = ("nlp", "rl", "vision")
_NAME = re.compile(r"\d\d_[a-z0-9]+(?:_[a-z0-9]+)*")


class ScaffoldError(ValueError):
    """A name that does not fit the layout, or a file that already exists."""


def _title(topic: str) -> str:
    words = topic.split("_")
    return " ".join([words[0].capitalize(), *words[1:]])


def _check_name(name: str, what: str) -> None:
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"expected a {what} name like 07_beam_search (two digits, an underscore, lower-case "
            f"words joined by underscores), found {name!r}"
        )


def _new_notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    return nb


def _write_new(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as fh:  # never overwrite someone's work
        nbformat.write(nb, fh)
    return path


# The example exercises of a new lesson: (grade_id, task, answer cell, check cell). They
# show the format (the solution between the markers, a check naming the usual mistake);
# the author replaces them with what the lesson teaches.
_EXAMPLES = (
    (
        "sample_mean",
        "the mean of a 1-D array, without `np.mean`",
        "def sample_mean(x):\n    ### BEGIN SOLUTION\n    return float(np.sum(x) / len(x))\n"
        "    ### END SOLUTION",
        "assert sample_mean(np.array([1.0, 2.0, 6.0])) == 3.0, (\n"
        '    "expected 3.0: divide the sum by the number of values, not by a fixed size"\n)',
    ),
    (
        "sample_var",
        "the variance (divide by n) of a 1-D array, with your `sample_mean`",
        "def sample_var(x):\n    ### BEGIN SOLUTION\n"
        "    return float(np.sum((x - sample_mean(x)) ** 2) / len(x))\n    ### END SOLUTION",
        "assert sample_var(np.array([1.0, 3.0])) == 1.0, (\n"
        '    "expected 1.0: the mean of the squared deviations (n, not n - 1, here)"\n)',
    ),
    (
        "standardize",
        "`x` shifted to mean 0 and scaled to standard deviation 1",
        "def standardize(x):\n    ### BEGIN SOLUTION\n"
        "    return (x - sample_mean(x)) / np.sqrt(sample_var(x))\n    ### END SOLUTION",
        "z = standardize(np.array([1.0, 2.0, 3.0]))\n"
        'assert abs(z.mean()) < 1e-12, "the mean must be 0: subtract the mean first"\n'
        'assert abs(z.std() - 1) < 1e-12, "the std must be 1: divide by the std, not the variance"',
    ),
    (
        "softmax",
        "a numerically stable softmax of a 1-D array",
        "def softmax(x):\n    ### BEGIN SOLUTION\n    e = np.exp(x - np.max(x))\n"
        "    return e / e.sum()\n    ### END SOLUTION",
        "p = softmax(np.array([1000.0, 1000.0]))\n"
        'assert np.allclose(p, 0.5), "overflow: subtract the maximum before np.exp"\n'
        'assert np.isclose(softmax(np.array([0.0, np.log(3.0)]))[1], 0.75), "rows must sum to 1"',
    ),
    (
        "cross_entropy",
        "the cross-entropy of a probability vector `p` for the true class `y`",
        "def cross_entropy(p, y):\n    ### BEGIN SOLUTION\n    return float(-np.log(p[y]))\n"
        "    ### END SOLUTION",
        "assert np.isclose(cross_entropy(np.array([0.25, 0.75]), 1), np.log(4 / 3)), (\n"
        '    "expected -log p[y]: check the sign and that you index the true class"\n)',
    ),
)


def new_lesson(root: Path, spec: str) -> Path:
    """Write the source ``notebooks/<track>/<NN_topic>.source.ipynb`` from ``spec`` =
    ``track/NN_topic``, with five example exercises and their checks, and release its
    student seminar ``<NN_topic>.ipynb`` beside it; return the source's path."""
    track, _, name = spec.strip("/").removesuffix(".ipynb").removesuffix(".source").partition("/")
    if track not in TRACKS or not name:
        raise ScaffoldError(
            f"expected TRACK/NN_topic with TRACK one of {', '.join(TRACKS)}, found {spec!r}"
        )
    _check_name(name, "lesson")
    rel = f"notebooks/{track}/{name}.ipynb"
    for existing in (rel, rel.replace(".ipynb", ".source.ipynb")):
        if (Path(root) / existing).exists():
            raise ScaffoldError(f"{existing} exists already; pick another name or edit it")
    path = Path(root) / rel.replace(".ipynb", ".source.ipynb")
    listed = "\n".join(f"{i}. `{gid}`: {task}." for i, (gid, task, _, _) in enumerate(_EXAMPLES, 1))
    header = f"""# {_title(name.split("_", 1)[1])}

{colab_badge(rel)}

**You will learn** (and write yourself, in this notebook):

- the first idea of the lesson;
- the second.

**Exercises** (each followed by a check that names the usual mistake; `course check
{name}.ipynb` says which pass):

{listed}

**Run time**: small mode (`COURSE_SMALL=1`, what CI runs) under a minute on 2 CPU
cores; full mode to be measured (`make bench`), on CPU and on a GPU.

**Data**: none yet. Load data only through `course_utils.data.load` (CONTRIBUTING.md).

**Full mode reaches:** not measured yet: a new lesson (put the figure from
`docs/results.md` here, in bold, with its hardware)."""
    knobs = """import numpy as np

SEED = 0
N_SAMPLES = 1_000 if SMALL else 100_000  # every size is switched on SMALL, here only"""
    cells = [
        nbformat.v4.new_markdown_cell(header),
        nbformat.v4.new_code_cell(setup_cell_source()),
        nbformat.v4.new_code_cell(knobs),
        nbformat.v4.new_markdown_cell(
            "## 1. A first section\n\nExplain the idea here; then the student writes it."
        ),
    ]
    for i, (gid, task, answer, check) in enumerate(_EXAMPLES, 1):
        cells += [
            nbformat.v4.new_markdown_cell(f"**Exercise {i} (`{gid}`).** Write {task}."),
            nbformat.v4.new_code_cell(answer, metadata=_nbgrader(gid, solution=True, grade=False)),
            nbformat.v4.new_code_cell(
                check + f'\nprint("✓ {gid}")',
                metadata=_nbgrader(f"check_{gid}", solution=False, grade=True, points=0),
            ),
        ]
    cells.append(
        nbformat.v4.new_code_cell(
            "rng = np.random.default_rng(SEED)\n"
            "sample = standardize(rng.normal(size=N_SAMPLES))\n"
            'course_utils.headline("sample_std", float(np.sqrt(sample_var(sample))))'
        )
    )
    _write_new(path, _new_notebook(cells))
    from course_utils.tools.grading import release

    release(path)
    return path


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def new_homework(root: Path, name: str) -> Path:
    """Write ``homeworks/<NN_topic>/`` with its source notebook and README; return the
    source's path."""
    _check_name(name, "homework")
    folder = Path(root) / "homeworks" / name
    if folder.exists():
        raise ScaffoldError(f"homeworks/{name} exists already; pick another name or edit it")
    number = int(name[:2])
    student_rel = f"homeworks/{name}/{name}.ipynb"
    header = f"""# Homework {number}: {_title(name.split("_", 1)[1]).lower()}

{colab_badge(student_rel)}

What the student builds, and how it goes beyond its lesson. Run time: small mode under a
minute on 2 CPU cores; full mode to be measured. Check your work with
`course check {name}.ipynb` before you submit."""
    instructor = """import numpy as np

from course_utils.tools.grading.checks import submit"""
    task = """## 1. Standardise (7 points)

`standardize(x)` returns `x` shifted to mean 0 and scaled to standard deviation 1 (a
NumPy array of the same shape)."""
    answer = """def standardize(x):
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean()) / x.std()
    ### END SOLUTION"""
    test = """z = standardize([1.0, 2.0, 3.0])
assert np.allclose(z.mean(), 0) and np.allclose(z.std(), 1), "mean 0 and std 1 expected"
### BEGIN HIDDEN TESTS
submit("standardize_random", standardize(np.random.default_rng(7).normal(3, 2, size=50)))
### END HIDDEN TESTS"""
    nb = _new_notebook(
        [
            nbformat.v4.new_markdown_cell(header),
            nbformat.v4.new_code_cell(setup_cell_source()),
            nbformat.v4.new_code_cell(instructor),
            nbformat.v4.new_markdown_cell(task),
            nbformat.v4.new_code_cell(
                answer, metadata=_nbgrader("standardize", solution=True, grade=False)
            ),
            nbformat.v4.new_code_cell(
                test, metadata=_nbgrader("standardize_tests", solution=False, grade=True, points=7)
            ),
            *_open_part(),
        ]
    )
    source = _write_new(folder / f"{name}.source.ipynb", nb)
    (folder / "README.md").write_text(
        f"""# Homework {number}

Every homework has 10 points: 7 automatic, and an open part of 3 graded by hand.

| part | grade id | points | public tests | judged by the grader (trusted) |
|---|---|---|---|---|
| `standardize(x)` | `standardize_tests` | 7 | mean 0, std 1 (toy input) | output on a random input vs the key |
| open part: experiments | `open_experiments` | 1 | - | by hand (`course manual`), rubric in the source |
| open part: report | `open_report` | 2 | - | by hand (`course manual`), rubric in the source |

`course release homeworks/{name}/{name}.source.ipynb` writes the student version and the
answer key; `course grade` grades a folder of submissions (README of `homeworks/`).
""",
        encoding="utf-8",
    )
    return source


def _open_part() -> list:
    """The open part every homework ends with (3 of its 10 points, graded by hand): the
    task, the student's experiments (a code answer) and their report (a written answer
    whose source is the model report and the rubric the manual grader sees)."""
    task = """## Open part (3 points, graded by hand)

Try **at least two improvements of your own choice** and compare each with your
baseline on validation data. Put the code in the cell below (add cells if you need);
each experiment should run in under a minute in small mode. Then write a short report.

Graded by hand:
- experiments (1 point): at least two changes, each compared with the baseline on the
  same validation data, and the code runs;
- report (2 points): what you tried and why, a results table, a plot, and conclusions
  the numbers support."""
    experiments = """### BEGIN SOLUTION
rng = np.random.default_rng(0)
x = rng.normal(3, 2, size=200)
for name, z in [("standardize", standardize(x)), ("centre only", x - x.mean())]:
    print(f"{name:12s} mean {z.mean():+.3f}  std {z.std():.3f}")
### END SOLUTION"""
    report = """Model report (the rubric below is for the grader).

| variant | mean | std |
|---|---|---|
| standardize | 0.000 | 1.000 |
| centre only | 0.000 | about 2 |

Centring alone keeps the spread; dividing by the standard deviation fixes it at 1.

**Rubric.** Report: 2 points for the changes and their reasons, a table, a plot and
conclusions the numbers support; 1 point when one of these is missing; 0 when there
is no comparison. Experiments (`open_experiments`): 1 point for two or more changes
compared with the baseline on the same data, code that runs."""
    return [
        nbformat.v4.new_markdown_cell(task),
        nbformat.v4.new_code_cell(
            experiments, metadata=_nbgrader("open_experiments", solution=True, grade=True, points=1)
        ),
        nbformat.v4.new_markdown_cell(
            report, metadata=_nbgrader("open_report", solution=True, grade=True, points=2)
        ),
    ]


_DATASET = re.compile(r"[a-z][a-z0-9_]*")


def new_dataset(root: Path, name: str) -> tuple[Path, Path]:
    """Write ``course_utils/data/datasets/<name>.py`` (registry entry, loader, generated
    stand-in) and ``tests/test_data_<name>.py``, and list the module in
    ``course_utils/data/datasets/__init__.py`` (its import and ``MODULES``, in
    alphabetical order); return the two new files."""
    if not _DATASET.fullmatch(name):
        raise ScaffoldError(
            f"expected a dataset name in lower case, digits and underscores (like "
            f"imdb_reviews), found {name!r}"
        )
    root = Path(root)
    listing = root / "course_utils" / "data" / "datasets" / "__init__.py"
    module = listing.with_name(f"{name}.py")
    test = root / "tests" / f"test_data_{name}.py"
    if not listing.is_file():
        raise ScaffoldError(f"no {listing}: run this in the course repository")
    for path in (module, test):
        if path.exists():
            raise ScaffoldError(f"{path.relative_to(root)} exists already; pick another name")
    module.write_text(
        f'''"""Registry entry ``{name}``: what the data is, where it comes from, its licence and
size, and what the stand-in is (generated, and said so) for small mode without it.

>>> from course_utils import data
>>> frame = data.load("{name}", split="train")  # a pandas DataFrame: x, label
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset


def _load(get, split):
    frame = pd.read_csv(get(split))
    missing = {{"x", "label"}} - set(frame.columns)
    if missing:
        raise ValueError(f"{{get(split)}}: expected columns x and label, missing {{sorted(missing)}}")
    return frame


def _standin(split):
    rng = np.random.default_rng({{"train": 0, "test": 1}}[split])
    x = rng.normal(size=200)
    frame = pd.DataFrame({{"x": x, "label": (x + 0.3 * rng.normal(size=200) > 0).astype(int)}})
    return frame, "200 GENERATED rows (label = sign of x plus noise), not the real data"


{name.upper()} = Dataset(
    name="{name}",
    description="one line: what a row is, the columns, how many rows",
    license="the licence, as the source states it",
    homepage="https://example.org/{name}",
    files={{
        split: RemoteFile(
            f"{{split}}.csv",
            urls=(f"https://example.org/{name}/{{split}}.csv",),
            sha256=None,  # fill in once known; None = trusted on first download
            mirror_path=f"{name}/{{split}}.csv",
        )
        for split in ("train", "test")
    }},
    loader=_load,
    splits=("train", "test"),
    standin=_standin,
    notes="Mirror layout: {name}/train.csv, {name}/test.csv.",
)

ENTRIES = ({name.upper()},)
''',
        encoding="utf-8",
    )
    test.write_text(
        f'''"""The ``{name}`` dataset: the stand-in without the mirror; add tests on the real
files (``requires_mirror``) once the mirror has them."""

from __future__ import annotations

import pytest

from course_utils import data


def test_{name}_stand_in_in_small_mode(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with data.standins_used() as used:
        frame = data.load("{name}", split="train")
    assert used and list(frame.columns) == ["x", "label"] and len(frame) == 200


def test_{name}_full_mode_without_the_data_is_a_clear_error(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "0")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataError, match="{name}"):
        data.load("{name}", split="test")
''',
        encoding="utf-8",
    )
    _list_module(listing, name)
    return module, test


def _list_module(listing: Path, name: str) -> None:
    """Add ``name`` to ``NAMES`` in datasets/__init__.py (one per line, alphabetical)."""
    text = listing.read_text(encoding="utf-8")
    opener = "NAMES = (\n"
    start = text.index(opener) + len(opener)
    end = text.index(")", start)
    names = {line.strip().strip(",").strip('"') for line in text[start:end].splitlines()}
    block = "".join(f'    "{n}",\n' for n in sorted((names - {""}) | {name}))
    listing.write_text(text[:start] + block + text[end:], encoding="utf-8")
