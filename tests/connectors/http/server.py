#!/usr/bin/env python3
"""tests/connectors/http/server.py - the local HTTP(S) server the HTTP client connector tests talk to.

Usage: server.py PORTFILE [CERT KEY [CLIENTCA]]  - listens on 127.0.0.1 on a free port (written to
PORTFILE), with TLS when CERT and KEY are given, requiring a client certificate signed by CLIENTCA
when that is given too. Routes:
  /echo/...       answers JSON {"method", "path", "headers": {the interesting request headers}, "body"}
                  with the response headers X-Request-Id: req-<method> and X-Echo: yes
  /status/CODE    answers CODE with the body "status CODE"
  /redirect       302 to /echo/redirected
  /auth           200 "welcome USER" for Basic tester:s3cret-pw, else 401 "who are you?"
  /connections    the number of TCP connections accepted so far
  /flaky/KEY/N/CODE  answers CODE (with Retry-After: 0) to the first N requests for KEY, then 200 "ok after N"
  /big/N          N bytes of 'x'
  /slow           waits 2 s before answering
"""
import base64
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHOWN = ("content-type", "x-static", "x-token", "x-empty", "authorization", "accept")
connections = 0
flaky = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def reply(self, code, body, ctype="text/plain", extra=None):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        p = self.path
        if p.startswith("/echo"):
            hdrs = {k.lower(): v for k, v in self.headers.items() if k.lower() in SHOWN and k.lower() != "accept"}
            out = {"method": self.command, "path": p, "headers": hdrs, "body": body}
            self.reply(200, json.dumps(out, sort_keys=True), "application/json",
                       {"X-Request-Id": "req-" + self.command.lower(), "X-Echo": "yes"})
        elif p.startswith("/status/"):
            code = int(p[len("/status/"):].split("?")[0] or 500)
            self.reply(code, "status %d" % code)
        elif p == "/redirect":
            self.reply(302, "moved", extra={"Location": "/echo/redirected"})
        elif p == "/auth":
            want = "Basic " + base64.b64encode(b"tester:s3cret-pw").decode()
            if self.headers.get("Authorization") == want:
                self.reply(200, "welcome tester")
            else:
                self.reply(401, "who are you?", extra={"WWW-Authenticate": 'Basic realm="test"'})
        elif p == "/connections":
            self.reply(200, str(connections))
        elif p.startswith("/flaky/"):
            key, n, code = p.split("/")[2:5]
            with lock:
                flaky[key] = flaky.get(key, 0) + 1
                seen = flaky[key]
            if seen <= int(n):
                self.reply(int(code), "try again", extra={"Retry-After": "0"})
            else:
                self.reply(200, "ok after %d" % (seen - 1))
        elif p.startswith("/big/"):
            self.reply(200, "x" * int(p[5:]))
        elif p.split("?")[0] == "/slow":
            import time
            time.sleep(2)
            self.reply(200, "slow")
        else:
            self.reply(404, "no route " + p)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.handle_error = lambda *args: None  # a client that gave up (timeout tests) is no news
    if len(sys.argv) > 3:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        if len(sys.argv) > 4:
            ctx.load_verify_locations(sys.argv[4])
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
