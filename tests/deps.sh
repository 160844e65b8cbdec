#!/usr/bin/env bash
# Installs the Debian packages that the test suite needs, when they are missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in gcc clang make libclang-rt-14-dev iproute2 iputils-ping iputils-tracepath arping \
	 socat netcat-openbsd tshark python3-scapy curl iperf3 pkg-config ethtool; do
	have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages (${need[*]}); run as root to install them" >&2
		exit 0
	fi
	echo "deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# tshark asks whether non-root users may capture; the default answer (no) is fine.
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
