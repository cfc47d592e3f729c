#!/usr/bin/env bash
# tests/bench/auth_flood.sh [MINIATOM] - good login latency of `miniatom serve` during a failed-login
# flood (docs/server.md "Limits and failure behaviour", Authentication). wrk floods POST
# /ws/simple/executeEchoData with a wrong Basic token from 127.0.0.1 (FLOOD_CONC connections, from 2 s
# before the first measure to the end of the last); meanwhile curl logs in from 127.0.0.2 with a remembered token (ada, 10000 iterations)
# and, once each, as 16 users of 200000 iterations whose tokens are not remembered yet. Three runs:
# no flood, a flood with the default limits.auth_failures, and a flood with limits.auth_failures=0
# (every failed login is hashed: the hashing queue fills). Prints the median and the worst of each.
# Needs wrk, curl, python3. Not a test: it measures, it does not judge.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
M=${1:-$top_srcdir/miniatom}
FLOOD_CONC=${FLOOD_CONC:-32}
for t in wrk curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
tmp=$(mktemp -d)
srv=
wrk_pid=
cleanup() { [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null; [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/deploy"
cp "$top_srcdir"/tests/server/debug/deploy/p-echo-data.xml "$top_srcdir"/tests/server/debug/deploy/op-echo-data.xml "$tmp/deploy/"
users=(--set auth.wss.mode=basic --set "auth.wss.user.ada=$(printf ada-token | "$M" serve --hash-token)")
for i in $(seq 16); do users+=(--set "auth.wss.user.dear$i=$(printf "dear$i" | "$M" serve --hash-token --iterations 200000)"); done
cat >"$tmp/flood.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "hi"
wrk.headers["Authorization"] = "Basic bWFsbG9yeTp3cm9uZw=="
LUA

start() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  rm -rf "$tmp/data"
  "$M" serve --deploy "$tmp/deploy" --listen "127.0.0.1:$port" --data "$tmp/data" --set log.requests=false "${users[@]}" "$@" \
    >"$tmp/server.log" 2>&1 &
  srv=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0; sleep 0.05; done
  echo "FAIL: the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1
}
stats() { python3 -c 'import sys,statistics; v=[float(x)*1000 for x in sys.stdin.read().split()]; print("median %.2f ms, worst %.2f ms (%d)" % (statistics.median(v), max(v), len(v)))'; }
measure() { # LABEL
  local url=http://127.0.0.1:$port/ws/simple/executeEchoData
  curl -s -o /dev/null --interface 127.0.0.2 -u ada:ada-token "$url" -d hi # remembered from here on
  : >"$tmp/t_ada"; : >"$tmp/t_dear"; : >"$tmp/c_dear"
  for _ in $(seq 40); do curl -s -o /dev/null -w '%{time_total}\n' --interface 127.0.0.2 -u ada:ada-token "$url" -d hi >>"$tmp/t_ada"; sleep 0.05; done
  for i in $(seq 16); do curl -s -o /dev/null --max-time 60 -w '%{time_total} %{http_code}\n' --interface 127.0.0.2 -u "dear$i:dear$i" "$url" -d hi >>"$tmp/c_dear"; done
  awk '{print $1}' "$tmp/c_dear" >"$tmp/t_dear"
  printf '%-46s remembered: %s\n' "$1" "$(stats <"$tmp/t_ada")"
  printf '%-46s first logins, 200k iterations: %s; statuses %s\n' "" "$(stats <"$tmp/t_dear")" "$(awk '{print $2}' "$tmp/c_dear" | sort | uniq -c | tr -s ' \n' ' ')"
}
flood() { wrk -t1 -c"$FLOOD_CONC" -d600s -s "$tmp/flood.lua" "http://127.0.0.1:$port/ws/simple/executeEchoData" >"$tmp/wrk.out" 2>&1 & wrk_pid=$!; sleep 2; }
flood_end() { kill -INT "$wrk_pid"; wait "$wrk_pid"; wrk_pid=; printf '%-46s flood: %s\n' "" "$(grep -h 'Requests/sec\|Non-2xx' "$tmp/wrk.out" | tr -s ' ' | tr '\n' ';')"; }

start
measure "no flood"
kill "$srv"; wait "$srv" 2>/dev/null
start
flood; measure "flood, limits.auth_failures=20 (default)"; flood_end
kill "$srv"; wait "$srv" 2>/dev/null
start --set limits.auth_failures=0
flood; measure "flood, limits.auth_failures=0 (all hashed)"; flood_end
