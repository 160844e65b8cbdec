#!/usr/bin/env python3
"""`make bench`: every case on ipstack and on the kernel, in one run, side by side.

For each case the runner makes the kernel's environment (a fresh network namespace, or
two joined by a veth pair, Linux defaults with net.ipv4.tcp_congestion_control=cubic),
then runs `ipsbench CASE kernel` and `ipsbench CASE ipstack` in turn, --runs times each
(alternating, so both sides see the same machine), deletes the namespaces, and reports
for each side the median with min and max, and ratio = ipstack / kernel (inverted for
figures where lower is better, so that higher is always better). It prints a table and
writes a JSON file (build/bench.json). See docs/performance.md for what each case
measures and how.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys

# name -> (better, target ratio, what it is)
CASES = {
    "tcp_bulk_lo": ("higher", 1.5, "one TCP stream, 128 KiB writes; ipstack<->ipstack memlink MTU 65535 vs kernel lo"),
    "tcp_bulk_1500": ("higher", 1.0, "one TCP stream, 128 KiB writes; memlink MTU 1500 vs kernel veth MTU 1500"),
    "tcp_rr_64": ("higher", 5.0, "64-byte request/response, TCP_NODELAY; kernel client+server on one core"),
    "udp_pps_64": ("higher", 5.0, "64-byte UDP datagrams delivered per second over lo"),
    "tcp_connect_rate": ("higher", 3.0, "connect + accept + close (SO_LINGER 0) per second over lo"),
    "tcp_idle_conn_mem": ("lower", 2.0, "memory per idle established connection (both ends)"),
    "tcp_bulk_tap": ("higher", 0.5, "ipstack on TAP -> kernel vs kernel -> kernel over veth, MTU 1500"),
}
# Derived from the runs above: (source case, per what, better)
DERIVED = {
    "cycles_per_byte": ("tcp_bulk_lo", "bytes", "lower"),
    "cycles_per_packet": ("udp_pps_64", "packets", "lower"),
}

VETH_A, VETH_B = "10.201.0.1", "10.201.0.2"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Netns:
    """The kernel's side: namespaces made for one case and deleted afterwards."""
    cc_method = None

    def __init__(self, tag):
        self.tag = tag
        self.names = []

    def sh(self, *cmd, check=True):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        return r

    def new(self, suffix):
        name = "ipsb-%d-%s" % (os.getpid(), suffix)
        self.sh("ip", "netns", "add", name)
        self.names.append(name)
        self.sh("ip", "-n", name, "link", "set", "lo", "up")
        # Linux defaults, except the congestion control this machine's kernel chose. A
        # namespace may only pick one listed in tcp_allowed_congestion_control; where
        # cubic is not, ipsbench sets it on each socket (TCP_CONGESTION) instead.
        r = self.sh("ip", "netns", "exec", name, "sysctl", "-qw",
                    "net.ipv4.tcp_congestion_control=cubic", check=False)
        Netns.cc_method = ("net.ipv4.tcp_congestion_control=cubic in the namespace"
                           if r.returncode == 0 else
                           "TCP_CONGESTION=cubic on every socket (this kernel's "
                           "tcp_allowed_congestion_control leaves cubic out of new namespaces)")
        return name

    def veth_pair(self, a, b, mtu=1500):
        self.sh("ip", "link", "add", "vb0", "netns", a, "mtu", str(mtu), "type", "veth",
                "peer", "name", "vb1", "netns", b, "mtu", str(mtu))
        self.sh("ip", "-n", a, "addr", "add", VETH_A + "/24", "dev", "vb0")
        self.sh("ip", "-n", b, "addr", "add", VETH_B + "/24", "dev", "vb1")
        self.sh("ip", "-n", a, "link", "set", "vb0", "up")
        self.sh("ip", "-n", b, "link", "set", "vb1", "up")

    def delete(self):
        for name in self.names:
            pids = self.sh("ip", "netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            self.sh("ip", "netns", "del", name, check=False)
        self.names = []


def perf_cycles_work():
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "stat", "-x,", "-e", "cycles", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return r.returncode == 0 and "<not supported>" not in r.stderr and "cycles" in r.stderr


def cpu_hz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1]) * 1e6
    except OSError:
        pass
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


