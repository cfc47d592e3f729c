#!/usr/bin/env bash
# tests/connectors/flowclient/run.sh - the Flow Client connector (connectors/flowclient):
#   1. against fakeflow.py, a small stateful fake of the Flow run API that validates every request
#      body against the schemas of shared/spec/flow-platform-openapi.json: initialize + invoke, the
#      ManyWhoTenant header, outputs, WAIT, flow inputs, credentials, application errors with and
#      without returnApplicationErrors, the password kept out of every output;
#   2. against a Prism mock of the same spec (prism mock --errors; @stoplight/prism-cli installed
#      with npm into $MA_PRISM_DIR, default /tmp/miniatom-prism, when missing): the connector's two
#      requests reach the spec's endpoints and its example responses give an output document.
#      Prism does not validate the run endpoints' request bodies (it answers 200 to
#      {"flowId":5,"bogus":1}), hence the fake. Skipped, and said so, when npm cannot install it.
# Uses the built-in connector when `miniatom plugins` lists it, else builds it as a plugin.
. "$(dirname "$0")/../../lib.sh"
need_shared
here=$top_srcdir/tests/connectors/flowclient
spec=$MA_SHARED/spec/flow-platform-openapi.json
tenant=55e9b01a-fc9e-4c66-aaa2-9360aea9eaaf
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
[ -f "$spec" ] || { echo "FAIL: $spec is missing" >&2; exit 1; }

plug=()
if "$MINIATOM" plugins 2>/dev/null | grep -qx '  flowclient'; then
  echo "# the flowclient connector is built in"
else
  CC=${CC:-cc}
  sanit=""
  if nm -D "$MINIATOM" 2>/dev/null | grep -q __asan_init || ldd "$MINIATOM" 2>/dev/null | grep -q libasan; then sanit="-fsanitize=address,undefined"; fi
  mkdir -p "$tmp/plugins"
  if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -shared -fPIC $sanit -I"$top_srcdir/include" \
      -I"$top_srcdir/connectors/common" "$top_srcdir/connectors/flowclient/flowclient.c" \
      "$top_srcdir/connectors/flowclient/plugin.c" "$top_srcdir/connectors/common/httpc.c" \
      $(pkg-config --cflags --libs libcurl jansson) -o "$tmp/plugins/flowclient.so" 2>"$tmp/cc.err"; then
    ok "the flowclient connector builds as a plugin"
  else
    not_ok "the flowclient connector builds as a plugin"; cat "$tmp/cc.err"; finish; exit 1
  fi
  plug=(--plugins "$tmp/plugins")
fi

run() { # LABEL ARGS...
  local label=$1; shift
  local d=$tmp/$label
  rm -rf "$d"; mkdir -p "$d"
  (cd "$here" && "${RUN[@]}" run --deploy deploy "${plug[@]}" --data "$d/data" --out "$d/out" "$@" >"$d/stdout" 2>"$d/stderr")
  echo $? >"$d/code"
}
code() { cat "$tmp/$1/code"; }
doc() { cat "$tmp/$1/out/$(printf '%04d' "$2").dat" 2>/dev/null; }
show_err() { sed 's/^/    /' "$tmp/$1/stderr" | head -8; }
# jq-like check with python: doc LABEL N must satisfy the expression E (d = the parsed document)
check() {
  local f=$tmp/$1/out/$(printf '%04d' "$2").dat
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$f" "$3" 2>/dev/null
}
inp() { printf '%s' "$2" >"$tmp/$1.json"; echo "$tmp/$1.json"; }

