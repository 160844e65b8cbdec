#!/usr/bin/env bash
# A kernel UDP socket sends to a port on ipstack where nothing listens: ipstack must
# answer ICMP port unreachable (RFC 1122 4.1.3.1), so the kernel socket gets
# ECONNREFUSED, and count it as Linux does (UdpNoPorts, IcmpOutDestUnreachs).
# Depends on the UDP input (src/transport/udp.c): without a UDP handler the IP layer
# answers "protocol unreachable" instead (the script then reports ENOPROTOOPT).
. "$(dirname "$0")/lib.sh"
t_require tshark "$PY"

H=ips-$$-h
IPS=10.199.3.2
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add 10.199.3.1/24 dev tap0
ip -n "$H" link set tap0 up

t_ips_start h "$H" --tap tap0 --addr $IPS/24 --pcap "$T_TMP/h-tap0.pcap" || t_finish

if t_run "$T_TMP/udp.log" 20 "$H" "$PY" "$(dirname "$0")/udp_unreach.py" $IPS 9; then
	t_ok "kernel UDP socket to $IPS:9 (no listener): ECONNREFUSED, ICMP type 3 code 3 from $IPS"
else
	t_fail "kernel UDP socket to $IPS:9 (no listener):"
fi
sed 's/^/     | /' "$T_TMP/udp.log"

t_ips_stop h
S=$T_TMP/h.stats
n=$(sed -nE 's/^datagrams sent: ([0-9]+)/\1/p' "$T_TMP/udp.log")
n=${n:-2}
t_expect_eq "ipstack UdpNoPorts (one per datagram to the closed port)" "$(t_counter "$S" UdpNoPorts)" "$n"
t_expect_eq "ipstack IcmpOutDestUnreachs" "$(t_counter "$S" IcmpOutDestUnreachs)" "$n"
t_expect_eq "ipstack IcmpMsgOutType3" "$(t_counter "$S" IcmpMsgOutType3)" "$n"
t_expect_eq "ipstack IpInUnknownProtos (UDP is known)" "$(t_counter "$S" IpInUnknownProtos)" 0
t_expect_eq "capture: ICMP port unreachable quoting the datagram, one per datagram" \
	"$(tshark -r "$T_TMP/h-tap0.pcap" -Y "icmp.type == 3 && icmp.code == 3 && ip.src == $IPS && udp.dstport == 9" 2>/dev/null | wc -l)" "$n"
t_pcap_check "$T_TMP/h-tap0.pcap"
t_finish
