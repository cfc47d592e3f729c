#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer targets with clang (ASan + UBSan) and runs each briefly
# on its seed corpus. Any crash, leak or sanitizer report fails the test. MA_FUZZ_SECONDS sets the
# time per target (default 20).
. "$(dirname "$0")/../lib.sh"
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "FAIL: the fuzz targets need clang (apt-get install -y clang libclang-rt-14-dev)" >&2; exit 1; }
secs=${MA_FUZZ_SECONDS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$top_srcdir
pkgs="libxml-2.0 libxslt libexslt jansson sqlite3 libmicrohttpd gnutls"
pkg-config --exists libcurl && pkgs="$pkgs libcurl"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$src/include -I$src/runtime -I$src/shapes -I$src/connectors -I$src/connectors/common -I${top_builddir:-$src} $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -ldl -lpthread -lm"
# the runtime as the binary has it: runtime, shapes and the built-in connectors (not their plugin.c)
if [ -n "${MA_CORE_SOURCES:-}" ]; then # exactly what the build puts in libmacore.a (make check sets it)
  core=$(for f in $MA_CORE_SOURCES; do echo "$src/$f"; done)
else
  core=$(ls "$src"/runtime/*.c "$src"/shapes/*.c "$src"/connectors/*.c "$src"/connectors/*/*.c 2>/dev/null | grep -v -e runtime/main.c -e runtime/cli.c -e /plugin.c)
fi
for target in fuzz_loader fuzz_template fuzz_jsonxml fuzz_flowreq; do
  [ -f "$src/tests/fuzz/$target.c" ] || { not_ok "$target: source missing"; continue; }
  # shellcheck disable=SC2086
  if ! $CLANG $flags "$src/tests/fuzz/$target.c" $core $libs -o "$tmp/$target" 2>"$tmp/$target.cc"; then
    not_ok "$target builds"; head -20 "$tmp/$target.cc"; continue
  fi
  seeds=$src/tests/fuzz/corpus_${target#fuzz_}
  mkdir -p "$tmp/work-$target"
  if (cd "$tmp" && "./$target" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 "$tmp/work-$target" "$seeds" >"$tmp/$target.log" 2>&1); then
    ok "$target: $(grep -o 'Done [0-9]* runs' "$tmp/$target.log" | tail -1) in ${secs}s, no crash"
  else
    not_ok "$target found a problem"; tail -40 "$tmp/$target.log"
  fi
done
finish
