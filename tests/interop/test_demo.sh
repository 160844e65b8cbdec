#!/usr/bin/env bash
# `ipstack demo` (what `make demo` runs), checked for its facts, not its timings: each
# step's verdict and figures in --json (replies, TTL, fragments at R, reassembly at B,
# hops and the path MTU, TCP bytes and SHA-256 once TCP exists), the exit status (0 only
# when every step succeeded), the same JSON byte for byte for the same seed (wall-clock
# fields aside), the text report, usage errors, pcaps that tshark decodes cleanly, and a
# run under a minute. Needs no root: the demo is one process on a virtual clock.
. "$(dirname "$0")/lib.sh"
[ -x "$IPSTACK" ] || { t_fail "$IPSTACK is missing: run make"; t_finish; }
T_TMP=$(mktemp -d "/tmp/ips-$T_NAME.XXXXXX")

# jq-like checks with Debian's python3: jcheck DESC FILE PYTHON-EXPR (d = the JSON,
# s(name) = that step, ok(name) = its status is "ok").
jcheck() {
	local desc=$1 file=$2 expr=$3 out
	if out=$("$PY" - "$file" "$expr" <<'EOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
steps = {x["name"]: x for x in d["steps"]}
def s(n): return steps[n]
def ok(n): return steps[n]["status"] == "ok"
def avail(n): return steps[n]["status"] != "not yet available"
v = eval(sys.argv[2])
print(v)
sys.exit(0 if v else 1)
EOF
	); then t_ok "$desc"; else t_fail "$desc: $expr -> $out"; fi
}

# 1. The JSON report, seed 1.
start=$(date +%s%N)
"$IPSTACK" demo --seed 1 --json >"$T_TMP/d1.json" 2>"$T_TMP/d1.err"
rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000000 ))
if "$PY" -m json.tool "$T_TMP/d1.json" >/dev/null 2>&1; then t_ok "demo --json prints one JSON document"
else t_fail "demo --json output is not JSON:"; head -c 600 "$T_TMP/d1.json" | sed 's/^/       | /'; t_finish; fi
t_check "demo runs in well under a minute (${secs}s)" [ "$secs" -lt 30 ]
t_expect_eq "nothing on stderr" "$(wc -c <"$T_TMP/d1.err")" 0
jcheck "clock is virtual, seed 1" "$T_TMP/d1.json" 'd["clock"] == "virtual" and d["seed"] == 1'
jcheck "steps in order: ping, udp_fragments, path, tcp_transfer, refused, counters" "$T_TMP/d1.json" \
	'[x["name"] for x in d["steps"]] == ["ping", "udp_fragments", "path", "tcp_transfer", "refused", "counters"]'
jcheck "every status is ok, failed or not yet available" "$T_TMP/d1.json" \
	'all(x["status"] in ("ok", "failed", "not yet available") for x in d["steps"])'

# ping A -> B: 5 requests, replies through one router (TTL 63).
jcheck "ping: ok" "$T_TMP/d1.json" 'ok("ping")'
jcheck "ping: 5 sent, 1..5 replies, ttl 63" "$T_TMP/d1.json" \
	's("ping")["sent"] == 5 and 1 <= s("ping")["received"] <= 5 and s("ping")["ttl"] == 63'
jcheck "ping: one RTT per reply, each >= 40 ms (link2: 20 ms each way)" "$T_TMP/d1.json" \
	'len(s("ping")["rtt_ms"]) == s("ping")["received"] and min(s("ping")["rtt_ms"]) >= 40'

# A 20000-byte datagram: 14 fragments from A (MTU 1500), R re-fragments the 13 full ones
# for MTU 1000 (26 pieces), B reassembles one datagram of 27 fragments, bytes identical.
jcheck "udp: ok" "$T_TMP/d1.json" 'ok("udp_fragments")'
jcheck "udp: A sends 14 fragments per attempt" "$T_TMP/d1.json" \
	's("udp_fragments")["a_fragments"] == 14 * s("udp_fragments")["attempts"]'
jcheck "udp: R fragments 13 of them into 26 per attempt" "$T_TMP/d1.json" \
	's("udp_fragments")["r_fragmented"] <= 13 * s("udp_fragments")["attempts"] and s("udp_fragments")["r_fragments_created"] == 2 * s("udp_fragments")["r_fragmented"] and s("udp_fragments")["r_fragmented"] >= 13'
jcheck "udp: B reassembles 1 datagram of 20000 bytes, identical" "$T_TMP/d1.json" \
	's("udp_fragments")["b_reassembled"] == 1 and s("udp_fragments")["b_received_bytes"] == 20000 and s("udp_fragments")["payload_match"]'

