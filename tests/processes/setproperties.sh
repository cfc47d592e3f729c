#!/usr/bin/env bash
# tests/processes/setproperties.sh - connector document properties written by Set Properties and
# read by the Disk connector, in a temporary folder: Disk - File Name (connector.disk.filename)
# and Disk - Directory (connector.disk.directory) name the file a Send writes; Disk - Directory
# chooses the folder a Get reads. The processes are in tests/processes/setproperties/deploy.
. "$(dirname "$0")/../lib.sh"
here=$top_srcdir/tests/processes/setproperties
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
"$MINIATOM" plugins 2>/dev/null | grep -qx '  disk' || { echo "FAIL: this miniatom has no built-in disk connector" >&2; exit 1; }

dir=$tmp/files
mkdir -p "$dir"
run() { # LABEL ARGS...
  local label=$1; shift
  local d=$tmp/$label
  mkdir -p "$d"
  (cd "$here" && "${RUN[@]}" run --deploy deploy --data "$d/data" --out "$d/out" --set "connection.Files.directory=$dir" "$@" \
     >"$d/stdout" 2>"$d/stderr")
  echo $? >"$d/code"
}
code() { cat "$tmp/$1/code"; }
ndocs() { ls "$tmp/$1/out" 2>/dev/null | grep -c '\.dat$'; }
doc() { cat "$tmp/$1/out/$(printf '%04d' "$2").dat" 2>/dev/null; }
show_err() { sed 's/^/    /' "$tmp/$1/stderr" | head -8; }

printf '42' >"$tmp/in.txt"
run send "Disk Named By Set Properties" --input "$tmp/in.txt"
if [ "$(code send)" = 0 ] && [ "$(cat "$dir/2026/12/order-42.txt" 2>/dev/null)" = 42 ] && [ "$(ls "$dir")" = 2026 ] \
   && [ "$(doc send 1)" = "wrote order-42.txt" ]; then
  ok "Send writes the file Set Properties named (connector.disk.filename) in the folder it chose (connector.disk.directory)"
else
  not_ok "Send writes the file Set Properties named: exit $(code send), files: $(cd "$dir" && find . -type f), result '$(doc send 1)'"; show_err send
fi

mkdir -p "$dir/inbox"
printf 'A' >"$dir/inbox/a.txt"; printf 'B' >"$dir/inbox/b.txt"; printf 'top' >"$dir/top.txt"
run get "Disk Folder By Set Properties"
if [ "$(code get)" = 0 ] && [ "$(ndocs get)" = 2 ] && [ "$(doc get 1)$(doc get 2)" = AB ]; then
  ok "Get reads the folder Set Properties chose (connector.disk.directory), not the connection's folder itself"
else
  not_ok "Get reads the folder Set Properties chose: exit $(code get), $(ndocs get) documents: '$(doc get 1)$(doc get 2)'"; show_err get
fi
finish
