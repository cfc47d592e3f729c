#!/usr/bin/env bash
# tests/maps/run.sh - the map cases of tests/maps run end to end through the real binary: the map
# shape (shapes/map.c, runtime/xslt.c) runs the stylesheet mapcompile.c generates, with the real
# ma: functions and the real JSON conversion (tests/unit/test_mapcompile.c runs the same cases
# with stand-ins for those). For each case folder (see test_mapcompile.c for the layout):
#   - error.txt: `miniatom map compile` must fail (exit 3) with that message on stderr;
#   - otherwise a process is built around the map (start, a Set Properties shape for the
#     dynamicdocument.* lines of properties.txt, the map, stop; process.* lines become -p), run
#     with the input, and its one result must equal expected.xml / expected.json (XML compared
#     without ignorable white space, JSON as values) and carry the dynamicdocument.* properties of
#     expected-properties.txt; with run-error.txt the document must fail with that message.
#     e2e-patterns.txt (ELEMENT=REGEX per line) names elements whose value depends on the clock:
#     here they are checked against the pattern (the unit test's ma:date returns a fixed instant).
. "$(dirname "$0")/../lib.sh"
cases=${1:-$top_srcdir/tests/maps}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

map_id() { # component file -> componentId of its transform.map
  python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(r.get('componentId'))
EOF
}

same_result() { # expected got [patterns] -> 0 when equal
  python3 - "$1" "$2" "${3:-}" <<'EOF'
import sys, json, re, xml.dom.minidom as M
want, got, pats = sys.argv[1], sys.argv[2], {}
if sys.argv[3]:
    for line in open(sys.argv[3]):
        if '=' in line and not line.startswith('#'):
            k, v = line.rstrip('\n').split('=', 1)
            pats[k] = re.compile(v + '$')
if want.endswith('.json'):
    sys.exit(0 if json.load(open(want)) == json.load(open(got)) else 1)
def canon(path):
    d = M.parse(path)
    def strip(n):
        for c in list(n.childNodes):
            if c.nodeType == c.TEXT_NODE and not c.data.strip() and len(n.childNodes) > 1:
                n.removeChild(c)
            else:
                strip(c)
    strip(d)
    for name, rx in pats.items():  # values that depend on the clock: checked by pattern only
        for e in d.getElementsByTagName(name):
            t = ''.join(c.data for c in e.childNodes if c.nodeType == c.TEXT_NODE)
            if not rx.match(t):
                print('%s: %r does not match %s' % (name, t, rx.pattern)); sys.exit(1)
            for c in list(e.childNodes): e.removeChild(c)
    return d.documentElement.toxml()
sys.exit(0 if canon(want) == canon(got) else 1)
EOF
}

has_props() { # expected-properties.txt properties.json -> 0 when every dynamicdocument.* line is there
  python3 - "$1" "$2" <<'EOF'
import sys, json
props = json.load(open(sys.argv[2]))
if isinstance(props, list):
    props = {p.get('name', p.get('id')): p.get('value') for p in props}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith('#') or '=' not in line: continue
    k, v = line.split('=', 1)
    if not k.startswith('dynamicdocument.'): continue
    if props.get(k) != v:
        print('%s is %r, expected %r' % (k, props.get(k), v)); sys.exit(1)
EOF
}

