#!/usr/bin/env bash
# tests/server/auth_abuse.sh - Basic authentication of `miniatom serve` under abuse (docs/server.md
# "Authentication", "Limits and failure behaviour") through the real binary on loopback addresses
# (127.0.0.1 floods, 127.0.0.2-4 are other clients): an unknown user is answered like a known one
# with a wrong token, a failed-login flood from one client or against one user gets 429 with
# Retry-After while a good login from another client still gets 200, a full hashing queue is 503,
# /health answers while tokens are being hashed, and a refused client's body is never read (a 100 MB
# announced body is answered 401 at once; RSS stays flat over many refused 900 KB bodies).
# Needs curl and python3.
. "$(dirname "$0")/../lib.sh"
here=$top_srcdir/tests/server/debug
tmp=$(mktemp -d)
cleanup() { jobs -p | xargs -r kill 2>/dev/null; server_kill; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
curl -s -o /dev/null --interface 127.0.0.2 http://127.0.0.1:9/ 2>/dev/null
[ $? = 45 ] && { echo "FAIL: curl cannot bind 127.0.0.2 (loopback addresses other than 127.0.0.1 are needed)" >&2; exit 1; }

mkdir -p "$tmp/deploy"
cp "$here"/deploy/p-echo-data.xml "$here"/deploy/op-echo-data.xml "$tmp/deploy/"
ada=$(printf 'ada-token' | "$MINIATOM" serve --hash-token --iterations 1000)
# a dear user: every failed check costs its iterations, an unknown user's too
dear=$(printf 'dear-token' | "$MINIATOM" serve --hash-token --iterations "${DEAR_ITERATIONS:-400000}")

start() { # LOG ARGS... : the server on a free port; sets $srv_pid $base $url
  local log=$1
  shift
  server_start "$log" --deploy "$tmp/deploy" --data "$tmp/data" "$@" || return
  url=$base/ws/simple/executeEchoData
}

start "$tmp/log1" --set auth.wss.mode=basic --set "auth.wss.user.ada=$ada" --set "auth.wss.user.dear=$dear" \
  --set limits.auth_failures=3 || { not_ok "start with Basic users"; finish; exit 1; }

# ---- an unknown user and a wrong token look the same ----
expect_code 401 "a known user with a wrong token: 401" --interface 127.0.0.2 -u ada:wrong "$url" --data-binary hi
cp "$tmp/b" "$tmp/known"; grep -i '^www-authenticate' "$tmp/h" | tr -d '\r' >"$tmp/known.h"
expect_code 401 "an unknown user: 401" --interface 127.0.0.2 -u nobody:wrong "$url" --data-binary hi
grep -i '^www-authenticate' "$tmp/h" | tr -d '\r' >"$tmp/unknown.h"
if cmp -s "$tmp/b" "$tmp/known" && cmp -s "$tmp/unknown.h" "$tmp/known.h" && [ -s "$tmp/known.h" ]; then
  ok "an unknown user's answer is the same as a wrong token's (body and WWW-Authenticate)"
else not_ok "the answers differ"; cat "$tmp/b" "$tmp/known"; fi
expect_code 200 "ada's good token: 200" --interface 127.0.0.2 -u ada:ada-token "$url" --data-binary hi

# ---- a flood from one client ----
codes=
for i in $(seq 12); do codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --max-time $((30 * slow)) -u "mallory$i:x$i" "$url" --data-binary hi)"; done
n401=$(echo $codes | tr ' ' '\n' | grep -c '^401$'); n429=$(echo $codes | tr ' ' '\n' | grep -c '^429$')
if [ "$n401" -ge 1 ] && [ "$n429" -ge 5 ] && [ $((n401 + n429)) = 12 ]; then
  ok "a failed-login flood from one client: 401 at first, then 429 ($codes)"
else not_ok "the flood got:$codes"; fi
expect_code 429 "the flooding client with a new user: 429" -u "eve:x" "$url" --data-binary hi
grep -qi '^retry-after: [1-9]' "$tmp/h" && ok "the 429 says when to retry" || not_ok "the 429 has no Retry-After"
grep -qi '^www-authenticate' "$tmp/h" && not_ok "the 429 asks for credentials" || ok "the 429 does not ask for credentials"
expect_code 200 "a good login from another client meanwhile: 200 (its first, hashed)" --interface 127.0.0.3 \
  -u dear:dear-token "$url" --data-binary hi
