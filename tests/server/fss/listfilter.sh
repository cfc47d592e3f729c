#!/usr/bin/env bash
# tests/server/fss/listfilter.sh - the Flow Service example's Load (processes/flow-service-example*.xml,
# docs/flow.md 10) honours Flow's listFilter through the real `miniatom serve --deploy processes`: each
# criteriaType of where, comparisonType AND and OR, nested listFilters, search, orderByPropertyDeveloperName
# with orderByDirectionType and orderBy, offset and limit with hasMoreResults (paged by the listener), no
# filter, and a filter on a property the Contact type does not have. Needs curl and python3.
. "$(dirname "$0")/../../lib.sh"
samples=$MA_SHARED/spec/flow-samples
tmp=$(mktemp -d)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "FAIL: $t is needed" >&2; exit 1; }; done
[ -d "$samples" ] || { echo "FAIL: the Flow samples are missing: $samples (set MA_SHARED)" >&2; exit 1; }

# ---- the example as it is shipped, on a free port (the "listening" line names it), with a fresh data folder ----
"${RUN[@]}" serve --deploy "$top_srcdir/processes" --listen 127.0.0.1:0 --data "$tmp/data" >"$tmp/server.log" 2>&1 &
srv_pid=$!
port=
for _ in $(seq 200); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$tmp/server.log" 2>/dev/null | grep -o '"port":[0-9]*' | cut -d: -f2)
  [ -n "$port" ] && break
  kill -0 "$srv_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -n "$port" ]; then ok "miniatom serve --deploy processes is up on port $port"; else
  not_ok "miniatom serve --deploy processes is up"; sed 's/^/    /' "$tmp/server.log" | head -30; finish; exit 1
fi
data="http://127.0.0.1:$port/fs/ExampleService/data"

# load LABEL STATUS LISTFILTER-JSON : one Load of Contact objects; leaves the answer in $tmp/b
load() {
  local label=$1 want=$2 filter=$3 got body
  if [ -z "$filter" ]; then body='{"objectDataType":{"developerName":"Contact"}}'
  else body="{\"objectDataType\":{\"developerName\":\"Contact\"},\"listFilter\":$filter}"; fi
  got=$(curl -s -o "$tmp/b" -w '%{http_code}' -X POST "$data" -H 'Content-Type: application/json' -d "$body")
  [ "$got" = "$want" ] && return 0
  not_ok "$label: status $got, expected $want"; head -c 600 "$tmp/b" | sed 's/^/    /'; echo; return 1
}
# expect LABEL PYTHON-EXPRESSION : asserts on B (the answer), ids (the externalIds in order), more, names
expect() {
  local label=$1 err
  if err=$(TMPD=$tmp EXPR=$2 python3 - 2>&1 <<'EOF'
import json, os
B = json.load(open(os.environ["TMPD"] + "/b", encoding="utf-8"))
if "objectData" in B:
    P = [{p["developerName"]: p["contentValue"] for p in o["properties"]} for o in B["objectData"]]
    ids = [o["externalId"] for o in B["objectData"]]
    names = [p["name"] for p in P]
    more = B["hasMoreResults"]
assert eval(os.environ["EXPR"]), "%s is false" % os.environ["EXPR"]
EOF
  ); then ok "$label"; else
    not_ok "$label"; echo "$err" | tail -2 | sed 's/^/    /'; echo "    body: $(head -c 400 "$tmp/b")"
  fi
}
# where: one where term as Flow sends it (columnName, criteriaType, value and contentValue)
w() { printf '{"columnName":"%s","criteriaType":"%s","value":"%s","contentValue":"%s","objectData":null}' "$1" "$2" "$3" "$3"; }

