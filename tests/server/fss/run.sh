#!/usr/bin/env bash
# tests/server/fss/run.sh - the Flow Services Server listener (connectors/fss, docs/flow.md) through the real
# `miniatom serve` on an ephemeral loopback port: describe v1/v2, message actions, data actions and file
# resources of deploy/ and of the example in processes/, driven with the shared Flow samples (adapted to the
# services), malformed requests, WAIT + callback against receiver.py (BUSY, 503), a restart after kill -9
# with a pending callback, parallel clients. Needs curl and python3.
. "$(dirname "$0")/../../lib.sh"
here=$top_srcdir/tests/server/fss
samples=$MA_SHARED/spec/flow-samples
tmp=$(mktemp -d)
srv_pid=
rcv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  [ -n "$rcv_pid" ] && kill "$rcv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
[ -d "$samples" ] || { echo "FAIL: the Flow samples are missing: $samples (set MA_SHARED)" >&2; exit 1; }

# ---- the receiver (Flow's callback endpoint and a slow upstream), the deployment, the server ----
SLOW_SECONDS=3 python3 "$here/receiver.py" "$tmp/rport" "$tmp/callbacks" 2>"$tmp/receiver.err" &
rcv_pid=$!
for _ in $(seq 100); do [ -s "$tmp/rport" ] && break; sleep 0.05; done
[ -s "$tmp/rport" ] || { echo "FAIL: the receiver did not start" >&2; exit 1; }
rurl="http://127.0.0.1:$(cat "$tmp/rport")"
touch "$tmp/callbacks"
mkdir -p "$tmp/deploy" "$tmp/data"
cp "$here"/deploy/*.xml "$top_srcdir"/processes/flow-service-example*.xml "$tmp/deploy/"
sed -i "s#@RECEIVER_URL@#$rurl#" "$tmp/deploy/conn-receiver.xml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
ex="$base/fs/ExampleService"
ts="$base/fs/TestService"
start_server() { # [--set KEY=VALUE ...]
  # one server thread: a request that held it would hold up every other one
  "${RUN[@]}" serve --deploy "$tmp/deploy" --listen "127.0.0.1:$port" --data "$tmp/data" --set server.threads=1 \
    --set fss.callback.backoff=100ms --set fss.callback.retries=2 --set fss.callback.busy_retries=4 "$@" >>"$tmp/server.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 200); do
    curl -s -o /dev/null "$base/health" && return 0
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}
if start_server; then ok "miniatom serve is up on $base"; else
  not_ok "miniatom serve is up"; sed 's/^/    /' "$tmp/server.log" | head -30; finish; exit 1
fi

# req LABEL STATUS CURL-ARGS... : one request; its status must be STATUS. Leaves $tmp/h and $tmp/b.
req() {
  local label=$1 want=$2; shift 2
  local got
  got=$(curl -s -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@")
  if [ "$got" = "$want" ]; then return 0; fi
  not_ok "$label: status $got, expected $want"; sed 's/^/    /' "$tmp/b" | head -c 600; echo; return 1
}
# check LABEL <<'EOF' python EOF : python asserts on B (the response body as JSON), H (headers), S (samples)
cat >"$tmp/pre.py" <<'EOF'
import json, os, sys
T = os.environ["TMPD"]
raw = open(T + "/b", encoding="utf-8").read()
try: B = json.loads(raw)
except Exception: B = None
H = {}
for l in open(T + "/h", encoding="latin-1").read().splitlines()[1:]:
    if ":" in l: k, v = l.split(":", 1); H[k.strip().lower()] = v.strip()
def S(name): return json.load(open(os.path.join(os.environ["SAMPLES"], name)))
def keys(o): return set(o.keys())
def same_keys(got, want, what):
    assert keys(got) == keys(want), "%s: keys %s, the sample has %s" % (what, sorted(keys(got)), sorted(keys(want)))
def has_keys(got, want, what):
    missing = keys(want) - keys(got)
    assert not missing, "%s: lacks %s" % (what, sorted(missing))
def out(name, outs=None):
    for o in (B["outputs"] if outs is None else outs):
        if o["developerName"] == name: return o
    raise AssertionError("no output %s in %s" % (name, [o["developerName"] for o in (B["outputs"] if outs is None else outs)]))
def props(obj): return {p["developerName"]: p for p in obj["properties"]}
def problem(status, part):
    same_keys(B, S("service-problem-error.service-email.json"), "ServiceProblem")
    assert B["kind"] == "service" and B["statusCode"] == status, B
    assert part in B["message"], B["message"]
    assert H.get("x-manywho-service-problem-kind") == "service", H
EOF
check() {
  local label=$1 err
  if err=$( (cat "$tmp/pre.py"; cat) | TMPD=$tmp SAMPLES=$samples python3 - 2>&1); then ok "$label"; else
    not_ok "$label"; echo "$err" | tail -3 | sed 's/^/    /'; echo "    body: $(head -c 400 "$tmp/b")"
  fi
}
# adapt SAMPLE SCRIPT > file : a shared sample changed by a python expression on `d`
adapt() { SAMPLES=$samples python3 -c "import json,os; d=json.load(open(os.path.join(os.environ['SAMPLES'], '$1'))); $2; print(json.dumps(d))"; }
J=(-H 'Content-Type: application/json')

# ---- describe (v1 full and v2 install) ----
req "POST metadata" 200 -X POST "$ex/metadata" "${J[@]}" --data-binary @"$samples/describe-request.service-email.json" && check "describe v1: every member of the samples, the example's value, action and types" <<'EOF'
want = S("describe-response.service-email.json")
has_keys(B, want, "describe")
has_keys(B, {k: v for k, v in S("java-sdk-v2-describe-describe-response.json").items() if k != "version"}, "describe (v2 describe part, but version)")
assert "version" not in B
assert B["providesLogic"] and B["providesDatabase"] and not B["providesFiles"], B
cv = B["configurationValues"]
assert [c["developerName"] for c in cv] == ["Greeting"] and cv[0]["contentType"] == "ContentString" and cv[0]["required"] is False
has_keys(cv[0], want["configurationValues"][0], "DescribeValue")
a = B["actions"][0]
sa = dict(want["actions"][0]); sa["isViewMessageAction"] = sa.pop("viewMessageAction")
same_keys(a, sa, "action")
assert a["uriPart"] == "actions/greet" and a["developerName"] == "Greet" and a["developerSummary"] == "Greets someone by name."
assert [(i["developerName"], i["contentType"]) for i in a["serviceInputs"]] == [("name", "ContentString"), ("excited", "ContentBoolean")]
o = a["serviceOutputs"]
assert [(x["developerName"], x["contentType"], x["typeElementDeveloperName"]) for x in o] == [("message", "ContentString", None), ("greeting", "ContentObject", "Greet RESPONSE - greeting")], o
types = {t["developerName"]: t for t in B["install"]["typeElements"]}
assert set(types) == {"Greet RESPONSE - greeting", "Contact"}, set(types)
st = S("describe-response-with-types.service-sql.json")["install"]["typeElements"][0]
for t in types.values():
    same_keys(t, st, "typeElement")
    same_keys(t["properties"][0], st["properties"][0], "type property")
c = types["Contact"]
assert [(p["developerName"], p["contentType"]) for p in c["properties"]] == [("id", "ContentString"), ("name", "ContentString"), ("email", "ContentString"), ("city", "ContentString")]
same_keys(c["bindings"][0], st["bindings"][0], "binding")
same_keys(c["bindings"][0]["propertyBindings"][0], st["bindings"][0]["propertyBindings"][0], "property binding")
assert c["bindings"][0]["databaseTableName"] == "Contact" and types["Greet RESPONSE - greeting"]["bindings"] is None
EOF
cp "$tmp/b" "$tmp/describe1"
req "POST metadata, no body (v2)" 200 -X POST "$ex/metadata" && cmp -s "$tmp/b" "$tmp/describe1" && ok "describe: an empty body (v2) gets the same describe" || not_ok "describe with an empty body differs"
req "POST metadata/install" 200 -X POST "$ex/metadata/install" "${J[@]}" --data-binary @"$samples/describe-request.service-email.json" && check "install (v2): actions and types, as the JSDK v2 sample" <<'EOF'
want = S("java-sdk-v2-describe-install-response.json")
same_keys(B, want, "install")
d = json.load(open(T + "/describe1"))
assert B["actions"] == d["actions"] and B["types"] == d["install"]["typeElements"]
EOF
req "test service describe" 200 -X POST "$ts/metadata" "${J[@]}" -d '{}' && check "test service: basePath /fs/TestService/ read as TestService; required values; paths encoded; list and object types" <<'EOF'
cv = {c["developerName"]: c for c in B["configurationValues"]}
assert cv["Host"]["required"] and cv["Host"]["isRequired"] and cv["Port"]["contentType"] == "ContentNumber" and not cv["Port"]["required"]
assert B["providesFiles"] and B["providesDatabase"] and B["providesLogic"]
ua = {a["developerName"]: a["uriPart"] for a in B["actions"]}
assert ua == {"Echo": "actions/echo", "Typed": "actions/typed/v1", "Slow": "actions/slow", "Slow LL": "actions/slow-ll", "Hold": "actions/hold", "Fail": "actions/fail", "Bad Output": "actions/bad%20output"}, ua
t = [a for a in B["actions"] if a["developerName"] == "Typed"][0]
ins = {i["developerName"]: (i["contentType"], i["typeElementDeveloperName"]) for i in t["serviceInputs"]}
assert ins == {"name": ("ContentString", None), "count": ("ContentNumber", None), "ok": ("ContentBoolean", None), "when": ("ContentDateTime", None),
               "address": ("ContentObject", "Typed REQUEST - address"), "items": ("ContentList", "Typed REQUEST - items")}, ins
assert {o["developerName"]: o["typeElementDeveloperName"] for o in t["serviceOutputs"]}["items"] == "Typed RESPONSE - items"
names = [x["developerName"] for x in B["install"]["typeElements"]]
assert sorted(names) == sorted(["Typed REQUEST - address", "Typed REQUEST - items", "Typed RESPONSE - address", "Typed RESPONSE - items", "testtable"]), names
assert not [n for n in names if n.startswith("$File")]
EOF
req "describe: GET" 405 "$ex/metadata" && check "GET metadata: 405 ServiceProblem with Allow" <<'EOF'
problem(405, "use POST"); assert H["allow"] == "POST"
EOF
req "describe: not JSON" 400 -X POST "$ex/metadata" -d '{"uri": ' && check "describe: a body that is not JSON is a 400 ServiceProblem" <<'EOF'
problem(400, "not JSON")
EOF

# ---- message actions ----
adapt message-action-request.service-email.json "d['inputs']=[dict(d['inputs'][0], developerName='name', contentValue='Ada'), dict(d['inputs'][0], developerName='excited', contentValue='true', contentType='ContentBoolean')]; d['configurationValues']=[dict(d['configurationValues'][0], developerName='Greeting', contentValue='Bonjour')]" >"$tmp/greet.json"
req "Greet (the sample, adapted)" 200 -X POST "$ex/actions/greet" "${J[@]}" --data-binary @"$tmp/greet.json" && check "Greet: a ServiceResponse as the sample, FORWARD, token and tenant echoed, outputs by the response profile" <<'EOF'
want = S("message-action-response.service-email.json")
same_keys(B, want, "ServiceResponse")
rq = S("message-action-request.service-email.json")
assert B["invokeType"] == "FORWARD" and B["token"] == rq["token"] and B["tenantId"] == rq["tenantId"], B
assert B["rootFaults"] == {} and B["valueFaults"] == [] and B["annotations"] == {}
m = out("message"); same_keys(m, rq["inputs"][0], "output EngineValue")
assert m["contentValue"] == "Bonjour, Ada!" and m["contentType"] == "ContentString" and m["objectData"] is None
g = out("greeting")
assert g["contentType"] == "ContentObject" and g["typeElementDeveloperName"] == "Greet RESPONSE - greeting" and g["contentValue"] is None
lo = S("data-load-response-where.service-sql.json")["objectData"][0]
obj = g["objectData"][0]; same_keys(obj, lo, "Object"); same_keys(obj["properties"][0], lo["properties"][0], "Property")
assert obj["developerName"] == "Greet RESPONSE - greeting"
p = props(obj)
assert (p["text"]["contentValue"], p["name"]["contentValue"], p["length"]["contentValue"], p["length"]["contentType"]) == ("Bonjour", "Ada", "3", "ContentNumber"), p
EOF
req "Greet without inputs" 200 -X POST "$ex/actions/greet" "${J[@]}" -d '{"token":"t0","inputs":[]}' && check "Greet: no inputs, no configuration value: the defaults" <<'EOF'
assert out("message")["contentValue"] == "Hello, world." and B["tenantId"] is None
EOF
cat >"$tmp/echo.json" <<'EOF'
{"token":"tok-echo","tenantId":"ten-echo","stateId":"st-1","callbackUri":"https://flow.example/api/run/1/response",
 "culture":{"language":"EN","country":"USA","variant":null},"authorization":{"globalAuthenticationType":"PUBLIC"},
 "configurationValues":[{"developerName":"Host","contentValue":"smtp.example.com","contentType":"ContentString"},{"developerName":"Port","contentValue":587,"contentType":"ContentNumber"},{"developerName":"Ignored","contentValue":null}],
 "inputs":[{"developerName":"Body","contentValue":"hello \"you\"","contentType":"ContentString"},
  {"developerName":"Count","contentValue":"12.50","contentType":"ContentNumber"},
  {"developerName":"Flag","contentValue":"TRUE","contentType":"ContentBoolean"},
  {"developerName":"NotANumber","contentValue":"12,5","contentType":"ContentNumber"},
  {"developerName":"Nothing","contentValue":null,"contentType":"ContentString"},
  {"developerName":"Body","contentValue":"second","contentType":"ContentString"},
  {"developerName":"Person","contentType":"ContentObject","objectData":[{"developerName":"P","externalId":"p1","properties":[{"developerName":"name","contentValue":"Ada","contentType":"ContentString"},{"developerName":"age","contentValue":"36","contentType":"ContentNumber"}]}]},
  {"developerName":"Tags","contentType":"ContentList","objectData":[{"properties":[{"developerName":"t","contentValue":"a"}]},{"properties":[{"developerName":"t","contentValue":"b"}]}]}],
 "outcomes":[],"annotations":null,"attributes":null,"unknownMember":{"x":1}}
EOF
req "Echo" 200 -X POST "$ts/actions/echo" "${J[@]}" --data-binary @"$tmp/echo.json" && check "Echo: process properties token, tenantId, stateId, callbackUri, culture, inflowconfigurationvalues_*, fssOperation, authorization" <<'EOF'
v = {o["developerName"]: o["contentValue"] for o in B["outputs"]}
assert (v["token"], v["tenantId"], v["stateId"], v["callbackUri"], v["culture"]) == ("tok-echo", "ten-echo", "st-1", "https://flow.example/api/run/1/response", "EN-USA"), v
assert (v["host"], v["port"], v["operation"]) == ("smtp.example.com", "587", "action"), v
a = out("authorization"); assert a["contentType"] == "ContentObject" and props(a["objectData"][0])["globalAuthenticationType"]["contentValue"] == "PUBLIC"
EOF
check "Echo: the request document (inputs by contentType; the first of a name; nulls left out) and outputs without a profile" <<'EOF'
d = out("doc"); assert d["contentType"] == "ContentObject" and d["typeElementDeveloperName"] == "Echo RESPONSE - doc", d
p = props(d["objectData"][0])
assert list(p) == ["Body", "Count", "Flag", "NotANumber", "Person", "Tags"], list(p)
assert p["Body"]["contentValue"] == 'hello "you"' and p["Body"]["contentType"] == "ContentString"
assert p["Count"]["contentValue"] == "12.5" and p["Count"]["contentType"] == "ContentNumber"
assert p["Flag"]["contentValue"] == "true" and p["Flag"]["contentType"] == "ContentBoolean"
assert p["NotANumber"]["contentValue"] == "12,5" and p["NotANumber"]["contentType"] == "ContentString"
per = p["Person"]; assert per["contentType"] == "ContentObject" and per["objectData"][0]["developerName"] == "Echo RESPONSE - doc - Person"
pp = props(per["objectData"][0]); assert pp["name"]["contentValue"] == "Ada" and pp["age"]["contentType"] == "ContentNumber"
tags = p["Tags"]; assert tags["contentType"] == "ContentList" and [props(o)["t"]["contentValue"] for o in tags["objectData"]] == ["a", "b"]
assert [o["order"] for o in tags["objectData"]] == [0, 1]
EOF
cat >"$tmp/typed.json" <<'EOF'
{"token":"tok-typed","inputs":[{"developerName":"name","contentValue":"Widget","contentType":"ContentString"},
 {"developerName":"count","contentValue":"3","contentType":"ContentString"},
 {"developerName":"ok","contentValue":"false","contentType":null},
 {"developerName":"when","contentValue":"2026-11-23T10:00:00.000Z","contentType":"ContentDateTime"},
 {"developerName":"extra","contentValue":"not in the profile","contentType":"ContentString"},
 {"developerName":"address","contentType":"ContentObject","objectData":[{"developerName":"Typed REQUEST - address","properties":[{"developerName":"street","contentValue":"1 Main St"},{"developerName":"city","contentValue":"Springfield"}]}]},
 {"developerName":"items","contentType":"ContentList","objectData":[{"properties":[{"developerName":"sku","contentValue":"A-1"},{"developerName":"qty","contentValue":"2"}]},{"properties":[{"developerName":"sku","contentValue":"B-2"},{"developerName":"qty","contentValue":"x"}]}]}]}
EOF
req "Typed" 200 -X POST "$ts/actions/typed/v1" "${J[@]}" --data-binary @"$tmp/typed.json" && check "Typed: inputs typed by the request profile, outputs by the response profile (every field, in profile order)" <<'EOF'
assert [o["developerName"] for o in B["outputs"]] == ["name", "count", "ok", "when", "address", "items"]
assert (out("count")["contentValue"], out("count")["contentType"]) == ("3", "ContentNumber")
assert (out("ok")["contentValue"], out("ok")["contentType"]) == ("false", "ContentBoolean")
assert (out("when")["contentValue"], out("when")["contentType"]) == ("2026-11-23T10:00:00.000Z", "ContentDateTime")
a = out("address"); assert a["typeElementDeveloperName"] == "Typed RESPONSE - address" and props(a["objectData"][0])["city"]["contentValue"] == "Springfield"
i = out("items"); assert i["contentType"] == "ContentList" and i["typeElementDeveloperName"] == "Typed RESPONSE - items"
assert [(props(o)["sku"]["contentValue"], props(o)["qty"]["contentValue"]) for o in i["objectData"]] == [("A-1", "2"), ("B-2", "x")]
assert [o["developerName"] for o in i["objectData"]] == ["Typed RESPONSE - items"] * 2
EOF
req "Typed, empty" 200 -X POST "$ts/actions/typed/v1" "${J[@]}" -d '{"inputs":null}' && check "Typed: an empty request document gives every output as null" <<'EOF'
assert all(o["contentValue"] is None and o["objectData"] is None for o in B["outputs"]), B["outputs"]
EOF
req "Fail" 500 -X POST "$ts/actions/fail" "${J[@]}" -d '{"token":"x"}' && check "a process that fails: 500 ServiceProblem with its message and execution id" <<'EOF'
problem(500, "failed on purpose"); assert "execution-" in B["message"] and B["uri"] == "/actions/fail"
EOF
req "Bad Output" 500 -X POST "$ts/actions/bad%20output" "${J[@]}" -d '{}' && check "a returned document that is not JSON: 500 ServiceProblem" <<'EOF'
problem(500, "returned document 1 is not JSON")
EOF
# malformed requests
bad() { # LABEL STATUS MESSAGE-PART CURL-ARGS...
  local label=$1 st=$2 part=$3; shift 3
  req "$label" "$st" "$@" && ST=$st PART=$part check "$label: $st ServiceProblem" <<'EOF'
problem(int(os.environ["ST"]), os.environ["PART"])
EOF
}
bad "action: not JSON" 400 "not JSON" -X POST "$ex/actions/greet" -d '{"inputs": [}'
bad "action: an empty body" 400 "empty" -X POST "$ex/actions/greet"
bad "action: a JSON array" 400 "must be a JSON object" -X POST "$ex/actions/greet" -d '[]'
bad "action: inputs not an array" 400 "inputs: must be an array or null" -X POST "$ex/actions/greet" -d '{"inputs":{}}'
bad "action: token not a string" 400 "token: must be a string or null" -X POST "$ex/actions/greet" -d '{"token":5}'
bad "action: a bad nested object" 400 "inputs[0].objectData[0].properties[1]: must be an object" -X POST "$ex/actions/greet" -d '{"inputs":[{"developerName":"x","objectData":[{"properties":[{},7]}]}]}'
bad "action: contentValue an object" 400 "inputs[0].contentValue: must be a string, a number, a boolean or null" -X POST "$ex/actions/greet" -d '{"inputs":[{"contentValue":{}}]}'
bad "action: callbackUri not http" 400 "callbackUri must be an http or https URL" -X POST "$ex/actions/greet" -d '{"callbackUri":"file:///etc/passwd","token":"t"}'
deep=$(python3 -c 'print("{\"inputs\":[{\"developerName\":\"x\",\"objectData\":" + "[{\"properties\":[{\"developerName\":\"y\",\"objectData\":" * 40 + "[]" + "}]}]" * 40 + "}]}")')
bad "action: objects nested too deep" 400 "nested deeper than" -X POST "$ex/actions/greet" -d "$deep"
bad "action: GET" 405 "use POST" "$ex/actions/greet"
bad "unknown action" 404 "no message action" -X POST "$ex/actions/nope" -d '{}'
bad "unknown service" 404 "no Flow Service is deployed" -X POST "$base/fs/Nope/metadata" -d '{}'
bad "unknown path in a service" 404 "serves nothing" -X POST "$ex/whatever" -d '{}'
bad "data/delete with PUT" 405 "use POST" -X PUT "$ex/data/delete" -d '{}'

# ---- data actions: the example's Contact ----
adapt data-load-request-where.service-sql.json "d['objectDataType']['developerName']='Contact'; d['objectDataType']['properties']=[{'developerName':n,'list':None} for n in ('id','name','email')]; d['listFilter']['where'][0]['value']=d['listFilter']['where'][0]['contentValue']='Ada Lovelace'; d['objectData']=None" >"$tmp/load-where.json"
req "load (the where sample, adapted)" 200 -X POST "$ex/data" "${J[@]}" --data-binary @"$tmp/load-where.json" && check "load: an ObjectDataResponse as the sample: the Contact the where names, externalId from id" <<'EOF'
want = S("data-load-response-where.service-sql.json")
same_keys(B, want, "ObjectDataResponse")
assert B["hasMoreResults"] is False and len(B["objectData"]) == 1, B
o = B["objectData"][0]; same_keys(o, want["objectData"][0], "Object"); same_keys(o["properties"][0], want["objectData"][0]["properties"][0], "Property")
assert [x["externalId"] for x in B["objectData"]] == ["1"] and o["developerName"] == "Contact"
assert props(o)["name"]["contentValue"] == "Ada Lovelace" and [x["order"] for x in B["objectData"]] == [0]
EOF
req "load by id" 200 -X POST "$ex/data" "${J[@]}" -d '{"objectDataType":{"developerName":"Contact"},"listFilter":{"id":"2"}}' && check "load with listFilter.id: the Get process with param_id" <<'EOF'
assert [props(o)["name"]["contentValue"] for o in B["objectData"]] == ["Grace Hopper"]
EOF
adapt data-save-request.service-sql.json "d['objectDataType']={'developerName':'Contact','properties':[]}; [o.update(developerName='Contact', internalId='int-%d' % i, properties=[{'developerName':'name','contentValue':'test%d' % (i+1),'contentType':'ContentString'},{'developerName':'email','contentValue':'t%d@example.com' % (i+1)}]) for i, o in enumerate(d['objectData'])]" >"$tmp/save.json"
req "save (the sample, adapted)" 200 -X PUT "$ex/data" "${J[@]}" --data-binary @"$tmp/save.json" && check "save: new contacts get ids 11 and 12; internalId kept; as the save sample" <<'EOF'
want = S("data-save-response.service-sql.json")
same_keys(B, want, "ObjectDataResponse"); same_keys(B["objectData"][0], want["objectData"][0], "Object")
assert [(o["externalId"], o["internalId"], props(o)["name"]["contentValue"]) for o in B["objectData"]] == [("11", "int-0", "test1"), ("12", "int-1", "test2")], B
EOF
req "save an update" 200 -X PUT "$ex/listener" "${J[@]}" -d '{"objectDataType":{"developerName":"Contact"},"objectData":[{"developerName":"Contact","externalId":"1","properties":[{"developerName":"id","contentValue":"1"},{"developerName":"name","contentValue":"Ada King"},{"developerName":"email","contentValue":"ada@example.org"}]}]}' &&
  req "load all" 200 -X POST "$ex/listener" "${J[@]}" -d '{"objectDataType":{"developerName":"Contact"}}' && check "save then load (PUT and POST /listener): the list kept by the example" <<'EOF'
got = [(o["externalId"], props(o)["name"]["contentValue"]) for o in B["objectData"]]
assert len(got) == 12 and got[:2] == [("1", "Ada King"), ("2", "Grace Hopper")] and got[-2:] == [("11", "test1"), ("12", "test2")], got
EOF
adapt data-load-request-search.service-sql.json "d['objectDataType']['developerName']='Contact'; d['listFilter']['search']='example.com'; d['listFilter']['limit']=2; d['listFilter']['offset']=1" >"$tmp/load-search.json"
req "load (the search sample, adapted, paged)" 200 -X POST "$ex/data" "${J[@]}" --data-binary @"$tmp/load-search.json" && check "load: search, then limit and offset page the result, hasMoreResults says there is more" <<'EOF'
assert [o["externalId"] for o in B["objectData"]] == ["3", "9"] and B["hasMoreResults"] is True
assert [o["order"] for o in B["objectData"]] == [0, 1]
EOF
bad "delete without a Delete process" 501 "has no Delete process" -X POST "$ex/data/delete" "${J[@]}" -d '{"objectDataType":{"developerName":"Contact"},"objectData":[{"developerName":"Contact","externalId":"1"}]}'
bad "load of an unknown type" 404 "no data action" -X POST "$ex/data" -d '{"objectDataType":{"developerName":"Nope"}}'
bad "load: limit negative" 400 "listFilter.limit: must be a whole number" -X POST "$ex/data" -d '{"listFilter":{"limit":-1}}'

# ---- data actions: the shared samples as they are (testtable) ----
req "save (the sample as is)" 200 -X PUT "$ts/data" "${J[@]}" --data-binary @"$samples/data-save-request.service-sql.json" && check "testtable save: the objects back with externalId from id, as the sample response" <<'EOF'
want = S("data-save-response.service-sql.json")
same_keys(B, want, "ObjectDataResponse")
got = [(o["developerName"], o["externalId"], props(o)["id"]["contentValue"], props(o)["id"]["contentType"], props(o)["data"]["contentValue"]) for o in B["objectData"]]
assert got == [("testtable", "1", "1", "ContentNumber", "test1"), ("testtable", "2", "2", "ContentNumber", "test2")], got
EOF
req "delete (the sample as is)" 200 -X POST "$ts/data/delete" "${J[@]}" --data-binary @"$samples/data-delete-request.service-sql.json" && check "testtable delete: the Delete process gets each object" <<'EOF'
assert [o["externalId"] for o in B["objectData"]] == ["1", "2"] and B["hasMoreResults"] is False
EOF
req "testtable load, last page" 200 -X POST "$ts/data" -d '{"objectDataType":{"developerName":"testtable"},"listFilter":{"limit":2,"offset":4}}' && check "paging: the last page has no more results" <<'EOF'
assert [o["externalId"] for o in B["objectData"]] == ["5"] and B["hasMoreResults"] is False
EOF
req "filter summary (where sample)" 200 -X POST "$ts/filters/data" "${J[@]}" --data-binary @"$samples/data-load-request-where.service-sql.json" && check "the Query process gets the listFilter as Boomi's QueryFilter XML (longest basePath wins)" <<'EOF'
assert props(B["objectData"][0])["data"]["contentValue"] == "id= search= limit= offset= filter=and [name EQUAL country1's, name] sort id ASC", B
EOF
req "filter summary (search sample)" 200 -X POST "$ts/filters/data" "${J[@]}" --data-binary @"$samples/data-load-request-search.service-sql.json" && check "search goes to param_search; no where, no expression" <<'EOF'
assert props(B["objectData"][0])["data"]["contentValue"] == "id= search=country2 limit= offset= filter= sort id ASC", B
EOF
req "filter summary (id, paging, nested)" 200 -X POST "$ts/filters/data" -d '{"listFilter":{"id":7,"limit":10,"offset":0,"comparisonType":"OR","where":[{"columnName":"a<b","criteriaType":"CONTAINS","value":"x&y"}],"listFilters":[{"comparisonType":"AND","where":[{"columnName":"c","criteriaType":"IS_EMPTY"}]}],"orderBy":[{"columnName":"d","direction":"DESC"}]}}' && check "QueryFilter: escaped values, nested filters, orderBy; param_id and param_limit" <<'EOF'
assert props(B["objectData"][0])["data"]["contentValue"] == "id=7 search= limit=10 offset= filter=or [a<b CONTAINS x&y] [ and ] [c IS_EMPTY ] sort d DESC", B
EOF

# ---- file resources ----
adapt file-list-request.service-email.json "d['resourcePath']='/file'" >"$tmp/files.json"
req "list files (the sample, adapted)" 200 -X POST "$ts/file" "${J[@]}" --data-binary @"$tmp/files.json" && check "list files: \$File objects, externalId from externalid, param_resourcePath" <<'EOF'
same_keys(B, S("data-load-response-where.service-sql.json"), "ObjectDataResponse")
assert [(o["developerName"], o["externalId"], props(o)["name"]["contentValue"]) for o in B["objectData"]] == [("$File", "f1", "a.txt"), ("$File", "f2", "b.csv"), ("$File", "f3", "/file")], B
EOF
printf 'hello file' >"$tmp/x.txt"
req "upload (multipart)" 200 -X POST "$ts/file/content" -F 'FileDataRequest={"resourcePath":"/file","stateId":"s"};type=application/json' -F "file=@$tmp/x.txt;type=text/plain;filename=dir/x.txt" && check "upload: the file part is the document (fileName, fileContentType); the type of the upload profile" <<'EOF'
o = B["objectData"][0]; p = props(o)
assert o["developerName"] == "$File RESPONSE - FileUploaded" and o["externalId"] == "x.txt", o
assert (p["name"]["contentValue"], p["mimeType"]["contentValue"], p["content"]["contentValue"]) == ("x.txt", "text/plain", "hello file"), p
EOF
req "upload (octet-stream, /files/content)" 200 -X POST "$ts/files/content?resourcePath=/file" -H 'Content-Type: application/octet-stream' -H 'Content-Disposition: attachment; filename="raw.bin"' --data-binary 'raw bytes' && check "upload of a raw body: Content-Disposition names the file" <<'EOF'
p = props(B["objectData"][0]); assert (p["name"]["contentValue"], p["content"]["contentValue"]) == ("raw.bin", "raw bytes"), p
EOF
req "delete file" 200 -X POST "$ts/files/delete" "${J[@]}" -d '{"resourcePath":"file","resourceFile":"f2"}' && check "delete file: param_id is resourceFile" <<'EOF'
assert [o["externalId"] for o in B["objectData"]] == ["f2"]
EOF
bad "upload without boundary" 400 "no valid boundary" -X POST "$ts/file/content" -H 'Content-Type: multipart/form-data' -d 'x'
bad "upload without a file part" 400 "no file part" -X POST "$ts/file/content" -F 'FileDataRequest={"resourcePath":"/file"};type=application/json'
bad "unknown resource path" 404 "no file resource" -X POST "$ts/file" -d '{"resourcePath":"/other"}'

# ---- parallel clients ----
seq 32 | xargs -P 32 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$ex/actions/greet" "${J[@]}" --data-binary @"$tmp/greet.json" >"$tmp/par"
[ "$(grep -c '^200$' "$tmp/par")" = 32 ] && ok "32 parallel Greet requests: all 200" || not_ok "parallel Greet: $(sort "$tmp/par" | uniq -c | tr '\n' ' ')"

# ---- WAIT and the callback ----
# callbacks TOKEN N: waits (up to 20 s) until the receiver has N callbacks for TOKEN; leaves them in $tmp/cbs (JSON lines)
callbacks() {
  for _ in $(seq 200); do
    TOKEN=$1 python3 -c 'import json,os,sys
n=0
with open(sys.argv[1]) as f, open(sys.argv[2],"w") as o:
    for l in f:
        e=json.loads(l)
        try: t=json.loads(e["body"]).get("token")
        except Exception: t=None
        if t==os.environ["TOKEN"]: n+=1; o.write(l)' "$tmp/callbacks" "$tmp/cbs"
    [ "$(wc -l <"$tmp/cbs")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
cbcheck() { # LABEL <<python: C = the callbacks for the token, each {"path","tenant","contentType","body"(parsed)}
  local label=$1 err
  if err=$( (echo 'import json,sys'; echo 'C=[json.loads(l) for l in open(sys.argv[1])]'; echo 'for c in C: c["body"]=json.loads(c["body"])'; cat) | python3 - "$tmp/cbs" 2>&1); then ok "$label"; else
    not_ok "$label"; echo "$err" | tail -3 | sed 's/^/    /'; head -c 600 "$tmp/cbs" | sed 's/^/    /'
  fi
}
forwards() { # TOKEN... : prints how many final (FORWARD) callbacks for these tokens the receiver has got
  python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    try: b=json.loads(json.loads(l)["body"])
    except Exception: continue
    n+=b.get("token") in sys.argv[2:] and b.get("invokeType")=="FORWARD"
print(n)' "$tmp/callbacks" "$@"
}
asked() { cat "$tmp/callbacks.asked" 2>/dev/null | grep -c "^/$1"; }       # PATH: how many GET /PATH came to the receiver
answered() { cat "$tmp/callbacks.answered" 2>/dev/null | grep -c "^/$1"; } # PATH: how many of them it answered
slow_req() { # TOKEN MODE
  printf '{"token":"%s","tenantId":"ten-%s","stateId":"st","callbackUri":"%s/cb/%s","inputs":[]}' "$1" "$2" "$rurl" "$2"
}
slow0=$(answered slow)
touch "$tmp/callbacks.hold" # the receiver holds GET /slow: the process cannot end before the test lets it
t0=$(date +%s%N)
req "Slow (sync timeout 1 s)" 200 -X POST "$ts/actions/slow" "${J[@]}" -d "$(slow_req tok-busy busy)" && check "past the sync timeout: WAIT with the same token, as the WAIT sample" <<'EOF'
same_keys(B, S("message-action-response-wait.service-email.json"), "WAIT response")
assert B["invokeType"] == "WAIT" and B["token"] == "tok-busy" and B["tenantId"] == "ten-busy" and B["outputs"] == [], B
assert "still running" in B["waitMessage"]
EOF
ms=$((($(date +%s%N) - t0) / 1000000))
# "before the process ended" without a clock: its GET /slow is still held, no final (FORWARD) callback yet
fwd=$(forwards tok-busy) slow_done=$(answered slow)
rm -f "$tmp/callbacks.hold"
[ "$ms" -ge 900 ] && [ "$fwd" = 0 ] && [ "$slow_done" = "$slow0" ] && ok "WAIT came after the sync timeout, before the process ended (${ms} ms)" ||
  not_ok "WAIT after ${ms} ms, ${fwd} final callbacks already there, GET /slow answered $((slow_done - slow0)) time(s)"
if callbacks tok-busy 2; then cbcheck "callback: BUSY, then the final ServiceResponse again, with ManyWhoTenant" <<'EOF'
assert len(C) == 2, len(C)
for c in C:
    assert c["path"] == "/cb/busy" and c["tenant"] == "ten-busy" and c["contentType"] == "application/json", c
assert C[0]["body"] == C[1]["body"]
b = C[1]["body"]
assert b["invokeType"] == "FORWARD" and b["token"] == "tok-busy" and b["tenantId"] == "ten-busy" and b["rootFaults"] == {}, b
assert set(b) == {"token", "tenantId", "culture", "annotations", "invokeType", "waitMessage", "outputs", "selectedOutcomeId", "rootFaults", "valueFaults", "mode"}
o = {x["developerName"]: x["contentValue"] for x in b["outputs"]}
assert o == {"result": "slow done", "token": "tok-busy"}, o
EOF
else not_ok "callback after BUSY: the receiver got $(wc -l <"$tmp/cbs") callback(s)"; tail -5 "$tmp/server.log"; fi
req "Slow, Flow answers 503 once" 200 -X POST "$ts/actions/slow" "${J[@]}" -d "$(slow_req tok-err err)" &&
  if callbacks tok-err 2; then cbcheck "callback: retried after a 503" <<'EOF'
assert [c["body"]["invokeType"] for c in C] == ["FORWARD", "FORWARD"] and C[1]["body"]["outputs"][0]["contentValue"] == "slow done"
EOF
  else not_ok "callback after 503: $(wc -l <"$tmp/cbs") callback(s)"; fi
# a message action whose process waits on the outside world is handled off the (single) server thread:
# Hold (low latency, sync timeout 60 s) waits on the receiver's GET /hold until the test releases it, and
# /health and Greet are answered meanwhile (the --max-time is only a ceiling far below the 60 s)
touch "$tmp/callbacks.hold"
: >"$tmp/hold-bg"
curl -s -o "$tmp/hold-bg" --max-time 90 -X POST "$ts/actions/hold" "${J[@]}" -d "$(slow_req tok-hold ok)" &
bg=$!
for _ in $(seq 600); do [ "$(asked hold)" = 1 ] && break; sleep 0.05; done
h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$base/health")
g=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST "$ex/actions/greet" "${J[@]}" --data-binary @"$tmp/greet.json")
held=$(asked hold)
# the state when /health and Greet were answered: Hold held by the receiver, not answered yet
if [ "$h $g" = "200 200" ] && [ "$held" = 1 ] && [ "$(answered hold)" = 0 ] && [ ! -s "$tmp/hold-bg" ] && kill -0 $bg 2>/dev/null; then
  ok "while Hold is held in flight, /health and Greet are answered by the one server thread"
else not_ok "while Hold was held: health $h, Greet $g, GET /hold arrived $held time(s), Hold answered '$(head -c 200 "$tmp/hold-bg")'"; fi
rm -f "$tmp/callbacks.hold"
wait $bg
grep -q '"contentValue":"held done"' "$tmp/hold-bg" && [ "$(answered hold)" = 1 ] &&
  ok "once released, Hold answers with its outputs" || not_ok "Hold after its release: $(head -c 200 "$tmp/hold-bg")"
req "Slow LL (low latency, sync timeout 1 s)" 200 -X POST "$ts/actions/slow-ll" "${J[@]}" -d "$(slow_req tok-ll ok)" && check "low latency past the sync timeout: WAIT too" <<'EOF'
assert B["invokeType"] == "WAIT" and B["token"] == "tok-ll" and B["tenantId"] == "ten-ok" and B["outputs"] == [], B
EOF
ll_exec=$(sed -n 's/.*(execution \(execution-[^)]*\)).*/\1/p' "$tmp/b")
if callbacks tok-ll 1; then cbcheck "low latency: the callback brings the final outputs" <<'EOF'
assert len(C) == 1, len(C)
b = C[0]["body"]
assert C[0]["path"] == "/cb/ok" and b["invokeType"] == "FORWARD" and b["token"] == "tok-ll" and b["rootFaults"] == {}, b
assert {x["developerName"]: x["contentValue"] for x in b["outputs"]} == {"result": "slow done", "token": "tok-ll"}, b
EOF
else not_ok "low latency: the receiver got $(wc -l <"$tmp/cbs") callback(s) for tok-ll"; tail -5 "$tmp/server.log"; fi
if [ -z "$ll_exec" ]; then not_ok "the WAIT message names no execution id"
elif "${RUN[@]}" execution show "$ll_exec" --data "$tmp/data" >"$tmp/show" 2>&1; then not_ok "low latency: $ll_exec was recorded"; head -5 "$tmp/show"
elif grep -q "$ll_exec" "$tmp/show"; then ok "low latency: $ll_exec is not in the execution history ($(head -c 120 "$tmp/show"))"
else not_ok "execution show $ll_exec: $(head -c 200 "$tmp/show")"; fi
bad "Slow without callbackUri" 504 "has no callbackUri" -X POST "$ts/actions/slow" "${J[@]}" -d '{"token":"tok-none"}'
grep -q '"msg":"fss callback delivered"' "$tmp/server.log" && ok "the server logs delivered callbacks" || not_ok "no 'fss callback delivered' log line"

