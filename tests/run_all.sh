#!/usr/bin/env bash
# `make check`: build with gcc and clang, run unit + simulated tests, the exported-symbol
# check, the kernel interop tests (root + network namespaces), the fuzz corpus smoke run,
# then the unit + simulated tests again under ASan+UBSan. Prints a closing
# "N passed, N failed" over everything.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc)
total_pass=0 total_fail=0
tally() {	# tally LOGFILE: add the log's closing "N passed, N failed"
	local pf
	pf=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1 | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/')
	set -- $pf
	total_pass=$((total_pass + ${1:-0})); total_fail=$((total_fail + ${2:-1}))
}
step() {	# step NAME CMD...: run, show the tail, tally
	local name=$1; shift
	local log=build/logs/$name.log
	mkdir -p build/logs
	echo "== $name"
	"$@" >"$log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then tail -60 "$log"; else grep -E 'passed, [0-9]+ failed|^FAIL|^ok ' "$log" | tail -80; fi
	if grep -qE '[0-9]+ passed, [0-9]+ failed' "$log"; then
		tally "$log"
		[ $rc -ne 0 ] && ! grep -qE ' [1-9][0-9]* failed' "$log" && total_fail=$((total_fail + 1))
	else
		[ $rc -eq 0 ] && total_pass=$((total_pass + 1)) || total_fail=$((total_fail + 1))
	fi
}
step build-gcc make -j"$jobs" all tests
step build-clang make -j"$jobs" CC=clang BUILD=build/clang all tests
step unit bash tests/run_unit.sh build
step symbols bash tests/check_symbols.sh build/libipstack.so
for t in tests/scripts/test_*.sh; do
	[ -e "$t" ] || continue
	step "script-$(basename "$t" .sh)" bash "$t"
done
for t in tests/interop/test_*.sh; do
	[ -e "$t" ] || continue
	step "interop-$(basename "$t" .sh)" bash "$t"
done
if [ -f mk/fuzz.mk ]; then
	step fuzz-smoke make fuzz-smoke
fi
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
step build-asan make -j"$jobs" BUILD=build/asan OPT=-O1 SAN="$SAN" tests
step unit-asan env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	bash tests/run_unit.sh build/asan
echo
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
