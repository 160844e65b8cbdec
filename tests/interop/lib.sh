# Shared helpers for the kernel interop tests (tests/interop/test_*.sh); source it first.
#
# Every test runs in network namespaces of its own (ips-<pid>-<x>), with TAP/veth devices
# and 10.199.x.y addresses that exist only inside them; the EXIT trap stops every
# process the test started (by pid) and deletes the namespaces, whatever happened.
# Results: t_ok/t_fail/t_skip per check, then the closing line
#   <test>: N passed, N failed[, N skipped]
# and a non-zero exit status if anything failed. Without root, network namespaces or
# /dev/net/tun the test is skipped (a "SKIP" line, counted as skipped, exit 0) — unless
# CI=true, where that is a failure.
# shellcheck shell=bash

set -u
IPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IPSTACK=${IPSTACK:-$IPS_ROOT/build/ipstack}
# Debian's python3 (with python3-scapy), not whatever python3 a pyenv puts first in PATH.
PY=${PY:-/usr/bin/python3}
T_NAME=$(basename "$0" .sh)
T_PASS=0 T_FAIL=0 T_SKIP=0
T_FINISHED=0
T_NS=()			# namespaces to delete
T_PIDS=()		# background processes to stop
declare -A IPS_PID=()	# ipstack instance name -> pid of its `timeout` wrapper
T_TMP=""

# The whole test is bounded: re-run under timeout(1) (T_LIMIT seconds, default 600).
if [ -z "${IPS_T_BOUNDED:-}" ]; then
	export IPS_T_BOUNDED=1
	exec timeout -s TERM -k 15 "${T_LIMIT:-600}" bash "$0" "$@"
fi

t_ok()   { T_PASS=$((T_PASS + 1)); echo "ok   $*"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $*"; }
t_skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $*"; }
t_info() { echo "     $*"; }

# t_check DESCRIPTION CMD...: one check from a command's exit status.
t_check() {
	local desc=$1; shift
	if "$@"; then t_ok "$desc"; else t_fail "$desc"; fi
}

# t_expect_eq DESCRIPTION GOT WANT
t_expect_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1 ($2)"; else t_fail "$1: got '$2', want '$3'"; fi
}

# t_expect_ge DESCRIPTION GOT MIN
t_expect_ge() {
	if [ "${2:-0}" -ge "$3" ] 2>/dev/null; then t_ok "$1 ($2 >= $3)"
	else t_fail "$1: got '${2:-}', want >= $3"; fi
}

# t_expect_grep DESCRIPTION FILE ERE: the file has a line matching ERE.
t_expect_grep() {
	if grep -qE -- "$3" "$2"; then t_ok "$1"
	else t_fail "$1: no line matching /$3/ in $(basename "$2"):"; sed 's/^/       | /' "$2" | tail -15; fi
}

# t_expect_nogrep DESCRIPTION FILE ERE: no line matches.
t_expect_nogrep() {
	if ! grep -qE -- "$3" "$2"; then t_ok "$1"
	else t_fail "$1: unexpected line matching /$3/ in $(basename "$2"):"; grep -E -- "$3" "$2" | sed 's/^/       | /' | head -5; fi
}

t_closing_line() {
	local extra=""
	[ "$T_SKIP" -gt 0 ] && extra=", $T_SKIP skipped"
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed$extra"
}