# ---- kill -9 with a pending callback, then a restart ----
touch "$tmp/callbacks.hold" # GET /slow is held: the process is still in flight when the server is killed
req "Slow before the crash" 200 -X POST "$ts/actions/slow" "${J[@]}" -d "$(slow_req tok-crash ok)" && check "WAIT before the crash" <<'EOF'
assert B["invokeType"] == "WAIT"
EOF
kill -9 "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
rm -f "$tmp/callbacks.hold"
if start_server; then ok "restarted after kill -9"; else not_ok "restart after kill -9"; tail -5 "$tmp/server.log"; finish; exit 1; fi
if callbacks tok-crash 1; then cbcheck "after the restart, the pending callback gets an error response" <<'EOF'
assert len(C) == 1, C
b = C[0]["body"]
assert b["token"] == "tok-crash" and b["tenantId"] == "ten-ok" and b["invokeType"] == "FORWARD" and C[0]["tenant"] == "ten-ok"
assert "the runtime stopped while the process ran" in b["rootFaults"]["error"] and "execution-" in b["rootFaults"]["error"], b
EOF
else not_ok "no error response after the restart"; tail -5 "$tmp/server.log"; fi
kill -TERM "$srv_pid"; wait "$srv_pid"; rc=$?; srv_pid=
[ $rc = 0 ] && ok "SIGTERM: the server stops (exit 0)" || not_ok "SIGTERM: exit $rc"
start_server && sleep 1
callbacks tok-crash 1 && [ "$(wc -l <"$tmp/cbs")" = 1 ] && ok "an answered callback is not sent again at the next start" || not_ok "tok-crash was answered $(wc -l <"$tmp/cbs") times"

