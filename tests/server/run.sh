#!/usr/bin/env bash
# tests/server/run.sh - the server core of `miniatom serve` (runtime/server.c, docs/server.md) through
# the real binary on ephemeral loopback ports: --help, --check-config, --hash-token, start-up with the
# example deployment and no configuration, GET /health, JSON request logs, Basic and client-certificate
# authentication, TLS, every limit, 64 parallel clients, keep-alive, SIGHUP reloads (a broken
# deployment keeps the running one), SIGTERM. The listeners' own routes are tested in tests/server/wss
# and tests/server/fss. Needs curl, python3 and openssl.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'server_kill; rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3 openssl; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
ex=$top_srcdir/processes

expect_exit() { # want label cmd...
  local want=$1 label=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local code=$?
  if [ "$code" = "$want" ]; then ok "$label"; else not_ok "$label: exit $code, expected $want"; head -5 "$tmp/err" | sed 's/^/    /'; fi
}
expect_grep() { # file pattern label
  if grep -qF -- "$2" "$1"; then ok "$3"; else not_ok "$3: '$2' not in $(basename "$1")"; head -10 "$1" | sed 's/^/    /'; fi
}

# ---- the command line ----
expect_exit 0 "serve --help" "${RUN[@]}" serve --help
expect_grep "$tmp/out" "Usage: miniatom serve" "serve --help prints its usage"
expect_grep "$tmp/out" "--check-config" "serve --help names --check-config"
expect_exit 2 "serve with a stray argument" "${RUN[@]}" serve extra
expect_exit 2 "serve --set without =" "${RUN[@]}" serve --set nothing --check-config

# ---- --check-config ----
cat >"$tmp/good.conf" <<EOF
# a comment
! another comment
server.listen = 127.0.0.1:9191
server.data = $tmp/data-good

