#!/usr/bin/env bash
# The kernel's ping and arping against ipstack on a TAP device:
#   plain, 8000 and 65000 bytes (fragmented both ways), record route, timestamps, a
#   bounded flood, DF at exactly the MTU and one byte over; arping gets ipstack's MAC;
#   ipstack's ICMP/IP counters match what the kernel sent; every capture decodes clean.
# Record route and timestamps are compared with a kernel peer (veth in namespace K) pinged
# from the same namespace, so "what Linux would put there" is measured, not assumed.
. "$(dirname "$0")/lib.sh"
t_require ping arping tshark nstat

H=ips-$$-h	# the kernel side of tap0 (10.199.1.1) and of veth0 (10.199.2.1)
K=ips-$$-k	# a kernel reference peer (10.199.2.2)
IPS=10.199.1.2
KPEER=10.199.2.2

t_ns_new "$H"
t_ns_new "$K"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add 10.199.1.1/24 dev tap0
ip -n "$H" link set tap0 up
ip -n "$H" link add veth0 type veth peer name veth1 netns "$K"
ip -n "$H" addr add 10.199.2.1/24 dev veth0
ip -n "$K" addr add $KPEER/24 dev veth1
ip -n "$H" link set veth0 up
ip -n "$K" link set veth1 up

t_ips_start h "$H" --tap tap0 --addr $IPS/24 --pcap "$T_TMP/h-tap0.pcap" || t_finish
MAC=$(t_ips_hwaddr h tap0)
t_info "ipstack tap0 hwaddr: ${MAC:-?}"
t_nstat "$H" "$T_TMP/k-before"

sent=0 rcvd=0	# echo requests the kernel put on tap0 towards ipstack, replies back
count_ping() {	# count_ping LOG: add its "N packets transmitted, M received"
	local t r
	t=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' "$1")
	r=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' "$1")
	sent=$((sent + ${t:-0})); rcvd=$((rcvd + ${r:-0}))
}
# ping_ok DESC COUNT LOG: COUNT replies, no loss, no corrupted or duplicate replies.
ping_ok() {
	local desc=$1 n=$2 log=$3
	count_ping "$log"
	if grep -qE "^$n packets transmitted, $n received, 0% packet loss" "$log" &&
	   ! grep -qE 'wrong data|DUP!|[Cc]hecksum' "$log"; then
		t_ok "$desc: $n/$n replies"
	else
		t_fail "$desc"; sed 's/^/       | /' "$log" | tail -8
	fi
}

# 1. Plain ping, with the kernel side captured once by tshark on tap0.
ip netns exec "$H" timeout 15 tshark -i tap0 -f icmp -c 6 -a duration:10 \
	-w "$T_TMP/kernel-tap0.pcap" >"$T_TMP/tshark.log" 2>&1 &
TSHARK=$!
T_PIDS+=("$TSHARK")
# Live once dumpcap's packet socket is bound to all protocols on tap0 ("Capturing on"
# comes earlier, while the socket is still being set up).
for _ in $(seq 200); do
	ip netns exec "$H" ss -0 -a -p 2>/dev/null | grep -qE '\*:tap0 .*"dumpcap"' && break
	sleep 0.05
done
t_run "$T_TMP/plain.log" 15 "$H" ping -c 3 -i 0.2 -W 2 $IPS
ping_ok "ping -c 3" 3 "$T_TMP/plain.log"
wait "$TSHARK"
nreq=$(tshark -r "$T_TMP/kernel-tap0.pcap" -Y "icmp.type == 8 && ip.dst == $IPS" 2>/dev/null | wc -l)
nrep=$(tshark -r "$T_TMP/kernel-tap0.pcap" -Y "icmp.type == 0 && ip.src == $IPS && eth.src == ${MAC:-00:00:00:00:00:00}" 2>/dev/null | wc -l)
t_expect_eq "kernel-side capture (tshark -i tap0): 3 requests and 3 replies from ipstack's MAC" "$nreq/$nrep" "3/3"
t_pcap_check "$T_TMP/kernel-tap0.pcap"

