#!/usr/bin/env python3
"""tests/server/front_client.py - raw HTTP/1.1 requests for tests/server/front.sh: what curl will not
send (two Content-Length headers, Content-Length with Transfer-Encoding, unknown transfer codings, no
Host, NUL bytes, credentials in an absolute-form target, many query parameters) and slow connections
(slowloris). Talks to 127.0.0.x only; every wait is bounded.

  front_client.py PORT send NAME        prints the status of each answer on the connection, then
                                        "closed" or "open" (the server kept it open after answering)
  front_client.py PORT big FIELDS BYTES one GET with FIELDS fields (headers and query parameters) in
                                        about BYTES bytes of request line and headers: its status
  front_client.py PORT keepalive IDLE HOLD
                                        one request, IDLE seconds of quiet, then the next request's
                                        headers a byte at a time for up to HOLD seconds: prints the
                                        first status and "closed" (by the server) or "open"
  front_client.py PORT bodies N LEN [SENT SRCS [FILE]]
                                        N requests that announce a body of LEN bytes and send SENT
                                        (10) of them, from the addresses SRCS in turn: prints
                                        "pending K" (not answered yet) and the statuses of those
                                        answered at once; with FILE, holds them until it exists
  front_client.py PORT load N LEN PATH  N requests at once, each with a JSON body of LEN bytes (a
                                        multijson array of small items), to PATH: "STATUS xCOUNT"...
  front_client.py PORT slow SRCS N HOLD opens N connections from each address of SRCS (a,b,...), one
                                        address after the other, that send their headers a byte at a
                                        time; prints "open K1 K2..." (still open once each address's
                                        are up), then "closed K" (closed by the server) after HOLD
                                        seconds or once all are closed
"""
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def requests():
    get = b"GET /ws/simple/getStatus HTTP/1.1\r\nHost: t\r\n\r\n"  # what smuggling would run
    order = b'{"id":"A-1","customer":{"name":"c"},"qty":1}'
    return {
        "ok": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(order), order),
        "two-cl": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 50\r\n\r\n{}" + get,
        "cl-te": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get,
        "te-cl": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
        b"\r\n0\r\n\r\n" + get,
        "te-gzip": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n{}",
        "te-xchunked": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "te-chunked-identity": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n",
        "te-gzip-chunked": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n",
        "te-patch": b"PATCH /ws/rest/order HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n{}",
        "chunked-ok": b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(order), order),
        "no-host": b"GET /health HTTP/1.1\r\n\r\n",
        "two-hosts": b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "http10-no-host": b"GET /health HTTP/1.0\r\n\r\n",
        "nul-escaped": b"GET /ws/rest/order%00.json HTTP/1.1\r\nHost: t\r\n\r\n",
        "nul-raw": b"GET /ws/simple/getStatus\x00.json HTTP/1.1\r\nHost: t\r\n\r\n",
        "nul-query": b"GET /ws/simple/getStatus?name=a%00b HTTP/1.1\r\nHost: t\r\n\r\n",
        "space-target": b"GET /ws/simple/getStatus HTTP/1.1 HTTP/1.1\r\nHost: t\r\n\r\n",
        "userinfo": b"POST http://alice:S3CRET-TOKEN@t/ws/rest/order HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "absolute": b"GET http://t/ws/simple/getStatus HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "params-350": b"GET /ws/simple/getStatus?" + b"&".join(b"p%d=v" % i for i in range(350)) +
        b" HTTP/1.1\r\nHost: t\r\n\r\n",
        "params-5000": b"GET /ws/simple/getStatus?" + b"&".join(b"p%d" % i for i in range(5000)) +
        b" HTTP/1.1\r\nHost: t\r\n\r\n",
        "headers-5000": b"GET /ws/simple/getStatus HTTP/1.1\r\nHost: t\r\n" +
        b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n",
        "cookies-3000": b"GET /ws/simple/getStatus HTTP/1.1\r\nHost: t\r\nCookie: " +
        b"; ".join(b"c%d=v" % i for i in range(3000)) + b"\r\n\r\n",
    }


