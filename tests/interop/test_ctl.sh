#!/usr/bin/env bash
# `ipstack ctl` against a running `ipstack host --ctl PATH` on a TAP device, with the
# kernel on the other side: addresses added/removed are pinged (or not) by the kernel,
# a new net.ipv4.ip_default_ttl shows in a kernel-side capture, `stat` counts the
# kernel's pings, routes/links/neighbours change and show as `ip` would show them,
# sysctl errors are procps's, --json parses, `ss` lists a connection the kernel opened
# (once ipstack has TCP), and the socket goes away with the host.
. "$(dirname "$0")/lib.sh"
t_require ping tshark

H=ips-$$-h
IPS=10.199.6.2
KERN=10.199.6.1
CTL=$T_TMP/ctl.sock
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add $KERN/24 dev tap0
ip -n "$H" link set tap0 up
KMAC=$(ip -n "$H" -br link show tap0 | awk '{print $3}')

# The host serves echo and discard (tools/serve.c), so that ss has sockets to list.
t_ips_start h "$H" --tap tap0 --addr $IPS/24 --ctl "$CTL" --serve echo --serve discard || t_finish
t_check "the control socket exists once the host is ready" [ -S "$CTL" ]

# ctl ARGS...: run `ipstack ctl $CTL ARGS`, stdout to $T_TMP/out, stderr to $T_TMP/err.
ctl() { "$IPSTACK" ctl "$CTL" "$@" >"$T_TMP/out" 2>"$T_TMP/err"; }
# ctl_ok DESC ARGS...: exit 0 and nothing on stderr.
ctl_ok() {
	local desc=$1; shift
	if ctl "$@" && [ ! -s "$T_TMP/err" ]; then t_ok "$desc"
	else t_fail "$desc: ctl $* -> exit $?:"; sed 's/^/       | /' "$T_TMP/err" "$T_TMP/out" | head -10; fi
}
# ctl_err DESC WANT_RC ERE ARGS...: that exit status and exactly one stderr line matching ERE.
ctl_err() {
	local desc=$1 want=$2 re=$3; shift 3
	ctl "$@"
	local rc=$?
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$T_TMP/err")" = 1 ] && grep -qE -- "$re" "$T_TMP/err"; then
		t_ok "$desc: exit $rc: $(cat "$T_TMP/err")"
	else
		t_fail "$desc: exit $rc (want $want), stderr:"; sed 's/^/       | /' "$T_TMP/err"
	fi
}
json_ok() {	# json_ok DESC PYTHON-EXPR (d = the JSON on $T_TMP/out)
	if "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$T_TMP/out" "$2" 2>"$T_TMP/py.err"; then t_ok "$1"
	else t_fail "$1: $2"; sed 's/^/       | /' "$T_TMP/out" "$T_TMP/py.err" | head -8; fi
}
kping() { ip netns exec "$H" ping -c "$1" -i 0.2 -W 2 "$2" >"$T_TMP/ping.log" 2>&1; }

# 1. addr: what the host was given, shaped like `ip -4 addr`.
ctl_ok "ctl addr" addr
t_expect_grep "addr: tap0 header like ip -4 addr" "$T_TMP/out" '^2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 .*state UP'
t_expect_grep "addr: inet line" "$T_TMP/out" "^    inet $IPS/24 scope global tap0$"
t_expect_grep "addr: lo" "$T_TMP/out" '^    inet 127\.0\.0\.1/8 scope host lo$'
ctl_ok "ctl --json addr" --json addr
json_ok "addr --json: tap0 has $IPS/24" \
	"[a['local'] for i in d if i['ifname'] == 'tap0' for a in i['addr_info']] == ['$IPS'] and [i for i in d if i['ifname'] == 'tap0'][0]['addr_info'][0]['prefixlen'] == 24"

# 2. addr add: the kernel can ping the new address; addr del: it cannot any more.
kping 1 $IPS
ctl_ok "ctl addr add 10.199.6.3/24 dev tap0" addr add 10.199.6.3/24 dev tap0
ctl_ok "ctl addr" addr
t_expect_grep "addr: the new address is secondary" "$T_TMP/out" '^    inet 10\.199\.6\.3/24 scope global secondary tap0$'
ctl_ok "ctl route show table local" route show table local
t_expect_grep "route: local route for the new address" "$T_TMP/out" '^local 10\.199\.6\.3 dev tap0 table local proto kernel scope host src 10\.199\.6\.2$'
if kping 3 10.199.6.3 && grep -q '^3 packets transmitted, 3 received' "$T_TMP/ping.log"; then
	t_ok "kernel pings the address added by ctl: 3/3"
else
	t_fail "kernel pings 10.199.6.3:"; sed 's/^/       | /' "$T_TMP/ping.log" | tail -4
