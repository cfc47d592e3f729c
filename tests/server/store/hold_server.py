#!/usr/bin/env python3
# hold_server.py - the upstream of the store fault tests: GET /hold touches DIR/arrived, then answers
# "released" once DIR/release exists (at most 60 s); prints its port to DIR/port once listening.
# The test holds a general-mode execution in flight this way, without timing.
import http.server, os, socketserver, sys, time

d = sys.argv[1]

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(os.path.join(d, "arrived"), "w").close()
        for _ in range(1200):
            if os.path.exists(os.path.join(d, "release")):
                break
            time.sleep(0.05)
        body = b"released"
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
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
srv.serve_forever()
