#!/usr/bin/env bash
# Fuzzes every operation of the OpenAPI document with schemathesis against the running
# service (stand-in peers, a fresh database), with the checks of scripts/fuzz.toml: no 5xx,
# every answer as documented, and the document's bounds exactly those the service applies.
# First every operation with random ids, as an admin and as a service; then, so that the
# fuzzer reaches transitions, validation and wallet calls and not only 404s, each operation
# on a real object as the caller allowed to act on it.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=orders_fuzz
EXAMPLES=${FUZZ_EXAMPLES:-40}

[ -x "$VENV/bin/schemathesis" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.*'

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
cargo build -q -p order-api -p stub-peers
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port=$(port); peers_port=$(port)

STUB_PEERS_ADDR=127.0.0.1:$peers_port STUB_SERVICE_TOKEN=fuzz-peer STUB_SEED=crates/stub-peers/seed/demo.json \
  RUST_LOG=warn "$bin/stub-peers" >/dev/null &
stub=$!
CARRIER_SECRET=fuzz-carrier-secret
JWT_SECRET=fuzz-secret-0123456789 INTERNAL_SERVICE_TOKENS=fuzz-service PEER_SERVICE_TOKEN=fuzz-peer \
  CARRIER_WEBHOOK_SECRET=$CARRIER_SECRET \
  WALLET_URL=http://127.0.0.1:$peers_port/api/v1/wallet LISTING_URL=http://127.0.0.1:$peers_port/api/v1/listings \
  DATABASE_URL=$PGURL/$DB PORT=$api_port RUST_LOG=error "$bin/order-api" >/tmp/order-api-fuzz.log 2>&1 &
api=$!
config=$(mktemp -d)
trap 'kill $stub $api 2>/dev/null || true; rm -rf "$config"' EXIT

# Tokens and real objects (orders in each state, disputes, a listing) for the deeper passes.
fixtures=$(API=http://127.0.0.1:$api_port PEERS=http://127.0.0.1:$peers_port SERVICE_TOKEN=fuzz-service \
  PEER_TOKEN=fuzz-peer JWT_SECRET=fuzz-secret-0123456789 python3 scripts/fuzz_fixtures.py)
eval "$fixtures"

# The served document as consumers' tools read it: the standard validator and Spectral.
VENV=$VENV scripts/api-check.sh "http://127.0.0.1:$api_port"
# And as a TypeScript consumer's generated client reads it: type-checked, then run.
API=http://127.0.0.1:$api_port PEERS=http://127.0.0.1:$peers_port SERVICE_TOKEN=fuzz-service \
  PEER_TOKEN=fuzz-peer JWT_SECRET=fuzz-secret-0123456789 scripts/client-check.sh

# run [ID] ARGS…: with an ID, every {id} of the selected operations is that object.
run() {
  local settings=scripts/fuzz.toml
  if [[ "${1:-}" != --* ]]; then
    settings="$config/$1.toml"
    { printf 'parameters = { "path.id" = "%s" }\n' "$1"; cat scripts/fuzz.toml; } >"$settings"
    shift
  fi
  "$VENV/bin/schemathesis" --config-file "$settings" run "http://127.0.0.1:$api_port/api/v1/openapi.json" \
    --wait-for-schema 60 --max-examples "$EXAMPLES" --phases examples,fuzzing \
    --workers 2 --suppress-health-check all --no-color "$@"
}
echo "== as an admin: orders, disputes, operations"
run --header "Authorization: Bearer $ADMIN_TOKEN" --exclude-tag internal --exclude-tag carriers
echo "== as a carrier aggregator: tracking updates, each signed by scripts/fuzz_hooks.py"
# The hook signs the requests that carry this placeholder, and leaves those the fuzzer sent
# without it (or with another signature) to be refused.
(export CARRIER_WEBHOOK_SECRET=$CARRIER_SECRET PYTHONPATH=scripts SCHEMATHESIS_HOOKS=fuzz_hooks \
   FUZZ_SIGNATURE_PLACEHOLDER=signed-by-fuzz-hooks
  run --include-tag carriers --header "Carrier-Signature: $FUZZ_SIGNATURE_PLACEHOLDER")
echo "== as a service: internal endpoints and Buy It Now"
run --header "X-Service-Token: fuzz-service" --include-tag internal
# on TITLE ID TOKEN PATHS [ARGS…]: as the bearer of TOKEN, the operations on the object ID
# whose paths match the regular expression PATHS.
on() {
  echo "== $1"
  run "$2" --header "Authorization: Bearer $3" --include-path-regex "$4" "${@:5}"
}
on "as the seller of a PAID order: read, ship, dispute, cancel" "$PAID_ORDER" "$SELLER_TOKEN" \
  '^/api/v1/orders/\{id\}/(ship/|dispute/|cancel/)?$'
on "as the buyer of a SHIPPED order: read, complete, dispute" "$SHIPPED_ORDER" "$BUYER_TOKEN" \
  '^/api/v1/orders/\{id\}/(complete/|dispute/)?$'
on "as the buyer, on an OPEN dispute: read, add evidence" "$OPEN_DISPUTE" "$BUYER_TOKEN" \
  '^/api/v1/disputes/\{id\}/(evidence/)?$' --exclude-method PATCH
on "as an admin, on an OPEN dispute: update and resolve (wallet calls behind)" \
  "$ADMIN_DISPUTE" "$ADMIN_TOKEN" '^/api/v1/disputes/\{id\}/$'
on "as a buyer, Buy It Now on a real listing" "$BUY_NOW_LISTING" "$BUYER_TOKEN" \
  '^/api/v1/orders/\{id\}/purchase/$'
