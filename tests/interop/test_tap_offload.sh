#!/usr/bin/env bash
# TAP offloads (IFF_VNET_HDR, docs/link.md) against the kernel, with offloads on (the
# default) and off (`ipstack host --no-offload`): the kernel's nc sends 4 MB to ipstack's
# echo service and reads it back on the same connection, so ipstack both receives a large
# transfer from a kernel socket (which, with offloads on, hands ipstack its TSO
# super-packets) and sends one to it. Each way:
#   - the bytes come back exact (SHA-256), no checksum error on either side;
#   - a capture on the kernel's tap (tshark, in the namespace) decodes with no malformed
#     packet and shows what the kernel's side sees: super-packets (frames over 1514
#     bytes, TCP segments over the MSS) in both directions with offloads on, none off;
#   - the device counters say the same: with offloads on, both ipstack's tap0 and the
#     kernel's carried fewer packets than 4 MB needs at one MSS each (super-packets),
#     and ipstack's TCP counted more segments than its device sent packets; with
#     offloads off, at least that many;
#   - ipstack's own capture (--pcap) shows wire frames with complete, valid checksums,
#     whichever way offloads are (the capture cuts super-packets and fills checksums).
# Then the same with offloads on over a TUN (no link header: the checksum offsets count
# from the IPv4 header).
. "$(dirname "$0")/lib.sh"
t_require nc sha256sum tshark

H=ips-$$-o
IPS=10.199.71.2
KER=10.199.71.1
SIZE=4000000
MSS=1448
# Packets needed to carry SIZE bytes when none is larger than one MSS of payload.
MINPKTS=$((SIZE / MSS))
t_ns_new "$H"
ip -n "$H" tuntap add dev tap0 mode tap
ip -n "$H" link set tap0 up
ip -n "$H" addr add $KER/24 dev tap0
# The same over a TUN (bare IPv4: csum_start counts from the IPv4 header).
TUN_IPS=10.199.72.2
TUN_KER=10.199.72.1
ip -n "$H" tuntap add dev tun0 mode tun
ip -n "$H" link set tun0 up
ip -n "$H" addr add $TUN_KER/24 dev tun0

DATA=$T_TMP/data.bin
head -c $SIZE /dev/urandom >"$DATA"
WANT=$(sha256sum <"$DATA" | cut -d' ' -f1)
sha() { sha256sum <"$1" | cut -d' ' -f1; }

# json_get FILE EXPR: a value out of a JSON file (EXPR in Python, `d` is the document).
json_get() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# tshark_fields FILE FIELDS...: one line per frame.
tshark_fields() {
	local f=$1; shift
	local args=()
	for x in "$@"; do args+=(-e "$x"); done
	timeout 60 tshark -r "$f" -T fields "${args[@]}" 2>/dev/null
}

# kernel_capture DEV FILE LOG: tshark on the kernel's DEV (exec: SIGINT to this pid
# reaches timeout(1), which passes it on to tshark).
kernel_capture() {
	exec ip netns exec "$H" timeout 120 tshark -i "$1" -B 256 -f "tcp port 7" -w "$2" -q 2>"$3"
}

