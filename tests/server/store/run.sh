#!/usr/bin/env bash
# tests/server/store/run.sh - a store that survives faults (issue 13 part 2, docs/server.md "The
# store", decision 016), through the real binary on 127.0.0.1: the server starts and serves with (a)
# a corrupt history.db, (b) a read-only data folder (as an unprivileged user: root ignores
# permissions), (c) a full disk (RLIMIT_FSIZE), (d) its history deleted and replaced while it runs;
# low-latency routes answer 200, general ones 503 with the reason, /health says degraded, the log
# says it once; `miniatom store check|repair`; nothing answered 2xx is missing from the history after
# a restart; (e) history.max_size enforced by the running purge. Needs curl and python3; (b) needs
# setpriv when run as root, (c) prlimit.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
MINIATOM=${MINIATOM:-$top_srcdir/miniatom}
. "$top_srcdir/tests/lib.sh"
here=$top_srcdir/tests/server/store
tmp=$(mktemp -d)
chmod 755 "$tmp" # the unprivileged server of (b) reads the deployment here
cleanup() {
  server_kill
  hold_stop
  chmod -R u+w "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done

# the upstream that holds an execution in flight until the test releases it
hold_start "$tmp/hold" || { echo "FAIL: the hold server did not start" >&2; exit 1; }
cp -r "$here/deploy" "$tmp/deploy"
sed -i "s#@HOLD_URL@#http://127.0.0.1:$hold_port#" "$tmp/deploy/conn-hold.xml"
chmod -R a+rX "$tmp/deploy"

# the server's log goes through a pipe (a file size limit on the server must not cut its log); the
# command it runs under (setpriv, prlimit) is in srv_pre
srv_pipe=1
start() { # LOG DATA ARGS... : the server on a free port; sets $srv_pid $port $base
  local log=$1 data=$2
  shift 2
  server_start "$log" --deploy "$tmp/deploy" --data "$data" "$@"
}
low() { curl_status -X POST --data-binary "low $1" "$base/ws/simple/executeLowEcho"; }
gen() { curl_status -X POST --data-binary "${2:-general $1}" "$base/ws/simple/executeGenEcho"; }
health() { curl_status "$base/health" >/dev/null; cp "$tmp/b" "$tmp/health.json"; }
# wait_health EXPR : until /health's JSON d satisfies EXPR (at most 10 s, longer under valgrind)
wait_health() {
  for _ in $(seq $((100 * slow))); do
    health
    python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "$tmp/health.json" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# wait_log FILE PATTERN : until the log (written by a thread, through a pipe) has a line matching PATTERN
wait_log() {
  for _ in $(seq $((100 * slow))); do grep -q -- "$2" "$1" && return 0; sleep 0.05; done
  return 1
}
# the general-mode execution ids the request log says were answered 2xx
answered_2xx() {
  python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try: d = json.loads(line)
    except ValueError: continue
    if d.get("msg") == "request" and 200 <= d.get("status", 0) < 300 and d.get("execution_id") \
            and d.get("path", "").startswith("/ws/simple/executeGen"):
        print(d["execution_id"])
EOF
}
# recorded DATA... : "ID STATUS" of every execution in the histories of the data folders
recorded() {
  for d in "$@"; do
    "${RUN[@]}" executions --data "$d" --last 0 --json 2>/dev/null >"$tmp/rec.json" || continue
    python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["executions"]: print(e["executionId"], e["status"])' "$tmp/rec.json"
  done
}
# none_lost LABEL LOG DATA... : every execution answered 2xx is recorded COMPLETE in one of the folders
none_lost() {
  local label=$1 log=$2; shift 2
  wait_log "$log" '"msg":"stopped"' || not_ok "$label: the log has no 'stopped' line"
  answered_2xx "$log" | sort -u >"$tmp/ok_ids"
  recorded "$@" | awk '$2 == "COMPLETE" {print $1}' | sort -u >"$tmp/rec_ids"
  local n missing
  n=$(wc -l <"$tmp/ok_ids")
  missing=$(comm -23 "$tmp/ok_ids" "$tmp/rec_ids")
  if [ "$n" -gt 0 ] && [ -z "$missing" ]; then ok "$label: the $n executions answered 2xx are all recorded COMPLETE"
  else not_ok "$label: $n answered 2xx; not recorded COMPLETE: ${missing:-none answered}"; fi
}
unusable_lines() { grep -c '"level":"error","msg":"the execution history \(is unusable\|was deleted\)' "$1"; }

# ---- (a) a corrupt history.db ----
mkdir -p "$tmp/a"
for _ in $(seq 2000); do echo "this is not a SQLite database"; done >"$tmp/a/history.db"
if start "$tmp/a.log" "$tmp/a" --set history.check_interval=200ms; then ok "corrupt: the server starts"; else not_ok "corrupt: the server did not start"; tail -3 "$tmp/a.log"; fi
[ "$(low 1)" = 200 ] && grep -q "low 1" "$tmp/b" && ok "corrupt: a low-latency route answers 200" || not_ok "corrupt: low-latency route: $(cat "$tmp/b")"
for i in 1 2 3; do gen $i >"$tmp/status"; done
if [ "$(cat "$tmp/status")" = 503 ]; then ok "corrupt: a general route answers 503"; else not_ok "corrupt: general route: $(cat "$tmp/status")"; fi
json_check "corrupt: the 503 says the history is unusable, and why" \
  "d['error'].startswith('the execution history is unusable: ') and 'not a database' in d['error'] and 'general-mode processes cannot run' in d['error']" "$tmp/b"
grep -qi '^Retry-After:' "$tmp/h" && ok "corrupt: the 503 has Retry-After" || not_ok "corrupt: no Retry-After"
health
json_check "corrupt: /health says degraded, the store unusable (corrupt) with its path, error and since" \
  "d['status']=='degraded' and d['store']['state']=='unusable' and d['store']['fault']=='corrupt' and d['store']['path'].endswith('/a/history.db') and 'not a database' in d['store']['error'] and d['store']['since']" "$tmp/health.json"
wait_log "$tmp/a.log" '"msg":"the execution history is unusable'
[ "$(unusable_lines "$tmp/a.log")" = 1 ] && ok "corrupt: one log line says so (not one per request)" || not_ok "corrupt: $(unusable_lines "$tmp/a.log") log lines"
"${RUN[@]}" store check --data "$tmp/a" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'NOT USABLE.*not a database' "$tmp/out" && ok "store check fails (exit 1) and names the problem" || { not_ok "store check: exit $rc"; cat "$tmp/out"; }
"${RUN[@]}" store repair --data "$tmp/a" >"$tmp/out" 2>&1; rc=$?
aside=$(ls "$tmp/a" | grep -E '^history\.db\.corrupt-[0-9]{8}T[0-9]{6}Z$')
[ $rc = 0 ] && [ -n "$aside" ] && grep -q "moved.*$aside" "$tmp/out" && ok "store repair moves it aside with a timestamp ($aside) and says where" ||
  { not_ok "store repair: exit $rc, aside '$aside'"; cat "$tmp/out"; }
cmp -s "$tmp/a/$aside" <(for _ in $(seq 2000); do echo "this is not a SQLite database"; done) && ok "store repair: the old file is kept as it was" || not_ok "store repair: the old file changed"
"${RUN[@]}" store check --data "$tmp/a" >"$tmp/out" 2>&1 && grep -q '^state *ok' "$tmp/out" && ok "store check passes after the repair" || { not_ok "store check after repair"; cat "$tmp/out"; }
wait_health "d['status']=='ok' and d['store']['state']=='ok'" && ok "corrupt: the running server takes the repaired history" || { not_ok "corrupt: /health after repair"; cat "$tmp/health.json"; }
wait_log "$tmp/a.log" '"msg":"the execution history is usable again"' && ok "corrupt: the log says it is usable again" || not_ok "corrupt: no 'usable again' line"
[ "$(gen 4)" = 200 ] && grep -q "general 4" "$tmp/b" && ok "corrupt: after the repair a general route answers 200" || not_ok "corrupt: general after repair: $(cat "$tmp/b")"
server_stop
none_lost "corrupt" "$tmp/a.log" "$tmp/a"

# ---- (b) a read-only data folder, as an unprivileged user ----
mkdir -p "$tmp/b_data"
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || { echo "FAIL: setpriv is needed as root" >&2; exit 1; }
  chown nobody:nogroup "$tmp/b_data"
  srv_pre=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
chmod 0555 "$tmp/b_data"
if start "$tmp/b.log" "$tmp/b_data" --set history.check_interval=200ms; then ok "read-only: the server starts (unprivileged)"; else not_ok "read-only: the server did not start"; tail -3 "$tmp/b.log"; fi
[ "$(low 1)" = 200 ] && ok "read-only: a low-latency route answers 200" || not_ok "read-only: low-latency route: $(cat "$tmp/b")"
[ "$(gen 1)" = 503 ] && ok "read-only: a general route answers 503" || not_ok "read-only: general route: $(cat "$tmp/b")"
json_check "read-only: the 503 says why (permission)" "'execution history is unusable' in d['error'] and 'ermission denied' in d['error']" "$tmp/b"
health
json_check "read-only: /health says degraded (io)" "d['status']=='degraded' and d['store']['fault']=='io' and 'ermission denied' in d['store']['error']" "$tmp/health.json"
"${srv_pre[@]}" "${RUN[@]}" store check --data "$tmp/b_data" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'not writable' "$tmp/out" && ok "read-only: store check fails and says the folder is not writable" || { not_ok "read-only: store check exit $rc"; cat "$tmp/out"; }
"${srv_pre[@]}" "${RUN[@]}" store repair --data "$tmp/b_data" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && ok "read-only: store repair cannot help, and fails (exit 1)" || { not_ok "read-only: store repair exit $rc"; cat "$tmp/out"; }
chmod 0755 "$tmp/b_data"
wait_health "d['status']=='ok'" && ok "read-only: once the folder is writable the server makes its history and says ok" || { not_ok "read-only: not usable after chmod"; cat "$tmp/health.json"; }
[ "$(gen 2)" = 200 ] && ok "read-only: then a general route answers 200" || not_ok "read-only: general after chmod: $(cat "$tmp/b")"
server_stop
srv_pre=()
none_lost "read-only" "$tmp/b.log" "$tmp/b_data"

# ---- (c) a full disk: a file size limit on the server (SIGXFSZ ignored, writes fail) ----
if command -v prlimit >/dev/null; then
  mkdir -p "$tmp/c"
  body=$(head -c 20000 /dev/zero | tr '\0' 'x')
  srv_pre=(prlimit --fsize=400000 --)
  if start "$tmp/c.log" "$tmp/c"; then ok "full: the server starts under a 400 KB file size limit"; else not_ok "full: no start"; tail -3 "$tmp/c.log"; fi
  statuses=
  for i in $(seq 40); do
    s=$(gen "$i" "$i $body"); statuses="$statuses $s"
    if [ "$s" != 200 ]; then break; fi
  done
  case "$statuses" in *" 200"*" 50"[03]) ok "full: general executions answer 200 until the history is full, then 5xx ($s)";; *) not_ok "full: statuses$statuses";; esac
  kill -0 "$srv_pid" 2>/dev/null && ok "full: the server is still up (SIGXFSZ did not kill it)" || not_ok "full: the server died"
  json_check "full: the answer says the execution could not be recorded" "'could not be recorded' in d['error'] or 'execution history is unusable' in d['error']" "$tmp/b"
  [ "$(gen x)" = 503 ] && ok "full: later general requests answer 503" || not_ok "full: later general: $(cat "$tmp/b")"
  [ "$(low 1)" = 200 ] && ok "full: a low-latency route answers 200" || not_ok "full: low-latency: $(cat "$tmp/b")"
  health
  json_check "full: /health says degraded with the I/O error" "d['status']=='degraded' and d['store']['fault']=='io' and d['store']['error']" "$tmp/health.json"
  server_stop
  srv_pre=()
  start "$tmp/c2.log" "$tmp/c" && ok "full: restarts without the limit" || not_ok "full: no restart"
  server_stop
  none_lost "full" "$tmp/c.log" "$tmp/c"
