#!/usr/bin/env bash
# Help-center search benchmark (issue 5): one release node on SQLite holding 10,000 generated
# articles (bench/gen_articles.py: paragraphs of the demo help center in en, zh-CN and zh-TW),
# queried over HTTP with the 90 queries of the relevance set (tests/relevance/queries.tsv),
# each search recorded for analytics as a reader's would be.
#   1. import: `kefu kb import` of the 10,000 files, and the index build when the server starts;
#   2. latency: one client, one query after another (oha -c 1): p50 / p99;
#   3. throughput: 8 concurrent clients for DURATION seconds (oha -c 8): queries/s, p50 / p99.
# Usage: bench/helpcenter.sh     Knobs: PORT=18780 ARTICLES=10000 DURATION=20 LATENCY_REQUESTS=3000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=${PORT:-18780}
ARTICLES=${ARTICLES:-10000}
DURATION=${DURATION:-20}
LATENCY_REQUESTS=${LATENCY_REQUESTS:-3000}
OHA=${OHA:-$(command -v oha || echo /tmp/peer-tools/bin/oha)}
[ -x "$OHA" ] || { cargo install oha --version 1.16.0 --locked --root /tmp/peer-tools; OHA=/tmp/peer-tools/bin/oha; }
cargo build --release -q -p kefu
target=${CARGO_TARGET_DIR:-target}/release
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill -TERM ${pid:-0} 2>/dev/null; wait ${pid:-0} 2>/dev/null; rm -rf "$work"' EXIT
python3 bench/gen_articles.py demo/kb "$work/articles" "$ARTICLES"
start=$(date +%s.%N)
KEFU_LOG=warn "$target/kefu" --data-dir "$work/data" kb import "$work/articles" | tee "$out/import.txt"
echo "import seconds: $(echo "$(date +%s.%N) - $start" | bc)" | tee -a "$out/import.txt"
KEFU_LOG=info "$target/kefu" --data-dir "$work/data" serve --listen "127.0.0.1:$PORT" > "$out/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
wait_healthy "$base"
# The index is built at start; the first search waits for it.
curl -fs "$base/api/v1/help/search?q=warmup&track=false" > /dev/null
sed 's/\x1b\[[0-9;]*m//g' "$out/server.log" | grep -o 'index built articles=[0-9]* ms=[0-9]*' | head -1 | tee -a "$out/import.txt" || true
python3 - "$base" > "$work/urls.txt" <<'PY'
import sys, urllib.parse
base = sys.argv[1]
for line in open("tests/relevance/queries.tsv", encoding="utf-8").read().splitlines()[1:]:
    locale, query, _ = line.split("\t")
    print(f"{base}/api/v1/help/search?" + urllib.parse.urlencode({"q": query, "locale": locale, "source": "help_center"}))
PY
"$OHA" --no-tui --output-format json -c 1 -n "$LATENCY_REQUESTS" --urls-from-file "$work/urls.txt" > "$out/latency.json"
"$OHA" --no-tui --output-format json -c 8 -z "${DURATION}s" --urls-from-file "$work/urls.txt" > "$out/throughput.json"
python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, sys
out = sys.argv[1]
lat, thr = json.load(open(f"{out}/latency.json")), json.load(open(f"{out}/throughput.json"))
def ms(d, p): return d["latencyPercentiles"][p] * 1000
ok = lambda d: sum(v for k, v in d["statusCodeDistribution"].items() if k == "200")
print(f"- one client: {lat['summary']['requestsPerSec']:.0f} queries/s, p50 {ms(lat, 'p50'):.2f} ms, p99 {ms(lat, 'p99'):.2f} ms "
      f"({ok(lat)} of {sum(lat['statusCodeDistribution'].values())} answered 200): target p99 < 10 ms "
      f"{'met' if ms(lat, 'p99') < 10 else 'MISSED'}")
print(f"- 8 clients: {thr['summary']['requestsPerSec']:.0f} queries/s, p50 {ms(thr, 'p50'):.2f} ms, p99 {ms(thr, 'p99'):.2f} ms "
      f"({ok(thr)} answered 200): target > 1,000 queries/s {'met' if thr['summary']['requestsPerSec'] > 1000 else 'MISSED'}")
PY
echo "results in $out"
