#!/usr/bin/env bash
# tests/cli/run.sh - the command line: help for every command, usage errors (exit 2), deploy
# errors with file and line (exit 3), check's exit codes, graph, --out layout, inputs and -p.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ex=$top_srcdir/processes

expect_exit() { # want label cmd...
  local want=$1 label=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local code=$?
  if [ "$code" = "$want" ]; then ok "$label"; else not_ok "$label: exit $code, expected $want"; head -5 "$tmp/err" | sed 's/^/    /'; fi
}
expect_grep() { # file pattern label
  if grep -qF -- "$2" "$1"; then ok "$3"; else not_ok "$3: '$2' not in output"; head -10 "$1" | sed 's/^/    /'; fi
}

for c in run check graph plugins executions; do
  expect_exit 0 "$c --help" "${RUN[@]}" "$c" --help
  expect_grep "$tmp/out" "Usage: miniatom $c" "$c --help prints its usage"
done
expect_exit 0 "help" "${RUN[@]}" help
expect_exit 2 "no command" "${RUN[@]}"
expect_exit 2 "unknown command" "${RUN[@]}" frobnicate
expect_exit 2 "run without a process" "${RUN[@]}" run --deploy "$ex"
expect_exit 2 "run with a bad option" "${RUN[@]}" run --no-such-option X
expect_exit 2 "-p without =" "${RUN[@]}" run --deploy "$ex" -p NOEQUALS "Hello World"
expect_exit 2 "--mode of the wrong kind" "${RUN[@]}" run --deploy "$ex" --mode fast "Hello World"
expect_exit 2 "--input that does not exist" "${RUN[@]}" run --deploy "$ex" --input "$tmp/nope.txt" "Hello World"
expect_grep "$tmp/err" "nope.txt: cannot open" "a missing input file is named"
expect_exit 3 "an unknown process" "${RUN[@]}" run --deploy "$ex" "No Such Process"
expect_grep "$tmp/err" "no process 'No Such Process'" "an unknown process is named"

# the example runs, by name, by id and by file
expect_exit 0 "run by name" "${RUN[@]}" run --deploy "$ex" "Hello World"
expect_grep "$tmp/out" "Hello, world! It's Hello World." "the example greets the world"
expect_exit 0 "run by componentId" "${RUN[@]}" run --deploy "$ex" 6f3b0c52-3c0e-4d7b-9a0e-1a2b3c4d5e01
expect_exit 0 "run by component file" "${RUN[@]}" run "$ex/hello-world.xml" -p DPP_NAME=Ada
expect_grep "$tmp/out" "Hello, Ada!" "-p sets a process property"
expect_grep "$tmp/out" '{"greeted": "Ada", "personal": true}' "a decision on the property takes the true path"

# --out and --json
expect_exit 0 "--out" "${RUN[@]}" run --deploy "$ex" "Hello World" --out "$tmp/o"
if [ -f "$tmp/o/0001.dat" ] && [ -f "$tmp/o/0001.properties.json" ] && [ -f "$tmp/o/0002.dat" ] && [ ! -e "$tmp/o/0003.dat" ]; then
  ok "--out writes 0001.dat, 0001.properties.json ... for each result"
else
  not_ok "--out layout"; ls "$tmp/o" | sed 's/^/    /'
fi
expect_grep "$tmp/o/0001.properties.json" '"dynamicdocument.DDP_TARGET": "world"' "result properties are written"
expect_exit 0 "--json" "${RUN[@]}" run --deploy "$ex" "Hello World" --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="COMPLETE"; assert d["executionId"].startswith("execution-"); assert len(d["results"])==2; assert any(s["type"]=="branch" and s["documents"]==1 for s in d["shapes"])' "$tmp/out"; then
  ok "--json prints status, execution id, per-shape counts and results"
else
  not_ok "--json summary"; head -30 "$tmp/out" | sed 's/^/    /'