limits.request_body = 2MB
limits.sync_timeout = 10s
workers.threads = 2
log.requests = false
connection.Some Connection.url = https://example.com/
connector.map.some-connector-X1 = http
fss.callback.timeout = 20s
fss.callback.retries = 3
EOF
expect_exit 0 "--check-config accepts a valid file" "${RUN[@]}" serve --config "$tmp/good.conf" --check-config
expect_grep "$tmp/out" "configuration OK" "--check-config says OK"
expect_exit 0 "--check-config with no configuration at all" "${RUN[@]}" serve --check-config
printf 'server.listen = 127.0.0.1:9191\n\nserver.colour = blue\n' >"$tmp/unknown.conf"
expect_exit 2 "--check-config refuses an unknown key" "${RUN[@]}" serve --config "$tmp/unknown.conf" --check-config
expect_grep "$tmp/err" "unknown.conf:3: server.colour: unknown key" "an unknown key is named with its file and line"
printf 'limits.request_body = lots\nlimits.sync_timeout = 3 days\nworkers.threads = 0\nserver.listen = nowhere\nlog.requests = maybe\n' >"$tmp/bad.conf"
expect_exit 2 "--check-config refuses bad values" "${RUN[@]}" serve --config "$tmp/bad.conf" --check-config
expect_grep "$tmp/err" "bad.conf:1: limits.request_body: expected a size" "a bad size is named with its line"
expect_grep "$tmp/err" "bad.conf:2: limits.sync_timeout: expected a duration" "a bad duration is named with its line"
expect_grep "$tmp/err" "bad.conf:3: workers.threads: '0' is out of range" "an out-of-range number is named"
expect_grep "$tmp/err" "bad.conf:4: server.listen" "a bad listen address is named"
expect_grep "$tmp/err" "bad.conf:5: log.requests" "a bad boolean is named"
expect_grep "$tmp/err" "5 problems in the configuration" "every problem is reported, not only the first"
expect_exit 2 "a duration without its unit is refused" "${RUN[@]}" serve --set limits.sync_timeout=30 --check-config
expect_grep "$tmp/err" "with its unit" "and the unit is asked for"
expect_exit 2 "--set overrides are checked too" "${RUN[@]}" serve --set limits.rps=-1 --check-config
expect_grep "$tmp/err" "--set: limits.rps" "a bad --set is named as such"
printf 'fss.callback.backoff = soon\nfss.callback.retries = 5000\nfss.callback.colour = red\nwss.anything = 1\nfss.callback.ca_file = %s/none.pem\n' "$tmp" >"$tmp/listeners.conf"
expect_exit 2 "--check-config checks the listeners' own keys" "${RUN[@]}" serve --config "$tmp/listeners.conf" --check-config
expect_grep "$tmp/err" "listeners.conf:1: fss.callback.backoff: expected a duration" "a bad fss duration is named with its line"
expect_grep "$tmp/err" "listeners.conf:2: fss.callback.retries: '5000' is out of range: expected a whole number from 0 to 1000" "an fss count out of range is named"
expect_grep "$tmp/err" "listeners.conf:3: fss.callback.colour: unknown key" "an unknown fss key is named"
expect_grep "$tmp/err" "listeners.conf:4: wss.anything: unknown key" "the wss listener has no keys of its own"
expect_grep "$tmp/err" "listeners.conf:5: fss.callback.ca_file: '$tmp/none.pem' is not a readable file" "a missing CA file is named"
expect_grep "$tmp/err" "5 problems in the configuration" "and all five are counted"
printf 'not a setting\n' >"$tmp/syntax.conf"
expect_exit 2 "a line that is not key = value" "${RUN[@]}" serve --config "$tmp/syntax.conf" --check-config
expect_grep "$tmp/err" "syntax.conf:1: expected 'key = value'" "the line is named"
expect_exit 2 "basic authentication needs users" "${RUN[@]}" serve --set auth.wss.mode=basic --check-config
expect_grep "$tmp/err" "auth.wss.mode = basic, but no auth.wss.user" "the missing users are explained"
expect_exit 2 "auth of an unknown listener" "${RUN[@]}" serve --set auth.nope.mode=none --check-config
expect_exit 2 "a plain token is refused as a user's hash" "${RUN[@]}" serve --set auth.wss.mode=basic --set auth.wss.user.ada=secret --check-config
expect_grep "$tmp/err" "never the token itself" "the refusal says to hash the token"
expect_exit 2 "a certificate without its key" "${RUN[@]}" serve --set server.tls.cert=/etc/hostname --check-config
expect_exit 2 "clientcert without a client CA" "${RUN[@]}" serve --set auth.fss.mode=clientcert --check-config
expect_exit 2 "--config of a missing file" "${RUN[@]}" serve --config "$tmp/none.conf" --check-config
expect_exit 0 "a listener's own keys are left to the listener" "${RUN[@]}" serve --set fss.callback.retries=3 --check-config

# ---- --hash-token ----
printf 's3cret-token\n' | "${RUN[@]}" serve --hash-token >"$tmp/hash" 2>"$tmp/err"
if grep -Eq '^pbkdf2-sha256\$10000\$[0-9a-f]{32}\$[0-9a-f]{64}$' "$tmp/hash"; then ok "--hash-token prints a salted PBKDF2 hash"; else not_ok "--hash-token: $(cat "$tmp/hash" "$tmp/err")"; fi
hash=$(cat "$tmp/hash")
printf 's3cret-token' | "${RUN[@]}" serve --hash-token >"$tmp/hash2" 2>/dev/null
if [ "$(cat "$tmp/hash2")" != "$hash" ]; then ok "two hashes of one token differ (salted)"; else not_ok "the hash is not salted"; fi
if printf '' | "${RUN[@]}" serve --hash-token >/dev/null 2>&1; then not_ok "--hash-token of nothing"; else ok "--hash-token refuses an empty token"; fi
expect_exit 0 "a hashed user passes --check-config" "${RUN[@]}" serve --set auth.health.mode=basic --set "auth.health.user.ada=$hash" --check-config

