# tests/scripting/need.sh - sourced by the script tests: stops them loudly when this miniatom cannot run
# scripts. MA_SCRIPTING (from make check) is what configure decided: "yes", "off" (--with-scripting=no:
# the tests are skipped, exit 77, with a message saying so) or "missing" (auto, and java, javac,
# groovy or rhino were not found: the tests fail, since the build did not get what it needs).
scripting_line=$("$MINIATOM" plugins 2>/dev/null | grep '^custom scripting')
case "${MA_SCRIPTING:-yes}" in
off)
  echo "SKIP: this miniatom was configured --with-scripting=no: the Custom Scripting tests did NOT run" >&2
  exit 77 ;;
esac
case "$scripting_line" in
*groovy2*) ;;
*)
  echo "FAIL: this miniatom cannot run scripts: ${scripting_line:-no 'custom scripting' line in miniatom plugins}" >&2
  echo "      (install default-jdk-headless groovy librhino-java and re-run ./configure, or configure" >&2
  echo "      --with-scripting=no to build without scripting and skip these tests)" >&2
  exit 1 ;;
esac
