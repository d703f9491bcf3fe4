# ChildSafe: `make demo` runs the system locally, `make test` runs every test. Both bootstrap themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit integration venv system-deps kafka-up kafka-down bench faults faults-short schemas clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Some machines set PYTHONDONTWRITEBYTECODE=1; then every run recompiles our modules and pytest rewrites every
# test module again (make unit's collection: 9.5 s with it, 3.5 s without, on a 2-core machine).
unexport PYTHONDONTWRITEBYTECODE

# Debian packages the tests and demo need (Java for Kafka, Maven to fetch it, PostgreSQL, promtool).
system-deps:
	@bash ops/scripts/system-deps.sh

# Every test: the fast unit tests on two workers, then the rest one at a time (they share one broker and one
# PostgreSQL, started by the session), including the fault suite's short profile (tests/integration/test_fault_suite.py: its own
# 3-broker cluster and PostgreSQL, fails on any lost report, duplicate or missing SMS; `make faults-short` alone).
test: venv system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/childsafe kafka fetch
	$(PY) -m pytest tests/unit -m unit -n 2
	$(PY) -m pytest -m "not unit"

# ruff (lint + import order) and mypy, configured in pyproject.toml; `make test` runs both first.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The fast tests (marker `unit`, added by tests/conftest.py): no Kafka, no PostgreSQL (their PostgreSQL variants
# run in `make test`), on every core (pytest-xdist). `make test` runs them first on two workers, then the rest.
unit: venv
	$(PY) -m pytest tests/unit -m unit -n auto

demo: venv system-deps
	$(VENV)/bin/childsafe demo $(DEMO_ARGS)  # DEMO_ARGS=--no-serve for a non-interactive run

kafka-up: venv
	$(VENV)/bin/childsafe kafka up

kafka-down: venv
	$(VENV)/bin/childsafe kafka down

schemas: venv
	$(VENV)/bin/childsafe contracts export

# The fault suite (docs/benchmarks.md): FAULTS_PROFILE=full (5 min of load) by default, short or long (30 min). Starts its own 3-broker cluster and PostgreSQL on free ports.
FAULTS_PROFILE ?= full
faults: venv system-deps
	$(VENV)/bin/childsafe kafka fetch
	$(PY) -m ops.bench.faults --profile $(FAULTS_PROFILE) --json .run/faults-$(FAULTS_PROFILE).json

faults-short: venv system-deps
	$(VENV)/bin/childsafe kafka fetch
	$(PY) -m pytest -m faults

# The full benchmark runs (figures in docs/benchmarks.md); `make test` runs each in a smoke profile.
bench: venv system-deps
	@set -e; for script in ops/bench/*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	-$(VENV)/bin/childsafe kafka down
	rm -rf .run
