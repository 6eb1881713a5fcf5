#!/usr/bin/env python3
"""Where a load phase's slow requests fell: oha's per-request record (--db-url) against what the
server did meanwhile (its JSON log at debug for kefu_app::service and kefu_app::search: each
checkpoint with the time its copy beside the writer and its pass on the write connection took,
each search-index commit with its duration).

Usage: bench/timeline.py OHA_DB START_EPOCH SERVER_LOG [SLOW_MS=25] [WINDOW_MS=100]
START_EPOCH is the wall-clock time (seconds) taken just before oha started; oha's own times are
relative to its start, a few milliseconds later. Prints one paragraph; --json prints a dict.
"""
import datetime
import json
import sqlite3
import sys


def server_events(path, t0, t1):
    """(kind, start, end) in epoch seconds for what the server did that overlaps [t0, t1]."""
    events = []
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            d = json.loads(line)
        except ValueError:
            continue
        f = d.get("fields", {})
        msg = f.get("message")
        end = datetime.datetime.fromisoformat(d["timestamp"].replace("Z", "+00:00")).timestamp()
        if msg == "checkpoint":
            # The copy beside the writer, then (not always) the pass on the write connection.
            w, r = float(f.get("writer_ms", 0)) / 1000, float(f.get("reader_ms", 0)) / 1000
            spans = [("checkpoint copy (reader)", end - w - r, end - w)]
            if w > 0:
                spans.append(("checkpoint pass (write connection)", end - w, end))
        elif msg == "indexed and committed":
            spans = [("search index commit", end - float(f.get("ms", 0)) / 1000, end)]
        else:
            continue
        events += [(k, a, b) for k, a, b in spans if b >= t0 and a <= t1]
    return events


def analyse(db, start_epoch, log, slow_ms=25.0, window_ms=100.0):
    rows = sqlite3.connect(db).execute("SELECT start, end, duration FROM oha ORDER BY start").fetchall()
    if not rows:
        return None
    reqs = [(start_epoch + s, start_epoch + e, d * 1000) for s, e, d in rows]
    t0, t1 = reqs[0][0], max(r[1] for r in reqs)
    slow = [r for r in reqs if r[2] > slow_ms]
    windows = {}
    for s, _, d in slow:
        k = int((s - t0) * 1000 // window_ms)
        windows[k] = windows.get(k, 0) + 1
    events = server_events(log, t0, t1) if log else []
    kinds = sorted({k for k, _, _ in events})
    # A slow request is put down to a stall it overlaps; the share of the phase's time each kind
    # covers says how many would overlap it by chance.
    by_kind = {k: 0 for k in kinds}
    neither = 0
    for s, e, _ in slow:
        hit = [k for k, a, b in events if a <= e and b >= s]
        for k in set(hit):
            by_kind[k] += 1
        if not hit:
            neither += 1
    span = max(t1 - t0, 1e-9)
    cover = {k: sum(min(b, t1) - max(a, t0) for kk, a, b in events if kk == k) / span for k in kinds}
    stalls = {k: sorted(round((b - a) * 1000, 1) for kk, a, b in events if kk == k) for k in kinds}
    return {
        "requests": len(reqs), "seconds": round(span, 2), "slow_ms": slow_ms, "slow": len(slow),
        "windows": len(windows), "window_ms": window_ms, "all_windows": int(span * 1000 // window_ms) + 1,
        "worst_windows": sorted(((round(k * window_ms / 1000, 2), n) for k, n in windows.items()), key=lambda x: -x[1])[:5],
        "slow_overlapping": by_kind, "slow_overlapping_none": neither,
        "time_covered": {k: round(v, 3) for k, v in cover.items()}, "stalls_ms": stalls,
    }


def describe(r):
    if r is None:
        return "no requests recorded"
    parts = [f"{r['slow']} of {r['requests']} requests over {r['slow_ms']:g} ms, in {r['windows']} of {r['all_windows']} "
             f"windows of {r['window_ms']:g} ms (worst, seconds into the phase: "
             + ", ".join(f"{t}s: {n}" for t, n in r["worst_windows"]) + ")"]
    for k, n in r["slow_overlapping"].items():
        st = r["stalls_ms"][k]
        parts.append(f"{n} overlapped a {k} ({len(st)} in the phase, {st[len(st) // 2] if st else 0} ms median, "
                     f"{max(st) if st else 0} ms longest, {100 * r['time_covered'][k]:.1f} % of the time)")
    parts.append(f"{r['slow_overlapping_none']} overlapped neither")
    return "; ".join(parts) + "."


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--json"]
    if len(args) < 3:
        sys.exit(__doc__)
    res = analyse(args[0], float(args[1]), args[2], *(float(a) for a in args[3:5]))
    print(json.dumps(res) if "--json" in sys.argv else describe(res))
