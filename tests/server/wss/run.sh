#!/usr/bin/env bash
# tests/server/wss/run.sh - the Web Services Server listener (connectors/wss, docs/wss.md) through the
# real `miniatom serve` on an ephemeral loopback port with a temporary data folder: /ws/simple and
# /ws/rest routes of deploy/ (every input and output type, multi splitting, path parameters, query and
# header properties, the status and header properties, 400/404/405/500/503/504, the debug override),
# the order example of processes/, 64 parallel clients and SIGHUP reloads. Needs curl and python3.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
MINIATOM=${MINIATOM:-$top_srcdir/miniatom}
. "$top_srcdir/tests/lib.sh"
here=$top_srcdir/tests/server/wss
tmp=$(mktemp -d)
pids=()
cleanup() {
  server_kill
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
# the server's sync timeout, short for the 504 test

# ---- the slow upstream, the deployment, a free port, the server ----
python3 "$here/slow_server.py" "$tmp/slowport" 2>"$tmp/slow.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/slowport" ] && break; sleep 0.05; done
[ -s "$tmp/slowport" ] || { echo "FAIL: the slow server did not start" >&2; exit 1; }
mkdir -p "$tmp/deploy" "$tmp/data"
cp "$here"/deploy/*.xml "$top_srcdir"/processes/order-api*.xml "$tmp/deploy/"
sed -i "s#@SLOW_URL@#http://127.0.0.1:$(cat "$tmp/slowport")#" "$tmp/deploy/conn-slow.xml"
if server_start "$tmp/server.log" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.sync_timeout=1s; then
  ok "miniatom serve is up on $base"
else
  not_ok "miniatom serve is up"; sed 's/^/    /' "$tmp/server.log" | head -30; finish; exit 1
fi

# req LABEL STATUS CURL-ARGS... : one request; its status must be STATUS. Leaves $tmp/h (headers) and $tmp/b (body).
req() {
  local label=$1 want=$2; shift 2
  local got
  got=$(curl -s -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@")
  if [ "$got" = "$want" ]; then return 0; fi
  not_ok "$label: status $got, expected $want"; sed 's/^/    /' "$tmp/b" | head -5; echo; return 1
}
body_is() { # LABEL EXPECTED
  if [ "$(cat "$tmp/b")" = "$2" ]; then ok "$1"; else not_ok "$1: body"; echo "    got:  $(head -c 400 "$tmp/b")"; echo "    want: $2"; fi
}
body_has() { # LABEL TEXT...
  local l=$1; shift
  for t in "$@"; do grep -qF -- "$t" "$tmp/b" || { not_ok "$l: body lacks '$t'"; echo "    got: $(head -c 400 "$tmp/b")"; return; }; done
  ok "$l"
}
header_is() { # LABEL NAME VALUE
  local v
  v=$(tr -d '\r' <"$tmp/h" | awk -v n="$2" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(n) ":") == 1 {sub(/^[^:]*: */, ""); print; exit}')
  if [ "$v" = "$3" ]; then ok "$1"; else not_ok "$1: header $2 is '$v', expected '$3'"; fi
}
json_error() { # LABEL MESSAGE-PART [id|null]: {"error": ..., "executionId": ...}
  python3 - "$tmp/b" "$2" "${3:-any}" <<'EOF' && ok "$1" || not_ok "$1: $(head -c 300 "$tmp/b")"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert sys.argv[2] in d["error"], d
if sys.argv[3] == "id": assert re.match(r"^execution-[0-9a-f-]{36}-\d{4}\.\d\d\.\d\d$", d["executionId"]), d
if sys.argv[3] == "null": assert d.get("executionId") is None, d
EOF
}
json_check_b() { # LABEL PYTHON-EXPRESSION-ON-d: the body $tmp/b as JSON
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); assert eval(sys.argv[1]), d' "$2" "$tmp/b" 2>"$tmp/pyerr"; then ok "$1"
  else not_ok "$1"; tail -2 "$tmp/pyerr" | sed 's/^/    /'; fi
}
J=(-H 'Content-Type: application/json')

