# Ledgerlens: the README's commands. Only python3 and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WAREHOUSE ?= warehouse/demo.duckdb

.PHONY: run test lint eval bench warehouse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(WAREHOUSE): | $(STAMP)
	$(BIN)/ledgerlens data build --scale demo --seed 7 --end 2025-12-31 --out $(WAREHOUSE)

warehouse: $(WAREHOUSE)

run: $(STAMP) $(WAREHOUSE)
	$(BIN)/ledgerlens ask --interactive --warehouse $(WAREHOUSE)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tools

bench: $(STAMP) $(WAREHOUSE)
	$(BIN)/python -m benchmarks.bench_generate && $(BIN)/python -m benchmarks.bench_engine

clean:
	rm -rf $(VENV) warehouse build *.egg-info
