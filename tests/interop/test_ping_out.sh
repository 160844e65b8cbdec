#!/usr/bin/env bash
# ipstack pings the kernel (tests/interop/ips_pinger.c: icmp_echo_send + icmp_listener on
# a TAP device): every request answered with its own payload, including 1472 bytes (a
# full 1500-byte frame), 8000 and 30000 bytes (ipstack fragments, the kernel reassembles
# and fragments its reply, ipstack reassembles) and a quick burst; the kernel's counters
# agree.
. "$(dirname "$0")/lib.sh"
t_require tshark nstat
# PINGER=build/asan/interop/ips_pinger runs a sanitizer build (built beforehand).
if [ -n "${PINGER:-}" ]; then
	[ -x "$PINGER" ] || { t_fail "PINGER=$PINGER is not executable"; t_finish; }
elif PINGER=$IPS_ROOT/build/interop/ips_pinger;
     ! make -s -C "$IPS_ROOT" build/interop/ips_pinger >"$T_TMP/make.log" 2>&1; then
	t_fail "build ips_pinger (needs icmp_echo_send, icmp_listener_add, ips_tap_attach):"
	sed 's/^/       | /' "$T_TMP/make.log" | grep -vE '^\s*\|\s*$' | tail -12
	t_finish
fi

H=ips-$$-h
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add 10.199.4.1/24 dev tap0
ip -n "$H" link set tap0 up
t_nstat "$H" "$T_TMP/k-before"

# pinger TAG ARGS...: run ips_pinger in H against the kernel side of tap0.
pinger() {
	local tag=$1; shift
	if t_run "$T_TMP/$tag.log" 60 "$H" "$PINGER" --tap tap0 --addr 10.199.4.2/24 --dst 10.199.4.1 \
		--pcap "$T_TMP/$tag.pcap" --stats "$T_TMP/$tag.stats" "$@"; then
		t_ok "ips_pinger $*: $(tail -1 "$T_TMP/$tag.log" | sed 's/^ips_pinger: //')"
	else
		t_fail "ips_pinger $*:"; sed 's/^/       | /' "$T_TMP/$tag.log" | tail -12
	fi
}

pinger sizes --count 3 --sizes 0,56,1472,1473,8000,30000 --interval-ms 20 --timeout-ms 3000
ip -n "$H" neigh flush dev tap0
# The burst starts once ipstack knows the kernel's MAC (one uncounted warm-up echo):
# sent while the neighbour is still being resolved, what the ARP queue cannot hold would
# be dropped, as on Linux, and how much that is depends on how fast the kernel answers.
pinger burst --count 500 --sizes 56 --interval-ms 0 --timeout-ms 3000 --resolve 1
t_nstat "$H" "$T_TMP/k-after"

d() { t_delta "$T_TMP/k-before" "$T_TMP/k-after" "$1"; }
t_expect_eq "kernel IcmpInEchos = 519 requests (18 + warm-up + 500)" "$(d IcmpInEchos)" 519
t_expect_eq "kernel IcmpOutEchoReps = 519" "$(d IcmpOutEchoReps)" 519
t_expect_eq "kernel IpReasmOKs = 9 (1473, 8000, 30000 bytes x 3, fragmented by ipstack)" "$(d IpReasmOKs)" 9
t_expect_eq "kernel IpReasmFails" "$(d IpReasmFails)" 0
t_expect_eq "kernel IcmpInErrors" "$(d IcmpInErrors)" 0
t_expect_eq "kernel IpInHdrErrors" "$(d IpInHdrErrors)" 0
S=$T_TMP/sizes.stats
t_expect_eq "ipstack IcmpOutEchos" "$(t_counter "$S" IcmpOutEchos)" 18
t_expect_eq "ipstack IcmpInEchoReps" "$(t_counter "$S" IcmpInEchoReps)" 18
t_expect_eq "ipstack IpFragOKs = 9" "$(t_counter "$S" IpFragOKs)" 9
t_expect_eq "ipstack IpReasmOKs = 9" "$(t_counter "$S" IpReasmOKs)" 9
t_expect_eq "ipstack IpFragCreates = the kernel's for the same replies" "$(t_counter "$S" IpFragCreates)" "$(d IpFragCreates)"
t_pcap_check "$T_TMP/sizes.pcap"
t_pcap_check "$T_TMP/burst.pcap"
t_finish
