#!/usr/bin/env bash
# tests/server/runaway.sh - executions that cannot stop by themselves are stopped (docs/server.md
# "Executions: time and memory", docs/decisions/015-execution-budgets.md): a map whose work grows with
# the input is stopped at the sync timeout (504), a map that keeps building nodes and one that keeps
# doubling a string are stopped at execution.max_memory (500), the server stays up and its resident
# size comes back near its idle value after each; two executions at once, one over its budget: only
# that one fails; over server.max_memory the execution gets 503. Then `miniatom run --timeout 1s` and
# `--max-memory` on the same maps. Only 127.0.0.1; needs curl and python3.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'server_kill; hold_stop; rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
deploy=$top_srcdir/tests/server/runaway/deploy
# a sanitizer build runs slower, and AddressSanitizer keeps freed memory in quarantine: RSS is then
# printed, not checked
asan=0
if ldd "$MINIATOM" 2>/dev/null | grep -q libasan || [ "${MA_WRAP:-}" = valgrind ]; then asan=1; [ $slow -lt 4 ] && slow=4; fi

# inputs: many items make the growing map run for minutes (quadratic); one item is enough for the others
python3 -c "print('<r>' + ''.join('<i>%d</i>' % k for k in range(20000)) + '</r>')" >"$tmp/many.xml"
python3 -c "print('<r>' + ''.join('<i>%d</i>' % k for k in range(300)) + '</r>')" >"$tmp/some.xml"
echo '<r><i>1</i></r>' >"$tmp/one.xml"

start() { # LOG ARGS...: a server on a free port; sets $srv_pid $base
  local log=$1
  shift
  server_start "$log" --deploy "$deploy" --data "$tmp/data" "$@"
}
post() { # OBJECT FILE OUT: prints the status
  curl -s -o "$3" -w '%{http_code}' -X POST -H 'Content-Type: application/xml' --data-binary @"$2" "$base/ws/simple/create$1"
}
expect_post() { # want label OBJECT FILE [body-substring]
  local got; got=$(post "$3" "$4" "$tmp/b")
  if [ "$got" = "$1" ] && { [ -z "${5:-}" ] || grep -qF -- "$5" "$tmp/b"; }; then ok "$2"
  else not_ok "$2: status $got, expected $1${5:+ with '$5'}"; head -c 300 "$tmp/b" | sed 's/^/    /'; echo; fi
}
alive() { # label: the server answers /health and still runs
  local got; got=$(curl -s -o /dev/null -w '%{http_code}' "$base/health")
  if [ "$got" = 200 ] && kill -0 "$srv_pid" 2>/dev/null; then ok "$1: the server is up"; else not_ok "$1: the server is not up (health $got)"; fi
}
# rss_back label: the resident size comes back under idle + 64 MB (waits for the execution to end
# unwinding, up to 20 s; the figure is printed, not timed)
rss_back() {
  local r bound=$((idle + 65536))
  if [ $asan = 1 ]; then echo "# $1: RSS $(($(server_rss) / 1024)) MB (not checked: sanitizers or valgrind)"; return; fi
  for _ in $(seq 200); do r=$(server_rss); [ -n "$r" ] && [ "$r" -lt "$bound" ] && break; sleep 0.1; done
  if [ -n "$r" ] && [ "$r" -lt "$bound" ]; then ok "$1: RSS back to $((r / 1024)) MB (idle $((idle / 1024)) MB)"
  else not_ok "$1: RSS ${r:-?} KB, over idle $idle KB + 64 MB"; fi
}

# ---- (a) work that grows with the input: stopped at the sync timeout ----
if start "$tmp/serve0.log" --set limits.sync_timeout=$((2 * slow))s --set workers.threads=2; then
  expect_post 200 "a small map runs" Small "$tmp/one.xml" "<count>1</count>"
  idle=$(server_rss)
  expect_post 504 "a map whose work grows with the input is stopped at the sync timeout: 504" Grow "$tmp/many.xml" "sync timeout"
  alive "after the growing map"
  rss_back "after the growing map"