# ---- /ws/simple, input none: method, query and header properties ----
req "GET none" 200 "$base/ws/simple/getStatus?name=ada&name=bob&_boomi_debug=false" -H 'x-test: hello' -H 'Authorization: Basic dTpw' &&
  body_is "input none: inmethod, query_ (first value), inheader_ (canonical name), DPP inmethod, inpath; Authorization not passed" \
    '{"method":"GET","q":"ada","test":"hello","dppMethod":"GET","path":"/ws/simple/getStatus","auth":"","contentType":""}'
header_is "output singlejson: the operation's content type" Content-Type application/json
req "POST to a GET listener" 405 -X POST "$base/ws/simple/getStatus" && { header_is "405 names the method" Allow GET; json_error "405 body" "not allowed" null; }
req "unknown simple path" 404 "$base/ws/simple/getstatus" && json_error "404: the simple path is case-sensitive" "no web service" null
req "HEAD like GET" 200 -I "$base/ws/simple/getStatus" && ok "HEAD is accepted where GET is"

# ---- singledata ----
req "singledata" 200 "$base/ws/simple/executeEchoData" -H 'Content-Type: text/csv' --data-binary $'a,b\n1,2\n' &&
  body_is "singledata: the body as it came" $'a,b\n1,2'
header_is "singledata: the document's content type" Content-Type text/csv

# ---- singlexml / multixml ----
req "singlexml" 200 "$base/ws/simple/createXmlDoc" -H 'Content-Type: application/xml' --data-binary '<order id="1"><line/></order>' &&
  body_is "singlexml: echoed" '<order id="1"><line/></order>'
req "singlexml not XML" 400 "$base/ws/simple/createXmlDoc" --data-binary '<order><line></order>' &&
  json_error "singlexml: 400 says why" "not valid XML (input type singlexml)" null
req "singlexml empty" 400 "$base/ws/simple/createXmlDoc" --data-binary '' && json_error "singlexml: an empty body is 400" "empty" null
req "singlexml entities" 400 "$base/ws/simple/createXmlDoc" --data-binary '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>' &&
  json_error "singlexml: entity declarations are refused" "entities" null
req "multixml" 200 "$base/ws/simple/createXmlItems" --data-binary '<?xml version="1.0"?><list xmlns:p="urn:p"><p:item n="1">one</p:item><!-- c --><item>two</item>text<item/></list>' &&
  body_is "multixml: one document per child of the root (namespaces kept), wrapped in <List>" \
    '<List><p:item xmlns:p="urn:p" n="1">one</p:item><item>two</item><item/></List>'
header_is "multixml: application/xml without a responseContentType" Content-Type application/xml
req "multixml empty root" 200 "$base/ws/simple/createXmlItems" --data-binary '<list/>' && body_is "multixml: no child, no document" '<List></List>'

# ---- singlejson / multijson ----
req "singlejson" 200 "$base/ws/simple/createJsonDoc" "${J[@]}" --data-binary '{"a":[1,2.5e3,true,null,"\u00e9\ud83d\ude00"]}' &&
  body_is "singlejson: echoed" '{"a":[1,2.5e3,true,null,"\u00e9\ud83d\ude00"]}'
for bad in '{"a":[1,2,]}' '{"a":01}' '{"a":1} x' '{"a":"\ud800"}' "{'a':1}" '' $'{"a":"\x01"}'; do
  req "singlejson bad: $bad" 400 "$base/ws/simple/createJsonDoc" "${J[@]}" --data-binary "$bad" &&
    json_error "singlejson: 400 for $(printf %q "$bad")" "not valid JSON (input type singlejson)" null
done
req "singlejson position" 400 "$base/ws/simple/createJsonDoc" --data-binary $'{\n  "a": tru\n}' && json_error "the 400 says where" "line 2, column 8" null
req "multijson" 200 "$base/ws/simple/upsertJsonItems" "${J[@]}" --data-binary ' [ {"a":1} , [2,3], "s", 4 ] ' &&
  body_is "multijson: one document per array item, answered as an array" '[{"a":1},[2,3],"s",4]'
