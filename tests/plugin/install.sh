# tests/plugin/install.sh - sourced by the plugin tests (after tests/lib.sh): install_miniatom DIR
# runs `make install DESTDIR=DIR` in the configured build tree (top_builddir), and pc_miniatom then
# asks pkg-config about that installed miniatom.pc alone, with the paths it gives inside DIR
# (PKG_CONFIG_SYSROOT_DIR), so that a plugin builds from the installed headers and nothing of the
# source tree. pkg-config for other libraries (libcurl, jansson) stays the system's.

# install_miniatom DIR: installs into DIR (the test fails loudly when it cannot); sets MA_DESTDIR
# and MA_PC_DIR (the folder of the installed miniatom.pc).
install_miniatom() {
  MA_DESTDIR=$1
  if [ -z "${top_builddir:-}" ] || [ ! -f "$top_builddir/Makefile" ]; then
    echo "FAIL: top_builddir does not name a configured build tree (make check sets it)" >&2; exit 1
  fi
  command -v pkg-config >/dev/null || { echo "FAIL: pkg-config is needed" >&2; exit 1; }
  # a make of its own: not the jobserver of the `make check` that runs this test
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install DESTDIR="$MA_DESTDIR" >"$MA_DESTDIR.log" 2>&1; then
    echo "FAIL: make install DESTDIR=$MA_DESTDIR failed in $top_builddir:" >&2; tail -20 "$MA_DESTDIR.log" >&2; exit 1
  fi
  local pc
  pc=$(find "$MA_DESTDIR" -path '*/pkgconfig/miniatom.pc' | head -n 1)
  [ -n "$pc" ] || { echo "FAIL: make install put no pkgconfig/miniatom.pc under $MA_DESTDIR" >&2; exit 1; }
  MA_PC_DIR=$(dirname "$pc")
}

# pc_miniatom ARGS...: pkg-config ARGS miniatom, answered by the installed miniatom.pc only.
pc_miniatom() {
  PKG_CONFIG_PATH=$MA_PC_DIR PKG_CONFIG_LIBDIR=$MA_PC_DIR PKG_CONFIG_SYSROOT_DIR=$MA_DESTDIR pkg-config "$@" miniatom
}

# plugin_sanitizers: the flags a plugin needs to load into this miniatom (a sanitizer build).
plugin_sanitizers() {
  if nm -D "$MINIATOM" 2>/dev/null | grep -q __asan_init || ldd "$MINIATOM" 2>/dev/null | grep -q libasan; then
    echo "-fsanitize=address,undefined"
  fi
}
