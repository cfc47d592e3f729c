#!/usr/bin/env bash
# tests/bench/bench_cloudblue.sh - the CloudBlue Connect connector's own cost per call (run from a
# build folder, like tests/bench/run.sh; it measures, it asserts nothing): 1,000 GET Request calls
# (one execution of deploy-cloudblue/process-get.xml on 1,000 documents, each with its own request
# id) through one connection against a minimal keep-alive fake server running inside the
# benchmark; prints the total and server time per call, the connector's overhead beyond the server
# (target: under 50 us) and the TCP connections the server accepted (target: 1), next to the bare
# shared HTTP client (connectors/common/httpc.h) and a bare socket client.
# BENCH_CALLS (1000) and BENCH_ROUNDS (7) change the size of the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${top_builddir:-$(pwd)}
[ -f "$build/libmacore.a" ] || { echo "run from a build folder (libmacore.a not found in $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$src/runtime" -I"$src/shapes" -I"$src/connectors" \
  -I"$src/connectors/common" -I"$build" $(pkg-config --cflags libxml-2.0 libxslt libexslt jansson libcurl) \
  "$here/bench_cloudblue.c" "$build/libmacore.a" \
  $(pkg-config --libs libexslt libxslt libxml-2.0 jansson libcurl) -lpthread -ldl -lm -o "$tmp/bench_cloudblue"
echo "== CloudBlue connector: GET calls through one connection against a local fake server"
"$tmp/bench_cloudblue" "$here/deploy-cloudblue" "${BENCH_CALLS:-1000}" "${BENCH_ROUNDS:-7}"
