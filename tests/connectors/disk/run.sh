#!/usr/bin/env bash
# tests/connectors/disk/run.sh - the Disk connector (connectors/disk) in a temporary folder, through
# the processes in deploy/: Get with wildcard, regex and exact filters, max files, delete after
# read, a sub-folder; Send with writeOption unique, over, append and abort (Boomi's spellings; the
# older overwrite still read), generated names and created folders; unknown option values refused
# at deploy with the accepted values listed; and confinement: absolute names, "..", symbolic links leaving the folder (read,
# written through, or used as a folder) are all refused, and nothing outside the folder changes.
# Uses the built-in connector when `miniatom plugins` lists it, else builds it as a plugin.
. "$(dirname "$0")/../../lib.sh"
here=$top_srcdir/tests/connectors/disk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }

plug=()
if "$MINIATOM" plugins 2>/dev/null | grep -qx '  disk'; then
  echo "# the disk connector is built in"
else
  CC=${CC:-cc}
  sanit=""
  if nm -D "$MINIATOM" 2>/dev/null | grep -q __asan_init || ldd "$MINIATOM" 2>/dev/null | grep -q libasan; then sanit="-fsanitize=address,undefined"; fi
  mkdir -p "$tmp/plugins"
  if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -shared -fPIC $sanit -I"$top_srcdir/include" \
      "$top_srcdir/connectors/disk/disk.c" "$top_srcdir/connectors/disk/plugin.c" -o "$tmp/plugins/disk.so" 2>"$tmp/cc.err"; then
    ok "the disk connector builds as a plugin"
  else
    not_ok "the disk connector builds as a plugin"; cat "$tmp/cc.err"; finish; exit 1
  fi
  plug=(--plugins "$tmp/plugins")
fi

dir=$tmp/files        # the connection's folder
outside=$tmp/outside  # must never change
fresh() {
  rm -rf "$dir" "$outside"; mkdir -p "$dir" "$outside"
  printf 'do not touch' >"$outside/secret.txt"
}
untouched() { [ "$(ls -A "$outside")" = "secret.txt" ] && [ "$(cat "$outside/secret.txt")" = "do not touch" ] && [ ! -e "$tmp/escape.txt" ]; }
run() { # LABEL ARGS...
  local label=$1; shift
  local d=$tmp/$label
  rm -rf "$d"; mkdir -p "$d"
  (cd "$here" && "${RUN[@]}" run --deploy deploy "${plug[@]}" --data "$d/data" --out "$d/out" --set "connection.Files.directory=$dir" "$@" \
     >"$d/stdout" 2>"$d/stderr")
  echo $? >"$d/code"
}
code() { cat "$tmp/$1/code"; }
ndocs() { ls "$tmp/$1/out" 2>/dev/null | grep -c '\.dat$'; }
doc() { cat "$tmp/$1/out/$(printf '%04d' "$2").dat" 2>/dev/null; }
prop() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$tmp/$1/out/$(printf '%04d' "$2").properties.json" "$3" 2>/dev/null; }
show_err() { sed 's/^/    /' "$tmp/$1/stderr" | head -8; }
printf 'hello' >"$tmp/d1"; printf 'world' >"$tmp/d2"

# ---- Get ----
fresh
printf A >"$dir/a.txt"; printf B >"$dir/b.txt"; printf C >"$dir/c.csv"; mkdir "$dir/sub.txt"; printf S >"$dir/sub.txt/in-sub.txt"
ln -s "$outside/secret.txt" "$dir/leak.txt"; ln -s a.txt "$dir/alias.txt"; ln -s "$outside" "$dir/outlink"
run txt "Disk Get Text"
if [ "$(code txt)" = 0 ] && [ "$(ndocs txt)" = 3 ] && [ "$(doc txt 1)$(doc txt 2)$(doc txt 3)" = "AAB" ] && [ "$(prop txt 1 connector.track.disk.filename)" = a.txt ] \
   && [ "$(prop txt 2 connector.disk.filename)" = alias.txt ]; then
  ok "Get *.txt: one document per file in name order, with connector.track.disk.filename and connector.disk.filename; folders skipped"
else not_ok "Get wildcard (exit $(code txt), $(ndocs txt) documents)"; show_err txt; fi
if (cd "$here" && "${RUN[@]}" run --deploy deploy "${plug[@]}" --data "$tmp/j" --set "connection.Files.directory=$dir" --json "Disk Get Text" 2>&1) | grep -q 'leak.txt is a symbolic link that leaves'; then
  ok "a symbolic link leaving the folder is not read (a warning says so); one staying inside is"; else not_ok "symlink escape on Get"; fi
