#!/usr/bin/env bash
# tests/connectors/cloudblue/example.sh - the example process "Approve pending CloudBlue requests"
# (processes/approve-cloudblue-requests*.xml) through the real binary: the deployment loads
# without a token, a run without one fails saying how to set it, and a run against fake_connect.py
# (token from the environment, URL with --set) approves every pending request and notifies the
# summary. Prints "N passed, N failed"; exits non-zero on a failure.
#
# Environment: MINIATOM, top_srcdir (tests/lib.sh); both default to this checkout.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
MINIATOM=${MINIATOM:-$top_srcdir/miniatom}
. "$(dirname "$0")/../../lib.sh"
here=$top_srcdir/tests/connectors/cloudblue
deploy=$top_srcdir/processes
PROCESS="Approve pending CloudBlue requests"
CONN=c0306055-521b-492c-9314-c15ac1b4956d
ENV_TOKEN=MINIATOM_CONNECTION_CLOUDBLUE_CONNECT_CUSTOMAUTHCREDENTIALS
TOKEN="SU-4321-8765:example-secret-5c4b3a"
PENDING=150 # more than one page of 100
tmp=$(mktemp -d)
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
unset "$ENV_TOKEN" MINIATOM_CONNECTION_CLOUDBLUE_CONNECT_CUSTOMAUTHCREDENTIALS_FILE

# ex LABEL [miniatom run arguments...]: runs the example into $tmp/LABEL.{stdout,stderr,code}
ex() {
  local label=$1; shift
  local code=0
  "${RUN[@]}" run --deploy "$deploy" --data "$tmp/data" "$@" "$PROCESS" >"$tmp/$label.stdout" 2>"$tmp/$label.stderr" || code=$?
  echo "$code" >"$tmp/$label.code"
}
code_of() { cat "$tmp/$1.code"; }
show() { sed 's/^/    /' "$tmp/$1.stderr" | head -"${2:-6}"; }
# json_get LABEL PYTHON-EXPRESSION: evaluates the expression over j, the --json output
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/$1.stdout" "$2" 2>/dev/null
}
# api PATH: GET on the fake server, prints the number of objects returned
api_count() {
  python3 - "$url$1" "$TOKEN" <<'EOF' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "ApiKey " + sys.argv[2]})
print(len(json.load(urllib.request.urlopen(req, timeout=10))))
EOF
}
hits() { grep -c -- "$1" "$tmp/fake.log" || true; }

# 1. the deployment loads and checks without any token
code=0
"${RUN[@]}" check --deploy "$deploy" >"$tmp/check.out" 2>&1 || code=$?
if [ $code = 0 ] && grep -q "^runnable *$PROCESS " "$tmp/check.out"; then
  ok "check --deploy processes exits 0 without a token; the example is runnable"
else
  not_ok "check --deploy processes: exit $code"; head -8 "$tmp/check.out" | sed 's/^/    /'
fi

# the fake Connect server: 600 requests, 150 of them pending
python3 "$here/fake_connect.py" --token "$TOKEN" --port-file "$tmp/fake.port" --log "$tmp/fake.log" \
  --requests 600 --pending $PENDING &
fake_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.1; done
if [ ! -s "$tmp/fake.port" ]; then not_ok "the fake server did not start"; finish; exit; fi
url="http://127.0.0.1:$(cat "$tmp/fake.port")/public/v1"
seturl=(--set "connection.$CONN.url=$url")
before=$(api_count "/requests?eq(status,pending)&limit=1000")
[ "$before" = $PENDING ] || not_ok "the fake server should start with $PENDING pending requests, has '$before'"
: >"$tmp/fake.log"

# 2. no token: exit 1, saying the token is missing and how to set it; nothing is sent
ex notoken "${seturl[@]}"
if [ "$(code_of notoken)" = 1 ] \
   && grep -qF "CloudBlue connection 'CloudBlue Connect': no API token configured (set connection.$CONN.customAuthCredentials or $ENV_TOKEN)" "$tmp/notoken.stderr" \
   && [ ! -s "$tmp/fake.log" ]; then
  ok "without a token the run fails (exit 1) saying the token is missing and how to set it; no request is sent"
