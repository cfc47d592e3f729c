#!/usr/bin/env python3
# hold_server.py - the upstream that holds requests in flight for the server tests (debug.sh,
# store/run.sh, runaway.sh), without timing: every request (any method, any path) counts itself in
# DIR/arrived, then waits until the file DIR/release exists (at most 120 s) and answers "released".
# A client that closes the connection before that is logged: "closed before an answer" is appended
# to DIR/closed. Prints its port to DIR/port once listening. Usage: hold_server.py DIR
import http.server, os, select, socket, socketserver, sys, threading, time

d = sys.argv[1]
lock = threading.Lock()
arrived = 0


def put(name, text):  # a whole file at once: the test never reads half of it
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))


class H(http.server.BaseHTTPRequestHandler):
    def closed(self):  # the client closed its end (the request itself is read already)
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def hold(self):
        global arrived
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with lock:
            arrived += 1
            put("arrived", str(arrived))
        end = time.time() + 120
        while not os.path.exists(os.path.join(d, "release")) and time.time() < end:
            if self.closed():
                with lock, open(os.path.join(d, "closed"), "a") as f:
                    f.write("closed before an answer\n")
                self.close_connection = True
                return
            time.sleep(0.02)
        body = b"released"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = hold

    def log_message(self, *a):
        pass


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = S(("127.0.0.1", 0), H)
put("port", str(srv.server_address[1]))
srv.serve_forever()
