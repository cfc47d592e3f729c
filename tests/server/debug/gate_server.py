#!/usr/bin/env python3
# gate_server.py - the upstream that holds executions in flight for tests/server/debug.sh: every GET
# counts itself in DIR/arrived, then waits until the file DIR/open exists (at most 120 s) and answers
# "released". Prints its port to DIR/port once listening. Usage: gate_server.py DIR
import http.server, os, socketserver, sys, threading, time

d = sys.argv[1]
lock = threading.Lock()
arrived = 0

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global arrived
        with lock:
            arrived += 1
            with open(os.path.join(d, "arrived.tmp"), "w") as f:
                f.write(str(arrived))
            os.rename(os.path.join(d, "arrived.tmp"), os.path.join(d, "arrived"))
        end = time.time() + 120
        while not os.path.exists(os.path.join(d, "open")) and time.time() < end:
            time.sleep(0.02)
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
