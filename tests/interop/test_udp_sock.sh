#!/usr/bin/env bash
# ipstack's datagram sockets against the kernel through a TAP device
# (tests/interop/ips_udp.c, a threaded stack used through the ips_* socket calls):
#   - ipstack client -> kernel echo server (socat): 1, 8192 and 65507-byte datagrams come
#     back intact (ipstack fragments and reassembles, so does the kernel);
#   - MSG_MORE and UDP_CORK make one datagram of several sends; UDP_SEGMENT cuts one send
#     into datagrams of the segment size (without DF when the whole exceeds the path);
#   - broadcast: EACCES without SO_BROADCAST (the kernel's socket answers the same), and
#     with it a kernel socket receives the subnet and the limited broadcast;
#   - IP_PKTINFO / IP_RECVTTL / IP_RECVTOS on what a kernel socket sends to ipstack;
#   - IP_RECVERR: the kernel answers a closed port with ICMP port unreachable and ipstack's
#     error queue holds it (SO_EE_ORIGIN_ICMP, type 3 code 3, offender = the kernel's
#     address, the original payload, msg_name = the destination); ECONNREFUSED on a
#     connected socket;
#   - a raw ICMP socket's echo request answered by the kernel (reply read with its IP
#     header), and the same through a ping socket.
. "$(dirname "$0")/lib.sh"
t_require socat tshark nstat
UDP=${IPS_UDP:-$IPS_ROOT/build/interop/ips_udp}
if [ -z "${IPS_UDP:-}" ] && ! make -s -C "$IPS_ROOT" build/interop/ips_udp >"$T_TMP/make.log" 2>&1; then
	t_fail "build ips_udp:"; sed 's/^/       | /' "$T_TMP/make.log" | tail -12; t_finish
fi

H=ips-$$-h
K=10.199.5.1 I=10.199.5.2 B=10.199.5.255
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add $K/24 brd + dev tap0
ip -n "$H" link set tap0 up
# The kernel's echo server: one child per datagram, the reply from the same socket.
t_bg ECHO ip netns exec "$H" socat -b 65536 -T 30 UDP4-RECVFROM:7777,fork,reuseaddr PIPE
sleep 0.3
t_nstat "$H" "$T_TMP/k-before"
L=$T_TMP/ips_udp.log
if t_run "$L" 60 "$H" "$UDP" --tap tap0 --addr $I/24 --peer $K --bcast $B \
	--pcap "$T_TMP/tap0.pcap" --stats "$T_TMP/ips.stats"; then
	t_ok "ips_udp ran"
else
	t_fail "ips_udp exited with an error"
fi
sed 's/^/     | /' "$L"
t_nstat "$H" "$T_TMP/k-after"

# expect DESCRIPTION LINE: the output has exactly this line
expect() { t_expect_grep "$1" "$L" "^$(printf '%s' "$2" | sed 's/[][\.*^$()+?{}|]/\\&/g')\$"; }

expect "echo 1 byte through the kernel's socat" "echo 1: sent=1 recv=1 from=$K:7777 match=yes"
expect "echo 8192 bytes (fragmented both ways)" "echo 8192: sent=8192 recv=8192 from=$K:7777 match=yes"
expect "echo 65507 bytes (the largest UDP datagram)" "echo 65507: sent=65507 recv=65507 from=$K:7777 match=yes"
expect "MSG_MORE: three sends make one datagram" 'cork MSG_MORE a+b+c: kernel got n=1 3"abc"'
expect "UDP_CORK: corked sends go out as one datagram when uncorked" 'cork UDP_CORK xy+z: kernel got n=1 3"xyz"'
expect "UDP_SEGMENT 1000: 3000 bytes sent in one call" "gso 3000/1000: sent=3000"
expect "UDP_SEGMENT 1000: the kernel receives three 1000-byte datagrams" "gso 3000/1000: kernel got n=3 1000,1000,1000"
expect "UDP_SEGMENT 1000: 1000 bytes are one datagram" "gso 1000/1000: kernel got n=1 1000"
t_expect_eq "UDP_SEGMENT: segments of a GSO datagram larger than the path go without DF (Linux's __ip_make_skb)" \
	"$(tshark -r "$T_TMP/tap0.pcap" -Y "udp.dstport == 7781 && ip.len == 1028" -T fields -e ip.flags.df 2>/dev/null | tr '\n' ' ')" "0 0 0 1 "
expect "subnet broadcast without SO_BROADCAST: EACCES, as the kernel's socket" \
	"bcast subnet without SO_BROADCAST: ipstack r=-1 EACCES, kernel r=-1 EACCES"