# ---- no filter: every contact, in the store's order ----
all='["1","2","3","4","5","6","7","8","9","10"]'
load "no listFilter" 200 "" && expect "no listFilter: all ten contacts in the store's order, no more results" "ids == $all and more is False"
load "listFilter null" 200 'null' && expect "listFilter null: all ten contacts" "ids == $all"
load "empty listFilter" 200 '{}' && expect "an empty listFilter: all ten contacts" "ids == $all"
load "empty where" 200 '{"comparisonType":"AND","where":[],"listFilters":null,"search":null,"orderByPropertyDeveloperName":null,"limit":0,"offset":0}' &&
  expect "an empty where, no search, no order, limit 0: all ten contacts" "ids == $all and more is False"
load "every property" 200 '{}' && expect "each contact has id, name, email and city (ContentString)" \
  "all(list(p) == ['id', 'name', 'email', 'city'] for p in P) and P[7] == {'id': '8', 'name': 'Tim Berners-Lee', 'email': 'tim@example.org', 'city': 'London'} and all(q['contentType'] == 'ContentString' for o in B['objectData'] for q in o['properties'])"

# ---- where: each criteriaType ----
load "EQUAL" 200 "{\"where\":[$(w city EQUAL London)]}" && expect "EQUAL: city = London" "ids == ['1', '8']"
load "EQUAL, case" 200 "{\"where\":[$(w city EQUAL london)]}" && expect "EQUAL keeps case: city = london matches none" "ids == [] and more is False"
load "NOT_EQUAL" 200 "{\"where\":[$(w city NOT_EQUAL London)]}" && expect "NOT_EQUAL: city != London" "ids == ['2', '3', '4', '5', '6', '7', '9', '10']"
load "CONTAINS" 200 "{\"where\":[$(w email CONTAINS .org)]}" && expect "CONTAINS: email contains .org" "ids == ['5', '6', '7', '8']"
load "STARTS_WITH" 200 "{\"where\":[$(w name STARTS_WITH D)]}" && expect "STARTS_WITH: name starts with D" "names == ['Donald Knuth', 'Dennis Ritchie']"
load "ENDS_WITH" 200 "{\"where\":[$(w email ENDS_WITH .nl)]}" && expect "ENDS_WITH: email ends with .nl" "ids == ['4']"
load "IS_EMPTY" 200 "{\"where\":[{\"columnName\":\"city\",\"criteriaType\":\"IS_EMPTY\",\"contentValue\":\"false\"}]}" &&
  expect "IS_EMPTY false: every contact has a city" "ids == $all"
load "criteriaType not supported" 500 "{\"where\":[$(w name GREATER_THAN M)]}" &&
  expect "GREATER_THAN: not supported, a 500 ServiceProblem that says so" "B['statusCode'] == 500 and \"criteriaType 'GREATER_THAN' is not supported\" in B['message']"

# ---- comparisonType: AND, OR; nested listFilters ----
boston_m="$(w city EQUAL Boston),$(w name STARTS_WITH M)"
load "AND" 200 "{\"comparisonType\":\"AND\",\"where\":[$boston_m]}" && expect "AND: city = Boston and name starts with M" "names == ['Margaret Hamilton']"
load "OR" 200 "{\"comparisonType\":\"OR\",\"where\":[$boston_m]}" && expect "OR: city = Boston or name starts with M" "ids == ['5', '7']"
load "OR (London, New York)" 200 "{\"comparisonType\":\"OR\",\"where\":[$(w city EQUAL London),$(w city EQUAL 'New York')]}" &&
  expect "OR: city = London or city = New York" "ids == ['1', '2', '8', '10']"
load "no comparisonType" 200 "{\"where\":[$boston_m]}" && expect "no comparisonType: the terms are joined by AND" "ids == ['7']"
load "nested" 200 "{\"comparisonType\":\"AND\",\"where\":[$(w email CONTAINS example.com)],\"listFilters\":[{\"comparisonType\":\"OR\",\"where\":[$(w city EQUAL London),$(w city EQUAL Hampton)]}]}" &&
  expect "nested listFilters: email contains example.com and (city = London or city = Hampton)" "ids == ['1', '9']"

