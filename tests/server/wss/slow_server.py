#!/usr/bin/env python3
# slow_server.py - the upstream of the WSS timeout tests: GET /slow answers "slow done" after
# SLOW_SECONDS (default 3); prints its port to the file given as the only argument once listening.
import http.server, os, socketserver, sys, time

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(os.environ.get("SLOW_SECONDS", "3")))
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
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