# 2. Fragmented both ways: the kernel fragments the request, ipstack reassembles it and
# fragments its reply, the kernel reassembles that.
t_run "$T_TMP/s8000.log" 20 "$H" ping -c 3 -i 0.2 -W 2 -s 8000 $IPS
ping_ok "ping -s 8000" 3 "$T_TMP/s8000.log"
t_run "$T_TMP/s65000.log" 20 "$H" ping -c 3 -i 0.2 -W 2 -s 65000 $IPS
ping_ok "ping -s 65000" 3 "$T_TMP/s65000.log"

# 3. Record route (RFC 791 3.1): the list must be what a Linux peer produces, with the
# addresses mapped (sender -> S, peer -> P).
rr_pattern() {	# rr_pattern LOG SENDER PEER: the first RR block as S/P words
	awk -v s="$2" -v p="$3" '
		/^RR:/ { on = 1; sub(/^RR:/, "") }
		on && /^[ \t]*$/ { exit }
		on { gsub(/[ \t]/, ""); if ($0 == s) $0 = "S"; else if ($0 == p) $0 = "P";
		     printf "%s%s", sep, $0; sep = "," }' "$1"
}
t_run "$T_TMP/rr-kernel.log" 15 "$H" ping -c 2 -i 0.2 -W 2 -R $KPEER
t_run "$T_TMP/rr.log" 15 "$H" ping -c 2 -i 0.2 -W 2 -R $IPS
ping_ok "ping -R" 2 "$T_TMP/rr.log"
want=$(rr_pattern "$T_TMP/rr-kernel.log" 10.199.2.1 $KPEER)
got=$(rr_pattern "$T_TMP/rr.log" 10.199.1.1 $IPS)
t_info "record route: Linux peer [$want], ipstack [$got]"
if [ -n "$want" ] && [ "$got" = "$want" ]; then t_ok "ping -R: recorded route as Linux records it ($got)"
else t_fail "ping -R: recorded route [$got], a Linux peer gives [$want]"; sed 's/^/       | /' "$T_TMP/rr.log" | head -12; fi
t_expect_grep "ping -R: later replies report (same route)" "$T_TMP/rr.log" 'same route'