fi
if grep -Eq '"executionId": "execution-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-[0-9]{4}\.[0-9]{2}\.[0-9]{2}"' "$tmp/out"; then
  ok "execution ids look like execution-<uuid>-<yyyy.MM.dd>"
else
  not_ok "execution id format"; grep executionId "$tmp/out"
fi

# modes: general records the execution in full, low latency records nothing but errors
expect_exit 0 "general mode" "${RUN[@]}" run --deploy "$ex" --data "$tmp/d1" --mode general "Hello World" --json
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["executionId"])' "$tmp/out" 2>/dev/null)
if [ -n "$id" ] && "${RUN[@]}" execution show --data "$tmp/d1" "$id" --json >"$tmp/rec" 2>"$tmp/err" &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; assert d["executionId"]==sys.argv[2] and d["status"]=="COMPLETE" and d["mode"]=="general" and d["shapes"] and len(r)==2 and r[0]["data"]=="Hello, world! It'"'"'s Hello World." and r[0]["properties"]["dynamicdocument.DDP_TARGET"]=="world"' "$tmp/rec" "$id" &&
   "${RUN[@]}" executions --data "$tmp/d1" 2>"$tmp/err" | grep -qF "$id"; then
  ok "general mode records the execution with its results (execution show ID --json, executions)"
else
  not_ok "general mode record"; head -20 "$tmp/rec" "$tmp/err" 2>/dev/null | sed 's/^/    /'
