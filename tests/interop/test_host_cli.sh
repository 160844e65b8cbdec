#!/usr/bin/env bash
# `ipstack` and `ipstack host` as a command: help, version, usage errors (exit 2),
# runtime errors (exit 1, one line on stderr), SIGINT and SIGTERM (prompt exit 0 with the
# pcap flushed), SIGUSR1 counter dumps, a router's several device groups, --gw/--route,
# a TUN device.
. "$(dirname "$0")/lib.sh"
t_require tshark

# cli_rc WANT DESC ARGS...: exit status and a single "ipstack..." line on stderr.
cli_rc() {
	local want=$1 desc=$2; shift 2
	"$IPSTACK" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	local rc=$? n
	n=$(wc -l <"$T_TMP/err")
	if [ "$rc" = "$want" ] && { [ "$want" = 0 ] || { [ "$n" = 1 ] && grep -q '^ipstack' "$T_TMP/err"; }; }; then
		t_ok "$desc: exit $rc${n:+ $(head -1 "$T_TMP/err")}"
	else
		t_fail "$desc: exit $rc (want $want), stderr:"; sed 's/^/       | /' "$T_TMP/err"
	fi
}
cli_rc 0 "ipstack --help" --help
t_expect_grep "--help lists host" "$T_TMP/out" '^  host '
cli_rc 0 "ipstack --version" --version
t_expect_grep "--version" "$T_TMP/out" '^ipstack [0-9]+\.[0-9]+\.[0-9]+$'
cli_rc 0 "ipstack host --help" host --help
t_expect_grep "host --help shows --tap" "$T_TMP/out" '--tap IF'
cli_rc 2 "no command" 
cli_rc 2 "unknown command" frobnicate
cli_rc 2 "host without a device" host
cli_rc 2 "--addr before --tap" host --addr 10.199.7.2/24 --tap tap0
cli_rc 2 "bad --addr" host --tap tap0 --addr 10.199.7.300/24
cli_rc 2 "bad --mtu" host --tap tap0 --mtu 20
cli_rc 2 "bad --impair" host --tap tap0 --impair loss=abc
cli_rc 2 "bad --sysctl" host --tap tap0 --sysctl net.ipv4.ip_forward
cli_rc 2 "bad --gw" host --tap tap0 --gw 10.199
cli_rc 2 "unknown option" host --tap tap0 --frob
cli_rc 2 "missing value" host --tap

H=ips-$$-h
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" tuntap add dev tap1 mode tap
ip -n "$H" tuntap add dev tun0 mode tun
ip -n "$H" link set tap0 mtu 1400
ip -n "$H" addr add 10.199.7.1/24 dev tap0
ip -n "$H" addr add 10.199.8.1/24 dev tap1
ip -n "$H" addr add 10.199.9.1/24 dev tun0
for d in tap0 tap1 tun0; do ip -n "$H" link set $d up; done

# Runtime errors: exit 1 with one line.
rc_in_ns() {	# rc_in_ns WANT DESC ARGS...
	local want=$1 desc=$2; shift 2
	ip netns exec "$H" timeout 10 "$IPSTACK" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	local rc=$?
	if [ "$rc" = "$want" ] && grep -q '^ipstack host: ' "$T_TMP/err"; then
		t_ok "$desc: exit $rc: $(grep '^ipstack host: ' "$T_TMP/err" | head -1)"
	else
		t_fail "$desc: exit $rc (want $want):"; sed 's/^/       | /' "$T_TMP/err"
	fi
}
rc_in_ns 1 "unwritable --pcap" host --tap tap0 --addr 10.199.7.2/24 --pcap /nonexistent/dir/x.pcap
rc_in_ns 2 "unknown sysctl" host --tap tap0 --addr 10.199.7.2/24 --sysctl net.ipv4.no_such_thing=1
rc_in_ns 2 "sysctl value out of range" host --tap tap0 --addr 10.199.7.2/24 --sysctl net.ipv4.ip_default_ttl=0
rc_in_ns 2 "bad --route" host --tap tap0 --addr 10.199.7.2/24 --route "10.0.0.0/99 via 1.2.3.4"

