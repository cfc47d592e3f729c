#!/usr/bin/env bash
# tests/regex/run.sh - Java regular expressions on PCRE2 (miniatom/jregex.h) against java.util.regex
# itself: every row of cases.txt (id, mode, pattern, input, replacement; tab-separated, see the
# table's head) is run by JavaRegex.java (compiled here with javac) and by probe (built by make
# check against libmacore.a); any row whose results differ fails, named. Rows of mode "refuse" are
# what mini-Atom refuses on purpose: the test checks that Java accepts them (so the refusal list
# stays honest) and that mini-Atom refuses them with a message. Without a JDK (scripting configured
# off or javac missing) the test says so and is skipped (exit 77), never passed.
. "$(dirname "$0")/../lib.sh"
here=$top_srcdir/tests/regex
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/tests/regex/probe
if [ "${MA_SCRIPTING:-}" = off ] || ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  echo "SKIP: tests/regex needs a JDK (java and javac) for java.util.regex's own results; scripting is" \
    "'${MA_SCRIPTING:-unknown}' and javac is $(command -v javac || echo missing). THE JAVA REGEX TABLE DID NOT RUN." >&2
  exit 77
fi
[ -x "$probe" ] || { echo "FAIL: $probe is not built (make check builds it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if javac -nowarn -encoding UTF-8 -d "$tmp" "$here/JavaRegex.java" 2>"$tmp/javac.err"; then
  ok "JavaRegex.java compiles"
else
  not_ok "JavaRegex.java compiles"; cat "$tmp/javac.err"; finish; exit 1
fi
java -Dfile.encoding=UTF-8 -cp "$tmp" JavaRegex "$here/cases.txt" >"$tmp/java.out" || { not_ok "java runs the table"; finish; exit 1; }
"$probe" "$here/cases.txt" >"$tmp/ours.out" 2>"$tmp/ours.err" || { not_ok "the probe runs the table"; cat "$tmp/ours.err"; finish; exit 1; }

rows=$(grep -c -v -e '^#' -e '^$' "$here/cases.txt")
[ "$(wc -l <"$tmp/java.out")" -eq "$rows" ] && [ "$(wc -l <"$tmp/ours.out")" -eq "$rows" ] \
  && ok "both print one line for each of the $rows rows" \
  || not_ok "both print one line for each of the $rows rows (java $(wc -l <"$tmp/java.out"), ours $(wc -l <"$tmp/ours.out"))"

while IFS=$'\t' read -r id expected <&3 && IFS=$'\t' read -r id2 got <&4; do
  if [ "$id" != "$id2" ]; then not_ok "rows out of step: $id / $id2"; break; fi
  mode=$(awk -F'\t' -v id="$id" '$1 == id { print $2; exit }' "$here/cases.txt")
  if [ "$mode" = refuse ]; then
    if [ "$expected" != refused ]; then
      not_ok "$id: Java does not accept this pattern either ($expected): take the row out of the refusal list"
    elif [ "$got" != refused ]; then
      not_ok "$id: mini-Atom does not refuse it ($got)"
    elif ! grep -q "^$id: regular expression '.*' *.*near index [0-9]" "$tmp/ours.err"; then
      not_ok "$id: the refusal has no message with the index: $(grep "^$id: " "$tmp/ours.err")"
    else
      ok "$id: refused ($(grep "^$id: " "$tmp/ours.err" | sed 's/^[^:]*: regular expression .*'"'"': //'))"
    fi
  elif [ "$expected" = "$got" ]; then
    ok "$id"
  else
    not_ok "$id: java.util.regex gives '$expected', mini-Atom '$got'"
  fi
done 3<"$tmp/java.out" 4<"$tmp/ours.out"
finish
