#!/usr/bin/env bash
# tests/bench/run.sh - the benchmarks of the core runtime (run with `make bench` from a build
# folder; they measure, they assert nothing):
#   1. executor throughput: the 20-shape process deploy/throughput-20.xml (Set Properties,
#      Decision, Message, Branch) over 10,000 small documents on one core (taskset -c 0), in
#      shape-document steps per second (target: at least 1,000,000);
#   2. the map shape against a bare libxslt loop (parse, apply the precompiled stylesheet,
#      serialize) on the same 1 KB and 100 KB XML documents (target: at most 10% overhead), and a
#      JSON->JSON map of a 1 KB document (target: at least 20,000 documents per second);
#   3. a cold `miniatom run` of the Hello World example: wall time with hyperfine and peak RSS with
#      /usr/bin/time (targets: under 10 ms and under 10 MB);
#   4. the JSON reader and string escaper (bench_json.c): ma_json_check, ma_jv_parse and
#      ma_doc_looks_json against jansson on the order API's body, the Flow Greet request and 100 KB
#      documents, in nanoseconds per call.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${top_builddir:-$(pwd)}
MINIATOM=${MINIATOM:-$build/miniatom}
[ -f "$build/libmacore.a" ] || { echo "run from a build folder (libmacore.a not found in $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$src/runtime" -I"$src/shapes" -I"$build" \
  $(pkg-config --cflags libxml-2.0 libxslt jansson) "$here/bench_executor.c" "$build/libmacore.a" \
  $(pkg-config --libs libexslt libxslt libxml-2.0 jansson) -lpthread -ldl -lm -o "$tmp/bench_executor"
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$src/runtime" -I"$src/shapes" -I"$build" \
  $(pkg-config --cflags libxml-2.0 libxslt libexslt jansson) "$here/bench_map.c" "$build/libmacore.a" \
  $(pkg-config --libs libexslt libxslt libxml-2.0 jansson) -lpthread -ldl -lm -o "$tmp/bench_map"
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" -I"$src/runtime" -I"$build" \
  $(pkg-config --cflags libxml-2.0 jansson) "$here/bench_json.c" "$build/libmacore.a" \
  $(pkg-config --libs libexslt libxslt libxml-2.0 jansson) -lpthread -ldl -lm -o "$tmp/bench_json"
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
echo "== executor throughput (one core)"
$pin "$tmp/bench_executor" "$here/deploy" "${BENCH_DOCS:-10000}" "${BENCH_ROUNDS:-7}"
echo
echo "== map shape against a bare libxslt loop, and a JSON->JSON map (one core)"
$pin "$tmp/bench_map" "$here/deploy-map" "${BENCH_SECONDS:-2}"
echo
echo "== cold miniatom run (Hello World, low latency: no execution record written)"
cmd="$MINIATOM run --deploy $src/processes --mode low_latency 'Hello World'"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 100 "$cmd"
else
  echo "(hyperfine is not installed: apt-get install -y hyperfine)"
fi
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "peak RSS: %M kB, wall: %e s" "$MINIATOM" run --deploy "$src/processes" --mode low_latency "Hello World" >/dev/null
else
  echo "(/usr/bin/time is not installed: apt-get install -y time)"
fi
echo
echo "== JSON reader and string escaper (one core)"
body=${MA_SHARED:-$src/../shared}/bench/body.json
[ -f "$body" ] || { echo "FAIL: $body (the order API's request body, from ../shared) is missing" >&2; exit 1; }
$pin "$tmp/bench_json" "$body" "$here/data/greet-request.json"
