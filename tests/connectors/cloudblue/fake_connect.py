#!/usr/bin/env python3
# fake_connect.py - a small stateful fake of the CloudBlue Connect API (under /public/v1) for the
# connector's workflow tests: 250 requests (5 pending), GET /requests with RQL eq()/and(), paging
# with Content-Range, GET /requests/{id} (PR-RATE-0429: 429 once; PR-FAIL-0500: always 500) and
# POST /requests/{id}/approve. Needs "Authorization: ApiKey TOKEN"; logs "METHOD TARGET STATUS".
#
# Usage: fake_connect.py --token TOKEN --port-file FILE --log FILE [--requests N] [--pending N]
import argparse
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"requests": [], "rate_limited": set()}


def seed(n, pending):
    reqs = []
    for i in range(1, n + 1):
        step = max(1, n // max(1, pending))
        status = "pending" if i % step == 0 and i // step <= pending else ("approved" if i % 3 else "failed")
        reqs.append({
            "id": f"PR-0000-0000-{i:04d}",
            "type": "purchase",
            "status": status,
            "created": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
            "asset": {"id": f"AS-0000-{i:04d}", "product": {"id": "PRD-000-000-001"}},
        })
    STATE["requests"] = reqs


def split_args(s):
    """'a,b(c,d),e' -> ['a', 'b(c,d)', 'e']"""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur)
    return out


def rql_match(expr, obj):
    name, _, rest = expr.partition("(")
    args = split_args(rest[:-1])
    if name == "and":
        return all(rql_match(a, obj) for a in args)
    if name == "or":
        return any(rql_match(a, obj) for a in args)
    if name in ("eq", "ne"):
        field, value = args[0], urllib.parse.unquote(args[1])
        cur = obj
        for part in field.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        return (str(cur) == value) == (name == "eq")
    raise ValueError(f"unsupported RQL: {expr}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, fmt, *args):
        pass

    def target(self):
        """the request target below the API's base path /public/v1, or None"""
        return self.path[len("/public/v1"):] if self.path.startswith("/public/v1/") else None

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        with open(self.server.log, "a") as f:
            f.write(f"{self.command} {self.target() or self.path} {status}\n")

    def error(self, status, code, *errors):
        self.reply(status, {"error_code": code, "errors": list(errors)})

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if auth == "ApiKey " + self.server.token:
            return True
        # like a careless server, quote what was sent: the connector must not repeat it
        self.error(401, "AUTH_001", "Unauthorized: " + auth)
        return False

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.target() is None:
            return self.error(404, "NOT_FOUND", "the API is under /public/v1")
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.target())
        parts = url.path.strip("/").split("/")
        if parts == ["requests"]:
            return self.list_requests(url.query)
        if len(parts) == 2 and parts[0] == "requests":
            rid = parts[1]
            if rid == "PR-RATE-0429":
                with LOCK:
                    first = rid not in STATE["rate_limited"]
                    STATE["rate_limited"].add(rid)
                if first:
                    return self.reply(429, {"error_code": "RATE_LIMIT", "errors": ["Too many requests"]},
                                      [("Retry-After", "0")])
                return self.reply(200, {"id": rid, "status": "approved"})
            if rid == "PR-FAIL-0500":
                return self.error(500, "SYS_500", "internal failure")
            with LOCK:
                r = next((r for r in STATE["requests"] if r["id"] == rid), None)
            return self.reply(200, r) if r else self.error(404, "REQ_404", f"Request {rid} not found")
        self.error(404, "NOT_FOUND", "no such path")

    def list_requests(self, query):
        limit, offset, filters = 100, 0, []
        for part in query.split("&") if query else []:
            key, eq, value = part.partition("=")
            if key == "limit":
                limit = int(value)
            elif key == "offset":
                offset = int(value)
            elif eq and "(" not in key:
                filters.append(f"eq({key},{value})")
            elif key.startswith(("select(", "ordering(")):
                pass
            else:
                filters.append(urllib.parse.unquote(part) if part.startswith("%") else part)
        if limit < 1 or limit > 1000:
            return self.error(400, "LIMIT", "limit must be from 1 to 1000")
        try:
            with LOCK:
                rows = [r for r in STATE["requests"] if all(rql_match(f, r) for f in filters)]
        except (ValueError, IndexError) as e:
            return self.error(400, "RQL", str(e))
        page = rows[offset:offset + limit]
        last = offset + len(page) - 1 if page else offset
        self.reply(200, page, [("Content-Range", f"items {offset}-{last}/{len(rows)}")])

    def do_POST(self):
        data = self.body()
        if self.target() is None:
            return self.error(404, "NOT_FOUND", "the API is under /public/v1")
        if not self.authorized():
            return
        parts = urllib.parse.urlsplit(self.target()).path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "requests" and parts[2] == "approve":
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self.error(400, "REQ_001", "Content-Type must be application/json")
            try:
                body = json.loads(data or b"null")
            except ValueError:
                return self.error(400, "REQ_002", "the body is not JSON")
            if not isinstance(body, dict) or not body.get("template_id"):
                return self.error(400, "REQ_005", "template_id or activation_tile is required")
            with LOCK:
                r = next((r for r in STATE["requests"] if r["id"] == parts[1]), None)
                was = r and r["status"]
                if was == "pending":
                    r["status"] = "approved"
                    r["template"] = {"id": body["template_id"]}
                    r = dict(r)
            if not r:
                return self.error(404, "REQ_404", f"Request {parts[1]} not found")
            if was != "pending":
                return self.error(400, "REQ_003", "Only pending requests can be approved.")
            return self.reply(200, r)
        self.error(404, "NOT_FOUND", "no such path")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--requests", type=int, default=250)
    ap.add_argument("--pending", type=int, default=5)
    a = ap.parse_args()
    seed(a.requests, a.pending)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.token, srv.log = a.token, a.log
    open(a.log, "w").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