# ---- 1. the fake ----
log=$tmp/flow.log
python3 "$here/fakeflow.py" "$spec" "$tmp/fport" "$log" "$tenant" 2>"$tmp/fake.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/fport" ] && break; sleep 0.05; done
[ -s "$tmp/fport" ] || { echo "FAIL: fakeflow.py did not start" >&2; cat "$tmp/fake.err" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$tmp/fport")"
done_id=a1b2c3d4-0000-4000-8000-000000000001
wait_id=a1b2c3d4-0000-4000-8000-000000000002
auth_id=a1b2c3d4-0000-4000-8000-000000000003

run flow --set "connection.Flow Tenant.url=$url" --input "$(inp f1 "{\"id\":\"$done_id\"}")" \
  --input "$(inp f2 "{\"id\":\"$wait_id\",\"versionId\":\"e5f6a7b8-0000-4000-8000-00000000000a\"}")" "Flow Run"
if [ "$(code flow)" = 0 ] && check flow 1 'd["invokeType"]=="DONE" and d["outputs"][0]["contentValue"]=="Hello world" and d["flowId"]["id"]=="'$done_id'" and len(d["stateId"])==36'; then
  ok "initialize + invoke: state id, invoke type DONE and the outputs become the document"; else not_ok "run a flow (exit $(code flow))"; show_err flow; doc flow 1; fi
if check flow 2 'd["invokeType"]=="WAIT" and d["waitMessage"]=="Working on it" and d["outputs"] is None and d["flowId"]["versionId"]=="e5f6a7b8-0000-4000-8000-00000000000a"'; then
  ok "a WAIT response and a versionId"; else not_ok "WAIT"; doc flow 2; fi
if python3 - "$tmp/flow/out/0001.properties.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
sys.exit(0 if p.get("connector.track.flowclient.invokeType") == "DONE" and len(p.get("connector.track.flowclient.stateId", "")) == 36
         and p.get("meta.base.applicationstatuscode") == "200" else 1)
EOF
then ok "state id, invoke type and status are document properties"; else not_ok "document properties"; cat "$tmp/flow/out/0001.properties.json"; fi
if python3 - "$log" "$tenant" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
paths = [r["path"].split("/state/")[0] + ("/state/{id}" if "/state/" in r["path"] else "") for r in rows]
ok = rows and all(r["valid"] and r["tenant"] == sys.argv[2] and r["accept"] == "application/json" for r in rows)
ok = ok and paths == ["/api/run/1", "/api/run/1/state/{id}"] * 2
ok = ok and all(r["body"]["invokeType"] == "FORWARD" for r in rows if "/state/" in r["path"])
sys.exit(0 if ok else 1)
EOF
then ok "every request conforms to the spec: POST /api/run/1 then POST /api/run/1/state/{stateId}, with the ManyWhoTenant header"; else not_ok "requests"; cat "$log"; fi

: >"$log"
run greet --set "connection.Flow Tenant.url=$url" --input "$(inp g1 '{"Name":"Ada","Count":3,"Vip":true}')" "Flow Run Greeting"
if [ "$(code greet)" = 0 ] && check greet 1 'd["outputs"][0]["contentValue"]=="Hello Ada"' && python3 - "$log" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
ins = {v["developerName"]: (v["contentValue"], v["contentType"]) for v in r["body"]["inputs"]}
sys.exit(0 if r["valid"] and ins == {"Name": ("Ada", "ContentString"), "Count": ("3", "ContentNumber"), "Vip": ("true", "ContentBoolean")}
         and r["body"]["playerUrl"].endswith("/play/mobile") else 1)
EOF
then ok "a flow's own object: the document's members are the flow inputs; playerName in the player URL"; else not_ok "flow inputs (exit $(code greet))"; show_err greet; cat "$log"; fi

run errs --set "connection.Flow Tenant.url=$url" --input "$(inp e1 '{"id":"a1b2c3d4-0000-4000-8000-0000000000ff"}')" \
  --input "$(inp e2 '{"nothing":1}')" --input "$(inp f1 "{\"id\":\"$done_id\"}")" "Flow Run Errors"
if [ "$(code errs)" = 0 ] && [ "$(doc errs 2)" = 'caught: flowclient: initializing flow a1b2c3d4-0000-4000-8000-0000000000ff (POST /api/run/1) returned 404 Not Found: {"message": "flow a1b2c3d4-0000-4000-8000-0000000000ff not found"}' ] \
   && [ "$(doc errs 4)" = 'returned 404: {"message": "flow a1b2c3d4-0000-4000-8000-0000000000ff not found"}' ] && doc errs 3 | grep -q 'the document names no flow'; then
  ok "an application error: a document error, or with returnApplicationErrors the response document with its status"; else not_ok "application errors (exit $(code errs))"; show_err errs; for i in 1 2 3 4 5 6; do echo "    $(doc errs $i)"; done; fi

run tenant --set "connection.Flow Tenant.url=$url" --set "connection.Flow Tenant.tenantId=00000000-0000-4000-8000-000000000000" --input "$tmp/f1.json" "Flow Run"
if [ "$(code tenant)" = 1 ] && grep -q "returned 401 Unauthorized" "$tmp/tenant/stderr"; then ok "the tenant id is a setting (a wrong one is refused by the tenant)"; else not_ok "tenant override (exit $(code tenant))"; show_err tenant; fi

: >"$log"
run user --set "connection.Flow Tenant User.url=$url" --set "connection.Flow Tenant User.password=flow-s3cret" --input "$(inp u1 "{\"id\":\"$auth_id\"}")" "Flow Run As User"
if [ "$(code user)" = 0 ] && check user 1 'd["invokeType"]=="DONE"' && grep -q '"credentials": {"password": "flow-s3cret", "username": "flowuser"}' "$log"; then
  ok "a flow needing a Flow user: the credentials go in the initialization request"; else not_ok "credentials (exit $(code user))"; show_err user; fi
run nouser --set "connection.Flow Tenant.url=$url" --input "$tmp/u1.json" "Flow Run"
if [ "$(code nouser)" = 1 ] && grep -q "needs a signed-in user (statusCode 401)" "$tmp/nouser/stderr"; then ok "without credentials the 401 statusCode is an application error"; else not_ok "no credentials (exit $(code nouser))"; show_err nouser; fi
run nopw --set "connection.Flow Tenant User.url=$url" --input "$tmp/u1.json" "Flow Run As User"
if [ "$(code nopw)" = 1 ] && grep -q "has a username but no password" "$tmp/nopw/stderr"; then ok "a username without a password says how to set it"; else not_ok "missing password (exit $(code nopw))"; show_err nopw; fi
if grep -rqs 'flow-s3cret' "$tmp"/user "$tmp"/nopw "$tmp"/nouser; then not_ok "the Flow password appears in an output, log or execution record"; else ok "the Flow password appears in no output, log or execution record"; fi

# the connection's typed fields, through the connector's config map
run rtok --set "connection.Flow Tenant.url=$url" --set "connection.Flow Tenant.readTimeout=20000" --set "connection.Flow Tenant.retries=1" --input "$tmp/f1.json" "Flow Run"
if [ "$(code rtok)" = 0 ] && check rtok 1 'd["invokeType"]=="DONE"'; then ok "readTimeout and retries in milliseconds and times run as before"; else not_ok "readTimeout=20000 (exit $(code rtok))"; show_err rtok; fi
run rtbad --set "connection.Flow Tenant.url=$url" --set "connection.Flow Tenant.connectTimeout=-5" --input "$tmp/f1.json" "Flow Run"
if [ "$(code rtbad)" = 3 ] && grep -q "flowclient: connection 'Flow Tenant' field connectTimeout: expected a whole number from 0 to 86400000, not '-5' (from --set: connection.Flow Tenant.connectTimeout)" "$tmp/rtbad/stderr"; then
  ok "a negative connectTimeout is refused at deploy, naming the field, the value and its origin"; else not_ok "connectTimeout=-5 (exit $(code rtbad))"; show_err rtbad; fi

# ---- 2. Prism ----
prism=${PRISM:-}
pdir=${MA_PRISM_DIR:-${TMPDIR:-/tmp}/miniatom-prism}
if [ -z "$prism" ]; then
  prism=$pdir/node_modules/.bin/prism
  if [ ! -x "$prism" ] && command -v npm >/dev/null; then
    mkdir -p "$pdir" && npm install --no-audit --no-fund --prefix "$pdir" @stoplight/prism-cli >"$tmp/npm.log" 2>&1
  fi
fi
if [ "${MA_SKIP_PRISM:-}" = 1 ]; then
  echo "# the Prism mock tests are skipped: MA_SKIP_PRISM=1"
elif [ ! -x "$prism" ]; then
  not_ok "the Prism mock tests need @stoplight/prism-cli: npm could not install it (see $tmp/npm.log; MA_SKIP_PRISM=1 skips them offline)"
  tail -5 "$tmp/npm.log" 2>/dev/null
else
  pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$prism" mock --errors -h 127.0.0.1 -p "$pport" "$spec" >"$tmp/prism.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 240); do grep -q 'Prism is listening' "$tmp/prism.log" && break; sleep 0.25; done
  if ! grep -q 'Prism is listening' "$tmp/prism.log"; then
    not_ok "Prism mocks the Flow spec"; tail -5 "$tmp/prism.log"
  else
    run prism --set "connection.Flow Tenant.url=http://127.0.0.1:$pport" --input "$tmp/f1.json" "Flow Run"
    if [ "$(code prism)" = 0 ] && check prism 1 'd["stateId"]=="string" and d["stateToken"]=="string" and d["invokeType"] is None'; then
      ok "against the Prism mock: initialize and invoke give an output document from the spec's examples"; else not_ok "Prism run (exit $(code prism))"; show_err prism; doc prism 1; fi
    if grep -q 'post /api/run/1 ' "$tmp/prism.log" && grep -q 'post /api/run/1/state/string ' "$tmp/prism.log" && ! grep -q '✖' "$tmp/prism.log"; then
      ok "Prism: both requests match the spec's operations and pass its validation"; else not_ok "Prism validation"; grep -E 'post|✖' "$tmp/prism.log" | head; fi
  fi
fi
finish
