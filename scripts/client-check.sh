#!/usr/bin/env bash
# A TypeScript consumer of the running service: generates its client types from the served
# OpenAPI document (openapi-typescript), type-checks a lifecycle script against them
# (tsc --noEmit), then runs it (openapi-fetch): create, pay, ship, complete, read the
# history. Versions are pinned in clients/typescript/package-lock.json (openapi-typescript
# 7 needs TypeScript 5). Reads API, PEERS, SERVICE_TOKEN, PEER_TOKEN and JWT_SECRET.
set -euo pipefail
cd "$(dirname "$0")/../clients/typescript"

: "${API:?}" "${PEERS:?}" "${SERVICE_TOKEN:?}" "${PEER_TOKEN:?}" "${JWT_SECRET:?}"
[ -d node_modules ] || npm ci --silent --no-audit --no-fund
mkdir -p generated
curl -sf "$API/api/v1/openapi.json" >generated/openapi.json
npx --no-install openapi-typescript generated/openapi.json -o generated/api.d.ts --silent
npx --no-install tsc --noEmit
npx --no-install tsc
node dist/lifecycle.js
