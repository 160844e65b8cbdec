#!/usr/bin/env python3
"""A/B one ipstack case between two ipsbench binaries (before/after a change).

  python3 bench/ab.py build/bench-base/ipsbench build/bench/ipsbench udp_pps_64 --runs 9

Runs the two binaries alternately (so both see the same machine load) and prints, for
each, the median value, and the median CPU time per unit (ns of CPU per packet,
transaction, connection or byte), which is far less sensitive to other load on a shared
machine than a rate measured on the wall clock.
"""
import argparse
import json
import statistics
import subprocess


def run(binary, case, t, extra):
    out = subprocess.run([binary, case, "ipstack", "--time", str(t)] + extra,
                         stdout=subprocess.PIPE, text=True, timeout=t * 5 + 60).stdout
    return json.loads(next(l for l in out.splitlines() if l.startswith("{")))


def per_unit(r):
    n = r.get("packets") or r.get("bytes")
    return r["cpu_s"] * 1e9 / n if n and r.get("cpu_s") else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("case")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    res = {a.a: [], a.b: []}
    for _ in range(a.runs):
        for b in (a.a, a.b):
            res[b].append(run(b, a.case, a.time, a.extra))
    for b, rs in res.items():
        ok = [r for r in rs if "na" not in r]
        if not ok:
            print("%s: n/a (%s)" % (b, rs[0].get("na")))
            continue
        vals = [r["value"] for r in ok]
        pu = [x for x in (per_unit(r) for r in ok) if x is not None]
        print("%-28s %s median %.4g [%.4g-%.4g]   cpu/unit median %.4g ns [%.4g-%.4g]" % (
            b, ok[0]["unit"], statistics.median(vals), min(vals), max(vals),
            statistics.median(pu) if pu else 0, min(pu) if pu else 0, max(pu) if pu else 0))


if __name__ == "__main__":
    main()
