#!/usr/bin/env bash
# tests/plugin/outoftree.sh - plugins build out of tree against the installed plugin ABI:
# `make install DESTDIR=...` from the build tree, then builds with nothing but
# `pkg-config --cflags --libs miniatom` of that install (and the system's libcurl for the HTTP
# client) - no -I into the source tree: the built-in Disk and HTTP connectors from copies of their
# sources, the shape plugin upper.c and the listener plugin hello_listener.c. The connectors are
# loaded by `miniatom plugins` and `miniatom run --plugins`; the listener by `miniatom serve`, with
# its settings (hello.*) checked by --check-config, its authentication from auth.hello.*, next to
# /ws/ and /fs/, and called by the out-of-tree HTTP connector.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/install.sh"
here=$top_srcdir/tests/plugin
tmp=$(mktemp -d)
srv_pid=
stop_server() { # SIGTERM: the server must exit 0, its log free of sanitizer and valgrind reports
  [ -n "$srv_pid" ] || return 0
  kill "$srv_pid" 2>/dev/null
  wait "$srv_pid" 2>/dev/null; local rc=$?
  srv_pid=
  if [ $rc = 0 ]; then ok "the server stops on SIGTERM (exit 0)"; else not_ok "the server stopped with exit $rc"; tail -5 "$tmp/serve.log" | sed 's/^/    /'; fi
  if grep -Eq 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|==[0-9]+== [A-Z]' "$tmp/serve.log"; then
    not_ok "the server log reports a memory error"; grep -E -A5 'Sanitizer|runtime error|==[0-9]+==' "$tmp/serve.log" | head -20 | sed 's/^/    /'
  fi
}
trap 'stop_server >/dev/null; rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3 make; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
slow=1; [ "${MA_WRAP:-}" = valgrind ] && slow=10
CC=${CC:-cc}