req "multijson count" 200 "$base/ws/simple/executeCountItems" "${J[@]}" --data-binary '[{"a":1},{"b":2},{"c":3}]' &&
  body_is "multijson: three documents (Document Count 3, each JSON); singledata output concatenates them" \
    '3:application/json;3:application/json;3:application/json;'
req "multijson object" 200 "$base/ws/simple/executeCountItems" "${J[@]}" --data-binary '{"one":1}' && body_is "multijson: an object is one document" '1:application/json;'
req "multijson empty array" 200 "$base/ws/simple/upsertJsonItems" "${J[@]}" --data-binary '[]' && body_is "multijson: [] gives no document" '[]'
req "multijson bad" 400 "$base/ws/simple/upsertJsonItems" --data-binary '[1,' && json_error "multijson: 400" "input type multijson" null

# ---- /ws/rest: path parameters, captured headers, methods, precedence, overrides ----
req "rest {id}" 200 "$base/ws/rest/test/items/42" -H 'x-api-key: k1' -H 'X-Other: o' &&
  body_is "rest: param_id as document and process property; only captured headers, named as listed" \
    '{"id":"42","dppId":"42","line":"","apiKey":"k1","other":"","method":"GET"}'
req "rest two params" 200 "$base/ws/rest/test/items/a%20b/lines/7" &&
  body_is "rest: two parameters, decoded" '{"id":"a b","dppId":"a b","line":"7","apiKey":"","other":"","method":"GET"}'
req "rest param inside a segment" 200 "$base/ws/rest/test/files/file-x1.json" && body_has "rest: {id} inside a segment" '"id":"x1"'
req "rest literal before param" 200 "$base/ws/rest/test/items/special" && body_has "rest: a literal segment wins over {id}" '"path":"/ws/rest/test/items/special"'
req "rest PUT" 200 -X PUT "$base/ws/rest/test/items/9" "${J[@]}" --data-binary '{"x":1}' && body_is "rest: same path, another method and process" '{"x":1}'
req "rest DELETE" 405 -X DELETE "$base/ws/rest/test/items/9" && header_is "rest: 405 lists the methods of the path" Allow "GET, PUT"
req "rest trailing slash" 200 "$base/ws/rest/test/items/42/" && ok "rest: a trailing slash is ignored"
req "rest unknown" 404 "$base/ws/rest/test/nothing" && json_error "rest: 404" "no web service" null
req "rest override inputType" 400 "$base/ws/rest/test/raw" --data-binary '{"a":' && json_error "rest: the route's inputType override (singlejson) applies" "input type singlejson" null
req "rest create" 201 "$base/ws/rest/test/items" "${J[@]}" --data-binary '{"name":"n"}' && {
  header_is "outstatus 201" Location /ws/rest/test/items/7
  header_is "outheader_ adds headers" X-Created yes
  body_is "the body still comes back" '{"name":"n"}'
}

# ---- output none, bad status property, execution errors ----
req "output none" 202 "$base/ws/simple/updateAccepted" "${J[@]}" --data-binary '{}' && body_is "output none: empty body, status from outstatus" ''
req "bad outstatus" 500 "$base/ws/simple/executeBadStatus" && json_error "an invalid outstatus is a 500" "outstatus" id
req "execution error" 500 "$base/ws/simple/executeFail?order=42" && json_error "an execution error is a 500 with its message and execution id" "order 42 rejected" id
grep -q 'Traceback\|\.c:[0-9]' "$tmp/b" && not_ok "the 500 body shows internals" || ok "the 500 body holds no internals"

