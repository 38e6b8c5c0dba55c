# The two commands a newcomer types: `make run` and `make test`. Both set themselves up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export GX_ANALYTICS_ENABLED := False
export MLFLOW_ENABLE_TELEMETRY := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: setup run test lint bench dagster clean browser

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/pmi run

# The dashboard's browser test needs headless Chromium (Debian's package); install it once when missing.
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/simulator_bench.py
	$(BIN)/python benchmarks/optimizer_bench.py
	$(BIN)/python benchmarks/allocate_uplift_bench.py

dagster: setup
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(CURDIR)/data/dagster $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
