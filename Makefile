# Schooner: the two commands are `make up` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up down status test test-unit test-integration lint bench clean venv

venv: $(STAMP)

include deploy/images/images.mk

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

## Start a local cluster (etcd + apiserver) and write ~/.schooner/kubeconfig.
up: $(STAMP)
	$(BIN)/schooner up
	@echo
	@echo "Try:  $(BIN)/schooner get namespaces"
	@echo "      kubectl --kubeconfig $${SCHOONER_HOME:-$$HOME/.schooner}/kubeconfig get namespaces"

down: $(STAMP)
	$(BIN)/schooner down

status: $(STAMP)
	$(BIN)/schooner status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Everything needed, then the whole suite (unit, integration, e2e on Docker, CLI, kubectl).
test: $(STAMP) lint images
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

bench: $(STAMP)
	$(BIN)/python bench/api.py --write docs/benchmarks.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