fi
expect_exit 0 "low latency mode" "${RUN[@]}" run --deploy "$ex" --data "$tmp/d2" --mode low_latency "Hello World" --json
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["executionId"])' "$tmp/out" 2>/dev/null)
"${RUN[@]}" execution show --data "$tmp/d2" "$id" >/dev/null 2>&1; shown=$?
if [ -n "$id" ] && [ "$shown" = 1 ] && [ ! -e "$tmp/d2/history.db" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["log"]==[] and len(d["results"])==2' "$tmp/out"; then
  ok "low latency mode records nothing but errors (execution show ID finds no record)"
else
  not_ok "low latency mode (execution show exit $shown)"; head -20 "$tmp/out"
fi

# graph
expect_exit 0 "graph" "${RUN[@]}" graph --deploy "$ex" "Hello World"
expect_grep "$tmp/out" 'digraph "Hello World"' "graph prints DOT"
expect_grep "$tmp/out" '"shape6" -> "shape7" [label="True"]' "graph labels paths"

# deploy errors name file and line
mkdir -p "$tmp/bad"
cat > "$tmp/bad/p.xml" <<'XML'
<bns:Component xmlns:bns="http://api.platform.boomi.com/" componentId="bad-1" name="Bad" type="process" version="1">
<bns:object><process xmlns=""><shapes>
<shape name="shape1" shapetype="start"><configuration><noaction/></configuration><dragpoints><dragpoint name="d" toShape="shape2"/></dragpoints></shape>
<shape name="shape2" shapetype="decision" userlabel="Check it"><configuration><decision comparison="sortof"><decisionvalue valueType="static"><staticparameter staticproperty="a"/></decisionvalue><decisionvalue valueType="static"><staticparameter staticproperty="b"/></decisionvalue></decision></configuration><dragpoints/></shape>
</shapes></process></bns:object></bns:Component>
XML
expect_exit 3 "run refuses a process that is not runnable" "${RUN[@]}" run --deploy "$tmp/bad" Bad
expect_grep "$tmp/err" "p.xml:4: process 'Bad' (bad-1): shape shape2 'Check it' (decision): comparison \"sortof\" is not one of: equals, notequals, wildcard, regex, greaterthan, greaterthaneq, lessthan, lessthaneq" "the refusal says file, line, shape, label and why"
expect_exit 3 "check exits 3 when something is not runnable" "${RUN[@]}" check --deploy "$tmp/bad"
expect_grep "$tmp/out" "NOT RUNNABLE  Bad (bad-1)" "check reports the process"
expect_exit 0 "check exits 0 on the examples" "${RUN[@]}" check --deploy "$ex"
printf '<oops' > "$tmp/bad/broken.xml"
expect_exit 1 "check exits 1 on a file that is not well-formed" "${RUN[@]}" check --deploy "$tmp/bad"
expect_grep "$tmp/out" "broken.xml:1: not well-formed XML" "check names the broken file"
expect_exit 1 "check FILE..." "${RUN[@]}" check "$tmp/bad/broken.xml" "$tmp/bad/p.xml"
expect_exit 2 "check --deploy with files" "${RUN[@]}" check --deploy "$ex" "$tmp/bad/p.xml"
expect_exit 3 "check --json of a bad deploy" "${RUN[@]}" check --json "$tmp/bad/p.xml"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["processes"][0]; assert not p["runnable"]; assert p["problems"][0]["kind"]=="invalid"; assert p["problems"][0]["line"]==4' "$tmp/out"; then
  ok "check --json gives kind and line of each problem"
else
  not_ok "check --json problems"; head -30 "$tmp/out"
fi
expect_exit 0 "version" "${RUN[@]}" version
expect_grep "$tmp/out" "plugin ABI" "version names the plugin ABI"
# the allocator the build chose (configure: mimalloc when installed, never with the sanitizers)
expect_grep "$tmp/out" "allocator ${MA_ALLOCATOR:?set by make check: mimalloc or libc}" "version names the allocator the build linked"

# run reads a deployment lazily: a file it does not need is not parsed, one it needs that is broken is named
mkdir -p "$tmp/lazy"
cp "$ex/hello-world.xml" "$tmp/lazy/"
printf '<bns:Component xmlns:bns="http://api.platform.boomi.com/" componentId="zz" name="Broken" type="process"><bns:object><process>\n' >"$tmp/lazy/zz-broken.xml"
expect_exit 0 "run does not parse the files its process does not need" "${RUN[@]}" run --deploy "$tmp/lazy" "Hello World"
expect_exit 3 "run of a process whose file is not well-formed" "${RUN[@]}" run --deploy "$tmp/lazy" "Broken"
expect_grep "$tmp/err" "zz-broken.xml" "names the file"
expect_exit 1 "check still parses every file" "${RUN[@]}" check --deploy "$tmp/lazy"

# settings: one reader for --config and --set (docs/configuration.md), checked against the declared maps
printf '# a comment\n\nconnection.Some Connection.url = https://example.com/\n\n! another\nnot a setting\n' >"$tmp/bad.conf"
expect_exit 2 "run --config with a line that is not key = value" "${RUN[@]}" run --deploy "$ex" --config "$tmp/bad.conf" "Hello World"
expect_grep "$tmp/err" "bad.conf:6: expected 'key = value'" "the line is counted as an editor counts it (blank lines too)"
printf 'connection.Some Connection.url = https://example.com/\nserver.colour = blue\nlimits.sync_timeout = 30\n' >"$tmp/keys.conf"
expect_exit 2 "run --config refuses unknown keys and bad values" "${RUN[@]}" run --deploy "$ex" --config "$tmp/keys.conf" "Hello World"
expect_grep "$tmp/err" "keys.conf:2: server.colour: unknown key" "an unknown key is named with its file and line"
expect_grep "$tmp/err" "keys.conf:3: limits.sync_timeout: expected a duration with its unit" "a bad value too"
expect_exit 2 "check refuses them the same way" "${RUN[@]}" check --deploy "$ex" --config "$tmp/keys.conf"
expect_exit 2 "run --set of a connector type this miniatom does not have" "${RUN[@]}" run --deploy "$ex" --set "connector.map.x-1 = nosuch" "Hello World"
expect_grep "$tmp/err" "--set: connector.map.x-1: 'nosuch' is not a connector type of this miniatom" "is named, the blanks around key and value dropped as in a file"
expect_exit 0 "run --set with blanks around the value" "${RUN[@]}" run --deploy "$ex" --set "connector.map.x-1 = http " "Hello World"

finish
