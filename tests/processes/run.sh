#!/usr/bin/env bash
# tests/processes/run.sh - runs every process test case through the real binary.
#
# A case is a folder tests/processes/cases/NAME/ with
#   deploy/            the component XML files (the deploy folder)
#   args               the arguments after `miniatom run --deploy deploy`, one per line
#                      (PROCESS first; file names are relative to the case folder)
#   expected/          0001.dat, 0002.dat ... the result documents in order (exactly these, no more);
#                      0001.properties.json ... when present, the properties must be exactly these;
#                      exit (the expected exit status, default 0); stderr (lines that must appear
#                      in standard error); summary (lines that must appear in the --json summary)
#   args2, expected2/  optional second run sharing the first run's data folder (persisted properties)
. "$(dirname "$0")/../lib.sh"
cases=${1:-$top_srcdir/tests/processes/cases}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_run() { # case-dir args-file expected-dir label
  local dir=$1 argsf=$2 exp=$3 label=$4
  local out=$tmp/$label
  rm -rf "$out"; mkdir -p "$out"
  local -a args=()
  while IFS= read -r line || [ -n "$line" ]; do [ -n "$line" ] && args+=("$line"); done < "$argsf"
  local code=0
  (cd "$dir" && "${RUN[@]}" run --deploy deploy --data "$tmp/data-$(basename "$dir")" --out "$out/results" \
     --retry-scale 0 "${args[@]}" >"$out/stdout" 2>"$out/stderr") || code=$?
  local want=0; [ -f "$exp/exit" ] && want=$(cat "$exp/exit")
  if [ "$code" != "$want" ]; then
    not_ok "$label: exit status $code, expected $want"; sed 's/^/    /' "$out/stderr" | head -20; return
  fi
  local n_exp n_got
  n_exp=$(ls "$exp" 2>/dev/null | grep -c '\.dat$' || true)
  n_got=$(ls "$out/results" 2>/dev/null | grep -c '\.dat$' || true)
  if [ "$n_exp" != "$n_got" ]; then
    not_ok "$label: $n_got result documents, expected $n_exp"; sed 's/^/    /' "$out/stderr" | head -20
    for f in "$out"/results/*.dat; do [ -f "$f" ] && { echo "    $(basename "$f"):"; head -c 300 "$f" | sed 's/^/      /'; echo; }; done
    return
  fi
  for f in "$exp"/*.dat; do
    [ -f "$f" ] || continue
    if ! cmp -s "$f" "$out/results/$(basename "$f")"; then
      not_ok "$label: $(basename "$f") differs"; diff <(cat "$f") <(cat "$out/results/$(basename "$f")") | head -10 | sed 's/^/    /'; return
    fi
    local p=${f%.dat}.properties.json
    if [ -f "$p" ] && ! diff -q <(python3 -m json.tool --sort-keys "$p") <(python3 -m json.tool --sort-keys "$out/results/$(basename "$p")") >/dev/null; then
      not_ok "$label: $(basename "$p") differs"; diff <(python3 -m json.tool --sort-keys "$p") <(python3 -m json.tool --sort-keys "$out/results/$(basename "$p")") | head -10 | sed 's/^/    /'; return
    fi
  done
  if [ -f "$exp/stderr" ]; then
    while IFS= read -r want_line; do
      [ -z "$want_line" ] && continue
      grep -qF -- "$want_line" "$out/stderr" || { not_ok "$label: stderr lacks '$want_line'"; sed 's/^/    /' "$out/stderr" | head; return; }
    done < "$exp/stderr"
  fi
  if [ -f "$exp/summary" ]; then
    (cd "$dir" && "${RUN[@]}" run --deploy deploy --data "$tmp/data-$(basename "$dir")-json" --retry-scale 0 --json "${args[@]}" >"$out/summary" 2>/dev/null) || true
    while IFS= read -r want_line; do
      [ -z "$want_line" ] && continue
      grep -qF -- "$want_line" "$out/summary" || { not_ok "$label: --json summary lacks '$want_line'"; head -40 "$out/summary" | sed 's/^/    /'; return; }
    done < "$exp/summary"
  fi
  ok "$label"
}

[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
count=0
# Custom Scripting cases (dataprocess-script-*, map-script-*, businessrules-script-*): skipped, loudly,
# only when configure was told --with-scripting=no; otherwise they run and fail when this miniatom
# cannot run scripts (tests/scripting/need.sh says why).
skipped_scripts=0
for dir in "$cases"/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  if [ "${MA_SCRIPTING:-yes}" = off ] && [[ $name == dataprocess-script-* || $name == map-script-* || $name == businessrules-script-* ]]; then
    echo "ok - $name # SKIP configured --with-scripting=no"; skipped_scripts=$((skipped_scripts + 1)); continue
  fi
  [ -f "$dir/args" ] || { not_ok "$name: no args file"; continue; }
  count=$((count + 1))
  check_run "$dir" "$dir/args" "$dir/expected" "$name"
  [ -f "$dir/args2" ] && check_run "$dir" "$dir/args2" "$dir/expected2" "$name (second run)"
done
[ "$count" -gt 0 ] || { echo "FAIL: no cases in $cases" >&2; exit 1; }
[ "$skipped_scripts" -gt 0 ] && echo "WARNING: $skipped_scripts Custom Scripting cases did NOT run (configured --with-scripting=no)" >&2
finish
