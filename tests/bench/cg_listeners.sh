#!/usr/bin/env bash
# tests/bench/cg_listeners.sh MINIATOM [MINIATOM...] - the instructions a server spends per request on
# the listener benchmark's two requests (the order API, the Flow Service example's Greet), counted by
# valgrind's callgrind: repeatable whatever else the machine does, so two builds compare exactly.
# Each build serves processes/ with one server thread; N1 and N2 requests (default 200 and 1200) go on
# one keep-alive connection in two runs, and the difference divided by N2 - N1 is the cost of one
# request without the start-up. Needs valgrind, curl, python3. It measures, it does not judge.
set -u
[ $# -ge 1 ] || { echo "usage: $0 MINIATOM [MINIATOM...]" >&2; exit 2; }
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
MA_SHARED=${MA_SHARED:-$top_srcdir/../shared}
N1=${N1:-200}
N2=${N2:-1200}
for t in valgrind curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
[ -f "$MA_SHARED/bench/body.json" ] || { echo "FAIL: $MA_SHARED/bench/body.json is missing (set MA_SHARED)" >&2; exit 1; }

# count BINARY PATH BODY N: the total instructions of a server that answered N requests
count() {
  local port d pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  d=$(mktemp -d)
  valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" --soname-synonyms='somalloc=*mimalloc*' "$1" serve \
    --deploy "$top_srcdir/processes" --listen "127.0.0.1:$port" --data "$d/data" --set log.requests=false \
    --set server.threads=1 >"$d/log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
  python3 - "$port" "$2" "$3" "$4" <<'PY'
import http.client, sys
port, path, body, n = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("POST", path, body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
  kill -INT "$pid"
  wait "$pid"
  awk '/^summary:/ {print $2}' "$d/cg.out"
  rm -rf "$d"
}

printf '%-40s %-6s %14s\n' build request "instr/request"
for bin in "$@"; do
  for req in "order /ws/rest/order $MA_SHARED/bench/body.json" \
             "greet /fs/ExampleService/actions/greet $top_srcdir/tests/bench/data/greet-request.json"; do
    read -r name path body <<<"$req"
    a=$(count "$bin" "$path" "$body" "$N1")
    b=$(count "$bin" "$path" "$body" "$N2")
    printf '%-40s %-6s %14d\n' "$bin" "$name" $(((b - a) / (N2 - N1)))
  done
done
