#!/usr/bin/env bash
# TCP between the kernel and ipstack stays byte-exact when ipstack's TAP device loses,
# reorders, duplicates and delays frames (--impair loss=2,reorder=1,dup=1,delay=5, both
# directions): curl GET from --serve http, nc through --serve echo, and ipstack's own
# client (ips_tcp.c, impaired too) sending to and receiving from a kernel nc -l. Every
# transfer is SHA-256-verified; ipstack must have retransmitted (the impairment was on).
. "$(dirname "$0")/lib.sh"
t_require curl nc sha256sum

H=ips-$$-h
IPS=10.199.65.2
CLI=10.199.66.2
IMP=loss=2,reorder=1,dup=1,delay=5
SIZE=${TCP_IMPAIR_BYTES:-4000000}
IPS_TCP=$IPS_ROOT/build/interop/ips_tcp
[ -x "$IPS_TCP" ] || { t_fail "$IPS_TCP is missing: run make interop"; t_finish; }
t_ns_new "$H"
for i in 0 1; do
	ip -n "$H" tuntap add dev tap$i mode tap
	ip -n "$H" link set tap$i up
done
ip -n "$H" addr add 10.199.65.1/24 dev tap0
ip -n "$H" addr add 10.199.66.1/24 dev tap1

WWW=$T_TMP/www
mkdir -p "$WWW"
head -c "$SIZE" /dev/urandom >"$WWW/data.bin"
DATA=$WWW/data.bin
WANT=$(sha256sum <"$DATA" | cut -d' ' -f1)
sha() { sha256sum <"$1" | cut -d' ' -f1; }

t_ips_start h "$H" --tap tap0 --addr $IPS/24 --impair $IMP --serve "http=$WWW" --serve echo ||
	t_finish

if t_run "$T_TMP/curl.log" 200 "$H" curl -sS -o "$T_TMP/curl.out" \
	-w '%{http_code} %{speed_download}\n' "http://$IPS/data.bin"; then
	t_expect_eq "impaired: curl GET of $SIZE bytes, SHA-256" "$(sha "$T_TMP/curl.out")" "$WANT"
	t_info "curl: $(awk '{printf "%.1f Mbit/s", $2 * 8 / 1e6}' "$T_TMP/curl.log")"
else
	t_fail "impaired: curl GET:"; sed 's/^/       | /' "$T_TMP/curl.log"
fi
if t_run "$T_TMP/echo.log" 200 "$H" sh -c "nc -N $IPS 7 <'$DATA' >'$T_TMP/echo.out'"; then
	t_expect_eq "impaired: nc through echo, $SIZE bytes each way, SHA-256" \
		"$(sha "$T_TMP/echo.out")" "$WANT"
else
	t_fail "impaired: nc through echo:"; sed 's/^/       | /' "$T_TMP/echo.log"
fi
t_ips_stop h
t_expect_ge "ipstack host retransmitted (TcpRetransSegs)" "$(t_counter "$T_TMP/h.stats" TcpRetransSegs)" 1

t_bg NCPID ip netns exec "$H" timeout 200 sh -c "nc -l -N 10.199.66.1 6000 >'$T_TMP/fromips.bin'"
if t_run "$T_TMP/send.log" 200 "$H" "$IPS_TCP" --tap tap1 --addr $CLI/24 --impair $IMP \
	--dst 10.199.66.1 --port 6000 --send "$DATA" --stats "$T_TMP/send.stats"; then
	wait "$NCPID"
	t_expect_eq "impaired: ipstack client -> kernel nc -l, SHA-256 of what the kernel got" \
		"$(sha "$T_TMP/fromips.bin")" "$WANT"
	t_expect_ge "ipstack client retransmitted (TcpRetransSegs)" \
		"$(t_counter "$T_TMP/send.stats" TcpRetransSegs)" 1
	t_info "ipstack -> kernel: $(cut -d' ' -f5- "$T_TMP/send.log")"
else
	t_fail "impaired: ipstack client -> kernel:"; sed 's/^/       | /' "$T_TMP/send.log"
fi

t_bg NCPID ip netns exec "$H" timeout 200 sh -c "nc -l -N 10.199.66.1 6001 <'$DATA'"
if t_run "$T_TMP/recv.log" 200 "$H" "$IPS_TCP" --tap tap1 --addr $CLI/24 --impair $IMP \
	--dst 10.199.66.1 --port 6001 --recv; then
	read -r _ bytes _ digest _ <"$T_TMP/recv.log"
	t_expect_eq "impaired: kernel nc -l -> ipstack client, SHA-256 of what ipstack got" \
		"$digest" "$WANT"
	t_info "kernel -> ipstack: $(cut -d' ' -f5- "$T_TMP/recv.log")"
else
	t_fail "impaired: kernel -> ipstack client:"; sed 's/^/       | /' "$T_TMP/recv.log"
fi
wait "$NCPID" 2>/dev/null
t_finish
