#!/usr/bin/env bash
# Loads /api/docs/ in headless Chromium with the network cut: the service and the browser
# run in a network namespace of their own that has nothing but loopback, so a page that
# needed anything from outside (a CDN, a validator) would render without its operations.
# Asserts that every operation of the OpenAPI document is on the rendered page, and keeps
# a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "docs-check needs Chromium: sudo apt-get install chromium" >&2
    exit 2
  fi
fi

cargo build -q -p order-api
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$target/docs-check
rm -rf "$out" && mkdir -p "$out"

# -r maps the caller to root inside, so this works without privileges where user
# namespaces are allowed; -n is the cut: the new namespace's only interface is loopback.
unshare -rn env BIN="$target/debug/order-api" OUT="$out" bash -euo pipefail -c '
  ip link set lo up
  if python3 -c "import socket; socket.create_connection((\"1.1.1.1\", 443), timeout=2)" 2>/dev/null; then
    echo "docs-check: the network is not cut" >&2; exit 1
  fi
  # No database is reachable in here, and the page needs none.
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/none MIGRATE_ON_START=false \
    JWT_SECRET=docs-check-secret-0123456789 INTERNAL_SERVICE_TOKENS=docs-check \
    PORT=8005 RUST_LOG=error "$BIN" serve >"$OUT/order-api.log" 2>&1 &
  api=$!
  trap "kill $api 2>/dev/null || true" EXIT
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8005/healthz/\")" 2>/dev/null && break
    sleep 0.2
  done
  python3 -c "import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:8005/api/v1/openapi.json\").read().decode())" >"$OUT/openapi.json"
  export HOME=$OUT/home
  browse() {
    chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
      --user-data-dir="$OUT/profile" --virtual-time-budget=20000 --window-size=1280,2400 "$@" \
      http://127.0.0.1:8005/api/docs/ 2>>"$OUT/chromium.log"
  }
  browse --dump-dom >"$OUT/page.html"
  browse --screenshot="$OUT/docs.png" >/dev/null
'

python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
document = json.load(open(f"{out}/openapi.json"))
page = open(f"{out}/page.html").read()
rendered = set(re.findall(r'class="opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', page))
expected = {(method.upper(), path) for path, item in document["paths"].items() for method in item
            if method in {"get", "post", "put", "patch", "delete"}}
missing = sorted(expected - {(m.upper(), p) for m, p in rendered})
if not expected or missing:
    print(f"docs-check FAILED: {len(missing)} of {len(expected)} operations did not render: {missing[:5]}", file=sys.stderr)
    print(f"the rendered page: {out}/page.html", file=sys.stderr)
    sys.exit(1)
print(f"docs-check passed: all {len(expected)} operations rendered with the network cut")
PY
echo "screenshot: $out/docs.png"