class Runner:
    def __init__(self, args):
        self.a = args
        self.root = os.geteuid() == 0
        self.perf = perf_cycles_work() if not args.no_perf else False
        self.raw = {}           # case -> side -> [result dicts]

    def run_one(self, case, side, prefix, extra):
        cmd = list(prefix) + [self.a.bin, case, side, "--time", str(self.a.time)] + extra
        perf_out = None
        if self.perf and case in ("tcp_bulk_lo", "udp_pps_64"):
            perf_out = "%s.perf.%d" % (self.a.out, os.getpid())
            cmd = ["perf", "stat", "-x,", "-e", "cycles", "-o", perf_out, "--"] + cmd
        limit = self.a.time * 3 + 120
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=limit)
        except subprocess.TimeoutExpired:
            return {"case": case, "side": side, "na": "timed out after %d s" % limit}
        line = next((l for l in r.stdout.splitlines() if l.startswith("{")), None)
        if r.returncode != 0 or line is None:
            err = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
            return {"case": case, "side": side, "na": "failed: " + err}
        res = json.loads(line)
        if perf_out and os.path.exists(perf_out):
            with open(perf_out) as f:
                for l in f:
                    parts = l.strip().split(",")
                    if len(parts) > 2 and parts[2].startswith("cycles") and parts[0].isdigit():
                        res["cycles"] = int(parts[0])
            os.unlink(perf_out)
        if self.a.verbose:
            log("   ", json.dumps(res))
        return res

    def kernel_env(self, case, ns):
        """Make the kernel's namespaces; return (command prefix, extra args)."""
        if case in ("tcp_bulk_1500", "tcp_bulk_tap"):
            a, b = ns.new("a"), ns.new("b")
            ns.veth_pair(a, b, 1500)
            return [], ["--netns-tx", "/run/netns/" + a, "--netns-rx", "/run/netns/" + b,
                        "--addr", VETH_B]
        n = ns.new("lo")
        extra = ["--conns", str(self.a.conns)] if case == "tcp_idle_conn_mem" else []
        return ["ip", "netns", "exec", n], extra

    def ipstack_env(self, case, ns):
        if case == "tcp_bulk_tap":
            if not self.root:
                return None, None
            n = ns.new("tap")
            return ["ip", "netns", "exec", n], ["--tap", "ipsb0"]
        extra = ["--conns", str(self.a.conns)] if case == "tcp_idle_conn_mem" else []
        return [], extra

    def run_case(self, case):
        self.raw[case] = {"kernel": [], "ipstack": []}
        log("== %s" % case)
        for i in range(self.a.runs):
            for side in ("kernel", "ipstack"):
                ns = Netns(case)
                try:
                    if side == "kernel":
                        if not self.root:
                            res = {"case": case, "side": side,
                                   "na": "needs root (the kernel side runs in network namespaces)"}
                        else:
                            prefix, extra = self.kernel_env(case, ns)
                            res = self.run_one(case, side, prefix, extra)
                    else:
                        prefix, extra = self.ipstack_env(case, ns)
                        if prefix is None:
                            res = {"case": case, "side": side, "na": "needs root (TAP device)"}
                        else:
                            res = self.run_one(case, side, prefix, extra)
                except RuntimeError as e:
                    res = {"case": case, "side": side, "na": "setup failed: %s" % e}
                finally:
                    ns.delete()
                self.raw[case][side].append(res)
            # A side that is not available does not become available on a later run.
            if all("na" in self.raw[case][s][-1] for s in ("kernel", "ipstack")):
                break

    def summarize_side(self, runs, key="value", scale=None):
        vals = []
        for r in runs:
            if "na" in r:
                continue
            v = scale(r) if scale else r.get(key)
            if v is not None:
                vals.append(v)
        if not vals:
            nas = [r["na"] for r in runs if "na" in r]
            return {"na": nas[0] if nas else "no result"}
        return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                "n": len(vals), "runs": vals}

    def summary(self):
        out = {}
        for case, (better, target, what) in CASES.items():
            if case not in self.raw:
                continue
            runs = self.raw[case]
            entry = {"description": what, "better": better, "target_ratio": target}
            unit = next((r.get("unit") for s in runs.values() for r in s if "unit" in r), None)
            entry["unit"] = unit
            for side in ("ipstack", "kernel"):
                entry[side] = self.summarize_side(runs[side])
                meth = next((r.get("method") for r in runs[side] if r.get("method")), None)
                note = next((r.get("note") for r in runs[side] if r.get("note")), None)
                if meth:
                    entry[side]["method"] = meth
                if note:
                    entry[side]["note"] = note
            entry["ratio"] = ratio(entry, better)
            out[case] = entry
        hz = cpu_hz()
        for name, (src, per, better) in DERIVED.items():
            if src not in self.raw:
                continue
            entry = {"better": better, "unit": "cycles/" + per.rstrip("s"),
                     "description": "CPU cycles per %s in %s" % (per.rstrip("s"), src)}
            if self.perf:
                entry["method"] = "perf stat -e cycles over the whole run / %s delivered" % per
            else:
                entry["method"] = ("perf cannot count cycles here, so estimated: process CPU time "
                                   "(user+sys, all threads) x %.0f MHz (/proc/cpuinfo) / %s "
                                   "delivered" % ((hz or 0) / 1e6, per))

            def scale(r, per=per):
                n = r.get(per) or 0
                if n <= 0:
                    return None
                if self.perf and "cycles" in r:
                    return r["cycles"] / n
                if hz and r.get("cpu_s"):
                    return r["cpu_s"] * hz / n
                return None
            for side in ("ipstack", "kernel"):
                entry[side] = self.summarize_side(self.raw[src][side], scale=scale)
            entry["ratio"] = ratio(entry, better)
            out[name] = entry
        return out


