#!/usr/bin/env bash
# The container image (docker/Dockerfile), with docker or podman.
#
#   scripts/image.sh build   (make image)        builds it: the binaries compiled in the
#                                                official Rust image, which needs a registry.
#   scripts/image.sh check   (make image-check)  builds it, then runs it: the service's
#       container with PostgreSQL and the stand-in peers' container, /readyz ready, one
#       whole order lifecycle through the container's port, the process not root, its
#       HEALTHCHECK passing, SIGTERM draining within the grace period; prints the size.
#
# Where no registry answers (`IMAGE_OFFLINE=1` forces it), `check` makes the runtime base
# from Debian packages (debootstrap, then an import) and gives the image the binaries built
# on this host (same Debian release, same glibc). Needs root for debootstrap and the
# containers; the PostgreSQL on 127.0.0.1:5432 (user postgres, trust) holds the database.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-build}
TAG=${IMAGE_TAG:-order-service:dev}
BASE_TAG=order-service-base:bookworm
GRACE=40

if docker info >/dev/null 2>&1; then
  ENGINE=(docker)
  BUILD_FLAGS=()
  RUN_FLAGS=()
  HEALTH_FLAGS=()
elif command -v podman >/dev/null 2>&1; then
  # runc, cgroupfs and a file for events: what podman needs on a machine without systemd
  # (crun fails there on cgroups and rlimits); limits spelled out for the same reason.
  ENGINE=(podman --runtime runc --cgroup-manager cgroupfs --events-backend file)
  # Spelled out, since podman's defaults are more than runc may set here: open files no
  # higher than this shell's own hard limit; processes well within any machine's.
  LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
  BUILD_FLAGS=(--format docker "${LIMITS[@]}")
  RUN_FLAGS=("${LIMITS[@]}")
  # No systemd to schedule the HEALTHCHECK on: the check runs it itself
  # (`podman healthcheck run`); podman 4.3 still says it could not reach systemd, which
  # the run below keeps out of the output.
  HEALTH_FLAGS=(--health-interval disable)
else
  echo "image: needs docker or podman (Debian: apt-get install podman runc)" >&2
  exit 1
fi

say() { echo "[image $(date +%H:%M:%S)] $*"; }

registry_answers() {
  [ "${IMAGE_OFFLINE:-0}" != 1 ] &&
    timeout 30 "${ENGINE[@]}" pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1
}

