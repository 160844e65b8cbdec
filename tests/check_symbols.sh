#!/usr/bin/env bash
# Only ips_* symbols may be exported from the shared library.
set -u
lib=${1:-build/libipstack.so}
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ {print $3}' | sort)
bad=$(printf '%s\n' "$syms" | grep -v '^ips_' | grep -v '^$' || true)
n=$(printf '%s\n' "$syms" | grep -c '^ips_')
if [ -n "$bad" ]; then
	echo "exported symbols without the ips_ prefix:"; echo "$bad"
	echo "symbols: 0 passed, 1 failed"; exit 1
fi
[ "$n" -gt 0 ] || { echo "no ips_ symbols exported"; echo "symbols: 0 passed, 1 failed"; exit 1; }
echo "$n exported ips_* symbols"
echo "symbols: 1 passed, 0 failed"
