#!/usr/bin/env bash
# Unified inbox benchmark (issue 3): the release binary under load from oha on loopback.
#   - create: POST /api/v1/conversations at 1, 4, 16 and 64 connections (and again at 16 on the
#     full database), bodies drawn at random from a file of varied tickets (oha -Z);
#   - reads at SMALL (2,000) and at SEED_TOTAL (100,000) conversations: one by id, one by a
#     random number, the first list page of 25 (16 connections each), and the contact lookup
#     that search does (GET /contacts?q=, 1 connection);
#   - search at SEED_TOTAL for Simplified, Traditional, English and a conversation number, at 1
#     and 16 connections for SEARCH_SECONDS each (a fixed time: search may be slow), plus the
#     server-side took_ms;
#   - per phase, the server's CPU by thread group (the one SQLite writer thread apart) and the
#     whole machine's, from /proc;
#   - for the create phases, every request's start and duration (oha --db-url) and the server's
#     checkpoints and index commits (its debug log), and which stalls the slow requests overlapped
#     (bench/timeline.py);
#   - the django-helpdesk peer's create workload (../shared/peer/bench.sh, SQLite, 16 clients)
#     in the same run, with Kefu stopped, and the Kefu/peer ratio.
# Usage: bench/inbox.sh [sqlite|postgres|both]      (default sqlite)
# Knobs: PORT=18778 N_CREATE=4000 SMALL=2000 SEED_TOTAL=100000 N_READ=5000 SEARCH_SECONDS=15
#        KEFU_BIN (a binary to measure instead of building the release one)  PEER=1 (0 skips the peer)  PROFILE=create-c16 (perf record of the server in that phase)  QUICK=1 (only the reads at SMALL and the create workload; no peer)  PEER_DIR=../shared/peer  PG_URL=postgres://postgres@127.0.0.1:5432/postgres
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-sqlite}
PORT=${PORT:-18778}
N_CREATE=${N_CREATE:-4000}
SMALL=${SMALL:-2000}
SEED_TOTAL=${SEED_TOTAL:-100000}
N_READ=${N_READ:-5000}
SEARCH_SECONDS=${SEARCH_SECONDS:-15}
BODIES=${BODIES:-25000}
QUICK=${QUICK:-0}
PROFILE=${PROFILE:-}
PEER=${PEER:-1}
[ "$QUICK" = 1 ] && PEER=0
PEER_DIR=${PEER_DIR:-$(cd .. && pwd)/shared/peer}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
OHA=${OHA:-$(command -v oha || echo /tmp/peer-tools/bin/oha)}
[ -x "$OHA" ] || cargo install oha --version 1.16.0 --locked --root /tmp/peer-tools
if [ -n "${KEFU_BIN:-}" ]; then
  bin=$(cd "$(dirname "$KEFU_BIN")" && pwd)/$(basename "$KEFU_BIN")
else
  cargo build --release -p kefu -q
  bin=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/kefu
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/$stamp
mkdir -p "$out"
base="http://127.0.0.1:$PORT"
pid=""
data=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$data" ]; then rm -rf "$data"; fi
}
trap cleanup EXIT

