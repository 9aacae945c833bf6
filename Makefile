# Longpan (龙磐) — developer entry points. Run `make help` for the list.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.setup-stamp
PYTEST_ARGS ?=
LONGPAN_HOME ?= var/demo

# Rerun setup when its inputs change, or when the system lost what it installed.
SETUP_INPUTS := pyproject.toml scripts/setup.sh $(wildcard package.json package-lock.json)
SYSTEM_MISSING := $(if $(wildcard /usr/lib/postgresql/15/bin/initdb),,postgres)$(if $(shell command -v java),,java)

.PHONY: help setup test check lint typecheck demo clean distclean FORCE

help:
	@echo "make demo       small synthetic province: detect, issue a batch, web UI on :8000"
	@echo "make test       run the test suite beside a throwaway PostgreSQL 15 (PYTEST_ARGS=...)"
	@echo "make setup      install system packages, .venv and the package (idempotent)"
	@echo "make check      lint (ruff) + type check (mypy) + tests"
	@echo "make clean      remove var/ and caches;  make distclean also removes .venv"

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS) $(if $(SYSTEM_MISSING),FORCE)
	bash scripts/setup.sh
	@touch $@

FORCE:

test: setup
	@set +e; \
	LONGPAN_REQUIRE_POSTGRES=1 LONGPAN_REQUIRE_SPARK=1 \
	  bash scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS); \
	rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	  echo "make test: pytest collected no tests (exit 5); treating that as a failure" >&2; \
	  exit 1; \
	fi; \
	exit $$rc

lint: setup
	$(VENV)/bin/ruff check src tests

typecheck: setup
	$(VENV)/bin/mypy

check: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory test

demo: setup
	LONGPAN_HOME=$(LONGPAN_HOME) $(VENV)/bin/longpan demo --serve

clean:
	rm -rf var build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o -path ./node_modules -prune \
	  -o -type d -name __pycache__ -print0 | xargs -0 -r rm -rf

distclean: clean
	rm -rf $(VENV) node_modules src/*.egg-info