else
  not_ok "full: prlimit is needed"
fi

# ---- (d) the history deleted, then replaced, while the server runs ----
mkdir -p "$tmp/d" "$tmp/d_gone" "$tmp/d_old"
start "$tmp/d.log" "$tmp/d" --set history.check_interval=300ms || not_ok "deleted: no start"
for i in 1 2 3; do [ "$(gen $i)" = 200 ] || not_ok "deleted: general $i before: $(cat "$tmp/b")"; done
rm -f "$tmp/hold/arrived" "$tmp/hold/release"
(curl_status "$base/ws/simple/executeGenHold" >"$tmp/hold.code"; cp "$tmp/b" "$tmp/hold.body") &
held=$!
hold_wait "$tmp/hold" 1 && ok "deleted: a general execution is held in flight" || not_ok "deleted: the held execution did not arrive"
mv "$tmp/d/history.db" "$tmp/d/history.db-wal" "$tmp/d/history.db-shm" "$tmp/d_gone/" 2>/dev/null
wait_health "d['status']=='degraded' and d['store']['fault']=='deleted'" && ok "deleted: /health says degraded: deleted" || { not_ok "deleted: /health"; cat "$tmp/health.json"; }
wait_log "$tmp/d.log" '"level":"error","msg":"the execution history was deleted' && ok "deleted: the log says so" || not_ok "deleted: no log line"
[ "$(gen 4)" = 503 ] && ok "deleted: a general route answers 503" || not_ok "deleted: general: $(cat "$tmp/b")"
touch "$tmp/hold/release"; wait $held
if [ "$(cat "$tmp/hold.code")" != 200 ] && grep -q 'could not be recorded' "$tmp/hold.body"; then
  ok "deleted: the execution that ended meanwhile is not answered 2xx ($(cat "$tmp/hold.code"): not recorded)"