fi
ctl_err "addr add twice" 1 'File exists' addr add 10.199.6.3/24 dev tap0
ctl_ok "ctl addr del 10.199.6.3/24" addr del 10.199.6.3/24 dev tap0
if kping 2 10.199.6.3; then t_fail "kernel still gets replies from a deleted address"
else t_ok "deleted address no longer answers"; fi
ctl_err "addr del of an absent address" 1 'Cannot assign requested address' addr del 10.199.6.3/24 dev tap0
ctl_err "addr add on a missing device" 1 '^Cannot find device "tap9"$' addr add 10.199.6.9/24 dev tap9
ctl_err "addr add with a bad address" 2 'invalid address' addr add 10.199.6.300/24 dev tap0
ctl_err "addr add without dev" 2 '^usage: addr add' addr add 10.199.6.9/24

# 3. stat counts the kernel's pings (IcmpInEchos / IcmpOutEchoReps, like nstat -az).
ctl_ok "ctl stat" stat
t_expect_grep "stat: nstat's header" "$T_TMP/out" '^#kernel$'
t_expect_grep "stat: nstat's columns" "$T_TMP/out" '^IpInReceives {2,}[0-9]+ {2,}0\.0$'
before=$(awk '$1 == "IcmpInEchos" {print $2}' "$T_TMP/out")
kping 4 $IPS
ctl_ok "ctl stat 'Icmp*'" stat 'Icmp*'
after=$(awk '$1 == "IcmpInEchos" {print $2}' "$T_TMP/out")
t_expect_eq "stat: IcmpInEchos counts the kernel's 4 pings" "$((after - before))" 4
t_expect_nogrep "stat PATTERN: only the matching counters" "$T_TMP/out" '^(Ip|Udp|Tcp)'
ctl_ok "ctl --json stat" --json stat
json_ok "stat --json: nstat's {\"kernel\": {...}}, IcmpOutEchoReps == IcmpInEchos" \
	"d['kernel']['IcmpInEchos'] == $after and d['kernel']['IcmpOutEchoReps'] == $after and d['kernel']['IpInReceives'] >= $after"

# 4. sysctl: read, write live, the kernel sees the new TTL; errors as procps prints them.
ctl_ok "ctl sysctl net.ipv4.ip_default_ttl" sysctl net.ipv4.ip_default_ttl
t_expect_eq "sysctl reads like procps" "$(cat "$T_TMP/out")" "net.ipv4.ip_default_ttl = 64"
ctl_ok "ctl sysctl -w net.ipv4.ip_default_ttl=33" sysctl -w net.ipv4.ip_default_ttl=33
t_expect_eq "sysctl -w echoes like procps" "$(cat "$T_TMP/out")" "net.ipv4.ip_default_ttl = 33"
ctl_ok "ctl sysctl -n net/ipv4/ip_default_ttl" sysctl -n net/ipv4/ip_default_ttl
t_expect_eq "sysctl -n with a slashed name" "$(cat "$T_TMP/out")" "33"
# The TTL of ipstack's own packets: a kernel-side capture of its echo replies.
ip netns exec "$H" timeout 15 tshark -i tap0 -f "icmp and src host $IPS" -c 2 -a duration:10 \
	-w "$T_TMP/ttl.pcap" >"$T_TMP/tshark.log" 2>&1 &
TSHARK=$!
T_PIDS+=("$TSHARK")
for _ in $(seq 100); do grep -q "Capturing on" "$T_TMP/tshark.log" && break; sleep 0.05; done
kping 2 $IPS
wait "$TSHARK"
ttls=$(tshark -r "$T_TMP/ttl.pcap" -Y "icmp.type == 0 && ip.src == $IPS" -T fields -e ip.ttl 2>/dev/null | sort -u | tr '\n' ' ')
t_expect_eq "kernel-side capture: ipstack's echo replies now leave with TTL 33" "$ttls" "33 "
grep -q 'ttl=33' "$T_TMP/ping.log" && t_ok "ping(8) reports ttl=33" || t_fail "ping(8) does not report ttl=33"
ctl_err "sysctl -w out of range" 1 '^sysctl: setting key "net.ipv4.ip_default_ttl": Invalid argument$' \
	sysctl -w net.ipv4.ip_default_ttl=0
ctl_ok "ctl sysctl net.ipv4.ip_default_ttl (unchanged by the bad write)" sysctl -n net.ipv4.ip_default_ttl
t_expect_eq "a refused write changes nothing" "$(cat "$T_TMP/out")" "33"
ctl_err "sysctl of an unknown key" 1 '^sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory$' \
	sysctl net.ipv4.nope
ctl_err "sysctl -w of an unknown key" 1 '^sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory$' \
	sysctl -w net.ipv4.nope=1
