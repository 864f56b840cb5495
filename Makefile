# Osmo: `make run` starts everything, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist); `make test TEST_WORKERS=0` runs in this process.
TEST_WORKERS ?= 2

.PHONY: run test lint format token migrate connectors-table connector-schema nodes-doc clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) cli.py dev

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

token: $(STAMP)
	@$(PY) cli.py token $(if $(TENANT),--tenant $(TENANT)) $(if $(ADMIN),--admin)

migrate: $(STAMP)
	$(PY) cli.py migrate

connectors-table: $(STAMP)
	$(PY) -m connectors.catalog --write

# connectors/connector.schema.json, from the spec models (a test fails when it is stale).
connector-schema: $(STAMP)
	$(PY) -m connectors.schema --write

# docs/nodes.md, from the node config schemas and core/elements/node_docs.py (a test fails
# when it is stale).
nodes-doc: $(STAMP)
	$(PY) -m core.elements.node_reference --write

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