# ---- start-up with the example deployment, no configuration, no secrets ----
mkdir -p "$tmp/run1" && cd "$tmp/run1" || exit 1
t0=$(date +%s%N)
if server_start "$tmp/log1" --deploy "$ex"; then ok "serve --deploy processes starts with no configuration"; else
  not_ok "serve --deploy processes starts"; sed 's/^/    /' "$tmp/log1" | head; finish; exit 1; fi
until curl -s -o /dev/null "$base/health"; do sleep 0.005; done
t1=$(date +%s%N)
echo "# start-up to the first /health answer: $(((t1 - t0) / 1000000)) ms (a figure, not a check: tests/server/wss/bench.sh measures it)"
cd "$top_srcdir" || exit 1
if [ -d "$tmp/run1/data" ]; then ok "the data folder defaults to ./data"; else not_ok "./data was not created"; fi
expect_code 200 "GET /health" "$base/health"
n_proc=$(grep -l 'type="process"' "$ex"/*.xml | wc -l)
json_check "/health says ok, the deployment and $n_proc processes" "d['status']=='ok' and d['processes']==$n_proc and d['deployment']['generation']==1" "$tmp/b"
expect_grep "$tmp/h" "Content-Type: application/json" "/health is JSON"
expect_code 200 "HEAD /health" -I "$base/health"
expect_code 405 "POST /health" -d x "$base/health"
expect_grep "$tmp/h" "Allow: GET, HEAD" "405 names the methods"
expect_code 404 "an unknown prefix is 404" "$base/nothing/here?token=abc"
json_check "404 has a JSON error body" "'error' in d" "$tmp/b"
# keep-alive: two requests, one connection
curl -sv "$base/health" "$base/health" -o /dev/null -o /dev/null 2>"$tmp/kv"
if grep -qi "Re-using existing connection" "$tmp/kv"; then ok "HTTP/1.1 keep-alive"; else not_ok "keep-alive: the connection was not reused"; fi
# the request log
python3 - "$tmp/log1" >"$tmp/pyout" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
reqs = [l for l in lines if l.get("msg") == "request"]
assert reqs, "no request lines"
for r in reqs:
    for k in ("time", "level", "method", "path", "status", "duration_ms", "remote"):
        assert k in r, (k, r)
assert any(r["path"] == "/health" and r["status"] == 200 and r["method"] == "GET" for r in reqs)
nf = [r for r in reqs if r["path"] == "/nothing/here"]
assert nf and nf[0]["status"] == 404, nf
assert not any("token=abc" in json.dumps(r) for r in lines), "the query string was logged"
print("ok")
EOF
if [ "$(cat "$tmp/pyout")" = ok ]; then ok "one JSON log line per request: time, method, path, status, duration_ms (no query string)"; else not_ok "request log lines"; sed 's/^/    /' "$tmp/pyout" | tail -3; fi

# ---- 64 parallel clients ----
for i in $(seq 64); do
  (for _ in 1 2 3 4 5; do echo "$base/health"; done | xargs curl -s -o /dev/null -w '%{http_code}\n' >"$tmp/par.$i") &
done
wait_clients() { local p; for p in $(jobs -p); do [ "$p" = "$srv_pid" ] || wait "$p"; done; }
wait_clients
if [ "$(cat "$tmp"/par.* | grep -c '^200$')" = 320 ]; then ok "64 parallel clients x 5 requests: all 200"; else
  not_ok "64 parallel clients: $(cat "$tmp"/par.* | sort | uniq -c | tr '\n' ' ')"; fi
kill -0 "$srv_pid" 2>/dev/null && ok "the server is still up" || not_ok "the server died"

# ---- SIGHUP: reload, a broken deployment keeps the running one ----
mkdir -p "$tmp/deploy" "$tmp/data"
cp "$ex"/*.xml "$tmp/deploy/"
# server.drain.timeout=1h: a stop that waited for the drain instead of seeing nothing in flight would show
server_start "$tmp/log2" --deploy "$tmp/deploy" --data "$tmp/data" --set server.drain.timeout=1h || { not_ok "start for reloads"; sed 's/^/    /' "$tmp/log2" | head; }
printf '<bns:Component xmlns:bns="http://api.platform.boomi.com/" componentId="broken" name="Broken" type="process"><unclosed>\n' >"$tmp/deploy/zz-broken.xml"
kill -HUP "$srv_pid"
for _ in $(seq $((100 * slow))); do grep -q '"reload failed' "$tmp/log2" && break; sleep 0.05; done
expect_grep "$tmp/log2" '"msg":"reload failed; the running deployment stays"' "a broken deployment is refused on SIGHUP"
expect_grep "$tmp/log2" 'zz-broken.xml' "the log says which file is broken"
expect_code 200 "still serving after a refused reload" "$base/health"
json_check "the old deployment stays (generation 1)" "d['deployment']['generation']==1 and d['processes']==$n_proc" "$tmp/b"
rm "$tmp/deploy/zz-broken.xml"
sed -e 's/componentId="6f3b0c52-3c0e-4d7b-9a0e-1a2b3c4d5e01"/componentId="6f3b0c52-3c0e-4d7b-9a0e-1a2b3c4d5e99"/' \
    -e 's/name="Hello World"/name="Hello Again"/' "$ex/hello-world.xml" >"$tmp/deploy/hello-again.xml"
kill -HUP "$srv_pid"
for _ in $(seq $((100 * slow))); do grep -q '"deployment reloaded"' "$tmp/log2" && break; sleep 0.05; done
expect_grep "$tmp/log2" '"msg":"deployment reloaded"' "a valid deployment is swapped in on SIGHUP"
expect_code 200 "serving after the reload" "$base/health"
json_check "the new deployment (generation 2, one more process)" "d['deployment']['generation']==2 and d['processes']==$n_proc+1" "$tmp/b"
# a process that does not compile is served with its reasons (503 on its paths, listed by /health)
sed -e 's/componentId="6f3b0c52-3c0e-4d7b-9a0e-1a2b3c4d5e99"/componentId="6f3b0c52-3c0e-4d7b-9a0e-1a2b3c4d5e98"/' \
    -e 's/name="Hello Again"/name="Not Runnable"/' -e 's/shapetype="message"/shapetype="nosuchshape"/' \
    "$tmp/deploy/hello-again.xml" >"$tmp/deploy/not-runnable.xml"
kill -HUP "$srv_pid"
for _ in $(seq $((100 * slow))); do [ "$(grep -c '"deployment reloaded"' "$tmp/log2")" = 2 ] && break; sleep 0.05; done
if [ "$(grep -c '"deployment reloaded"' "$tmp/log2")" = 2 ] && grep '"process not runnable' "$tmp/log2" | grep -q 'Not Runnable.*nosuchshape'; then
  ok "a process that is not runnable is logged with its reasons on SIGHUP, and the rest is served"; else not_ok "a not-runnable process on SIGHUP"; tail -3 "$tmp/log2" | sed 's/^/    /'; fi
expect_code 200 "serving after the reload" "$base/health"
json_check "generation 3 lists the process that cannot run, with its reason" "d['deployment']['generation']==3 and [p['name'] for p in d['notRunnable']]==['Not Runnable'] and 'nosuchshape' in d['notRunnable'][0]['reasons'][0]" "$tmp/b"
rm "$tmp/deploy/not-runnable.xml"
# SIGTERM: stop accepting, drain, exit 0. With nothing in flight the stop does not wait for the drain
# timeout (1h here): the 60 s below are only a ceiling telling "waited for the drain" from "did not".
kill -TERM "$srv_pid"
for _ in $(seq $((600 * slow))); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$srv_pid" 2>/dev/null; then
  not_ok "SIGTERM with nothing in flight: still running after $((60 * slow)) s (waiting for the 1h drain timeout?)"
  kill -KILL "$srv_pid"
else ok "SIGTERM with nothing in flight stops without waiting for the drain timeout"; fi
wait "$srv_pid"; rc=$?
srv_pid=
server_stop
if [ $rc = 0 ]; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit $rc"; fi
if grep '"msg":"draining"' "$tmp/log2" | grep -q '"executions":0,"requests":0,"timeout_ms":3600000' && ! grep -q '"msg":"drain timeout' "$tmp/log2"; then
  ok "the drain found nothing in flight and did not time out"; else not_ok "the drain: $(grep '"msg":"drain' "$tmp/log2" | head -2)"; fi
expect_grep "$tmp/log2" '"msg":"draining"' "SIGTERM drains"
expect_grep "$tmp/log2" '"msg":"stopped"' "and says it stopped"
if curl -s -o /dev/null "$base/health"; then not_ok "the port is still open"; else ok "the port is closed"; fi

# ---- start-up failures ----
cp -r "$tmp/deploy" "$tmp/deploy-bad"
printf 'not xml at all\n' >"$tmp/deploy-bad/bad.xml"
expect_exit 3 "a broken deployment at start-up: exit 3" "${RUN[@]}" serve --deploy "$tmp/deploy-bad" --listen 127.0.0.1:0 --data "$tmp/data"
expect_grep "$tmp/err" "bad.xml" "and the broken file is named"
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); open(sys.argv[1],"w").write(str(s.getsockname()[1])); time.sleep(30)' "$tmp/busyport" &
busy=$!
for _ in $(seq 100); do [ -s "$tmp/busyport" ] && break; sleep 0.05; done
expect_exit 1 "an address in use: exit 1" "${RUN[@]}" serve --deploy "$tmp/deploy" --listen "127.0.0.1:$(cat "$tmp/busyport")" --data "$tmp/data"
expect_grep "$tmp/err" "cannot listen on" "and it says so"
kill $busy 2>/dev/null; wait $busy 2>/dev/null
expect_exit 2 "an invalid configuration at start-up: exit 2" "${RUN[@]}" serve --deploy "$tmp/deploy" --set limits.header=tiny

# ---- Basic authentication (on /health and on a listener prefix) ----
server_start "$tmp/log3" --deploy "$tmp/deploy" --data "$tmp/data" --set auth.health.mode=basic --set "auth.health.user.ada=$hash" \
  --set auth.wss.mode=basic --set "auth.wss.user.ada=$hash" || not_ok "start with basic authentication"
expect_code 401 "no credentials: 401" "$base/health"
expect_grep "$tmp/h" 'WWW-Authenticate: Basic realm="miniatom"' "401 carries WWW-Authenticate"
json_check "401 has a JSON error body" "'error' in d" "$tmp/b"
expect_code 401 "a wrong token: 401" -u ada:wrong "$base/health"
expect_code 401 "an unknown user: 401" -u bob:s3cret-token "$base/health"
expect_code 200 "the right token: 200" -u ada:s3cret-token "$base/health"
expect_code 200 "the right token again (cached): 200" -u ada:s3cret-token "$base/health"
expect_code 401 "a listener prefix asks too" "$base/ws/anything"
curl_status -u ada:s3cret-token "$base/ws/anything" >"$tmp/st"
if [ "$(cat "$tmp/st")" != 401 ]; then ok "a listener prefix lets the user in (status $(cat "$tmp/st"))"; else not_ok "a listener prefix refused the right token"; fi
expect_code 404 "an unknown prefix needs no authentication" "$base/other"
if grep -q 's3cret-token' "$tmp/log3"; then not_ok "the token was logged"; else ok "the token is never logged"; fi
if grep '"status":200' "$tmp/log3" | grep -q '"user":"ada"'; then ok "the request log names the user"; else not_ok "the user is not in the log"; fi
server_stop

# ---- limits ----
server_start "$tmp/log4" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.request_body=100 --set limits.header=2KB \
  --set limits.response_body=64MB || not_ok "start with small limits"
head -c 50 /dev/zero | tr '\0' a >"$tmp/small"
head -c 200 /dev/zero | tr '\0' a >"$tmp/big"
expect_code 404 "a body within limits.request_body passes" --data-binary @"$tmp/small" "$base/nothing"
expect_code 413 "a body over limits.request_body: 413" --data-binary @"$tmp/big" "$base/nothing"
json_check "413 has a JSON error naming the limit" "'100 bytes' in d['error']" "$tmp/b"
expect_code 413 "a chunked body over the limit: 413" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "$base/ws/x"
expect_code 200 "the connection still serves after a refused body" "$base/health"
expect_code 431 "headers over limits.header: 431" -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' b)" "$base/health"
expect_code 200 "headers within the limit pass" -H "X-Small: $(head -c 500 /dev/zero | tr '\0' b)" "$base/health"
server_stop
server_start "$tmp/log5" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.response_body=20 || not_ok "start with a tiny response limit"
expect_code 503 "a response over limits.response_body: 503" "$base/health"
json_check "503 has a JSON error naming the limit" "'response body' in d['error']" "$tmp/b"
server_stop
server_start "$tmp/log6" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.rps=5 || not_ok "start with a quota"
for i in $(seq 30); do echo "$base/nothing"; done | xargs curl -s -o /dev/null -w '%{http_code}\n' >"$tmp/rps"
n503=$(grep -c '^503$' "$tmp/rps"); n404=$(grep -c '^404$' "$tmp/rps")
if [ "$n503" -gt 0 ] && [ "$n404" -ge 5 ]; then ok "over limits.rps: 503 ($n404 passed, $n503 refused)"; else not_ok "limits.rps: $n404 passed, $n503 refused"; fi
curl_status "$base/nothing" >/dev/null
for _ in $(seq 20); do [ "$(curl_status "$base/nothing")" = 503 ] && break; done
expect_grep "$tmp/h" "Retry-After: 1" "the quota's 503 says when to retry"
expect_code 200 "/health is outside the quota" "$base/health"
server_stop
server_start "$tmp/log7" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.connections=2 --set server.threads=1 || not_ok "start with 2 connections"
python3 - "$port" >"$tmp/conn" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def get(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    return s.recv(4096)
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
ok1 = all(get(s).startswith(b"HTTP/1.1 200") for s in held)
third = socket.create_connection(("127.0.0.1", port))
third.settimeout(5)
try:
    refused = get(third) == b""
except (ConnectionResetError, BrokenPipeError, socket.timeout):
    refused = True
for s in held: s.close()
time.sleep(0.3)
again = socket.create_connection(("127.0.0.1", port))
ok2 = get(again).startswith(b"HTTP/1.1 200")
print("ok" if ok1 and refused and ok2 else "held=%s refused=%s again=%s" % (ok1, refused, ok2))
EOF
if [ "$(cat "$tmp/conn")" = ok ]; then ok "limits.connections: the connection over the limit is closed, the next one after a close is served"; else not_ok "limits.connections: $(cat "$tmp/conn")"; fi
server_stop

# ---- answers under a listener's prefix are in its format: a Flow ServiceProblem under /fs/ ----
problem_check() { # LABEL STATUS: $tmp/b is a ServiceProblem with that status, $tmp/h names its kind
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="service" and d["statusCode"]==int(sys.argv[2]) and d["message"] and "uri" in d, d' \
       "$tmp/b" "$2" 2>"$tmp/pyerr" && grep -qi '^X-ManyWho-Service-Problem-Kind: service' "$tmp/h"; then ok "$1"
  else not_ok "$1"; tail -1 "$tmp/pyerr" | sed 's/^/    /'; head -c 300 "$tmp/b" | sed 's/^/    /'; echo; fi
}
server_start "$tmp/log12" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.request_body=100 --set limits.header=2KB \
  --set auth.fss.mode=basic --set "auth.fss.user.ada=$hash" || not_ok "start with small limits and Basic on /fs/"
greet=$base/fs/ExampleService/actions/greet
expect_code 401 "/fs/ without credentials: 401" -X POST -d '{}' "$greet"
problem_check "the 401 under /fs/ is a ServiceProblem" 401
expect_grep "$tmp/h" 'WWW-Authenticate: Basic realm="miniatom"' "and it still asks for Basic credentials"
expect_code 413 "/fs/ with a body over the limit: 413" -u ada:s3cret-token --data-binary @"$tmp/big" "$greet"
problem_check "the 413 under /fs/ is a ServiceProblem" 413
expect_code 431 "/fs/ with headers over the limit: 431" -u ada:s3cret-token -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' b)" "$greet"
problem_check "the 431 under /fs/ is a ServiceProblem" 431
expect_code 413 "/ws/ with a body over the limit: 413" --data-binary @"$tmp/big" "$base/ws/simple/x"
json_check "the 413 under /ws/ is the server's JSON error" "'100 bytes' in d['error'] and 'kind' not in d" "$tmp/b"
# clients that write the whole body before they read (no Expect: 100-continue) still read the 413
python3 - "$port" >"$tmp/writefirst" 2>&1 <<'EOF'
import base64, socket, sys
port = int(sys.argv[1])
body = b"x" * (4 << 20)
auth = base64.b64encode(b"ada:s3cret-token").decode()
out = []
for path, extra in (("/fs/ExampleService/actions/greet", "Authorization: Basic %s\r\n" % auth), ("/ws/simple/x", "")):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(20)
    head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n" % (path, extra, len(body))
    try:
        s.sendall(head.encode() + body)
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk: break
            got += chunk
        out.append(got.split(b"\r\n", 1)[0].decode(errors="replace") or "nothing")
    except OSError as e:
        out.append("error: %s" % e)
    s.close()
print(" | ".join(out))
EOF
if [ "$(cut -c1-12 <<<"$(cat "$tmp/writefirst")")" = "HTTP/1.1 413" ] && [ "$(grep -o 'HTTP/1.1 413' "$tmp/writefirst" | wc -l)" = 2 ]; then
  ok "a client that writes a 4 MB body before reading gets the 413 (under /fs/ and /ws/)"; else not_ok "write-first clients: $(cat "$tmp/writefirst")"; fi
server_stop
server_start "$tmp/log13" --deploy "$tmp/deploy" --data "$tmp/data" --set limits.rps=1 || not_ok "start with a quota of 1"
greet=$base/fs/ExampleService/actions/greet
for _ in 1 2 3 4 5; do [ "$(curl_status -X POST -d '{}' "$greet")" = 503 ] && break; done
problem_check "the quota's 503 under /fs/ is a ServiceProblem" 503
expect_grep "$tmp/h" "Retry-After: 1" "and it says when to retry"
server_stop

# ---- a deployment with a process that cannot run: served, unless --strict ----
mkdir -p "$tmp/deploy-nr"
cp "$tmp/deploy"/*.xml "$top_srcdir"/tests/server/wss/deploy/p-broken.xml "$top_srcdir"/tests/server/wss/deploy/op-broken.xml "$tmp/deploy-nr/"
expect_exit 0 "--check-config serves a deployment with a process that cannot run" "${RUN[@]}" serve --deploy "$tmp/deploy-nr" --check-config
expect_grep "$tmp/out" "1 not runnable" "and says how many cannot run"
expect_exit 3 "--check-config --strict refuses it" "${RUN[@]}" serve --deploy "$tmp/deploy-nr" --check-config --strict
expect_grep "$tmp/err" "nosuchshape" "naming why"
expect_exit 3 "serve --strict refuses it at start-up: exit 3" "${RUN[@]}" serve --deploy "$tmp/deploy-nr" --strict --listen 127.0.0.1:0 --data "$tmp/data"
expect_grep "$tmp/err" "nosuchshape" "naming why"
mkdir -p "$tmp/deploy-nr2"
cp "$tmp/deploy"/*.xml "$tmp/deploy-nr2/"
sed -i 's/shapetype="map"/shapetype="nosuchshape"/' "$tmp/deploy-nr2/flow-service-example-greet.xml"
server_start "$tmp/log14" --deploy "$tmp/deploy-nr2" --data "$tmp/data" || not_ok "start with a Flow action that cannot run"
expect_code 503 "a Flow action whose process cannot run: 503" -X POST -H 'Content-Type: application/json' -d '{}' "$base/fs/ExampleService/actions/greet"
problem_check "it is a ServiceProblem" 503
json_check "naming the process and why" "'not runnable' in d['message'] and 'nosuchshape' in d['message']" "$tmp/b"
expect_code 200 "the other Flow actions still run" -X POST -H 'Content-Type: application/json' -d '{}' "$base/fs/ExampleService/metadata"
server_stop
mkdir -p "$tmp/deploy-dup"
cp "$tmp/deploy"/*.xml "$tmp/deploy-dup/"
sed -e 's/7a1c5e20-5f0d-4c3b-8e2a-000000000001/7a1c5e20-5f0d-4c3b-8e2a-0000000000ff/' \
  "$tmp/deploy/flow-service-example.xml" >"$tmp/deploy-dup/flow-service-twin.xml"
expect_exit 3 "--check-config refuses two Flow Services at one basePath, as serve would" "${RUN[@]}" serve --deploy "$tmp/deploy-dup" --check-config
expect_grep "$tmp/err" "both have the basePath" "naming the clash"
expect_exit 3 "miniatom check refuses them too" "${RUN[@]}" check --deploy "$tmp/deploy-dup"
expect_grep "$tmp/out" "LISTENER ERROR  fss" "check names the listener"

# ---- TLS and client certificates ----
(
  cd "$tmp" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=miniatom test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/O=Example/CN=flow-client" 2>/dev/null
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj "/CN=stranger" 2>/dev/null
) || not_ok "test certificates"
tls="--set server.tls.cert=$tmp/server.pem --set server.tls.key=$tmp/server.key"
expect_exit 0 "--check-config loads the certificate and key" "${RUN[@]}" serve $tls --check-config
expect_exit 2 "--check-config refuses a certificate with the wrong key" "${RUN[@]}" serve --set "server.tls.cert=$tmp/server.pem" --set "server.tls.key=$tmp/client.key" --check-config
server_start "$tmp/log8" --deploy "$tmp/deploy" --data "$tmp/data" $tls || not_ok "start with TLS"
base=https://127.0.0.1:$port
expect_code 200 "GET /health over TLS" --cacert "$tmp/ca.pem" "$base/health"
expect_code 000 "plain HTTP to the TLS port fails" "http://127.0.0.1:$port/health"
server_stop
server_start "$tmp/log9" --deploy "$tmp/deploy" --data "$tmp/data" $tls --set "server.tls.clientca=$tmp/ca.pem" \
  --set auth.health.mode=clientcert || not_ok "start with client certificates"
base=https://127.0.0.1:$port
expect_code 403 "clientcert without a certificate: 403" --cacert "$tmp/ca.pem" "$base/health"
expect_code 403 "clientcert with a certificate of another CA: 403" --cacert "$tmp/ca.pem" --cert "$tmp/other.pem" --key "$tmp/other.key" "$base/health"
expect_code 200 "clientcert with a certificate of the client CA: 200" --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key" "$base/health"
server_stop
server_start "$tmp/log10" --deploy "$tmp/deploy" --data "$tmp/data" $tls --set "server.tls.clientca=$tmp/ca.pem" \
  --set auth.health.mode=clientcert --set "auth.health.subject.flow=CN=flow-client,O=Example" || not_ok "start with allowed subjects"
base=https://127.0.0.1:$port
expect_code 200 "an allowed subject: 200" --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key" "$base/health"
server_stop
server_start "$tmp/log11" --deploy "$tmp/deploy" --data "$tmp/data" $tls --set "server.tls.clientca=$tmp/ca.pem" \
  --set auth.health.mode=clientcert --set "auth.health.subject.flow=CN=someone-else" || not_ok "start with other subjects"
base=https://127.0.0.1:$port
expect_code 403 "a subject that is not allowed: 403" --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key" "$base/health"
server_stop

finish
