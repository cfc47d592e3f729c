#!/usr/bin/env bash
# tests/connectors/http/run.sh - the HTTP client connector (connectors/http) against a local test
# server (server.py: plain HTTP and HTTPS with a self-signed certificate made here by openssl), through
# the processes in deploy/ (and test_httpc.c for the shared client: retries, Retry-After, limits,
# timeouts, threads): methods, static/variable/empty headers, path elements with replacement
# variables, status codes with and without returnErrors, Basic auth with the password from the
# settings, an environment variable or a file (and never in any output), TLS and client
# certificates, redirects, settings and environment overrides, connection reuse, and the connection
# fields of the connector's config map (bounds, booleans, files, checked at deploy). Uses the
# built-in connector when `miniatom plugins` lists it, else builds connectors/http as a plugin and
# loads it with --plugins.
. "$(dirname "$0")/../../lib.sh"
here=$top_srcdir/tests/connectors/http
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is needed for the test server" >&2; exit 1; }

# ---- the connector: built in, or built here as a plugin ----
plug=()
if "$MINIATOM" plugins 2>/dev/null | grep -qx '  http'; then
  echo "# the http connector is built in"
else
  CC=${CC:-cc}
  sanit=""
  if nm -D "$MINIATOM" 2>/dev/null | grep -q __asan_init || ldd "$MINIATOM" 2>/dev/null | grep -q libasan; then sanit="-fsanitize=address,undefined"; fi
  mkdir -p "$tmp/plugins"
  if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -shared -fPIC $sanit -I"$top_srcdir/include" \
      -I"$top_srcdir/connectors/common" "$top_srcdir/connectors/http/http.c" "$top_srcdir/connectors/http/plugin.c" \
      "$top_srcdir/connectors/common/httpc.c" $(pkg-config --cflags --libs libcurl jansson) -o "$tmp/plugins/http.so" 2>"$tmp/cc.err"; then
    ok "the http connector builds as a plugin"
  else
    not_ok "the http connector builds as a plugin"; cat "$tmp/cc.err"; finish; exit 1
  fi
  plug=(--plugins "$tmp/plugins")
fi

