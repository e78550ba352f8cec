#!/usr/bin/env bash
# Builds the release binaries, installs wrk if missing, and runs the benchmark
# (crates/order-bench). BENCH_ORDERS (default 1000000), BENCH_USERS, BENCH_DURATION (s per
# scenario), BENCH_CONNECTIONS and BENCH_OUTPUT tune it; docs/benchmarks.md explains it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi
command -v pgbench >/dev/null 2>&1 || { echo "pgbench (PostgreSQL's client tools) is required" >&2; exit 1; }

cargo build --release -q -p order-api -p stub-peers -p order-bench
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
BENCH_OUTPUT=${BENCH_OUTPUT:-bench-results.json} "$bin/order-bench"
