#!/usr/bin/env bash
# Foundation benchmark: the release binary under load from oha on loopback, on SQLite and on
# PostgreSQL. Phases: liveness probe, an authenticated listing, a create (token: audit append
# included), and the password sign-in (argon2id-bound by design).
# Usage: bench/foundation.sh [sqlite|postgres|both]   (PG_URL=postgres://… for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
which_db=${1:-both}
PORT=${PORT:-18777}
CONC=${CONC:-16}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
OHA=${OHA:-$(command -v oha || echo /tmp/peer-tools/bin/oha)}
[ -x "$OHA" ] || cargo install oha --version 1.16.0 --locked --root /tmp/peer-tools
OHA=${OHA:-/tmp/peer-tools/bin/oha}
cargo build --release --bin kefu -q
bin=${CARGO_TARGET_DIR:-target}/release/kefu
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

run_phase() { # name, oha args...
  local name=$1; shift
  "$OHA" --no-tui --output-format json -c "$CONC" "$@" > "$out/$db-$name.json"
  python3 - "$out/$db-$name.json" "$db" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
print(f"{sys.argv[2]:8} {sys.argv[3]:14} {s['requestsPerSec']:9.1f} req/s  p50 {p['p50']*1000:7.2f} ms  p99 {p['p99']*1000:7.2f} ms  status {codes}")
PY
}

bench_db() {
  db=$1
  local data; data=$(mktemp -d)
  local args=(--data-dir "$data")
  if [ "$db" = postgres ]; then
    local name="kefu_bench_$$"
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name" >/dev/null
    args+=(--database-url "${PG_URL%/*}/$name")
  fi
  KEFU_LOG=warn "$bin" serve --demo --listen 127.0.0.1:$PORT "${args[@]}" > "$out/$db-server.log" 2>&1 &
  local pid=$!
  local base="http://127.0.0.1:$PORT"
  wait_healthy "$base"
  local token; token=$(demo_token "$base")
  run_phase healthz -n 20000 "$base/healthz"
  run_phase list-agents -n 10000 -H "authorization: Bearer $token" "$base/api/v1/agents?limit=25"
  run_phase create-token -n 2000 -m POST -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"name":"load","scopes":["read"]}' "$base/api/v1/me/tokens"
  run_phase audit-page -n 5000 -H "authorization: Bearer $token" "$base/api/v1/audit?limit=50"
  CONC=4 run_phase login -n 200 -m POST -H 'content-type: application/json' -d '{"email":"agent@nebula-ex.com","password":"kefu-demo-pass"}' "$base/api/v1/auth/login"
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$data" "$jar"
  if [ "$db" = postgres ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS kefu_bench_$$ WITH (FORCE)" >/dev/null; fi
}

echo "kefu foundation bench, $CONC connections, $(nproc) cores, results in $out"
case $which_db in
  sqlite|postgres) bench_db "$which_db" ;;
  both) bench_db sqlite; bench_db postgres ;;
esac
