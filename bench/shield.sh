#!/usr/bin/env bash
# Security shield benchmark (issue 7): scanning throughput on one core, release build.
# bench/shield-scan scans support messages one by one (secrets found and redacted, links found
# and judged), the way every inbound message is; 2 % of them carry a secret.
# Usage: bench/shield.sh     Knobs: MEGABYTES=64 ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p kefu-shield-scan
target=${CARGO_TARGET_DIR:-target}/release
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-shield
mkdir -p "$out"
# One core: the figure is per core.
taskset -c 0 "$target/kefu-shield-scan" crates/shield/data "${MEGABYTES:-64}" "${ROUNDS:-5}" all | tee "$out/scan.json"
for part in secrets links; do
  taskset -c 0 "$target/kefu-shield-scan" crates/shield/data "${MEGABYTES:-64}" "${ROUNDS:-5}" "$part" > "$out/scan-$part.json"
done
python3 - "$out/scan.json" <<'PY' | tee "$out/summary.md"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["median_mb_per_second"]
print(f"- {d['messages']} messages ({d['megabytes']:.0f} MB, {d['mean_message_bytes']:.0f} bytes on average), {d['rounds']} rounds on one core: "
      f"median {m:.1f} MB/s (rounds {', '.join(f'{r:.1f}' for r in d['mb_per_second'])}); target > 50 MB/s {'met' if m > 50 else 'MISSED'}")
for part in ("secrets", "links"):
    p = json.load(open(sys.argv[1].replace("scan.json", f"scan-{part}.json")))
    print(f"  - {part} alone: median {p['median_mb_per_second']:.1f} MB/s")
PY
echo "results in $out"
