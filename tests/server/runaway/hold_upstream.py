#!/usr/bin/env python3
# hold_upstream.py - an HTTP upstream that never answers (runaway.sh): it reads each request and
# waits until the client closes the connection, then appends "closed before an answer" to the log
# file. Prints its port to PORTFILE once listening. Usage: hold_upstream.py PORTFILE LOGFILE
import os, socket, sys, threading

def serve(c):
    with c:
        while True:
            b = c.recv(4096)
            if not b:
                break
    with open(sys.argv[2], "a") as f:
        f.write("closed before an answer\n")

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
