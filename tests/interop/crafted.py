#!/usr/bin/python3
"""Crafted (mostly bad) IPv4 packets sent below IP, differentially: the same frames go to
ipstack (over a TAP device) and to a Linux peer (over a veth pair), and for each case the
answers (ICMP type/code/pointer, quoted bytes, options, or nothing within the window) and
the MIB counters that moved must be the same.

  crafted.py run --iface IF --src A --dst B --dst-mac MAC --out FILE.json
                 (--kernel-ns NS | --ipstack-pid PID --ipstack-stats FILE) [--cases a,b]
  crafted.py compare KERNEL.json IPSTACK.json   (prints the table; exit 1 on differences)
  crafted.py list

Run with Debian's /usr/bin/python3 (python3-scapy); needs root (AF_PACKET)."""
import argparse
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

WINDOW_S = 1.0		# answers are collected for this long after a case's last frame
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


# ---- packet building (bytes, so that any field can be wrong) ----

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(src, dst, payload, proto=1, ttl=64, ident=1, df=False, mf=False, frag=0, opts=b"",
        tot_len=None, ihl=None, version=4, bad_csum=False, tos=0):
    """An IPv4 header (checksum over the header bytes present, then optionally spoilt)
    followed by payload."""
    assert len(opts) % 4 == 0
    hl = 20 + len(opts)
    ihl = hl // 4 if ihl is None else ihl
    tl = hl + len(payload) if tot_len is None else tot_len
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | frag
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, tl, ident, flags, ttl, proto,
                    0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    c = csum(h)
    if bad_csum:
        c ^= 0x5a5a
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def icmp(typ, code=0, rest=b"\0\0\0\0", data=b"", bad_csum=False):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    c = csum(m)
    if bad_csum:
        c ^= 0x1234
    return m[:2] + struct.pack("!H", c) + m[4:]


PAYLOAD = bytes((i * 7 + 3) & 0xff for i in range(40))


def udp(src, dst, sport, dport, data, csum_mode="ok", length=None):
    """A UDP datagram; csum_mode "ok", "zero" (none, RFC 768) or "bad"."""
    ln = 8 + len(data) if length is None else length
    d = struct.pack("!HHHH", sport, dport, ln, 0) + data
    c = 0
    if csum_mode != "zero":
        pseudo = a2b(src) + a2b(dst) + struct.pack("!BBH", 0, 17, 8 + len(data))
        c = csum(pseudo + d) or 0xffff
        if csum_mode == "bad":
            c ^= 0x0f0f
    return d[:6] + struct.pack("!H", c) + d[8:]


def quoted(c, proto, inner, ident=0x4242, ttl=64):
    # (28 bytes: the header and 8 bytes of payload, all that RFC 792 promises)
    """An IPv4 packet that we pretend the target sent to us: the quote of an ICMP error."""
    return ip4(c["dst"], c["src"], inner, proto=proto, ident=ident, ttl=ttl)[:28]


def echo(ident, seq=1, data=PAYLOAD, bad_csum=False):
    return icmp(8, 0, struct.pack("!HH", ident, seq), data, bad_csum)


def eth(dst_mac, src_mac, payload, ethertype=ETH_P_IP):
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ethertype) + payload


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def a2b(a):
    return socket.inet_aton(a)


# ---- the cases: name -> (what Linux does, builder(ctx) -> [IP packets or (frame, dst-mac)]) ----
# ctx: src, dst, bcast and a unique IP ID base per case. What Linux does is documentation
# (docs/interop.md repeats it); the check is the comparison with the real kernel.

