# Ronghe: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
SCALE ?= 1
SEED ?= 42
DEMO_DIR ?= .ronghe/demo

# Offline-safe defaults for every command run from here.
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DO_NOT_TRACK := 1
export SCARF_ANALYTICS := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: install demo test test-scheduler lint format bench bench-extract lock clean

$(BIN)/ronghe: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(BIN)/ronghe

demo: install
	$(BIN)/ronghe generate --scale $(SCALE) --seed $(SEED) --out $(DEMO_DIR)/sources
	$(BIN)/ronghe run --sources $(DEMO_DIR)/sources --warehouse $(DEMO_DIR)/warehouse.duckdb --home $(DEMO_DIR)
	$(BIN)/ronghe eval --sources $(DEMO_DIR)/sources --warehouse $(DEMO_DIR)/warehouse.duckdb

# Test modules are spread over the cores (a module's fixtures stay in one worker).
test: install
	$(BIN)/python -m pytest -m "not scheduler" --numprocesses auto --maxprocesses 4 --dist loadfile

test-scheduler: install
	$(BIN)/python -m pytest -m scheduler

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/ronghe bench --scale $(SCALE)

bench-extract: install
	$(BIN)/ronghe bench --scale $(SCALE) --stage extract

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 --no-header

clean:
	rm -rf $(VENV) .ronghe dbt_project/target dbt_project/logs