ctl_err "sysctl -w without =" 2 'must be of the form name=value' sysctl -w net.ipv4.ip_default_ttl
ctl_ok "ctl sysctl -w net.ipv4.ip_default_ttl=64" sysctl -qw net.ipv4.ip_default_ttl=64
ctl_ok "ctl sysctl -a" sysctl -a
t_expect_grep "sysctl -a lists per-device entries" "$T_TMP/out" '^net\.ipv4\.conf\.tap0\.forwarding = 0$'
t_expect_grep "sysctl -a: vectors tab-separated" "$T_TMP/out" $'^net\\.ipv4\\.ip_local_port_range = 32768\t60999$'
n=$(wc -l <"$T_TMP/out")
t_expect_ge "sysctl -a: every net.ipv4 entry" "$n" 200
ctl_ok "ctl --json sysctl net.ipv4.ip_forward" --json sysctl net.ipv4.ip_forward net.ipv4.ip_default_ttl
json_ok "sysctl --json" "d == {'net.ipv4.ip_forward': '0', 'net.ipv4.ip_default_ttl': '64'}"

# 5. route: add, show like `ip route`, delete, errors.
ctl_ok "ctl route add 10.77.0.0/16 via $KERN" route add 10.77.0.0/16 via $KERN
ctl_ok "ctl route add blackhole 10.78.0.0/16" route add blackhole 10.78.0.0/16
ctl_ok "ctl route add default via $KERN metric 100" route add default via $KERN metric 100
ctl_ok "ctl route" route
t_expect_eq "route: like ip route, in Linux's order" "$(cat "$T_TMP/out")" \
"default via $KERN dev tap0 metric 100
10.77.0.0/16 via $KERN dev tap0
blackhole 10.78.0.0/16
10.199.6.0/24 dev tap0 proto kernel scope link src $IPS"
ctl_err "route add twice" 1 'File exists' route add 10.77.0.0/16 via $KERN
ctl_ok "ctl route del 10.77.0.0/16" route del 10.77.0.0/16
ctl_err "route del again" 1 'No such process' route del 10.77.0.0/16
ctl_err "route add via an unreachable gateway" 1 '' route add 10.79.0.0/16 via 192.0.2.1
ctl_ok "ctl --json route" --json route
json_ok "route --json" "[r['dst'] for r in d] == ['default', '10.78.0.0/16', '10.199.6.0/24'] and d[0]['gateway'] == '$KERN' and d[0]['metric'] == 100 and d[1]['type'] == 'blackhole'"

# 6. neigh: the kernel's MAC, learnt from its pings.
ctl_ok "ctl neigh" neigh
t_expect_grep "neigh: the kernel side of tap0, like ip neigh" "$T_TMP/out" \
	"^$KERN dev tap0 lladdr $KMAC (REACHABLE|STALE|DELAY|PROBE)$"
ctl_ok "ctl --json neigh" --json neigh
json_ok "neigh --json" "[n['lladdr'] for n in d if n['dst'] == '$KERN'] == ['$KMAC']"

# 7. link: show, set mtu, down/up, errors.
ctl_ok "ctl link" link
t_expect_grep "link: like ip link" "$T_TMP/out" '^2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT'
t_expect_grep "link: link/ether line" "$T_TMP/out" "^    link/ether $(t_ips_hwaddr h tap0) brd ff:ff:ff:ff:ff:ff$"
t_expect_grep "link: lo" "$T_TMP/out" '^    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00$'
ctl_ok "ctl link set tap0 mtu 1400" link set tap0 mtu 1400
ctl_ok "ctl link show tap0" link show tap0
t_expect_grep "link: mtu 1400" "$T_TMP/out" '^2: tap0: .* mtu 1400 '
ctl_ok "ctl link set tap0 down" link set tap0 down
ctl_ok "ctl link show tap0" link show tap0
t_expect_grep "link: down" "$T_TMP/out" '^2: tap0: <BROADCAST,MULTICAST> mtu 1400 .*state DOWN'
if kping 1 $IPS; then t_fail "a device set down by ctl still answers"; else t_ok "device down: no answer"; fi
ctl_ok "ctl link set tap0 up mtu 1500" link set tap0 up mtu 1500
ctl_ok "ctl route (device back up)" route
t_expect_grep "up again: the address route is back" "$T_TMP/out" "^10\.199\.6\.0/24 dev tap0 proto kernel scope link src $IPS$"
if kping 2 $IPS; then t_ok "device up again: the kernel's pings are answered"; else t_fail "no answer after link set up"; fi
ctl_err "link set on a missing device" 1 '^Cannot find device "tap9"$' link set tap9 up
ctl_err "link set mtu below 68" 1 'Invalid argument' link set tap0 mtu 20
ctl_ok "ctl -j link -s" -j link -s
json_ok "link --json -s: counters" "[l['stats64']['rx']['packets'] > 0 for l in d if l['ifname'] == 'tap0'] == [True]"