# t_finish: the closing line and the exit status. Call once at the end of the test.
t_finish() {
	T_FINISHED=1
	t_closing_line
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

# t_skip_all REASON: the environment cannot run this test.
t_skip_all() {
	if [ "${CI:-}" = true ]; then
		t_fail "$1 (CI=true: a missing environment is a failure)"
	else
		t_skip "$T_NAME: $1"
	fi
	t_finish
}

t_cleanup() {
	local rc=$? pid ns i
	trap - EXIT INT TERM
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${T_NS[@]}"; do
		# Anything still running inside is ours (started through ip netns exec).
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$T_FINISHED" = 0 ]; then
		[ "$T_FAIL" -eq 0 ] && [ "$rc" -ne 0 ] && t_fail "$T_NAME stopped early (exit $rc)"
		t_closing_line
		[ "$T_FAIL" -eq 0 ] && rc=0 || rc=1
	fi
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		if [ "$T_FAIL" -gt 0 ] || [ -n "${KEEP:-}" ]; then
			echo "     (files kept in $T_TMP)"
		else
			rm -rf "$T_TMP"
		fi
	fi
	exit "$rc"
}
trap t_cleanup EXIT
trap 't_fail "$T_NAME interrupted (signal or time limit)"; exit 1' INT TERM

# t_require [TOOL...]: root, network namespaces, /dev/net/tun, build/ipstack, and the
# given commands ("scapy" means Debian's python3-scapy). Skips the test if not.
t_require() {
	local tool probe
	[ "$(id -u)" = 0 ] || t_skip_all "needs root (network namespaces, TAP devices)"
	command -v ip >/dev/null || t_skip_all "needs iproute2 (ip)"
	[ -c /dev/net/tun ] || t_skip_all "needs /dev/net/tun"
	probe=ips-$$-probe
	if ! ip netns add "$probe" 2>/dev/null; then
		t_skip_all "cannot create network namespaces"
	fi
	if ! ip -n "$probe" tuntap add dev tapprobe mode tap 2>/dev/null; then
		ip netns del "$probe"
		t_skip_all "cannot create TAP devices in a network namespace"
	fi
	ip netns del "$probe"
	for tool in "$@"; do
		case $tool in
		scapy) "$PY" -c 'import scapy.all' 2>/dev/null ||
			t_skip_all "needs python3-scapy for $PY" ;;
		*) command -v "$tool" >/dev/null || t_skip_all "needs $tool" ;;
		esac
	done
	if [ ! -x "$IPSTACK" ]; then
		t_fail "$IPSTACK is missing: run make"
		t_finish
	fi
	T_TMP=$(mktemp -d "/tmp/ips-$T_NAME.XXXXXX")
}