else
  not_ok "serve did not start"; cat "$tmp/serve0.log"
fi

# ---- execution.max_memory (a sync timeout long enough for a sanitizer build to reach the budget) ----
if start "$tmp/serve.log" --set limits.sync_timeout=$((30 * slow))s --set execution.max_memory=32MB --set workers.threads=2; then
  ok "serve starts with execution.max_memory"
else
  not_ok "serve did not start"; cat "$tmp/serve.log"; finish; exit
fi
expect_post 200 "a small map runs" Small "$tmp/one.xml" "<count>1</count>"
idle=$(server_rss)

# (b) a map that keeps building nodes: stopped at the budget
expect_post 500 "a map that keeps building nodes is stopped at its budget: 500" Nodes "$tmp/one.xml" \
  "the execution used more than its memory budget of 32 MB (execution.max_memory)"
alive "after the node-building map"
rss_back "after the node-building map"

# (c) a map that keeps doubling a string: stopped at the budget
expect_post 500 "a map that keeps doubling a string is stopped at its budget: 500" Double "$tmp/one.xml" \
  "the execution used more than its memory budget of 32 MB (execution.max_memory)"
alive "after the string-doubling map"
rss_back "after the string-doubling map"

# (d) two at once, one over its budget: only that one fails (the budget is the execution's, not the process's)
post Nodes "$tmp/one.xml" "$tmp/b1" >"$tmp/c1" &
p1=$!
post Grow "$tmp/some.xml" "$tmp/b2" >"$tmp/c2" &
p2=$!
wait $p1 $p2
if [ "$(cat "$tmp/c1")" = 500 ] && grep -qF "memory budget" "$tmp/b1"; then ok "two at once: the one over its budget fails (500)"
else not_ok "two at once: the one over its budget got $(cat "$tmp/c1")"; head -c 300 "$tmp/b1" | sed 's/^/    /'; echo; fi
if [ "$(cat "$tmp/c2")" = 200 ] && grep -qF "<pairs/>" "$tmp/b2"; then ok "two at once: the other one completes (200)"
else not_ok "two at once: the one within its budget got $(cat "$tmp/c2")"; head -c 300 "$tmp/b2" | sed 's/^/    /'; echo; fi
alive "after two at once"
rss_back "after two at once"
for _ in $(seq $((100 * slow))); do grep -q '"msg":"wss execution failed".*"detail":"the execution used more than its memory budget' "$tmp/serve.log" && break; sleep 0.1; done
if grep -q '"msg":"wss execution failed".*"detail":"the execution used more than its memory budget' "$tmp/serve.log"; then
  ok "the log says which budget an execution exceeded"