def frags(ctx, msg, pieces, ident):
    """Fragments of one ICMP message: pieces = [(offset_bytes, length, more)]."""
    out = []
    for off, ln, more in pieces:
        out.append(ip4(ctx["src"], ctx["dst"], msg[off:off + ln], ident=ident, mf=more,
                       frag=off // 8))
    return out


CASES = [
    ("echo_ok", "control: a plain echo request is answered",
     lambda c: [ip4(c["src"], c["dst"], echo(0x101), ident=c["id"])]),
    ("echo_padded", "Ethernet padding after tot_len is trimmed, the reply echoes the data only",
     lambda c: [ip4(c["src"], c["dst"], echo(0x102), ident=c["id"]) + b"\xee" * 24]),
    ("ip_csum_bad", "RFC 1122 3.2.1.2: bad header checksum, silently dropped (IpInCsumErrors)",
     lambda c: [ip4(c["src"], c["dst"], echo(0x103), ident=c["id"], bad_csum=True)]),
    ("ip_version6", "version 6 in an IPv4 frame: dropped, IpInHdrErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x104), ident=c["id"], version=6)]),
    ("ihl_lt5", "IHL 4: dropped, IpInHdrErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x105), ident=c["id"], ihl=4)]),
    ("ihl_gt_frame", "IHL 15 but the frame holds 28 bytes: dropped, IpInHdrErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x106, data=b""), ident=c["id"], ihl=15)]),
    ("ihl_gt_totlen", "IHL 15 (40 NOP bytes), tot_len 48 < 60: dropped, IpInHdrErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x107, data=b"x" * 8), ident=c["id"],
                    opts=b"\x01" * 40, tot_len=48)]),
    ("totlen_gt_frame", "tot_len 200 > the 68 bytes received: IpExtInTruncatedPkts",
     lambda c: [ip4(c["src"], c["dst"], echo(0x108), ident=c["id"], tot_len=200)]),
    ("totlen_lt_hdr", "tot_len 12 < the header: dropped, IpInHdrErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x109), ident=c["id"], tot_len=12)]),
    ("opt_rr_ptr3", "RR with pointer 3 (< 4): Parameter Problem, pointer 22 (ip_options_compile)",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10a), ident=c["id"],
                    opts=b"\x07\x07\x03" + b"\0" * 4 + b"\0")]),
    ("opt_rr_ptr5", "RR pointer 5: no room for an address from there, Parameter Problem 22",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10b), ident=c["id"],
                    opts=b"\x07\x07\x05" + b"\0" * 4 + b"\0")]),
    ("opt_rr_full", "RR already full (pointer > length): answered, nothing recorded",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10c), ident=c["id"],
                    opts=b"\x07\x07\x08" + a2b("10.199.5.77") + b"\0")]),
    ("opt_rr_ok", "RR with 9 free slots: the reply carries RR [dst, dst] (input + output)",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10d), ident=c["id"],
                    opts=b"\x07\x27\x04" + b"\0" * 36 + b"\0")]),
    ("opt_len_overrun", "option length 40 past the 8 option bytes: Parameter Problem, pointer 20",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10e), ident=c["id"],
                    opts=b"\x07\x28\x04" + b"\0" * 5)]),
    ("opt_len_lt2", "unknown option with length 1: Parameter Problem, pointer 20",
     lambda c: [ip4(c["src"], c["dst"], echo(0x10f), ident=c["id"],
                    opts=b"\x9e\x01\x00\x00")]),
    ("opt_unknown_ok", "unknown option, sane length: ignored, answered without it",
     lambda c: [ip4(c["src"], c["dst"], echo(0x110), ident=c["id"],
                    opts=b"\x9e\x04\xab\xcd")]),
    ("opt_nop_eol", "NOP NOP NOP EOL: answered",
     lambda c: [ip4(c["src"], c["dst"], echo(0x111), ident=c["id"], opts=b"\x01\x01\x01\x00")]),
    ("opt_ts_ptr4", "timestamp pointer 4 (< 5): Parameter Problem, pointer 22",
     lambda c: [ip4(c["src"], c["dst"], echo(0x112), ident=c["id"],
                    opts=b"\x44\x0c\x04\x00" + b"\0" * 8)]),
    ("opt_ts_badflag", "timestamp flag 2 (not 0, 1 or 3): received packets pass (Linux rejects "
     "it only from local senders), answered with the option echoed as it came",
     lambda c: [ip4(c["src"], c["dst"], echo(0x113), ident=c["id"],
                    opts=b"\x44\x0c\x05\x02" + b"\0" * 8)]),
    ("opt_ts_overflow", "timestamp full with overflow count 15: Parameter Problem, pointer 23",
     lambda c: [ip4(c["src"], c["dst"], echo(0x114), ident=c["id"],
                    opts=b"\x44\x0c\x0d\xf0" + b"\0" * 8)]),
    ("opt_ts_ok", "timestamp (tsonly, 2 slots): answered with both filled",
     lambda c: [ip4(c["src"], c["dst"], echo(0x115), ident=c["id"],
                    opts=b"\x44\x0c\x05\x00" + b"\0" * 8)]),
    ("opt_lsrr", "loose source route: dropped (accept_source_route=0), no counter but InReceives",
     lambda c: [ip4(c["src"], c["dst"], echo(0x116), ident=c["id"],
                    opts=b"\x83\x07\x04" + a2b("10.199.5.77") + b"\0")]),
    ("opt_ssrr", "strict source route: dropped likewise",
     lambda c: [ip4(c["src"], c["dst"], echo(0x117), ident=c["id"],
                    opts=b"\x89\x07\x04" + a2b("10.199.5.77") + b"\0")]),
    ("ttl0_echo", "TTL 0 to us: delivered and answered (TTL only matters when forwarding)",
     lambda c: [ip4(c["src"], c["dst"], echo(0x118), ident=c["id"], ttl=0)]),
    ("dst_other", "unicast to an address not ours, forwarding off: dropped, IpInAddrErrors",
     lambda c: [ip4(c["src"], c["other"], echo(0x119), ident=c["id"])]),
    ("src_loopback", "martian source 127.0.0.1: dropped",
     lambda c: [ip4("127.0.0.1", c["dst"], echo(0x11a), ident=c["id"])]),
    ("bcast_echo", "echo to the subnet broadcast: ignored (icmp_echo_ignore_broadcasts=1)",
     lambda c: [(ip4(c["src"], c["bcast"], echo(0x11b), ident=c["id"]), "ff:ff:ff:ff:ff:ff")]),
    ("proto_unknown", "protocol 253: Destination Unreachable, protocol (code 2)",
     lambda c: [ip4(c["src"], c["dst"], b"\0" * 16, proto=253, ident=c["id"])]),
    ("icmp_csum_bad", "ICMP checksum wrong: dropped, IcmpInCsumErrors + IcmpInErrors",
     lambda c: [ip4(c["src"], c["dst"], echo(0x11c, bad_csum=True), ident=c["id"])]),
    ("icmp_short", "4-byte ICMP message: dropped, IcmpInErrors",
     lambda c: [ip4(c["src"], c["dst"], icmp(8, 0, b"", b"")[:4], ident=c["id"])]),
    ("icmp_type99", "unknown ICMP type 99: counted (IcmpMsgInType99), IcmpInErrors, no answer",
     lambda c: [ip4(c["src"], c["dst"], icmp(99, 0, b"\0\0\0\0", PAYLOAD[:8]), ident=c["id"])]),
    ("icmp_timestamp", "timestamp request: timestamp reply (RFC 792); Linux counts the reply as "
     "IcmpOutEchoReps/IcmpMsgOutType0 (icmp_reply() leaves the flow's ICMP type 0)",
     lambda c: [ip4(c["src"], c["dst"], icmp(13, 0, struct.pack("!HH", 0x11d, 1), b"\0" * 12),
                    ident=c["id"])]),
    ("icmp_addrmask", "address mask request: counted, not answered (Linux)",
     lambda c: [ip4(c["src"], c["dst"], icmp(17, 0, struct.pack("!HH", 0x11e, 1), b"\0" * 4),
                    ident=c["id"])]),
    ("udp_closed", "UDP to a closed port: Destination Unreachable, port (code 3); UdpNoPorts",
     lambda c: [ip4(c["src"], c["dst"], udp(c["src"], c["dst"], 40001, 9, PAYLOAD), proto=17,
                    ident=c["id"])]),
    ("udp_csum_zero", "UDP without checksum (0, RFC 768) to a closed port: port unreachable",
     lambda c: [ip4(c["src"], c["dst"], udp(c["src"], c["dst"], 40002, 9, PAYLOAD, "zero"),
                    proto=17, ident=c["id"])]),
    ("udp_csum_bad", "UDP with a bad checksum: dropped; UdpInCsumErrors, UdpInErrors",
     lambda c: [ip4(c["src"], c["dst"], udp(c["src"], c["dst"], 40003, 9, PAYLOAD, "bad"),
                    proto=17, ident=c["id"])]),
    ("udp_len_long", "UDP length 200 beyond the datagram: dropped; UdpInErrors",
     lambda c: [ip4(c["src"], c["dst"], udp(c["src"], c["dst"], 40004, 9, PAYLOAD, "zero", 200),
                    proto=17, ident=c["id"])]),
    ("udp_len_short", "UDP length 4 (< 8): dropped; UdpInErrors",
     lambda c: [ip4(c["src"], c["dst"], udp(c["src"], c["dst"], 40005, 9, PAYLOAD, "zero", 4),
                    proto=17, ident=c["id"])]),
    ("udp_bcast_closed", "UDP broadcast to a closed port: never answered (RFC 1122 4.1.3.1)",
     lambda c: [(ip4(c["src"], c["bcast"], udp(c["src"], c["bcast"], 40006, 9, PAYLOAD),
                     proto=17, ident=c["id"]), "ff:ff:ff:ff:ff:ff")]),
    ("icmp_in_unreach", "a port unreachable about a datagram we 'sent': counted, not answered",
     lambda c: [ip4(c["src"], c["dst"], icmp(3, 3, b"\0" * 4, quoted(
         c, 17, udp(c["dst"], c["src"], 40007, 7, b"abcd"))), ident=c["id"])]),
    ("icmp_in_unreach_bcast_quote", "an ICMP error quoting a broadcast: counted, not answered",
     lambda c: [ip4(c["src"], c["dst"], icmp(3, 1, b"\0" * 4, ip4(c["dst"], c["bcast"], udp(
         c["dst"], c["bcast"], 40008, 7, b"abcd"), proto=17)[:28]), ident=c["id"])]),
    ("frag_tiny", "first fragment carries only the 8-byte ICMP header: reassembled, answered",
     lambda c: frags(c, echo(0x11f), [(0, 8, True), (8, 40, False)], c["id"])),
    ("frag_reverse", "fragments in reverse order: reassembled, answered",
     lambda c: frags(c, echo(0x120), [(24, 24, False), (0, 24, True)], c["id"])),
    ("frag_dup", "an exact duplicate fragment: ignored, the datagram completes",
     lambda c: frags(c, echo(0x121), [(0, 24, True), (0, 24, True), (24, 24, False)], c["id"])),
    ("frag_overlap", "overlapping fragments: the queue is dropped (IpExtReasmOverlaps), no answer",
     lambda c: frags(c, echo(0x122), [(0, 24, True), (16, 32, False)], c["id"])),
    # Last: it leaves a 10-minute PMTU exception towards the sender (nothing after this
    # case sends more than 1300 bytes).
    ("pmtu_learn", "Frag Needed (mtu 1300) quoting an echo reply we 'sent', then a 1400-byte "
     "echo: the reply leaves in two fragments (ICMP error handler learns the PMTU, RFC 1191)",
     lambda c: [ip4(c["src"], c["dst"], icmp(3, 4, struct.pack("!HH", 0, 1300), ip4(
         c["dst"], c["src"], icmp(0, 0, struct.pack("!HH", 0x123, 1), b"\0" * 1392),
         ident=0x4343)[:28]), ident=c["id"]),
                ip4(c["src"], c["dst"], echo(0x124, data=bytes(range(256)) * 5 + b"x" * 92),
                    ident=c["id"] + 1)]),
]
CASE_NAMES = [n for n, _, _ in CASES]