# t_ns_new NAME: a fresh namespace with lo up; deleted on exit.
t_ns_new() {
	ip netns add "$1" || { t_fail "ip netns add $1"; t_finish; }
	T_NS+=("$1")
	ip -n "$1" link set lo up
	# No IPv6 noise (router solicitations, MLD) in captures and counters.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# t_bg PIDVAR CMD...: run CMD in the background, stopped on exit; its pid in PIDVAR.
t_bg() {
	local var=$1; shift
	"$@" &
	T_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# t_wait_file FILE SECONDS [PID]: wait until FILE exists (and PID, if given, lives).
t_wait_file() {
	local f=$1 n=$(($2 * 20)) pid=${3:-}
	while [ "$n" -gt 0 ]; do
		[ -e "$f" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.05
		n=$((n - 1))
	done
	[ -e "$f" ]
}

# t_ips_start NAME NS ARGS...: `ipstack host ARGS...` inside NS, bounded by
# T_IPS_LIMIT seconds; log $T_TMP/NAME.log, counters $T_TMP/NAME.stats (rewritten on
# SIGUSR1 and at exit). Waits for its ready file; returns 1 (after showing the log) if it
# does not come up. IPS_HOST_ARGS adds options to every instance (e.g. --driven).
t_ips_start() {
	local name=$1 ns=$2; shift 2
	local ready=$T_TMP/$name.ready
	rm -f "$ready"
	ip netns exec "$ns" timeout -s TERM -k 5 "${T_IPS_LIMIT:-300}" "$IPSTACK" host \
		--name "$name" --ready-file "$ready" --stats-file "$T_TMP/$name.stats" \
		${IPS_HOST_ARGS:-} "$@" \
		>"$T_TMP/$name.log" 2>&1 &
	IPS_PID[$name]=$!
	T_PIDS+=("$!")
	if ! t_wait_file "$ready" 10 "${IPS_PID[$name]}"; then
		t_fail "ipstack $name did not come up: ipstack host $*"
		sed 's/^/       | /' "$T_TMP/$name.log" | tail -20
		return 1
	fi
	sed 's/^/     /' "$T_TMP/$name.log"
}

# t_ips_pid NAME: the pid of the ipstack process itself (from its ready file).
t_ips_pid() { awk '$1 == "pid" {print $2}' "$T_TMP/$1.ready"; }

# t_ips_hwaddr NAME IF: the MAC that ipstack gave IF (from its ready file).
t_ips_hwaddr() {
	awk -v d="$2" '$1 == d { for (i = 2; i < NF; i++) if ($i == "hwaddr") print $(i + 1) }' "$T_TMP/$1.ready"
}

# t_ips_stop NAME: SIGTERM, then check that it exits 0 promptly.
t_ips_stop() {
	local name=$1 pid=${IPS_PID[$1]:-} i rc
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		t_fail "ipstack $name did not exit within 5 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	unset "IPS_PID[$name]"
	if [ "$rc" -ne 0 ]; then
		t_fail "ipstack $name exited with status $rc"
		sed 's/^/       | /' "$T_TMP/$name.log" | tail -20
		return 1
	fi
	t_ok "ipstack $name exits 0 on SIGTERM"
}

# t_ips_counters NAME OUT: a fresh `Name value` dump of a running ipstack's counters.
t_ips_counters() {
	local name=$1 out=$2 pid stats=$T_TMP/$1.stats
	pid=$(t_ips_pid "$name")
	rm -f "$stats"
	kill -USR1 "$pid" 2>/dev/null || return 1
	t_wait_file "$stats" 5 || return 1
	cp "$stats" "$out"
}

# t_nstat NS OUT: the kernel's counters in NS as `Name value` lines (absolute values).
t_nstat() {
	ip netns exec "$1" env NSTAT_HISTORY=/dev/null nstat -asz 2>/dev/null |
		awk '!/^#/ && NF >= 2 {print $1, $2}' >"$2"
}

# t_counter FILE NAME: a counter's value in a `Name value` dump (0 when absent).
t_counter() { awk -v n="$2" '$1 == n {v = $2} END {print v + 0}' "$1"; }

# t_delta BEFORE AFTER NAME
t_delta() { echo $(( $(t_counter "$2" "$3") - $(t_counter "$1" "$3") )); }

# t_pcap_check FILE [FILTER]: FILE decodes in tshark with no malformed packet and no
# expert error (among the frames matching FILTER, if given).
t_pcap_check() {
	local f=$1 filt=${2:-} nframes nmal nerr sel
	if [ ! -s "$f" ]; then t_fail "pcap $(basename "$f") missing or empty"; return; fi
	nframes=$(timeout 60 tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
	sel=${filt:+ && ($filt)}
	nmal=$(timeout 60 tshark -r "$f" -Y "_ws.malformed$sel" 2>/dev/null | tee "$T_TMP/malformed.txt" | wc -l)
	timeout 60 tshark -r "$f" -q -z "expert,error${filt:+,$filt}" 2>/dev/null >"$T_TMP/expert.txt"
	nerr=$(sed -nE 's/^Errors \(([0-9]+)\).*/\1/p' "$T_TMP/expert.txt" | head -1)
	nerr=${nerr:-0}
	if [ "$nframes" -gt 0 ] && [ "$nmal" -eq 0 ] && [ "$nerr" -eq 0 ]; then
		t_ok "pcap $(basename "$f"): $nframes frames decode in tshark, none malformed${filt:+ (checked: $filt)}"
	else
		t_fail "pcap $(basename "$f"): $nframes frames, $nmal malformed, $nerr expert errors${filt:+ (among: $filt)}"
		sed 's/^/       | /' "$T_TMP/malformed.txt" | head -10
		sed 's/^/       | /' "$T_TMP/expert.txt" | head -20
	fi
}

# t_run OUT SECONDS NS CMD...: run CMD in NS with a time limit, stdout+stderr to OUT;
# returns its exit status.
t_run() {
	local out=$1 secs=$2 ns=$3; shift 3
	ip netns exec "$ns" timeout -k 5 "$secs" "$@" >"$out" 2>&1
}
