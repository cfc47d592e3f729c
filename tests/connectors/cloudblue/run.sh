#!/usr/bin/env bash
# tests/connectors/cloudblue/run.sh - the CloudBlue Connect connector through the real binary:
# every action x object against a Prism mock of the official OpenAPI spec (prism mock --errors),
# then workflows against fake_connect.py (paging, approve pending, 429/500 retries, tokens).
# Prints "N passed, N failed"; exits non-zero on a failure.
#
# Environment: MINIATOM, top_srcdir, MA_SHARED (tests/lib.sh); MA_PRISM_DIR caches the Prism
# install (default ~/.cache/miniatom/prism); MA_CLOUDBLUE_PLUGINS=DIR loads the connector from a
# plugin folder instead of the built-in one; MA_SKIP_PRISM=1 skips the Prism part (offline).
. "$(dirname "$0")/../../lib.sh"
need_shared
here=$top_srcdir/tests/connectors/cloudblue
spec=$MA_SHARED/spec/cloudblue/connect-openapi30.yml
CONN=cb000000-0000-4000-8000-000000000001
TOKEN="SU-1234-5678:fake-secret-9f8e7d"
BAD_TOKEN="SU-9999-0000:wr0ng-t0ken-XYZ"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
PLUGINS=()
[ -n "${MA_CLOUDBLUE_PLUGINS:-}" ] && PLUGINS=(--plugins "$MA_CLOUDBLUE_PLUGINS")
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# cb LABEL URL [miniatom run arguments...]: runs into $tmp/LABEL/{out,stdout,stderr,code}
cb() {
  local label=$1 url=$2; shift 2
  local d=$tmp/$label
  rm -rf "$d"; mkdir -p "$d"
  local code=0
  "${RUN[@]}" run --deploy "$here/deploy" ${PLUGINS[@]+"${PLUGINS[@]}"} --data "$tmp/data" --out "$d/out" \
    --set "connection.$CONN.url=$url" "$@" >"$d/stdout" 2>"$d/stderr" || code=$?
  echo "$code" >"$d/code"
}
code_of() { cat "$tmp/$1/code"; }
ndocs() { ls "$tmp/$1/out" 2>/dev/null | grep -c '\.dat$' || true; }
show() { sed 's/^/    /' "$tmp/$1/stderr" | head -${2:-8}; }

# ---------------------------------------------------------------------------------------------
# 1. Prism: the requests the connector sends must be valid for the official spec
# ---------------------------------------------------------------------------------------------
prism_part() {
  if [ ! -f "$spec" ]; then not_ok "prism: the spec is missing: $spec"; return; fi
  local dir=${MA_PRISM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/miniatom/prism}
  local prism=$dir/node_modules/.bin/prism
  if [ ! -x "$prism" ] && ! { mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ]; }; then
    dir=$tmp/prism-cli; prism=$dir/node_modules/.bin/prism # no writable cache: install for this run
  fi
  if [ ! -x "$prism" ]; then
    mkdir -p "$dir"
    if ! npm install --no-audit --no-fund --prefix "$dir" @stoplight/prism-cli@5 >"$tmp/npm.log" 2>&1; then
      not_ok "prism: npm install @stoplight/prism-cli failed (set MA_SKIP_PRISM=1 to skip offline)"
      tail -5 "$tmp/npm.log" | sed 's/^/    /'
      return
    fi
  fi
  local port
  port=$(free_port)
  "$prism" mock --errors -h 127.0.0.1 -p "$port" "$spec" >"$tmp/prism.log" 2>&1 &
  local ppid=$!
  pids+=("$ppid")
  local up=0
  for _ in $(seq 1 180); do
    if curl -s -o /dev/null -H 'Authorization: ApiKey x' "http://127.0.0.1:$port/requests?limit=1" 2>/dev/null; then up=1; break; fi
    kill -0 "$ppid" 2>/dev/null || break
    sleep 0.5
  done
  if [ $up = 0 ]; then not_ok "prism: the mock did not start"; tail -5 "$tmp/prism.log" | sed 's/^/    /'; return; fi
  # Prism serves the spec's paths at its root (the spec's /public/v1 server prefix is not used)
  local url=http://127.0.0.1:$port
  local n=0 name input
  while IFS='|' read -r name input; do
    case $name in ''|'#'*) continue ;; esac
    n=$((n + 1))
    cb "prism$n" "$url" --set "connection.$CONN.customAuthCredentials=ApiKey SU-test:secret" "$name" --input "$here/$input"
    if [ "$(code_of "prism$n")" = 0 ] && [ "$(ndocs "prism$n")" -ge 1 ]; then
      ok "prism: $name"
    elif grep -q 'HTTP 500 Request/Response not valid' "$tmp/prism$n/stderr" && ! grep -q '; Request ' "$tmp/prism$n/stderr"; then
      # the request passed; the mock's generated response breaks the spec's own schema (e.g. an
      # integer enum for a string property), which --errors reports as a 500
      ok "prism: $name (request valid; the mock's response violates the spec)"
    else
      not_ok "prism: $name (exit $(code_of "prism$n"), $(ndocs "prism$n") documents)"; show "prism$n" 4
    fi
  done <"$here/prism-cases.txt"
  # the filter, ordering, select and paging of a List reach the mock as RQL it accepts
  if [ "$n" -lt 90 ]; then not_ok "prism: only $n cases in prism-cases.txt"; fi
  # a request the spec refuses (a number for template_id) is a document error naming the violation
  printf '{"template_id": 5}' >"$tmp/bad-approve.json"
  cb prism-bad "$url" --set "connection.$CONN.customAuthCredentials=ApiKey SU-test:secret" "Prism REQUEST APPROVE" \
    --input "$tmp/bad-approve.json"
  if [ "$(code_of prism-bad)" = 1 ] && grep -q "HTTP 422 Invalid request.*template_id must be string" "$tmp/prism-bad/stderr"; then
    ok "prism: an invalid request is refused by the mock and reported"
  else
    not_ok "prism: an invalid request: exit $(code_of prism-bad)"; show prism-bad
  fi
  kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# 2. the fake Connect server: workflows, retries, tokens
