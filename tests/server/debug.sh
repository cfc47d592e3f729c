#!/usr/bin/env bash
# tests/server/debug.sh - debug runs and payload recording of `miniatom serve` (docs/server.md "Debug
# runs and payload recording", decision 017) through the real binary on loopback: X-Boomi-Debug /
# _boomi_debug=true runs a debug run only for a user of auth.<listener>.debug_users (anyone else's
# flag is ignored), debug.concurrent and debug.rate answer 429 with Retry-After, /health answers while
# debug, general and low-latency executions are held in flight (a process that waits on a gate server
# this test opens), and the payload budgets (history.max_payload_bytes, .payload_bytes_per_minute)
# leave payloads out of the record, which says so. Needs curl and python3.
. "$(dirname "$0")/../lib.sh"
here=$top_srcdir/tests/server/debug
tmp=$(mktemp -d)
cleanup() {
  touch "$tmp/gate/release" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  server_kill
  hold_stop
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done

# ---- the gate server, the deployment, two users (ada may debug, bob may not) ----
mkdir -p "$tmp/deploy"
hold_start "$tmp/gate" || { echo "FAIL: the gate server did not start" >&2; exit 1; }
cp "$here"/deploy/*.xml "$tmp/deploy/"
sed -i "s#@GATE_URL@#http://127.0.0.1:$hold_port/hold#" "$tmp/deploy/conn-gate.xml"
ada=$(printf 'ada-token' | "$MINIATOM" serve --hash-token --iterations 1000)
bob=$(printf 'bob-token' | "$MINIATOM" serve --hash-token --iterations 1000)
AUTH=(--set auth.wss.mode=basic --set "auth.wss.user.ada=$ada" --set "auth.wss.user.bob=$bob" --set auth.wss.debug_users=ada)

start() { # LOG ARGS... : the server on a free port; sets $srv_pid $base
  local log=$1
  shift
  server_start "$log" --deploy "$tmp/deploy" "$@"
}
exec_id() { tr -d '\r' <"$tmp/h" | awk 'tolower($1) == "x-execution-id:" {print $2}'; }
has_header() { grep -qi "^$1:" "$tmp/h"; }
echo_url=/ws/simple/executeEchoData

# ---- who may debug ----
start "$tmp/log1" --data "$tmp/data1" "${AUTH[@]}" --set server.threads=1 --set workers.threads=8 \
  --set debug.concurrent=2 --set debug.rate=100 --set limits.sync_timeout=150s \
  --set "connection.Debug Gate.readTimeout=150000" || { not_ok "start with debug users"; finish; exit 1; }
expect_code 200 "ada's debug run answers 200" -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
id=$(exec_id)
if [[ $id == execution-* ]]; then ok "ada's debug run names its execution (X-Execution-Id)"; else not_ok "ada's debug run: no X-Execution-Id"; fi
if "${RUN[@]}" execution show --data "$tmp/data1" --json "$id" >"$tmp/show" 2>&1 &&
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mode"]=="general" and d["payloads"] is True' "$tmp/show"; then
  ok "ada's debug run ran in general mode and was recorded with its payloads"
else not_ok "ada's debug run was not recorded"; head -c 300 "$tmp/show" | sed 's/^/    /'; fi
expect_code 200 "bob's flag: served" -u bob:bob-token "$base$echo_url?_boomi_debug=true" --data-binary hi
has_header X-Execution-Id && not_ok "bob's flag ran a debug run" || ok "bob's flag is ignored: no debug run"
expect_code 401 "a debug flag without credentials is no way in" "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
sleep 0.2
if grep -q '"user":"bob","debug":"ignored"' "$tmp/log1" && grep -q '"user":"ada","debug":"ran"' "$tmp/log1"; then
  ok "the request log says which debug flags ran and which were ignored"
else not_ok "the request log lacks the debug verdicts"; grep '"request"' "$tmp/log1" | tail -3 | sed 's/^/    /'; fi

# ---- /health while executions are held in flight ----
# two debug runs (debug.concurrent), three general and two low-latency executions wait at the gate;
# server.threads=1: every server thread that could be held is. They are sent one after the other,
# each once the one before has arrived: a request accepted together with one that then holds its
# server thread inline would wait for it (docs/server.md "Requests that wait").
pids=()
held=0
hold() { # NAME URL CREDENTIALS
  curl -s -o "$tmp/$1" -w '%{http_code}' --max-time $((180 * slow)) -u "$3" "$base$2" >"$tmp/$1.code" &
  pids+=($!)
  held=$((held + 1))
  hold_wait "$tmp/gate" $held
}
t_held=$(date +%s)
hold dbg1 "/ws/simple/executeHold?_boomi_debug=true" ada:ada-token &&
  hold dbg2 "/ws/simple/executeHold?_boomi_debug=true" ada:ada-token &&
  hold gen1 /ws/simple/executeHoldGeneral bob:bob-token && hold gen2 /ws/simple/executeHoldGeneral bob:bob-token &&
  hold gen3 /ws/simple/executeHoldGeneral bob:bob-token && hold low1 /ws/simple/executeHold bob:bob-token &&
  hold low2 /ws/simple/executeHold bob:bob-token
if [ "$(cat "$tmp/gate/arrived" 2>/dev/null)" = 7 ]; then ok "seven executions are held at the gate (after $(($(date +%s) - t_held)) s)"; else
  not_ok "the executions did not reach the gate ($(cat "$tmp/gate/arrived" 2>/dev/null) of $held arrived)"; fi
expect_code 429 "a third debug run at once: 429 (debug.concurrent)" -u ada:ada-token "$base$echo_url" \
  -H 'X-Boomi-Debug: true' --data-binary hi
has_header Retry-After && ok "the 429 says when to retry" || not_ok "the 429 has no Retry-After"
for i in 1 2 3; do
  expect_code 200 "/health answers while they are held ($i)" --max-time $((5 * slow)) "$base/health"
done
grep -q '"status":"ok"' "$tmp/b" && ok "/health says ok" || not_ok "/health body: $(head -c 200 "$tmp/b")"
expect_code 200 "a request without the flag is still served meanwhile" -u ada:ada-token "$base$echo_url" --data-binary hi
touch "$tmp/gate/release"
for p in "${pids[@]}"; do wait "$p"; done
bad=0
for f in dbg1 dbg2 gen1 gen2 gen3 low1 low2; do
  [ "$(cat "$tmp/$f.code")" = 200 ] && [ "$(cat "$tmp/$f")" = released ] || { bad=1; echo "    $f: $(cat "$tmp/$f.code" 2>/dev/null) $(head -c 100 "$tmp/$f" 2>/dev/null)"; }
done
[ $bad = 0 ] && ok "once released, every held execution answers 200 with its result" || not_ok "a held execution was lost"
expect_code 200 "after them, a debug run fits again" -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
kill -0 "$srv_pid" 2>/dev/null && ok "the server is up" || not_ok "the server died"
server_stop
rm -f "$tmp/gate/release"

# ---- debug.rate, payload budgets ----
head -c 921600 /dev/zero | tr '\0' 'a' >"$tmp/900k"
start "$tmp/log2" --data "$tmp/data2" "${AUTH[@]}" --set debug.rate=0 --set history.max_payload_bytes=1MB \
  --set history.payload_bytes_per_minute=1MB || { not_ok "start with payload budgets"; finish; exit 1; }
ids=()
for i in 1 2 3; do
  expect_code 200 "900 KB debug run $i answers 200" -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' \
    --data-binary "@$tmp/900k"
  [ "$(wc -c <"$tmp/b")" = 921600 ] || not_ok "debug run $i: the answer lost bytes"
  ids+=("$(exec_id)")
done
show() { "${RUN[@]}" execution show --data "$tmp/data2" --json "$1" >"$tmp/show" 2>"$tmp/show.err"; }
pycheck() { # label expr
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); assert eval(sys.argv[1]), (d["status"], d.get("payloadsDropped"), len(d["inputs"]), len(d["results"]))' "$2" "$tmp/show" 2>"$tmp/pyerr"; then ok "$1"
  else not_ok "$1"; tail -1 "$tmp/pyerr" | head -c 300 | sed 's/^/    /'; echo; fi
}
recorded() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(x["recordedSize"] for x in d["inputs"]+d["results"]))' "$tmp/show"; }
show "${ids[0]}" && pycheck "run 1: the input is recorded, the result is over history.max_payload_bytes" \
  'd["status"]=="COMPLETE" and len(d["inputs"])==1 and len(d["results"])==0 and "max_payload_bytes" in d["payloadsDropped"]'
[ "$(recorded)" -le 1048576 ] && ok "run 1 records at most the budget ($(recorded) bytes)" || not_ok "run 1 recorded $(recorded) bytes"
# the minute's 1 MB drains 17 KB a second: runs 2 and 3 find it full unless the machine took 48 s
for k in 1 2; do
  show "${ids[$k]}" && pycheck "run $((k + 1)): over history.payload_bytes_per_minute, nothing recorded, the execution is" \
    'd["status"]=="COMPLETE" and len(d["inputs"])==0 and len(d["results"])==0 and "per_minute" in d["payloadsDropped"] and d["inputCount"]==1'
done
server_stop

# debug.rate=2: a leaky bucket of two a minute (one drains every 30 s)
start "$tmp/log4" --data "$tmp/data4" "${AUTH[@]}" --set debug.rate=2 || { not_ok "start with debug.rate=2"; finish; exit 1; }
expect_code 200 "debug run 1 (debug.rate=2)" -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
expect_code 200 "debug run 2" -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
got=
for i in 3 4 5; do # a third one within 30 s is refused; a machine slowed past that gets two more tries
  got="$got $(curl_status -u ada:ada-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi)"
  [ "${got##* }" = 429 ] && break
done
[ "${got##* }" = 429 ] && ok "the next debug run within the minute: 429 (debug.rate;$got)" || not_ok "debug.rate did not limit:$got"
has_header Retry-After && ok "the 429 says when to retry" || not_ok "the 429 has no Retry-After"
expect_code 200 "bob's flag meanwhile is ignored, not limited" -u bob:bob-token "$base$echo_url" -H 'X-Boomi-Debug: true' --data-binary hi
expect_code 200 "ada without the flag is served" -u ada:ada-token "$base$echo_url" --data-binary hi
server_stop

# ---- without authentication: the flag is ignored ----
start "$tmp/log3" --data "$tmp/data3" || { not_ok "start without authentication"; finish; exit 1; }
expect_code 200 "without authentication the flagged request is served" "$base$echo_url?_boomi_debug=true" --data-binary hi
has_header X-Execution-Id && not_ok "without authentication a debug run ran" || ok "without authentication the flag is ignored"
server_stop
expect_no_memory_errors "$tmp"/log*
finish
