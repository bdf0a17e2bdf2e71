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

.PHONY: setup demo test lint typecheck unit test-mlflow bench readme clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	if command -v npm >/dev/null; then npm install --prefix $(VENV)/node --no-audit --no-fund --silent typescript@5 \
	  || echo "npm could not install typescript: the TypeScript compile test will be skipped"; \
	else echo "npm not found: the TypeScript compile test will be skipped"; fi
	touch $(STAMP)

demo: $(STAMP)
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

test: lint typecheck $(STAMP)
	SCHEMAKIT_TSC=$(if $(wildcard $(TSC)),$(abspath $(TSC)),) $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/payloads.py

readme:
	$(PYTHON) docs/build_readme.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
