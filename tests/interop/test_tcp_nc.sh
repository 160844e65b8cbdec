#!/usr/bin/env bash
# 100 MB each way between the kernel and ipstack, SHA-256-verified:
#   kernel nc -> ipstack echo (port 7) and back: both directions on one connection;
#   kernel nc -> ipstack discard (port 9);
#   ipstack's own client (ips_tcp.c, the ips_* socket calls) -> a kernel `nc -l`, and
#   a kernel `nc -l` -> the ipstack client.
# Throughput is reported (not checked: it depends on the machine).
. "$(dirname "$0")/lib.sh"
t_require nc sha256sum

H=ips-$$-h
IPS=10.199.61.2
CLI=10.199.62.2
IPS_TCP=$IPS_ROOT/build/interop/ips_tcp
[ -x "$IPS_TCP" ] || { t_fail "$IPS_TCP is missing: run make interop"; t_finish; }
t_ns_new "$H"
for i in 0 1; do
	ip -n "$H" tuntap add dev tap$i mode tap
	ip -n "$H" link set tap$i up
done
ip -n "$H" addr add 10.199.61.1/24 dev tap0
ip -n "$H" addr add 10.199.62.1/24 dev tap1

DATA=$T_TMP/data.bin
head -c 100000000 /dev/urandom >"$DATA"
WANT=$(sha256sum <"$DATA" | cut -d' ' -f1)
sha() { sha256sum <"$1" | cut -d' ' -f1; }
mbit() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f Mbit/s", (s > 0 ? b * 8 / 1e6 / s : 0)}'; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}'; }
now() { date +%s.%N; }

t_ips_start h "$H" --tap tap0 --addr $IPS/24 --serve echo --serve discard || t_finish

# Echo: the kernel sends 100 MB and reads it back on the same connection.
t0=$(now)
if t_run "$T_TMP/echo.log" 120 "$H" sh -c "nc -N $IPS 7 <'$DATA' >'$T_TMP/echo.out'"; then
	el=$(since "$t0")
	t_expect_eq "nc -> ipstack echo: 100 MB back, SHA-256" "$(sha "$T_TMP/echo.out")" "$WANT"
	t_info "echo: 100 MB each way in $el s ($(mbit 100000000 "$el") each way, at once)"
else
	t_fail "nc -> ipstack echo:"; sed 's/^/       | /' "$T_TMP/echo.log"
fi

# Discard: 100 MB in, counted by ipstack.
t_ips_counters h "$T_TMP/h0.stats"
t0=$(now)
if t_run "$T_TMP/discard.log" 120 "$H" sh -c "nc -N $IPS 9 <'$DATA'"; then
	el=$(since "$t0")
	t_ok "nc -> ipstack discard: 100 MB sent, connection closed cleanly"
	t_info "discard: 100 MB in $el s ($(mbit 100000000 "$el"))"
else
	t_fail "nc -> ipstack discard:"; sed 's/^/       | /' "$T_TMP/discard.log"
fi
t_ips_counters h "$T_TMP/h1.stats"
t_expect_ge "ipstack IpExtInOctets grew by the 100 MB (+ headers)" \
	"$(t_delta "$T_TMP/h0.stats" "$T_TMP/h1.stats" IpExtInOctets)" 100000000
t_ips_stop h

# The ipstack client sends 100 MB to a kernel server.
t_bg NCPID ip netns exec "$H" timeout 120 sh -c "nc -l -N 10.199.62.1 6000 >'$T_TMP/fromips.bin'"
sleep 0.3
if t_run "$T_TMP/send.log" 120 "$H" "$IPS_TCP" --tap tap1 --addr $CLI/24 --dst 10.199.62.1 \
	--port 6000 --send "$DATA" --info "$T_TMP/send.info"; then
	wait "$NCPID"
	read -r _ bytes _ digest _ secs _ rate <"$T_TMP/send.log"
	t_expect_eq "ipstack client -> kernel nc -l: bytes the client sent" "$bytes" 100000000
	got=$(sha "$T_TMP/fromips.bin")
	t_expect_eq "ipstack client -> kernel nc -l: SHA-256 of what the kernel received" \
		"$got" "$WANT"
	[ "$got" = "$WANT" ] || t_info "received $(stat -c %s "$T_TMP/fromips.bin") bytes; $(cmp "$DATA" "$T_TMP/fromips.bin" 2>&1 | head -1)"
	t_info "ipstack -> kernel: 100 MB in $secs s ($rate Mbit/s); $(cat "$T_TMP/send.info")"
else
	t_fail "ipstack client -> kernel nc -l (exit $?):"; sed 's/^/       | /' "$T_TMP/send.log"
fi

# A kernel server sends 100 MB to the ipstack client.
t_bg NCPID ip netns exec "$H" timeout 120 sh -c "nc -l -N 10.199.62.1 6001 <'$DATA'"
sleep 0.3
if t_run "$T_TMP/recv.log" 120 "$H" "$IPS_TCP" --tap tap1 --addr $CLI/24 --dst 10.199.62.1 \
	--port 6001 --recv --info "$T_TMP/recv.info"; then
	read -r _ bytes _ digest _ secs _ rate <"$T_TMP/recv.log"
	t_expect_eq "kernel nc -l -> ipstack client: bytes received" "$bytes" 100000000
	t_expect_eq "kernel nc -l -> ipstack client: SHA-256 of what ipstack received" "$digest" "$WANT"
	t_info "kernel -> ipstack: 100 MB in $secs s ($rate Mbit/s); $(cat "$T_TMP/recv.info")"
else
	t_fail "kernel nc -l -> ipstack client (exit $?):"; sed 's/^/       | /' "$T_TMP/recv.log"
fi
wait "$NCPID" 2>/dev/null
t_finish
