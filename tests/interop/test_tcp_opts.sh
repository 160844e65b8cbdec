#!/usr/bin/env bash
# The options ipstack negotiates, as the kernel sees them: one kernel client connects to
# ipstack (TAP) and to another kernel (veth, same 1500-byte MTU); `ss -tni` and
# TCP_INFO on the kernel side must show the same mss, advmss, pmtu, wscale, timestamps
# and SACK for both connections.
. "$(dirname "$0")/lib.sh"
t_require nc ss "$PY"

H=ips-$$-h
P=ips-$$-p
IPS=10.199.63.2
PEER=10.199.64.2
t_ns_new "$H"
t_ns_new "$P"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add 10.199.63.1/24 dev tap0
ip -n "$H" link set tap0 up
ip -n "$H" link add veth0 type veth peer name veth1 netns "$P"
ip -n "$H" addr add 10.199.64.1/24 dev veth0
ip -n "$P" addr add $PEER/24 dev veth1
ip -n "$H" link set veth0 up
ip -n "$P" link set veth1 up
# Offloads off, so that the kernel peer's segments look like a wire's (ss: pmtu, mss).
ip netns exec "$H" ethtool -K veth0 tso off gso off gro off >/dev/null 2>&1
ip netns exec "$P" ethtool -K veth1 tso off gso off gro off >/dev/null 2>&1

t_ips_start h "$H" --tap tap0 --addr $IPS/24 --serve discard || t_finish
t_bg _ ip netns exec "$P" timeout 60 nc -lk $PEER 9

cat >"$T_TMP/tinfo.py" <<'EOF'
# Connect, then print TCP_INFO's negotiated options; keep the connection 3 s for ss.
import socket, struct, sys, time
for i in range(50):
    try:
        s = socket.create_connection((sys.argv[1], 9), timeout=5)
        break
    except OSError:
        time.sleep(0.1)
b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
opts, ws = b[5], b[6]
snd_mss = struct.unpack('I', b[16:20])[0]
print("ts=%d sack=%d wscale=%d snd_wscale=%d rcv_wscale=%d snd_mss=%d" %
      (opts & 1, (opts >> 1) & 1, (opts >> 2) & 1, ws & 15, ws >> 4, snd_mss), flush=True)
time.sleep(3)
EOF

t_bg P1 ip netns exec "$H" sh -c "'$PY' '$T_TMP/tinfo.py' $IPS >'$T_TMP/to-ips.info'"
t_bg P2 ip netns exec "$H" sh -c "'$PY' '$T_TMP/tinfo.py' $PEER >'$T_TMP/to-kernel.info'"
sleep 1.5
ip netns exec "$H" ss -tni >"$T_TMP/ss.txt"
wait "$P1" "$P2" 2>/dev/null
sed 's/^/     | /' "$T_TMP/ss.txt"

# ss: the info line that follows the connection to each peer.
ssinfo() { awk -v p="$1:9" '$5 == p { getline; print; exit }' "$T_TMP/ss.txt"; }
field() { grep -oE "(^| )$2[:]?[^ ]*" <<<"$1" | head -1 | sed 's/^ //'; }
A=$(ssinfo $IPS)
K=$(ssinfo $PEER)
[ -n "$A" ] && t_ok "ss -tni lists the kernel's connection to ipstack" || t_fail "ss: no connection to $IPS:9"
[ -n "$K" ] && t_ok "ss -tni lists the kernel's connection to the kernel peer" || t_fail "ss: no connection to $PEER:9"
for f in wscale mss advmss pmtu rcvmss ts sack; do
	t_expect_eq "ss -tni: '$f' to ipstack as to a kernel peer" "$(field "$A" $f)" "$(field "$K" $f)"
done
# This ss (iproute2 6.1) prints no "ts"/"sack" for this kernel's TCP_INFO: read them
# from the kernel socket's TCP_INFO directly.
t_expect_eq "kernel TCP_INFO: options to ipstack as to a kernel peer" \
	"$(cat "$T_TMP/to-ips.info")" "$(cat "$T_TMP/to-kernel.info")"
t_expect_eq "kernel TCP_INFO to ipstack: timestamps, SACK, window scaling 10/10, mss 1448" \
	"$(cat "$T_TMP/to-ips.info")" "ts=1 sack=1 wscale=1 snd_wscale=10 rcv_wscale=10 snd_mss=1448"
t_expect_eq "ss -tni: wscale to ipstack" "$(field "$A" wscale)" "wscale:10,10"
t_expect_eq "ss -tni: mss to ipstack" "$(field "$A" mss)" "mss:1448"
t_finish
