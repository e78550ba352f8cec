#!/usr/bin/env bash
# Fuzzes every operation of the OpenAPI document with schemathesis against the running
# service (stand-in peers, a fresh database), with the checks of scripts/fuzz.toml: no 5xx,
# every answer as documented, and the document's bounds exactly those the service applies.
# First every operation with random ids, as an admin and as a service; then, so that the
# fuzzer reaches transitions, validation and wallet calls and not only 404s, each operation
# on a real object as the caller allowed to act on it: one made for each request by
# scripts/fuzz_hooks.py, in the status the operation acts on.
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
service=(env JWT_SECRET=fuzz-secret-0123456789 INTERNAL_SERVICE_TOKENS=fuzz-service PEER_SERVICE_TOKEN=fuzz-peer
  CARRIER_WEBHOOK_SECRET=$CARRIER_SECRET
  WALLET_URL=http://127.0.0.1:$peers_port/api/v1/wallet LISTING_URL=http://127.0.0.1:$peers_port/api/v1/listings
  DATABASE_URL=$PGURL/$DB PORT=$api_port RUST_LOG=error "$bin/order-api")
"${service[@]}" >/tmp/order-api-fuzz.log 2>&1 &
api=$!
config=$(mktemp -d)
trap 'kill $stub $api 2>/dev/null || true; rm -rf "$config"' EXIT

# Tokens, a funded buyer and the real objects the fixed passes act on.
export API=http://127.0.0.1:$api_port PEERS=http://127.0.0.1:$peers_port SERVICE_TOKEN=fuzz-service \
  PEER_TOKEN=fuzz-peer JWT_SECRET=fuzz-secret-0123456789
fixtures=$(python3 scripts/fuzz_fixtures.py)
eval "$fixtures"
# The served document as consumers' tools read it: the standard validator and Spectral.
VENV=$VENV scripts/api-check.sh "$API"
# And as a TypeScript consumer's generated client reads it: type-checked, then run.
scripts/client-check.sh

# The hooks sign the carriers' updates that carry the placeholder signature, and make a fresh
# object for each request that names the placeholder id (or, internal, a well-formed order id).
export PYTHONPATH=scripts SCHEMATHESIS_HOOKS=fuzz_hooks CARRIER_WEBHOOK_SECRET=$CARRIER_SECRET \
  FUZZ_SIGNATURE_PLACEHOLDER=signed-by-fuzz-hooks FUZZ_FRESH_ID=00000000-0000-4000-8000-00000000f255

# run [PARAMETERS] ARGS…: with PARAMETERS (`"location.name" = "value", …`), the selected
# operations' parameters so named are those values, the rest generated.
run() {
  local settings=scripts/fuzz.toml
  if [[ "${1:-}" != --* ]]; then
    settings=$(mktemp -p "$config" XXXXXX.toml)
    { printf 'parameters = { %s }\n' "$1"; cat scripts/fuzz.toml; } >"$settings"
    shift
  fi
  "$VENV/bin/schemathesis" --config-file "$settings" run "$API/api/v1/openapi.json" \
    --wait-for-schema 60 --max-examples "$EXAMPLES" --phases examples,fuzzing \
    --workers 2 --suppress-health-check all --no-color "$@"
}
# on ID: every {id} and {offer_id} is ID.
on() { printf '"path.id" = "%s", "path.offer_id" = "%s"' "$1" "$1"; }
echo "== as an admin: orders, disputes, operations"
run --header "Authorization: Bearer $ADMIN_TOKEN" --exclude-tag internal --exclude-tag carriers
echo "== as a carrier aggregator: tracking updates, each signed by scripts/fuzz_hooks.py"
# As a parameter, not a --header: a header given on the command line overrides the one the
# hook signs.
run "\"header.Carrier-Signature\" = \"$FUZZ_SIGNATURE_PLACEHOLDER\"" --include-tag carriers
echo "== as a service: internal endpoints and Buy It Now, each named order a fresh one"
run --header "X-Service-Token: fuzz-service" --include-tag internal
# fresh TITLE TOKEN OPERATIONS: as the bearer of TOKEN, each of the operations (a regular
# expression of their ids) on an object of the request's own.
fresh() {
  echo "== on objects of their own, $1"
  run "$(on "$FUZZ_FRESH_ID")" --header "Authorization: Bearer $2" --include-operation-id-regex "^($3)\$"
}
fresh "as the buyer" "$BUYER_TOKEN" \
  'getOrder|getOrderHistory|completeOrder|openDispute|getDispute|addDisputeEvidence|acceptOffer|declineOffer'
fresh "as the seller" "$SELLER_TOKEN" 'shipOrder|cancelOrder|refundOrder|makeOffer'
fresh "as an admin" "$ADMIN_TOKEN" 'releaseOrder|settleOrder|extendOrderDeadline|updateDispute'
echo "== as a buyer, Buy It Now on a real listing"
run "$(on "$BUY_NOW_LISTING")" --header "Authorization: Bearer $BUYER_TOKEN" \
  --include-path-regex '^/api/v1/orders/\{id\}/purchase/$'
# Then as an admin along the document's links: from a page of orders or disputes (there
# are hundreds by now, in every status) to its first result, and on from each answer to
# what may be done next, on the same object: sequences a single request cannot reach. An
# empty page's link has nothing to follow; schemathesis lists those, and they are expected.
# FUZZ_HAR=file keeps this pass's requests and answers, to see which it chained.
echo "== as an admin, following the answers' links"
"$VENV/bin/schemathesis" --config-file scripts/fuzz.toml run "$API/api/v1/openapi.json" \
  --phases stateful --max-time "${FUZZ_STATEFUL_SECONDS:-60}" --workers 2 \
  --suppress-health-check all --no-color --header "Authorization: Bearer $ADMIN_TOKEN" \
  --exclude-tag internal --exclude-tag carriers ${FUZZ_HAR:+--report har --report-har-path "$FUZZ_HAR"}
# Every request above was answered as documented; the money they moved must also agree. The
# service's own reconciliation reads each order's escrow from the stand-in Wallet: an order
# and its escrow that disagree by a cent fail the run.
echo "== the books after the fuzzing: every order agrees with its escrow"
"${service[@]}" reconcile