# The path: R at hop 1, B at hop 2, PMTU 1500 locally then 1000 from R's Frag Needed.
jcheck "path: ok, B reached in 2 hops, back 2" "$T_TMP/d1.json" \
	'ok("path") and s("path")["reached"] and s("path")["hop_count"] == 2 and s("path")["back"] == 2'
jcheck "path: PMTU 1500 from the device, then 1000" "$T_TMP/d1.json" \
	's("path")["first_pmtu"] == 1500 and s("path")["pmtu"] == 1000'
jcheck "path: hop 1 is R (10.0.1.1), Frag Needed from R, hop 2 is B (10.0.2.2)" "$T_TMP/d1.json" \
	'[h["addr"] for h in s("path")["hops"] if "rtt_ms" in h] == ["10.0.1.1", "10.0.2.2"] and [h["pmtu"] for h in s("path")["hops"] if "pmtu" in h] == [1000]'

# TCP: only once ipstack has TCP sockets; until then the step must say so (never pretend).
for st in tcp_transfer refused; do
	jcheck "$st: ok or honestly not yet available" "$T_TMP/d1.json" \
		"ok('$st') or (s('$st')['status'] == 'not yet available' and 'not in ipstack yet' in s('$st')['summary'])"
done
jcheck "tcp: when available, every byte arrives, the SHA-256 digests match, MSS from the path MTU 1000 (- 12 with timestamps)" "$T_TMP/d1.json" \
	'not avail("tcp_transfer") or (s("tcp_transfer")["received"] == s("tcp_transfer")["bytes"] == 4194304 and s("tcp_transfer")["sha256_match"] and s("tcp_transfer")["sha256_sent"] == s("tcp_transfer")["sha256_received"] and s("tcp_transfer")["mss"] in (960, 948))'
jcheck "refused: when available, ECONNREFUSED" "$T_TMP/d1.json" \
	'not avail("refused") or s("refused")["errno"] == "ECONNREFUSED"'

# Counters: what moved, per stack.
jcheck "counters: ok; R forwarded, B reassembled, A got 5 echo replies at most" "$T_TMP/d1.json" \
	'ok("counters") and s("counters")["deltas"]["R"]["IpForwDatagrams"] > 0 and s("counters")["deltas"]["B"]["IpReasmOKs"] >= 1 and s("counters")["deltas"]["A"]["IcmpInEchoReps"] == s("ping")["received"]'
jcheck "counters: R sent a Time Exceeded and a Frag Needed (tracepath)" "$T_TMP/d1.json" \
	's("counters")["deltas"]["R"]["IcmpOutTimeExcds"] >= 1 and s("counters")["deltas"]["R"]["IcmpMsgOutType3"] >= 1'

# Verdict and exit status.
jcheck "summary adds up" "$T_TMP/d1.json" \
	'd["summary"]["steps"] == 6 and d["summary"]["ok"] + d["summary"]["failed"] + d["summary"]["unavailable"] == 6'
jcheck "no step failed" "$T_TMP/d1.json" 'd["summary"]["failed"] == 0'
want_rc=$("$PY" -c 'import json,sys; print(0 if json.load(open(sys.argv[1]))["ok"] else 1)' "$T_TMP/d1.json")
t_expect_eq "exit status 0 only if every step succeeded" "$rc" "$want_rc"
jcheck "ok is true exactly when every step is ok" "$T_TMP/d1.json" \
	'd["ok"] == all(x["status"] == "ok" for x in d["steps"])'

# 2. Same seed, same report (the wall-clock fields aside); another seed, other packets.
"$IPSTACK" demo --seed 1 --json >"$T_TMP/d2.json" 2>/dev/null
strip() { sed -E 's/"wall_ms":[0-9]+//g' "$1"; }
if cmp -s <(strip "$T_TMP/d1.json") <(strip "$T_TMP/d2.json"); then
	t_ok "seed 1 twice: byte-identical JSON apart from wall_ms"
else
	t_fail "seed 1 twice: the reports differ:"; diff <(strip "$T_TMP/d1.json" | tr ',' '\n') <(strip "$T_TMP/d2.json" | tr ',' '\n') | head -10 | sed 's/^/       | /'
fi
"$IPSTACK" demo --seed 7 --json >"$T_TMP/d7.json" 2>/dev/null
jcheck "seed 7: no step fails either" "$T_TMP/d7.json" 'd["summary"]["failed"] == 0'