# Several device groups, routes, sysctls, a TUN device; SIGUSR1 dumps; SIGINT exits 0.
t_ips_start h "$H" --tap tap0 --addr 10.199.7.2/24 --mtu 1400 --pcap "$T_TMP/tap0.pcap" \
	--tap tap1 --addr 10.199.8.2/24 --addr 10.199.8.3/24 --pcap "$T_TMP/tap1.pcap" \
	--tun tun0 --addr 10.199.9.2/24 \
	--gw 10.199.7.1 --route "10.250.0.0/16 via 10.199.8.1" \
	--sysctl net.ipv4.ip_default_ttl=33 --sysctl net.ipv4.conf.tap1.arp_ignore=1 || t_finish
R=$T_TMP/h.ready
t_expect_grep "start line for tap0 (addr, mtu 1400, hwaddr)" "$T_TMP/h.log" '^ipstack: tap0 10\.199\.7\.2/24 mtu 1400 hwaddr ([0-9a-f]{2}:){5}[0-9a-f]{2}$'
t_expect_grep "start line for tap1 (two addresses)" "$T_TMP/h.log" '^ipstack: tap1 10\.199\.8\.2/24,10\.199\.8\.3/24 mtu 1500 hwaddr '
t_expect_grep "start line for tun0 (no hwaddr)" "$T_TMP/h.log" '^ipstack: tun0 10\.199\.9\.2/24 mtu 1500$'
t_expect_grep "ready file has the pid" "$R" '^pid [0-9]+$'
for a in 10.199.7.2 10.199.8.2 10.199.8.3 10.199.9.2; do
	t_run "$T_TMP/p.log" 10 "$H" ping -c 1 -W 2 $a
	t_expect_grep "ping $a" "$T_TMP/p.log" '1 received'
	t_expect_grep "ping $a: ttl 33 (--sysctl ip_default_ttl)" "$T_TMP/p.log" 'ttl=33 '
done
t_run "$T_TMP/big.log" 10 "$H" ping -c 1 -W 2 -s 3000 10.199.7.2
t_expect_grep "tap0 --mtu 1400: ping -s 3000 answered" "$T_TMP/big.log" '1 received'
t_ips_counters h "$T_TMP/c1"
t_expect_ge "SIGUSR1 dump: IcmpInEchos" "$(t_counter "$T_TMP/c1" IcmpInEchos)" 4
pid=$(t_ips_pid h)
start=$(date +%s%N)
kill -INT "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if kill -0 "$pid" 2>/dev/null; then t_fail "SIGINT: still running after ${ms} ms"
else t_ok "SIGINT: exited in ${ms} ms"; fi
wait "${IPS_PID[h]}"; rc=$?
t_expect_eq "SIGINT: exit status" "$rc" 0
t_expect_ge "exit dump: IcmpInEchos" "$(t_counter "$T_TMP/h.stats" IcmpInEchos)" 4
big=$(tshark -r "$T_TMP/tap0.pcap" -Y "ip.src == 10.199.7.2" -T fields -e frame.len 2>/dev/null | sort -n | tail -1)
t_expect_eq "tap0 --mtu 1400: largest frame ipstack sent = 14 + 20 + 1376 (fragment data in 8s)" "$big" 1410
t_pcap_check "$T_TMP/tap0.pcap"
t_pcap_check "$T_TMP/tap1.pcap"

# --impair applies in both directions: 40 ms each way is at least 80 ms of round trip;
# and loss=100 answers nothing.
t_ips_start imp "$H" --tap tap0 --addr 10.199.7.2/24 --impair delay=40 \
	--tap tap1 --addr 10.199.8.2/24 --impair loss=100 || t_finish
t_run "$T_TMP/delay.log" 15 "$H" ping -c 3 -i 0.2 -W 3 10.199.7.2
rtt_min=$(sed -nE 's|^rtt min/avg/max/mdev = ([0-9]+)\..*|\1|p' "$T_TMP/delay.log")
t_expect_eq "--impair delay=40: replies" "$(grep -c 'bytes from' "$T_TMP/delay.log")" 3
t_expect_ge "--impair delay=40: min rtt (ms)" "${rtt_min:-0}" 80
t_run "$T_TMP/loss.log" 15 "$H" ping -c 3 -i 0.2 -W 1 10.199.8.2
t_expect_grep "--impair loss=100: nothing answered" "$T_TMP/loss.log" '^3 packets transmitted, 0 received'
t_ips_stop imp
t_finish
