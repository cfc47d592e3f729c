#!/usr/bin/env python3
# receiver.py - the Flow side of the FSS callback tests: POST /cb/<mode> records each callback (path,
# ManyWhoTenant, Content-Type, body) as a JSON line in LOG and answers like Flow's /api/run/1/response:
# ok -> 200 "FORWARD"; busy -> "BUSY" the first time per token, then "FORWARD"; err -> 503 the first
# time per token, then "FORWARD"; gone -> 404. GET /slow answers "slow done" after SLOW_SECONDS, GET /hold
# "held done" at once; both are held while the file LOG.hold exists (at most 60 s), which lets a test keep
# their processes in flight. Each GET appends its path to LOG.asked on arrival and to LOG.answered once answered.
# Usage: receiver.py PORTFILE LOG (the port is written to PORTFILE once listening).
import http.server, json, os, socketserver, sys, threading, time

LOG = sys.argv[2]
seen = {}
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        if not self.path.startswith(("/slow", "/hold")):
            return self.reply(404, '"no"')
        with lock, open(LOG + ".asked", "a") as f:
            f.write(self.path + "\n")
        if self.path.startswith("/slow"):
            time.sleep(float(os.environ.get("SLOW_SECONDS", "3")))
        deadline = time.monotonic() + 60
        while os.path.exists(LOG + ".hold") and time.monotonic() < deadline:
            time.sleep(0.02)
        b = b"slow done" if self.path.startswith("/slow") else b"held done"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
        with lock, open(LOG + ".answered", "a") as f:
            f.write(self.path + "\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        mode = self.path.rsplit("/", 1)[-1]
        try:
            token = json.loads(body).get("token")
        except Exception:
            token = None
        with lock:
            first = (mode, token) not in seen
            seen[(mode, token)] = True
            with open(LOG, "a") as f:
                f.write(json.dumps({"path": self.path, "tenant": self.headers.get("ManyWhoTenant"),
                                    "contentType": self.headers.get("Content-Type"), "body": body, "time": time.time()}) + "\n")
        if mode == "busy" and first:
            self.reply(200, '"BUSY"')
        elif mode == "err" and first:
            self.reply(503, '"unavailable"')
        elif mode == "gone":
            self.reply(404, '"gone"')
        else:
            self.reply(200, '"FORWARD"')

    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
