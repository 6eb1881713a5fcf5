#!/usr/bin/env bash
# Live chat benchmark (issue 4): one release node on SQLite (demo data), driven by the Rust load
# client in bench/chat-load over loopback:
#   - IDLE widget connections (anonymous visitors, each has said hello and got its welcome) held
#     open; the server's resident memory (VmRSS) before and with them;
#   - then ACTIVE further visitors each start a chat and send, all together RATE messages a
#     second for DURATION seconds; latency from each `send` to its `ack` (stored), and to the agents' live
#     feed (GET /api/v1/events) announcing it: the customer → agent delivery time.
# Usage: bench/chat.sh        Knobs: PORT=18779 IDLE=10000 ACTIVE=1000 RATE=1000 DURATION=20 (seconds),
#   KEFU_BIN and CHAT_LOAD_BIN (binaries to run instead of building the release ones),
#   BOT=off (the demo's bot answers new chats first; off, every message goes straight to agents)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=${PORT:-18779}
IDLE=${IDLE:-10000}
ACTIVE=${ACTIVE:-1000}
RATE=${RATE:-1000}
DURATION=${DURATION:-20}
# One socket a connection in each process (client and server), and then some: raise the soft
# limit on open files to the hard one (20,000 here).
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((IDLE + ACTIVE + 500)) ] ||
  { echo "open files limited to $(ulimit -n): lower IDLE or raise the limit" >&2; exit 1; }
[ -n "${KEFU_BIN:-}" ] && [ -n "${CHAT_LOAD_BIN:-}" ] || cargo build --release -q -p kefu -p kefu-chat-load
target=${CARGO_TARGET_DIR:-target}/release
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
data=$(mktemp -d)
KEFU_LOG=warn "${KEFU_BIN:-$target/kefu}" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" > "$out/chat-server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$PORT"
wait_healthy "$base"
token=$(demo_token "$base")
widget=$(curl -fs -H "authorization: Bearer $token" "$base/api/v1/settings/chat" | python3 -c 'import json,sys; print(json.load(sys.stdin)["widget_id"])')
if [ "${BOT:-on}" = off ]; then
  curl -fs -H "authorization: Bearer $token" "$base/api/v1/bot/settings" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); s["enabled"]=False; print(json.dumps(s))' |
    curl -fs -X PUT -H "authorization: Bearer $token" -H 'content-type: application/json' -d @- "$base/api/v1/bot/settings" > /dev/null
fi
# Let the demo seeding and the first index commit settle.
sleep 3
"${CHAT_LOAD_BIN:-$target/kefu-chat-load}" --base "$base" --token "$token" --widget "$widget" --pid "$pid" \
  --idle "$IDLE" --active "$ACTIVE" --rate "$RATE" --seconds "$DURATION" | tee "$out/chat.json"
python3 - "$out/chat.json" <<'PY' | tee "$out/summary.md"
import json, sys
d = json.load(open(sys.argv[1]))
rss_ok = d["rss_mib_idle"] < 400
p99 = d["delivery_ms"]["p99_ms"]
print(f"- {d['idle_connections']} idle connections ({d['connect_failures']} failed) opened in {d['connect_seconds']:.1f} s; "
      f"server RSS {d['rss_mib_before']:.0f} MiB before, {d['rss_mib_idle']:.0f} MiB with them "
      f"({d['rss_mib_per_1000_connections']:.1f} MiB per 1,000): target < 400 MiB {'met' if rss_ok else 'MISSED'}")
a, l = d["ack_ms"], d["delivery_ms"]
print(f"- {d['active_connections']} customers sending {d['rate_per_second']:.0f} messages/s ({d['sent']} in all), "
      f"server {d['server_cores_during_sends']:.2f} cores: ack p50 {a['p50_ms']:.1f} / p99 {a['p99_ms']:.1f} ms; "
      f"customer → agent feed p50 {l['p50_ms']:.1f} / p90 {l['p90_ms']:.1f} / p99 {p99:.1f} / max {l['max_ms']:.1f} ms "
      f"({d['not_delivered']} not seen): target p99 < 50 ms {'met' if p99 < 50 else 'MISSED'}")
PY
echo "raw results: $out"