def answers(data, timeout=15.0):
    """Sends data on a new connection; the statuses of the answers, and whether the server closed."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.sendall(data)
    buf = b""
    closed = "open"
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 1.0)
        if not r:
            if buf:  # nothing more for a second after an answer: the server keeps the connection
                break
            continue
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            b = b""
        if not b:
            closed = "closed"
            break
        buf += b
    else:
        closed = "timeout"
    s.close()
    statuses = []
    while buf.startswith(b"HTTP/1."):
        head, _, rest = buf.partition(b"\r\n\r\n")
        statuses.append(head.split(b" ")[1].decode())
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        buf = rest[length:]
    return statuses, closed


def big(fields, size):
    """A GET with `fields` fields - half query parameters, half headers - padded to about `size` bytes."""
    nq = fields // 2
    nh = fields - nq - 1  # Host is one
    line = b"GET /ws/simple/getStatus?" + b"&".join(b"q%d=v" % i for i in range(nq)) + b" HTTP/1.1\r\n"
    hs = [b"Host: t\r\n"] + [b"X-F%d: v\r\n" % i for i in range(nh)]
    have = len(line) + sum(len(h) for h in hs) + 2
    if size > have:  # pad the last header's value
        hs[-1] = hs[-1][:-2] + b"v" * (size - have) + b"\r\n"
    return line + b"".join(hs) + b"\r\n"


def server_closed(s):
    """True (and s closed) when the server has closed the non-blocking socket s."""
    try:
        if s.recv(1, socket.MSG_PEEK) != b"":
            return False
    except BlockingIOError:
        return False
    except OSError:
        pass
    s.close()
    return True


def slow(srcs, n, hold):
    """n connections from each address of srcs (one after the other), all sending headers slowly."""
    head = b"GET /ws/simple/getStatus HTTP/1.1\r\nHost: t\r\nX-Slow: "
    alive, counts, closed_by_server = [], [], 0
    for src in srcs:
        mine = []
        for _ in range(n):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(5)
            try:
                s.connect((HOST, PORT))
                s.send(head[:1])
            except OSError:
                closed_by_server += 1
                s.close()
                continue
            s.setblocking(False)
            mine.append(s)
        time.sleep(0.3)
        still = []
        for s in mine:
            if server_closed(s):
                closed_by_server += 1
                continue
            still.append(s)
        counts.append(len(still))
        alive += still
    print("open " + " ".join(str(c) for c in counts), flush=True)
    sent = 1
    end = time.time() + hold
    while time.time() < end and alive:
        still = []
        for s in alive:
            if server_closed(s):
                closed_by_server += 1
                continue
            try:
                s.send(head[sent:sent + 1] if sent < len(head) else b"x")
            except OSError:
                closed_by_server += 1
                s.close()
                continue
            still.append(s)
        alive = still
        sent += 1
        time.sleep(0.3)
    print("closed %d" % closed_by_server, flush=True)
    for s in alive:
        s.close()


def keepalive(idle, hold):
    """One request, then (after idle seconds) the next one's headers a byte at a time."""
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    first = s.recv(65536).split(b" ")[1].decode()
    time.sleep(idle)
    head = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: "
    s.settimeout(0.3)
    end, i, how = time.time() + hold, 0, "open"
    while time.time() < end:
        try:
            s.send(head[i:i + 1] if i < len(head) else b"x")
            i += 1
            if s.recv(1) == b"":
                how = "closed"
                break
        except socket.timeout:
            pass
        except OSError:
            how = "closed"
            break
    print(first, how, flush=True)
    s.close()


def bodies(n, length, sent=10, srcs=("127.0.0.1",)):
    socks = []
    body = b'{"a":"' + b"x" * max(0, sent - 6)
    for i in range(n):
        s = socket.socket()
        s.bind((srcs[i % len(srcs)], 0))
        s.settimeout(10)
        s.connect((HOST, PORT))
        s.sendall(b"POST /ws/rest/order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % length)
        try:
            s.sendall(body[:sent])
        except OSError:
            pass
        socks.append(s)
        if sent <= 10:
            time.sleep(0.1)
    time.sleep(1.0)
    pending, st = 0, []
    for s in socks:
        r, _, _ = select.select([s], [], [], 0.01)
        if r:
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            st.append(b.split(b" ")[1].decode() if b.startswith(b"HTTP/1.") else "closed")
        else:
            pending += 1
    print(" ".join(["pending %d" % pending] + ["%s x%d" % (k, st.count(k)) for k in sorted(set(st))]), flush=True)
    if len(sys.argv) > 7:  # hold until this file exists
        while not __import__("os").path.exists(sys.argv[7]):
            time.sleep(0.1)
    for s in socks:
        s.close()


def json_body(length):
    """A JSON array of small objects, LEN bytes long."""
    item = b'{"k":1},'
    n = max(1, (length - 2) // len(item))
    body = b"[" + item * n
    body = body[:-1] + b" " * (length - len(body) - 1) + b"]"
    return body


def load(n, length, path):
    import threading
    body = json_body(length)
    req = (b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
           b"Connection: close\r\n\r\n" % (path.encode(), len(body))) + body
    out = []

    def one():
        try:
            st, _ = answers(req, timeout=60)
            out.append(st[0] if st else "none")
        except OSError:
            out.append("error")
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join("%s x%d" % (k, out.count(k)) for k in sorted(set(out))), flush=True)


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    mode = sys.argv[2]
    if mode == "send":
        st, closed = answers(requests()[sys.argv[3]])
        print(" ".join(st + [closed]))
    elif mode == "big":
        st, closed = answers(big(int(sys.argv[3]), int(sys.argv[4])))
        print(" ".join(st + [closed]))
    elif mode == "keepalive":
        keepalive(float(sys.argv[3]), float(sys.argv[4]))
    elif mode == "bodies":
        if len(sys.argv) > 5:
            bodies(int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6].split(","))
        else:
            bodies(int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "load":
        load(int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "slow":
        slow(sys.argv[3].split(","), int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("unknown mode " + mode)
