#!/usr/bin/env python3
# slow_server.py - the upstream of the WSS timeout tests: GET /slow answers "slow done" once the file
# PORTFILE.hold is gone (at most 60 s after the request came), so a test holds the process calling it in
# flight for as long as it needs. Each request appends its path to PORTFILE.asked on arrival and to
# PORTFILE.answered when it is released. Prints its port to PORTFILE (the only argument) once listening.
import http.server, os, socketserver, sys, threading, time

PORTFILE = sys.argv[1]
lock = threading.Lock()

def note(suffix, path):
    with lock, open(PORTFILE + suffix, "a") as f:
        f.write(path + "\n")

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note(".asked", self.path)
        deadline = time.monotonic() + 60
        while os.path.exists(PORTFILE + ".hold") and time.monotonic() < deadline:
            time.sleep(0.02)
        note(".answered", self.path)
        body = b"slow done"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
