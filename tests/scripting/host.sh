#!/usr/bin/env bash
# tests/scripting/host.sh - the script host (runtime/scripthost.c, scripthost/; docs/decisions/
# 019-scripting.md) inside one `miniatom serve`: not started with the server, started by the first
# script and kept warm, restarted after it was killed between runs, after a script ran past
# script.timeout and after one ran out of memory (the batch fails, Try/Catch catches it, the next
# batch runs); and what a script may not do: connect to a port this test listens on, read a file
# outside its folder (while it may use its own folder: the execution's temp folder, another per
# execution, removed at its end), unless script.network allows the network; what a script prints
# reaches the execution log within a per-run cap.
# Needs curl and python3; only 127.0.0.1.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
lis_pid=
trap 'server_kill; [ -n "$lis_pid" ] && kill "$lis_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
# shellcheck source=tests/scripting/need.sh
. "$(dirname "$0")/need.sh"
deploy=$top_srcdir/tests/scripting/deploy

post() { # BODY: prints the answer's body, then the status on its own line
  printf '%s' "$1" >"$tmp/in"
  curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data-binary @"$tmp/in" \
    "$base/ws/simple/createScript"
}
expect() { # label BODY status substring
  local got; got=$(post "$2")
  if [ "$got" = "$3" ] && grep -qF -- "$4" "$tmp/out"; then ok "$1"
  else not_ok "$1: status $got, expected $3 with '$4'"; head -c 400 "$tmp/out" | sed 's/^/    /'; echo; fi
}
host_pid() { pgrep -P "$srv_pid" 2>/dev/null | head -1; }

# a listener that writes a line into $tmp/conns for each connection it accepts
python3 - "$tmp/port" "$tmp/conns" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept(); open(sys.argv[2], "a").write("connection\n"); c.close()
PY
lis_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
lport=$(cat "$tmp/port")
echo "outside the script folder" >"$tmp/secret.txt"

if server_start "$tmp/serve.log" --deploy "$deploy" --data "$tmp/data" --set script.timeout=$((3 * slow))s \
    --set script.max_memory=64MB --set limits.sync_timeout=$((20 * slow))s; then
  if [ -z "$(host_pid)" ]; then ok "serve does not start the script host"; else not_ok "serve started a child at start"; fi
  expect "the first script starts the host" pass 200 pass
  p1=$(host_pid)
  [ -n "$p1" ] && ok "the host runs (pid $p1)" || not_ok "no host process after a script ran"
  expect "a second run" pass 200 pass
  [ "$(host_pid)" = "$p1" ] && ok "the host is kept warm (same pid)" || not_ok "the host changed: $p1 -> $(host_pid)"
  kill -9 "$p1" 2>/dev/null
  sleep 0.2
  expect "after the host was killed between runs the next run works" pass 200 pass
  p2=$(host_pid)
  [ -n "$p2" ] && [ "$p2" != "$p1" ] && ok "a new host ($p2)" || not_ok "no new host after the kill ($p1 -> $p2)"
  expect "a script past script.timeout fails its documents (caught)" sleep 200 "ran past its timeout"
  expect "the next batch runs on a new host" pass 200 pass
  [ "$(host_pid)" != "$p2" ] && ok "the stuck host was replaced" || not_ok "the stuck host is still the one"
  expect "a script that runs out of memory takes the host down: its documents fail (caught)" oom 200 "the script host died"
  expect "the next batch runs after the crash" pass 200 pass
  # security
  expect "connecting to a local port fails" "connect $lport" 200 "caught:"
  if [ -s "$tmp/conns" ]; then not_ok "the listener got a connection from a script"; else ok "the listener got no connection"; fi
  expect "reading a file outside the script folder fails" "read $tmp/secret.txt" 200 "caught:"
  grep -qF "outside the script folder" "$tmp/out" && ok "... with the reason" || not_ok "no reason: $(cat "$tmp/out")"
  expect "reading /etc/passwd fails" "read /etc/passwd" 200 "caught:"
  expect "the script's own folder can be written and read" local 200 mine
  # the execution's temp folder: the script's only folder, its own per execution, gone at its end
  expect "a script writes a file in its execution's temp folder" "write first.txt" 200 first.txt
  first=$(cat "$tmp/out")
  case "$first" in "$tmp/data/tmp/exec-"*/first.txt) ok "... under DATA/tmp/exec-*" ;; *) not_ok "the file is at '$first'" ;; esac
  [ ! -e "$first" ] && [ ! -e "$(dirname "$first")" ] && ok "the folder is gone after the execution" \
    || not_ok "$(dirname "$first") is still there after the execution"
  mkdir -p "$(dirname "$first")" && echo "left by the first execution" >"$first"
  expect "a second execution cannot read the first one's file" "read $first" 200 "caught:"
  grep -qF "outside the script folder" "$tmp/out" && ok "... with the reason" || not_ok "no reason: $(cat "$tmp/out")"
  rm -rf "$(dirname "$first")"
  expect "a relative path (the host's own folder) is refused" relative 200 "caught:"
  [ -z "$(ls -A "$tmp/data/tmp" 2>/dev/null)" ] && ok "no execution folder is left in DATA/tmp" \
    || not_ok "left in DATA/tmp: $(ls -A "$tmp/data/tmp")"
