#!/usr/bin/env bash
# The packet-level TCP scripts (tests/tcp/scripts/**.pkt) replayed against the Linux
# kernel by tests/tcp/kreplay.py: each script in its own network namespace with a TUN
# device playing the peer, the kernel's own sockets making the calls, its packets checked
# against the script's '>' lines. By default only the scripts that run for 20 s or less
# of script time (the rest, timers up to 131 s, with IPS_TCP_KERNEL_ALL=1). A script that
# fails among 8 parallel replays is run again alone (up to twice): kernel timers fire late
# on a loaded machine, and the expectations stay the same.
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v unshare >/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL test_tcp_scripts_kernel: needs root, /dev/net/tun and unshare"
		echo "test_tcp_scripts_kernel: 0 passed, 1 failed"
		exit 1
	fi
	echo "SKIP test_tcp_scripts_kernel: needs root, /dev/net/tun and unshare"
	echo "test_tcp_scripts_kernel: 0 passed, 0 failed"
	exit 0
fi
span=20
[ "${IPS_TCP_KERNEL_ALL:-}" = 1 ] && span=100000
exec python3 tests/tcp/kreplay.py -j "${IPS_TCP_KERNEL_JOBS:-8}" --max-span "$span" --retry 2 \
	tests/tcp/scripts
