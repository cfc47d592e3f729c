#!/usr/bin/env bash
# tests/bench/debug_flood.sh [--set KEY=VALUE ...] - what debug runs with large bodies write to the
# history (docs/server.md "Limits and failure behaviour", Debug runs): CLIENTS (default 8) clients
# post a 900 KB body with X-Boomi-Debug: true for DUR seconds (default 20) as a user allowed to debug,
# with debug.rate and debug.concurrent lifted so that only the payload budgets hold
# (history.max_payload_bytes, history.payload_bytes_per_minute: their defaults, or as the arguments
# set them); prints the debug runs answered 200 and the size of the data folder after. MINIATOM picks
# the binary. Needs curl, python3.
# Not a test: it measures, it does not judge.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
M=${MINIATOM:-$top_srcdir/miniatom}
CLIENTS=${CLIENTS:-8}
DUR=${DUR:-20}
tmp=$(mktemp -d)
srv=
cleanup() { jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/deploy"
cp "$top_srcdir"/tests/server/debug/deploy/p-echo-data.xml "$top_srcdir"/tests/server/debug/deploy/op-echo-data.xml "$tmp/deploy/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$M" serve --deploy "$tmp/deploy" --listen "127.0.0.1:$port" --data "$tmp/data" --set log.requests=false \
  --set auth.wss.mode=basic --set "auth.wss.user.ada=$(printf ada-token | "$M" serve --hash-token)" \
  --set auth.wss.debug_users=ada --set debug.rate=0 --set debug.concurrent=64 "$@" >"$tmp/server.log" 2>&1 &
srv=$!
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
head -c 921600 /dev/zero | tr '\0' 'a' >"$tmp/900k"
end=$(($(date +%s) + DUR))
for c in $(seq "$CLIENTS"); do
  (while [ "$(date +%s)" -lt $end ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -u ada:ada-token -H 'X-Boomi-Debug: true' --data-binary "@$tmp/900k" \
      "http://127.0.0.1:$port/ws/simple/executeEchoData"
  done >"$tmp/codes$c") &
done
wait $(jobs -p | grep -vx "$srv")
echo "debug runs answered 200: $(cat "$tmp"/codes* | grep -c '^200$'), other: $(cat "$tmp"/codes* | grep -vc '^200$')"
echo "data folder after ${DUR}s: $(du -sm "$tmp/data" | cut -f1) MB"
kill "$srv"; wait "$srv" 2>/dev/null