# ---- 1. the install: every public header, and a miniatom.pc that gives them alone ----
install_miniatom "$tmp/root"
pcflags=$(pc_miniatom --cflags --libs)
incdir=${pcflags#-I}; incdir=${incdir%% *}
missing=""
for h in "$top_srcdir"/include/miniatom/*.h; do [ -f "$incdir/miniatom/$(basename "$h")" ] || missing="$missing $(basename "$h")"; done
if [ -d "$incdir/miniatom" ] && [ -z "$missing" ]; then ok "make install installs every public header (include/miniatom/*.h)"; else not_ok "headers not installed:$missing (in '$incdir')"; fi
case "$pcflags" in
  "-I$tmp/root/"*) ok "pkg-config --cflags --libs miniatom names the installed headers: $pcflags" ;;
  *) not_ok "pkg-config --cflags --libs miniatom gives '$pcflags'" ;;
esac
case "$pcflags" in *"$top_srcdir"* | *libxml2*) not_ok "miniatom.pc points into the source tree or at libxml2: $pcflags" ;; *) ok "miniatom.pc needs no source tree and no libxml2" ;; esac
if [ "$(pc_miniatom --modversion)" = "$("${RUN[@]}" version | cut -d' ' -f2)" ]; then ok "miniatom.pc has the version of the binary"; else not_ok "miniatom.pc version $(pc_miniatom --modversion)"; fi

# build NAME OUT DIR SOURCES... [-- EXTRA FLAGS]: compiles in DIR with the installed flags only
CF=(-std=c11 -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -shared -fvisibility=hidden $(plugin_sanitizers))
build() {
  local name=$1 out=$2 dir=$3; shift 3
  local src=() extra=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do src+=("$1"); shift; done
  [ $# -gt 0 ] && shift && extra=("$@")
  mkdir -p "$(dirname "$out")"
  if (cd "$dir" && $CC "${CF[@]}" "${src[@]}" $(pc_miniatom --cflags --libs) ${extra[@]+"${extra[@]}"} -o "$out") 2>"$tmp/cc.err"; then
    ok "$name builds out of tree with pkg-config miniatom"
  else
    not_ok "$name does not build out of tree"; head -20 "$tmp/cc.err" | sed 's/^/    /'
  fi
}

# ---- 2. built-in connectors from copies of their sources, as plugins ----
mkdir -p "$tmp/src/disk" "$tmp/src/http"
cp "$top_srcdir"/connectors/disk/*.c "$tmp/src/disk/"
cp "$top_srcdir"/connectors/http/*.c "$top_srcdir"/connectors/common/httpc.[ch] "$tmp/src/http/"
build "the Disk connector" "$tmp/conn/disk.so" "$tmp/src/disk" disk.c plugin.c
build "the HTTP connector" "$tmp/conn/http.so" "$tmp/src/http" http.c plugin.c httpc.c -- $(pkg-config --cflags --libs libcurl)
"${RUN[@]}" plugins --plugins "$tmp/conn" >"$tmp/plugs" 2>&1
if grep -qx "  $tmp/conn/disk.so" "$tmp/plugs" && grep -qx "  $tmp/conn/http.so" "$tmp/plugs" \
   && grep -q '^      connection.<id or name>.directory (string)' "$tmp/plugs"; then
  ok "miniatom plugins loads both and lists their connection fields"
else not_ok "miniatom plugins --plugins with the connectors"; head -20 "$tmp/plugs" | sed 's/^/    /'; fi
mkdir -p "$tmp/files"; printf A >"$tmp/files/a.txt"; printf B >"$tmp/files/b.txt"; printf C >"$tmp/files/c.csv"
"${RUN[@]}" run --deploy "$top_srcdir/tests/connectors/disk/deploy" --plugins "$tmp/conn" --data "$tmp/rundata" --out "$tmp/diskout" \
  --set "connection.Files.directory=$tmp/files" "Disk Get Text" >/dev/null 2>"$tmp/disk.err"
c=$?
if [ $c = 0 ] && [ "$(cat "$tmp/diskout/0001.dat" "$tmp/diskout/0002.dat" 2>/dev/null)" = AB ] && [ ! -e "$tmp/diskout/0003.dat" ]; then
  ok "miniatom run --plugins runs a Disk Get with the out-of-tree connector"
else not_ok "Disk Get with the plugin (exit $c)"; head -5 "$tmp/disk.err" | sed 's/^/    /'; fi

# ---- 3. the shape plugin upper.c ----
build "upper.c (a shape type)" "$tmp/shape/upper.so" "$here" upper.c
printf 'hello plugin' >"$tmp/in.txt"
out=$("${RUN[@]}" run --deploy "$here/deploy" --plugins "$tmp/shape" Shout --input "$tmp/in.txt" 2>"$tmp/shout.err")
if [ "$out" = "HELLO PLUGIN!" ]; then ok "a process runs the out-of-tree shape"; else not_ok "Shout with upper.so: '$out'"; head -5 "$tmp/shout.err" | sed 's/^/    /'; fi

# ---- 4. the listener plugin hello_listener.c ----
build "hello_listener.c (a listener type)" "$tmp/listen/hello.so" "$here" hello_listener.c
"${RUN[@]}" plugins --plugins "$tmp/listen" >"$tmp/lplugs" 2>&1
if grep -qx '  hello /hello/' "$tmp/lplugs" && grep -q '^      hello.greeting (string, default Hello): ' "$tmp/lplugs" \
   && grep -q '^      hello.run (bool, default true): ' "$tmp/lplugs"; then
  ok "miniatom plugins lists the listener type, its prefix and its settings"
else not_ok "miniatom plugins --plugins with hello.so"; cat "$tmp/lplugs" | sed 's/^/    /'; fi
# the deployment: the examples (WSS and FSS) and a process whose shape type is not loaded
mkdir -p "$tmp/deploy"
cp "$top_srcdir"/processes/*.xml "$here"/deploy/*.xml "$tmp/deploy/"
nproc=$(grep -l 'type="process"' "$tmp"/deploy/*.xml | wc -l)
if "${RUN[@]}" serve --check-config --plugins "$tmp/listen" --deploy "$top_srcdir/processes" --set hello.greeting=Hi --set hello.run=false \
     >"$tmp/cc1.out" 2>&1; then
  ok "serve --check-config accepts the listener's own keys"
else not_ok "serve --check-config with hello.greeting"; head -5 "$tmp/cc1.out" | sed 's/^/    /'; fi
"${RUN[@]}" serve --check-config --plugins "$tmp/listen" --deploy "$top_srcdir/processes" --set hello.colour=red --set hello.run=maybe >"$tmp/cc2.out" 2>&1
c=$?
if [ $c = 2 ] && grep -q -- "--set: hello.colour: unknown key (the hello.\* keys are " "$tmp/cc2.out" \
   && grep -q -- "--set: hello.run: expected true or false, not 'maybe'" "$tmp/cc2.out"; then
  ok "serve --check-config refuses an unknown hello.* key and a bad value, naming them"
else not_ok "serve --check-config with hello.colour (exit $c)"; head -5 "$tmp/cc2.out" | sed 's/^/    /'; fi
"${RUN[@]}" serve --check-config --deploy "$top_srcdir/processes" --set hello.greeting=Hi >"$tmp/cc3.out" 2>&1
c=$?
if [ $c = 2 ] && grep -q -- "--set: hello.greeting: unknown key" "$tmp/cc3.out"; then ok "without the plugin, hello.* is no key of this server"
else not_ok "hello.greeting without the plugin: exit $c"; head -3 "$tmp/cc3.out" | sed 's/^/    /'; fi

hash=$(printf 's3cret-pw\n' | "${RUN[@]}" serve --hash-token 2>/dev/null)
"${RUN[@]}" serve --plugins "$tmp/listen" --deploy "$tmp/deploy" --listen 127.0.0.1:0 --data "$tmp/data" \
  --set hello.greeting=Bonjour --set auth.hello.mode=basic --set "auth.hello.user.tester=$hash" 2>"$tmp/serve.log" &
srv_pid=$!
port=
for _ in $(seq $((200 * slow))); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$tmp/serve.log" 2>/dev/null | grep -o '"port":[0-9]*' | cut -d: -f2)
  [ -n "$port" ] && break
  kill -0 "$srv_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$port" ]; then not_ok "miniatom serve starts with the listener plugin"; head -20 "$tmp/serve.log" | sed 's/^/    /'; finish; exit 1; fi
ok "miniatom serve starts with the listener plugin"
base=http://127.0.0.1:$port
code() { curl -s -o "$tmp/b" -w '%{http_code}' "$@"; }
json() { # label python-expression-on-d
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); assert eval(sys.argv[1]), d' "$2" "$tmp/b" 2>"$tmp/pyerr"; then ok "$1"
  else not_ok "$1"; tail -1 "$tmp/pyerr" | sed 's/^/    /'; fi
}
st=$(code "$base/hello/x")
if [ "$st" = 401 ]; then ok "auth.hello.mode=basic: the server asks for credentials under /hello/"; else not_ok "GET /hello/x without credentials: $st"; fi
st=$(code -u tester:s3cret-pw "$base/hello/x")
[ "$st" = 200 ] || not_ok "GET /hello/x: status $st"
json "GET /hello/x answers from the plugin: its greeting setting, the path, the processes it counted" \
  "d == {'greeting': 'Bonjour', 'path': '/hello/x', 'processes': $nproc}"
st=$(code -u tester:s3cret-pw "$base/hello/run/Hello%20World?DPP_NAME=Ada")
[ "$st" = 200 ] || not_ok "GET /hello/run/Hello World: status $st"
json "GET /hello/run/PROCESS runs it through ma_listener_run and returns its documents" \
  "d['process'] == 'Hello World' and d['documents'][0] == \"Hello, Ada! It's Hello World.\" and len(d['executionId']) > 0"
st=$(code -u tester:s3cret-pw "$base/hello/run/Shout")
if [ "$st" = 503 ]; then ok "a process that cannot run here is answered by ma_listener_answer_run (503)"; else not_ok "GET /hello/run/Shout: status $st"; fi
json "and its reasons name the missing shape type" "'uppercase' in json.dumps(d)"
st=$(code -u tester:s3cret-pw "$base/hello/run/Nope")
if [ "$st" = 404 ]; then ok "an unknown process: 404 in the server's error format"; else not_ok "GET /hello/run/Nope: status $st"; fi
st=$(code -u tester:s3cret-pw -X POST "$base/hello/x")
if [ "$st" = 405 ]; then ok "POST under /hello/: 405"; else not_ok "POST /hello/x: status $st"; fi
st=$(code -X POST -H 'Content-Type: application/json' -d '{"id":"A-1001","customer":{"name":"ACME Corp"},"qty":3}' "$base/ws/rest/order")
if [ "$st" = 200 ] && grep -q '"orderId":"A-1001"' "$tmp/b"; then ok "/ws/ still answers next to the plugin"; else not_ok "POST /ws/rest/order: status $st"; fi
st=$(code -X POST "$base/fs/ExampleService/metadata")
if [ "$st" = 200 ]; then ok "/fs/ still answers next to the plugin"; else not_ok "POST /fs/ExampleService/metadata: status $st"; fi
# the out-of-tree HTTP connector calls the out-of-tree listener, with Basic authentication
"${RUN[@]}" run --deploy "$top_srcdir/tests/connectors/http/deploy" --plugins "$tmp/conn" --data "$tmp/rundata" --out "$tmp/httpout" \
  --set "connection.Test Server Basic.url=$base/hello" --set "connection.Test Server Basic.password=s3cret-pw" "HTTP Basic Auth" \
  >/dev/null 2>"$tmp/http.err"
c=$?
cp "$tmp/httpout/0001.dat" "$tmp/b" 2>/dev/null || : >"$tmp/b"
if [ $c = 0 ]; then json "the out-of-tree HTTP connector gets the listener's answer" "d['path'] == '/hello/auth' and d['greeting'] == 'Bonjour'"
else not_ok "HTTP Basic Auth against /hello/ (exit $c)"; head -5 "$tmp/http.err" | sed 's/^/    /'; fi
if grep -q '"msg":"hello listener deployed".*"processes":'"$nproc" "$tmp/serve.log"; then ok "the plugin logs through ma_server_log"; else not_ok "no 'hello listener deployed' line in the server log"; fi
stop_server
finish
