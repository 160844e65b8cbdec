#!/usr/bin/env bash
# The kernel's curl against `ipstack host --serve http=DIR` over a TAP device: a 50 MB
# file fetched and SHA-256-verified, HEAD (headers, Content-Length, no body), 404, two
# URLs in one curl call on one kept-alive connection, HTTP/1.0 closing; a SYN to a closed
# port answered with a RST (curl: connection refused; TcpOutRsts counted).
. "$(dirname "$0")/lib.sh"
t_require curl tshark sha256sum

H=ips-$$-h
IPS=10.199.60.2
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" addr add 10.199.60.1/24 dev tap0
ip -n "$H" link set tap0 up

WWW=$T_TMP/www
mkdir -p "$WWW/sub"
head -c 50000000 /dev/urandom >"$WWW/big.bin"
printf 'hello from ipstack\n' >"$WWW/index.html"
printf 'second\n' >"$WWW/sub/two.txt"

# The bulk transfer on an instance without a capture (tshark would spend minutes on it).
t_ips_start big "$H" --tap tap0 --addr $IPS/24 --serve "http=$WWW" || t_finish

# 50 MB, SHA-256 verified.
if t_run "$T_TMP/curl-big.log" 120 "$H" curl -sS -o "$T_TMP/big.out" \
	-w '%{http_code} %{size_download} %{speed_download}\n' "http://$IPS/big.bin"; then
	read -r code size speed <"$T_TMP/curl-big.log"
	t_expect_eq "curl GET /big.bin: status" "$code" 200
	t_expect_eq "curl GET /big.bin: bytes" "$size" 50000000
	want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
	got=$(sha256sum <"$T_TMP/big.out" | cut -d' ' -f1)
	t_expect_eq "curl GET /big.bin: SHA-256 of the 50 MB" "$got" "$want"
	t_info "50 MB in $(awk -v s="$speed" 'BEGIN {printf "%.1f Mbit/s", s * 8 / 1e6}')"
else
	t_fail "curl GET /big.bin:"; sed 's/^/       | /' "$T_TMP/curl-big.log"
fi
t_ips_stop big
t_expect_eq "ipstack TcpCurrEstab at exit" "$(t_counter "$T_TMP/big.stats" TcpCurrEstab)" 0

# Everything else on a captured instance.
t_ips_start h "$H" --tap tap0 --addr $IPS/24 --pcap "$T_TMP/h-tap0.pcap" \
	--serve "http=$WWW" || t_finish

# HEAD: the headers of a GET, Content-Length, and no body.
t_run "$T_TMP/head.log" 20 "$H" curl -sS -I "http://$IPS/big.bin"
t_expect_grep "HEAD /big.bin: 200" "$T_TMP/head.log" '^HTTP/1.1 200 OK'
t_expect_grep "HEAD /big.bin: Content-Length 50000000" "$T_TMP/head.log" '^Content-Length: 50000000'
printf 'HEAD /index.html HTTP/1.0\r\n\r\n' >"$T_TMP/head.req"
t_run "$T_TMP/head-raw.log" 20 "$H" sh -c "nc -N -w 5 $IPS 80 <'$T_TMP/head.req'"
t_expect_grep "HEAD /index.html (raw HTTP/1.0): Content-Length of the body" "$T_TMP/head-raw.log" \
	'^Content-Length: 19'
t_expect_eq "HEAD /index.html: the response ends with the headers (no body)" \
	"$(tail -c 4 "$T_TMP/head-raw.log" | od -An -c | tr -d ' ')" '\r\n\r\n'

# 404 for a missing file and for a path that climbs out of DIR.
t_run "$T_TMP/404.log" 20 "$H" curl -sS -o /dev/null -w '%{http_code}\n' "http://$IPS/missing.txt"
t_expect_eq "GET /missing.txt: 404" "$(cat "$T_TMP/404.log")" 404
t_run "$T_TMP/404b.log" 20 "$H" curl -sS --path-as-is -o /dev/null -w '%{http_code}\n' \
	"http://$IPS/sub/../../etc/passwd"
t_expect_eq "GET /sub/../../etc/passwd: 404 (stays under DIR)" "$(cat "$T_TMP/404b.log")" 404

# Keep-alive: two URLs in one curl call share one connection.
t_ips_counters h "$T_TMP/h1.stats"
t_run "$T_TMP/ka.log" 20 "$H" curl -sv "http://$IPS/" "http://$IPS/sub/two.txt"
t_expect_grep "keep-alive: the first body" "$T_TMP/ka.log" '^hello from ipstack$'
t_expect_grep "keep-alive: the second body" "$T_TMP/ka.log" '^second$'
t_expect_grep "keep-alive: curl re-used the connection" "$T_TMP/ka.log" 'Re-using existing connection'
t_ips_counters h "$T_TMP/h2.stats"
t_expect_eq "keep-alive: one passive open for both requests" \
	"$(t_delta "$T_TMP/h1.stats" "$T_TMP/h2.stats" TcpPassiveOpens)" 1

# HTTP/1.0 without keep-alive: the server closes after the response.
t_run "$T_TMP/h10.log" 20 "$H" curl -sv -0 "http://$IPS/"
t_expect_grep "HTTP/1.0 request: Connection: close" "$T_TMP/h10.log" '^< Connection: close'
t_expect_grep "HTTP/1.0 request: the body" "$T_TMP/h10.log" '^hello from ipstack$'

# A SYN to a closed port: RST, curl says refused.
t_ips_counters h "$T_TMP/h3.stats"
t_run "$T_TMP/refused.log" 20 "$H" curl -sS "http://$IPS:81/"
t_expect_grep "curl to port 81 (nothing listens): connection refused" "$T_TMP/refused.log" \
	'Connection refused|Couldn.t connect'
t_ips_counters h "$T_TMP/h4.stats"
t_expect_eq "ipstack TcpOutRsts: one RST for the SYN" \
	"$(t_delta "$T_TMP/h3.stats" "$T_TMP/h4.stats" TcpOutRsts)" 1

t_ips_stop h
t_expect_eq "capture: RST|ACK from port 81" \
	"$(tshark -r "$T_TMP/h-tap0.pcap" -Y "ip.src == $IPS && tcp.srcport == 81 && tcp.flags.reset == 1" 2>/dev/null | wc -l)" 1
t_expect_eq "capture: ipstack's SYN-ACKs carry <mss 1460,sackOK,TS,nop,wscale 10>" \
	"$(tshark -r "$T_TMP/h-tap0.pcap" -Y "ip.src == $IPS && tcp.flags.syn == 1 && tcp.flags.ack == 1 && !(tcp.options.mss_val == 1460 && tcp.options.sack_perm && tcp.options.timestamp.tsval && tcp.options.wscale.shift == 10)" 2>/dev/null | wc -l)" 0
t_pcap_check "$T_TMP/h-tap0.pcap"
t_finish