# run_mode MODE on|off tap|tun [HOST OPTIONS...]
run_mode() {
	local mode=$1 offload=$2 kind=$3; shift 3
	local dev=${kind}0 IPS=$IPS KER=$KER wire=1514
	if [ "$kind" = tun ]; then IPS=$TUN_IPS KER=$TUN_KER wire=1500; fi
	local ctl=$T_TMP/$mode.ctl kcap=$T_TMP/kernel-$mode.pcapng icap=$T_TMP/ips-$mode.pcap
	local tpid i

	echo "-- offloads $mode"
	t_ips_start "$mode" "$H" --$kind $dev --addr $IPS/24 --pcap "$icap" --serve echo \
		--ctl "$ctl" "$@" || return
	t_ips_counters "$mode" "$T_TMP/$mode.c0"
	t_nstat "$H" "$T_TMP/$mode.k0"
	ip -n "$H" -j -s link show $dev >"$T_TMP/$mode.kl0"
	"$IPSTACK" ctl --json "$ctl" link -s show $dev >"$T_TMP/$mode.il0"

	# A 256 MiB buffer: with offloads the frames are up to 64 KB, and the default 2 MiB
	# overflows (tshark then reports "packets dropped").
	t_bg tpid kernel_capture $dev "$kcap" "$T_TMP/$mode.tshark.log"
	# tshark says "Capturing on ..." once it is (on stderr, which goes to its log:
	# poll for the file instead, which dumpcap creates when capturing starts).
	for i in $(seq 100); do [ -s "$kcap" ] && break; sleep 0.1; done
	sleep 0.5

	if t_run "$T_TMP/$mode.nc.log" 120 "$H" sh -c "nc -N $IPS 7 <'$DATA' >'$T_TMP/$mode.out'"; then
		t_expect_eq "$mode: kernel nc -> ipstack echo -> nc: 4 MB back, SHA-256" \
			"$(sha "$T_TMP/$mode.out")" "$WANT"
	else
		t_fail "$mode: nc -> ipstack echo:"; sed 's/^/       | /' "$T_TMP/$mode.nc.log"
	fi
	sleep 0.5
	kill -INT "$tpid" 2>/dev/null
	for i in $(seq 100); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
	wait "$tpid" 2>/dev/null
	t_expect_nogrep "$mode: tshark lost no packet" "$T_TMP/$mode.tshark.log" '[1-9][0-9]* packets? dropped'

	t_ips_counters "$mode" "$T_TMP/$mode.c1"
	t_nstat "$H" "$T_TMP/$mode.k1"
	ip -n "$H" -j -s link show $dev >"$T_TMP/$mode.kl1"
	"$IPSTACK" ctl --json "$ctl" link -s show $dev >"$T_TMP/$mode.il1"
	t_ips_stop "$mode"

	t_expect_eq "$mode: no TCP checksum error in ipstack" \
		"$(t_delta "$T_TMP/$mode.c0" "$T_TMP/$mode.c1" TcpInCsumErrors)" 0
	t_expect_eq "$mode: no TCP checksum error in the kernel" \
		"$(t_delta "$T_TMP/$mode.k0" "$T_TMP/$mode.k1" TcpInCsumErrors)" 0

	# Device counters, over the transfer.
	local itx irx ktx krx segs
	itx=$(( $(json_get "$T_TMP/$mode.il1" 'd[0]["stats64"]["tx"]["packets"]') -
		$(json_get "$T_TMP/$mode.il0" 'd[0]["stats64"]["tx"]["packets"]') ))
	irx=$(( $(json_get "$T_TMP/$mode.il1" 'd[0]["stats64"]["rx"]["packets"]') -
		$(json_get "$T_TMP/$mode.il0" 'd[0]["stats64"]["rx"]["packets"]') ))
	krx=$(( $(json_get "$T_TMP/$mode.kl1" 'd[0]["stats64"]["rx"]["packets"]') -
		$(json_get "$T_TMP/$mode.kl0" 'd[0]["stats64"]["rx"]["packets"]') ))
	ktx=$(( $(json_get "$T_TMP/$mode.kl1" 'd[0]["stats64"]["tx"]["packets"]') -
		$(json_get "$T_TMP/$mode.kl0" 'd[0]["stats64"]["tx"]["packets"]') ))
	segs=$(t_delta "$T_TMP/$mode.c0" "$T_TMP/$mode.c1" TcpOutSegs)
	t_info "$mode: ipstack $dev sent $itx packets for $segs TCP segments, received $irx;" \
		"the kernel's $dev received $krx, sent $ktx ($MINPKTS at one MSS each)"

	# The kernel's capture: decodes, and shows super-packets or not.
	t_pcap_check "$kcap"
	local kbig_in kbig_out kmax_in kbytes_in
	tshark_fields "$kcap" frame.len ip.src tcp.len >"$T_TMP/$mode.kfields"
	kbig_in=$(awk -v s=$IPS -v w=$wire '$2 == s && $1 > w' "$T_TMP/$mode.kfields" | wc -l)
	kbig_out=$(awk -v s=$KER -v w=$wire '$2 == s && $1 > w' "$T_TMP/$mode.kfields" | wc -l)
	kmax_in=$(awk -v s=$IPS '$2 == s && $3 > m {m = $3} END {print m + 0}' "$T_TMP/$mode.kfields")
	kbytes_in=$(awk -v s=$IPS '$2 == s {n += $3} END {print n + 0}' "$T_TMP/$mode.kfields")
	t_expect_ge "$mode: the kernel's capture has every byte ipstack sent" "$kbytes_in" $SIZE

	if [ "$offload" = on ]; then
		t_expect_ge "$mode: kernel capture: super-packets from ipstack (frames > $wire)" "$kbig_in" 1
		t_expect_ge "$mode: kernel capture: a TCP segment from ipstack over the MSS" "$kmax_in" $((MSS + 1))
		t_expect_ge "$mode: kernel capture: super-packets from the kernel to ipstack" "$kbig_out" 1
		t_check "$mode: ipstack $dev sent fewer packets ($itx) than one MSS each needs ($MINPKTS)" \
			test "$itx" -lt $MINPKTS
		t_check "$mode: ipstack's TCP sent more segments ($segs) than its $dev packets ($itx)" \
			test "$segs" -gt "$itx"
		t_check "$mode: the kernel's $dev received fewer packets ($krx) than $MINPKTS" \
			test "$krx" -lt $MINPKTS
		t_check "$mode: ipstack $dev received fewer packets ($irx) than $MINPKTS (the kernel's TSO)" \
			test "$irx" -lt $MINPKTS
	else
		t_expect_eq "$mode: kernel capture: no frame over $wire bytes from ipstack" "$kbig_in" 0
		t_expect_eq "$mode: kernel capture: no frame over $wire bytes from the kernel" "$kbig_out" 0
		t_check "$mode: ipstack $dev sent at least $MINPKTS packets ($itx), one per segment ($segs)" \
			test "$itx" -ge $MINPKTS -a "$itx" -ge "$segs"
		t_check "$mode: the kernel's $dev received at least $MINPKTS packets ($krx)" \
			test "$krx" -ge $MINPKTS
		t_check "$mode: ipstack $dev received at least $MINPKTS packets ($irx)" \
			test "$irx" -ge $MINPKTS
	fi

	# ipstack's capture: wire frames, every checksum complete and right.
	t_pcap_check "$icap"
	local ibig ntcp good
	tshark_fields "$icap" frame.len >"$T_TMP/$mode.ilen"
	ibig=$(awk -v w=$wire '$1 > w' "$T_TMP/$mode.ilen" | wc -l)
	t_expect_eq "$mode: ipstack's capture shows wire frames (none over $wire bytes)" "$ibig" 0
	timeout 60 tshark -r "$icap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-T fields -e tcp.checksum.status -e ip.checksum.status -Y tcp 2>/dev/null >"$T_TMP/$mode.csum"
	ntcp=$(wc -l <"$T_TMP/$mode.csum")
	good=$(awk '$1 == 1 && $2 == 1' "$T_TMP/$mode.csum" | wc -l)
	t_expect_ge "$mode: ipstack's capture has the transfer's TCP frames" "$ntcp" $((2 * MINPKTS))
	t_expect_eq "$mode: every TCP and IPv4 checksum in ipstack's capture is right" "$good" "$ntcp"
}

run_mode on on tap
run_mode off off tap --no-offload
run_mode tun on tun
t_finish
