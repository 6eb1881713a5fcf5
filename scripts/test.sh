#!/usr/bin/env bash
# Runs Kefu's whole test suite on a fresh or prepared machine: unit and integration tests on
# SQLite and PostgreSQL, then the console's browser tests in Chromium. Installs or starts
# what it needs (PostgreSQL, Chromium, the browser test's npm packages) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_ready=
apt_install() {
  if [ -z "$apt_ready" ]; then as_root apt-get update -qq; apt_ready=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL: the suite's second backend --------------------------------------------------
pg_works() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
start_private_pg() {
  # A throwaway cluster with trust auth on its own port, owned by the postgres user.
  local bin dir=/tmp/kefu-test-pg
  [ -d /usr/lib/postgresql ] || apt_install postgresql
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_root mkdir -p "$dir" && as_root chown postgres "$dir"
    as_root su postgres -s /bin/sh -c "$bin/initdb -D $dir --auth=trust -U postgres >/dev/null"
  fi
  as_root su postgres -s /bin/sh -c "$bin/pg_ctl -D $dir -l $dir/log -w -o '-p 55439 -k /tmp -c listen_addresses=127.0.0.1' start >/dev/null" || true
  export KEFU_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55439/postgres
}
if [ -z "${KEFU_TEST_DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || apt_install postgresql-client
  if pg_works postgres://postgres@127.0.0.1:5432/test; then
    export KEFU_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
  elif pg_works postgres://postgres@127.0.0.1:55439/postgres; then
    export KEFU_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55439/postgres
  else
    log "starting a private PostgreSQL cluster"
    start_private_pg
  fi
fi
pg_works "$KEFU_TEST_DATABASE_URL" || { echo "PostgreSQL at $KEFU_TEST_DATABASE_URL does not answer" >&2; exit 1; }
export KEFU_TEST_REQUIRE_POSTGRES=1
echo "PostgreSQL: $KEFU_TEST_DATABASE_URL"

# --- Python tools: a real SMTP server (aiosmtpd) receives the mail Kefu sends ----------------
python3 -c 'import aiosmtpd' 2>/dev/null || {
  log "installing aiosmtpd"
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd==1.4.6
}

# --- Rust: unit tests of every crate, then the integration suite on both backends ------------
target_dir=${CARGO_TARGET_DIR:-target}
results=$(mktemp)
log "cargo test (SQLite and PostgreSQL)"
cargo build --bin kefu
cargo test --workspace 2>&1 | tee "$results"

# --- Browser tests: the console in Debian's Chromium -----------------------------------------
log "browser tests (Chromium)"
command -v node >/dev/null || apt_install nodejs npm
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || apt_install chromium
npm ci --prefix tests/browser --no-audit --no-fund --silent
KEFU_BIN="$target_dir/debug/kefu" node --test tests/browser/ 2>&1 | tee -a "$results"

# --- One line for the whole run --------------------------------------------------------------
awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
  /^# pass / { p += $3 } /^# fail / { f += $3 }
  END { printf "\nall suites: %d passed, %d failed\n", p, f }' "$results"
rm -f "$results"