# ---- debug override: without authentication the flag is ignored (decision 017); tests/server/debug.sh
# runs debug runs for an allowed user: general mode, recorded, X-Execution-Id ----
req "debug header" 200 "$base/ws/simple/getStatus" -H 'X-Boomi-Debug: true' && {
  if grep -qi '^x-execution-id:' "$tmp/h"; then not_ok "X-Boomi-Debug without authentication ran a debug run"; else
    ok "X-Boomi-Debug without authentication: served as without it (no debug run)"; fi
}
req "debug query" 200 "$base/ws/simple/getStatus?_boomi_debug=true" && {
  if grep -qi '^x-execution-id:' "$tmp/h"; then not_ok "_boomi_debug=true without authentication ran a debug run"; else
    ok "_boomi_debug=true without authentication: served as without it"; fi
}
count_runs() { "${RUN[@]}" executions --data "$tmp/data" --process "WSS Get Status" 2>/dev/null | grep -o 'execution-[0-9a-f-]*-[0-9.]*[0-9]' | sort -u | wc -l; }
n_before=$(count_runs)
req "low latency" 200 "$base/ws/simple/getStatus" && sleep 0.3
n_after=$(count_runs)
[ "$n_before" = "$n_after" ] && ok "without debug, a low-latency execution is not recorded" || not_ok "low latency was recorded ($n_before -> $n_after)"

# ---- past the sync timeout: 504; one at a time: 503 ----
touch "$tmp/slowport.hold" # the upstream holds GET /slow (the execution stays in flight) until the test lets it answer
(curl -s --max-time 60 -o "$tmp/slow1" -w '%{http_code}' "$base/ws/simple/executeSlow" >"$tmp/slow1.code") &
for _ in $(seq 600); do [ -s "$tmp/slowport.asked" ] && break; sleep 0.05; done
req "second while running" 503 "$base/ws/simple/executeSlow" && json_error "allowSimultaneous=false: a second request gets 503" "" null
wait $!
upstream=$(cat "$tmp/slowport.answered" 2>/dev/null | wc -l) # the upstream's answers when the 504 had come
rm -f "$tmp/slowport.hold"
if [ "$(cat "$tmp/slow1.code")" = 504 ]; then ok "past the sync timeout: 504"; else not_ok "past the sync timeout: $(cat "$tmp/slow1.code")"; cat "$tmp/slow1"; echo; fi
cp "$tmp/slow1" "$tmp/b"; json_error "504 names the execution" "sync timeout" id
[ "$(cat "$tmp/slow1.code")" = 504 ] && [ "$upstream" = 0 ] && ok "504 came before the upstream answered" || not_ok "504: the upstream had answered $upstream time(s) before"
for _ in $(seq 600); do [ -s "$tmp/slowport.answered" ] && break; sleep 0.05; done # the cancelled execution gets its answer and ends

# ---- a process that cannot run here: served 503 with its reasons, listed by /health ----
req "not runnable" 503 "$base/ws/simple/getBroken" && json_check_b "a process that cannot run: 503 naming it and why" \
  "d['process']=='WSS Broken' and 'not runnable' in d['error'] and any('nosuchshape' in r and 'Mystery' in r for r in d['reasons']) and 'executionId' not in d"
req "health" 200 "$base/health" && json_check_b "/health lists the process that cannot run, with its reasons" \
  "[p['name'] for p in d['notRunnable']]==['WSS Broken'] and 'nosuchshape' in d['notRunnable'][0]['reasons'][0]"
grep '"process not runnable' "$tmp/server.log" | grep -q 'WSS Broken.*shape2.*nosuchshape' && ok "the log names the process that cannot run and every reason" ||
  { not_ok "the start-up log lacks the process that cannot run"; grep -i 'runnable' "$tmp/server.log" | head -3 | sed 's/^/    /'; }
req "its neighbours still run" 200 "$base/ws/simple/getStatus" && ok "the other processes are served"

# ---- the order example ----
req "order" 200 "$base/ws/rest/order" "${J[@]}" --data-binary @"$MA_SHARED/bench/body.json" &&
  body_is "order API: the same acknowledgement as the Node-RED flow (source aside)" \
    '{"orderId":"A-1001","customer":"ACME Corp","qty":3,"status":"accepted","source":"miniatom"}'