else not_ok "the log does not name the budget"; fi
n_exec=$("$MINIATOM" executions --data "$tmp/data" --status ERROR --json 2>"$tmp/exerr" | python3 -c '
import json,sys; d=json.load(sys.stdin)
print(sum(1 for r in d["executions"] if "memory budget of 32 MB" in r.get("message", "")))')
if [ "${n_exec:-0}" -ge 3 ]; then ok "the history records the executions over budget as ERROR ($n_exec)"
else not_ok "the history does not hold the executions over budget as ERROR (${n_exec:-none})"; fi
server_stop

# ---- the server's budget: over server.max_memory the execution is refused with 503 ----
if start "$tmp/serve2.log" --set limits.sync_timeout=$((30 * slow))s --set execution.max_memory=0 --set server.max_memory=48MB; then
  idle=$(server_rss)
  expect_post 503 "over server.max_memory the execution gets 503" Nodes "$tmp/one.xml" "server.max_memory"
  # the log is written by a thread: wait for the line (up to 10 s) rather than read at once
  for _ in $(seq $((100 * slow))); do grep -q '"msg":"wss execution failed".*server.max_memory' "$tmp/serve2.log" && break; sleep 0.1; done
  grep -q '"msg":"wss execution failed".*server.max_memory' "$tmp/serve2.log" && ok "the stopped execution is logged with the server's budget" \
    || not_ok "no log line names server.max_memory"
  expect_post 200 "then a small one runs again" Small "$tmp/one.xml" "<count>1</count>"
  alive "after the server's budget"
  rss_back "after the server's budget"
else
  not_ok "serve with server.max_memory did not start"; cat "$tmp/serve2.log"
fi
server_stop

# ---- miniatom run --timeout DURATION and --max-memory SIZE ----
run_expect() { # want-exit label stderr-substring args...
  local want=$1 label=$2 pat=$3; shift 3
  "${RUN[@]}" run --deploy "$deploy" --data "$tmp/rundata" "$@" >"$tmp/out" 2>"$tmp/err"; local code=$?
  if [ "$code" = "$want" ] && { [ -z "$pat" ] || grep -qF -- "$pat" "$tmp/err"; }; then ok "$label"
  else not_ok "$label: exit $code, expected $want with '$pat'"; head -5 "$tmp/err" | sed 's/^/    /'; fi
}
run_expect 1 "run --timeout 1s stops the growing map: ABORTED" "ABORTED: the execution took longer than its limit of 1000 ms" \
  --timeout 1s --input "$tmp/many.xml" "Runaway Growing Process"
run_expect 1 "run --max-memory 32MB stops the doubling map: ERROR" "ERROR: the execution used more than its memory budget of 32 MB (--max-memory)" \
  --max-memory 32MB --input "$tmp/one.xml" "Runaway Doubling Process"
run_expect 1 "run --set execution.max_memory=32MB stops the node-building map" "memory budget of 32 MB (execution.max_memory)" \
  --set execution.max_memory=32MB --input "$tmp/one.xml" "Runaway Nodes Process"
run_expect 0 "run --timeout with a bare number is milliseconds, as before" "" --timeout 60000 --input "$tmp/one.xml" "Small Map Process"
grep -qF "<count>1</count>" "$tmp/out" && ok "and the small map's result is printed" || not_ok "the small map printed $(head -c 200 "$tmp/out")"
run_expect 2 "run --timeout refuses a duration it cannot read" "--timeout" --timeout 1x "Small Map Process"
run_expect 2 "run --max-memory refuses a size it cannot read" "--max-memory" --max-memory lots "Small Map Process"
# ---- a connector call is stopped too: an upstream that never answers (the hold server, never
# released), run --timeout 1s ----
# Without the stop the call would wait for the HTTP connection's own timeout (60 s): `timeout`
# ends the run long before that, and the upstream must have seen the call closed unanswered.
hold_start "$tmp/hold"
timeout $((30 * slow)) "${RUN[@]}" run --deploy "$top_srcdir/tests/server/runaway/stuck" --data "$tmp/rundata" --timeout 1s \
  --set "connection.7d1c1f0e-3c55-5b8e-9d0a-2a64c7c0e1a1.url=http://127.0.0.1:$hold_port" \
  "Stuck Connector Process" >"$tmp/out" 2>"$tmp/err"; code=$?
for _ in $(seq 100); do [ -s "$tmp/hold/closed" ] && break; sleep 0.05; done
if [ "$code" = 1 ] && grep -qF "ABORTED" "$tmp/err" && grep -qF "closed before an answer" "$tmp/hold/closed"; then
  ok "run --timeout 1s stops an HTTP call to an upstream that never answers: ABORTED, the call closed"
else
  not_ok "the stuck connector call: exit $code, upstream log '$(cat "$tmp/hold/closed" 2>/dev/null)'"; head -5 "$tmp/err" | sed 's/^/    /'
fi
hold_stop

"${RUN[@]}" run --help >"$tmp/out" 2>&1
grep -qF -- "--max-memory SIZE" "$tmp/out" && grep -qF -- "--timeout DURATION" "$tmp/out" && ok "run --help names --timeout DURATION and --max-memory SIZE" \
  || not_ok "run --help does not name the options"

finish
