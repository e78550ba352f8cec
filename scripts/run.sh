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

echo "order-api on http://127.0.0.1:8005 — service token: dev-service-token; JWT secret: dev-jwt-secret-0123456789"
DATABASE_URL="$PGURL/$DB" \
JWT_SECRET=${JWT_SECRET:-dev-jwt-secret-0123456789} \
INTERNAL_SERVICE_TOKENS=${INTERNAL_SERVICE_TOKENS:-dev-service-token} \
  "$bin/order-api" serve
