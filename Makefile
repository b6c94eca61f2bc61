# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall only when the project's dependencies change.
STAMP  := $(VENV)/.installed

.PHONY: setup demo test ui bench lint clean

$(STAMP): pyproject.toml
	@echo "setting up $(VENV) (once, and again when pyproject.toml changes)"
	$(PYTHON) -m venv $(VENV)
	@# pip's output goes to a log, shown only when the install fails.
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 \
	  || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/bedrock-jobs demo

test: setup
	@# The report's browser test needs Chromium: install it where we can (root with apt-get,
	@# as in CI); elsewhere the test skips and says why.
	@command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	       && { apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1 \
	            || echo "could not install chromium: the browser test will be skipped"; }; } \
	  || true
	@# The production instance's test needs a PostgreSQL server: install one where we can
	@# (root with apt-get); elsewhere the test skips and says why.
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	       && { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null 2>&1 \
	            || echo "could not install postgresql: the PostgreSQL test will be skipped"; }; } \
	  || true
	$(BIN)/python -m pytest

ui: setup
	$(BIN)/bedrock-jobs ui

bench: setup
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache warehouse/*.duckdb warehouse/*.duckdb.wal
