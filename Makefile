# activespec: every target creates or reuses .venv from requirements.lock first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore::FutureWarning,ignore::DeprecationWarning

DEMO_DIR ?= demo
# Two workers, one test file each at a time: the slow end-to-end file runs beside the rest.
# A crashed worker ends the run at once: pytest-xdist 3.8's loadfile scheduler can stall
# for good after replacing one (pytest-xdist issue 784).
PYTEST_PARALLEL ?= -n 2 --dist loadfile --max-worker-restart=0
PYTEST_ARGS ?=

.PHONY: venv test test-fast demo lock lint format bench dachs clean

venv:
	@VENV=$(VENV) tools/bootstrap-venv

## test: the whole suite, slow end-to-end tests included (what CI runs)
test: venv
	$(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

## test-fast: everything but the tests marked slow
test-fast: venv
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow" $(PYTEST_ARGS)

## demo: the main job on an embedded default survey
demo: venv
	$(VENV)/bin/activespec demo --workdir $(DEMO_DIR)

## lock: re-resolve requirements.in into requirements.lock (Python 3.10, manylinux x86_64)
lock:
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	uv pip compile requirements.in --python-version 3.10 --python-platform x86_64-manylinux_2_31 \
	    -o requirements.lock

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: the benchmark suite (see BENCHMARKS.md)
bench: venv
	$(PY) -m bench

## dachs: a local GAVO DaCHS serving tests/data/real over SSAP/DataLink and known objects
## over TAP on 127.0.0.1:$(DACHS_PORT), until Ctrl-C (installs gavodachs2-server as root)
DACHS_PORT ?= 8080
dachs: venv
	$(PY) -m activespec.vo.dachs serve --port $(DACHS_PORT)

clean:
	rm -rf $(DEMO_DIR) .pytest_cache build *.egg-info