# The runtime base from Debian's packages: debootstrap's minimal system with
# ca-certificates, without apt's lists, documentation or manuals, imported as an image.
local_base() {
  if "${ENGINE[@]}" image inspect "$BASE_TAG" >/dev/null 2>&1; then
    return
  fi
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  local root
  root=$(mktemp -d /var/tmp/order-image-base.XXXXXX)
  say "making $BASE_TAG with debootstrap (a few minutes, once)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" \
    http://deb.debian.org/debian >/dev/null
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/*
  tar -C "$root" -c . | "${ENGINE[@]}" import - "$BASE_TAG" >/dev/null
  rm -rf "$root"
}

build_online() {
  say "building $TAG (binaries compiled in the Rust image)"
  "${ENGINE[@]}" build "${BUILD_FLAGS[@]}" -f docker/Dockerfile -t "$TAG" .
}

build_offline() {
  local_base
  say "building the binaries on this host (release)"
  cargo build --release --locked -q -p order-api -p stub-peers
  local target
  target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  mkdir -p target/image
  cp "$target/release/order-api" "$target/release/stub-peers" target/image/
  say "building $TAG on $BASE_TAG with them"
  "${ENGINE[@]}" build "${BUILD_FLAGS[@]}" -f docker/Dockerfile -t "$TAG" \
    --build-arg RUNTIME_BASE="$BASE_TAG" --build-arg BINARIES=prebuilt .
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The containers and the database of `check`, for its cleanup on exit.
peers=order-image-peers
api=order-image-api
db=orders_image

check() {
  local api_port peers_port
  api_port=$(free_port)
  peers_port=$(free_port)
  cleanup() {
    "${ENGINE[@]}" rm -f "$api" "$peers" >/dev/null 2>&1 || true
    dropdb -h 127.0.0.1 -U postgres --if-exists "$db" >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
  cleanup
  createdb -h 127.0.0.1 -U postgres "$db"

  # The host's network: the containers reach the host's PostgreSQL, and each other, on
  # 127.0.0.1.
  say "starting the stand-in peers (:$peers_port) and the service (:$api_port)"
  "${ENGINE[@]}" run -d --name "$peers" --network host "${RUN_FLAGS[@]}" \
    --no-healthcheck --entrypoint stub-peers \
    -e STUB_PEERS_ADDR="127.0.0.1:$peers_port" -e STUB_SERVICE_TOKEN=image-peer-token \
    -e STUB_SEED=/usr/local/share/order-service/demo-seed.json \
    "$TAG" >/dev/null
  "${ENGINE[@]}" run -d --name "$api" --network host "${RUN_FLAGS[@]}" "${HEALTH_FLAGS[@]}" \
    -e PORT="$api_port" \
    -e DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" \
    -e JWT_SECRET=image-check-secret-0123456789 \
    -e INTERNAL_SERVICE_TOKENS=image-service-token \
    -e PEER_SERVICE_TOKEN=image-peer-token \
    -e WALLET_URL="http://127.0.0.1:$peers_port/api/v1/wallet" \
    -e LISTING_URL="http://127.0.0.1:$peers_port/api/v1/listings" \
    "$TAG" 2> >(grep -v 'systemd connection' >&2) >/dev/null

  local base="http://127.0.0.1:$api_port" ready=""
  for _ in $(seq 1 120); do
    if curl -fsS "$base/readyz/" >/dev/null 2>&1; then ready=yes; break; fi
    sleep 0.5
  done
  if [ -z "$ready" ]; then
    "${ENGINE[@]}" logs "$api" | tail -20
    echo "image: the service never became ready" >&2
    exit 1
  fi
  say "ready: $(curl -fsS "$base/readyz/")"

  say "one order's lifecycle through the container's port"
  local buyer seller
  buyer=$("${ENGINE[@]}" exec "$api" order-api token b0e70000-0000-4000-8000-000000000001)
  seller=$("${ENGINE[@]}" exec "$api" order-api token 5e11e500-0000-4000-8000-000000000001)
  python3 scripts/image_lifecycle.py "$base" "$buyer" "$seller" 0b6f5e2a-6c1e-4d0e-9a55-3f0c2b1a0001

  local uid
  uid=$("${ENGINE[@]}" exec "$api" sh -c 'id -u')
  [ "$uid" != 0 ] || { echo "image: the service runs as root" >&2; exit 1; }
  say "the process runs as uid $uid ($("${ENGINE[@]}" exec "$api" sh -c 'id -un'))"

  if [ "${ENGINE[0]}" = podman ]; then
    "${ENGINE[@]}" healthcheck run "$api" >/dev/null ||
      { echo "image: HEALTHCHECK failed" >&2; exit 1; }
  else
    for _ in $(seq 1 60); do
      [ "$(docker inspect -f '{{.State.Health.Status}}' "$api")" = healthy ] && break
      sleep 1
    done
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$api")" = healthy ] ||
      { echo "image: HEALTHCHECK failed" >&2; exit 1; }
  fi
  say "HEALTHCHECK $("${ENGINE[@]}" container inspect -f '{{json .Config.Healthcheck.Test}}' "$api"): healthy"

  # A request in flight when SIGTERM comes must still be answered, and the process must
  # be gone within the grace period an orchestrator gives it, with exit code 0: a Buy It
  # Now whose Wallet call the stand-in holds for 3 s is on its way when the signal comes.
  say "SIGTERM while a Buy It Now waits on the Wallet"
  curl -fsS -X POST "http://127.0.0.1:$peers_port/_stub/faults/" -H 'Content-Type: application/json' \
    -d '{"target": "wallet", "mode": "delay", "delay_ms": 3000, "times": 1}' >/dev/null
  curl -sS -o /tmp/order-image-inflight.json -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $buyer" -H 'Content-Type: application/json' -d '{}' \
    "$base/api/v1/orders/0b6f5e2a-6c1e-4d0e-9a55-3f0c2b1a0002/purchase/" \
    >/tmp/order-image-inflight.status &
  local inflight=$!
  sleep 1
  local started
  started=$(date +%s.%N)
  "${ENGINE[@]}" kill --signal TERM "$api" >/dev/null
  local code
  code=$("${ENGINE[@]}" wait "$api")
  local took
  took=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  wait "$inflight" || true
  [ "$code" = 0 ] || { "${ENGINE[@]}" logs "$api" | tail -20; echo "image: exit code $code after SIGTERM" >&2; exit 1; }
  python3 -c "import sys; sys.exit(0 if $took < $GRACE else 1)" ||
    { echo "image: SIGTERM took ${took}s, over the ${GRACE}s grace period" >&2; exit 1; }
  local answered
  answered=$(cat /tmp/order-image-inflight.status)
  [ "$answered" = 201 ] ||
    { echo "image: the request in flight got $answered, not 201: $(cat /tmp/order-image-inflight.json)" >&2; exit 1; }
  say "stopped in ${took}s (grace ${GRACE}s), exit code $code; the purchase in flight was answered $answered"

  local size
  size=$("${ENGINE[@]}" image inspect -f '{{.Size}}' "$TAG")
  say "image $TAG: $((size / 1024 / 1024)) MiB"
  say "image check passed"
}

case "$MODE" in
  build)
    build_online
    ;;
  check)
    if registry_answers; then build_online; else
      say "no registry answers: the offline path"
      build_offline
    fi
    check
    ;;
  *)
    echo "usage: scripts/image.sh build|check" >&2
    exit 2
    ;;
esac
