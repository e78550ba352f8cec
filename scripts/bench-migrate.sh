#!/usr/bin/env bash
# This release's migrations applied to BENCH_MIGRATE_ORDERS (default 10,000,000) orders at an
# earlier release's schema while writes run: builds that release's order-api from its commit
# (releases.txt; by default the newest whose migrations differ from this commit's,
# BENCH_UPGRADE_FROM=v0.N picks one) and runs `order-bench migrate` (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
from=${BENCH_UPGRADE_FROM:-}
commit=
while read -r version hash; do
  case "$version" in '' | '#'*) continue ;; esac
  if [ -n "$from" ]; then
    [ "$version" = "$from" ] && commit=$hash && break
  elif ! git diff --quiet "$hash" HEAD -- 'migrations/*/up.sql'; then
    from=$version commit=$hash
    break
  fi
done <releases.txt
[ -n "$commit" ] || { echo "bench-migrate: no release ${from:-with other migrations} in releases.txt" >&2; exit 1; }

tree=$(mktemp -d)
trap 'git worktree remove --force "$tree/previous" >/dev/null 2>&1 || true; rm -rf "$tree"' EXIT
git worktree add --force --detach "$tree/previous" "$commit" >/dev/null
echo "building $from (${commit:0:7})"
# A target directory of that commit's own: cargo names a workspace's artifacts and records
# their sources by their path within the workspace, so two checkouts sharing one directory
# take each other's crates for their own.
(cd "$tree/previous" && CARGO_TARGET_DIR="$target/releases/$commit" cargo build --release -q -p order-api)
cp "$target/releases/$commit/release/order-api" "$target/order-api-$from"
cargo build --release -q -p order-api -p order-bench
BENCH_PREVIOUS_ORDER_API="$target/order-api-$from" BENCH_PREVIOUS_RELEASE="$from" "$target/release/order-bench" migrate
