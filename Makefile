# migrator — `make help` lists the targets.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/migrator: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/migrator ## Create .venv with migrator and the dev tools

redmine: ## Install Redmine from Debian packages (needs root; once per machine)
	$(BIN)/python -m fixtures.trackers.redmine install

demo: install redmine ## Demo: build a Trac env from fixtures, start a local Redmine, migrate, verify, report
	$(BIN)/python -m fixtures.demo $(DEMO_DIR)

demo-stop: ## Stop the Redmine that `make demo` left running
	$(BIN)/python -m fixtures.demo --stop $(DEMO_DIR)

postgres: install ## Install PostgreSQL from Debian packages (needs root; staging tests)
	$(BIN)/python -m fixtures.trackers.postgres install

browser: install ## Install Chromium and a Japanese font (the HTML report is checked in a browser)
	$(BIN)/python -m fixtures.browser install

apis: install ## Fetch the pinned API descriptions (and Atlassian's ADF schema and transformer) tests check against
	$(BIN)/python -m fixtures.apis.github fetch
	$(BIN)/python -m fixtures.apis.adf fetch

TEST_WORKERS ?= 2

test: install redmine browser postgres apis ## Run the whole test suite against real Trac, Redmine, Roundup, PostgreSQL
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install ## ruff and mypy
	$(BIN)/ruff check migrator tests fixtures bench
	$(BIN)/ruff format --check migrator tests fixtures bench
	$(BIN)/mypy

bench: install redmine postgres ## Benchmarks (figures printed, not timed tests)
	$(BIN)/python -m bench

trackers-up: install redmine ## Start a local Redmine and a Trac env for rehearsals; prints NAME=value lines
	@$(BIN)/python -m fixtures.trackers.redmine up
	@test -d .run/trac || $(BIN)/python -m fixtures.trackers.trac build .run/trac >&2
	@echo TRAC_ENV=$(CURDIR)/.run/trac

trackers-down: ## Stop what trackers-up started
	@$(BIN)/python -m fixtures.trackers.redmine down

clean: ## Remove the venv, demo output and local tracker instances
	-$(BIN)/python -m fixtures.trackers.redmine down 2>/dev/null
	-$(BIN)/python -m fixtures.trackers.postgres down 2>/dev/null
	rm -rf $(VENV) $(DEMO_DIR) .run .cache .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install redmine postgres browser apis demo demo-stop test lint bench trackers-up trackers-down clean
