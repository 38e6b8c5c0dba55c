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

# The tests run on two pytest-xdist workers, one per core (tests/conftest.py keeps each module, the users of one
# shared warehouse or pipeline build, and the tests of one external service on the same worker, in order);
# `make test PYTEST_WORKERS=0` runs them in one process. The slowest 25 tests are listed at the end (--durations),
# so the suite's time is visible in every CI log.
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint sqllint bench dagster clean browser

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[dev,production]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/pmi run

# The dashboard's browser test needs headless Chromium (Debian's package); install it once when missing.
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: setup browser sqllint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q --durations=25 $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup)

lint: setup sqllint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# SQL style of dbt_project/ (.sqlfluff). The dbt templater parses the project and opens the profile's DuckDB file,
# so it gets a throwaway PMI_HOME (never ./data, which a running pipeline may hold).
sqllint: setup
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && PMI_HOME="$$tmp" $(BIN)/sqlfluff lint dbt_project

bench: setup
	$(BIN)/python benchmarks/simulator_bench.py
	$(BIN)/python benchmarks/optimizer_bench.py
	$(BIN)/python benchmarks/allocate_uplift_bench.py

# The Dagster UI on http://127.0.0.1:3000 over the data directory of `make run` (PMI_HOME, default ./data) and the
# runs `pmi run` keeps in its dagster/ folder; `make dagster PMI_HOME=/x DAGSTER_PORT=3001` overrides either.
dagster: DATA_DIR = $(abspath $(or $(PMI_HOME),data))
dagster: setup
	@mkdir -p "$(DATA_DIR)/dagster" && touch "$(DATA_DIR)/dagster/dagster.yaml"
	PMI_HOME="$(DATA_DIR)" DAGSTER_HOME="$(DATA_DIR)/dagster" PATH="$(CURDIR)/$(BIN):$$PATH" \
	  $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(or $(DAGSTER_PORT),3000)

clean:
	rm -rf data dbt_project/target dbt_project/logs
