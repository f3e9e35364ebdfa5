# Every target bootstraps its own virtual environment in .venv (created, or reinstalled when
# pyproject.toml changes), so nothing depends on what was installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help demo play test run lint format migrate check bench clean

help:
	@echo "make demo    run the bot against the built-in Telegram simulator (no token needed)"
	@echo "make test    install everything and run all checks (ruff, format, mypy, pytest)"
	@echo "make play    the playground: act as anyone in the demo city from a web page"
	@echo "make run     run the real bot with the token from .env"
	@echo "make lint    ruff and mypy only"
	@echo "make format  reformat the code"
	@echo "make bench   run the benchmarks in bench/ and print their figures"
	@echo "make migrate create or upgrade the database (DATABASE_PATH), then exit"
	@echo "make check   migrate, then check settings, database, outbox and Telegram"
	@echo "make clean   remove .venv, caches and build/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "siaga112 needs Python 3.11 or newer as $(PYTHON)" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/siaga112 demo

play: $(STAMP)
	$(BIN)/siaga112 play

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

run: $(STAMP)
	$(BIN)/siaga112 run

migrate: $(STAMP)
	$(BIN)/siaga112 migrate

# `siaga112 check` only reads the database, never creates it: `make check` migrates it first.
check: $(STAMP)
	$(BIN)/siaga112 migrate
	$(BIN)/siaga112 check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
