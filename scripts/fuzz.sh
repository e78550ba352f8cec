#!/usr/bin/env bash
# Fuzzes every operation of the OpenAPI document with schemathesis against the running
# service (stand-in peers, a fresh database), once with an admin's token and once with a
# service token: no 5xx, and every answer as documented (status, content type, schema).
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
JWT_SECRET=fuzz-secret-0123456789 INTERNAL_SERVICE_TOKENS=fuzz-service PEER_SERVICE_TOKEN=fuzz-peer \
  WALLET_URL=http://127.0.0.1:$peers_port/api/v1/wallet LISTING_URL=http://127.0.0.1:$peers_port/api/v1/listings \
  DATABASE_URL=$PGURL/$DB PORT=$api_port RUST_LOG=error "$bin/order-api" >/tmp/order-api-fuzz.log 2>&1 &
api=$!
trap 'kill $stub $api 2>/dev/null || true' EXIT

admin=$(python3 - <<'PY'
import base64, hashlib, hmac, json, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "00000000-0000-4000-8000-0000000000ad", "is_staff": True, "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(b"fuzz-secret-0123456789", f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PY
)

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() {
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$api_port/api/v1/openapi.json" --wait-for-schema 60 \
    --checks "$checks" --max-examples "$EXAMPLES" --phases examples,fuzzing --workers 2 \
    --suppress-health-check all --no-color "$@"
}
echo "== as an admin: orders, disputes, operations"
run --header "Authorization: Bearer $admin" --exclude-tag internal
echo "== as a service: internal endpoints and Buy It Now"
run --header "X-Service-Token: fuzz-service" --include-tag internal