expect "limited broadcast without SO_BROADCAST: EACCES, as the kernel's socket" \
	"bcast limited without SO_BROADCAST: ipstack r=-1 EACCES, kernel r=-1 EACCES"
expect "subnet broadcast with SO_BROADCAST is sent" "bcast subnet with SO_BROADCAST: r=6"
expect "the kernel receives the subnet broadcast (IP_PKTINFO dst $B)" \
	"bcast subnet: kernel got \"subnet\" from=$I dst=$B"
expect "limited broadcast with SO_BROADCAST is sent" "bcast limited with SO_BROADCAST: r=7"
expect "the kernel receives the limited broadcast (IP_PKTINFO dst 255.255.255.255)" \
	"bcast limited: kernel got \"limited\" from=$I dst=255.255.255.255"
expect "IP_PKTINFO/TTL/TOS of a unicast datagram from the kernel" \
	"pktinfo unicast: ipstack got \"unicast\" from=$K ifindex_is_tap=yes addr=$I spec_dst=$I ttl=64 tos=0x28"
expect "IP_PKTINFO of a broadcast: ipi_addr the broadcast, spec_dst our address" \
	"pktinfo broadcast: ipstack got \"broadcast\" from=$K ifindex_is_tap=yes addr=$B spec_dst=$I ttl=64 tos=0x28"
expect "IP_RECVERR: POLLERR after the kernel's port unreachable" "recverr: sent=5 poll=1 revents=POLLERR"
expect "IP_RECVERR: the error queue returns the original payload, msg_name the destination" \
	"recverr: errqueue r=5 payload=\"probe\" flags=MSG_ERRQUEUE name=$K:7779"
expect "IP_RECVERR: ECONNREFUSED from SO_EE_ORIGIN_ICMP type 3 code 3, offender the kernel" \
	"recverr: ee_errno=ECONNREFUSED origin=SO_EE_ORIGIN_ICMP type=3 code=3 info=0 offender=$K"
expect "IP_RECVERR + IP_PKTINFO: the ICMP packet's pktinfo" "recverr: pktinfo=yes ifindex_is_tap=yes addr=$I"
expect "SO_ERROR after reading the queue is clear" "recverr: so_error=0"
expect "the error queue is then empty" "recverr: errqueue again r=-1 EAGAIN"
expect "connected socket: ECONNREFUSED from the kernel's port unreachable" \
	"refused: poll=1 revents=POLLERR recv r=-1 ECONNREFUSED"
expect "raw ICMP socket: echo request sent (64 bytes)" "raw: sent=64"
expect "raw ICMP socket: the kernel's echo reply, with its IP header" \
	"raw: reply r=84 from=$K ip_version=4 proto=1 type=0 code=0 id=0x4242 seq=7 payload=match csum_ok=yes"
expect "ping socket refused while ping_group_range is '1 0'" "ping: socket before range r=-1 EACCES"
expect "ping socket: the kernel's echo reply, identifier = the socket's port" \
	"ping: sent=64 reply r=64 from=$K type=0 id_is_port=yes seq=9 payload=match"

d() { t_delta "$T_TMP/k-before" "$T_TMP/k-after" "$1"; }
S=$T_TMP/ips.stats
t_expect_eq "kernel IcmpInEchos (raw + ping socket)" "$(d IcmpInEchos)" 2
t_expect_eq "kernel IcmpOutDestUnreachs (closed port 7779, twice)" "$(d IcmpOutDestUnreachs)" 2
t_expect_eq "kernel IpReasmOKs (8192 and 65507 from ipstack)" "$(d IpReasmOKs)" 2
t_expect_eq "ipstack IpReasmOKs (the two echoes)" "$(t_counter "$S" IpReasmOKs)" 2
t_expect_eq "ipstack IpFragOKs" "$(t_counter "$S" IpFragOKs)" 2
t_expect_eq "ipstack UdpInDatagrams (3 echoes + 2 from the kernel)" "$(t_counter "$S" UdpInDatagrams)" 5
t_expect_eq "kernel UdpInDatagrams (echo server 3, cork 2, gso 3 + 1, broadcasts 2)" "$(d UdpInDatagrams)" 11
t_expect_eq "ipstack IcmpInDestUnreachs" "$(t_counter "$S" IcmpInDestUnreachs)" 2
t_expect_eq "ipstack IcmpInEchoReps" "$(t_counter "$S" IcmpInEchoReps)" 2
t_expect_eq "ipstack UdpInErrors" "$(t_counter "$S" UdpInErrors)" 0
t_pcap_check "$T_TMP/tap0.pcap"
t_finish
