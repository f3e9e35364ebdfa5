# Every target bootstraps its own virtual environment in .venv from the hashed lock files in
# requirements/ (made from pyproject.toml by tools/lock.sh), so nothing depends on what was
# installed by hand. Running the bot (demo, play, run, migrate, check) installs only the runtime
# lock; the developers' targets (test, lint, format, bench) add the dev lock. A stamp per lock
# reinstalls when that lock or pyproject.toml changes.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip --quiet --disable-pip-version-check
RUNTIME := $(VENV)/.runtime-stamp
DEV     := $(VENV)/.dev-stamp

.DEFAULT_GOAL := help
.PHONY: help demo play test run lint format migrate check bench lock clean

help:
	@echo "make demo    run the bot against the built-in Telegram simulator (no token needed)"
	@echo "make test    install the dev tools and run all checks (ruff, format, mypy, pytest)"
	@echo "make play    the playground: act as anyone in the demo city from a web page"
	@echo "make run     run the real bot with the token from .env"
	@echo "make lint    ruff and mypy only"
	@echo "make format  reformat the code"
	@echo "make bench   run the benchmarks in bench/ and print their figures"
	@echo "make migrate create or upgrade the database (DATABASE_PATH), then exit"
	@echo "make check   migrate, then check settings, database, outbox and Telegram"
	@echo "make lock    re-pin requirements/*.txt from pyproject.toml (newest: tools/lock.sh --upgrade)"
	@echo "make clean   remove .venv, caches and build/"

# The runtime lock holds pip and the build backend too: every file is checked by its hash, and the
# project itself then builds with the setuptools just installed.
$(RUNTIME): requirements/runtime.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "siaga112 needs Python 3.11 or newer as $(PYTHON)" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements/runtime.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

$(DEV): requirements/dev.txt $(RUNTIME)
	$(PIP) install --require-hashes -r requirements/dev.txt
	@touch $@

demo: $(RUNTIME)
	$(BIN)/siaga112 demo

play: $(RUNTIME)
	$(BIN)/siaga112 play

test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

run: $(RUNTIME)
	$(BIN)/siaga112 run

migrate: $(RUNTIME)
	$(BIN)/siaga112 migrate

# `siaga112 check` only reads the database, never creates it: `make check` migrates it first.
check: $(RUNTIME)
	$(BIN)/siaga112 migrate
	$(BIN)/siaga112 check

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(DEV)
	$(BIN)/python -m bench

lock:
	tools/lock.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
