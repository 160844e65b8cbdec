#!/usr/bin/env bash
# ipstack as a router between two kernel namespaces A (10.199.10.2) and B (10.199.20.2,
# .3), with a 1400-byte MTU on the B side: forwarding, refragmentation, "Frag needed"
# (RFC 1191), "Time to live exceeded", tracepath's hops and PMTU, and ip_forward=0.
# The same commands run first through a Linux router (namespaces KA/KR/KB joined by
# veth pairs), and ipstack's answers and router counters must match what Linux gave.
. "$(dirname "$0")/lib.sh"
t_require ping tracepath tshark nstat

A=ips-$$-a B=ips-$$-b R=ips-$$-r
KA=ips-$$-ka KB=ips-$$-kb KR=ips-$$-kr

# configure_ends A B: the kernel hosts on either side (devices tapa in A, tapb in B).
configure_ends() {
	ip -n "$1" addr add 10.199.10.2/24 dev tapa
	ip -n "$1" link set tapa up
	ip -n "$1" route add default via 10.199.10.1
	ip -n "$2" link set tapb mtu 1400
	ip -n "$2" addr add 10.199.20.2/24 dev tapb
	ip -n "$2" addr add 10.199.20.3/24 dev tapb
	ip -n "$2" link set tapb up
	ip -n "$2" route add default via 10.199.20.1
}

# The Linux reference router.
for ns in "$KA" "$KB" "$KR"; do t_ns_new "$ns"; done
ip -n "$KR" link add ra type veth peer name tapa netns "$KA"
ip -n "$KR" link add rb type veth peer name tapb netns "$KB"
ip -n "$KR" addr add 10.199.10.1/24 dev ra
ip -n "$KR" addr add 10.199.20.1/24 dev rb
ip -n "$KR" link set ra up
ip -n "$KR" link set rb mtu 1400 up
ip netns exec "$KR" sysctl -qw net.ipv4.ip_forward=1
configure_ends "$KA" "$KB"

# start_ips_router FWD: ipstack in R on two TAP devices whose kernel sides then move to
# A and B (the open TAP file descriptors stay attached across the move).
start_ips_router() {
	local fwd=$1 n
	for n in "$A" "$B" "$R"; do ip netns list | grep -qw "$n" || t_ns_new "$n"; done
	ip -n "$A" link del tapa 2>/dev/null
	ip -n "$B" link del tapb 2>/dev/null
	ip -n "$R" tuntap add dev tapa mode tap
	ip -n "$R" tuntap add dev tapb mode tap
	t_ips_start "r$fwd" "$R" --tap tapa --addr 10.199.10.1/24 --pcap "$T_TMP/r$fwd-tapa.pcap" \
		--tap tapb --addr 10.199.20.1/24 --mtu 1400 --pcap "$T_TMP/r$fwd-tapb.pcap" \
		--sysctl net.ipv4.ip_forward="$fwd" || return 1
	ip -n "$R" link set tapa netns "$A" &&
	ip -n "$R" link set tapb netns "$B" &&
	configure_ends "$A" "$B"
}

# run_suite TAG NS_A: the forwarding checks from A; logs in $T_TMP/TAG-*.log.
run_suite() {
	local tag=$1 a=$2
	t_run "$T_TMP/$tag-ping.log" 15 "$a" ping -c 3 -i 0.2 -W 2 10.199.20.2
	t_run "$T_TMP/$tag-s3000.log" 15 "$a" ping -c 3 -i 0.2 -W 2 -s 3000 10.199.20.2
	t_run "$T_TMP/$tag-df.log" 10 "$a" ping -c 1 -W 2 -M do -s 1450 10.199.20.3
	t_run "$T_TMP/$tag-ttl.log" 10 "$a" ping -c 1 -W 2 -t 1 10.199.20.2
	t_run "$T_TMP/$tag-tracepath.log" 30 "$a" tracepath -n 10.199.20.2
}

# Normalise tracepath for comparison: no timings.
norm_tracepath() { sed -E 's/[0-9]+\.[0-9]+ms/Tms/; s/[ \t]+/ /g; s/ $//' "$1"; }

# --- Linux first.
sleep 0.5
t_nstat "$KR" "$T_TMP/kr-0"
run_suite k "$KA"
t_nstat "$KR" "$T_TMP/kr-1"
ip netns exec "$KR" sysctl -qw net.ipv4.ip_forward=0
t_run "$T_TMP/k-nofwd.log" 10 "$KA" ping -c 2 -i 0.2 -W 1 10.199.20.2
t_nstat "$KR" "$T_TMP/kr-2"

