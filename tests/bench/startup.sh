#!/usr/bin/env bash
# tests/bench/startup.sh - what a cold `miniatom run` costs beyond starting a program linked with
# the same libraries (run from a build folder, like tests/bench/run.sh; it measures, it asserts
# nothing). Two empty C programs (`int main(void){return 0;}`) are built side by side: one linked
# with exactly the libraries miniatom is linked with (its DT_NEEDED: libxml2, libxslt, libexslt,
# jansson, mimalloc when configured), one with those and the libraries miniatom loads only when
# needed (libmicrohttpd, GnuTLS, SQLite: what it was linked with before runtime/lazylib.h). hyperfine
# times each, `miniatom version`, and a cold Hello World run in low-latency mode (no record) and in
# general mode (recorded in a temporary data folder, so SQLite is loaded), each reading the whole
# processes/ folder as `run --deploy processes` does, and once more in low-latency mode from a
# folder holding hello-world.xml alone (what a run costs when it parses only the components it
# needs); then prints the ratio of each to the empty program linked like miniatom (target: at
# most 1.3).
# OLD_MINIATOM=path adds an earlier build to the table for comparison. RUNS (200) and WARMUP (20)
# change the size of the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${top_builddir:-$(pwd)}
MINIATOM=${MINIATOM:-$build/miniatom}
[ -x "$MINIATOM" ] || { echo "run from a build folder ($MINIATOM not found)" >&2; exit 1; }
for t in hyperfine readelf python3; do
  command -v $t >/dev/null || { echo "$t is needed (apt-get install -y hyperfine binutils python3)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the empty programs, linked by soname (-l:libxml2.so.2) with every library kept (--no-as-needed)
needed=$(readelf -d "$MINIATOM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -e '^libc\.so' -e '^ld-linux')
lazy="libmicrohttpd.so.12 libgnutls.so.30 libsqlite3.so.0"
link() { # out sonames...
  local out=$1; shift
  printf 'int main(void) { return 0; }\n' >"$tmp/empty.c"
  # shellcheck disable=SC2046
  ${CC:-cc} -O2 "$tmp/empty.c" -Wl,--no-as-needed $(for l in "$@"; do printf -- '-l:%s ' "$l"; done) -o "$out"
}
link "$tmp/empty-run" $needed
link "$tmp/empty-all" $needed $lazy
echo "miniatom is linked with:  $(echo $needed)"
echo "empty-run is linked with: $(readelf -d "$tmp/empty-run" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "empty-all is linked with: $(readelf -d "$tmp/empty-all" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo

pin=""
[ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && pin="taskset -c 0"
run="run --deploy $src/processes"
mkdir -p "$tmp/hello"
cp "$src/processes/hello-world.xml" "$tmp/hello/"
cmds=("$tmp/empty-run" "$tmp/empty-all" "$MINIATOM version" "$MINIATOM $run --mode low_latency 'Hello World'"
  "$MINIATOM $run --data $tmp/data 'Hello World'" "$MINIATOM run --deploy $tmp/hello --mode low_latency 'Hello World'")
names=("empty, linked like miniatom" "empty, linked as before (+ libmicrohttpd, GnuTLS, SQLite)" "miniatom version"
  "miniatom run --mode low_latency" "miniatom run (general: recorded)" "miniatom run --mode low_latency, hello-world.xml alone")
if [ -n "${OLD_MINIATOM:-}" ]; then
  cmds+=("$OLD_MINIATOM version" "$OLD_MINIATOM $run --mode low_latency 'Hello World'"
    "$OLD_MINIATOM $run --data $tmp/old-data 'Hello World'")
  names+=("earlier build: version" "earlier build: run --mode low_latency" "earlier build: run (general)")
fi
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
cd "$tmp"
$pin hyperfine -N --warmup "${WARMUP:-20}" --runs "${RUNS:-200}" --export-json "$tmp/times.json" \
  --export-markdown "$tmp/times.md" "${args[@]}"
echo
cat "$tmp/times.md"
echo
python3 - "$tmp/times.json" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def figures(x):  # mean, median and minimum wall time, mean CPU time (user + system), in ms
    return (x["mean"] * 1e3, statistics.median(x["times"]) * 1e3, min(x["times"]) * 1e3, (x["user"] + x["system"]) * 1e3)
base = figures(r["empty, linked like miniatom"])
print("ratio to the empty program linked like miniatom (target: at most 1.3); on a busy machine the")
print("minimum and the CPU time move less than the mean")
print(f"  {'':58} {'mean':>6} {'median':>7} {'min':>6} {'CPU':>6}")
print(f"  {'empty, linked like miniatom (ms)':58} {base[0]:6.2f} {base[1]:7.2f} {base[2]:6.2f} {base[3]:6.2f}")
for name in ("miniatom run --mode low_latency", "miniatom run (general: recorded)",
             "miniatom run --mode low_latency, hello-world.xml alone", "miniatom version",
             "empty, linked as before (+ libmicrohttpd, GnuTLS, SQLite)", "earlier build: version",
             "earlier build: run --mode low_latency", "earlier build: run (general)"):
    if name in r:
        f = figures(r[name])
        print(f"  {name:58} {f[0] / base[0]:6.2f} {f[1] / base[1]:7.2f} {f[2] / base[2]:6.2f} {f[3] / base[3]:6.2f}")
PY
