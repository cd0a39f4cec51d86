# Developer commands for Strategy Tracker. `make help` lists them; docs/development.md
# explains them. Every target that needs Python depends on `venv`, which builds .venv
# once and rebuilds it only when pyproject.toml changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Written after a successful install; older than pyproject.toml means "install again".
STAMP := $(VENV)/.installed
# The interpreter that creates .venv: python3.11 when present, else python3.
BOOT_PYTHON := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k notes -x"`.
PYTEST_ARGS ?=
# Used by `make test` when PostgreSQL answers locally and DATABASE_URL is not set.
PG_TEST_URL := postgres://postgres@127.0.0.1:5432/strategy_tracker
SQLITE_TEST_URL := sqlite:///$(CURDIR)/var/test.sqlite3
# For this one command only: DEBUG=false settings refuse to load without a key.
CHECK_ENV := DEBUG=false SECRET_KEY=makemigrations-check-only-not-a-secret DATABASE_URL=sqlite://:memory:

# Exit 0 when PostgreSQL answers on 127.0.0.1:5432 (pg_isready if installed, else a
# plain TCP connect).
PG_ANSWERS := if command -v pg_isready >/dev/null 2>&1; \
	then pg_isready -q -h 127.0.0.1 -p 5432 -t 2; \
	else $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), timeout=1).close()' 2>/dev/null; \
	fi

# Prints the one line saying which database the suite runs on (argv: reason [exit code]).
# Never prints a password.
define DESCRIBE_TEST_DB
import os, sys
import environ
url = os.environ["DATABASE_URL"]
cfg = environ.Env.db_url_config(url)
engine = cfg["ENGINE"].rsplit(".", 1)[-1]
if engine == "sqlite3":
    where = f"SQLite, in-memory test database (DATABASE_URL={url})"
elif engine.startswith("postgres"):
    host = cfg.get("HOST") or "the local socket"
    port = cfg.get("PORT") or 5432
    where = f"PostgreSQL, database test_{cfg['NAME']} on {host}:{port} as {cfg.get('USER') or 'current user'}"
else:
    where = f"{engine}, database test_{cfg['NAME']}"
reason = sys.argv[1]
if len(sys.argv) > 2:
    outcome = "passed" if sys.argv[2] == "0" else f"FAILED (exit {sys.argv[2]})"
    print(f"==> Test suite {outcome} on {where}")
else:
    print(f"==> Test database: {where} [{reason}]")
endef
export DESCRIBE_TEST_DB

# $(call pytest_on,<reason>): pytest against $DATABASE_URL, framed by the database line.
# --create-db: never reuse a test database left by an earlier run. pytest's own exit
# code (5 = no tests collected, too) is the target's exit code.
define pytest_on
mkdir -p var; \
$(BIN)/python -c "$$DESCRIBE_TEST_DB" "$(1)"; \
rc=0; $(BIN)/pytest --create-db $(PYTEST_ARGS) || rc=$$?; \
$(BIN)/python -c "$$DESCRIBE_TEST_DB" "$(1)" "$$rc"; \
exit $$rc
endef

# Lint, format check and the migrations check: the part of the suite that needs no database.
define static_checks
@echo "==> ruff check + ruff format --check"
$(BIN)/ruff check .
$(BIN)/ruff format --check .
@echo "==> makemigrations --check (models and migrations agree)"
$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
endef

.PHONY: help venv run test test-sqlite lint format migrate demo worker clean docker-config-check fuzz screenshots test-faults bench bench-quick eval-analyses

help: ## list these targets
	@echo "Strategy Tracker - make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: PYTEST_ARGS (extra pytest arguments), DATABASE_URL (test/run database),"
	@echo "PORT (web port for 'make run', default 8000). See docs/development.md."

