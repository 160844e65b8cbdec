#!/usr/bin/env bash
# `make install PREFIX=DIR` lays out lib/, include/ipstack/, bin/ipstack and
# lib/pkgconfig/ipstack.pc, and a program built with pkg-config against it (static and
# shared) runs.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if make -s install PREFIX="$dir/p" >"$dir/log" 2>&1; then ok "make install"; else bad "make install"; cat "$dir/log"; fi
for f in lib/libipstack.a lib/libipstack.so include/ipstack/ipstack.h include/ipstack/socket.h \
	 bin/ipstack lib/pkgconfig/ipstack.pc; do
	[ -e "$dir/p/$f" ] && ok "installed $f" || bad "missing $f"
done
export PKG_CONFIG_PATH=$dir/p/lib/pkgconfig
cflags=$(pkg-config --cflags ipstack) libs=$(pkg-config --libs ipstack)
if gcc -Wall -Werror $cflags -o "$dir/ex_shared" tests/scripts/install_example.c $libs \
	&& out=$(LD_LIBRARY_PATH=$dir/p/lib "$dir/ex_shared") && [ "$out" = "rc=0 ttl=64" ]; then
	ok "example against the shared library: $out"
else bad "example against the shared library: ${out:-build failed}"; fi
if gcc -Wall -Werror $cflags -o "$dir/ex_static" tests/scripts/install_example.c \
	"$dir/p/lib/libipstack.a" -lpthread && out=$("$dir/ex_static") && [ "$out" = "rc=0 ttl=64" ]; then
	ok "example against the static library: $out"
else bad "example against the static library: ${out:-build failed}"; fi
if "$dir/p/bin/ipstack" --help >/dev/null 2>&1; then ok "installed ipstack --help"; else bad "installed ipstack --help"; fi
echo "test_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
