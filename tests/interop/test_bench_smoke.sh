#!/usr/bin/env bash
# The benchmark harness end to end with tiny loads (bench/run.py --smoke): every case runs
# on both sides, build/bench.json-style output is written, every case is present, and
# every figure that is available is a positive number with its unit. No timing
# thresholds: this checks that `make bench` works, not how fast anything is.
#
# It uses the benchmark binary that `make tests` builds with the normal flags
# ($BUILD/bench/ipsbench-check), so no second optimised build is needed here.
source "$(dirname "$0")/lib.sh"

BENCH_BIN=${BENCH_BIN:-$IPS_ROOT/build/bench/ipsbench-check}
if [ ! -x "$BENCH_BIN" ]; then
	make -C "$IPS_ROOT" -s build/bench/ipsbench-check >/dev/null 2>&1 ||
		{ t_fail "cannot build $BENCH_BIN"; t_finish; }
fi
T_TMP=$(mktemp -d /tmp/ips-test_bench_smoke.XXXXXX)
root=0
[ "$(id -u)" = 0 ] && ip netns add "ips-$$-probe" 2>/dev/null && ip netns del "ips-$$-probe" && root=1

out=$T_TMP/bench.json
ns_before=$(ip netns list 2>/dev/null | grep -c '^ipsb-' || true)
if timeout -k 5 300 python3 "$IPS_ROOT/bench/run.py" --smoke --bin "$BENCH_BIN" --out "$out" \
	>"$T_TMP/run.log" 2>&1; then
	t_ok "bench/run.py --smoke exits 0"
else
	t_fail "bench/run.py --smoke failed:"
	sed 's/^/       | /' "$T_TMP/run.log" | tail -20
	t_finish
fi
t_expect_grep "the table is printed" "$T_TMP/run.log" '^udp_pps_64 +'
t_expect_grep "the table says where the JSON went" "$T_TMP/run.log" "^wrote $out"

# Each check prints "ok ..." or "FAIL ..." on a line of its own.
ROOT=$root python3 - "$out" >"$T_TMP/check.txt" 2>&1 <<'EOF'
import json, os, sys
root = os.environ["ROOT"] == "1"
d = json.load(open(sys.argv[1]))
cases = d.get("cases", {})
want = ["tcp_bulk_lo", "tcp_bulk_1500", "tcp_rr_64", "udp_pps_64", "tcp_connect_rate",
        "tcp_idle_conn_mem", "tcp_bulk_tap", "cycles_per_byte", "cycles_per_packet"]
def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
check("meta" in d and d["meta"].get("date") and d["meta"].get("runs") == 1, "meta: date, runs")
for c in want:
    e = cases.get(c)
    check(e is not None, "%s present" % c)
    if e is None:
        continue
    check(e.get("better") in ("higher", "lower") and bool(e.get("unit")), "%s: unit %s, %s is better" % (c, e.get("unit"), e.get("better")))
    for side in ("ipstack", "kernel"):
        s = e.get(side, {})
        if "na" in s:
            # Only what cannot run here may be missing: the kernel side without root,
            # and ipstack's TCP cases until TCP is there.
            allowed = (side == "kernel" and not root) or \
                      (side == "ipstack" and ("TCP not yet available" in s["na"] or
                                              (c == "tcp_bulk_tap" and not root)))
            check(allowed, "%s %s: n/a (%s)" % (c, side, s["na"]))
            continue
        ok = all(isinstance(s.get(k), (int, float)) and s[k] > 0 for k in ("median", "min", "max")) \
             and s["min"] <= s["median"] <= s["max"]
        check(ok, "%s %s: median %s in [%s, %s], positive" % (c, side, s.get("median"), s.get("min"), s.get("max")))
    r = e.get("ratio")
    both = "median" in e.get("ipstack", {}) and "median" in e.get("kernel", {})
    check((r is not None and r > 0) if both else r is None, "%s: ratio %s" % (c, r))
# udp_pps_64 needs only UDP sockets, which ipstack has: its ipstack side must be there.
check("median" in cases.get("udp_pps_64", {}).get("ipstack", {}), "udp_pps_64 ipstack measured")
if root:
    check("median" in cases.get("udp_pps_64", {}).get("kernel", {}), "udp_pps_64 kernel measured (root)")
EOF
while IFS= read -r line; do
	case $line in
	"ok   "*) t_ok "${line#ok   }" ;;
	"FAIL "*) t_fail "${line#FAIL }" ;;
	*) t_fail "json check: $line" ;;
	esac
done <"$T_TMP/check.txt"
# No namespace of the run is left behind.
left=$(ip netns list 2>/dev/null | grep -c '^ipsb-' || true)
t_expect_eq "no ipsb-* namespace left behind" "$left" "$ns_before"
t_finish