venv: $(STAMP) ## create .venv and install the project with dev tools (only when pyproject.toml changed)

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
		if [ -z "$(BOOT_PYTHON)" ]; then echo "No python3.11 or python3 on PATH." >&2; exit 1; fi; \
		echo "==> Creating $(VENV) with $(BOOT_PYTHON)"; \
		"$(BOOT_PYTHON)" -m venv $(VENV); \
	fi
	@echo "==> Installing the project and dev tools into $(VENV)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: venv ## migrate, load the demo mission, then web + worker (embedded beat); Ctrl-C stops all
	mkdir -p "$${VAR_DIR:-var}"
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py load_demo
	@echo "==> Web on http://127.0.0.1:$${PORT:-8000}/ plus the Celery worker with beat. Ctrl-C stops both."
	@# --env /dev/null: honcho would otherwise let .env override the environment; settings
	@# read .env themselves, with the environment taking precedence (so DATABASE_URL stays).
	DEBUG=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --env /dev/null \
		--procfile Procfile.dev start --port "$${PORT:-8000}"

test: venv ## lint + migrations check + pytest (DATABASE_URL, else local PostgreSQL, else SQLite)
	$(static_checks)
	@if [ -n "$${DATABASE_URL:-}" ]; then \
		reason="DATABASE_URL from the environment"; \
	elif $(PG_ANSWERS); then \
		export DATABASE_URL="$(PG_TEST_URL)"; \
		reason="PostgreSQL answers on 127.0.0.1:5432"; \
	else \
		export DATABASE_URL="$(SQLITE_TEST_URL)"; \
		reason="no DATABASE_URL and no PostgreSQL on 127.0.0.1:5432"; \
	fi; \
	$(call pytest_on,$$reason)

test-sqlite: venv ## the same suite forced onto SQLite (the embedded default)
	$(static_checks)
	@export DATABASE_URL="$(SQLITE_TEST_URL)"; \
	$(call pytest_on,make test-sqlite)

test-faults: venv ## fault tests: stop/start private PostgreSQL, Redis and SMTP under the running app (~2 min)
	@# Own servers on free ports (never 5432/6379); as root PostgreSQL runs as `postgres`.
	$(BIN)/pytest tests/faults -m faults -q $(PYTEST_ARGS)

fuzz: venv ## fuzz every API operation, 1,000 examples each, ~32 min (FUZZ_SEED=n: new inputs; FUZZ_ONLY=regex)
	@# The database is chosen as for `make test`; a line per operation shows progress.
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		if $(PG_ANSWERS); then export DATABASE_URL="$(PG_TEST_URL)"; \
		else mkdir -p var; export DATABASE_URL="$(SQLITE_TEST_URL)"; fi; \
	fi; \
	$(BIN)/python -c "$$DESCRIBE_TEST_DB" "make fuzz"; \
	FUZZ_EXAMPLES=1000 $(BIN)/pytest tests/api/test_schema_fuzz.py --create-db -q \
		$${FUZZ_SEED:+--hypothesis-seed=$$FUZZ_SEED} $(PYTEST_ARGS)

lint: venv ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## ruff format, then ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: venv ## apply migrations (DEBUG defaults to true)
	mkdir -p "$${VAR_DIR:-var}"
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput

demo: venv ## load the demo mission and print its sign-in credentials
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo

worker: venv ## only the Celery worker with embedded beat (as in make run)
	DEBUG=$${DEBUG:-true} $(BIN)/celery -A config worker -B --loglevel=INFO --concurrency=1

clean: ## delete var/ (dev database, mail, queue, uploads, beat schedule) and caches; keeps .venv
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

screenshots: venv ## PNGs of the main pages at 1280 px into docs/screenshots/ (fresh demo database, Chromium)
	$(BIN)/python -m tests.e2e.screenshots

docker-config-check: venv ## check docker-compose.yml (parsed by a test; no Docker engine needed)
	$(BIN)/pytest tests/test_docker_compose.py -q
	@if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then \
		echo "==> docker compose config"; \
		SECRET_KEY=config-check POSTGRES_PASSWORD=config-check docker compose config --quiet; \
	fi

bench: venv ## performance as ratios at scale 1 vs 10 on a private PostgreSQL cluster (docs/performance.md)
	$(BIN)/python bench/run.py

bench-quick: venv ## the same cases at scale 0.1 vs 1, fewer rounds (a couple of minutes once cached)
	$(BIN)/python bench/run.py --quick

eval-analyses: venv ## analysis ranker: recall@3, precision@3, top-1 and timing on bench/analyses/ (docs/analyses.md)
	$(BIN)/python bench/eval_analyses.py
