# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEV := PRAXIS_ENV=development STAFF_MFA_REQUIRED=false LOG_FORMAT=console SITE_PORT=$(PORT)

.PHONY: run test lint typecheck axe conformance bench docs clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Praxis needs Python 3.11 or newer (found $$($(PYTHON) --version))." && exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

## make run: migrate the embedded SQLite database, load the demo clinic, serve on :$(PORT)
run: $(VENV)/.installed
	$(DEV) $(BIN)/praxis db upgrade
	$(DEV) $(BIN)/praxis demo --port $(PORT)
	$(DEV) $(BIN)/praxis serve --port $(PORT)

## make test: lint, type-check, then the whole suite (SQLite; PostgreSQL too if TEST_DATABASE_URL),
## spread over every core (pytest-xdist, in pyproject's addopts; -n0 runs it in one process)
# The suite in two parts, each with its time budget (tests/budget.py): the tests without a
# browser, then the Chromium journeys; both on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
BROWSER_TESTS := tests/e2e
test: lint typecheck axe
	PRAXIS_SUITE_PART="tests without a browser" $(BIN)/pytest --ignore=$(BROWSER_TESTS)
	PRAXIS_SUITE_PART="browser journeys" PRAXIS_SUITE_BUDGET_SECONDS="$(PRAXIS_BROWSER_BUDGET_SECONDS)" \
		$(BIN)/pytest $(BROWSER_TESTS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

## make axe: axe-core from npm into the git-ignored .axe/, once, for the browser tests'
## accessibility checks (tests/e2e/axe.py); without npm they are skipped (CI requires them)
AXE := .axe/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	@if command -v npm >/dev/null; then \
		npm install --no-save --no-audit --no-fund --silent --prefix .axe axe-core@4; \
	else echo "npm not found: the browser tests' axe-core checks will be skipped."; fi

## make conformance: one line per promise of ../shared/PROMISES.md, from a full test run
conformance: $(VENV)/.dev-installed
	$(BIN)/pytest -q --conformance | sed -n '/= promises/,$$p'

## make bench: each scenario prints `NAME ratio=X target>=Y PASS|FAIL`
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

## make docs: regenerate docs/hooks.md from core/hookspecs.py
docs: $(VENV)/.installed
	$(BIN)/praxis plugins docs

clean:
	rm -rf $(VENV) var .axe .pytest_cache .mypy_cache .ruff_cache
