#!/usr/bin/env bash
# The migrations against squawk, the PostgreSQL migration linter (squawk-cli, from PyPI):
# every finding must be either off for every migration (.squawk.toml, with its reason) or
# accepted for its migration in migrations/lint-exceptions.toml (with its reason); anything
# else fails. `--self-test` also shows that a new migration with a plain CREATE INDEX on
# orders fails the check.
# Usage: scripts/migration-check.sh [--self-test] [MIGRATIONS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/squawk" ] ||
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'squawk-cli==2.70.0'

check() {
  local dir=$1
  # Only the forward scripts: deploys never run a down.sql on a live database.
  "$VENV/bin/squawk" --config .squawk.toml --reporter json "$dir"/*/up.sql >"$report" || true
  python3 - "$report" migrations/lint-exceptions.toml <<'PY'
import collections, json, pathlib, sys, tomllib

findings = json.loads(pathlib.Path(sys.argv[1]).read_text() or "[]")
accepted = {
    (e["migration"], e["rule"]): e["count"]
    for e in tomllib.loads(pathlib.Path(sys.argv[2]).read_text())["exception"]
}
found = collections.Counter(
    (pathlib.Path(f["file"]).parent.name, f["rule_name"]) for f in findings
)
failed = False
for (migration, rule), n in sorted(found.items()):
    if accepted.get((migration, rule)) != n:
        failed = True
        for f in findings:
            if (pathlib.Path(f["file"]).parent.name, f["rule_name"]) == (migration, rule):
                print(f"{f['file']}:{f['line'] + 1}: {rule}: {f['message']}")
for key, n in sorted(accepted.items()):
    if key not in found:
        failed = True
        print(f"migrations/lint-exceptions.toml: {key[0]} {key[1]} accepts {n} findings, "
              "and there are none: remove the entry")
if failed:
    sys.exit(1)
print(f"squawk: {sum(found.values())} findings, each accepted with its reason")
PY
}

report=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$report" "$scratch"' EXIT

if [ "${1:-}" = --self-test ]; then
  shift
  cp -r "${1:-migrations}"/. "$scratch"
  mkdir "$scratch/9999-12-31-000001_plain_index"
  echo 'CREATE INDEX orders_by_carrier ON orders (carrier);' \
    >"$scratch/9999-12-31-000001_plain_index/up.sql"
  if check "$scratch" >/dev/null; then
    echo "migration-check: a plain CREATE INDEX on orders passed" >&2
    exit 1
  fi
  echo "migration-check: a plain CREATE INDEX on orders is refused"
fi
check "${1:-migrations}"
