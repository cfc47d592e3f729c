# tests/lib.sh - shared by the script tests: where the binary is, the shared material, and a
# tally that prints "N passed, N failed" and sets the exit status.
set -u
MINIATOM=${MINIATOM:-$(cd "$(dirname "$0")/../.." && pwd)/miniatom}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
MA_SHARED=${MA_SHARED:-$top_srcdir/../shared}
# MA_WRAP=valgrind runs every miniatom under valgrind's memcheck (the tests then also fail on leaks)
if [ "${MA_WRAP:-}" = valgrind ]; then
  RUN=(valgrind -q --soname-synonyms=somalloc=*mimalloc* --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$MINIATOM")
else
  RUN=("$MINIATOM")
fi
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
need_shared() {
  if [ ! -d "$MA_SHARED/corpus/boomi" ]; then
    echo "FAIL: the shared material is missing: $MA_SHARED/corpus/boomi (set MA_SHARED to the shared folder)" >&2
    exit 1
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