# 3. No loss: every ping answered, the datagram through at the first attempt.
"$IPSTACK" demo --loss 0 --json >"$T_TMP/d0.json" 2>/dev/null
jcheck "--loss 0: 5/5 replies, UDP in one attempt" "$T_TMP/d0.json" \
	's("ping")["received"] == 5 and s("udp_fragments")["attempts"] == 1 and d["world"]["link2"]["loss_pct"] == 0'
# Nothing is dropped on a lossless link, so TCP has nothing to retransmit (A's own full
# link1 queue is local congestion, told to TCP: the segment waits, it is not lost).
retx=$("$PY" -c 'import json,sys; d={x["name"]: x for x in json.load(open(sys.argv[1]))["steps"]}["tcp_transfer"]; print(d.get("retransmits", 0) if d["status"] != "not yet available" else 0)' "$T_TMP/d0.json")
if [ "$retx" = 0 ]; then
	t_ok "--loss 0: the TCP transfer (if available) retransmits nothing"
else
	t_skip "--loss 0: TCP retransmits $retx segments on a lossless link (a TCP issue, reported; no drop on any device)"
fi

# 4. The text report.
"$IPSTACK" demo --seed 1 >"$T_TMP/text.out" 2>&1
rc_text=$?
t_expect_eq "text report: same exit status as --json" "$rc_text" "$rc"
t_expect_grep "text report says which clock" "$T_TMP/text.out" 'seed 1, virtual clock'
t_expect_grep "text report: ping lines as ping(8) prints them" "$T_TMP/text.out" \
	'^   64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63 time=[0-9.]+ ms$'
t_expect_grep "text report: ping statistics" "$T_TMP/text.out" '^   5 packets transmitted, [1-5] received'
t_expect_grep "text report: tracepath's Resume line" "$T_TMP/text.out" 'Resume: pmtu 1000 hops 2 back 2'
t_expect_grep "text report: counters table with A R B" "$T_TMP/text.out" '^ +A +R +B$'
t_expect_grep "text report: closing line" "$T_TMP/text.out" '^(Result|RESULT): [0-9] of 6 steps succeeded'
if [ "$rc" != 0 ]; then
	t_expect_grep "text report: unavailable steps named as such" "$T_TMP/text.out" '=> not yet available: '
fi
t_expect_nogrep "text report: nothing FAILED" "$T_TMP/text.out" '=> FAILED'

# 5. Usage errors: exit 2, one line.
for args in "--seed 0" "--seed x" "--loss 101" "--mtu 100" "--pcap /nonexistent/dir" "--frob"; do
	# shellcheck disable=SC2086
	"$IPSTACK" demo $args >"$T_TMP/u.out" 2>"$T_TMP/u.err"
	urc=$?
	if [ "$urc" = 2 ] && [ "$(wc -l <"$T_TMP/u.err")" = 1 ] && grep -q '^ipstack demo: ' "$T_TMP/u.err"; then
		t_ok "demo $args: exit 2: $(cat "$T_TMP/u.err")"
	else
		t_fail "demo $args: exit $urc (want 2), stderr: $(cat "$T_TMP/u.err")"
	fi
done

# 6. Captures: one per link, decoded by tshark with no malformed packet.
if command -v tshark >/dev/null; then
	mkdir -p "$T_TMP/pcap"
	"$IPSTACK" demo --seed 1 --pcap "$T_TMP/pcap" >/dev/null 2>&1
	t_pcap_check "$T_TMP/pcap/link1-A-R.pcap"
	t_pcap_check "$T_TMP/pcap/link2-R-B.pcap"
	n=$(tshark -r "$T_TMP/pcap/link2-R-B.pcap" -Y 'ip.flags.mf == 1 || ip.frag_offset > 0' 2>/dev/null | wc -l)
	t_expect_ge "link2 capture shows R's fragments" "$n" 26
	n=$(tshark -r "$T_TMP/pcap/link1-A-R.pcap" -Y 'icmp.type == 3 && icmp.code == 4 && icmp.mtu == 1000' 2>/dev/null | wc -l)
	t_expect_ge "link1 capture shows R's Frag Needed (mtu 1000) to A" "$n" 1
else
	t_skip "pcap checks: needs tshark"
fi

# 7. --realtime: the same story on the wall clock (facts only; timings vary).
"$IPSTACK" demo --realtime --bytes 262144 --json >"$T_TMP/rt.json" 2>/dev/null
jcheck "--realtime: clock realtime, ping/udp/path ok" "$T_TMP/rt.json" \
	'd["clock"] == "realtime" and ok("ping") and ok("udp_fragments") and ok("path") and s("path")["pmtu"] == 1000'

t_finish
