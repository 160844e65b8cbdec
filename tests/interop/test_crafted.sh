#!/usr/bin/env bash
# Crafted bad packets, differentially: tests/interop/crafted.py writes the same frames
# below IP (AF_PACKET) to ipstack over a TAP device and to a Linux peer over a veth pair,
# and compares per case the answers (ICMP type/code/pointer, quoted bytes, options, or
# nothing within 1 s) and the MIB counters that moved (nstat -asz for Linux, ipstack's
# counter dump). Any difference not listed in crafted.py's EXCEPTIONS (with its reason)
# fails. Cases: `tests/interop/crafted.py list`; docs/interop.md explains each.
. "$(dirname "$0")/lib.sh"
t_require tshark nstat "$PY"
CRAFTED=$(dirname "$0")/crafted.py

S1=ips-$$-s1	# kernel side of tap0, 10.199.5.1 -> ipstack 10.199.5.2
S2=ips-$$-s2	# kernel side of veth0, 10.199.5.1 -> Linux peer 10.199.5.2 in K
K=ips-$$-k
for ns in "$S1" "$S2" "$K"; do t_ns_new "$ns"; done
ip -n "$S1" tuntap add dev tap0 mode tap
ip -n "$S1" addr add 10.199.5.1/24 dev tap0
ip -n "$S1" link set tap0 up
ip -n "$S2" link add veth0 type veth peer name veth1 netns "$K"
ip -n "$S2" addr add 10.199.5.1/24 dev veth0
ip -n "$K" addr add 10.199.5.2/24 dev veth1
ip -n "$S2" link set veth0 up
ip -n "$K" link set veth1 up

t_ips_start h "$S1" --tap tap0 --addr 10.199.5.2/24 --pcap "$T_TMP/h-tap0.pcap" || t_finish
IMAC=$(t_ips_hwaddr h tap0)
KMAC=$(ip -n "$K" link show veth1 | awk '/link\/ether/ {print $2}')

# Both sides know each other's MAC before the first case (no ARP inside a window).
t_run "$T_TMP/warm1.log" 10 "$S1" ping -c 1 -W 2 10.199.5.2 || t_info "warm-up ping to ipstack failed"
t_run "$T_TMP/warm2.log" 10 "$S2" ping -c 1 -W 2 10.199.5.2 || t_info "warm-up ping to Linux failed"

common=(--src 10.199.5.1 --dst 10.199.5.2 --bcast 10.199.5.255 ${CASES:+--cases "$CASES"})
ip netns exec "$S2" timeout 300 "$PY" "$CRAFTED" run --iface veth0 --dst-mac "$KMAC" \
	--kernel-ns "$K" --out "$T_TMP/kernel.json" "${common[@]}" >"$T_TMP/kernel.log" 2>&1 &
KJOB=$!
T_PIDS+=("$KJOB")
ip netns exec "$S1" timeout 300 "$PY" "$CRAFTED" run --iface tap0 --dst-mac "$IMAC" \
	--ipstack-pid "$(t_ips_pid h)" --ipstack-stats "$T_TMP/h.stats" \
	--out "$T_TMP/ipstack.json" "${common[@]}" >"$T_TMP/ipstack.log" 2>&1
irc=$?
wait "$KJOB"
krc=$?
[ $krc -eq 0 ] || { t_fail "crafted.py against Linux (exit $krc)"; tail -5 "$T_TMP/kernel.log"; }
[ $irc -eq 0 ] || { t_fail "crafted.py against ipstack (exit $irc)"; tail -5 "$T_TMP/ipstack.log"; }

if [ $krc -eq 0 ] && [ $irc -eq 0 ]; then
	"$PY" "$CRAFTED" compare "$T_TMP/kernel.json" "$T_TMP/ipstack.json" >"$T_TMP/compare.txt" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok   crafted "*) t_ok "${line#ok   }" ;;
		"FAIL crafted "*) t_fail "${line#FAIL }" ;;
		*) echo "$line" ;;
		esac
	done <"$T_TMP/compare.txt"
fi

t_ips_stop h
# What ipstack sent must decode cleanly (the crafted input is broken on purpose).
t_pcap_check "$T_TMP/h-tap0.pcap" "eth.src == ${IMAC:-00:00:00:00:00:00}"
t_finish
