#!/usr/bin/env bash
# The alerting rules as Prometheus loads them: `promtool check rules` (syntax, expressions)
# and `promtool test rules` (each alert firing on the series that should raise it, silent
# on its near miss), plus the Grafana dashboard as JSON. That every series they name is in
# /metrics is checked by the tests (order-api/tests/operations.rs).
# promtool comes from Debian's `prometheus` package, installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing promtool (Debian package prometheus)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "monitoring-check needs promtool: sudo apt-get install prometheus" >&2
    exit 1
  fi
fi

promtool check rules monitoring/prometheus/order-service.rules.yml
(cd monitoring/prometheus && promtool test rules order-service.rules.test.yml)
python3 -m json.tool monitoring/grafana/order-service.json >/dev/null
echo "monitoring: rules load, their tests pass, the dashboard is JSON"
