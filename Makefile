# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FABNET_TEST_POSTGRES_URL ?= postgresql+psycopg://fabnet:fabnet@127.0.0.1:5432/postgres

.PHONY: demo test check lint typecheck imports unit services audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# OctoPrint lives in its own venv: its dependency pins clash with ours
OCTOPRINT_VENV ?= .octoprint-venv
$(OCTOPRINT_VENV)/bin/octoprint:
	$(PYTHON) -m venv $(OCTOPRINT_VENV)
	$(OCTOPRINT_VENV)/bin/python -m pip install -q --upgrade pip
	$(OCTOPRINT_VENV)/bin/python -m pip install -q "octoprint>=1.11,<1.12"

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime  ## run `fabnet demo` on SQLite (ARGS="--size medium" to scale)
	$(BIN)/fabnet demo $(ARGS)

services:  ## install and start what the tests need if it is missing or not running
	bash scripts/ensure-tools.sh
	bash scripts/ensure-postgres.sh

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.test
	$(BIN)/mypy

imports: $(VENV)/.test
	$(BIN)/lint-imports

check: lint typecheck imports  ## static checks, as CI runs them

# Known vulnerabilities of the installed dependencies. --strict: a package that cannot be
# audited fails the run (on the project's machines no vulnerability database answers, see
# docs/security.md, so this is not part of `check`: it would audit nothing and pass).
audit: $(VENV)/.test
	$(BIN)/python -m pip install -q pip-audit
	$(BIN)/pip-audit --strict --skip-editable

unit: $(VENV)/.test  ## the fast tier only
	$(BIN)/pytest -q tests/unit

test: $(VENV)/.test $(OCTOPRINT_VENV)/bin/octoprint services check  ## the whole suite: PostgreSQL, Mosquitto, PrusaSlicer, OctoPrint included
	$(BIN)/pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) $(OCTOPRINT_VENV) .fabnet .pytest_cache .mypy_cache .ruff_cache .hypothesis