else not_ok "deleted: the held execution got $(cat "$tmp/hold.code"): $(cat "$tmp/hold.body")"; fi
[ ! -e "$tmp/d/history.db" ] && ok "deleted: the server did not make a new history by itself" || not_ok "deleted: a new history.db appeared"
[ "$(low 1)" = 200 ] && ok "deleted: a low-latency route answers 200" || not_ok "deleted: low-latency: $(cat "$tmp/b")"
mv "$tmp/d_gone/"* "$tmp/d/"
wait_health "d['status']=='ok'" && ok "deleted: once the file is back the server uses it again" || { not_ok "deleted: not back"; cat "$tmp/health.json"; }
for i in 5 6; do [ "$(gen $i)" = 200 ] || not_ok "deleted: general $i after: $(cat "$tmp/b")"; done
# replaced: another file put in its place at once (the old one kept, by hard links, for the count)
for f in history.db history.db-wal history.db-shm; do [ -e "$tmp/d/$f" ] && ln "$tmp/d/$f" "$tmp/d_old/$f"; done
echo "not a database either" >"$tmp/d/new"
mv "$tmp/d/new" "$tmp/d/history.db"
rm -f "$tmp/d/history.db-wal" "$tmp/d/history.db-shm"
[ "$(gen 7)" = 503 ] && ok "replaced: the next general request answers 503" || not_ok "replaced: general: $(cat "$tmp/b")"
wait_log "$tmp/d.log" 'replaced by another file' && ok "replaced: the log says the file was replaced" ||
  { not_ok "replaced: no log line"; grep 'execution history' "$tmp/d.log" | sed 's/^/    /'; }