def ratio(entry, better):
    i, k = entry["ipstack"], entry["kernel"]
    if "median" not in i or "median" not in k or i["median"] <= 0 or k["median"] <= 0:
        return None
    return i["median"] / k["median"] if better == "higher" else k["median"] / i["median"]


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1e6:
        return "%.3gM" % (v / 1e6)
    if a >= 1e4:
        return "%.3gk" % (v / 1e3)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.3g" % v


def fmt_side(s):
    if "median" not in s:
        return "n/a"
    return "%s [%s-%s]" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"]))


def print_table(summary, meta):
    rows = [("case", "ipstack med [min-max]", "kernel med [min-max]", "unit", "ratio", "target")]
    notes = []
    for name, e in summary.items():
        r = e.get("ratio")
        t = e.get("target_ratio")
        rows.append((name, fmt_side(e["ipstack"]), fmt_side(e["kernel"]), e.get("unit") or "",
                     "%.2f" % r if r is not None else "-", ">= %g" % t if t else ""))
        for side in ("ipstack", "kernel"):
            if "na" in e[side]:
                notes.append("%s %s: n/a (%s)" % (name, side, e[side]["na"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print("ipstack vs Linux, %s, %s, %d run(s) per figure, %g s each" %
          (meta["date"], meta["kernel"], meta["runs"], meta["time_s"]))
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j])
                        for j, c in enumerate(r)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for n in notes:
        print("  " + n)
    busy = max(meta["loadavg_start"], meta["loadavg_end"])
    if busy > 0.5 * (meta["cpus"] or 1):
        print("NOTE: the machine was busy (load average %.1f on %d CPUs): rates measured on the "
              "wall clock are low for both sides; ratios and cycle figures hold better" %
              (busy, meta["cpus"]))
    print("ratio = ipstack/kernel (kernel/ipstack for memory and cycles): higher is better")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/bench/ipsbench")
    ap.add_argument("--out", default="build/bench.json")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--time", type=float, default=2.0, help="seconds per load")
    ap.add_argument("--conns", type=int, default=10000, help="tcp_idle_conn_mem connections")
    ap.add_argument("--cases", default="", help="comma-separated subset")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny loads (checks the harness, measures nothing)")
    ap.add_argument("--no-perf", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.runs, a.time, a.conns = 1, 0.05, 1000
    cases = [c for c in a.cases.split(",") if c] or list(CASES)
    for c in cases:
        if c not in CASES:
            ap.error("unknown case %s (cases: %s)" % (c, ", ".join(CASES)))
    if not os.access(a.bin, os.X_OK):
        ap.error("%s is missing: make bench-bin" % a.bin)

    load0 = os.getloadavg()[0]
    runner = Runner(a)
    if not runner.root:
        log("bench: not root: the kernel side (network namespaces) and tcp_bulk_tap's "
            "ipstack side are skipped; run as root for the full comparison")
    if not runner.perf:
        log("bench: perf cannot count cycles on this machine: cycles are estimated from CPU time")

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    for c in cases:
        runner.run_case(c)
    summary = runner.summary()
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "kernel": "Linux " + platform.release(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "runs": a.runs,
        "time_s": a.time,
        "root": runner.root,
        "perf_cycles": runner.perf,
        "smoke": a.smoke,
        "kernel_congestion_control": Netns.cc_method,
        "loadavg_start": round(load0, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
        "command": "make bench" + (" BENCH_ARGS=\"%s\"" % " ".join(sys.argv[5:]) if len(sys.argv) > 5 else ""),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"meta": meta, "cases": summary,
                   "raw": runner.raw}, f, indent=1)
        f.write("\n")
    print_table(summary, meta)
    print("wrote %s" % a.out)


if __name__ == "__main__":
    main()
