#!/usr/bin/env bash
# tests/cli/libraries.sh - the libraries only some commands need are loaded when first used
# (runtime/lazylib.h): miniatom is not linked with libmicrohttpd, GnuTLS, SQLite or gpgme; version,
# check, plugins, graph, map compile and a low-latency run never map them, a general-mode run maps
# SQLite only, serve --hash-token GnuTLS, a PGP step gpgme, a Zip or Unzip step libarchive; and a library that cannot be loaded is an error naming the Debian
# package to install, never a crash (an empty file of its name first in LD_LIBRARY_PATH stands for
# a broken or missing library). Needs readelf (binutils).
. "$(dirname "$0")/../lib.sh"
command -v readelf >/dev/null || { echo "FAIL: readelf is needed (apt-get install -y binutils)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ex=$top_srcdir/processes
lazy="libmicrohttpd libgnutls libsqlite3 libgpgme libarchive"

needed=$(readelf -d "$MINIATOM" | grep NEEDED)
for l in $lazy; do
  if grep -q "\[$l\." <<<"$needed"; then not_ok "miniatom is linked with $l"; else ok "miniatom is not linked with $l"; fi
done
for l in libxml2 libxslt libexslt libjansson; do
  grep -q "\[$l\." <<<"$needed" && ok "miniatom is linked with $l" || not_ok "miniatom is not linked with $l"
done

# maps LABEL WANTED CMD...: the lazy libraries the command mapped (LD_DEBUG names every library the
# dynamic loader opens) are exactly WANTED. The binary runs without MA_WRAP: valgrind would be
# the program LD_DEBUG speaks of.
maps() {
  local label=$1 want=$2; shift 2
  (cd "$tmp" && LD_DEBUG=files "$MINIATOM" "$@" >"$tmp/out" 2>"$tmp/err" <"$tmp/stdin")
  local code=$? got=""
  for l in $lazy; do grep -q "file=$l\.so.*generating link map" "$tmp/err" && got="$got $l"; done
  if [ "$code" != 0 ]; then not_ok "$label: exit $code"; grep -v '^ *[0-9]*:' "$tmp/err" | head -5 | sed 's/^/    /'
  elif [ "${got# }" = "$want" ]; then ok "$label maps ${want:-none of them}"
  else not_ok "$label maps '${got# }', expected '$want'"; fi
}
: >"$tmp/stdin"
maps "version" "" version
maps "check" "" check --deploy "$ex"
maps "plugins" "" plugins
maps "graph" "" graph --deploy "$ex" "Hello World"
maps "map compile" "" map compile --deploy "$ex" "Order to Acknowledgement"
maps "run --mode low_latency" "" run --deploy "$ex" --mode low_latency "Hello World"
maps "run (general mode: recorded)" "libsqlite3" run --deploy "$ex" --data "$tmp/data" "Hello World"
maps "executions" "libsqlite3" executions --data "$tmp/data"
zipcase=$top_srcdir/tests/processes/cases/dataprocess-zip-unzip
maps "run with Zip and Unzip steps" "libarchive" run --deploy "$zipcase/deploy" --mode low_latency --input "$zipcase/inputs/orders.csv" "Data Process Zip Unzip"
echo secret >"$tmp/stdin"
maps "serve --hash-token" "libgnutls" serve --hash-token --iterations 1000

# a library that cannot be loaded
broken() { rm -rf "${tmp:?}/lib"; mkdir -p "$tmp/lib"; for f in "$@"; do : >"$tmp/lib/$f"; done; }
expect() { # want label pattern cmd...
  local want=$1 label=$2 pattern=$3; shift 3
  LD_LIBRARY_PATH="$tmp/lib" "${RUN[@]}" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local code=$?
  if [ "$code" != "$want" ]; then not_ok "$label: exit $code, expected $want"; head -5 "$tmp/err" "$tmp/out" | sed 's/^/    /'
  elif ! grep -qF -- "$pattern" "$tmp/err" "$tmp/out"; then not_ok "$label: '$pattern' not said"; head -5 "$tmp/err" "$tmp/out" | sed 's/^/    /'
  else ok "$label"; fi
}
broken libsqlite3.so.0
expect 0 "run without SQLite: done, the record is not written" "the execution record was not written: execution history $tmp/data/history.db: SQLite cannot be loaded (apt-get install -y libsqlite3-0)" \
  run --deploy "$ex" --data "$tmp/data" "Hello World"
grep -qF "Hello, world!" "$tmp/out" && ok "run without SQLite: the results are printed" || not_ok "run without SQLite: no results"
expect 0 "a low-latency run does not need SQLite" "Hello, world!" run --deploy "$ex" --mode low_latency "Hello World"
expect 1 "executions without SQLite: exit 1" "SQLite cannot be loaded (apt-get install -y libsqlite3-0)" executions --data "$tmp/data"
# without SQLite the history is unusable: serve starts degraded (docs/decisions/016), says why in its
# log and /health, and serves what needs no record
srv_pre=(env LD_LIBRARY_PATH="$tmp/lib")
if server_start "$tmp/serve.log" --deploy "$ex" --data "$tmp/data"; then
  h=$(curl -s --max-time $((30 * slow)) "$base/health")
  case $h in *'"status":"degraded"'*'SQLite cannot be loaded (apt-get install -y libsqlite3-0)'*) ok "serve without SQLite: degraded, /health names the package" ;;
  *) not_ok "serve without SQLite: /health says $h" ;; esac
  server_stop || true
else
  not_ok "serve without SQLite does not start"; head -5 "$tmp/serve.log" | sed 's/^/    /'
fi
srv_pre=()
broken libmicrohttpd.so.12
expect 1 "serve without libmicrohttpd: exit 1" "libmicrohttpd cannot be loaded (apt-get install -y libmicrohttpd12)" \
  serve --deploy "$ex" --data "$tmp/data" --listen 127.0.0.1:0
expect 0 "run does not need libmicrohttpd" "Hello, world!" run --deploy "$ex" --data "$tmp/data" "Hello World"
broken libgnutls.so.30
expect 1 "serve without GnuTLS: exit 1" "GnuTLS cannot be loaded (apt-get install -y libgnutls30)" \
  serve --deploy "$ex" --data "$tmp/data" --listen 127.0.0.1:0
echo secret >"$tmp/token"
LD_LIBRARY_PATH="$tmp/lib" "${RUN[@]}" serve --hash-token <"$tmp/token" >"$tmp/out" 2>"$tmp/err"; code=$?
[ "$code" = 1 ] && grep -qF "GnuTLS cannot be loaded (apt-get install -y libgnutls30)" "$tmp/err" &&
  ok "serve --hash-token without GnuTLS: exit 1, the package named" || { not_ok "serve --hash-token without GnuTLS: exit $code"; head -3 "$tmp/err"; }
broken libgpgme.so.11
expect 3 "a PGP step without gpgme: not runnable, the package named" "step 1 'PGP Encrypt': gpgme cannot be loaded (apt-get install -y libgpgme11)" \
  check --deploy "$top_srcdir/tests/processes/pgp/deploy"
expect 0 "run does not need gpgme" "Hello, world!" run --deploy "$ex" --data "$tmp/data" "Hello World"
broken libarchive.so.13
expect 3 "a Zip step without libarchive: not runnable, the package named" "libarchive cannot be loaded (apt-get install -y libarchive13)" \
  check --deploy "$zipcase/deploy"
expect 0 "run does not need libarchive" "Hello, world!" run --deploy "$ex" --data "$tmp/data" "Hello World"
finish
