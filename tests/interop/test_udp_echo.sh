#!/usr/bin/env bash
# `ipstack host --serve echo --serve discard` (tools/serve.c, RFC 862/863 over UDP) used by
# kernel clients through a TAP device: socat and nc get their datagrams back from port 7
# (1, 8192 and 65507 bytes: the kernel fragments, ipstack reassembles, echoes and
# fragments, the kernel reassembles), a broadcast request is answered from ipstack's own
# address, discard (port 9) answers nothing, and the counters on both sides agree.
. "$(dirname "$0")/lib.sh"
t_require socat nc tshark nstat

H=ips-$$-h
K=10.199.6.1 I=10.199.6.2 B=10.199.6.255
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add $K/24 brd + dev tap0
ip -n "$H" link set tap0 up
t_ips_start h "$H" --tap tap0 --addr $I/24 --pcap "$T_TMP/h-tap0.pcap" \
	--serve echo --serve discard || t_finish
t_nstat "$H" "$T_TMP/k-before"

# echo_socat SIZE: SIZE random bytes to port 7 with socat, compared with what comes back.
echo_socat() {
	local n=$1 f=$T_TMP/in.$1 o=$T_TMP/out.$1
	head -c "$n" /dev/urandom >"$f"
	ip netns exec "$H" timeout 10 socat -b 65536 -T 3 - UDP4:$I:7 <"$f" >"$o" 2>"$T_TMP/socat.$n.err"
	if cmp -s "$f" "$o"; then
		t_ok "socat: a $n-byte datagram to $I:7 comes back identical"
	else
		t_fail "socat: $n bytes to $I:7: got $(stat -c %s "$o") bytes back"
		sed 's/^/       | /' "$T_TMP/socat.$n.err" | tail -5
	fi
}
echo_socat 1
echo_socat 8192
echo_socat 65507

# nc -u: one line, the same line back.
out=$(printf 'hello from nc\n' | ip netns exec "$H" timeout 5 nc -u -w 2 $I 7 2>&1)
t_expect_eq "nc -u: a line to $I:7 comes back" "$out" "hello from nc"

# A broadcast request is answered with a unicast from ipstack's address (IP_PKTINFO's
# ipi_spec_dst), which socat's UDP4-DATAGRAM accepts from any sender.
out=$(printf 'to all' | ip netns exec "$H" timeout 5 socat -T 2 - UDP4-DATAGRAM:$B:7,broadcast 2>&1)
t_expect_eq "broadcast to $B:7 is echoed" "$out" "to all"

# Discard: nothing comes back (socat gives up after 2 s of silence).
out=$(printf 'into the void' | ip netns exec "$H" timeout 5 socat -T 2 - UDP4:$I:9 2>&1)
t_expect_eq "discard: nothing comes back from $I:9" "$out" ""

# No answer to a datagram from a small service's port (loop protection, as inetd).
out=$(printf 'loop?' | ip netns exec "$H" timeout 5 socat -T 2 - UDP4:$I:7,sourceport=19 2>&1)
t_expect_eq "echo ignores a datagram from port 19 (chargen: no echo loops)" "$out" ""

t_nstat "$H" "$T_TMP/k-after"
t_ips_counters h "$T_TMP/h.now"
S=$T_TMP/h.now
d() { t_delta "$T_TMP/k-before" "$T_TMP/k-after" "$1"; }
t_expect_eq "ipstack UdpInDatagrams (3 socat + nc + broadcast + discard + port 19)" "$(t_counter "$S" UdpInDatagrams)" 7
t_expect_eq "ipstack UdpOutDatagrams (the 5 echoes)" "$(t_counter "$S" UdpOutDatagrams)" 5
t_expect_eq "ipstack UdpNoPorts" "$(t_counter "$S" UdpNoPorts)" 0
t_expect_eq "ipstack IpReasmOKs (8192 and 65507)" "$(t_counter "$S" IpReasmOKs)" 2
t_expect_eq "ipstack IpFragOKs (their echoes)" "$(t_counter "$S" IpFragOKs)" 2
t_expect_eq "kernel UdpInDatagrams (the 5 echoes)" "$(d UdpInDatagrams)" 5
t_expect_eq "kernel IpReasmOKs" "$(d IpReasmOKs)" 2
t_expect_eq "kernel UdpInErrors" "$(d UdpInErrors)" 0
t_expect_eq "kernel IcmpInDestUnreachs (nothing refused)" "$(d IcmpInDestUnreachs)" 0
t_ips_stop h
t_pcap_check "$T_TMP/h-tap0.pcap"
t_finish