# ---- servers: plain and TLS ----
start_server() { # portfile [cert key]
  python3 "$here/server.py" "$@" 2>"$tmp/server.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "FAIL: the test server did not start" >&2; cat "$tmp/server.err" >&2; exit 1
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || { echo "FAIL: openssl cannot make a certificate" >&2; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/client-key.pem" -out "$tmp/client.pem" -days 2 -subj "/CN=miniatom-client" \
  >/dev/null 2>&1 || { echo "FAIL: openssl cannot make a client certificate" >&2; exit 1; }
start_server "$tmp/port"
start_server "$tmp/tlsport" "$tmp/cert.pem" "$tmp/key.pem"
start_server "$tmp/mtlsport" "$tmp/cert.pem" "$tmp/key.pem" "$tmp/client.pem"
port=$(cat "$tmp/port")
tlsport=$(cat "$tmp/tlsport")
mtlsport=$(cat "$tmp/mtlsport")
base="http://127.0.0.1:$port"

# run LABEL ARGS... : miniatom run in $tmp/LABEL (results in out/, exit status in code)
run() {
  local label=$1; shift
  local d=$tmp/$label
  rm -rf "$d"; mkdir -p "$d"
  (cd "$here" && "${RUN[@]}" run --deploy deploy "${plug[@]}" --data "$d/data" --out "$d/out" "$@" >"$d/stdout" 2>"$d/stderr")
  echo $? >"$d/code"
}
code() { cat "$tmp/$1/code"; }
# same_docs LABEL EXPECTED-DIR : the result documents are exactly these
same_docs() {
  local got=$tmp/$1/out exp=$2 f
  [ "$(ls "$got" 2>/dev/null | grep -c '\.dat$')" = "$(ls "$exp" | grep -c '\.dat$')" ] || { echo "    $(ls "$got" 2>/dev/null | grep -c '\.dat$') documents, expected $(ls "$exp" | grep -c '\.dat$')"; return 1; }
  for f in "$exp"/*.dat; do
    cmp -s "$f" "$got/$(basename "$f")" || { echo "    $(basename "$f"):"; diff "$f" "$got/$(basename "$f")" | head -5 | sed 's/^/      /'; return 1; }
  done
}
# props LABEL N 'key=value' ... : document N has these properties
props() {
  local f=$tmp/$1/out/$(printf '%04d' "$2").properties.json; shift 2
  python3 - "$f" "$@" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
bad = [kv for kv in sys.argv[2:] if p.get(kv.split("=", 1)[0]) != kv.split("=", 1)[1]]
if bad:
    print("    wanted %s, got %s" % (bad, json.dumps(p, sort_keys=True)))
    sys.exit(1)
EOF
}
show_err() { sed 's/^/    /' "$tmp/$1/stderr" | head -8; }

# 0. the shared HTTP client itself (connectors/common/httpc.c)
if ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$top_srcdir/include" -I"$top_srcdir/connectors/common" "$here/test_httpc.c" \
    "$top_srcdir/connectors/common/httpc.c" "$top_srcdir/runtime/error.c" $(pkg-config --cflags --libs libcurl) -pthread \
    -o "$tmp/test_httpc" 2>"$tmp/cc2.err"; then
  "$tmp/test_httpc" "$base" >"$tmp/httpc.out"
  while IFS= read -r line; do
    case $line in "ok - "*) ok "${line#ok - }" ;; "not ok - "*) not_ok "${line#not ok - }" ;; esac
  done <"$tmp/httpc.out"
else
  not_ok "test_httpc.c builds"; cat "$tmp/cc2.err"
fi

# 1. GET: headers, path elements, replacement variables, response header mapping
run get --set "connection.Test Server.url=$base" -p TOKEN=tok-123 "HTTP Get Item"
if [ "$(code get)" = 0 ] && same_docs get "$here/expected/get-item"; then ok "GET with static, variable and empty headers and replacement variables in the path"; else not_ok "GET with headers and replacement variables (exit $(code get))"; show_err get; fi
if props get 1 meta.base.applicationstatuscode=200 meta.base.applicationstatusmessage=OK dynamicdocument.REQUEST_ID=req-get \
     dynamicdocument.ITEM_ID=42 connector.track.http.header.x-echo=yes "connector.track.http.url=$base/echo/items/42"; then
  ok "status, mapped and tracked response headers become document properties"; else not_ok "response properties"; fi

run typo --set "connection.Test Server.url=$base" --set "connection.Test Server.tmeout=5" -p TOKEN=tok-123 "HTTP Get Item"
if [ "$(code typo)" = 3 ] && grep -qF -- "--set: connection.Test Server.tmeout: connector type 'http' has no connection field 'tmeout' (its fields: url," "$tmp/typo/stderr"; then
  ok "a setting for a field the connector type does not have is refused, naming its fields"; else not_ok "a misspelt connection field (exit $(code typo))"; show_err typo; fi

# 2. Send: POST, PUT, PATCH, DELETE with the document as body; returnResponses=false
printf '{"order":7}' >"$tmp/order.json"
run send --set "connection.Test Server.url=$base/" --input "$tmp/order.json" "HTTP Send Methods"
if [ "$(code send)" = 0 ] && same_docs send "$here/expected/send-methods"; then ok "POST, PUT, PATCH and DELETE send the document with the operation's content type (base URL ending in /)"; else not_ok "send methods (exit $(code send))"; show_err send; fi

# 3. status codes
printf 404 >"$tmp/c404"; printf 201 >"$tmp/c201"; printf 500 >"$tmp/c500"
before=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())" "$base/connections")
run status --set "connection.Test Server.url=$base" --input "$tmp/c404" --input "$tmp/c201" --input "$tmp/c500" "HTTP Status Codes"
after=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())" "$base/connections")
if [ "$(code status)" = 0 ] && same_docs status "$here/expected/status-codes"; then ok "4xx/5xx: a document error without returnErrors, the response document with it"; else not_ok "status codes (exit $(code status))"; show_err status; fi
if props status 4 meta.base.applicationstatuscode=404 "meta.base.applicationstatusmessage=Not Found" && props status 6 meta.base.applicationstatuscode=500; then
  ok "returnErrors: the status code and message are document properties"; else not_ok "returnErrors properties"; fi
# two connector steps, six requests (errors included): one kept-alive connection per step (+1: the count request itself)
if [ $((after - before)) = 3 ]; then ok "connections are reused across documents (2 connections for 6 requests)"; else not_ok "connection reuse: $((after - before - 1)) connections for 6 requests"; fi

# 4. Basic auth: the password from --set, an environment variable, a file; missing; wrong; never shown
run auth --set "connection.Test Server Basic.url=$base" --set "connection.Test Server Basic.password=s3cret-pw" "HTTP Basic Auth"
if [ "$(code auth)" = 0 ] && [ "$(cat "$tmp/auth/out/0001.dat")" = "welcome tester" ]; then ok "BASIC authentication with the password from the settings"; else not_ok "BASIC auth (exit $(code auth))"; show_err auth; fi
MINIATOM_CONNECTION_7A1F3C20_41D2_4E0B_9C55_0A1B2C3D0C02_PASSWORD=s3cret-pw run authenv --set "connection.Test Server Basic.url=$base" "HTTP Basic Auth"
if [ "$(code authenv)" = 0 ] && [ "$(cat "$tmp/authenv/out/0001.dat")" = "welcome tester" ]; then ok "the password from MINIATOM_CONNECTION_<ID>_PASSWORD"; else not_ok "password from the environment (exit $(code authenv))"; show_err authenv; fi
printf 's3cret-pw\n' >"$tmp/pw.txt"
run authfile --set "connection.Test Server Basic.url=$base" --set "connection.Test Server Basic.password.file=$tmp/pw.txt" "HTTP Basic Auth"
if [ "$(code authfile)" = 0 ] && [ "$(cat "$tmp/authfile/out/0001.dat")" = "welcome tester" ]; then ok "the password from a file (password.file)"; else not_ok "password from a file (exit $(code authfile))"; show_err authfile; fi
run nopw --set "connection.Test Server Basic.url=$base" "HTTP Basic Auth"
if [ "$(code nopw)" = 1 ] && grep -q "uses BASIC authentication but no password is configured" "$tmp/nopw/stderr"; then ok "a missing password fails the document and says how to set it (the encrypted export value is not used)"; else not_ok "missing password (exit $(code nopw))"; show_err nopw; fi
run wrongpw --set "connection.Test Server Basic.url=$base" --set "connection.Test Server Basic.password=not-the-pw" --json "HTTP Basic Auth"
if [ "$(code wrongpw)" = 1 ] && grep -q "Code 401: Unauthorized" "$tmp/wrongpw/stderr"; then ok "a refused password is a document error with the 401"; else not_ok "wrong password (exit $(code wrongpw))"; show_err wrongpw; fi
if grep -rqs -e 's3cret-pw' -e 'not-the-pw' -e 'dGVzdGVy' "$tmp"/auth* "$tmp"/wrongpw "$tmp"/nopw --exclude=pw.txt; then
  not_ok "the password appears in an output, a log or an execution record"; grep -rls -e 's3cret-pw' -e 'not-the-pw' -e 'dGVzdGVy' "$tmp"/auth* "$tmp"/wrongpw | head -3
else ok "the password appears in no output, log or execution record"; fi

# 5. TLS: verified with the CA file; refused without; insecure=true skips verification
run tls --set "connection.Test Server TLS.url=https://127.0.0.1:$tlsport" --set "connection.Test Server TLS.caFile=$tmp/cert.pem" "HTTP TLS"
if [ "$(code tls)" = 0 ] && grep -q '"path": "/echo/tls"' "$tmp/tls/out/0001.dat"; then ok "HTTPS verified against the configured CA file"; else not_ok "HTTPS with caFile (exit $(code tls))"; show_err tls; fi
run tlsbad --set "connection.Test Server TLS.url=https://127.0.0.1:$tlsport" "HTTP TLS"
if [ "$(code tlsbad)" = 1 ] && grep -q "HTTP GET https://127.0.0.1:$tlsport/echo/tls: SSL certificate problem" "$tmp/tlsbad/stderr"; then ok "a self-signed certificate is refused without the CA file"; else not_ok "untrusted certificate (exit $(code tlsbad))"; show_err tlsbad; fi
run tlsins --set "connection.Test Server TLS.url=https://127.0.0.1:$tlsport" --set "connection.Test Server TLS.insecure=true" "HTTP TLS"
if [ "$(code tlsins)" = 0 ]; then ok "insecure=true skips verification"; else not_ok "insecure (exit $(code tlsins))"; show_err tlsins; fi

mt=(--set "connection.Test Server mTLS.url=https://127.0.0.1:$mtlsport" --set "connection.Test Server mTLS.caFile=$tmp/cert.pem")
run mtls "${mt[@]}" --set "connection.Test Server mTLS.clientCert=$tmp/client.pem" --set "connection.Test Server mTLS.clientKey=$tmp/client-key.pem" "HTTP Client Certificate"
if [ "$(code mtls)" = 0 ] && grep -q '"path": "/echo/tls"' "$tmp/mtls/out/0001.dat"; then ok "a client certificate (SSLOptions clientauth) from the clientCert and clientKey settings"; else not_ok "client certificate (exit $(code mtls))"; show_err mtls; fi
run mtlsnone "${mt[@]}" "HTTP Client Certificate"
if [ "$(code mtlsnone)" = 1 ] && grep -q 'requires a client certificate (SSLOptions clientauth="true")' "$tmp/mtlsnone/stderr"; then ok "clientauth without a configured certificate fails the document, saying what to set"; else not_ok "clientauth without a certificate (exit $(code mtlsnone))"; show_err mtlsnone; fi

# 6. redirects, with the URL from the environment (MINIATOM_CONNECTION_<NAME>_URL)
MINIATOM_CONNECTION_TEST_SERVER_URL=$base run redir "HTTP Redirects"
if [ "$(code redir)" = 0 ] && same_docs redir "$here/expected/redirects"; then ok "followRedirects follows a 302; otherwise the 302 is returned (URL from the environment)"; else not_ok "redirects (exit $(code redir))"; show_err redir; fi

# 7. nothing listens: a document error naming the URL without its query string
run down --set "connection.Test Server.url=http://127.0.0.1:1" -p TOKEN=t "HTTP Get Item"
if [ "$(code down)" = 1 ] && grep -q "HTTP GET http://127.0.0.1:1/echo/items/42: " "$tmp/down/stderr" && ! grep -q 'view=full' "$tmp/down/stderr"; then
  ok "a refused connection is a document error naming the URL without its query"; else not_ok "connection refused (exit $(code down))"; show_err down; fi

# 8. an authentication type this runtime does not run is refused at deploy
run oauth "HTTP OAuth2 Unsupported"
if [ "$(code oauth)" = 3 ] && grep -q "authenticationType OAUTH2" "$tmp/oauth/stderr"; then ok "an unsupported authenticationType is refused at deploy"; else not_ok "unsupported auth (exit $(code oauth))"; show_err oauth; fi
#    and a value Boomi does not define is refused naming the values read
mkdir -p "$tmp/authdeploy"; cp "$here"/deploy/*.xml "$tmp/authdeploy/"
sed -i 's/authenticationType="OAUTH2"/authenticationType="TOKEN"/' "$tmp/authdeploy/conn-oauth2.xml"
"${RUN[@]}" run --deploy "$tmp/authdeploy" "${plug[@]}" --data "$tmp/auth-data" "HTTP OAuth2 Unsupported" >/dev/null 2>"$tmp/auth.err"
c=$?
if [ $c = 3 ] && grep -qF 'authenticationType "TOKEN" is not one of: NONE, BASIC; not supported: PASSWORD_DIGEST, CUSTOM, OAUTH, OAUTH2, AWSV4, NETWORK_AUTHENTICATION' "$tmp/auth.err"; then
  ok "an authenticationType Boomi does not define is refused, listing the values"; else not_ok "unknown authenticationType (exit $c)"; sed 's/^/    /' "$tmp/auth.err" | head -5; fi
# 9. the connection's fields through the connector's config map: whole milliseconds, bounds, booleans
#    and files are checked at deploy, with the field, the value and where it came from
run fields --set "connection.Test Server.url=$base" --set "connection.Test Server.connectTimeout=5000" \
  --set "connection.Test Server.readTimeout=30000" --set "connection.Test Server.retries=2" --set "connection.Test Server.insecure=false" \
  -p TOKEN=tok-123 "HTTP Get Item"
if [ "$(code fields)" = 0 ] && same_docs fields "$here/expected/get-item"; then ok "connectTimeout, readTimeout, retries and insecure set in range run as before"; else not_ok "fields in range (exit $(code fields))"; show_err fields; fi
run retries11 --set "connection.Test Server.url=$base" --set "connection.Test Server.retries=11" -p TOKEN=t "HTTP Get Item"
if [ "$(code retries11)" = 3 ] && grep -q "http: connection 'Test Server' field retries: '11' is out of range: expected a whole number from 0 to 10 (from --set: connection.Test Server.retries)" "$tmp/retries11/stderr"; then
  ok "retries past 10 is refused at deploy, naming the field, the value and its origin"; else not_ok "retries=11 (exit $(code retries11))"; show_err retries11; fi
MINIATOM_CONNECTION_TEST_SERVER_READTIMEOUT=30s run rt30s --set "connection.Test Server.url=$base" -p TOKEN=t "HTTP Get Item"
if [ "$(code rt30s)" = 3 ] && grep -q "field readTimeout: expected a whole number from 0 to 86400000, not '30s' (from the environment: MINIATOM_CONNECTION_TEST_SERVER_READTIMEOUT)" "$tmp/rt30s/stderr"; then
  ok "readTimeout is a whole number of milliseconds, as Boomi exports write it (30s is refused)"; else not_ok "readTimeout=30s (exit $(code rt30s))"; show_err rt30s; fi
run insmaybe --set "connection.Test Server.url=$base" --set "connection.Test Server.insecure=maybe" -p TOKEN=t "HTTP Get Item"
if [ "$(code insmaybe)" = 3 ] && grep -q "field insecure: expected true or false, not 'maybe'" "$tmp/insmaybe/stderr"; then ok "insecure must be true or false"; else not_ok "insecure=maybe (exit $(code insmaybe))"; show_err insmaybe; fi
run nocafile --set "connection.Test Server TLS.url=https://127.0.0.1:$tlsport" --set "connection.Test Server TLS.caFile=$tmp/no-such.pem" "HTTP TLS"
if [ "$(code nocafile)" = 3 ] && grep -q "field caFile: '$tmp/no-such.pem' is not a readable file" "$tmp/nocafile/stderr"; then ok "a caFile that cannot be read is refused at deploy"; else not_ok "missing caFile (exit $(code nocafile))"; show_err nocafile; fi
if "${RUN[@]}" plugins "${plug[@]}" | grep -q '^      connection.<id or name>.readTimeout (uint, 0 to 86400000, default 60000): milliseconds'; then ok "miniatom plugins lists the connection's fields"; else not_ok "miniatom plugins does not list readTimeout"; fi
# 10. connector parameter values (a connector call lookup in Set Properties): the operation is called
#     with the document's customer id as its replacement variable, and an element of the JSON
#     response becomes the property; a stub answers for the operation as for a connector step; a
#     missing operation or connector type is named at deploy; a failed call fails the document
cpin=$here/connector-param-input.json
run cparam --set "connection.Test Server.url=$base" --input "$cpin" "HTTP Connector Parameter"
if [ "$(code cparam)" = 0 ] && props cparam 1 dynamicdocument.DDP_CustomerName=/echo/customers/cus_42 dynamicdocument.DDP_Method=GET; then
  ok "a connector parameter value calls the operation with its inputs and takes the output element"; else not_ok "connector parameter (exit $(code cparam))"; show_err cparam; fi
printf '{"path": "/stubbed", "method": "STUB"}' >"$tmp/cparam-stub.json"
run cpstub --stub "ab5bcc17-8846-4dd7-b4a6-0edc85094e15=$tmp/cparam-stub.json" --input "$cpin" "HTTP Connector Parameter"
if [ "$(code cpstub)" = 0 ] && props cpstub 1 dynamicdocument.DDP_CustomerName=/stubbed dynamicdocument.DDP_Method=STUB; then
  ok "--stub answers a connector parameter's call"; else not_ok "stubbed connector parameter (exit $(code cpstub))"; show_err cpstub; fi
run cpmiss --input "$cpin" "HTTP Connector Parameter Missing Operation"
if [ "$(code cpmiss)" = 3 ] && grep -q "line 23: connector call: operation 2298c784-9c64-4987-b165-601b1387bd35 is not in the deployment" "$tmp/cpmiss/stderr"; then
  ok "a connector parameter naming a missing operation is a missing reference at deploy"; else not_ok "missing operation (exit $(code cpmiss))"; show_err cpmiss; fi
run cptype --input "$cpin" "HTTP Connector Parameter Unknown Type"
if [ "$(code cptype)" = 3 ] && grep -q "connector call: connector type 'salesforce' (action Get, operation ab5bcc17-8846-4dd7-b4a6-0edc85094e15) has no implementation" "$tmp/cptype/stderr"; then
  ok "a connector parameter of a connector type this runtime lacks says so at deploy"; else not_ok "unknown connector type (exit $(code cptype))"; show_err cptype; fi
run cpdown --set "connection.Test Server.url=http://127.0.0.1:1" --input "$cpin" "HTTP Connector Parameter"
if [ "$(code cpdown)" = 1 ] && grep -q "connector call operation ab5bcc17-8846-4dd7-b4a6-0edc85094e15 (connector type http) failed: HTTP GET http://127.0.0.1:1/echo/customers/cus_42: " "$tmp/cpdown/stderr"; then
  ok "a failed connector call fails the document, saying which call and why"; else not_ok "failed connector call (exit $(code cpdown))"; show_err cpdown; fi
finish