# Request bodies, one JSON object a line; oha -Z sends a random line with each request. BODIES
# customers (each line its own e-mail, a third also with an exchange UID), zh-CN / zh-TW / en
# tickets about withdrawals, deposits, KYC, 2FA, P2P and the API, each with its own txid.
python3 - "$out/bodies.jsonl" "$BODIES" <<'PY'
import json, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
zh_cn = [
    ("提币未到账", "我的USDT提币三个小时还没到账，网络TRC20，txid {tx}，请帮忙查一下。"),
    ("充值不到账", "昨天充值了0.5 BTC，区块确认已经够了但是账户余额没有变化，txid {tx}"),
    ("实名认证失败", "KYC实名认证一直提示照片不清晰，已经上传三次了，请问怎么处理？订单 {oid}"),
    ("谷歌验证器丢失", "手机换了，谷歌验证器丢失，无法登录也无法提币，请帮我重置二次验证。"),
    ("P2P订单纠纷", "P2P买币已经付款，卖家一直不放币，订单号 {oid}，请客服介入。"),
]
zh_tw = [
    ("提幣未到帳", "我的USDT提幣已經三小時沒有到帳，網路ERC20，txid {tx}，麻煩協助查詢。"),
    ("帳戶被凍結", "登入時顯示帳戶已凍結，我沒有做任何違規操作，請問如何解凍？參考 {oid}"),
    ("入金延遲", "銀行轉帳入金超過一天還沒有入帳，參考編號 {oid}。"),
]
en = [
    ("Withdrawal not received", "My ETH withdrawal has been pending for 2 hours. Network ERC20, txid {tx}. Please check."),
    ("Deposit missing", "I deposited 1,200 USDT via TRC20 but my balance did not change. txid {tx}"),
    ("Cannot log in", "My 2FA codes are rejected after I changed phone. Please help me reset two-factor. Ref {oid}"),
    ("API key permissions", "Our trading bot gets permission denied on the spot order endpoint since this morning. Ref {oid}"),
]
sur, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高", "小明伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛超"
first = ["Alice", "Bob", "Carol", "David", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Oscar"]
last = ["Smith", "Nguyen", "Tan", "Kim", "Garcia", "Müller", "Khan", "Sato", "Silva", "Cohen"]
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        r = rnd.random()
        lang, pool = ("zh-CN", zh_cn) if r < 0.5 else ("zh-TW", zh_tw) if r < 0.8 else ("en", en)
        title, body = rnd.choice(pool)
        name = rnd.choice(sur) + rnd.choice(given) + (rnd.choice(given) if rnd.random() < 0.5 else "") \
            if lang != "en" else f"{rnd.choice(first)} {rnd.choice(last)}"
        contact = {"name": name, "email": f"user{i:05d}@example.com", "language": lang}
        if i % 3 == 0:
            contact["exchange_user_id"] = str(20_000_000 + i)
        tx, oid = "%064x" % rnd.getrandbits(256), "%d" % rnd.randrange(10**11, 10**12)
        priority = rnd.choices(["low", "normal", "high", "urgent"], [1, 6, 2, 1])[0]
        f.write(json.dumps({"subject": f"{title} #{i}", "contact": contact,
                            "message": {"body": body.format(tx=tx, oid=oid)}, "priority": priority},
                           ensure_ascii=False) + "\n")
PY

# CPU ticks of the server's threads, summed by thread name (tokio workers, SQLite workers, ...).
thread_ticks() {
  python3 - "$pid" <<'PY'
import collections, glob, json, os, re, sys, time
t = collections.Counter()
# The SQLite write pool (one connection) is opened before the read pool, so its worker thread is
# the first "sqlx-sqlite-worker" thread; the rest serve reads.
first_sqlite = None
for d in sorted(glob.glob(f"/proc/{sys.argv[1]}/task/*"), key=lambda d: int(os.path.basename(d))):
    try:
        comm = open(f"{d}/comm").read().strip()
        stat = open(f"{d}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    name = re.sub(r"[-_ ]?\d+$", "", comm)
    if name.startswith("sqlx-sqlite"):
        if first_sqlite is None:
            first_sqlite = d
            name = "sqlite-writer"
        else:
            name = "sqlite-readers"
    t[name] += int(stat[11]) + int(stat[12])
# The whole process, including threads that ended within the phase (tantivy's indexing workers
# live for one commit).
stat = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
t["_process"] = int(stat[11]) + int(stat[12])
cpu = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
t["_machine_busy"] = sum(x for i, x in enumerate(cpu) if i not in (3, 4))
t["_machine_all"] = sum(cpu)
t["_wall"] = time.time()
print(json.dumps(t))
PY
}

run_phase() { # name, oha args...   raw JSON to $out/$db-name.json; one line to stdout
  local name=$1; shift
  local perf_pid=""
  if [ "$PROFILE" = "$name" ]; then
    perf record -F 999 -g -o "$out/$db-$name.perf.data" -p "$pid" 2>/dev/null & perf_pid=$!
    sleep 0.5
  fi
  local th0; th0=$(thread_ticks)
  # Creates keep a record of every request, to trace slow ones (bench/timeline.py).
  local record=()
  case $name in create-*) record=(--db-url "$out/$db-$name.requests.db"); date +%s.%N > "$out/$db-$name.start" ;; esac
  "$OHA" --no-tui --output-format json "${record[@]}" "$@" > "$out/$db-$name.json"
  local th1; th1=$(thread_ticks)
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  python3 - "$out/$db-$name.json" "$db" "$name" "$(getconf CLK_TCK)" "$(nproc)" "$th0" "$th1" <<'PY'
import json, sys
path, db, name, hz, ncpu = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
th0, th1 = json.loads(sys.argv[6]), json.loads(sys.argv[7])
d = json.load(open(path))
wall = th1["_wall"] - th0["_wall"]
diff = {k: v - th0.get(k, 0) for k, v in th1.items() if not k.startswith("_")}
ticks = th1["_process"] - th0["_process"]
diff["ended threads"] = max(ticks - sum(diff.values()), 0)
# Busy cores per server thread group over the phase (e.g. the one SQLite writer thread), and
# the whole machine's (server, oha, and anything else running).
d["server_threads"] = {k: round(v / hz / wall, 3) for k, v in sorted(diff.items()) if v > 0}
d["server_threads"]["_machine_busy"] = round(ncpu * (th1["_machine_busy"] - th0["_machine_busy"]) / max(th1["_machine_all"] - th0["_machine_all"], 1), 3)
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
errors = d.get("errorDistribution", {})
n = sum(codes.values()) + sum(errors.values())
cpu = ticks / hz
# Server CPU seconds per wall second (2.0 = both cores busy), and CPU ms per request.
d["server_cpu"] = {"seconds": cpu, "cores_busy": cpu / wall, "ms_per_request": 1000 * cpu / n if n else 0}
json.dump(d, open(path, "w"))
print(f"{db:8} {name:24} {s['requestsPerSec']:9.1f} req/s  p50 {p['p50']*1000:7.2f} ms  p99 {p['p99']*1000:7.2f} ms  "
      f"server cpu {cpu / wall:.2f} cores ({1000 * cpu / max(n, 1):.2f} ms/req, sqlite writer {d['server_threads'].get('sqlite-writer', 0):.2f}), "
      f"machine {d['server_threads'].get('_machine_busy', 0):.2f} cores  status {codes} {errors or ''}", flush=True)
PY
}

api() { # method path [json]   with the bearer token
  if [ $# -ge 3 ]; then
    curl -fsS -X "$1" -H "authorization: Bearer $token" -H 'content-type: application/json' -d "$3" "$base$2"
  else
    curl -fsS -X "$1" -H "authorization: Bearer $token" "$base$2"
  fi
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# One conversation with a word nobody else uses, then wait until search finds it: the indexer
# works in arrival order, so everything created before it is searchable too. Prints the
# conversation's number and the seconds waited.
sentinel() {
  local word; word=$(python3 -c 'import random, string; print("".join(random.choice(string.ascii_lowercase) for _ in range(12)))')
  local number
  number=$(api POST /api/v1/conversations "{\"subject\":\"sentinel $word\",\"contact\":{\"email\":\"sentinel@example.com\"},\"message\":{\"body\":\"$word\"}}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["conversation"]["number"])')
  local t0=$SECONDS
  # Found means the sentinel itself among the hits.
  for _ in $(seq 1200); do
    if api GET "/api/v1/search?q=$word&limit=5" | python3 -c 'import json, sys; sys.exit(0 if any(c["conversation"]["number"] == int(sys.argv[1]) for c in json.load(sys.stdin)["conversations"]) else 1)' "$number"; then
      echo "$number $(( SECONDS - t0 ))"; return
    fi
    sleep 0.5
  done
  echo "search index did not catch up within 10 minutes" >&2; exit 1
}

# Waits until the server has gone quiet (under 5 % of a core for a whole second). Past the
# sentinel it can still be busy: tantivy merges the many small segments a burst of commits left
# (a merge thread took 0.3 of a core through the first reads at 100,000 in one run).
quiesce() {
  python3 - "$pid" "$(getconf CLK_TCK)" <<'PY'
import sys, time
pid, hz = sys.argv[1], int(sys.argv[2])
def ticks():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
start = time.time()
last = ticks()
while time.time() - start < 600:
    time.sleep(1)
    now = ticks()
    if now - last < 0.05 * hz:
        break
    last = now
print(f"{time.time() - start:.0f}")
PY
}

create() { # name, connections, requests
  run_phase "$1" -c "$2" -n "$3" -m POST -H "authorization: Bearer $token" -T application/json -Z "$out/bodies.jsonl" \
    "$base/api/v1/conversations"
}

reads() { # size label, highest conversation number
  local size=$1 top=$2
  local auth=(-H "authorization: Bearer $token")
  # One conversation by id (the first, as the peer reads its first ticket) ...
  run_phase "get-id-$size" -c 16 -n "$N_READ" "${auth[@]}" "$base/api/v1/conversations/$first_id"
  # ... by a random number among the existing ones (10001 up to top), as an agent types it ...
  seq -f "$base/api/v1/conversations/%.0f" 10001 "$top" > "$out/urls-$size.txt"
  run_phase "get-num-$size" -c 16 -n "$N_READ" "${auth[@]}" --urls-from-file "$out/urls-$size.txt"
  # ... the first page of the inbox, and a search.
  run_phase "list25-$size" -c 16 -n "$N_READ" "${auth[@]}" "$base/api/v1/conversations?limit=25"
  # Search also looks up contacts by name or identity (GET /contacts?q=): that step alone.
  run_phase "contacts-q-c1-$size" -c 1 -z "$(( (SEARCH_SECONDS + 2) / 3 ))s" -w "${auth[@]}" "$base/api/v1/contacts?q=$(urlenc 提币)&limit=10"
  if [ "$size" = 2k ]; then  # at 100k the search section below measures the same and more
    run_phase "search-zh-c16-$size" -c 16 -z "${SEARCH_SECONDS}s" -w "${auth[@]}" "$base/api/v1/search?q=$(urlenc 提币)&limit=20"
  fi
}

took() { # size label, queries...   server-side took_ms of one search each, after one warm-up
  local size=$1 text; shift
  for text in "$@"; do
    api GET "/api/v1/search?q=$(urlenc "$text")&limit=20" >/dev/null
    api GET "/api/v1/search?q=$(urlenc "$text")&limit=20" | python3 -c '
import json, sys
d = json.load(sys.stdin)
t, nc, nk = d["took_ms"], len(d["conversations"]), len(d["contacts"])
print(f"{sys.argv[1]:13} took_ms {t:7.2f}  q={sys.argv[2]!r}: {nc} conversations, {nk} contacts")
' "$db $size" "$text" | tee -a "$out/$db-took-ms.txt"
  done
}

bench_db() {
  db=$1
  data=$(mktemp -d)
  # The checkpoints' and index commits' durations, for bench/timeline.py.
  local env=(KEFU_DATA_DIR="$data" KEFU_LOG=warn,kefu_app::service=debug,kefu_app::search=debug KEFU_LOG_FORMAT=json)
  if [ "$db" = postgres ]; then
    local name="kefu_inbox_bench_$$"
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name" >/dev/null
    env+=(KEFU_DATABASE_URL="${PG_URL%/*}/$name")
  fi
  local password; password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  printf '%s\n' "$password" | env "${env[@]}" "$bin" admin create-agent --email bench@example.com --name Bench --role admin --password-stdin >/dev/null
  env "${env[@]}" "$bin" serve --listen "127.0.0.1:$PORT" > "$out/$db-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

  # Sign in; admins must enrol in two-factor first (RFC 6238 code computed here); then a token.
  local jar; jar=$(mktemp)
  local csrf
  csrf=$(curl -fsS -c "$jar" -H 'content-type: application/json' -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" \
    "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["csrf_token"])')
  local secret
  secret=$(curl -fsS -b "$jar" -X POST -H "x-csrf-token: $csrf" "$base/api/v1/me/2fa/enrol" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  local code
  code=$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1].upper()
key = base64.b32decode(s + "=" * (-len(s) % 8))
h = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000))
PY
)
  curl -fsS -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d "{\"code\":\"$code\"}" "$base/api/v1/me/2fa/confirm" >/dev/null
  token=$(curl -fsS -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d '{"name":"bench","scopes":["read","write"]}' \
    "$base/api/v1/me/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  rm -f "$jar"

  # Up to SMALL conversations (the first 200 warm up), then reads at that size.
  create warmup 16 200
  first_id=$(api GET /api/v1/conversations/10001 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  create seed-small 16 $(( SMALL - 200 - 1 ))
  res=$(sentinel); read -r top waited <<< "$res"
  local idle; idle=$(quiesce)
  echo "$db      $(( top - 10000 )) conversations (index caught up ${waited}s after the last write; server quiet ${idle}s later)"
  reads 2k "$top"
  took 2k 提币 withdrawal $(( top - 1 ))

  # The create workload proper (1 and 4 clients first, to see how latency grows with load).
  create create-c1 1 $(( N_CREATE / 4 ))
  create create-c4 4 $(( N_CREATE / 4 ))
  create create-c16 16 "$N_CREATE"
  create create-c64 64 "$N_CREATE"

  if [ "$QUICK" = 1 ]; then stop_server; return; fi

  # Seed up to SEED_TOTAL at 64 connections; wait for the index; reads and search at that size.
  local have=$(( top - 10000 + 2 * N_CREATE + 2 * (N_CREATE / 4) ))
  create seed-large 64 $(( SEED_TOTAL - have - 1 ))
  res=$(sentinel); read -r top waited <<< "$res"
  local idle; idle=$(quiesce)
  echo "$db      $(( top - 10000 )) conversations (index caught up ${waited}s after the last write; server quiet ${idle}s later)"
  echo "$waited $idle" > "$out/$db-index-lag-seconds.txt"
  reads 100k "$top"
  local auth=(-H "authorization: Bearer $token")
  local mid=$(( 10000 + SEED_TOTAL / 2 ))
  for q in zh:提币 tw:提幣 en:withdrawal num:$mid; do
    local label=${q%%:*} text=${q#*:}
    run_phase "search-$label-c1" -c 1 -z "${SEARCH_SECONDS}s" -w "${auth[@]}" "$base/api/v1/search?q=$(urlenc "$text")&limit=20"
    run_phase "search-$label-c16" -c 16 -z "${SEARCH_SECONDS}s" -w "${auth[@]}" "$base/api/v1/search?q=$(urlenc "$text")&limit=20"
  done
  took 100k 提币 提幣 withdrawal "USDT 提币" "$mid"
  # Creates again on the full database: do writes stay flat too?
  create create-c16-100k 16 "$N_CREATE"

  stop_server
}

stop_server() {
  curl -fsS "$base/metrics" > "$out/$db-metrics.txt"
  kill -TERM "$pid"; wait "$pid" || true
  pid=""
  if [ "$db" = sqlite ]; then du -sh "$data" | cut -f1 > "$out/$db-data-size.txt"; fi
  rm -rf "$data"; data=""
  if [ "$db" = postgres ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS kefu_inbox_bench_$$ WITH (FORCE)" >/dev/null; fi
}

echo "kefu inbox bench, $(nproc) cores, results in $out"
case $which_db in
  sqlite|postgres) bench_db "$which_db" ;;
  both) bench_db sqlite; bench_db postgres ;;
  *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac

# The peer's create workload (its defaults: SQLite, 2 gunicorn workers, 16 clients, 2,000
# creates, then its reads at 2,000 tickets), with Kefu stopped.
if [ "$PEER" = 1 ]; then
  echo "peer: $PEER_DIR/bench.sh (a few minutes)"
  PEER_DB=sqlite CONC=16 PEER_RESULTS="$(pwd)/$out/peer" "$PEER_DIR/bench.sh" | tee "$out/peer.txt"
fi

python3 - "$out" <<'PY'
import glob, json, os, re, sys
sys.path.insert(0, "bench")
import timeline
out = sys.argv[1]
def load(db, name):
    p = f"{out}/{db}-{name}.json"
    if not os.path.exists(p):
        return None
    d = json.load(open(p))
    codes = d.get("statusCodeDistribution", {})
    n = sum(codes.values()) + sum(d.get("errorDistribution", {}).values())
    ok = sum(v for k, v in codes.items() if k.startswith("2"))
    return {"rps": d["summary"]["requestsPerSec"], "p50": d["latencyPercentiles"]["p50"] * 1e3,
            "p99": d["latencyPercentiles"]["p99"] * 1e3, "ok": ok, "n": n, "cpu": d.get("server_cpu", {})}
def cell(r):
    return "—" if r is None else f"{r['rps']:,.0f} req/s, {r['p50']:.2f} / {r['p99']:.2f} ms" + ("" if r["ok"] == r["n"] else f" ({r['ok']}/{r['n']} ok)")
peer = None
if os.path.exists(f"{out}/peer.txt"):
    line = [l for l in open(f"{out}/peer.txt") if l.startswith("peer=")][-1]
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    peer = {"rps": float(kv["create_rps"]), "p50": float(kv["create_p50_ms"]), "p99": float(kv["create_p99_ms"]), "ok_s": kv["create_ok"],
            "get": (float(kv["get_rps"]), float(kv["get_p99_ms"])), "list": (float(kv["list_rps"]), float(kv["list_p99_ms"])), "tickets": kv["tickets"]}
dbs = [db for db in ("sqlite", "postgres") if os.path.exists(f"{out}/{db}-create-c16.json")]
lines = [f"Run `{os.path.basename(out)}`; req/s, p50 / p99 latency.", "", "| phase | " + " | ".join(dbs) + " |", "|---|" + "---|" * len(dbs)]
rows = [("create, 1 client", "create-c1"), ("create, 4 clients", "create-c4"), ("create, 16 clients", "create-c16"), ("create, 64 clients", "create-c64"), ("create, 16 clients, at 100k", "create-c16-100k"),
        ("get by id, 2k", "get-id-2k"), ("get by id, 100k", "get-id-100k"), ("get by random number, 2k", "get-num-2k"),
        ("get by random number, 100k", "get-num-100k"), ("list 25, 2k", "list25-2k"), ("list 25, 100k", "list25-100k"),
        ("contacts?q=提币 ×1, 2k", "contacts-q-c1-2k"), ("contacts?q=提币 ×1, 100k", "contacts-q-c1-100k"),
        ("search 提币 ×16, 2k", "search-zh-c16-2k")]
for q, label in (("zh", "提币"), ("tw", "提幣"), ("en", "withdrawal"), ("num", "number")):
    rows += [(f"search {label} ×1, 100k", f"search-{q}-c1"), (f"search {label} ×16, 100k", f"search-{q}-c16")]
for title, name in rows:
    lines.append(f"| {title} | " + " | ".join(cell(load(db, name)) for db in dbs) + " |")
lines.append("")
if peer:
    lines.append(f"Peer (django-helpdesk, SQLite, 16 clients, same run): create {peer['rps']:.1f} req/s, {peer['p50']:.0f} / {peer['p99']:.0f} ms ({peer['ok_s']} ok); "
                 f"at {peer['tickets']} tickets get one {peer['get'][0]:.1f} req/s (p99 {peer['get'][1]:.0f} ms), list {peer['list'][0]:.1f} req/s (p99 {peer['list'][1]:.0f} ms).")
    lines.append("")
for db in dbs:
    c16, c64 = load(db, "create-c16"), load(db, "create-c64")
    verdict = []
    if peer:
        ratio = c16["rps"] / peer["rps"]
        verdict.append(f"create ratio at 16 clients {ratio:.1f}x the peer (target ≥ 25x: {'met' if ratio >= 25 else 'MISSED'})")
    verdict.append(f"create p99 at 16 clients {c16['p99']:.1f} ms (target < 25 ms on SQLite: {'met' if c16['p99'] < 25 else 'MISSED'})" if db == "sqlite" else f"create p99 at 16 clients {c16['p99']:.1f} ms")
    flat = []
    for k in ("get-id", "get-num", "list25", "search-zh-c16"):
        a, b = load(db, f"{k}-2k"), load(db, f"{k}-100k") or load(db, k)
        if a and b:
            flat.append(f"{k} {b['rps'] / a['rps']:.2f}")
    verdict.append("reads, throughput at 100k ÷ at 2k: " + ", ".join(flat))
    allok = all(r["ok"] == r["n"] for r in (load(db, os.path.basename(p)[len(db) + 1:-5]) for p in glob.glob(f"{out}/{db}-*.json")) if r)
    verdict.append("every request 2xx" if allok else "SOME REQUESTS FAILED")
    lines.append(f"**{db}**: " + "; ".join(verdict) + ".")
    cpu = load(db, "create-c16")["cpu"]
    threads = json.load(open(f"{out}/{db}-create-c16.json")).get("server_threads", {})
    busiest = ", ".join(f"{k} {v:.2f}" for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if not k.startswith("_"))
    for phase in ("create-c16", "create-c16-100k"):
        if os.path.exists(f"{out}/{db}-{phase}.requests.db"):
            start = float(open(f"{out}/{db}-{phase}.start").read())
            r = timeline.analyse(f"{out}/{db}-{phase}.requests.db", start, f"{out}/{db}-server.log")
            json.dump(r, open(f"{out}/{db}-{phase}.timeline.json", "w"))
            lines.append(f"  ({phase}: {timeline.describe(r)})")
    lines.append(f"  (during create ×16: server {cpu.get('cores_busy', 0):.2f} cores busy, {cpu.get('ms_per_request', 0):.2f} CPU ms per create; "
                 f"by thread group, cores: {busiest}; whole machine {threads.get('_machine_busy', 0):.2f} of {os.cpu_count()} cores)")
for db in dbs:
    if os.path.exists(f"{out}/{db}-took-ms.txt"):
        lines += ["", f"Server-side `took_ms` ({db}):", "", "```"] + [l.rstrip() for l in open(f"{out}/{db}-took-ms.txt")] + ["```"]
text = "\n".join(lines)
open(f"{out}/summary.md", "w").write(text + "\n")
print("\n" + text)
PY
echo "raw results: $out"