# --- ipstack with ip_forward=1.
start_ips_router 1 || t_finish
run_suite i "$A"
t_ips_stop r1

grep -q '3 received' "$T_TMP/k-ping.log" || t_info "(the Linux reference did not forward: $(tail -2 "$T_TMP/k-ping.log" | head -1))"
t_expect_grep "ping A -> B across ipstack: 3/3 replies" "$T_TMP/i-ping.log" '^3 packets transmitted, 3 received, 0% packet loss'
t_expect_grep "ping -s 3000 A -> B: 3/3 replies (ipstack refragments 1500 -> 1400)" "$T_TMP/i-s3000.log" '^3 packets transmitted, 3 received, 0% packet loss'
t_expect_grep "ping -M do -s 1450: Frag needed and DF set (mtu = 1400) from the router" "$T_TMP/i-df.log" '^From 10\.199\.10\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1400\)'
t_expect_grep "ping -t 1: Time to live exceeded from the router" "$T_TMP/i-ttl.log" '^From 10\.199\.10\.1 icmp_seq=1 Time to live exceeded'
t_expect_grep "tracepath: hop 1 is the router" "$T_TMP/i-tracepath.log" '^ *1: +10\.199\.10\.1 '
t_expect_grep "tracepath: the router reports pmtu 1400" "$T_TMP/i-tracepath.log" '^ *[12]: +10\.199\.10\.1 .*pmtu 1400'
t_expect_grep "tracepath: hop 2 is B, reached" "$T_TMP/i-tracepath.log" '^ *2: +10\.199\.20\.2 .*reached'
t_expect_grep "tracepath: Resume: pmtu 1400 hops 2 back 2" "$T_TMP/i-tracepath.log" 'Resume: pmtu 1400 hops 2 back 2'
if diff <(norm_tracepath "$T_TMP/k-tracepath.log") <(norm_tracepath "$T_TMP/i-tracepath.log") >"$T_TMP/tracepath.diff"; then
	t_ok "tracepath output identical to the Linux router's (timings aside)"
else
	t_fail "tracepath output differs from the Linux router's (- Linux, + ipstack):"
	sed 's/^/       | /' "$T_TMP/tracepath.diff"
fi
for tag in df ttl; do
	kl=$(grep -E '^From ' "$T_TMP/k-$tag.log" | head -1)
	il=$(grep -E '^From ' "$T_TMP/i-$tag.log" | head -1)
	t_expect_eq "ping ($tag) error line as from the Linux router" "$il" "$kl"
done

# Router counters: ipstack's over the run against the Linux router's for the same run.
S=$T_TMP/r1.stats
for c in IpForwDatagrams IpFragOKs IpFragCreates IpFragFails IpInHdrErrors IpInAddrErrors \
	 IcmpOutTimeExcds IcmpOutDestUnreachs IcmpMsgOutType3 IcmpMsgOutType11 IpOutNoRoutes; do
	t_expect_eq "router counter $c as Linux's" "$(t_counter "$S" $c)" "$(t_delta "$T_TMP/kr-0" "$T_TMP/kr-1" $c)"
done
t_pcap_check "$T_TMP/r1-tapa.pcap"
t_pcap_check "$T_TMP/r1-tapb.pcap"

# --- ipstack with ip_forward=0: Linux drops silently and counts IpInAddrErrors.
start_ips_router 0 || t_finish
t_run "$T_TMP/i-nofwd.log" 10 "$A" ping -c 2 -i 0.2 -W 1 10.199.20.2
t_ips_stop r0
t_expect_grep "ip_forward=0: pings across get no reply" "$T_TMP/i-nofwd.log" '^2 packets transmitted, 0 received'
t_expect_nogrep "ip_forward=0: and no ICMP error (as Linux)" "$T_TMP/i-nofwd.log" '^From '
t_expect_nogrep "ip_forward=0: Linux router also silent (reference)" "$T_TMP/k-nofwd.log" '^From |[1-9][0-9]* received'
for c in IpInAddrErrors IpForwDatagrams IcmpOutMsgs; do
	t_expect_eq "ip_forward=0: router counter $c as Linux's" "$(t_counter "$T_TMP/r0.stats" $c)" "$(t_delta "$T_TMP/kr-1" "$T_TMP/kr-2" $c)"
done
t_pcap_check "$T_TMP/r0-tapa.pcap"
t_finish
