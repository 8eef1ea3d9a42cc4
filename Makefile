# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv and install the project when needed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FULL   ?=
BENCH  ?=
JOBS   ?= 2
# Lesson notebooks run under nbval; homework sources are executed by the grader in
# tests/test_homeworks.py (full marks, student zero, identical regrade), not twice.
NB_DIRS := $(wildcard notebooks)
# What can behave differently without the data mirror and the network: the data
# layer, pretrained weights, the homeworks and the notebooks. The offline pass
# runs these only; the rest of the unit tests do not read data.
OFFLINE_TESTS := $(wildcard tests/test_data*.py tests/test_pretrained.py tests/test_homeworks.py)
# numba (UMAP in nlp/01) compiles once per run of the test targets, not once per kernel
export NUMBA_CACHE_DIR ?= $(CURDIR)/build/numba-cache
# Tests run in small mode with one BLAS/OpenMP thread per process: CI runs two workers
# (each with a kernel, sometimes a grader with two) on two cores, where numpy's and
# scikit-learn's thread pools only spin against each other (about 7 % of notebook time).
# Figures are built but not drawn (MPLBACKEND=Agg; setup_notebook closes them after each
# cell): drawing them into inline PNGs nobody looks at was a quarter of a notebook's time.
TEST_ENV := COURSE_SMALL=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	MPLBACKEND=Agg
PYTEST_NB := --nbval-lax --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: install run lint format test test-full test-full-ci test-offline test-data-paths test-regrade unit notebooks bench lab check clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	@# uv resolves and downloads in parallel: about 40 s instead of pip's 150 s here.
	@# Bytecode is compiled once, here: with PYTHONDONTWRITEBYTECODE set (as on CI
	@# machines) or in the grader's read-only sandbox, every kernel would otherwise
	@# compile torch & co. from source on import (setup cell 4.8 s -> 2.4 s; the NLP
	@# lessons under nbval 120 s -> 70 s on 2 cores).
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -e ".[dev]"
	$(PY) -m compileall -q -j 0 course_utils
	@touch $(STAMP)

install: $(STAMP)

## Execute every notebook headless into build/ (small mode; FULL=1 for full mode).
run: $(STAMP)
	$(VENV)/bin/course run --out build $(if $(FULL),--full,)

## ruff (lint and format check, notebooks included) and the notebook conventions.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	COURSE_SMALL=1 $(VENV)/bin/course nb check

## Apply ruff's fixes and formatting (then `course release` the homeworks you touched).
format: $(STAMP)
	$(VENV)/bin/ruff check --fix --exit-zero .
	$(VENV)/bin/ruff format .

## Lint, unit tests, homework invariants, then every notebook under nbval (small mode).
test: lint
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) --dist loadfile --durations=25 $(PYTEST_NB) \
		tests $(NB_DIRS)

## Every lesson in FULL mode (full data, augmentations, widths) with training capped:
## COURSE_STEP_CAP=3 makes fit() train one epoch of at most 3 steps, and the lessons' own
## loops are shortened through their parameters cells (tests/test_full_mode.py, CAPS).
## Not part of `make test`; results of a run in docs/full_mode.md.
test-full: $(STAMP)
	rm -rf build/full_mode
	COURSE_TEST_FULL=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg \
		$(PY) -m pytest -n $(JOBS) -p no:cacheprovider --durations=0 tests/test_full_mode.py

## The same, with nlp/04, nlp/08, vision/01 and vision/03 on a share of their rows
## (tests/test_full_mode.py, CI_SIZES): what .ci/run runs after `make test`, with the data mirror.
test-full-ci: $(STAMP)
	rm -rf build/full_mode
	COURSE_TEST_FULL=ci OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg \
		$(PY) -m pytest -n $(JOBS) -p no:cacheprovider --durations=0 tests/test_full_mode.py

## With no data mirror, an empty cache and no network (stand-ins): the data-layer
## tests, the notebooks that read data and the homework sources that do (full marks on
## the stand-ins), in a new network namespace with only the loopback device up (Jupyter
## kernels need it). What reads no data (the RL lessons, nlp/05, nlp/07, homeworks 03
## and 08: `course_utils.tools.notebooks.reads_mirror`) ran in `make test` and is not repeated.
test-offline: $(STAMP)
	env -u COURSE_DATA -u NLTK_DATA -u TORCH_HOME -u HF_HOME \
		COURSE_CACHE=$$(mktemp -d) COURSE_OFFLINE=1 HF_HUB_OFFLINE=1 COURSE_TEST_OFFLINE_PASS=1 \
		unshare -rn sh -c 'ip link set lo up && exec $(MAKE) test-data-paths'

test-data-paths: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) --dist loadfile --durations=15 $(PYTEST_NB) \
		$(OFFLINE_TESTS) $(NB_DIRS)

## Every homework's invariants with the regrade (the reference graded twice gives the
## same result): too slow for CI's 15 minutes; run it after changing a homework or the grader.
test-regrade: $(STAMP)
	$(TEST_ENV) COURSE_TEST_REGRADE=1 $(PY) -m pytest -n $(JOBS) -p no:cacheprovider \
		tests/test_homeworks.py -k invariants

unit: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) tests

notebooks: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) --dist loadfile $(PYTEST_NB) $(NB_DIRS)

## Benchmarks (full-size measurements) into docs/results.md; BENCH=name for one.
bench: $(STAMP)
	$(PY) tests/benchmarks/run.py $(BENCH)

## Jupyter Lab in the project's environment.
lab: $(STAMP)
	$(PY) -m pip install "jupyterlab>=4"
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf build .pytest_cache
