#!/usr/bin/env bash
# Support bot benchmark (issue 6): one release node on SQLite with the demo data (the bot on, the
# demo help center), driven over loopback.
#   1. reply latency as a customer sees it: bench/chat-load --bot opens chats through the widget
#      WebSocket with the 360 held-out utterances (crates/bot/data/eval.csv) in turn, each a new
#      visitor, and times each from its `send` to the bot's first reply on the socket. That is the
#      message stored, the bot's turn (classification, help-center search, flow), its reply stored
#      and pushed. One visitor at a time (latency), then CONCURRENCY at once (load);
#   2. the bot's turn alone over HTTP: oha against POST /api/v1/bot/try ("try the bot": the
#      same turn, nothing stored), one client, one Chinese and one English utterance.
# Usage: bench/bot.sh     Knobs: PORT=18781 DURATION=20 (seconds a phase) CONCURRENCY=8 TRY_REQUESTS=3000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=${PORT:-18781}
DURATION=${DURATION:-20}
CONCURRENCY=${CONCURRENCY:-8}
TRY_REQUESTS=${TRY_REQUESTS:-3000}
OHA=${OHA:-$(command -v oha || echo /tmp/peer-tools/bin/oha)}
[ -x "$OHA" ] || { cargo install oha --version 1.16.0 --locked --root /tmp/peer-tools; OHA=/tmp/peer-tools/bin/oha; }
cargo build --release -q -p kefu -p kefu-chat-load
target=${CARGO_TARGET_DIR:-target}/release
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-bot
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill -TERM ${pid:-0} 2>/dev/null; wait ${pid:-0} 2>/dev/null; rm -rf "$work"' EXIT
KEFU_LOG=warn "$target/kefu" serve --demo --data-dir "$work/data" --listen "127.0.0.1:$PORT" > "$out/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
wait_healthy "$base"
token=$(demo_token "$base")
widget=$(curl -fs -H "authorization: Bearer $token" "$base/api/v1/settings/chat" | python3 -c 'import json,sys; print(json.load(sys.stdin)["widget_id"])')
python3 -c '
import csv, sys
for row in csv.DictReader(open("crates/bot/data/eval.csv", encoding="utf-8")):
    print(" ".join(row["text"].split()))
' > "$work/utterances.txt"
# The model trains in the background after start, and the help-center index is built: one turn
# through "try the bot" waits for both.
curl -fs -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"text":"warm up"}' "$base/api/v1/bot/try" > /dev/null
sleep 2
load() { "$target/kefu-chat-load" --base "$base" --token "$token" --widget "$widget" --pid "$pid" --bot "$work/utterances.txt" "$@"; }
load --concurrency 1 --seconds "$DURATION" > "$out/reply-1.json"
load --concurrency "$CONCURRENCY" --seconds "$DURATION" > "$out/reply-n.json"
try() {
  "$OHA" --no-tui --output-format json -c 1 -n "$TRY_REQUESTS" -m POST -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d "$1" "$base/api/v1/bot/try"
}
try '{"text":"我的USDT提币三个小时了还没到账，TRC20"}' > "$out/try-zh.json"
try '{"text":"my deposit has not arrived after 2 hours"}' > "$out/try-en.json"
python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, sys
out = sys.argv[1]
for name in ("reply-1", "reply-n"):
    d = json.load(open(f"{out}/{name}.json"))
    r = d["reply_ms"]
    print(f"- {d['concurrency']} visitor(s) at once: {d['chats']} chats ({d['chats_per_second']:.0f}/s, {d['no_reply']} without a reply, "
          f"{d['failures']} failed), server {d['server_cores']:.2f} cores; send → bot reply p50 {r['p50_ms']:.1f} / p90 {r['p90_ms']:.1f} / "
          f"p99 {r['p99_ms']:.1f} / max {r['max_ms']:.1f} ms: target p99 < 20 ms {'met' if r['p99_ms'] < 20 else 'MISSED'}")
for name in ("try-zh", "try-en"):
    d = json.load(open(f"{out}/{name}.json"))
    p = d["latencyPercentiles"]
    ok = d["statusCodeDistribution"].get("200", 0)
    print(f"- POST /api/v1/bot/try ({name[4:]}), one client: {d['summary']['requestsPerSec']:.0f} turns/s, "
          f"p50 {p['p50']*1000:.2f} ms, p99 {p['p99']*1000:.2f} ms ({ok} answered 200)")
PY
echo "results in $out"
