#!/usr/bin/env bash
# tests/plugin/run.sh - builds the out-of-tree shape plugin upper.c against the installed headers
# alone (`make install DESTDIR=...`, then `pkg-config --cflags --libs miniatom`: install.sh), loads
# it with --plugins and runs a process that uses it; a plugin built for another ABI is refused
# with a clear error; the built-in connectors load as plugins (make plugins).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/install.sh"
here=$top_srcdir/tests/plugin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=${CC:-cc}
mkdir -p "$tmp/good" "$tmp/bad"
sanit=$(plugin_sanitizers)
install_miniatom "$tmp/root"
if $CC -std=c11 -Wall -Wextra -Werror -shared -fPIC $sanit "$here/upper.c" $(pc_miniatom --cflags --libs) -o "$tmp/good/upper.so" 2>"$tmp/cc.err"; then
  ok "plugin builds against the installed public headers (pkg-config miniatom)"
else
  not_ok "plugin builds against the installed public headers (pkg-config miniatom)"; cat "$tmp/cc.err"
fi
printf 'hello plugin' > "$tmp/in.txt"
out=$("${RUN[@]}" run --deploy "$here/deploy" --plugins "$tmp/good" Shout --input "$tmp/in.txt" 2>"$tmp/err")
code=$?
if [ $code -eq 0 ] && [ "$out" = "HELLO PLUGIN!" ]; then ok "a process runs the plugin shape"; else not_ok "a process runs the plugin shape (exit $code, output '$out')"; cat "$tmp/err"; fi
"${RUN[@]}" run --deploy "$here/deploy" --plugins "$tmp/good" Shout --input "$tmp/in.txt" --out "$tmp/out" 2>/dev/null
if grep -q '"dynamicdocument.PLUGIN": "uppercase"' "$tmp/out/0001.properties.json" 2>/dev/null; then ok "the plugin sets document properties"; else not_ok "the plugin sets document properties"; fi
if "${RUN[@]}" plugins --plugins "$tmp/good" | grep -qx '  uppercase'; then ok "miniatom plugins lists the plugin's shape type"; else not_ok "miniatom plugins lists the plugin's shape type"; fi
"${RUN[@]}" run --deploy "$here/deploy" Shout --input "$tmp/in.txt" >/dev/null 2>"$tmp/err2"
code=$?
if [ $code -eq 3 ] && grep -q "shapetype 'uppercase' is not supported" "$tmp/err2"; then ok "without the plugin the process is not runnable"; else not_ok "without the plugin: exit $code"; cat "$tmp/err2"; fi
$CC -std=c11 -shared -fPIC $sanit -DWRONG_ABI "$here/upper.c" $(pc_miniatom --cflags --libs) -o "$tmp/bad/upper.so"
"${RUN[@]}" run --deploy "$here/deploy" --plugins "$tmp/bad" Shout --input "$tmp/in.txt" >/dev/null 2>"$tmp/err3"
code=$?
if [ $code -eq 3 ] && grep -q "was built for plugin ABI 103; this miniatom has ABI 3" "$tmp/err3"; then ok "a plugin of another ABI is refused"; else not_ok "a plugin of another ABI: exit $code"; cat "$tmp/err3"; fi
printf 'not an elf' > "$tmp/bad/junk.so"; rm -f "$tmp/bad/upper.so"
"${RUN[@]}" plugins --plugins "$tmp/bad" >/dev/null 2>"$tmp/err4"
code=$?
if [ $code -eq 3 ] && grep -q "junk.so cannot be loaded" "$tmp/err4"; then ok "a file that is not a plugin is refused by name"; else not_ok "junk plugin: exit $code"; cat "$tmp/err4"; fi
# the built-in connectors built as plugins by `make plugins` (make check builds them)
plugdir=${top_builddir:-$top_srcdir}/connectors
if [ -f "$plugdir/cloudblue.so" ]; then
  "${RUN[@]}" plugins --plugins "$plugdir" >"$tmp/plugs" 2>&1
  if [ "$(grep -c '^  .*/connectors/[a-z]*\.so$' "$tmp/plugs")" = 4 ] && grep -q '^  cloudblue$' "$tmp/plugs"; then
    ok "the four built-in connectors load as plugins"
  else
    not_ok "connector plugins"; cat "$tmp/plugs"
  fi
else
  not_ok "connector plugins: $plugdir/cloudblue.so was not built (make plugins)"
fi
finish