# Differences from Linux that are understood and accepted: (case or "*", what) -> reason,
# where what is "response" or a counter name. Keep this short, and say why.
EXCEPTIONS = {
}


# ---- summarising answers ----

def roles(ctx):
    return {ctx["src"]: "S", ctx["dst"]: "D", ctx["other"]: "O"}


def addr_role(ctx, raw4):
    a = socket.inet_ntoa(raw4)
    return roles(ctx).get(a, a)


def opts_summary(ctx, opts):
    out, i = [], 0
    while i < len(opts):
        t = opts[i]
        if t == 0:
            break
        if t == 1:
            i += 1
            continue
        if i + 1 >= len(opts):
            out.append("trunc")
            break
        ln = opts[i + 1]
        body = opts[i:i + ln] if ln >= 2 else opts[i:i + 2]
        if t == 7 and ln >= 3:		# record route: the addresses recorded so far
            ptr = body[2]
            addrs = [addr_role(ctx, body[j:j + 4]) for j in range(3, min(ptr - 1, ln), 4)
                     if j + 4 <= len(body)]
            out.append("RR[%s]ptr=%d" % (",".join(addrs), ptr))
        elif t == 0x44 and ln >= 4:	# timestamp: count and flags, not the times
            ptr, of, fl = body[2], body[3] >> 4, body[3] & 15
            step = 8 if fl in (1, 3) else 4
            out.append("TS[n=%d,oflw=%d,flag=%d]" % (max(0, (ptr - 5) // step), of, fl))
        else:
            out.append("opt%d/%d" % (t, ln))
        i += max(ln, 2)
    return ",".join(out)


def summarise(ctx, frame):
    """One answer frame as a comparable string."""
    et = struct.unpack("!H", frame[12:14])[0]
    if et != ETH_P_IP:
        return "ethertype 0x%04x" % et
    p = frame[14:]
    ihl = (p[0] & 15) * 4
    tot = struct.unpack("!H", p[2:4])[0]
    ttl, proto = p[8], p[9]
    fl = struct.unpack("!H", p[6:8])[0]
    src, dst = addr_role(ctx, p[12:16]), addr_role(ctx, p[16:20])
    hdr = "%s>%s ttl=%d%s%s" % (src, dst, ttl, " DF" if fl & 0x4000 else "",
                                " frag" if fl & 0x3fff else "")
    o = opts_summary(ctx, p[20:ihl])
    if o:
        hdr += " opts=" + o
    body = p[ihl:tot]
    if fl & 0x3fff:		# a fragment: its place and its bytes
        first = " icmp type=%d" % body[0] if proto == 1 and not fl & 0x1fff and body else ""
        return "%s off=%d len=%d%s data#%s" % (hdr, (fl & 0x1fff) * 8, len(body), first,
                                              hashlib.sha1(body).hexdigest()[:8])
    if proto != 1:
        return "%s proto=%d len=%d" % (hdr, proto, len(body))
    if len(body) < 8:
        return "%s icmp-short len=%d" % (hdr, len(body))
    t, c = body[0], body[1]
    ok = "" if csum(body) == 0 else " BAD-ICMP-CSUM"
    digest = hashlib.sha1(body[4:]).hexdigest()[:8]
    if t == 0:
        return "%s echo-reply len=%d data#%s%s" % (hdr, len(body), digest, ok)
    if t == 14:
        ident, seq = struct.unpack("!HH", body[4:8])
        return "%s timestamp-reply id=%#x seq=%d len=%d%s" % (hdr, ident, seq, len(body), ok)
    if t in (3, 4, 5, 11, 12):
        names = {3: "unreach", 4: "source-quench", 5: "redirect", 11: "time-exceeded",
                 12: "param-problem"}
        extra = ""
        if t == 12:
            extra = " ptr=%d" % body[4]
        elif t == 3 and c == 4:
            extra = " mtu=%d" % struct.unpack("!H", body[6:8])[0]
        q = body[8:]
        return "%s %s code=%d%s quote=%d#%s%s" % (hdr, names[t], c, extra, len(q),
                                                   hashlib.sha1(q).hexdigest()[:8], ok)
    return "%s icmp type=%d code=%d len=%d%s" % (hdr, t, c, len(body), ok)


# ---- counters ----

def read_counters(args):
    if args.kernel_ns:
        env = dict(os.environ, NSTAT_HISTORY="/dev/null")
        out = subprocess.run(["ip", "netns", "exec", args.kernel_ns, "nstat", "-asz"],
                             capture_output=True, text=True, env=env, timeout=10).stdout
    else:
        try:
            os.unlink(args.ipstack_stats)
        except FileNotFoundError:
            pass
        os.kill(args.ipstack_pid, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not os.path.exists(args.ipstack_stats):
            if time.monotonic() > deadline:
                raise SystemExit("crafted: ipstack did not write %s" % args.ipstack_stats)
            time.sleep(0.01)
        with open(args.ipstack_stats) as f:
            out = f.read()
    vals = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and not line.startswith("#") and f[1].isdigit():
            vals[f[0]] = int(f[1])
    return vals


# ---- run ----

def run(args):
    ctx = {"src": args.src, "dst": args.dst, "other": args.other, "bcast": args.bcast}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    my_mac = ":".join("%02x" % b for b in s.getsockname()[4][:6])
    dst_mac = mac_bytes(args.dst_mac)
    names = args.cases.split(",") if args.cases else CASE_NAMES
    results = []
    for n, (name, doc, build) in enumerate(CASES):
        if name not in names:
            continue
        ctx["id"] = 0x5100 + n
        pkts = build(ctx)
        before = read_counters(args)
        while select.select([s], [], [], 0)[0]:	# drop anything older
            s.recv(70000)
        for p in pkts:
            mac = args.dst_mac
            if isinstance(p, tuple):
                p, mac = p
            s.send(eth(mac, my_mac, p))
            time.sleep(0.002)
        answers = []
        deadline = time.monotonic() + WINDOW_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            frame, addr = s.recvfrom(70000)
            if addr[2] == PACKET_OUTGOING or frame[6:12] != dst_mac:
                continue
            if struct.unpack("!H", frame[12:14])[0] == 0x0806:	# ARP
                continue
            answers.append(summarise(ctx, frame))
        after = read_counters(args)
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        results.append({"case": name, "doc": doc, "answers": answers, "delta": delta,
                        "known": sorted(after)})
        print("%-16s %s | %s" % (name, "; ".join(answers) or "none",
                                 " ".join("%s+%d" % kv for kv in sorted(delta.items()))),
              flush=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    return 0


# ---- compare ----

def comparable(name, kernel_known, ips_known):
    if name.startswith("IcmpMsg"):
        return True		# listed only when non-zero, on both sides
    return name in kernel_known and name in ips_known


def compare(args):
    with open(args.kernel) as f:
        kern = {r["case"]: r for r in json.load(f)}
    with open(args.ipstack) as f:
        ips = {r["case"]: r for r in json.load(f)}
    rows, nfail = [], 0
    for name in CASE_NAMES:
        if name not in kern and name not in ips:
            continue
        k, i = kern.get(name), ips.get(name)
        if not k or not i:
            rows.append((name, "FAIL", "missing on the %s side" % ("kernel" if not k else "ipstack"), []))
            nfail += 1
            continue
        problems, notes, reasons = [], [], []
        ka, ia = sorted(k["answers"]), sorted(i["answers"])
        if ka != ia:
            why = EXCEPTIONS.get((name, "response")) or EXCEPTIONS.get(("*", "response"))
            msg = "answers: kernel [%s], ipstack [%s]" % ("; ".join(ka) or "none", "; ".join(ia) or "none")
            (notes if why else problems).append(msg + (" (accepted)" if why else ""))
            if why and why not in reasons:
                reasons.append(why)
        kk, ik = set(k["known"]), set(i["known"])
        for c in sorted(set(k["delta"]) | set(i["delta"])):
            if not comparable(c, kk, ik):
                continue
            kd, idl = k["delta"].get(c, 0), i["delta"].get(c, 0)
            if kd == idl:
                continue
            why = EXCEPTIONS.get((name, c)) or EXCEPTIONS.get(("*", c))
            msg = "%s: kernel %+d, ipstack %+d" % (c, kd, idl)
            (notes if why else problems).append(msg + (" (accepted)" if why else ""))
            if why and why not in reasons:
                reasons.append(why)
        notes += ["accepted because: " + r for r in reasons]
        verdict = "FAIL" if problems else "ok"
        nfail += bool(problems)
        kc = " ".join("%s+%d" % (c, v) for c, v in sorted(k["delta"].items())
                      if comparable(c, kk, ik))
        rows.append((name, verdict, "%s | %s" % ("; ".join(ka) or "none", kc), problems + notes))
    print("%-16s %-4s %s" % ("case", "", "Linux: answers | counters moved (ipstack must match)"))
    for name, verdict, summary, detail in rows:
        print("%-4s crafted %-16s %s" % (verdict, name, summary))
        for d in detail:
            print("         %s" % d)
    print("crafted: %d cases, %d differ from Linux" % (len(rows), nfail))
    return 1 if nfail else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--iface", required=True)
    r.add_argument("--src", required=True)
    r.add_argument("--dst", required=True)
    r.add_argument("--other", default="10.199.5.77")
    r.add_argument("--bcast", required=True)
    r.add_argument("--dst-mac", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--kernel-ns")
    r.add_argument("--ipstack-pid", type=int)
    r.add_argument("--ipstack-stats")
    r.add_argument("--cases")
    c = sub.add_parser("compare")
    c.add_argument("kernel")
    c.add_argument("ipstack")
    sub.add_parser("list")
    args = ap.parse_args()
    if args.cmd == "run":
        if not args.kernel_ns and not (args.ipstack_pid and args.ipstack_stats):
            ap.error("give --kernel-ns or --ipstack-pid and --ipstack-stats")
        return run(args)
    if args.cmd == "compare":
        return compare(args)
    for name, doc, _ in CASES:
        print("%-16s %s" % (name, doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
