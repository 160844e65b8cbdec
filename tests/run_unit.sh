#!/usr/bin/env bash
# Runs every unit and simulated test binary under BUILD (default build); prints one
# result line per binary and a closing "N passed, N failed" over all test cases.
set -u
build=${1:-build}
pass=0 fail=0 bad=()
for t in $(find "$build/tests" -type f -perm -u+x -name 'test_*' | sort); do
	out=$(timeout 600 "$t" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi	# crashed or sanitizer report
	pass=$((pass + p)); fail=$((fail + f))
	if [ $rc -ne 0 ]; then
		bad+=("$t")
		printf '%s\n' "$out" | tail -40
		echo "FAIL $t (exit $rc)"
	else
		echo "ok   $t ($p)"
	fi
done
echo "unit[$build]: $pass passed, $fail failed"
[ $fail -eq 0 ]