# ---------------------------------------------------------------------------------------------
prop_of() { # label n property -> value
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
    "$tmp/$1/out/$(printf '%04d' "$2").properties.json" "$3" 2>/dev/null
}
hits() { grep -c -- "$1" "$tmp/fake.log" || true; }

fake_part() {
  python3 "$here/fake_connect.py" --token "$TOKEN" --port-file "$tmp/fake.port" --log "$tmp/fake.log" &
  pids+=("$!")
  for _ in $(seq 1 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.1; done
  [ -s "$tmp/fake.port" ] || { not_ok "fake: the fake server did not start"; return; }
  local url="http://127.0.0.1:$(cat "$tmp/fake.port")/public/v1"
  local tok=(--set "connection.$CONN.customAuthCredentials=ApiKey $TOKEN")
  local fast=(--set "connection.$CONN.backoff=5")

  # a List over three pages, following Content-Range
  cb list "$url" "${tok[@]}" "Fake List Requests"
  local pages
  pages=$(grep -c '^GET /requests?ordering(created)&limit=100&offset=\(0\|100\|200\) 200$' "$tmp/fake.log")
  if [ "$(code_of list)" = 0 ] && [ "$(ndocs list)" = 250 ] && [ "$pages" = 3 ] && [ "$(hits '^GET /requests?')" = 3 ]; then
    ok "fake: a List follows Content-Range over three pages (250 documents, 3 requests)"
  else
    not_ok "fake: List over pages: exit $(code_of list), $(ndocs list) documents, $pages pages"; show list; tail -5 "$tmp/fake.log" | sed 's/^/    /'
  fi
  if [ "$(prop_of list 1 connector.cloudblue.id)" = PR-0000-0000-0001 ] && [ "$(prop_of list 250 connector.cloudblue.id)" = PR-0000-0000-0250 ] \
     && [ "$(prop_of list 1 meta.base.applicationstatuscode)" = 200 ] && grep -q '"id":"PR-0000-0000-0001"' "$tmp/list/out/0001.dat"; then
    ok "fake: each object is one JSON document with its id in connector.cloudblue.id"
  else
    not_ok "fake: list documents and ids"; head -c 300 "$tmp/list/out/0001.dat" 2>/dev/null; cat "$tmp/list/out/0001.properties.json" 2>/dev/null
  fi

  # a filter computed by the process (a document property set from a process property)
  cb listp "$url" "${tok[@]}" -p STATUS=pending "Fake List Requests"
  if [ "$(code_of listp)" = 0 ] && [ "$(ndocs listp)" = 5 ] && grep -q '^GET /requests?eq(status,pending)&ordering(created)&limit=100&offset=0 200$' "$tmp/fake.log"; then
    ok "fake: List filtered by a document property: 5 pending requests"
  else
    not_ok "fake: List pending: exit $(code_of listp), $(ndocs listp) documents"; show listp; grep 'eq(status' "$tmp/fake.log" | tail -2
  fi

  # List pending -> Approve each with a template id; the same process lists again: none pending
  cb approve "$url" "${tok[@]}" "Approve Pending Requests"
  local approved=0 f
  for f in "$tmp"/approve/out/*.dat; do grep -q '"status": *"approved".*"template": *{"id": *"TL-111-222-333"}' "$f" && approved=$((approved + 1)); done
  if [ "$(code_of approve)" = 0 ] && [ "$(ndocs approve)" = 5 ] && [ $approved = 5 ] && [ "$(hits '^POST /requests/PR-0000-0000-[0-9]*/approve 200$')" = 5 ]; then
    ok "fake: List pending -> Approve each with a template id (5 approved, the second List finds none)"
  else
    not_ok "fake: approve pending: exit $(code_of approve), $(ndocs approve) documents, $approved approved"; show approve
  fi
  cb listp2 "$url" "${tok[@]}" -p STATUS=pending "Fake List Requests"
  if [ "$(code_of listp2)" = 0 ] && [ "$(ndocs listp2)" = 0 ]; then ok "fake: a later List shows none pending"
  else not_ok "fake: a later List pending: exit $(code_of listp2), $(ndocs listp2) documents"; show listp2; fi
  printf '{"id": "PR-0000-0000-0050"}' >"$tmp/pr50.json"

  # 429 then success (Retry-After: 0)
  printf '{"id": "PR-RATE-0429"}' >"$tmp/pr429.json"
  cb r429 "$url" "${tok[@]}" "${fast[@]}" "Fake Get Request" --input "$tmp/pr429.json"
  if [ "$(code_of r429)" = 0 ] && [ "$(ndocs r429)" = 1 ] && [ "$(hits '^GET /requests/PR-RATE-0429 429$')" = 1 ] \
     && [ "$(hits '^GET /requests/PR-RATE-0429 200$')" = 1 ] && [ "$(prop_of r429 1 connector.cloudblue.id)" = PR-RATE-0429 ]; then
    ok "fake: a 429 is retried, then the request succeeds"
  else
    not_ok "fake: 429 then success: exit $(code_of r429), $(ndocs r429) documents"; show r429
  fi

  # a 500 retried (retries=2: three attempts), then given up with the error on the document
  printf '{"id": "PR-FAIL-0500"}' >"$tmp/pr500.json"
  cb r500 "$url" "${tok[@]}" "${fast[@]}" --set "connection.$CONN.retries=2" --json "Fake Get Request" --input "$tmp/pr500.json"
  if [ "$(code_of r500)" = 1 ] && [ "$(hits '^GET /requests/PR-FAIL-0500 500$')" = 3 ] \
     && grep -q 'CloudBlue GET Request PR-FAIL-0500: HTTP 500 SYS_500: internal failure' "$tmp/r500/stderr" \
     && grep -q '"documentErrors": 1' "$tmp/r500/stdout"; then
    ok "fake: a 500 is retried twice, then the document fails with HTTP 500, the error code and the message"
  else
    not_ok "fake: 500: exit $(code_of r500), $(hits '^GET /requests/PR-FAIL-0500 500$') attempts"; show r500
  fi
  cb r500r "$url" "${tok[@]}" --set "connection.$CONN.retries=0" "Fake Get Request Return Errors" --input "$tmp/pr500.json"
  if [ "$(code_of r500r)" = 0 ] && [ "$(ndocs r500r)" = 1 ] && [ "$(prop_of r500r 1 meta.base.applicationstatuscode)" = 500 ] \
     && [ "$(prop_of r500r 1 connector.cloudblue.error_code)" = SYS_500 ] && [ "$(prop_of r500r 1 connector.cloudblue.errors)" = "internal failure" ] \
     && grep -q '"error_code": "SYS_500"' "$tmp/r500r/out/0001.dat"; then
    ok "fake: with returnApplicationErrors the error response goes on with meta.base.applicationstatuscode 500"
  else
    not_ok "fake: return application errors: exit $(code_of r500r), $(ndocs r500r) documents"; show r500r
    cat "$tmp/r500r/out/0001.properties.json" 2>/dev/null
  fi

  # a refused token: said so, never printed (the fake server even quotes it back)
  cb r401 "$url" --set "connection.$CONN.customAuthCredentials=ApiKey $BAD_TOKEN" "Fake Get Request" --input "$tmp/pr50.json"
  cb r401j "$url" --set "connection.$CONN.customAuthCredentials=$BAD_TOKEN" --json "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of r401)" = 1 ] && grep -q "CloudBlue connection 'CloudBlue Connect': the API token was refused (HTTP 401: AUTH_001: Unauthorized: \*\*\*)" "$tmp/r401/stderr" \
     && [ "$(code_of r401j)" = 1 ] && grep -q 'the API token was refused' "$tmp/r401j/stdout"; then
    ok "fake: a refused token is reported as refused"
  else
    not_ok "fake: refused token: exit $(code_of r401)"; show r401
  fi
  if grep -rqF -e "wr0ng-t0ken" "$tmp/r401" "$tmp/r401j"; then
    not_ok "fake: the refused token appears in the output"; grep -rF "wr0ng-t0ken" "$tmp/r401" "$tmp/r401j" | head -3
  else
    ok "fake: the refused token appears nowhere in stdout, stderr, --json or results"
  fi
  if grep -rqF -e "fake-secret-9f8e7d" "$tmp/list" "$tmp/approve" "$tmp/r500" "$tmp/r500r" "$tmp/r429"; then
    not_ok "fake: the good token appears in an output"
  else
    ok "fake: the token appears nowhere in the outputs of the other runs"
  fi

  # a token without the "ApiKey " prefix (it is added), from the environment, or from a file
  cb prefix "$url" --set "connection.$CONN.customAuthCredentials=$TOKEN" "Fake Get Request" --input "$tmp/pr50.json"
  printf '%s\n' "$TOKEN" >"$tmp/token.txt"
  cb tfile "$url" --set "connection.CloudBlue Connect.customAuthCredentials.file=$tmp/token.txt" "Fake Get Request" --input "$tmp/pr50.json"
  local code=0
  MINIATOM_CONNECTION_CLOUDBLUE_CONNECT_CUSTOMAUTHCREDENTIALS="ApiKey $TOKEN" cb tenv "$url" "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of prefix)" = 0 ] && [ "$(code_of tfile)" = 0 ] && [ "$(code_of tenv)" = 0 ] \
     && [ "$(prop_of prefix 1 connector.cloudblue.id)" = PR-0000-0000-0050 ]; then
    ok "fake: the token is taken with or without its ApiKey prefix, from --set, a .file setting or the environment"
  else
    not_ok "fake: token sources: exit $(code_of prefix) $(code_of tfile) $(code_of tenv)"; show prefix 3; show tfile 3; show tenv 3
  fi

  # no token: the deployment still loads, the step fails saying how to configure it
  cb notoken "$url" "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of notoken)" = 1 ] && grep -qF "CloudBlue connection 'CloudBlue Connect': no API token configured (set connection.$CONN.customAuthCredentials or MINIATOM_CONNECTION_CLOUDBLUE_CONNECT_CUSTOMAUTHCREDENTIALS)" "$tmp/notoken/stderr"; then
    ok "fake: without a token the process fails at the connector step, naming the settings"
  else
    not_ok "fake: no token: exit $(code_of notoken)"; show notoken
  fi
  "${RUN[@]}" check --deploy "$here/deploy" ${PLUGINS[@]+"${PLUGINS[@]}"} \
    --set "connector.map.cloudbluecon-EXAMPL-cloudbluecon-prod=cloudblue" >"$tmp/check.out" 2>&1
  code=$?
  if [ $code = 0 ]; then ok "fake: miniatom check accepts the deployment without any token"
  else not_ok "fake: miniatom check without a token: exit $code"; head -5 "$tmp/check.out" | sed 's/^/    /'; fi

  # an exported connectorType id mapped to this connector type
  cb mapped "$url" "${tok[@]}" --set "connector.map.cloudbluecon-EXAMPL-cloudbluecon-prod=cloudblue" \
    "Fake Get Request Exported Type" --input "$tmp/pr50.json"
  if [ "$(code_of mapped)" = 0 ] && [ "$(ndocs mapped)" = 1 ]; then ok "fake: an exported connectorType mapped with connector.map runs"
  else not_ok "fake: mapped connectorType: exit $(code_of mapped)"; show mapped; fi

  # the workflow again: nothing pending, so no Approve call
  cb again "$url" "${tok[@]}" "Approve Pending Requests"
  if [ "$(code_of again)" = 0 ] && [ "$(ndocs again)" = 0 ] && [ "$(hits '/approve ')" = 5 ]; then
    ok "fake: the workflow run again approves nothing"
  else
    not_ok "fake: workflow again: exit $(code_of again), $(ndocs again) documents"; show again
  fi

  # an API error on a document: the code, the messages and the HTTP status
  printf '{"id": "PR-0000-0000-0999"}' >"$tmp/pr999.json"
  cb r404 "$url" "${tok[@]}" "Fake Get Request" --input "$tmp/pr999.json"
  if [ "$(code_of r404)" = 1 ] && grep -q 'CloudBlue GET Request PR-0000-0000-0999: HTTP 404 REQ_404: Request PR-0000-0000-0999 not found' "$tmp/r404/stderr"; then
    ok "fake: an API error fails the document with the HTTP status, error_code and errors"
  else
    not_ok "fake: API error: exit $(code_of r404)"; show r404
  fi

  # a Get without any id
  printf '{"template_id": "TL-1"}' >"$tmp/tl.json"
  cb noid "$url" "${tok[@]}" "Fake Get Request" --input "$tmp/tl.json"
  if [ "$(code_of noid)" = 1 ] && grep -q 'CloudBlue GET Request: no request_id: set the document property connector.cloudblue.request_id' "$tmp/noid/stderr"; then
    ok "fake: a Get without an id fails the document, naming the property"
  else
    not_ok "fake: Get without an id: exit $(code_of noid)"; show noid
  fi

  # connection failures are retried, then fail the document (the message names method and URL)
  local dead
  dead=$(free_port)
  cb dead "http://127.0.0.1:$dead" "${tok[@]}" "${fast[@]}" --set "connection.$CONN.retries=1" "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of dead)" = 1 ] && grep -q "CloudBlue GET Request PR-0000-0000-0050: HTTP GET http://127.0.0.1:$dead/requests/PR-0000-0000-0050: .*(after retries)" "$tmp/dead/stderr"; then
    ok "fake: a connection failure is retried, then fails the document"
  else
    not_ok "fake: connection failure: exit $(code_of dead)"; show dead
  fi

  # the connection's typed fields are read through the connector's config map at deploy
  cb t0 "$url" "${tok[@]}" --set "connection.$CONN.timeout=0" "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of t0)" = 3 ] && grep -q "CloudBlue: connection '.*' field timeout: '0' is out of range: expected a whole number from 1 to 86400000 (from --set: connection.$CONN.timeout)" "$tmp/t0/stderr"; then
    ok "fake: timeout=0 is refused at deploy, naming the field, the value and its origin"
  else
    not_ok "fake: timeout=0: exit $(code_of t0)"; show t0
  fi
  cb ins1 "$url" "${tok[@]}" --set "connection.$CONN.insecure=1" --set "connection.$CONN.timeout=20000" "Fake Get Request" --input "$tmp/pr50.json"
  if [ "$(code_of ins1)" = 0 ]; then ok "fake: insecure=1 and timeout in milliseconds are read as before"; else not_ok "fake: insecure=1: exit $(code_of ins1)"; show ins1; fi
}

if [ "${MA_SKIP_PRISM:-}" = 1 ]; then echo "# prism part skipped (MA_SKIP_PRISM=1)"; else prism_part; fi
fake_part

# an action or object the connector does not have: refused at deploy, listing the ones it has
mkdir -p "$tmp/optdeploy"; cp "$here"/deploy/*.xml "$tmp/optdeploy/"
sed -i 's/customOperationType="GET"/customOperationType="FROBNICATE"/' "$tmp/optdeploy/op-cb-case-get.xml"
"${RUN[@]}" check --deploy "$tmp/optdeploy" ${PLUGINS[@]+"${PLUGINS[@]}"} >"$tmp/optcheck.out" 2>&1
if grep -qF 'CloudBlue operation: action "FROBNICATE" is not one of: GET, LIST, CREATE, UPDATE, DELETE' "$tmp/optcheck.out"; then
  ok "an unknown action is reported by check with the connector's actions"; else not_ok "unknown CloudBlue action"; grep -i frobnicate "$tmp/optcheck.out" | head -3 | sed 's/^/    /'; fi
finish
