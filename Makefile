# Schooner: the two commands are `make up` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up down status lab lab-down lab-status test test-unit test-integration fuzz chaos lint bench clean venv

venv: $(STAMP)

include deploy/images/images.mk

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

## Start a local cluster, deploy the example app, and print where to look.
up: $(STAMP) host-etcd images
	$(BIN)/schooner up
	$(BIN)/schooner apply -f examples/web
	$(BIN)/schooner wait deployment/web --for condition=Available --timeout 180
	@echo
	$(BIN)/schooner get pods -o wide -l app=web
	@echo
	@ip=$$($(BIN)/schooner get pods -l app=web -o json | $(BIN)/python -c \
	  'import json,sys; print(json.load(sys.stdin)["items"][0]["status"]["podIP"])'); \
	svc=$$($(BIN)/schooner get svc web -o json | $(BIN)/python -c \
	  'import json,sys; print(json.load(sys.stdin)["spec"].get("clusterIP") or "")'); \
	echo "The example answers on each pod's IP, e.g.:  curl http://$$ip:8080/"; \
	if [ "$$(id -u)" = 0 ]; then echo "and, load-balanced, on its Service:      curl http://$$svc/"; fi; \
	echo "Try:  $(BIN)/schooner get deployments   |   $(BIN)/schooner logs <pod>"; \
	echo "      kubectl --kubeconfig $${SCHOONER_HOME:-$$HOME/.schooner}/kubeconfig get pods"

down: $(STAMP)
	$(BIN)/schooner down

## The multi-host lab: etcd x3, apiserver x2, registry, scheduler x2 and controller-manager x2
## (leader-elected), NODES (default 3) Docker-in-Docker nodes; deploys examples/flask-postgres.
NODES ?= 3
LAB_KUBECONFIG := $${SCHOONER_LAB_HOME:-$$HOME/.schooner/lab}/kubeconfig
lab: $(STAMP) images image-node
	$(BIN)/schooner lab up --nodes $(NODES)
	$(BIN)/schooner --kubeconfig $(LAB_KUBECONFIG) apply -f examples/flask-postgres
	$(BIN)/schooner --kubeconfig $(LAB_KUBECONFIG) wait deployment/web --for condition=Available --timeout 300
	@echo
	$(BIN)/schooner --kubeconfig $(LAB_KUBECONFIG) get pods -o wide
	@echo
	@ip=$$($(BIN)/schooner --kubeconfig $(LAB_KUBECONFIG) get nodes -o json | $(BIN)/python -c \
	  'import json,sys; n=json.load(sys.stdin)["items"]; print(" ".join(a["address"] for x in n for a in x["status"]["addresses"] if a["type"]=="InternalIP"))'); \
	echo "The example answers on every node's NodePort:"; \
	for a in $$ip; do echo "  curl http://$$a:30080/"; done; \
	echo "Try:  $(BIN)/schooner --kubeconfig $(LAB_KUBECONFIG) get nodes -o wide"; \
	echo "      kubectl --kubeconfig $(LAB_KUBECONFIG) get pods -o wide"

lab-down: $(STAMP)
	$(BIN)/schooner lab down --nodes $(NODES)

lab-status: $(STAMP)
	$(BIN)/schooner lab status --nodes $(NODES)

status: $(STAMP)
	$(BIN)/schooner status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## Everything needed, then the whole suite (unit, integration, e2e on Docker, CLI, kubectl).
test: $(STAMP) lint host-etcd images image-node
	PYTHON=$(BIN)/python tests/run-suite

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP) host-etcd
	$(BIN)/python -m pytest -q tests/integration

## The API fuzzer's long run: schemathesis over every operation of the served OpenAPI, FUZZ_EXAMPLES
## cases each (make test runs 5), from FUZZ_SEED; no 5xx, no hang, RSS growth under FUZZ_RSS_GROWTH_MB.
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= 14
FUZZ_RSS_GROWTH_MB ?= 64
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) FUZZ_RSS_GROWTH_MB=$(FUZZ_RSS_GROWTH_MB) \
	  $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/integration/test_api_fuzz.py

## The fault-injection suite at full length: tests/chaos (make test runs only its etcd failover),
## the control-plane outage at 60 s, etcd's churn for CHURN_SECONDS (the issue's 30 minutes), and
## the lab's control-plane faults (an apiserver frozen, etcd quorum lost, both apiservers 60 s).
CHURN_SECONDS ?= 1800
chaos: $(STAMP) host-etcd images image-node
	SCHOONER_OUTAGE_SECONDS=60 SCHOONER_OUTAGE_GRACE=15 SCHOONER_CHURN_SECONDS=$(CHURN_SECONDS) \
	  $(BIN)/python -m pytest -q -s -p no:cacheprovider --timeout 2400 tests/chaos \
	  tests/lab/test_lab_control_plane_faults.py

## The benchmarks (not tests): figures and commands go to docs/benchmarks.md.
bench: $(STAMP) host-etcd images image-node
	$(BIN)/python bench/api.py --write docs/benchmarks.md
	$(BIN)/python bench/pods.py --write docs/benchmarks.md
	$(BIN)/python bench/proxy.py --write docs/benchmarks.md
	$(BIN)/python bench/lab.py --write docs/benchmarks.md
	$(BIN)/python bench/selfheal.py --write docs/benchmarks.md
	$(BIN)/python bench/up.py --write docs/benchmarks.md
	$(BIN)/python bench/sched_cycle.py --write docs/benchmarks.md
	$(BIN)/python bench/typed_objects.py --write docs/benchmarks.md
	$(BIN)/python bench/protobuf_codec.py --write docs/benchmarks.md
	$(BIN)/python bench/scale.py --profile apiserver,scheduler,controller-manager,hollow --write docs/benchmarks.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