else
  not_ok "no token: exit $(code_of notoken), $(wc -l <"$tmp/fake.log") requests sent"; show notoken
fi

# 3. the token from the environment: every pending request is approved with the default template
export "$ENV_TOKEN=ApiKey $TOKEN"
ex approve "${seturl[@]}" --json
if [ "$(code_of approve)" = 0 ] && [ "$(json_get approve 'j["status"]')" = COMPLETE ] \
   && [ "$(json_get approve 'j["documentErrors"]')" = 0 ]; then
  ok "the run with the token from $ENV_TOKEN completes"
else
  not_ok "approve: exit $(code_of approve), status $(json_get approve 'j["status"]')"; show approve
fi
pages=$(hits '^GET /requests?eq(status,pending)&ordering(created)&limit=100&offset=\(0\|100\) 200$')
approvals=$(hits '^POST /requests/PR-[0-9-]*/approve 200$')
if [ "$pages" = 2 ] && [ "$approvals" = $PENDING ] && [ "$(wc -l <"$tmp/fake.log")" = $((PENDING + 2)) ]; then
  ok "it lists the pending requests (two pages) and approves each one ($PENDING approve calls)"
else
  not_ok "requests sent: $pages list pages, $approvals approvals"; tail -3 "$tmp/fake.log" | sed 's/^/    /'
fi
pending=$(api_count "/requests?eq(status,pending)&limit=1000")
templated=$(api_count "/requests?and(eq(status,approved),eq(template.id,TL-000-000-000))&limit=1000")
if [ "$pending" = 0 ] && [ "$templated" = $PENDING ]; then
  ok "the fake server's state: none pending, $PENDING approved with the default template TL-000-000-000"
else
  not_ok "the fake server's state: $pending pending, $templated approved with TL-000-000-000"
fi
summary="Approved $PENDING pending CloudBlue request(s) with template TL-000-000-000"
if [ "$(json_get approve '[e["message"] for e in j["log"] if e["shape"] == "shape10"]')" = "['$summary']" ] \
   && [ "$(json_get approve 'sum(1 for e in j["log"] if e["message"].startswith("Approved CloudBlue request PR-"))')" = $PENDING ]; then
  ok "the --json log has one summary line: $summary"
else
  not_ok "summary in the --json log"; json_get approve '[e["message"] for e in j["log"]][-3:]' | sed 's/^/    /'
fi
if [ "$(json_get approve 'json.loads(j["results"][0]["data"]) if len(j["results"]) == 1 else None')" = \
     "{'approved': $PENDING, 'template_id': 'TL-000-000-000'}" ]; then
  ok "the result is the summary document {\"approved\": $PENDING, ...}"
else
  not_ok "summary document: $(json_get approve 'j["results"]')"
fi

# 4. again, with a template id of its own: nothing is pending any more, the summary says 0
: >"$tmp/fake.log"
ex again "${seturl[@]}" -p DPP_TEMPLATE_ID=TL-123-456-789
if [ "$(code_of again)" = 0 ] && [ "$(cat "$tmp/again.stdout")" = '{"approved": 0, "template_id": "TL-123-456-789"}' ] \
   && [ "$(hits '/approve ')" = 0 ]; then
  ok "a second run (DPP_TEMPLATE_ID set) approves nothing and reports 0"
else
  not_ok "second run: exit $(code_of again): $(head -c 200 "$tmp/again.stdout")"; show again
fi

# 5. the token appears nowhere
if grep -qF -e "example-secret-5c4b3a" "$tmp"/*.stdout "$tmp"/*.stderr; then
  not_ok "the token appears in an output"
else
  ok "the token appears nowhere in stdout, stderr or the --json summary"
fi
finish