printf 1 >"$dir/order-1.csv"; printf 22 >"$dir/order-22.csv"; printf x >"$dir/order-x.csv"; printf y >"$dir/xorder-1.csv"; printf z >"$dir/order-1.csv.bak"
run re "Disk Get Orders"
if [ "$(code re)" = 0 ] && [ "$(ndocs re)" = 2 ] && [ "$(prop re 1 connector.track.disk.filename),$(prop re 2 connector.track.disk.filename)" = "order-1.csv,order-22.csv" ]; then
  ok "Get with a regular expression matching the whole name"; else not_ok "Get regex (exit $(code re), $(ndocs re) documents)"; show_err re; fi
printf E >"$dir/exact.dat"; printf e >"$dir/exact.dat2"
run exact "Disk Get Exact"
if [ "$(code exact)" = 0 ] && [ "$(ndocs exact)" = 1 ] && [ "$(doc exact 1)" = E ] && [ ! -e "$dir/exact.dat" ] && [ -e "$dir/exact.dat2" ]; then
  ok "Get with an exact name, deleted after reading (only that file)"; else not_ok "Get exact + delete (exit $(code exact))"; show_err exact; fi
run two "Disk Get Two"
if [ "$(code two)" = 0 ] && [ "$(ndocs two)" = 2 ] && [ "$(prop two 1 connector.track.disk.filename),$(prop two 2 connector.track.disk.filename)" = "a.txt,alias.txt" ]; then
  ok "maxFileCount reads at most that many files"; else not_ok "maxFileCount (exit $(code two), $(ndocs two) documents)"; show_err two; fi
