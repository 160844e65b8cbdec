#!/usr/bin/env python3
"""Write the seed inputs of each fuzz corpus (fuzz/corpus/<name>/seed_*) from the unit
test vectors (tests/unit/wire/vectors.h: real packets captured on Linux) plus a few
hand-made option mixes. Run once; the fuzzers grow the corpora from there."""
import os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = open(os.path.join(root, "tests/unit/wire/vectors.h")).read()
vec = {}
for m in re.finditer(r'static const char (\w+)\[\] =(.*?);', src, re.S):
    hexs = "".join(re.findall(r'"([0-9a-fA-F ]*)"', m.group(2)))
    vec[m.group(1)] = bytes.fromhex(hexs.replace(" ", ""))

def ihl(p):
    return (p[0] & 0xf) * 4

seeds = {n: {} for n in ["eth", "arp", "ipv4", "icmp", "igmp", "udp", "tcp"]}
for k, p in vec.items():
    seeds["ipv4"][k] = p
    seeds["eth"][k] = bytes(12) + b"\x08\x00" + p[:20]
    l4 = p[ihl(p):]
    if k.startswith(("RR_", "TSONLY_", "TSADDR_", "PRESPEC_")) or "ICMP" in k:
        seeds["icmp"][k] = l4
    elif "IGMP" in k:
        seeds["igmp"][k] = l4
    elif "UDP" in k:
        seeds["udp"][k] = l4
    elif "TCP" in k:
        seeds["tcp"][k] = l4

def hx(s):
    return bytes.fromhex(s.replace(" ", ""))

ip = "4f00004c 00004000 40010000 c0000201 0a000001"
seeds["ipv4"]["lsrr"] = hx("48000024 00004000 40010000 c0000201 0a000001 830b04 0a000001 0a090909 00")
seeds["ipv4"]["ssrr_visited"] = hx("48000024 00004000 40010000 c0000201 0a000001 890b0c c6336401 c6336402 00")
seeds["ipv4"]["ra_cipso"] = hx("48000024 00004000 40010000 c0000201 0a000001 94040000 860a0000 00010000 0000")
seeds["ipv4"]["ts_full"] = hx("47000020 00004000 40010000 c0000201 0a000001 44080921 0a000002")
seeds["ipv4"]["mix"] = hx("4e000038 00004000 40010000 c0000201 0a000001 07070400 00000083 07040a00 00029404 00004408 05000000 0000 0000")
seeds["arp"]["req"] = hx("00010800 06040001 00070daf f45418a6 ac010000 00000000 18a6ad9f")
seeds["arp"]["ieee802"] = hx("00060800 06040002 00070daf f45418a6 ac010000 00000000 18a6ad9f")
seeds["igmp"]["v2_query"] = hx("1164ee9b 00000000")
seeds["igmp"]["v3_query"] = hx("11640000 e8010101 0a7d0002 c0000201 c0000202")
seeds["igmp"]["v3_report"] = hx("22000000 00000003 01000002 e8010101 0a000001 0a000002 05000001 e8010102 0a090909 02010000 ef000001 00000000")
seeds["tcp"]["sack_fo_md5"] = hx("00010002 00000001 00000002 f0100100 00000000 0101051a 0000000a 00000014 0000001e 00000028 00000032 0000003c 220a0102 03040506 07080101")
seeds["tcp"]["md5_exp"] = hx("00010002 00000001 00000002 b0020100 00000000 01011312 00000000 00000000 00000000 00000000 fe08f989 01020304")
seeds["udp"]["lite"] = hx("04d207d0 000c0000 5a5a5a5a 5a5a5a5a 5a5a5a5a")

for name, s in seeds.items():
    d = os.path.join(root, "fuzz/corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in s.items():
        open(os.path.join(d, "seed_" + k.lower()), "wb").write(v)
    print(name, len(s))
