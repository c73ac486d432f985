# The README's two commands: `make demo` (set-up + the main job, offline) and `make test`.
# TORCH pins the CPU build that installs without a GPU; on a GPU machine use e.g.
#   make demo TORCH=torch
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo lint test test-fast bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mirage demo --out demo

# ruff: lint (errors, warnings, import order) and formatting, as CI runs it before the tests.
LINTED := mirage_metrics tasks vision tests benchmarks
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

# pytest-xdist: one worker per CPU core, each test module on one worker (its module fixtures are built once); the
# session's tiny checkpoints, wheel and lm_eval runs are built once for all workers (tests/conftest.py, built_once).
XDIST := -n auto --dist loadscope

# Everything, as CI runs it, with the 25 slowest tests listed at the end.
test: $(STAMP)
	$(PY) -m pytest -q --durations=25 $(XDIST)

# Everything but the end-to-end runs marked slow (demo, wheel builds, vision sweeps, real lm_eval runs).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" $(XDIST)

bench: $(STAMP)
	$(PY) benchmarks/bench_metrics.py

clean:
	rm -rf $(VENV) build dist *.egg-info