mkdir -p "$tmp/baddeploy"; cp "$here"/deploy/*.xml "$tmp/baddeploy/"
sed -i 's/maxFileCount="2"/maxFileCount="-2"/' "$tmp/baddeploy/op-get-two-files.xml"
"${RUN[@]}" run --deploy "$tmp/baddeploy" "${plug[@]}" --data "$tmp/bad-data" --set "connection.Files.directory=$dir" "Disk Get Two" >/dev/null 2>"$tmp/badmax.err"
c=$?
if [ $c = 3 ] && grep -q "disk: maxFileCount: expected a whole number, not '-2'" "$tmp/badmax.err"; then ok "a maxFileCount that is no whole number is refused at deploy"; else not_ok "maxFileCount=-2 (exit $c)"; sed 's/^/    /' "$tmp/badmax.err" | head -5; fi
mkdir -p "$dir/inbox"; printf '{"n":1}' >"$dir/inbox/in-01.json"; printf '{"n":2}' >"$dir/inbox/in-02.json"; printf '{"n":3}' >"$dir/inbox/in-003.json"
run inbox "Disk Get Inbox"
if [ "$(code inbox)" = 0 ] && [ "$(ndocs inbox)" = 2 ] && [ "$(ls "$dir/inbox")" = "in-003.json" ]; then ok "getDirectory reads a sub-folder; ? matches one character"; else not_ok "getDirectory (exit $(code inbox))"; show_err inbox; fi
rm -rf "$dir/inbox"; ln -s "$outside" "$dir/inbox"
run inboxlink "Disk Get Inbox"
if [ "$(code inboxlink)" = 1 ] && grep -q "a component is a symbolic link" "$tmp/inboxlink/stderr" && untouched; then ok "a getDirectory that is a symbolic link is refused"; else not_ok "getDirectory symlink (exit $(code inboxlink))"; show_err inboxlink; fi
if untouched; then ok "Get left everything outside the folder alone"; else not_ok "Get changed something outside the folder"; fi

# ---- Send ----
fresh
run uniq -p FILE=report.txt --input "$tmp/d1" --input "$tmp/d2" "Disk Send Unique"
if [ "$(code uniq)" = 0 ] && [ "$(cat "$dir/report.txt")" = hello ] && [ "$(cat "$dir/report1.txt")" = world ] && [ "$(doc uniq 1)$(doc uniq 2)" = "wrote report.txtwrote report1.txt" ]; then
  ok "Send unique: an existing name gets a number; the name written is on the document"; else not_ok "Send unique (exit $(code uniq))"; show_err uniq; ls "$dir"; fi
run over -p FILE=report.txt --input "$tmp/d2" "Disk Send Overwrite"
if [ "$(code over)" = 0 ] && [ "$(cat "$dir/report.txt")" = world ] && [ "$(ls -A "$dir" | grep -c tmp)" = 0 ]; then ok "Send overwrite replaces the file (no temporary file left)"; else not_ok "Send overwrite (exit $(code over))"; show_err over; fi
mkdir -p "$tmp/olddeploy"; cp "$here"/deploy/*.xml "$tmp/olddeploy/"
sed -i 's/writeOption="over"/writeOption="overwrite"/' "$tmp/olddeploy/op-send-overwrite.xml"
printf 'again' >"$tmp/d3"
(cd "$tmp" && "${RUN[@]}" run --deploy olddeploy "${plug[@]}" --data "$tmp/old-data" --set "connection.Files.directory=$dir" -p FILE=report.txt --input "$tmp/d3" "Disk Send Overwrite" >/dev/null 2>"$tmp/old.err")
c=$?
if [ $c = 0 ] && [ "$(cat "$dir/report.txt")" = again ]; then ok "writeOption=\"overwrite\" (the older spelling) still overwrites"; else not_ok "writeOption overwrite (exit $c)"; sed 's/^/    /' "$tmp/old.err" | head -5; fi
printf 'world' >"$dir/report.txt"
run app -p FILE=report.txt --input "$tmp/d1" --input "$tmp/d2" "Disk Send Append"
if [ "$(code app)" = 0 ] && [ "$(cat "$dir/report.txt")" = worldhelloworld ]; then ok "Send append adds to the file"; else not_ok "Send append (exit $(code app))"; show_err app; fi
run fail -p FILE=report.txt --input "$tmp/d1" "Disk Send Fail"
if [ "$(code fail)" = 1 ] && grep -q "file report.txt already exists" "$tmp/fail/stderr" && [ "$(cat "$dir/report.txt")" = worldhelloworld ]; then
  ok "Send fail-if-exists: a document error, the file unchanged"; else not_ok "Send fail if exists (exit $(code fail))"; show_err fail; fi
run failnew -p FILE=new.txt --input "$tmp/d1" "Disk Send Fail"
if [ "$(code failnew)" = 0 ] && [ "$(cat "$dir/new.txt")" = hello ]; then ok "Send fail-if-exists writes a new file"; else not_ok "Send fail-if-exists, new file (exit $(code failnew))"; show_err failnew; fi
run gen --input "$tmp/d1" "Disk Send Unique"
gen=$(doc gen 1 | sed 's/^wrote //')
if [ "$(code gen)" = 0 ] && [[ "$gen" =~ ^[0-9a-f-]{36}\.dat$ ]] && [ "$(cat "$dir/$gen")" = hello ]; then ok "without connector.disk.filename a name is generated"; else not_ok "generated name (exit $(code gen), '$gen')"; show_err gen; fi
run dirs -p FILE=r.txt --input "$tmp/d1" "Disk Send Dirs"
if [ "$(code dirs)" = 0 ] && [ "$(cat "$dir/out/daily/r.txt")" = hello ]; then ok "createDirectory makes the sendDirectory folders"; else not_ok "createDirectory (exit $(code dirs))"; show_err dirs; fi
run nodir -p FILE=r.txt -p DIR=missing --input "$tmp/d1" "Disk Send Unique"
if [ "$(code nodir)" = 1 ] && grep -q "does not exist (createDirectory is off)" "$tmp/nodir/stderr"; then ok "without createDirectory a missing folder is a document error"; else not_ok "missing folder (exit $(code nodir))"; show_err nodir; fi

# ---- option values Boomi does not define: refused at deploy, naming the accepted values ----
for opt in 'op-send-overwrite.xml|writeOption="over"|writeOption="replace"|disk: writeOption "replace" is not one of: unique, over, append, abort (also read: create, overwrite, error, fail)|Disk Send Overwrite' \
           'op-get-text-files.xml|filterMatchType="wildcard"|filterMatchType="glob"|disk: filterMatchType "glob" is not one of: wildcard, regex, exact (also read: regularexpression, exactmatch)|Disk Get Text'; do
  IFS='|' read -r file from to want proc <<<"$opt"
  rm -rf "$tmp/optdeploy"; mkdir -p "$tmp/optdeploy"; cp "$here"/deploy/*.xml "$tmp/optdeploy/"
  sed -i "s/$from/$to/" "$tmp/optdeploy/$file"
  "${RUN[@]}" run --deploy "$tmp/optdeploy" "${plug[@]}" --data "$tmp/opt-data" --set "connection.Files.directory=$dir" -p FILE=x.txt --input "$tmp/d1" "$proc" >/dev/null 2>"$tmp/opt.err"
  c=$?
  if [ $c = 3 ] && grep -qF "$want" "$tmp/opt.err"; then ok "$to is refused at deploy, listing the accepted values"; else not_ok "$to (exit $c)"; sed 's/^/    /' "$tmp/opt.err" | head -5; fi
  "${RUN[@]}" check --deploy "$tmp/optdeploy" "${plug[@]}" >"$tmp/optcheck.out" 2>&1
  if grep -qF "$want" "$tmp/optcheck.out"; then ok "miniatom check reports $to with the accepted values"; else not_ok "check on $to"; sed 's/^/    /' "$tmp/optcheck.out" | head -5; fi
done

# ---- confinement on Send ----
for bad in ../escape.txt /etc/passwd-copy sub/../../escape.txt "./x.txt" "a//b.txt"; do
  label=bad$(echo "$bad" | tr -c 'a-z0-9' _)
  run "$label" -p "FILE=$bad" --input "$tmp/d1" "Disk Send Overwrite"
  if [ "$(code "$label")" = 1 ] && grep -q "files must stay inside the connection's folder" "$tmp/$label/stderr" && untouched && [ ! -e /etc/passwd-copy ]; then
    ok "the file name '$bad' is refused"; else not_ok "file name '$bad' (exit $(code "$label"))"; show_err "$label"; fi
done
run baddir -p FILE=x.txt -p DIR=../.. --input "$tmp/d1" "Disk Send Unique"
if [ "$(code baddir)" = 1 ] && grep -q "directories must stay inside" "$tmp/baddir/stderr" && untouched; then ok "connector.disk.directory '../..' is refused"; else not_ok "directory escape (exit $(code baddir))"; show_err baddir; fi
ln -s "$outside/secret.txt" "$dir/link.txt"
run lapp -p FILE=link.txt --input "$tmp/d1" "Disk Send Append"
if [ "$(code lapp)" = 1 ] && grep -q "it is a symbolic link" "$tmp/lapp/stderr" && untouched; then ok "append never writes through a symbolic link"; else not_ok "append through a symlink (exit $(code lapp))"; show_err lapp; fi
run lfail -p FILE=link.txt --input "$tmp/d1" "Disk Send Fail"
if [ "$(code lfail)" = 1 ] && untouched; then ok "fail-if-exists never writes through a symbolic link"; else not_ok "fail-if-exists through a symlink (exit $(code lfail))"; show_err lfail; fi
run lover -p FILE=link.txt --input "$tmp/d1" "Disk Send Overwrite"
if [ "$(code lover)" = 0 ] && [ ! -L "$dir/link.txt" ] && [ "$(cat "$dir/link.txt")" = hello ] && untouched; then
  ok "overwrite replaces a symbolic link itself, never its target"; else not_ok "overwrite of a symlink (exit $(code lover))"; show_err lover; fi
ln -s "$outside" "$dir/outdir"
run ldir -p FILE=outdir/x.txt --input "$tmp/d1" "Disk Send Unique"
run ldir2 -p FILE=x.txt -p DIR=outdir --input "$tmp/d1" "Disk Send Unique"
if [ "$(code ldir)" = 1 ] && [ "$(code ldir2)" = 1 ] && grep -q "a component is a symbolic link" "$tmp/ldir/stderr" && untouched; then
  ok "a folder that is a symbolic link leaving the folder is refused (in the name or in connector.disk.directory)"; else not_ok "symlinked folder (exit $(code ldir)/$(code ldir2))"; show_err ldir; fi
run sub -p FILE=sub/in.txt -p DIR= --input "$tmp/d1" "Disk Send Dirs"
if [ "$(code sub)" = 0 ] && [ "$(cat "$dir/out/daily/sub/in.txt")" = hello ]; then ok "a relative name with folders stays inside"; else not_ok "relative name with a folder (exit $(code sub))"; show_err sub; fi
if untouched; then ok "Send left everything outside the folder alone"; else not_ok "Send changed something outside the folder"; ls -la "$outside"; fi

# ---- the folder itself ----
run nofolder --set "connection.Files.directory=$tmp/does-not-exist" "Disk Get Text"
if [ "$(code nofolder)" = 1 ] && grep -q "cannot be opened" "$tmp/nofolder/stderr"; then ok "a missing folder is a document error naming it"; else not_ok "missing folder (exit $(code nofolder))"; show_err nofolder; fi
n=$(cd "$here" && MINIATOM_CONNECTION_FILES_DIRECTORY=$dir "${RUN[@]}" run --deploy deploy "${plug[@]}" --data "$tmp/envdata" --out "$tmp/envout" "Disk Get Text" >/dev/null 2>&1; ls "$tmp/envout" 2>/dev/null | grep -c '\.dat$')
if [ "$n" -ge 1 ]; then ok "the folder from MINIATOM_CONNECTION_FILES_DIRECTORY (an environment extension)"; else not_ok "folder from the environment ($n documents)"; fi
finish