wait_health "d['status']=='degraded' and d['store']['fault']=='corrupt'" && ok "replaced: /health says degraded (the replacement is not a history)" || { not_ok "replaced: /health"; cat "$tmp/health.json"; }
"${RUN[@]}" store repair --data "$tmp/d" >"$tmp/out" 2>&1 || { not_ok "replaced: store repair"; cat "$tmp/out"; }
wait_health "d['status']=='ok'" && ok "replaced: after store repair the server uses the fresh history" || { not_ok "replaced: not ok after repair"; cat "$tmp/health.json"; }
for i in 8 9; do [ "$(gen $i)" = 200 ] || not_ok "replaced: general $i after: $(cat "$tmp/b")"; done
server_stop
none_lost "deleted and replaced (after a restart)" "$tmp/d.log" "$tmp/d" "$tmp/d_old"
start "$tmp/d2.log" "$tmp/d" && ok "deleted and replaced: the server restarts on the repaired history" || not_ok "no restart"
server_stop

# ---- (e) history.max_size, enforced by the running purge ----
mkdir -p "$tmp/e"
start "$tmp/e.log" "$tmp/e" --set history.max_size=300KB --set history.check_interval=200ms || not_ok "max_size: no start"
body=$(head -c 20000 /dev/zero | tr '\0' 'y')
for i in $(seq 30); do [ "$(gen "$i" "$i $body")" = 200 ] || not_ok "max_size: general $i: $(cat "$tmp/b")"; done
wait_health "d['store']['used'] <= 300*1024" && ok "max_size: the running purge brings the history under 300 KB ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["store"]["used"])' "$tmp/health.json") bytes)" ||
  { not_ok "max_size: still over"; cat "$tmp/health.json"; }
server_stop
wait_log "$tmp/e.log" '"msg":"stopped"'
answered_2xx "$tmp/e.log" >"$tmp/e_ids"
first=$(head -1 "$tmp/e_ids"); last=$(tail -1 "$tmp/e_ids")
"${RUN[@]}" execution show "$first" --data "$tmp/e" --json >"$tmp/first.json" 2>&1
json_check "max_size: the oldest execution lost its payloads first, not its record" "d['payloads'] is False and d.get('payloadsPurged') is True and d['status']=='COMPLETE'" "$tmp/first.json"
"${RUN[@]}" execution show "$last" --data "$tmp/e" --json >"$tmp/last.json" 2>&1
json_check "max_size: the newest execution keeps its payloads" "d['payloads'] is True and len(d['inputs'])==1 and d['inputs'][0]['size']>20000" "$tmp/last.json"
[ "$(recorded "$tmp/e" | wc -l)" = 30 ] && ok "max_size: every record is kept while payloads suffice" || not_ok "max_size: $(recorded "$tmp/e" | wc -l) records"
"${RUN[@]}" store check --data "$tmp/e" >"$tmp/out" 2>&1 && ok "max_size: store check passes after the purge" || { not_ok "max_size: store check"; cat "$tmp/out"; }

finish