# ---- deferred actions never wait for a busy worker; server.slow_threads bounds them ----
kill -TERM "$srv_pid"; wait "$srv_pid"; srv_pid=
if start_server --set workers.threads=1 --set server.slow_threads=2; then
  pids=()
  n0=$(asked slow)
  touch "$tmp/callbacks.hold" # both processes stay in flight until the test lets their GET /slow answer
  for k in 1 2; do
    curl -s -o "$tmp/def$k" -X POST "$ts/actions/slow-ll" "${J[@]}" -d "$(slow_req tok-def$k ok)" &
    pids+=($!)
  done
  for _ in $(seq 600); do [ "$(asked slow)" = $((n0 + 2)) ] && break; sleep 0.05; done # both are waiting on GET /slow
  req "a third deferred action while two run (server.slow_threads=2)" 503 -X POST "$ts/actions/slow-ll" "${J[@]}" -d "$(slow_req tok-def3 ok)" &&
    grep -q "too many slow requests" "$tmp/b" && ok "a third deferred action while two run: 503 (server.slow_threads=2)"
  wait "${pids[@]}"
  # both WAITs came before either process ended: no final (FORWARD) callback for their tokens yet
  fwd=$(forwards tok-def1 tok-def2)
  rm -f "$tmp/callbacks.hold"
  grep -q '"invokeType":"WAIT"' "$tmp/def1" && grep -q '"invokeType":"WAIT"' "$tmp/def2" && [ "$fwd" = 0 ] &&
    ok "two deferred actions with one worker thread: both WAIT before either process ended" ||
    not_ok "two deferred actions with one worker: $(head -c 120 "$tmp/def1") / $(head -c 120 "$tmp/def2"), ${fwd} final callbacks already there"
  callbacks tok-def2 1 && callbacks tok-def1 1 && ok "both deferred actions called back" || not_ok "the deferred actions were not both called back"
else
  not_ok "restart with workers.threads=1"; tail -5 "$tmp/server.log"
fi
finish
