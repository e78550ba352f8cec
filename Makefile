# The Order Service's everyday commands. `make test` is what CI runs.

CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
# The EventBridge emulator the event tests run against (moto's server, from PyPI).
export MOTO_SERVER := $(abspath $(VENV))/bin/moto_server

.PHONY: demo run test fuzz bench bench-reconcile bench-migrate lint fmt build clean moto docs-check chaos migration-check monitoring-check image image-check

## The whole story over HTTP against the stand-in peers, with a transcript. Uses the
## PostgreSQL on 127.0.0.1:5432, or a throwaway one when none listens (scripts/with-postgres.sh).
demo:
	$(CARGO) build -q -p order-api -p stub-peers -p order-demo
	scripts/with-postgres.sh DEMO_DATABASE_URL orders_demo $(CARGO) run -q -p order-demo

## The service on :8005 with the stand-in peers on :8006, on the local database orders_dev.
run:
	scripts/run.sh

## Every check CI makes: formatting, lints, then every test of the workspace.
test: lint moto migration-check monitoring-check
	$(CARGO) test --workspace --doc --quiet
	scripts/with-postgres.sh TEST_DATABASE_URL postgres $(CARGO) nextest run --workspace --no-fail-fast

## Every migration against squawk's rules, with the accepted findings of
## migrations/lint-exceptions.toml; and that a plain CREATE INDEX on orders would fail it.
migration-check:
	VENV=$(VENV) scripts/migration-check.sh --self-test

## The Prometheus rules (promtool check and unit tests) and the Grafana dashboard.
monitoring-check:
	scripts/monitoring-check.sh

## Installs the EventBridge emulator into .venv (once).
moto: $(MOTO_SERVER)
$(MOTO_SERVER):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.*'

## schemathesis fuzzes every operation of the OpenAPI document against the running service.
fuzz: moto
	VENV=$(VENV) scripts/fuzz.sh

## Loads the docs UI in headless Chromium with the network cut; prints its screenshot's path.
docs-check:
	scripts/docs-check.sh

## The fault-and-scale campaign: replicas behind HAProxy, kills, a PostgreSQL restart, a
## hanging Wallet, a bus outage, a soak; then money and events reconciled (CHAOS_QUICK=1: minutes).
chaos: moto
	$(VENV)/bin/python scripts/chaos

## The container image (docker/Dockerfile) with docker or podman; needs a registry.
image:
	scripts/image.sh build

## Builds the image (offline where no registry answers) and runs it: readiness, a whole
## lifecycle through its port, not root, HEALTHCHECK, SIGTERM within the grace period.
## Needs root; not part of CI.
image-check:
	scripts/image.sh check

## Throughput and latency of the release build against pgbench's limit (BENCH_ORDERS=10000 for a quick run).
bench:
	scripts/bench.sh

## `order-api reconcile` over BENCH_RECONCILE_ORDERS (default 1,000,000) seeded orders and a
## tenth of them: orders per second and peak RSS at both (docs/benchmarks.md).
bench-reconcile:
	$(CARGO) build --release -q -p order-api -p stub-peers -p order-bench
	$$($(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/order-bench reconcile

## This release's migrations on BENCH_MIGRATE_ORDERS (default 10,000,000) orders at an earlier
## release's schema while writes run: the longest a write waited (docs/benchmarks.md).
bench-migrate:
	scripts/bench-migrate.sh

## Formatting, clippy and the API documentation, warnings as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet

## Rewrites the sources in the project's format.
fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace

clean:
	$(CARGO) clean
