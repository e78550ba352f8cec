#!/usr/bin/env bash
# The OpenAPI document a running service serves, as its consumers' tools read it: the
# standard validator (openapi-spec-validator, from PyPI) and Spectral's OpenAPI rules
# (@stoplight/spectral-cli, from npm) with the exceptions .spectral.yaml states and
# explains. Any error or warning fails. Usage: scripts/api-check.sh http://127.0.0.1:8005
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:?usage: scripts/api-check.sh BASE_URL}
VENV=${VENV:-.venv}
TOOLS=${TOOLS:-target/api-tools}

[ -x "$VENV/bin/openapi-spec-validator" ] ||
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator==0.9.*'
[ -x "$TOOLS/node_modules/.bin/spectral" ] ||
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" '@stoplight/spectral-cli@6.16.3' >/dev/null

document=$(mktemp --suffix=.json)
trap 'rm -f "$document"' EXIT
curl -sf "$BASE/api/v1/openapi.json" >"$document"

"$VENV/bin/openapi-spec-validator" "$document"
"$TOOLS/node_modules/.bin/spectral" lint --ruleset .spectral.yaml --fail-severity warn "$document"
