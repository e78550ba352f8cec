#!/usr/bin/env bash
# Runs the service on :8005 with the stand-in peers on :8006, on a local database
# `orders_dev` (created if missing). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=${DB:-orders_dev}
if ! psql "$PGURL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql "$PGURL/postgres" -qc "CREATE DATABASE $DB"
fi

cargo build -q -p order-api -p stub-peers
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug

STUB_SEED=crates/stub-peers/seed/demo.json "$bin/stub-peers" &
stub=$!
trap 'kill $stub 2>/dev/null || true' EXIT

export DATABASE_URL="$PGURL/$DB"
export JWT_SECRET=${JWT_SECRET:-dev-jwt-secret-0123456789}
export INTERNAL_SERVICE_TOKENS=${INTERNAL_SERVICE_TOKENS:-dev-service-token}
"$bin/order-api" serve &
api=$!
trap 'kill $stub $api 2>/dev/null || true' EXIT

until curl -sf http://127.0.0.1:8005/readyz > /dev/null; do
  kill -0 $api 2>/dev/null || { echo "order-api did not start" >&2; exit 1; }
  sleep 0.2
done
# The stand-ins' seed (crates/stub-peers/seed/demo.json): a buyer with 1,000.00, the seller
# of two Buy It Now listings, and an admin who is neither.
cat <<READY

order-api is ready.
  API docs:      http://127.0.0.1:8005/api/docs/
  OpenAPI:       http://127.0.0.1:8005/api/v1/openapi.json
  Metrics:       http://127.0.0.1:8005/metrics
  Stand-ins:     http://127.0.0.1:8006 (Wallet and Listing)

Tokens (Authorization: Bearer …, valid 24 hours):
  buyer  b0e70000-0000-4000-8000-000000000001: $("$bin/order-api" token b0e70000-0000-4000-8000-000000000001)
  seller 5e11e500-0000-4000-8000-000000000001: $("$bin/order-api" token 5e11e500-0000-4000-8000-000000000001)
  admin  ad000000-0000-4000-8000-000000000001: $("$bin/order-api" token ad000000-0000-4000-8000-000000000001 --staff)
Service token (X-Service-Token): ${INTERNAL_SERVICE_TOKENS%%,*}
Buy It Now listing: 0b6f5e2a-6c1e-4d0e-9a55-3f0c2b1a0001

Ctrl-C stops both.
READY
wait $api