# 4. Timestamps (RFC 791 3.1, -T tsonly): as many entries as a Linux peer gives, and each
# value after the first either plausible milliseconds since midnight UT (ping prints them
# relative to the first) or flagged non-standard (high-order bit, RFC 791).
ts_entries() {	# ts_entries LOG: the first TS block, one value per line
	awk '/^TS:/ { on = 1; sub(/^TS:/, "") } on && /^[ \t]*$/ { exit } on { gsub(/^[ \t]+/, ""); print }' "$1"
}
t_run "$T_TMP/ts-kernel.log" 15 "$H" ping -c 2 -i 0.2 -W 2 -T tsonly $KPEER
t_run "$T_TMP/ts.log" 15 "$H" ping -c 2 -i 0.2 -W 2 -T tsonly $IPS
ping_ok "ping -T tsonly" 2 "$T_TMP/ts.log"
nk=$(ts_entries "$T_TMP/ts-kernel.log" | wc -l)
ni=$(ts_entries "$T_TMP/ts.log" | wc -l)
t_info "timestamps: Linux peer $(ts_entries "$T_TMP/ts-kernel.log" | tr '\n' ' '), ipstack $(ts_entries "$T_TMP/ts.log" | tr '\n' ' ')"
if [ "$nk" -ge 2 ] && [ "$ni" = "$nk" ]; then t_ok "ping -T tsonly: $ni timestamps, as from a Linux peer"
else t_fail "ping -T tsonly: $ni timestamps, a Linux peer gives $nk"; sed 's/^/       | /' "$T_TMP/ts.log" | head -10; fi
bad=$(ts_entries "$T_TMP/ts.log" | tail -n +2 | awk '
	/not-standard/ { next }
	{ v = $1 + 0; if (v < -10000 || v > 10000) print }')
t_expect_eq "ping -T tsonly: ipstack's timestamps are ms since midnight UT or flagged non-standard" "${bad:-none implausible}" "none implausible"

# 5. A bounded flood: a clean TAP loses nothing.
t_run "$T_TMP/flood.log" 30 "$H" ping -f -c 2000 -w 20 $IPS
ping_ok "ping -f -c 2000" 2000 "$T_TMP/flood.log"

# 6. DF: 1472 bytes of payload fill a 1500-byte MTU exactly; one more fails in the
# sending kernel without reaching ipstack.
t_run "$T_TMP/df1472.log" 10 "$H" ping -c 1 -W 2 -s 1472 -M do $IPS
ping_ok "ping -s 1472 -M do" 1 "$T_TMP/df1472.log"
if t_run "$T_TMP/df1473.log" 10 "$H" ping -c 1 -W 2 -s 1473 -M do $IPS; then
	t_fail "ping -s 1473 -M do succeeded"
else
	t_expect_grep "ping -s 1473 -M do fails locally (message too long, mtu=1500)" "$T_TMP/df1473.log" 'message too long, mtu=1500'
fi

# 7. arping: three replies, all from ipstack's MAC.
t_run "$T_TMP/arping.log" 15 "$H" arping -c 3 -w 5 -I tap0 $IPS
nrep=$(grep -ciE "from ${MAC:-none} \\($IPS\\)" "$T_TMP/arping.log")
if grep -qE '3 packets received' "$T_TMP/arping.log" && [ "$nrep" = 3 ]; then
	t_ok "arping -c 3: 3 replies from $MAC"
else
	t_fail "arping -c 3: $nrep replies from ${MAC:-?}"; sed 's/^/       | /' "$T_TMP/arping.log"
fi
ip -n "$H" neigh show $IPS dev tap0 >"$T_TMP/neigh.txt"
t_expect_grep "the kernel's neighbour entry for $IPS holds ipstack's MAC" "$T_TMP/neigh.txt" "lladdr ${MAC:-none}"

# 8. Counters: ipstack's (dumped at exit) against what the kernel sent and counted.
t_nstat "$H" "$T_TMP/k-after"
t_ips_stop h
S=$T_TMP/h.stats
t_info "kernel sent $sent echo requests to ipstack and got $rcvd replies"
t_expect_eq "ipstack IcmpInEchos = echo requests sent" "$(t_counter "$S" IcmpInEchos)" "$sent"
t_expect_eq "ipstack IcmpMsgInType8 = echo requests sent" "$(t_counter "$S" IcmpMsgInType8)" "$sent"
t_expect_eq "ipstack IcmpOutEchoReps = replies received" "$(t_counter "$S" IcmpOutEchoReps)" "$rcvd"
t_expect_eq "ipstack IcmpMsgOutType0 = replies received" "$(t_counter "$S" IcmpMsgOutType0)" "$rcvd"
t_expect_eq "ipstack IcmpInErrors" "$(t_counter "$S" IcmpInErrors)" 0
t_expect_eq "ipstack IpInHdrErrors" "$(t_counter "$S" IpInHdrErrors)" 0
t_expect_eq "ipstack IpReasmOKs = 6 (3 x 8000 + 3 x 65000)" "$(t_counter "$S" IpReasmOKs)" 6
t_expect_eq "ipstack IpReasmFails" "$(t_counter "$S" IpReasmFails)" 0
t_expect_eq "ipstack IpFragOKs = 6" "$(t_counter "$S" IpFragOKs)" 6
kfc=$(t_delta "$T_TMP/k-before" "$T_TMP/k-after" IpFragCreates)
t_expect_eq "ipstack IpFragCreates = the kernel's for the same sizes" "$(t_counter "$S" IpFragCreates)" "$kfc"
t_expect_eq "kernel IpReasmOKs delta = 6 (ipstack's fragmented replies)" "$(t_delta "$T_TMP/k-before" "$T_TMP/k-after" IpReasmOKs)" 6
t_expect_eq "kernel IcmpInEchoReps delta (tap0 and veth0 replies)" \
	"$(t_delta "$T_TMP/k-before" "$T_TMP/k-after" IcmpInEchoReps)" "$((rcvd + 4))"

t_pcap_check "$T_TMP/h-tap0.pcap"
t_finish
