# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv and install the project when needed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FULL   ?=
BENCH  ?=
JOBS   ?= 2
# Notebook and homework folders that exist (git does not keep empty folders).
NB_DIRS := $(wildcard notebooks homeworks)

.PHONY: install run test test-offline unit notebooks bench lab check clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Execute every notebook headless into build/ (small mode; FULL=1 for full mode).
run: $(STAMP)
	$(VENV)/bin/course run --out build $(if $(FULL),--full,)

## Conventions, unit tests, then every notebook and homework under nbval (small mode).
test: $(STAMP)
	COURSE_SMALL=1 $(VENV)/bin/course nb check
	COURSE_SMALL=1 $(PY) -m pytest -n $(JOBS) --dist loadfile \
		--nbval-lax --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg \
		tests $(NB_DIRS)

## The same with no data mirror, an empty cache and no network (stand-ins): a new
## network namespace with only the loopback device up, which Jupyter kernels need.
test-offline: $(STAMP)
	env -u COURSE_DATA -u NLTK_DATA -u TORCH_HOME -u HF_HOME \
		COURSE_CACHE=$$(mktemp -d) COURSE_OFFLINE=1 HF_HUB_OFFLINE=1 \
		unshare -rn sh -c 'ip link set lo up && exec $(MAKE) test'

unit: $(STAMP)
	COURSE_SMALL=1 $(PY) -m pytest -n $(JOBS) tests

notebooks: $(STAMP)
	COURSE_SMALL=1 $(PY) -m pytest -n $(JOBS) --dist loadfile --nbval-lax \
		--nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg $(NB_DIRS)

## Benchmarks (full-size measurements) into docs/results.md; BENCH=name for one.
bench: $(STAMP)
	$(PY) tests/benchmarks/run.py $(BENCH)

## Jupyter Lab in the project's environment.
lab: $(STAMP)
	$(PY) -m pip install "jupyterlab>=4"
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf build .pytest_cache