# ---- search: any string property, case ignored; with where ----
load "search" 200 '{"search":"EXAMPLE.ORG"}' && expect "search: EXAMPLE.ORG found in the emails, case ignored" "ids == ['5', '6', '7', '8']"
load "search york" 200 '{"search":"york"}' && expect "search: york found in the cities" "names == ['Grace Hopper', 'Dennis Ritchie']"
load "search nothing" 200 '{"search":"nobody"}' && expect "search: a text nowhere gives no contacts" "ids == [] and more is False"
load "search and where" 200 "{\"search\":\"example.com\",\"where\":[$(w city EQUAL London)]}" && expect "search and where together" "ids == ['1']"

# ---- orderByPropertyDeveloperName, orderByDirectionType, orderBy ----
load "order by name" 200 '{"orderByPropertyDeveloperName":"name","orderByDirectionType":"ASC"}' &&
  expect "order by name ASC" "names == sorted(names) and len(names) == 10 and names[0] == 'Ada Lovelace'"
load "order by name DESC" 200 '{"orderByPropertyDeveloperName":"name","orderByDirectionType":"DESC"}' &&
  expect "order by name DESC" "names == sorted(names, reverse=True) and len(names) == 10 and names[0] == 'Tim Berners-Lee'"
load "order by id DESC" 200 '{"orderByPropertyDeveloperName":"id","orderByDirectionType":"DESC"}' &&
  expect "order by id DESC: ids are numbers, 10 first" "ids == $all[::-1]"
load "order direction empty" 200 '{"orderByPropertyDeveloperName":"city","orderByDirectionType":""}' &&
  expect "orderByDirectionType empty is ASC; equal cities keep the store's order" "[p['city'] for p in P] == sorted(p['city'] for p in P) and ids[:3] == ['4', '5', '7']"
load "order by city, then name DESC" 200 '{"orderByPropertyDeveloperName":"city","orderByDirectionType":"ASC","orderBy":[{"columnName":"name","direction":"DESC"}]}' &&
  expect "orderBy: city, then name DESC for equal cities" "ids == ['4', '7', '5', '9', '8', '1', '3', '2', '10', '6']"
load "where, order" 200 "{\"comparisonType\":\"OR\",\"where\":[$boston_m],\"orderByPropertyDeveloperName\":\"name\",\"orderByDirectionType\":\"DESC\"}" &&
  expect "where and order together" "names == ['Margaret Hamilton', 'Barbara Liskov']"

# ---- offset and limit: the listener pages the filtered, sorted list ----
load "limit" 200 '{"orderByPropertyDeveloperName":"id","limit":3}' && expect "limit 3: the first three, more results" "ids == ['1', '2', '3'] and more is True"
load "offset and limit" 200 '{"orderByPropertyDeveloperName":"id","orderByDirectionType":"DESC","offset":2,"limit":3}' &&
  expect "offset 2, limit 3, id DESC: 8, 7, 6 and more results" "ids == ['8', '7', '6'] and more is True and [o['order'] for o in B['objectData']] == [0, 1, 2]"
load "last page" 200 '{"orderByPropertyDeveloperName":"id","offset":8,"limit":5}' && expect "offset 8, limit 5: the last two, no more results" "ids == ['9', '10'] and more is False"
load "exact page" 200 '{"offset":6,"limit":4}' && expect "offset 6, limit 4: exactly the rest, no more results" "ids == ['7', '8', '9', '10'] and more is False"
load "offset only" 200 '{"offset":7}' && expect "offset 7 without limit: the rest" "ids == ['8', '9', '10'] and more is False"
load "offset past the end" 200 '{"offset":20,"limit":5}' && expect "offset past the end: nothing, no more results" "ids == [] and more is False"
load "where, search, order, page" 200 "{\"search\":\"example\",\"where\":[$(w city NOT_EQUAL London)],\"orderByPropertyDeveloperName\":\"name\",\"offset\":1,\"limit\":2}" &&
  expect "paging applies after where, search and order (offset counted in the filtered list)" "names == ['Barbara Liskov', 'Dennis Ritchie'] and more is True"
