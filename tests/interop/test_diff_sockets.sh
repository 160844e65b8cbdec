#!/usr/bin/env bash
# The differential socket test (tests/diff/diff_sockets.c): the same program against the
# kernel -- in a fresh network namespace with only `lo` up -- and against ipstack (a
# stack with `lo` 127.0.0.1/8); every output line must be identical, except the cases
# listed with their reason in tests/diff/expected_differences.txt. Needs root.
# Prints "N passed, N failed" (one per case line) and keeps both outputs in build/logs/.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
K=$BUILD/tests/diff/diff_sockets_kernel
I=$BUILD/tests/diff/diff_sockets_ipstack
make -s "$K" "$I" >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
out=$BUILD/logs
mkdir -p "$out"
ns=ipsdiff$$
ip netns add "$ns" || { echo "ip netns add failed (root needed)"; echo "0 passed, 1 failed"; exit 1; }
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" timeout 300 "$K" >"$out/diff_sockets.kernel" 2>"$out/diff_sockets.kernel.err"
timeout 300 "$I" >"$out/diff_sockets.ipstack" 2>"$out/diff_sockets.ipstack.err"
awk -v allowf=tests/diff/expected_differences.txt '
BEGIN {
	while ((getline l < allowf) > 0) {
		if (l ~ /^#/ || l == "") continue
		split(l, f, "\t"); allow[f[1]] = f[2]
	}
}
function name(s) { sub(/:.*/, "", s); return s }
FNR == NR { if ($0 !~ /^#/) k[++nk] = $0; next }
$0 !~ /^#/ { i[++ni] = $0 }
END {
	n = nk > ni ? nk : ni
	for (j = 1; j <= n; j++) {
		if (k[j] == i[j]) { same++; pass++; continue }
		nm = name(k[j] != "" ? k[j] : i[j])
		if (nm in allow && name(i[j]) == nm) {
			intended++; pass++
			printf("intended %s (%s)\n  kernel:  %s\n  ipstack: %s\n", nm, allow[nm], k[j], i[j])
			continue
		}
		fail++
		printf("FAIL %s\n  kernel:  %s\n  ipstack: %s\n", nm, k[j], i[j])
	}
	printf("cases: %d, identical: %d, intended differences: %d, failures: %d\n", n, same, intended, fail)
	printf("%d passed, %d failed\n", pass, fail)
	exit fail ? 1 : 0
}' "$out/diff_sockets.kernel" "$out/diff_sockets.ipstack"
