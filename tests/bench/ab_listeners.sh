#!/usr/bin/env bash
# tests/bench/ab_listeners.sh OLD NEW - two miniatom builds side by side on the listener benchmark's
# two requests (the order API, POST /ws/rest/order; the Flow Service example's Greet message action,
# POST /fs/ExampleService/actions/greet), alternating OLD and NEW in the same minutes, because this
# machine's speed drifts. Each server is pinned to CPU 0 and wrk to CPU 1 (as tests/server/wss/bench.sh
# does); each round is DUR (default 5s) per build and request, ROUNDS (default 3) rounds. Prints one
# line per run and the median req/s of each build and request. Needs wrk, curl, python3, taskset.
# Not a test: it measures, it does not judge.
set -u
[ $# = 2 ] || { echo "usage: $0 OLD-MINIATOM NEW-MINIATOM" >&2; exit 2; }
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
MA_SHARED=${MA_SHARED:-$top_srcdir/../shared}
DUR=${DUR:-5s}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-32}
for t in wrk curl python3 taskset; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
[ -f "$MA_SHARED/bench/post.lua" ] || { echo "FAIL: $MA_SHARED/bench/post.lua is missing (set MA_SHARED)" >&2; exit 1; }
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
order_body=$MA_SHARED/bench/body.json
greet_body=$top_srcdir/tests/bench/data/greet-request.json

# start BINARY: the server on a free port, pinned to CPU 0; sets $srv and $port
start() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  rm -rf "$tmp/data"
  taskset -c 0 "$1" serve --deploy "$top_srcdir/processes" --listen "127.0.0.1:$port" --data "$tmp/data" \
    --set log.requests=false >"$tmp/server.log" 2>&1 &
  srv=$!
  for _ in $(seq 1000); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0; sleep 0.005; done
  echo "FAIL: $1 did not start" >&2; cat "$tmp/server.log" >&2; exit 1
}
stop() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=; }

# run NAME BINARY PATH BODY: one measured run; appends "NAME req/s" to $tmp/results
run() {
  start "$2"
  local url="http://127.0.0.1:$port$3"
  (cd "$MA_SHARED/bench" && BODY=$4 taskset -c 1 wrk -t1 -c"$CONC" -d1s -s post.lua "$url" >/dev/null 2>&1)
  local out rps
  out=$(cd "$MA_SHARED/bench" && BODY=$4 taskset -c 1 wrk -t1 -c"$CONC" -d"$DUR" -s post.lua "$url")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "$1 $rps" >>"$tmp/results"
  printf '%-12s %-8s %10s req/s  %s\n' "$1" "$(basename "$(dirname "$2")")" "$rps" "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
  stop
}

for r in $(seq "$ROUNDS"); do
  echo "# round $r ($(date +%H:%M:%S))"
  run order-old "$1" /ws/rest/order "$order_body"
  run order-new "$2" /ws/rest/order "$order_body"
  run greet-old "$1" /fs/ExampleService/actions/greet "$greet_body"
  run greet-new "$2" /fs/ExampleService/actions/greet "$greet_body"
done
echo "# medians (req/s)"
python3 - "$tmp/results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rps = line.split()
    runs.setdefault(name, []).append(float(rps))
for req in ("order", "greet"):
    old, new = statistics.median(runs[req + "-old"]), statistics.median(runs[req + "-new"])
    print("%-6s old %9.0f  new %9.0f  new/old %.3f" % (req, old, new, new / old))
EOF
