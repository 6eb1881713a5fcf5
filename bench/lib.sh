# Shared by the benchmark scripts (source it): a Kefu server in demo mode and a token for it.

# wait_healthy BASE: until /healthz answers (10 s at most).
wait_healthy() {
  for _ in $(seq 100); do curl -fs "$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server at $1 did not come up" >&2; return 1
}

# demo_token BASE: signs in as the demo admin and prints a new API token with every scope.
demo_token() {
  local base=$1 jar csrf
  jar=$(mktemp)
  csrf=$(curl -fs -c "$jar" -H 'content-type: application/json' -d '{"email":"admin@nebula-ex.com","password":"kefu-demo-pass"}' \
    "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["csrf_token"])')
  curl -fs -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d '{"name":"bench","scopes":["read","write","admin"]}' \
    "$base/api/v1/me/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
  rm -f "$jar"
}