load "filter, limit, no more" 200 "{\"where\":[$(w email CONTAINS .org)],\"limit\":4}" && expect "4 matches, limit 4: no more results" "ids == ['5', '6', '7', '8'] and more is False"

# ---- a property the Contact type does not have ----
load "where, unknown property" 500 "{\"where\":[$(w phone EQUAL 123)]}" &&
  expect "where on an unknown property: a 500 ServiceProblem naming it" "B['kind'] == 'service' and \"the Contact type has no property 'phone'\" in B['message'] and 'execution-' in B['message']"
load "order, unknown property" 500 '{"orderByPropertyDeveloperName":"Phone"}' &&
  expect "orderBy an unknown property: a 500 ServiceProblem naming it" "\"has no property 'Phone'\" in B['message']"
load "nested, unknown property" 500 "{\"where\":[$(w name EQUAL x)],\"listFilters\":[{\"where\":[$(w 'Name' EQUAL x)]}]}" &&
  expect "a nested where on an unknown property (names are case-sensitive): refused" "\"has no property 'Name'\" in B['message']"

# ---- listFilter.id (the Get) with a filter; the shared samples ----
load "id" 200 '{"id":"5"}' && expect "listFilter.id: that contact" "names == ['Barbara Liskov']"
load "id and where" 200 "{\"id\":\"5\",\"where\":[$(w city EQUAL London)]}" && expect "listFilter.id and a where it does not match: nothing" "ids == []"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1] + '/data-load-request-where.service-sql.json'))
d['objectDataType']['developerName'] = 'Contact'; d['objectData'] = None
d['listFilter']['where'][0]['value'] = d['listFilter']['where'][0]['contentValue'] = 'Grace Hopper'
print(json.dumps(d['listFilter']))" "$samples" >"$tmp/where"
load "the where sample" 200 "$(cat "$tmp/where")" && expect "the where sample (name EQUAL, adapted): Grace Hopper" "ids == ['2'] and more is False"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1] + '/data-load-request-search.service-sql.json'))
print(json.dumps(d['listFilter']))" "$samples" >"$tmp/search"
load "the search sample" 200 "$(cat "$tmp/search")" && expect "the search sample as is (search country2, comparisonType OR, no where): nothing" "ids == []"

# ---- a saved contact is found by its city ----
got=$(curl -s -o "$tmp/b" -w '%{http_code}' -X PUT "$data" -H 'Content-Type: application/json' \
  -d '{"objectDataType":{"developerName":"Contact"},"objectData":[{"developerName":"Contact","externalId":null,"properties":[{"developerName":"name","contentValue":"Niklaus Wirth"},{"developerName":"email","contentValue":"wirth@example.ch"},{"developerName":"city","contentValue":"Zurich"}]},{"developerName":"Contact","properties":[{"developerName":"name","contentValue":"Nobody"}]}]}')
[ "$got" = 200 ] && expect "save: new contacts 11 and 12, city kept" "ids == ['11', '12'] and P[0]['city'] == 'Zurich' and P[1]['city'] == ''" || not_ok "save: status $got"
load "saved, by city" 200 "{\"where\":[$(w city EQUAL Zurich)]}" && expect "the saved contact is found by its city" "names == ['Niklaus Wirth']"
load "IS_EMPTY city" 200 "{\"where\":[{\"columnName\":\"city\",\"criteriaType\":\"IS_EMPTY\",\"contentValue\":null}]}" &&
  expect "IS_EMPTY (no contentValue): the contact without a city" "names == ['Nobody']"
load "after the save, paged" 200 '{"orderByPropertyDeveloperName":"id","orderByDirectionType":"DESC","limit":2}' &&
  expect "after the save: 12 contacts, id DESC, first page" "ids == ['12', '11'] and more is True"

kill -TERM "$srv_pid"; wait "$srv_pid"; rc=$?; srv_pid=
[ $rc = 0 ] && ok "SIGTERM: the server stops (exit 0)" || not_ok "SIGTERM: exit $rc"
finish