else
  not_ok "serve did not start"; sed 's/^/    /' "$tmp/serve.log" | head -20
fi
server_kill

# the execution's own deadline stops a script long before script.timeout
printf sleep >"$tmp/sleep.txt"
code=0
"${RUN[@]}" run --deploy "$deploy" --data "$tmp/data" --input "$tmp/sleep.txt" --timeout $((2 * slow))s \
  --set script.timeout=10m "Script Host Process" >"$tmp/run.out" 2>"$tmp/run.err" || code=$?
if [ "$code" = 1 ] && grep -q ABORTED "$tmp/run.err"; then ok "run --timeout stops a script that runs: ABORTED"
else not_ok "run --timeout: exit $code"; sed 's/^/    /' "$tmp/run.err" | head -5; fi

# what a script prints goes to the execution log, capped per run: 4 MB of println
printf 'print 4000' >"$tmp/print.txt"
code=0
"${RUN[@]}" run --deploy "$deploy" --data "$tmp/data" --input "$tmp/print.txt" --json \
  "Script Host Process" >"$tmp/print.out" 2>"$tmp/print.err" || code=$?
size=$(wc -c <"$tmp/print.out")
if [ "$code" = 0 ] && grep -q 'printed 4000' "$tmp/print.out"; then ok "a script that prints 4 MB runs"
else not_ok "printing 4 MB: exit $code"; sed 's/^/    /' "$tmp/print.err" | head -5; fi
grep -q 'line(s) of script output (.* bytes) were dropped' "$tmp/print.out" && ok "the log says what was dropped" \
  || not_ok "no dropped-output line in the log"
grep -q 'xxxxxxxx' "$tmp/print.out" && ok "the printed lines are in the execution log" || not_ok "no printed line in the log"
[ "$size" -lt 1000000 ] && ok "the execution's output stays small ($size bytes)" || not_ok "the output is $size bytes"
[ "$(wc -c <"$tmp/print.err")" -lt 100000 ] && ok "stderr stays small" || not_ok "stderr is $(wc -c <"$tmp/print.err") bytes"

# script.network=true: the same connection goes through (so the check above can fail)
if server_start "$tmp/serve2.log" --deploy "$deploy" --data "$tmp/data" --set script.network=true; then
  expect "with script.network=true a script connects" "connect $lport" 200 connected
  if [ -s "$tmp/conns" ]; then ok "the listener got the connection"; else not_ok "the listener got no connection"; fi
else
  not_ok "serve did not start"; sed 's/^/    /' "$tmp/serve2.log" | head -20
fi
grep -q '"level":"error"' "$tmp/serve.log" && echo "# (the server logged the failures above, as expected)"
finish
