#!/usr/bin/env bash
# tests/connectors/example/run.sh - the example connector plugin of docs/connectors.md: echo.c
# builds against the public headers alone (include/, -Werror), `miniatom plugins` lists it with
# its actions and connection fields, a process runs it (output documents, tracked properties, a
# document error caught by Try/Catch, a setting and a secret from the environment, a boolean field
# read through its config map and a bad one refused), and the copy in docs/connectors.md is
# exactly echo.c.
. "$(dirname "$0")/../../lib.sh"
here=$top_srcdir/tests/connectors/example
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
CC=${CC:-cc}
sanit=""
if nm -D "$MINIATOM" 2>/dev/null | grep -q __asan_init || ldd "$MINIATOM" 2>/dev/null | grep -q libasan; then sanit="-fsanitize=address,undefined"; fi
mkdir -p "$tmp/plugins"
if $CC -std=c11 -Wall -Wextra -Werror -shared -fPIC $sanit -I"$top_srcdir/include" "$here/echo.c" -o "$tmp/plugins/echo.so" 2>"$tmp/cc.err"; then
  ok "echo.c builds against the public headers alone"
else
  not_ok "echo.c builds against the public headers alone"; cat "$tmp/cc.err"; finish; exit 1
fi
if "${RUN[@]}" plugins --plugins "$tmp/plugins" | grep -A1 -x '  echo' | grep -qx '    actions: Send'; then ok "miniatom plugins lists the connector and its actions"; else not_ok "miniatom plugins lists echo"; fi
printf hi >"$tmp/1.txt"; printf fail >"$tmp/2.txt"
(cd "$here" && "${RUN[@]}" run --deploy deploy --plugins "$tmp/plugins" --data "$tmp/data" --out "$tmp/out" --input "$tmp/1.txt" --input "$tmp/2.txt" "Echo Documents" >/dev/null 2>"$tmp/err")
code=$?
if [ $code = 0 ] && [ "$(cat "$tmp/out/0001.dat")" = "echo: hi" ] && [ "$(cat "$tmp/out/0002.dat")" = "caught: echo: asked to fail" ]; then
  ok "a process runs the connector; a document error is caught"; else not_ok "the echo process (exit $code)"; cat "$tmp/err"; fi
if grep -q '"connector.track.echo.length": "8"' "$tmp/out/0001.properties.json" && grep -q '"connector.track.echo.authenticated": "false"' "$tmp/out/0001.properties.json"; then
  ok "the connector sets tracked properties"; else not_ok "tracked properties"; cat "$tmp/out/0001.properties.json"; fi
(cd "$here" && MINIATOM_CONNECTION_ECHO_SERVICE_PREFIX='env> ' MINIATOM_CONNECTION_ECHO_SERVICE_TOKEN=t0ken "${RUN[@]}" run --deploy deploy --plugins "$tmp/plugins" \
   --data "$tmp/data" --out "$tmp/out2" --input "$tmp/1.txt" "Echo Documents" >/dev/null 2>&1)
if [ "$(cat "$tmp/out2/0001.dat" 2>/dev/null)" = "env> hi" ] && grep -q '"connector.track.echo.authenticated": "true"' "$tmp/out2/0001.properties.json"; then
  ok "a setting and a secret from the environment override the connection"; else not_ok "environment overrides"; fi
if "${RUN[@]}" plugins --plugins "$tmp/plugins" | grep -qx '      connection.<id or name>.upper (bool, default false): upper-case the document.s data'; then
  ok "miniatom plugins lists the connection fields of its config map"; else not_ok "miniatom plugins lists echo's fields"; fi
(cd "$here" && "${RUN[@]}" run --deploy deploy --plugins "$tmp/plugins" --data "$tmp/data" --out "$tmp/out3" --set "connection.Echo Service.upper=yes" \
   --input "$tmp/1.txt" "Echo Documents" >/dev/null 2>&1)
if [ "$(cat "$tmp/out3/0001.dat" 2>/dev/null)" = "echo: HI" ]; then ok "a boolean field read with ma_connector_config"; else not_ok "upper=yes: '$(cat "$tmp/out3/0001.dat" 2>/dev/null)'"; fi
(cd "$here" && "${RUN[@]}" run --deploy deploy --plugins "$tmp/plugins" --data "$tmp/data" --out "$tmp/out4" --set "connection.Echo Service.upper=loud" \
   --input "$tmp/1.txt" "Echo Documents" >/dev/null 2>"$tmp/err4")
code=$?
if [ $code = 3 ] && grep -q "connection 'Echo Service' field upper: expected true or false, not 'loud' (from --set: connection.Echo Service.upper)" "$tmp/err4"; then
  ok "a bad value is refused at deploy, naming the field, the value and where it was set"; else not_ok "upper=loud (exit $code)"; head -3 "$tmp/err4"; fi
doc=$top_srcdir/docs/connectors.md
awk '/^<!-- echo.c verbatim -->$/ {on=1; next} on && /^```c$/ {inside=1; next} inside && /^```$/ {exit} inside {print}' "$doc" >"$tmp/from-doc.c"
if [ -s "$tmp/from-doc.c" ] && cmp -s "$tmp/from-doc.c" "$here/echo.c"; then ok "docs/connectors.md holds echo.c verbatim"; else not_ok "docs/connectors.md holds echo.c verbatim"; diff "$here/echo.c" "$tmp/from-doc.c" | head -5; fi
finish
