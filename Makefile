# Ledgerlens: the README's commands. Only python3 and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
LLM_STAMP := $(VENV)/.installed-llm
# `make run LLM=local` (or LEDGERLENS_LLM=local): install the local model if needed, start (or reuse)
# its server, and point the app's agent at it (README "A local model").
LLM ?= $(LEDGERLENS_LLM)
WAREHOUSE ?= warehouse/demo.duckdb
# Where `make run` serves the app: `make run PORT=8600`, or LEDGERLENS_PORT (HOST likewise; the
# app has no sign-in yet, so keep it on loopback).
PORT ?= $(or $(LEDGERLENS_PORT),8501)
HOST ?= $(or $(LEDGERLENS_HOST),127.0.0.1)

.PHONY: run ask test test-spark test-spark-connect lint eval eval-accept eval-live bench-llm-peers bench warehouse clean security fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Running needs only the runtime dependencies; tests, lint and benchmarks add the dev extras.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP) $(LLM_STAMP)

# The local model's runtime (the llm extra); the dev extras include it.
$(LLM_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[llm]'
	touch $(LLM_STAMP)

$(WAREHOUSE): | $(RUN_STAMP)
	$(BIN)/ledgerlens data build --scale demo --seed 7 --end 2025-12-31 --out $(WAREHOUSE)

warehouse: $(WAREHOUSE)

run: $(RUN_STAMP) $(WAREHOUSE) $(if $(filter local,$(LLM)),$(LLM_STAMP))
ifeq ($(LLM),local)
	$(BIN)/ledgerlens llm install
	$(BIN)/ledgerlens llm start
endif
	$(BIN)/python -m app.access --address $(HOST)  # a sign-in mode it cannot enforce: refuse
	@echo "Ledgerlens app: http://$(HOST):$(PORT)  (Ctrl-C stops it; the CLI is $(BIN)/ledgerlens)"
	$(if $(LLM),LEDGERLENS_LLM=$(LLM)) LEDGERLENS_WAREHOUSE_PATH=$(WAREHOUSE) $(BIN)/streamlit run app/ui/main.py --server.headless true --server.address $(HOST) --server.port $(PORT) --browser.gatherUsageStats false

ask: $(RUN_STAMP) $(WAREHOUSE)
	$(BIN)/ledgerlens ask --interactive --warehouse $(WAREHOUSE)

# The browser test drives Debian's Chromium, the Spark equivalence test a Java runtime (for Spark
# local mode and for the Spark Connect server it starts from pyspark's jars). As root with
# apt-get, `make test` installs whichever is missing; otherwise it says first which tests will skip.
CHROMIUM := /usr/bin/chromium
JAVA_FOUND := { [ -n "$$JAVA_HOME" ] && [ -x "$$JAVA_HOME/bin/java" ]; } || command -v java >/dev/null

test: $(STAMP)
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; \
	$(JAVA_FOUND) || missing="$${missing:+$$missing }default-jre-headless"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make test: installing $$missing with apt-get (for the browser and Spark tests)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	    >/dev/null || { echo "make test: apt-get install $$missing failed" >&2; exit 1; }; \
	fi; \
	skip=""; [ -x $(CHROMIUM) ] || skip="tests/test_browser.py (no $(CHROMIUM))"; \
	$(JAVA_FOUND) || skip="$${skip:+$$skip and }tests/test_spark.py (no java, no JAVA_HOME)"; \
	if [ "$$(id -u)" != 0 ]; then why="not root, so not installed"; \
	elif ! command -v apt-get >/dev/null; then why="no apt-get, so not installed"; \
	else why="still missing after apt-get install"; fi; \
	[ -z "$$skip" ] || echo "make test: will SKIP $$skip: $$why" \
	  "(as root on Debian: apt-get install -y chromium default-jre-headless)"
	$(BIN)/python -m pytest -q

# Only the DuckDB-vs-Spark equivalence test, on Spark local mode and over Spark Connect (also part
# of `make test`; needs Java 17+).
test-spark: $(STAMP)
	$(BIN)/python -m pytest -q -m spark

# Only its Spark Connect half: a Connect server on 127.0.0.1, started and stopped by the tests.
test-spark-connect: $(STAMP)
	$(BIN)/python -m pytest -q -m spark -k connect

# Security (SECURITY.md): the counts table; FUZZ examples per property for the long fuzz.
FUZZ ?= 3000

security: $(STAMP) $(WAREHOUSE)
	$(BIN)/python -m tests.security_report

fuzz: $(STAMP) $(WAREHOUSE)
	LEDGERLENS_FUZZ_EXAMPLES=$(FUZZ) $(BIN)/python -m pytest -q tests/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tools
	$(BIN)/lint-imports --no-logo

# Evals (evals/README.md): reports go to evals/reports/ as <run id>.* and latest.*.
REPORTS := evals/reports
RUN_ID := $(shell date -u +%Y%m%dT%H%M%SZ)
NO_TRACING := env $(foreach v,$(filter LANGSMITH_% LANGCHAIN_%,$(.VARIABLES)),-u $(v))
REPEAT ?= 3

eval: $(STAMP)
	@mkdir -p $(REPORTS)
	@$(NO_TRACING) $(BIN)/ledgerlens eval --jobs 2 --report $(REPORTS)/$(RUN_ID).md \
	  --html $(REPORTS)/$(RUN_ID).html --json $(REPORTS)/$(RUN_ID).json; status=$$?; \
	for ext in md html json; do \
	  if [ -f $(REPORTS)/$(RUN_ID).$$ext ]; then cp $(REPORTS)/$(RUN_ID).$$ext $(REPORTS)/latest.$$ext; fi; \
	done; exit $$status

eval-accept: $(STAMP)
	$(BIN)/python -m evals.baseline accept $(REPORTS)/latest.json

# The agent alone (the engine not consulted) on the fixed sample (evals/sample.py), on the demo
# warehouse; MODEL=local uses the local server (one run per case), LIMIT=N the first N cases.
SAMPLE ?= evals/live_sample.yaml
eval-live: $(STAMP)
	@mkdir -p $(REPORTS)
	$(NO_TRACING) $(if $(filter local,$(MODEL)),LEDGERLENS_LLM=local,$(if $(MODEL),LEDGERLENS_LLM_MODEL=$(MODEL))) $(BIN)/ledgerlens eval --live \
	  --backend agent --sample $(SAMPLE) --on demo $(if $(LIMIT),--limit $(LIMIT)) \
	  --repeat $(if $(filter local,$(MODEL)),1,$(REPEAT)) $(if $(RECORD),--record) --report $(REPORTS)/live-$(RUN_ID).md \
	  --html $(REPORTS)/live-$(RUN_ID).html --json $(REPORTS)/live-$(RUN_ID).json

# Our agent beside LangChain's SQL agent on the same local model and sample (resumable; LIMIT=N).
bench-llm-peers: $(STAMP)
	$(NO_TRACING) LEDGERLENS_LLM=local nice -n 10 $(BIN)/python -m benchmarks.bench_llm_peers \
	  $(if $(LIMIT),--limit $(LIMIT))

# Every benchmark into benchmarks/RESULTS.md; BENCH_QUICK=1 skips the large-scale parts.
bench: $(STAMP) $(WAREHOUSE)
	$(BIN)/python -m benchmarks.run_all $(if $(BENCH_QUICK),--quick)

clean:
	rm -rf $(VENV) warehouse build *.egg-info