header_is "order API: application/json" Content-Type application/json
req "order simple" 200 "$base/ws/simple/createOrder" "${J[@]}" --data-binary @"$MA_SHARED/bench/body.json" && body_has "order API at /ws/simple/createOrder too" '"orderId":"A-1001"'
req "order bad JSON" 400 "$base/ws/rest/order" "${J[@]}" --data-binary '{"id":' && json_error "order API: malformed JSON is 400" "not valid JSON" null
req "order not an object" 500 "$base/ws/rest/order" "${J[@]}" --data-binary '[1]' && json_error "order API: not an object is 500" "an order must be a JSON object" id
req "order GET" 405 "$base/ws/rest/order" && ok "order API: GET is 405"

# ---- 64 parallel clients, 20 requests each on one connection ----
mkdir -p "$tmp/par"
client() {
  local i=$1 args=() k
  for k in $(seq 20); do
    args+=(-H 'Content-Type: application/json' --data-binary "{\"id\":\"C-$i-$k\",\"customer\":{\"name\":\"c$i\"},\"qty\":$k}" -w '\n%{http_code}\n' "$base/ws/rest/order")
    [ "$k" -lt 20 ] && args+=(--next)
  done
  curl -s "${args[@]}" >"$tmp/par/$i" 2>&1
}
cpids=()
for i in $(seq 64); do client "$i" & cpids+=($!); done
for j in "${cpids[@]}"; do wait "$j"; done
bad=0
for i in $(seq 64); do
  for k in $(seq 20); do
    grep -qF "{\"orderId\":\"C-$i-$k\",\"customer\":\"c$i\",\"qty\":$k,\"status\":\"accepted\",\"source\":\"miniatom\"}" "$tmp/par/$i" || bad=$((bad + 1))
  done
  [ "$(grep -cx 200 "$tmp/par/$i")" = 20 ] || bad=$((bad + 1))
done
[ $bad = 0 ] && ok "64 parallel clients x 20 requests: every answer right and its own" || not_ok "64 parallel clients: $bad wrong answers"
kill -0 "$srv_pid" 2>/dev/null && ok "the server is still up" || not_ok "the server died"

# ---- reload (SIGHUP): a second listener at the same path is refused, the old deployment stays ----
sed -e 's/be04a7e1-5b14-5c78-85a3-c210be0a2ca0/be04a7e1-5b14-5c78-85a3-c210be0a2cff/' -e 's/name="WSS Get Status"/name="WSS Get Status Twin"/' \
  "$tmp/deploy/p-get-status.xml" >"$tmp/deploy/p-twin.xml"
kill -HUP "$srv_pid"
for _ in $(seq 60); do grep -q 'both listen at /ws/simple/getStatus' "$tmp/server.log" && break; sleep 0.05; done
grep -q 'both listen at /ws/simple/getStatus' "$tmp/server.log" && ok "reload: two listeners at one /ws/simple path make the deployment invalid, and the log says which" ||
  { not_ok "reload: the duplicate path is not reported"; tail -5 "$tmp/server.log" | sed 's/^/    /'; }
req "after a refused reload" 200 "$base/ws/simple/getStatus" && ok "reload: the old deployment still answers"
rm "$tmp/deploy/p-twin.xml"
sed -i 's/objectName="status"/objectName="statusV2"/' "$tmp/deploy/op-get-status.xml"
kill -HUP "$srv_pid"
for _ in $(seq 60); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ws/simple/getStatusV2")" = 200 ] && break; sleep 0.05; done
req "after a good reload" 200 "$base/ws/simple/getStatusV2" && req "old path after reload" 404 "$base/ws/simple/getStatus" &&
  ok "reload: the new deployment's paths replace the old ones"

# ---- stop ----
kill -TERM "$srv_pid"
for _ in $(seq $((600 * ${slow:-1}))); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$srv_pid" 2>/dev/null && not_ok "SIGTERM stops the server" || ok "SIGTERM stops the server"
wait "$srv_pid" 2>/dev/null
code=$?
srv_pid=
# under MA_WRAP=valgrind a memory error or leak makes this 99
[ "$code" = 0 ] && ok "the server exits with status 0" || { not_ok "the server exits with status $code"; tail -30 "$tmp/server.log" | sed 's/^/    /'; }
finish
