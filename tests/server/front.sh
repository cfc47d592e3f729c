#!/usr/bin/env bash
# tests/server/front.sh - the HTTP front under abuse (issue 13 part 4; docs/server.md "The HTTP front",
# docs/decisions/018-http-front-limits.md), through the real `miniatom serve` on a free loopback port:
# request smuggling (two Content-Length headers, Content-Length with Transfer-Encoding) answered 400
# with the trailing request never run, unknown transfer codings answered at once, no Host, NUL bytes,
# credentials in an absolute-form target kept out of the log, the largest request the limits allow
# served and larger ones answered 414/431 at once, slow connections (slowloris) from other addresses
# while /health and a real request still get through, late headers closed, the buffered-bodies budget
# (503), the WSS documents cap (413) and the memory given back after a burst of large bodies. Raw
# requests come from front_client.py. Needs curl and python3; every wait is bounded.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
MINIATOM=${MINIATOM:-$top_srcdir/miniatom}
. "$top_srcdir/tests/lib.sh"
here=$top_srcdir/tests/server
client=$here/front_client.py
tmp=$(mktemp -d)
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
  server_kill
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
need_shared

mkdir -p "$tmp/deploy" "$tmp/data"
cp "$here"/wss/deploy/*.xml "$top_srcdir"/processes/order-api*.xml "$top_srcdir"/processes/flow-service-example*.xml "$tmp/deploy/"
# small limits, so that the test reaches them quickly: 48 connections (room is made from 42 on), 12 from
# one address, 5 s for a request's line and headers, 3 MB of bodies at once, 100 documents a request
# (WSS and Flow)
if server_start "$tmp/server.log" --deploy "$tmp/deploy" --data "$tmp/data" \
  --set limits.connections=48 --set limits.connections_per_client=12 --set limits.header_timeout=5s \
  --set limits.buffered_bodies=3MB --set wss.documents=100 --set fss.documents=100; then
  ok "miniatom serve is up on $base"
else
  not_ok "miniatom serve is up"; sed 's/^/    /' "$tmp/server.log" | head -30; finish; exit 1
fi

# is LABEL WANT NAME: front_client.py's answers to request NAME must be WANT ("400 closed" ...)
is() {
  local got
  got=$(timeout 60 python3 "$client" "$port" send "$3" 2>&1)
  if [ "$got" = "$2" ]; then ok "$1"; else not_ok "$1: got '$got', expected '$2'"; fi
}
# wait_bg: until the background clients have ended (at most 30 s each)
wait_bg() {
  local p
  for p in "${bg[@]}"; do
    for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  bg=()
}
runs_of_get() { grep -c '"path":"/ws/simple/getStatus","status":200' "$tmp/server.log"; }

# ---- framing (RFC 9112 6.1, 6.3): answered on the headers, the connection closed ----
is "a correct request still runs" "200 closed" ok
is "a chunked request still runs" "200 closed" chunked-ok
before=$(runs_of_get)
is "two Content-Length headers that differ: 400 and close" "400 closed" two-cl
is "Content-Length and Transfer-Encoding: 400 and close" "400 closed" cl-te
is "Transfer-Encoding and Content-Length: 400 and close" "400 closed" te-cl
sleep 0.3
[ "$(runs_of_get)" = "$before" ] && ok "the bytes after a refused request are never run as a second request" ||
  not_ok "a smuggled request ran ($before -> $(runs_of_get) runs of /ws/simple/getStatus)"
is "Transfer-Encoding: gzip is answered at once (400)" "400 closed" te-gzip
is "Transfer-Encoding: xchunked is answered at once (400)" "400 closed" te-xchunked
is "Transfer-Encoding: chunked, identity is answered at once (400)" "400 closed" te-chunked-identity
is "Transfer-Encoding: gzip, chunked is answered at once (501)" "501 closed" te-gzip-chunked
is "an unknown coding on PATCH is answered at once too" "400 closed" te-patch
is "HTTP/1.1 without Host: 400" "400 closed" no-host
is "two Host headers: 400" "400 closed" two-hosts
is "HTTP/1.0 needs no Host" "200 closed" http10-no-host

# ---- the request target ----
is "%00 in the path: 400" "400 closed" nul-escaped
is "a NUL byte in the path: 400" "400 closed" nul-raw
is "%00 in the query: 400" "400 closed" nul-query
is "white space in the target: 400" "400 closed" space-target
is "an absolute-form target serves its path" "200 closed" absolute
is "credentials in an absolute-form target: 400" "400 closed" userinfo
sleep 0.3
grep -q 'S3CRET' "$tmp/server.log" && not_ok "the token of an absolute-form target is in the log" ||
  ok "the token of an absolute-form target never reaches the log"
grep -q '"path":"http://t/ws/rest/order","status":400' "$tmp/server.log" && ok "the request log has its path without the userinfo" ||
  not_ok "no request line for the refused absolute-form target"

# ---- sizes: the largest request the limits allow (16 KB, 256 fields) is served; more is 414/431 at once ----
got=$(timeout 60 python3 "$client" "$port" big 256 16000)
[ "$got" = "200 open" ] && ok "256 fields in 16000 bytes of request line and headers: served, the connection kept" ||
  not_ok "the largest allowed request: '$got'"
got=$(timeout 60 python3 "$client" "$port" big 257 16000)
[ "$got" = "431 closed" ] && ok "257 fields: 431" || not_ok "257 fields: '$got'"
got=$(timeout 60 python3 "$client" "$port" big 20 17000)
[ "$got" = "431 closed" ] && ok "17000 bytes of headers: 431" || not_ok "17000 bytes: '$got'"
is "350 query parameters: 414 at once" "414 closed" params-350
is "5000 query parameters: 414 at once (never parsed)" "414 closed" params-5000
is "5000 headers: 431 at once" "431 closed" headers-5000
is "3000 cookies: 431 at once" "431 closed" cookies-3000

# ---- slowloris: slow connections from other addresses; /health and real work still get through ----
# 20 connections from each of four addresses that send their headers a byte at a time, held for 9 s
timeout 60 python3 "$client" "$port" slow 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 20 9 >"$tmp/slow" 2>&1 &
bg+=($!)
for _ in $(seq 200); do grep -q '^open' "$tmp/slow" && break; sleep 0.1; done
read -r _ first rest <"$tmp/slow"
[ "$first" = 12 ] && ok "one address holds at most limits.connections_per_client (12 of 20)" ||
  not_ok "per-client limit: $(cat "$tmp/slow")"
held=$(curl -s -m 10 "$base/health" -o "$tmp/h.json" -w '%{http_code}')
[ "$held" = 200 ] && ok "/health answers while slow connections from four addresses fill the limit ($(head -1 "$tmp/slow"))" ||
  not_ok "/health: $held"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["http"]; assert d["sendingHeaders"] >= 30 and d["closedForRoom"] >= 1, d' "$tmp/h.json" 2>"$tmp/pyerr" &&
  ok "/health counts the connections still sending headers and those closed to make room" ||
  { not_ok "/health http figures"; tail -1 "$tmp/pyerr" | sed 's/^/    /'; }
got=$(timeout 60 python3 "$client" "$port" send ok)
[ "$got" = "200 closed" ] && ok "a real request is served meanwhile" || not_ok "a request while slowloris: '$got'"
wait_bg
[ "$(tail -1 "$tmp/slow")" = "closed 80" ] && ok "every slow connection was closed by the server (refused, made room, or late headers)" ||
  not_ok "slow connections left open: $(tail -1 "$tmp/slow")"
grep -q '"msg":"connections closed: their request line and headers came too slowly"' "$tmp/server.log" &&
  ok "the log says how many connections were closed for late headers" || not_ok "no log line for late headers"

# the next request on a keep-alive connection: its headers are timed from its first byte
timeout 60 python3 "$client" "$port" keepalive 1 20 >"$tmp/keepalive" 2>&1 &
bg+=($!)

# ---- memory: the budget of buffered bodies, the documents cap, memory given back ----
got=$(timeout 60 python3 "$client" "$port" bodies 4 1048000)
[ "$got" = "pending 3 503 x1" ] && ok "limits.buffered_bodies (3 MB): three 1 MB bodies wait, the fourth gets 503 at once" ||
  not_ok "buffered bodies: '$got'"
items() { python3 -c 'import sys; print("[" + ",".join("{\"i\":%d}" % i for i in range(int(sys.argv[1]))) + "]")' "$1"; }
got=$(items 100 | curl -s -o "$tmp/b" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$base/ws/simple/upsertJsonItems")
[ "$got" = 200 ] && ok "100 multijson documents (wss.documents = 100): served" || not_ok "100 documents: $got"
got=$(items 101 | curl -s -o "$tmp/b" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$base/ws/simple/upsertJsonItems")
[ "$got" = 413 ] && grep -q 'wss.documents' "$tmp/b" && ok "101 multijson documents: 413 naming wss.documents" || not_ok "101 documents: $got $(head -c 200 "$tmp/b")"
objects() {
  python3 -c 'import json,sys; print(json.dumps({"objectDataType":{"developerName":"Contact"},"objectData":[{"developerName":"Contact","properties":[{"developerName":"name","contentValue":"n%d" % i,"contentType":"ContentString"}]} for i in range(int(sys.argv[1]))]}))' "$1"
}
got=$(objects 100 | curl -s -o "$tmp/b" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data-binary @- "$base/fs/ExampleService/data")
[ "$got" = 200 ] && ok "a Flow data save of 100 objects (fss.documents = 100): served" || not_ok "100 objects: $got $(head -c 200 "$tmp/b")"
got=$(objects 101 | curl -s -o "$tmp/b" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data-binary @- "$base/fs/ExampleService/data")
[ "$got" = 413 ] && grep -q 'fss.documents' "$tmp/b" && ok "a Flow data save of 101 objects: 413 naming fss.documents" || not_ok "101 objects: $got $(head -c 200 "$tmp/b")"
idle=$(server_rss)
got=$(timeout 120 python3 "$client" "$port" load 12 1048575 /ws/simple/executeEchoData)
case "$got" in *"200 x"*) ok "12 bodies of 1 MB - 1 byte at once: served or 503 ($got)" ;; *) not_ok "the 1 MB burst: '$got'" ;; esac
sleep 1
after=$(server_rss)
[ "$after" -lt $((idle + 65536)) ] && ok "RSS after the burst of bodies: ${after} kB (idle ${idle} kB; bound: idle + 64 MB)" ||
  not_ok "RSS after the burst: ${after} kB (idle ${idle} kB)"

wait_bg
[ "$(cat "$tmp/keepalive")" = "200 closed" ] && ok "a keep-alive connection whose next headers come too slowly is closed" ||
  not_ok "keep-alive slow headers: '$(cat "$tmp/keepalive")'"

# ---- still up; a clean stop ----
kill -0 "$srv_pid" 2>/dev/null && ok "the server is still up" || not_ok "the server died"
server_stop && ok "the server exits with status 0, no memory error in its log"
finish