check_case() {
  local dir=$1 name=$2 work=$tmp/$2
  mkdir -p "$work/deploy"
  if [ -f "$dir/map.ref" ]; then
    need_shared
    cp "$MA_SHARED/corpus/boomi/$(head -1 "$dir/map.ref")" "$work/deploy/map.xml"
  else
    cp "$dir/map.xml" "$work/deploy/map.xml"
  fi
  for f in from.xml to.xml; do [ -f "$dir/$f" ] && cp "$dir/$f" "$work/deploy/$f"; done
  local id
  id=$(map_id "$work/deploy/map.xml")
  if [ -f "$dir/error.txt" ]; then
    local code=0 want
    want=$(head -1 "$dir/error.txt")
    "${RUN[@]}" map compile --deploy "$work/deploy" "$id" >"$work/out" 2>"$work/err" || code=$?
    if [ "$code" != 3 ]; then not_ok "$name: map compile exit status $code, expected 3"; head -5 "$work/err"; return; fi
    grep -qF -- "$want" "$work/err" || { not_ok "$name: stderr lacks '$want'"; sed 's/^/    /' "$work/err" | head; return; }
    ok "$name (refused)"
    return
  fi
  local input
  input=$(ls "$dir"/input.* 2>/dev/null | head -1)
  [ -n "$input" ] || { ok "$name (compiles only)"; return; }
  # the process: start -> set the document properties -> map -> stop
  local props="" pargs=() line k v
  if [ -f "$dir/properties.txt" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in ''|'#'*) continue ;; esac
      k=${line%%=*}; v=${line#*=}
      case "$k" in
        dynamicdocument.*)
          props+="<documentproperty defaultValue=\"\" isDynamicCredential=\"false\" isTradingPartner=\"false\" name=\"$k\" persist=\"false\" propertyId=\"$k\" shouldEncrypt=\"false\"><sourcevalues><parametervalue key=\"1\" valueType=\"static\"><staticparameter staticproperty=\"$(printf '%s' "$v" | xml_escape)\"/></parametervalue></sourcevalues></documentproperty>" ;;
        process.*) pargs+=(-p "${k#process.}=$v") ;;
      esac
    done < "$dir/properties.txt"
  fi
  cat > "$work/deploy/process.xml" <<EOF
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<bns:Component xmlns:bns="http://api.platform.boomi.com/" componentId="00000000-0000-4000-8000-0000000e2e00" version="1" name="e2e $name" type="process" folderFullPath="tests/maps" folderName="maps">
  <bns:encryptedValues/>
  <bns:object>
    <process xmlns="" allowSimultaneous="true" enableUserLog="false" processLogOnErrorOnly="false" purgeDataImmediately="false" updateRunDates="false" workload="general">
      <shapes>
        <shape image="start_icon" name="shape1" shapetype="start" userlabel="" x="0" y="0"><configuration><passthroughaction/></configuration><dragpoints><dragpoint name="shape1.dragpoint1" toShape="shape2" x="0" y="0"/></dragpoints></shape>
        <shape image="documentproperties_icon" name="shape2" shapetype="documentproperties" userlabel="" x="0" y="0"><configuration><documentproperties>$props</documentproperties></configuration><dragpoints><dragpoint name="shape2.dragpoint1" toShape="shape3" x="0" y="0"/></dragpoints></shape>
        <shape image="map_icon" name="shape3" shapetype="map" userlabel="" x="0" y="0"><configuration><map mapId="$id"/></configuration><dragpoints><dragpoint name="shape3.dragpoint1" toShape="shape4" x="0" y="0"/></dragpoints></shape>
        <shape image="stop_icon" name="shape4" shapetype="stop" userlabel="" x="0" y="0"><configuration><stop continue="true"/></configuration><dragpoints/></shape>
      </shapes>
    </process>
  </bns:object>
</bns:Component>
EOF
  local code=0
  "${RUN[@]}" run --deploy "$work/deploy" --data "$work/data" --out "$work/results" --retry-scale 0 \
    --input "$input" ${pargs[@]+"${pargs[@]}"} "e2e $name" >"$work/stdout" 2>"$work/stderr" || code=$?
  if [ -f "$dir/run-error.txt" ]; then
    local want
    want=$(head -1 "$dir/run-error.txt")
    if [ "$code" = 0 ]; then not_ok "$name: the run should fail with: $want"; return; fi
    grep -qF -- "$want" "$work/stderr" || { not_ok "$name: stderr lacks '$want'"; sed 's/^/    /' "$work/stderr" | head; return; }
    ok "$name (document fails)"
    return
  fi
  if [ "$code" != 0 ]; then not_ok "$name: exit status $code"; sed 's/^/    /' "$work/stderr" | head -20; return; fi
  local expected got=$work/results/0001.dat
  expected=$(ls "$dir"/expected.xml "$dir"/expected.json 2>/dev/null | head -1)
  [ -f "$got" ] || { not_ok "$name: no result document"; sed 's/^/    /' "$work/stderr" | head; return; }
  [ ! -f "$work/results/0002.dat" ] || { not_ok "$name: more than one result document"; return; }
  if [ "${expected##*.}" = json ]; then cp "$got" "$work/got.json"; got=$work/got.json; fi
  local pats=""
  [ -f "$dir/e2e-patterns.txt" ] && pats=$dir/e2e-patterns.txt
  if ! same_result "$expected" "$got" "$pats"; then
    not_ok "$name: the result differs from $(basename "$expected")"
    echo "    got: $(head -c 600 "$got")"
    return
  fi
  if [ -f "$dir/expected-properties.txt" ]; then
    local msg
    msg=$(has_props "$dir/expected-properties.txt" "$work/results/0001.properties.json") ||
      { not_ok "$name: properties: $msg"; return; }
  fi
  ok "$name"
}

[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
count=0
if [ -f "$cases/map.xml" ] || [ -f "$cases/map.ref" ]; then dirs=("$cases"); else dirs=("$cases"/*/); fi
for dir in "${dirs[@]}"; do
  dir=${dir%/}
  [ -f "$dir/map.xml" ] || [ -f "$dir/map.ref" ] || continue
  count=$((count + 1))
  check_case "$dir" "$(basename "$dir")"
done
[ "$count" -gt 0 ] || { echo "FAIL: no cases in $cases" >&2; exit 1; }
finish
