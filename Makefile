# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall only when the project's dependencies change.
STAMP  := $(VENV)/.installed

.PHONY: setup demo test ui bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/bedrock-jobs demo

test: setup
	$(BIN)/python -m pytest

ui: setup
	$(BIN)/dagster dev -w workspace.yaml

bench: setup
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache warehouse/*.duckdb warehouse/*.duckdb.wal
