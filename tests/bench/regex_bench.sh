#!/usr/bin/env bash
# tests/bench/regex_bench.sh - regular expression throughput (bench_regex.c; figures in
# tests/bench/README.md "Regular expressions"): the regex comparison (whole-value matches per
# second) and Data Process Search/Replace (MB/s), built against this build's libmacore.a. With
# OLD_BUILD=<another build folder> (and OLD_SRC=<its source folder>, default the same) it builds the
# driver against that one too and runs the two alternately, ALTERNATE times each (default 3), so
# that a machine whose speed drifts affects both alike. It measures; it asserts nothing.
# BENCH_ITERS and BENCH_ROUNDS change the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${top_builddir:-$(pwd)}
[ -f "$build/libmacore.a" ] || { echo "run from a build folder (libmacore.a not found in $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# build_driver SRC BUILD OUT: bench_regex.c (of this tree) against BUILD's libmacore.a and SRC's headers
build_driver() {
  ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$1/include" -I"$1/runtime" -I"$1/shapes" -I"$2" \
    $(pkg-config --cflags libxml-2.0 libxslt jansson) "$here/bench_regex.c" "$2/libmacore.a" \
    $(pkg-config --libs libexslt libxslt libxml-2.0 jansson libpcre2-8) -lpthread -ldl -lm -o "$3"
}
build_driver "$src" "$build" "$tmp/new"
if [ -n "${OLD_BUILD:-}" ]; then
  build_driver "${OLD_SRC:-$OLD_BUILD}" "$OLD_BUILD" "$tmp/old"
  for i in $(seq "${ALTERNATE:-3}"); do
    echo "== old ($OLD_BUILD), run $i"
    "$tmp/old" "${BENCH_ITERS:-200000}" "${BENCH_ROUNDS:-5}"
    echo "== new ($build), run $i"
    "$tmp/new" "${BENCH_ITERS:-200000}" "${BENCH_ROUNDS:-5}"
  done
else
  "$tmp/new" "${BENCH_ITERS:-200000}" "${BENCH_ROUNDS:-5}"
fi
