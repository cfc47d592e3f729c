#!/usr/bin/env python3
"""tests/connectors/flowclient/fakeflow.py - a small stateful fake of the Boomi Flow run API for the
Flow Client connector tests. Every request body is validated against the schemas of the Flow
platform OpenAPI spec (shared/spec/flow-platform-openapi.json): a body that does not conform gets a
422 listing the violations (and is recorded as invalid).

Usage: fakeflow.py SPEC PORTFILE LOGFILE TENANT
  POST /api/run/1                   initialize (EngineInitializationRequestAPI -> EngineInitializationResponseAPI)
  POST /api/run/1/state/{stateId}   invoke (EngineInvokeRequestAPI -> EngineInvokeResponseAPI)
Flows (by id):
  ...0001 DONE, outputs Greeting = "Hello " + input Name (or "Hello world")
  ...0002 WAIT with a wait message
  ...0003 needs credentials flowuser/flow-s3cret: statusCode "401" without them
  anything else: 404
Requests without the ManyWhoTenant header TENANT get 401. LOGFILE gets one JSON line per request.
"""
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPEC = json.load(open(sys.argv[1]))
SCHEMAS = SPEC["components"]["schemas"]
TENANT = sys.argv[4]
FLOW_DONE = "a1b2c3d4-0000-4000-8000-000000000001"
FLOW_WAIT = "a1b2c3d4-0000-4000-8000-000000000002"
FLOW_AUTH = "a1b2c3d4-0000-4000-8000-000000000003"
states = {}
lock = threading.Lock()


def validate(schema, v, path, errs):
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].split("/")[-1]]
    if v is None:
        if not schema.get("nullable") and schema.get("type") is not None:
            errs.append("%s: null is not allowed" % path)
        return
    t = schema.get("type")
    if t is None and "properties" in schema:
        t = "object"
    ok = {"object": isinstance(v, dict), "array": isinstance(v, list), "string": isinstance(v, str),
          "boolean": isinstance(v, bool), "integer": isinstance(v, int) and not isinstance(v, bool),
          "number": isinstance(v, (int, float)) and not isinstance(v, bool)}.get(t, True)
    if not ok:
        errs.append("%s: expected %s" % (path, t))
        return
    if t == "string" and schema.get("format") == "uuid":
        try:
            uuid.UUID(v)
        except ValueError:
            errs.append("%s: not a uuid" % path)
    if t == "string" and "enum" in schema and v not in schema["enum"]:
        errs.append("%s: not one of %s" % (path, schema["enum"]))
    if t == "object":
        props = schema.get("properties", {})
        for k, sub in v.items():
            if k in props:
                validate(props[k], sub, path + "." + k, errs)
            elif schema.get("additionalProperties") is False:
                errs.append("%s: unknown property %s" % (path, k))
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(schema["additionalProperties"], sub, path + "." + k, errs)
        for k in schema.get("required", []):
            if k not in v:
                errs.append("%s: %s is required" % (path, k))
    if t == "array" and "items" in schema:
        for i, item in enumerate(v):
            validate(schema["items"], item, "%s[%d]" % (path, i), errs)


def schema_of(path, method):
    content = SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]
    return content["schema"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = "<not json>"
        p = self.path
        if p == "/api/run/1":
            spec_path = "/api/run/1"
        elif p.startswith("/api/run/1/state/"):
            spec_path = "/api/run/1/state/{stateId}"
        else:
            return self.reply(404, {"message": "no such endpoint " + p})
        errs = []
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            errs.append("Content-Type is not application/json")
        validate(schema_of(spec_path, "post"), body, "body", errs)
        entry = {"path": p, "tenant": self.headers.get("ManyWhoTenant"), "apikey": self.headers.get("x-boomi-flow-api-key"),
                 "accept": self.headers.get("Accept"), "body": body, "valid": not errs, "errors": errs}
        with lock, open(sys.argv[3], "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
        if errs:
            return self.reply(422, {"message": "the request does not conform to the spec", "errors": errs})
        if self.headers.get("ManyWhoTenant") != TENANT:
            return self.reply(401, {"message": "unknown tenant"})
        if spec_path == "/api/run/1":
            fid = (body.get("flowId") or {}).get("id")
            if fid not in (FLOW_DONE, FLOW_WAIT, FLOW_AUTH):
                return self.reply(404, {"message": "flow %s not found" % fid})
            cred = body.get("credentials") or {}
            authed = fid != FLOW_AUTH or (cred.get("username") == "flowuser" and cred.get("password") == "flow-s3cret")
            sid = str(uuid.uuid5(uuid.NAMESPACE_URL, "state-%s-%s" % (fid, json.dumps(body.get("inputs"), sort_keys=True))))
            name = "world"
            for v in body.get("inputs") or []:
                if v.get("developerName") == "Name":
                    name = v.get("contentValue")
            with lock:
                states[sid] = {"flow": fid, "token": "tok-1", "name": name, "version": (body.get("flowId") or {}).get("versionId")}
            return self.reply(200, {"stateId": sid, "stateToken": "tok-1", "currentMapElementId": "11111111-2222-4333-8444-555555555555",
                                    "currentStreamId": None, "statusCode": "200" if authed else "401", "culture": None,
                                    "authorizationContext": None, "navigationElementReferences": None,
                                    "isHistoricalNavigationEnabled": False, "featureFlags": None})
        sid = p[len("/api/run/1/state/"):]
        st = states.get(sid)
        if not st or body.get("stateId") != sid:
            return self.reply(404, {"message": "state %s not found" % sid})
        if body.get("stateToken") != st["token"] or body.get("invokeType") != "FORWARD":
            return self.reply(400, {"message": "out of sync"})
        res = {"stateId": sid, "stateToken": "tok-2", "flowId": st["flow"], "flowVersion": st["version"] or "v-latest",
               "flowName": "Test flow", "currentMapElementId": "11111111-2222-4333-8444-666666666666"}
        if st["flow"] == FLOW_WAIT:
            res.update({"invokeType": "WAIT", "waitMessage": "Working on it", "outputs": None})
        else:
            res.update({"invokeType": "DONE", "outputs": [{"developerName": "Greeting", "contentValue": "Hello " + st["name"],
                                                           "contentType": "ContentString"}]})
        return self.reply(200, res)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    import os
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
