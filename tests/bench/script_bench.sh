#!/usr/bin/env bash
# tests/bench/script_bench.sh - the script host benchmark (bench_script.c; figures in
# tests/bench/README.md "Custom Scripting"): cold start, the corpus pass-through Groovy script over
# 10,000 documents of 1 KB on a warm host (target: at least 20,000 documents/s) and the round trip of
# a one-document batch (target: at most 1 ms). Run from a build folder configured with scripting.
# It measures; it asserts nothing. BENCH_DOCS, BENCH_SIZE, BENCH_ROUNDS change the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${top_builddir:-$(pwd)}
[ -f "$build/libmacore.a" ] || { echo "run from a build folder (libmacore.a not found in $build)" >&2; exit 1; }
[ -f "$build/scripthost/miniatom-scripthost.jar" ] || { echo "FAIL: no script host jar: configure with scripting and make" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$src/runtime" -I"$src/shapes" -I"$build" \
  $(pkg-config --cflags libxml-2.0 libxslt jansson) "$here/bench_script.c" "$build/libmacore.a" \
  $(pkg-config --libs libexslt libxslt libxml-2.0 jansson) -lpthread -ldl -lm -o "$tmp/bench_script"
MA_SCRIPTHOST_JAR=$build/scripthost/miniatom-scripthost.jar \
  "$tmp/bench_script" "${BENCH_DOCS:-10000}" "${BENCH_SIZE:-1024}" "${BENCH_ROUNDS:-7}" "${BENCH_TRIPS:-2000}"