expect_code 200 "a remembered good login from the flooding client: 200" -u ada:ada-token "$url" --data-binary hi
expect_code 200 "/health from the flooding client: 200" "$base/health"

# ---- a flood against one user from many clients ----
for i in 1 2 3 4 5 6; do curl -s -o /dev/null --max-time $((30 * slow)) --interface 127.0.0.4 -u "dear:bad$i" "$url" --data-binary hi; done
expect_code 429 "a wrong token for the flooded user from a fresh client: 429" --interface 127.0.0.5 -u dear:bad "$url" --data-binary hi
expect_code 200 "the flooded user's remembered good login: 200" --interface 127.0.0.5 -u dear:dear-token "$url" --data-binary hi

# ---- a refused client's body is never read ----
if python3 - "${base#http://127.0.0.1:}" "$slow" >"$tmp/big.out" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10 * int(sys.argv[2]))
s.sendall(b"POST /ws/simple/executeEchoData HTTP/1.1\r\nHost: t\r\nAuthorization: Basic bm9ib2R5Ong=\r\n"
          b"Content-Length: 104857600\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
EOF
then grep -q "^HTTP/1.1 \(401\|429\)" "$tmp/big.out" && ok "a 100 MB announced body with bad credentials is refused before any of it is sent" ||
  not_ok "the 100 MB request got: $(head -c 200 "$tmp/big.out")"
else not_ok "the 100 MB request was not answered: $(tail -1 "$tmp/big.out")"; fi
head -c 921600 /dev/zero | tr '\0' 'a' >"$tmp/900k"
for i in $(seq 10); do curl -s -o /dev/null --interface 127.0.0.6 -u "x$i:y" "$url" --data-binary "@$tmp/900k"; done
rss0=$(server_rss)
bad=0
for i in $(seq 60); do
  c=$(curl -s -o /dev/null -w '%{http_code}' --max-time $((30 * slow)) --interface 127.0.0.6 -u "x$i:y" "$url" --data-binary "@$tmp/900k")
  case $c in 401 | 429) ;; *) bad=1 ;; esac
done
rss1=$(server_rss)
[ $bad = 0 ] && ok "60 refused 900 KB bodies: each 401 or 429" || not_ok "a refused body got another answer"
if [ $((rss1 - rss0)) -lt 20000 ]; then ok "RSS stays flat over them (${rss0} -> ${rss1} KB)"; else
  not_ok "RSS grew over refused bodies: ${rss0} -> ${rss1} KB"; fi

# ---- the hashing queue: bounded, off the server threads ----
start "$tmp/log2" --set auth.wss.mode=basic --set "auth.wss.user.dear=$(printf 'd' | "$MINIATOM" serve --hash-token --iterations 10000000)" \
  --set limits.auth_failures=0 --set server.kdf_threads=1 --set limits.kdf_queue=1 || { not_ok "start with a one-job hashing queue"; finish; exit 1; }
qpids=()
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time $((120 * slow)) -u "dear:bad$i" "$url" --data-binary hi >"$tmp/q$i" &
  qpids+=($!)
done
expect_code 200 "/health answers while tokens are hashed" --max-time $((10 * slow)) "$base/health"
for p in "${qpids[@]}"; do wait "$p"; done
qcodes=$(cat "$tmp"/q? | sort | uniq -c | tr -s ' \n' ' ')
if grep -qx 503 "$tmp"/q? && grep -qx 401 "$tmp"/q? && ! grep -qvx '401\|503' "$tmp"/q?; then
  ok "six logins at once on a one-job queue: 401 for those hashed, 503 for the rest ($qcodes)"
else not_ok "the queue answers:$qcodes"; fi
kill -0 "$srv_pid" 2>/dev/null && ok "the server is up" || not_ok "the server died"
server_stop
expect_no_memory_errors "$tmp"/log*
finish