# 8. ss: the host's echo/discard sockets, and a connection the kernel opens (TCP).
ctl_ok "ctl ss -a" ss -a
t_expect_grep "ss: header like ss (several protocols: a Netid column)" "$T_TMP/out" '^Netid +State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port +Process$'
ctl_ok "ctl ss -u -l -n" ss -u -l -n
t_expect_grep "ss -ul: one protocol, no Netid column" "$T_TMP/out" '^State +Recv-Q Send-Q'
t_expect_grep "ss -uln: the echo socket" "$T_TMP/out" '^UNCONN +0 +0 +0\.0\.0\.0:7 +0\.0\.0\.0:\* *$'
t_expect_grep "ss -uln: the discard socket" "$T_TMP/out" '^UNCONN +0 +0 +0\.0\.0\.0:9 +0\.0\.0\.0:\* *$'
ctl_ok "ctl ss -u" ss -u
t_expect_nogrep "ss -u (no -l/-a): unconnected sockets are not shown, as in ss" "$T_TMP/out" 'UNCONN'
if getent services 7/udp >/dev/null; then
	ctl_ok "ctl ss -ul" ss -ul
	t_expect_grep "ss -ul: service names without -n" "$T_TMP/out" '0\.0\.0\.0:echo '
fi
ctl_ok "ctl --json ss -u -a -n" --json ss -u -a -n
json_ok "ss --json: echo and discard" "sorted(x['local']['port'] for x in d if x['netid'] == 'udp') == [7, 9] and all(x['peer']['port'] is None for x in d)"
ctl_ok "ctl stat Udp*" stat 'Udp*'
udp_before=$(awk '$1 == "UdpInDatagrams" {print $2}' "$T_TMP/out")
for i in 1 2 3; do
	echo "hello $i" | ip netns exec "$H" timeout 3 socat -T1 - UDP4:$IPS:9 2>/dev/null
done
ctl_ok "ctl stat Udp*" stat 'Udp*'
udp_after=$(awk '$1 == "UdpInDatagrams" {print $2}' "$T_TMP/out")
t_expect_eq "stat: UdpInDatagrams counts the kernel's 3 datagrams to discard" "$((udp_after - udp_before))" 3
ctl_err "ss filter (not supported)" 2 'filters are not supported' ss dst 10.0.0.1
ctl_ok "ctl ss -t -l -n" ss -t -l -n
if grep -q LISTEN "$T_TMP/out"; then
	port=$(awk '/LISTEN/ {n = split($4, a, ":"); print a[n]; exit}' "$T_TMP/out")
	# A connection the kernel opens and holds while ss looks.
	ip netns exec "$H" timeout 10 socat -T5 EXEC:"sleep 4" TCP4:$IPS:"$port" >/dev/null 2>&1 &
	T_PIDS+=("$!")
	sleep 1
	ctl_ok "ctl ss -t -n" ss -t -n
	t_expect_grep "ss -tn lists the connection the kernel opened to port $port" "$T_TMP/out" \
		"^ESTAB +[0-9]+ +[0-9]+ +$IPS:$port +$KERN:[0-9]+ *\$"
	ctl_ok "ctl ss -t -n -i" ss -t -n -i
	t_expect_grep "ss -tni: TCP_INFO line" "$T_TMP/out" $'^\t .*rto:.* mss:[0-9]+ .*cwnd:[0-9]+'
else
	t_skip "ss lists a connection the kernel opened: the host has no TCP listener yet (needs TCP sockets and a TCP service in ipstack host)"
fi

# 9. Usage and transport errors.
ctl_err "unknown command" 2 "unknown command 'frob'" frob
"$IPSTACK" ctl "$T_TMP/nope.sock" addr >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <"$T_TMP/err")" = 1 ] && grep -q '^ipstack ctl: cannot connect' "$T_TMP/err"; then
	t_ok "no host at PATH: exit 1: $(cat "$T_TMP/err")"
else t_fail "no host at PATH: exit $rc: $(cat "$T_TMP/err")"; fi
"$IPSTACK" ctl >"$T_TMP/out" 2>"$T_TMP/err"
t_expect_eq "ctl without PATH: exit 2" "$?" 2
ctl_ok "ctl help" help
t_expect_grep "help lists sysctl -w" "$T_TMP/out" 'sysctl -w NAME=VALUE'

# 10. The host still works, exits 0 and removes its socket.
if kping 1 $IPS; then t_ok "host still answers after all that"; else t_fail "host stopped answering"; fi
t_ips_stop h
t_check "the control socket is gone after the host exits" [ ! -e "$CTL" ]

t_finish
