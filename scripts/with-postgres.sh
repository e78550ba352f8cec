#!/usr/bin/env bash
# with-postgres.sh VAR DATABASE COMMAND…: runs COMMAND with VAR set to a PostgreSQL URL.
#
# - VAR already set: it wins, and COMMAND runs as is.
# - A server listens on 127.0.0.1:5432: VAR points at it (the user `postgres`, trusted).
# - Otherwise, where PostgreSQL's server programs are installed, a throwaway cluster is
#   made under target/, on a free port, for COMMAND alone; it is stopped and removed when
#   COMMAND ends, however it ends.
# - Otherwise it stops at once and says the two ways out.
set -euo pipefail

var=$1 database=$2
shift 2

if [ -n "${!var:-}" ]; then
  exec "$@"
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if listening 5432; then
  export "$var=postgres://postgres@127.0.0.1:5432/$database"
  exec "$@"
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  cat >&2 <<'HELP'
No PostgreSQL server listens on 127.0.0.1:5432, and none is installed to start one here.
Either install the server (Debian/Ubuntu: sudo apt-get install postgresql), or start one
with Docker: docker compose -f docker/compose.yaml up -d postgres
then: export DEMO_DATABASE_URL=postgres://orders:orders@127.0.0.1:5432/orders_demo
      export TEST_DATABASE_URL=postgres://orders:orders@127.0.0.1:5432/orders
HELP
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$target"
cluster=$(mktemp -d "$target/throwaway-postgres.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$cluster"
  as_owner=(runuser -u postgres --)
fi

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "No PostgreSQL on 127.0.0.1:5432: starting a throwaway one on port $port ($cluster)" >&2
"${as_owner[@]}" "$bindir/initdb" -D "$cluster/data" -U postgres --auth=trust \
  --encoding=UTF8 --locale=C >"$cluster/initdb.log" 2>&1 \
  || { cat "$cluster/initdb.log" >&2; exit 1; }
# Durability is not wanted from a cluster that is deleted at the end; speed is.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
  -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null \
  || { cat "$cluster/server.log" >&2; exit 1; }

export "$var=postgres://postgres@127.0.0.1:$port/$database"
"$@"
