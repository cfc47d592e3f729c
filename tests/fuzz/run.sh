#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer targets with clang (ASan + UBSan) and runs each on its seed
# corpus (tests/fuzz/README.md lists them). Any crash, leak, timeout or sanitizer report fails the test.
#   run.sh          the short stage of `make check`: MA_FUZZ_SECONDS per target (default 10), in a
#                   temporary folder
#   run.sh --long   `make fuzz-long`: MA_FUZZ_SECONDS per target (default 600), one process each
#                   (as -jobs=1 would run it); the corpus it grows, the crash inputs and each target's log are kept in
#                   MA_FUZZ_DIR (default ./fuzz-long), and one line of figures per target is printed
#                   and written to MA_FUZZ_DIR/summary.txt
# MA_FUZZ_TARGETS names the targets to run (default: all). The runtime is compiled once into an
# archive that every target links; a target that defines a part itself (fuzz_wssroute includes
# wss.c) takes its own.
. "$(dirname "$0")/../lib.sh"
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "FAIL: the fuzz targets need clang (apt-get install -y clang libclang-rt-14-dev)" >&2; exit 1; }
long=0
[ "${1:-}" = --long ] && long=1
if [ $long = 1 ]; then secs=${MA_FUZZ_SECONDS:-600}; else secs=${MA_FUZZ_SECONDS:-10}; fi
targets=${MA_FUZZ_TARGETS:-fuzz_loader fuzz_template fuzz_jregex fuzz_jsonxml fuzz_flatfile fuzz_flowreq fuzz_wssroute fuzz_httpreq}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$top_srcdir
export top_srcdir # fuzz_wssroute and fuzz_httpreq read their deployments from it
pkgs="libxml-2.0 libxslt libexslt jansson sqlite3 libmicrohttpd gnutls libpcre2-8"
pkg-config --exists libcurl && pkgs="$pkgs libcurl"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$src/include -I$src/runtime -I$src/shapes -I$src/connectors -I$src/connectors/common -I${top_builddir:-$src} $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -ldl -lpthread -lm"
# the runtime as the binary has it: runtime, shapes and the built-in connectors (not their plugin.c)
if [ -n "${MA_CORE_SOURCES:-}" ]; then # exactly what the build puts in libmacore.a (make check sets it)
  core=$(for f in $MA_CORE_SOURCES; do echo "$f"; done)
else
  core=$(cd "$src" && ls runtime/*.c shapes/*.c connectors/*.c connectors/*/*.c 2>/dev/null | grep -v -e runtime/main.c -e runtime/cli -e runtime/serve.c -e /plugin.c)
fi
# the runtime once, for every target: instrumented for coverage (-fsanitize=fuzzer-no-link)
mkdir -p "$tmp/obj"
core_flags=${flags/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}
export CLANG core_flags src tmp
# shellcheck disable=SC2016
if ! printf '%s\n' $core | xargs -P "${MA_FUZZ_JOBS:-2}" -I{} sh -c \
  'o="$tmp/obj/$(echo "$1" | tr / _).o"; $CLANG $core_flags -c "$src/$1" -o "$o" 2>>"$tmp/core.cc"' sh {}; then
  not_ok "the runtime builds for the fuzz targets"; head -20 "$tmp/core.cc"; finish; exit
fi
ar rcs "$tmp/libcore.a" "$tmp"/obj/*.o
if [ $long = 1 ]; then
  out=${MA_FUZZ_DIR:-$PWD/fuzz-long}
  mkdir -p "$out"
  : >"$out/summary.txt"
fi
for target in $targets; do
  [ -f "$src/tests/fuzz/$target.c" ] || { not_ok "$target: source missing"; continue; }
  # shellcheck disable=SC2086
  if ! $CLANG $flags -Wall -Wextra -Werror "$src/tests/fuzz/$target.c" "$tmp/libcore.a" $libs -o "$tmp/$target" 2>"$tmp/$target.cc"; then
    not_ok "$target builds"; head -20 "$tmp/$target.cc"; continue
  fi
  seeds=$src/tests/fuzz/corpus_${target#fuzz_}
  opts=(-rss_limit_mb=2048 -max_len=65536 -timeout=30 -print_final_stats=1)
  case $target in # the whole server logs on stderr: libFuzzer keeps its own output apart
  fuzz_httpreq) opts+=(-close_fd_mask=2) ;;
  esac
  if [ $long = 1 ]; then
    work=$out/$target
    mkdir -p "$work/corpus" "$work/crashes"
    cp "$tmp/$target" "$work/$target"
    log=$work/log.txt
    (cd "$work" && TMPDIR=$tmp "./$target" "${opts[@]}" -max_total_time="$secs" -artifact_prefix="$work/crashes/" \
      corpus "$seeds" >"$log" 2>&1)
    rc=$?
  else
    work=$tmp/work-$target
    log=$tmp/$target.log
    mkdir -p "$work"
    (cd "$tmp" && TMPDIR=$tmp "./$target" "${opts[@]}" -max_total_time="$secs" "$work" "$seeds" >"$log" 2>&1)
    rc=$?
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*')
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*')
  figures="${runs:-0} runs in ${secs}s (${eps:-?} exec/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  if [ $long = 1 ]; then
    crashes=$(find "$work/crashes" -type f | wc -l)
    echo "$target: $figures, crash inputs $crashes, exit $rc" >>"$out/summary.txt"
  fi
  if [ "$rc" -eq 0 ]; then
    ok "$target: $figures, no crash"
  else
    not_ok "$target found a problem (exit $rc)"; grep -v '^#' "$log" | tail -40
  fi
done
[ $long = 1 ] && { echo "figures in $out/summary.txt:"; cat "$out/summary.txt"; }
finish
