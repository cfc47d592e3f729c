# tests/lib.sh - shared by the script tests: where the binary is, the shared material, and a
# tally that prints "N passed, N failed" and sets the exit status.
set -u
MINIATOM=${MINIATOM:-$(cd "$(dirname "$0")/../.." && pwd)/miniatom}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
MA_SHARED=${MA_SHARED:-$top_srcdir/../shared}
# MA_WRAP=valgrind runs every miniatom under valgrind's memcheck (the tests then also fail on leaks)
if [ "${MA_WRAP:-}" = valgrind ]; then
  RUN=(valgrind -q --soname-synonyms=somalloc=*mimalloc* --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$MINIATOM")
else
  RUN=("$MINIATOM")
fi
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
need_shared() {
  if [ ! -d "$MA_SHARED/corpus/boomi" ]; then
    echo "FAIL: the shared material is missing: $MA_SHARED/corpus/boomi (set MA_SHARED to the shared folder)" >&2
    exit 1
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# ---- the server tests: a `miniatom serve` of their own on a free loopback port ----
# slow: how many times longer every bounded wait may take (valgrind is slow; a script may raise it)
slow=1
[ "${MA_WRAP:-}" = valgrind ] && slow=10
srv_pid=
srv_log=
srv_pre=()  # a command the server runs under (setpriv, prlimit ...); empty for none
srv_pipe=0  # 1: the server's log goes through a pipe (a file size limit on the server must not cut it)
# server_start LOG ARGS... : stops the server started before, runs `miniatom serve --listen 127.0.0.1:0
# ARGS...` with its log (stderr) in LOG and waits for its "listening" line, which names the port.
# Sets $srv_pid $srv_log $port $base; fails when the server did not come up.
server_start() {
  local log=$1
  shift
  server_stop
  srv_log=$log
  if [ "$srv_pipe" = 1 ]; then
    : >"$log"
    "${srv_pre[@]}" "${RUN[@]}" serve --listen 127.0.0.1:0 "$@" 2> >(cat >>"$log") &
  else
    "${srv_pre[@]}" "${RUN[@]}" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
  fi
  srv_pid=$!
  port=
  for _ in $(seq $((200 * slow))); do
    port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$log" 2>/dev/null | grep -o '"port":[0-9]*' | cut -d: -f2)
    [ -n "$port" ] && break
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.05
  done
  base=http://127.0.0.1:$port
  [ -n "$port" ]
}
# server_stop: SIGTERM to the server; it must exit 0 and its log must hold no sanitizer or valgrind
# report (each a not_ok). Fails when it found either.
server_stop() {
  local rc bad=0
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    rc=$?
    srv_pid=
    if [ $rc != 0 ]; then
      bad=1
      not_ok "the server stopped with exit $rc"
      [ -n "$srv_log" ] && tail -5 "$srv_log" | sed 's/^/    /'
    fi
  fi
  if [ -n "$srv_log" ] && memory_errors "$srv_log"; then
    bad=1
    not_ok "$(basename "$srv_log"): a memory error was reported"
    show_memory_errors "$srv_log"
  fi
  srv_log=
  return $bad
}
# server_kill: stops the server without a verdict (for an EXIT trap)
server_kill() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
  fi
  srv_pid=
  srv_log=
}
server_rss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$srv_pid/status" 2>/dev/null; } # KB
# memory_errors LOG... : true when a log holds a sanitizer or valgrind report; show_memory_errors shows them
memory_errors() { grep -Eq 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|==[0-9]+== [A-Z]' "$@" 2>/dev/null; }
show_memory_errors() { grep -E -A5 'Sanitizer|runtime error|==[0-9]+==' "$@" | head -20 | sed 's/^/    /'; }
expect_no_memory_errors() { # LOG... : one check over the logs
  if memory_errors "$@"; then
    not_ok "a memory error was reported"
    show_memory_errors "$@"
  else ok "no memory error reported"; fi
}
# curl_status CURL-ARGS... : prints the status (bounded in time); the body is in $tmp/b, the headers in $tmp/h
curl_status() { curl -s -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' --max-time $((30 * slow)) "$@"; }
expect_code() { # want label curl-args...
  local want=$1 label=$2
  shift 2
  local got
  got=$(curl_status "$@")
  if [ "$got" = "$want" ]; then ok "$label"; else
    not_ok "$label: status $got, expected $want"
    head -c 300 "$tmp/b" | sed 's/^/    /'
    echo
  fi
}
json_check() { # label python-expression-on-d file
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); assert eval(sys.argv[1]), d' "$2" "$3" 2>"$tmp/pyerr"; then ok "$1"; else
    not_ok "$1"
    tail -2 "$tmp/pyerr" | sed 's/^/    /'
    head -c 400 "$3" | sed 's/^/    /'
    echo
  fi
}

# ---- tests/server/hold_server.py: an upstream that holds requests until the test releases them ----
hold_pid=
# hold_start DIR : starts it on a free port (its errors in DIR.err); sets $hold_pid $hold_port; fails
# when it did not come up
hold_start() {
  mkdir -p "$1"
  python3 "$top_srcdir/tests/server/hold_server.py" "$1" 2>"$1.err" &
  hold_pid=$!
  for _ in $(seq 100); do [ -s "$1/port" ] && break; sleep 0.05; done
  hold_port=$(cat "$1/port" 2>/dev/null)
  [ -n "$hold_port" ] || { cat "$1.err" >&2; return 1; }
}
hold_stop() {
  [ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null && wait "$hold_pid" 2>/dev/null
  hold_pid=
}
# hold_wait DIR N : until N requests have arrived at the hold server (bounded)
hold_wait() {
  for _ in $(seq $((600 * slow))); do
    [ "$(cat "$1/arrived" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}
