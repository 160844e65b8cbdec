#!/usr/bin/env python3
"""Replay packet-level TCP scripts (tests/tcp/scripts/**.pkt) against the Linux kernel.

Each script runs in a throwaway network namespace (unshare -n) holding a TUN device
tun0 192.168.0.1/24 with a route to 192.0.2.0/24, exactly the world of the simulated
harness (tests/tcp/harness.c): this tool plays the peer 192.0.2.1, writes the script's
'<' packets into the TUN device, reads what the kernel sends and checks it against the
'>' lines (flags, seq/ack relative to the ISNs, window, urgent pointer, options with '*',
payload pattern, ECN/TOS, timing with a tolerance), and makes the socket calls with the
kernel's own sockets (nonblocking, as in the harness). Counters come from the
namespace's /proc/net/{snmp,netstat}, tw_count from /proc/net/sockstat.

    kreplay.py [-j N] [--tol MS] [--max-span S] [--retry N] [-k] [-v] script.pkt|dir ...  (root)

-k keeps going after a difference (prints them all), -v prints every packet seen,
--max-span skips scripts that run longer than S seconds of script time.

A script whose first lines hold '# kernel: skip <why>' is not replayed. The namespace
uses cubic (this machine's default is bbr) and the simulated stack's tcp_rmem/tcp_wmem.
Prints one line per script and 'N passed, N failed, N skipped'.
"""
import errno
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

LOCAL = "192.168.0.1"
REMOTE = "192.0.2.1"
REMOTE_ISN = 1000000000
KEEP_GOING = False
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

FLAGS = {"S": 0x02, "F": 0x01, "R": 0x04, "P": 0x08, "U": 0x20, "E": 0x40, "W": 0x80, ".": 0x10}

SOL_TCP = 6
OPTS = {
    "TCP_NODELAY": (SOL_TCP, 1), "TCP_MAXSEG": (SOL_TCP, 2), "TCP_CORK": (SOL_TCP, 3),
    "TCP_KEEPIDLE": (SOL_TCP, 4), "TCP_KEEPINTVL": (SOL_TCP, 5), "TCP_KEEPCNT": (SOL_TCP, 6),
    "TCP_SYNCNT": (SOL_TCP, 7), "TCP_LINGER2": (SOL_TCP, 8), "TCP_DEFER_ACCEPT": (SOL_TCP, 9),
    "TCP_WINDOW_CLAMP": (SOL_TCP, 10), "TCP_QUICKACK": (SOL_TCP, 12),
    "TCP_CONGESTION": (SOL_TCP, 13), "TCP_USER_TIMEOUT": (SOL_TCP, 18),
    "TCP_NOTSENT_LOWAT": (SOL_TCP, 25),
    "SO_KEEPALIVE": (socket.SOL_SOCKET, socket.SO_KEEPALIVE),
    "SO_LINGER": (socket.SOL_SOCKET, socket.SO_LINGER),
    "SO_RCVBUF": (socket.SOL_SOCKET, socket.SO_RCVBUF),
    "SO_SNDBUF": (socket.SOL_SOCKET, socket.SO_SNDBUF),
    "SO_REUSEADDR": (socket.SOL_SOCKET, socket.SO_REUSEADDR),
    "SO_OOBINLINE": (socket.SOL_SOCKET, socket.SO_OOBINLINE),
    "SO_RCVLOWAT": (socket.SOL_SOCKET, socket.SO_RCVLOWAT),
    "SO_ERROR": (socket.SOL_SOCKET, socket.SO_ERROR),
    "IP_TOS": (socket.IPPROTO_IP, 1), "IP_TTL": (socket.IPPROTO_IP, 2),
    "IP_RECVERR": (socket.IPPROTO_IP, 11), "IP_MTU": (socket.IPPROTO_IP, 14),
    "IP_MTU_DISCOVER": (socket.IPPROTO_IP, 10),
    "IP_OPTIONS": (socket.IPPROTO_IP, 4),
}
IFIELDS = {     # offset, size in struct tcp_info (Linux 6.7+)
    "state": (0, 1), "ca_state": (1, 1), "retransmits": (2, 1), "probes": (3, 1),
    "backoff": (4, 1), "options": (5, 1), "wscale": (6, 1),
    "rto": (8, 4), "ato": (12, 4), "snd_mss": (16, 4), "rcv_mss": (20, 4),
    "unacked": (24, 4), "sacked": (28, 4), "lost": (32, 4), "retrans": (36, 4),
    "fackets": (40, 4), "last_data_sent": (44, 4), "last_ack_sent": (48, 4),
    "last_data_recv": (52, 4), "last_ack_recv": (56, 4),
    "pmtu": (60, 4), "rcv_ssthresh": (64, 4), "rtt": (68, 4), "rttvar": (72, 4),
    "snd_ssthresh": (76, 4), "snd_cwnd": (80, 4), "advmss": (84, 4),
    "reordering": (88, 4), "rcv_rtt": (92, 4), "rcv_space": (96, 4),
    "total_retrans": (100, 4), "bytes_acked": (120, 8), "bytes_received": (128, 8),
    "segs_out": (136, 4), "segs_in": (140, 4), "notsent_bytes": (144, 4),
    "min_rtt": (148, 4), "data_segs_in": (152, 4), "data_segs_out": (156, 4),
    "delivered": (192, 4), "delivered_ce": (196, 4), "bytes_sent": (200, 8),
    "bytes_retrans": (208, 8), "dsack_dups": (216, 4), "reord_seen": (220, 4),
    "rcv_ooopack": (224, 4), "snd_wnd": (228, 4), "rcv_wnd": (232, 4),
    "total_rto": (240, 2), "total_rto_recoveries": (242, 2), "total_rto_time": (244, 4),
}
STATES = ["?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
          "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"]
IOCTLS = {"SIOCINQ": 0x541B, "FIONREAD": 0x541B, "SIOCOUTQ": 0x5411, "SIOCOUTQNSD": 0x894C,
          "SIOCATMARK": 0x8905}


PURE = ("state", "tw_count", "socks", "synq", "counter", "info", "poll", "error")


class Fail(Exception):
    pass


class Soft(Exception):
    pass


def pattern(off):
    return (off * 7 + 13) & 0xFF


def pattern_bytes(start, n):
    return bytes(((start + i) * 7 + 13) & 0xFF for i in range(n))


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_hdr(proto, plen, src, dst, tos, ident, opts=b""):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, tos, hl + plen, ident, 0x4000, 64, proto,
                    0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def ipopt_bytes(hexs):
    """ipopt HEX: IP option bytes, padded with EOL to a multiple of 4; "-": none."""
    b = bytes.fromhex(hexs) if hexs != "-" else b""
    if len(b) > 40:
        raise Fail("ipopt longer than 40 bytes")
    while len(b) % 4:
        b += b"\0"
    return b


def opts_str(o, base):
    out, i = [], 0
    while i < len(o):
        k = o[i]
        if k == 0:
            out.append("eol")
            i += 1
            continue
        if k == 1:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= len(o) or o[i + 1] < 2 or i + o[i + 1] > len(o):
            out.append("bad")
            break
        ln = o[i + 1]
        b = o[i + 2:i + ln]
        if k == 2 and ln == 4:
            out.append("mss %d" % struct.unpack("!H", b)[0])
        elif k == 3 and ln == 3:
            out.append("wscale %d" % b[0])
        elif k == 4 and ln == 2:
            out.append("sackOK")
        elif k == 8 and ln == 10:
            out.append("TS val %d ecr %d" % struct.unpack("!II", b))
        elif k == 5 and (ln - 2) % 8 == 0:
            bl = []
            for j in range((ln - 2) // 8):
                a, c = struct.unpack("!II", b[8 * j:8 * j + 8])
                bl.append("%d:%d" % ((a - base) & 0xFFFFFFFF, (c - base) & 0xFFFFFFFF))
            out.append("sack " + " ".join(bl))
        else:
            out.append("opt%d/%d" % (k, ln))
        i += ln
    return ",".join(out)


def opts_match(exp, got):
    e = [x.split() for x in exp.split(",") if x.strip()]
    g = [x.split() for x in got.split(",") if x.strip()]
    if len(e) != len(g):
        return False
    for a, b in zip(e, g):
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if x != "*" and x != y:
                return False
    return True


class Pkt:
    pass


def parse_out(data):
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    if data[9] != 6 or len(data) < ihl + 20:
        return None
    p = Pkt()
    p.tos = data[1]
    p.daddr = socket.inet_ntoa(data[16:20])
    p.ipopts = data[20:ihl]
    t = data[ihl:]
    doff = (t[12] >> 4) * 4
    p.sport, p.dport, p.seq, p.ack = struct.unpack("!HHII", t[:12])
    p.flags = t[13] | ((t[12] & 1) << 8)
    p.win, _, p.urg = struct.unpack("!HHH", t[14:20])
    p.opts = t[20:doff]
    p.payload = t[doff:]
    p.raw = data
    return p


def flags_str(f):
    return "".join(c for c in "SFRPUEW." if f & FLAGS[c])


class Spec:
    pass


class Peer:
    """A remote end the replay plays (see harness.c's struct hpeer): the untagged lines
    use the default peer, a line tagged [port P] (addr, ranges) its own."""
    def __init__(self, addr, port):
        self.addr = addr
        self.port = port
        self.local_port = 0
        self.local_isn = 0
        self.local_isn_known = False
        self.remote_isn = REMOTE_ISN
        self.last_tsval = 0
        self.last_ecr = 0
        self.last_out = b""


def parse_range(v, is_addr):
    a, dots, b = v.partition("..")
    if is_addr:
        lo = struct.unpack("!I", socket.inet_aton(a))[0]
        hi = struct.unpack("!I", socket.inet_aton(b))[0] if dots else lo
        if lo >> 8 != hi >> 8:
            raise ValueError(v)
    else:
        lo = int(a, 0)
        hi = int(b, 0) if dots else lo
        if hi > 65535:
            raise ValueError(v)
    if hi < lo:
        raise ValueError(v)
    return lo, hi


def parse_pspec(words_line):
    s = Spec()
    line = words_line.strip()
    s.opts = None
    if "<" in line:
        a = line.index("<")
        b = line.rindex(">")
        s.opts = line[a + 1:b]
        line = line[:a] + " " + line[b + 1:]
    w = line.split()
    s.flags = 0
    for c in w[0]:
        if c not in FLAGS:
            raise Fail("bad flags %s" % w[0])
        s.flags |= FLAGS[c]
    a, rest = w[1].split(":")
    e, ln = rest.rstrip(")").split("(")
    s.seq, s.end, s.len = int(a), int(e), int(ln)
    s.ack = s.win = s.urg = s.tos = None
    s.ect0 = s.ce = False
    s.ipopt = s.ipdst = None
    i = 2
    while i < len(w):
        k = w[i]
        if k in ("ack", "win", "urg", "tos"):
            setattr(s, k, int(w[i + 1], 0))
            i += 2
        elif k == "ipopt":
            s.ipopt = ipopt_bytes(w[i + 1])
            i += 2
        elif k == "ipdst":
            s.ipdst = w[i + 1]
            i += 2
        elif k == "ect0":
            s.ect0 = True
            i += 1
        elif k == "ce":
            s.ce = True
            i += 1
        else:
            raise Fail("unexpected %s in packet" % k)
    return s


class Runner:
    def __init__(self, path, text, tol_ms, verbose):
        self.dflt = Peer(REMOTE, None)
        self.peers = {}  # (addr, port) -> Peer
        self.listen_port = 0
        self.path = path
        self.text = text
        self.tol = tol_ms / 1000.0
        self.verbose = verbose
        self.q = []
        self.cv = threading.Condition()
        self.fds = {}
        self.wr = {}     # fd -> bytes written (stream offset)
        self.rd = {}     # fd -> bytes read
        self.remote_port = 8080
        self.remote_port_seen = None
        self.local_port = 0
        self.ident = 1
        self.last = 0.0
        self.last_pkt = 0.0
        self.drift = 0.0
        self.lineno = 0
        self.line = ""
        self.keep_going = KEEP_GOING
        self.nfail = 0
        self.urgent = "MSG_OOB" in text or " U" in text

    # ---- world ----
    def setup(self, mtu):
        def sysctl(name, val):
            with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
                f.write(val)
        try:
            sysctl("net.ipv6.conf.all.disable_ipv6", "1")
            sysctl("net.ipv6.conf.default.disable_ipv6", "1")
        except OSError:
            pass
        # A namespace may only choose a congestion control listed in
        # tcp_allowed_congestion_control; where cubic is not, each socket gets
        # TCP_CONGESTION=cubic (root may) right after socket().
        try:
            sysctl("net.ipv4.tcp_congestion_control", "cubic")
            self.cc_per_sock = False
        except OSError:
            self.cc_per_sock = True
        sysctl("net.ipv4.tcp_rmem", "4096 131072 33554432")
        sysctl("net.ipv4.tcp_wmem", "4096 16384 4194304")
        self.tun = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.tun, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI))
        # one segment per packet, as the harness's device (no GSO): the kernel then cuts
        # and PSH-marks segments as it does on a device without segmentation offload
        subprocess.run(["ip", "-batch", "-"], check=True, input=(
            "link set lo up\n"
            "link set tun0 mtu %d gso_max_segs 1 up\n"
            "addr add %s/24 dev tun0\n"
            "route add 192.0.2.0/24 dev tun0\n" % (mtu, LOCAL)).encode())
        # the replay's timing matters more than anything else on the machine: real-time
        # scheduling (inherited by the reader thread) keeps parallel replays on time
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except (OSError, AttributeError):
            pass
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        while True:
            try:
                d = os.read(self.tun, 70000)
            except OSError:
                return
            t = time.monotonic()
            p = parse_out(d)
            if p is None:
                continue
            p.t = t
            with self.cv:
                self.q.append(p)
                self.cv.notify_all()

    def now(self):
        return time.monotonic() - self.t0

    def sleep_to(self, t):
        while True:
            d = t - self.now()
            if d <= 0:
                return
            time.sleep(min(d, 0.5))

    def fail(self, msg):
        if self.keep_going:
            print("%s:%d: %s\n    script: %s" % (self.path, self.lineno, msg, self.line))
            self.nfail += 1
            raise Soft()
        raise Fail("%s:%d: %s\n    script: %s" % (self.path, self.lineno, msg, self.line))

    def pkt_peer(self, p):
        return self.peers.get((p.daddr, p.dport), self.dflt)

    def pstr(self, p, out=True, c=None):
        c = c or self.pkt_peer(p)
        sb = c.local_isn if out else c.remote_isn
        ab = c.remote_isn if out else (c.local_isn or 0)
        rel = (p.seq - (sb or 0)) & 0xFFFFFFFF
        tag = "" if c is self.dflt else "[addr %s port %d] " % (c.addr, c.port)
        s = "> %s%s %d:%d(%d)" % (tag, flags_str(p.flags), rel, rel + len(p.payload), len(p.payload))
        if p.flags & 0x10:
            s += " ack %d" % ((p.ack - ab) & 0xFFFFFFFF)
        s += " win %d" % p.win
        if p.flags & 0x20:
            s += " urg %d" % p.urg
        o = opts_str(p.opts, ab)
        if o:
            s += " <%s>" % o
        return s

    def check_unexpected(self):
        with self.cv:
            if self.q:
                p = self.q[0]
                if self.keep_going:
                    self.q.pop(0)
                    try:
                        self.fail("unexpected packet at %.3f: %s" % (p.t - self.t0, self.pstr(p)))
                    except Soft:
                        pass
                    return
                self.fail("unexpected packet at %.3f: %s" % (p.t - self.t0, self.pstr(p)))

    # ---- packets ----
    def build_opts(self, spec, c):
        o = b""
        for item in spec.split(","):
            w = item.split()
            if not w:
                continue
            k = w[0]
            if k == "nop":
                o += b"\1"
            elif k == "eol":
                o += b"\0"
            elif k == "mss":
                o += struct.pack("!BBH", 2, 4, int(w[1]))
            elif k == "wscale":
                o += struct.pack("!BBB", 3, 3, int(w[1]))
            elif k == "sackOK":
                o += b"\4\2"
            elif k == "TS":
                ecr = c.last_tsval if w[4] == "*" else c.last_ecr if w[4] == "=" else int(w[4])
                c.last_ecr = ecr
                o += struct.pack("!BBII", 8, 10, int(w[2]), ecr)
            elif k == "sack":
                bl = b""
                for b in w[1:]:
                    a, e = b.split(":")
                    bl += struct.pack("!II", (int(a) + c.local_isn) & 0xFFFFFFFF,
                                      (int(e) + c.local_isn) & 0xFFFFFFFF)
                o += struct.pack("!BB", 5, 2 + len(bl)) + bl
            else:
                self.fail("unknown option %s" % k)
        while len(o) % 4:
            o += b"\0"
        return o

    def inject(self, s, c):
        o = self.build_opts(s.opts, c) if s.opts is not None else b""
        hl = 20 + len(o)
        tos = 2 if s.ect0 else 3 if s.ce else 0
        if s.tos is not None:
            tos = s.tos
        base = 0 if s.flags & 0x02 else 1
        pay = pattern_bytes(s.seq - base, s.len)
        if c is self.dflt:
            sport, dport = self.remote_port_seen or self.remote_port, self.local_port
        else:
            sport, dport = c.port, c.local_port or self.listen_port
        lisn = c.local_isn or 0
        th = struct.pack("!HHIIBBHHH", sport, dport, (s.seq + c.remote_isn) & 0xFFFFFFFF,
                         ((s.ack or 0) + lisn) & 0xFFFFFFFF if s.ack is not None else 0,
                         (hl // 4) << 4 | ((s.flags >> 8) & 1), s.flags & 0xFF,
                         s.win if s.win is not None else 65535, 0,
                         s.urg if s.urg is not None else 0) + o + pay
        ph = socket.inet_aton(c.addr) + socket.inet_aton(LOCAL) + struct.pack("!BBH", 0, 6, len(th))
        ck = csum(ph + th)
        th = th[:16] + struct.pack("!H", ck) + th[18:]
        self.ident += 1
        if s.ipdst is not None:
            self.fail("ipdst is for packets the stack sends")
        os.write(self.tun, ip_hdr(6, len(th), c.addr, LOCAL, tos, self.ident,
                                  s.ipopt or b"") + th)

    def inject_icmp(self, words, c):
        typ, code, mtu = 3, 0, 0
        i = 0
        while i < len(words):
            w = words[i]
            if w in ("unreach", "unreachable"):
                typ = 3
            elif w in ("net", "host", "proto", "port", "frag_needed"):
                code = {"net": 0, "host": 1, "proto": 2, "port": 3, "frag_needed": 4}[w]
            elif w == "time_exceeded":
                typ, code = 11, 0
            elif w == "mtu":
                mtu = int(words[i + 1])
                i += 1
            else:
                self.fail("bad icmp word %s" % w)
            i += 1
        if not c.last_out:
            self.fail("no packet to quote")
        quote = c.last_out[:48]
        ic = struct.pack("!BBHHH", typ, code, 0, 0, mtu if code == 4 else 0) + quote
        ic = ic[:2] + struct.pack("!H", csum(ic)) + ic[4:]
        self.ident += 1
        os.write(self.tun, ip_hdr(1, len(ic), c.addr, LOCAL, 0, self.ident) + ic)

    def expect(self, s, t, lo, hi, sel):
        """An untagged line takes the next packet; a tagged one, for each of its peers,
        the first packet to that peer (peers in any order)."""
        if not sel:
            with self.cv:
                while not self.q:
                    d = self.t0 + hi - time.monotonic()
                    if d <= 0:
                        break
                    self.cv.wait(d)
                if not self.q:
                    self.fail("expected packet not sent by %.3f" % hi)
                p = self.q.pop(0)
            self.match(s, t, lo, hi, p, self.dflt)
            return
        left = {(c.addr, c.port): c for c in sel}
        want = self.want
        while want:
            want -= 1
            with self.cv:
                while True:
                    j = next((i for i, x in enumerate(self.q) if (x.daddr, x.dport) in left), None)
                    if j is not None:
                        break
                    d = self.t0 + hi - time.monotonic()
                    if d <= 0:
                        break
                    self.cv.wait(d)
                if j is None:
                    self.fail("expected packet not sent by %.3f (%d of %d)" %
                              (hi, self.want - want - 1, self.want))
                p = self.q.pop(j)
            c = left.pop((p.daddr, p.dport))
            self.match(s, t, lo, hi, p, c)

    def match(self, s, t, lo, hi, p, c):
        at = p.t - self.t0
        if s.flags & 0x02 and not c.local_isn_known:
            c.local_isn_known = True
            c.local_isn = (p.seq - s.seq) & 0xFFFFFFFF
        if c is self.dflt:
            self.local_port = p.sport
            self.remote_port_seen = p.dport
        else:
            c.local_port = p.sport
        o = p.opts
        i = 0
        while i + 10 <= len(o):
            if o[i] == 0:
                break
            if o[i] == 1:
                i += 1
                continue
            if o[i + 1] < 2:
                break
            if o[i] == 8 and o[i + 1] == 10:
                c.last_tsval = struct.unpack("!I", o[i + 2:i + 6])[0]
            i += o[i + 1]
        got = self.pstr(p, c=c)
        self.drift = max(0.0, at - t)
        self.last_pkt = t
        if at < lo:
            self.fail("packet sent too early at %.3f (expected %.3f): %s" % (at, t, got))
        if at > hi:
            self.fail("packet sent too late at %.3f (expected %.3f): %s" % (at, t, got))
        rel = (p.seq - c.local_isn) & 0xFFFFFFFF
        if p.flags != s.flags:
            self.fail("flags differ: got %s" % got)
        if rel != s.seq or len(p.payload) != s.len:
            self.fail("sequence/length differ: got %s" % got)
        if s.ack is not None and (p.ack - c.remote_isn) & 0xFFFFFFFF != s.ack:
            self.fail("ack differs: got %s" % got)
        if s.win is not None and p.win != s.win:
            self.fail("window differs: got %s" % got)
        if s.urg is not None and p.urg != s.urg:
            self.fail("urgent pointer differs: got %s" % got)
        if s.ect0 and p.tos & 3 != 2:
            self.fail("expected ECT(0): tos 0x%x, %s" % (p.tos, got))
        if s.tos is not None and p.tos != s.tos:
            self.fail("expected tos 0x%x: tos 0x%x, %s" % (s.tos, p.tos, got))
        if s.ipdst is not None and p.daddr != s.ipdst:
            self.fail("IP destination differs: %s, %s" % (p.daddr, got))
        if s.ipopt is not None and p.ipopts != s.ipopt:
            self.fail("IP options differ: ipopt %s, %s" % (p.ipopts.hex() or "(none)", got))
        if s.opts is not None:
            og = opts_str(p.opts, c.remote_isn)
            if not opts_match(s.opts, og):
                self.fail("options differ: got <%s> in %s" % (og, got))
        base = 0 if p.flags & 0x02 else 1
        if p.payload != pattern_bytes(rel - base, len(p.payload)):
            self.fail("payload differs: %s" % got)
        if p.payload or p.flags & 0x03:
            c.last_out = p.raw[:128]
        if self.verbose:
            print("  %8.3f %s" % (at, got))

    # ---- calls ----
    def sock(self, w):
        fd = int(w)
        if fd not in self.fds:
            self.fail("bad fd %s" % w)
        return fd, self.fds[fd]

    def newfd(self, s):
        fd = 3
        while fd in self.fds:
            fd += 1
        self.fds[fd] = s
        self.wr[fd] = 0
        self.rd[fd] = 0
        return fd

    def counters(self):
        c = {}
        for f in ("/proc/net/snmp", "/proc/net/netstat"):
            with open(f) as fh:
                lines = fh.read().splitlines()
            for a, b in zip(lines[0::2], lines[1::2]):
                ka, kb = a.split(), b.split()
                pre = ka[0].rstrip(":")
                for k, v in zip(ka[1:], kb[1:]):
                    c[pre + k] = int(v)
        return c

    def result(self, words):
        if not words or words[0] != "=":
            return None
        if words[1] == "-1":
            return -getattr(errno, words[2])
        if words[1][0].isalpha():
            return getattr(errno, words[1])
        return int(words[1], 0)

    def check(self, what, got, words):
        want = self.result(words)
        if want is None or got == want:
            return

        def nm(v):
            return "-1 %s" % errno.errorcode.get(-v, "?") if v < 0 else str(v)
        self.fail("%s returned %s, expected %s" % (what, nm(got), nm(want)))

    def call(self, cmd, w):
        try:
            self._call(cmd, w)
        except OSError as e:
            self.fail("%s raised %s" % (cmd, e))

    def _call(self, cmd, w):
        if cmd == "socket":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            if self.cc_per_sock:
                s.setsockopt(SOL_TCP, 13, b"cubic")
            return self.check("socket", self.newfd(s), w)
        if cmd == "sysctl":
            v = w[1].replace(",", " ")
            path = ("/proc/sys/" + w[0].replace(".", "/") if w[0].startswith("net.")
                    else "/proc/sys/net/ipv4/" + w[0])
            try:
                with open(path, "w") as f:
                    f.write(v)
            except OSError as e:
                self.fail("sysctl %s: %s" % (w[0], e))
            if path.endswith("/tcp_congestion_control"):
                self.cc_per_sock = False    # the script chose: new sockets take it
            return
        if cmd == "counter":
            c = self.counters()
            if w[0] not in c:
                self.fail("unknown counter %s" % w[0])
            want = self.result(w[1:])
            if want is not None and c[w[0]] != want:
                self.fail("counter %s = %d, expected %d" % (w[0], c[w[0]], want))
            return
        if cmd == "synq":
            n = 0
            with open("/proc/net/tcp") as f:
                for ln in f.readlines()[1:]:
                    if ln.split()[3] == "03":
                        n += 1
            return self.check("synq", n, w)
        if cmd == "tw_count":
            with open("/proc/net/sockstat") as f:
                for ln in f:
                    if ln.startswith("TCP:"):
                        x = ln.split()
                        n = int(x[x.index("tw") + 1])
            return self.check("tw_count", n, w)
        if cmd == "socks":
            n = 0
            with open("/proc/net/tcp") as f:
                for ln in f.readlines()[1:]:
                    st = ln.split()[3]
                    if st not in ("06", "03"):
                        n += 1
            # orphans (closed fds still in FIN_WAIT etc.) appear in /proc/net/tcp too
            return self.check("socks", n, w)
        fd, s = self.sock(w[0])
        a = w[1:]
        rest = a
        if cmd == "bind":
            addr = a[1] if len(a) > 1 and a[1] != "=" else "0.0.0.0"
            rest = a[2:] if len(a) > 1 and a[1] != "=" else a[1:]
            try:
                s.bind((addr, int(a[0])))
                rc = 0
            except OSError as e:
                rc = -e.errno
        elif cmd == "listen":
            rest = a[1:]
            s.listen(int(a[0]))
            self.local_port = self.listen_port = s.getsockname()[1]
            rc = 0
        elif cmd == "connect":
            rest = a[1:]
            self.remote_port = int(a[0])
            self.remote_port_seen = None
            self.dflt.local_isn_known = False
            e = s.connect_ex((REMOTE, int(a[0])))
            rc = -e if e else 0
            self.local_port = s.getsockname()[1]
            c = self.peers.get((REMOTE, int(a[0])))
            if c:   # a tagged peer at that port now speaks for this connection
                c.local_port = self.local_port
        elif cmd == "accept":
            try:
                c, _ = s.accept()
                c.setblocking(False)
                rc = self.newfd(c)
            except OSError as e:
                rc = -e.errno
        elif cmd in ("write", "send"):
            n = int(a[0])
            fl = 0
            rest = a[1:]
            if rest and rest[0] != "=":
                fl = self.msgflags(rest[0])
                rest = rest[1:]
            try:
                rc = s.send(pattern_bytes(self.wr[fd], n), fl | socket.MSG_NOSIGNAL)
                self.wr[fd] += rc
            except OSError as e:
                rc = -e.errno
        elif cmd in ("read", "recv"):
            n = int(a[0])
            fl = 0
            rest = a[1:]
            if rest and rest[0] != "=":
                fl = self.msgflags(rest[0])
                rest = rest[1:]
            buf = bytearray(max(n, 1))
            try:
                rc = s.recv_into(buf, n, fl)
                if rc > 0 and not fl & (socket.MSG_OOB | socket.MSG_TRUNC) and not self.urgent:
                    if bytes(buf[:rc]) != pattern_bytes(self.rd[fd], rc):
                        self.fail("read data differs")
                if rc > 0 and not fl & (socket.MSG_OOB | socket.MSG_PEEK):
                    self.rd[fd] += rc
            except OSError as e:
                rc = -e.errno
        elif cmd == "shutdown":
            rest = a[1:]
            how = {"SHUT_RD": 0, "SHUT_WR": 1}.get(a[0], 2)
            try:
                s.shutdown(how)
                rc = 0
            except OSError as e:
                rc = -e.errno
        elif cmd == "close":
            s.close()
            del self.fds[fd]
            rc = 0
        elif cmd == "setsockopt":
            lv, opt = OPTS[a[0]]
            rest = a[2:]
            try:
                if a[0] == "TCP_CONGESTION":
                    s.setsockopt(lv, opt, a[1].encode())
                elif a[0] == "IP_OPTIONS":
                    s.setsockopt(lv, opt, ipopt_bytes(a[1]))
                elif a[0] == "SO_LINGER":
                    on, ln = a[1].split(",")
                    s.setsockopt(lv, opt, struct.pack("ii", int(on), int(ln)))
                else:
                    s.setsockopt(lv, opt, int(a[1]))
                rc = 0
            except OSError as e:
                rc = -e.errno
        elif cmd == "getsockopt":
            lv, opt = OPTS[a[0]]
            rest = a[1:]
            try:
                rc = s.getsockopt(lv, opt)
            except OSError as e:
                rc = -e.errno
        elif cmd == "info":
            b = s.getsockopt(SOL_TCP, 11, 256) + bytes(256)
            for kv in a:
                k, v = kv.split("=")
                if k in ("snd_wscale", "rcv_wscale"):
                    got = b[6] & 15 if k == "snd_wscale" else b[6] >> 4
                else:
                    if k not in IFIELDS:
                        self.fail("unknown tcp_info field %s" % k)
                    off, sz = IFIELDS[k]
                    got = int.from_bytes(b[off:off + sz], "little")
                # times in us from jiffies and a measured RTT: one jiffy (4 ms at
                # HZ=250) plus the tolerance either way
                slack = (max(self.tol * 1e6 + 4000, 0.05 * int(v))
                         if k in ("rto", "ato", "rtt", "rttvar", "rcv_rtt") else 0)
                if abs(got - int(v)) > slack:
                    self.fail("tcp_info %s = %d, expected %s" % (k, got, v))
            return
        elif cmd == "state":
            b = s.getsockopt(SOL_TCP, 11, 8)
            st = STATES[b[0]] if b[0] < len(STATES) else "?"
            if st != a[0]:
                self.fail("state is %s, expected %s" % (st, a[0]))
            return
        elif cmd == "error":
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        elif cmd == "poll":
            p = select.poll()
            allm = (select.POLLIN | select.POLLPRI | select.POLLOUT | select.POLLRDHUP |
                    select.POLLRDNORM | select.POLLWRNORM)
            p.register(s.fileno(), allm)
            r = p.poll(0)
            m = r[0][1] if r else 0
            want = 0
            for f in a[1].split("|"):
                want |= {"IN": select.POLLIN | select.POLLRDNORM,
                         "OUT": select.POLLOUT | select.POLLWRNORM, "HUP": select.POLLHUP,
                         "RDHUP": select.POLLRDHUP, "ERR": select.POLLERR,
                         "PRI": select.POLLPRI}.get(f, 0)
            m &= ~select.POLLWRBAND
            if m != want:
                self.fail("poll mask 0x%x, expected 0x%x (%s)" % (m, want, a[1]))
            return
        elif cmd == "ioctl":
            rest = a[1:]
            try:
                r = fcntl.ioctl(s.fileno(), IOCTLS[a[0]], b"\0\0\0\0")
                rc = struct.unpack("i", r)[0]
            except OSError as e:
                rc = -e.errno
        else:
            self.fail("unknown command %s" % cmd)
        self.check(cmd, rc, rest)

    @staticmethod
    def msgflags(w):
        f = 0
        for k, v in (("MSG_MORE", 0x8000), ("MSG_OOB", 1), ("MSG_PEEK", 2),
                     ("MSG_WAITALL", 0x100), ("MSG_TRUNC", 0x20)):
            if k in w:
                f |= v
        return f

    # ---- script ----
    def parse_tag(self, rest):
        """'[port P] ...' (see harness.c parse_tag): the selected peers and the rest."""
        rest = rest.strip()
        if not rest.startswith("["):
            return [], rest
        end = rest.find("]")
        if end < 0:
            self.fail("unterminated peer tag")
        w = rest[1:end].split()
        rest = rest[end + 1:]
        alo = ahi = struct.unpack("!I", socket.inet_aton(REMOTE))[0]
        ports, isn, rel, fresh, lport, count = None, None, False, False, 0, 0
        i = 0
        try:
            while i < len(w):
                if w[i] == "new":
                    fresh = True
                    i += 1
                    continue
                k, v = w[i], w[i + 1]
                i += 2
                if k == "port":
                    ports = parse_range(v, False)
                elif k == "addr":
                    alo, ahi = parse_range(v, True)
                elif k == "count":
                    count = int(v, 0)
                elif k == "lport":
                    lport = int(v, 0)
                elif k == "isn":
                    rel = v[0] in "+-"
                    isn = int(v, 0)
                    fresh = True
                else:
                    self.fail("peer tag: unknown word %s" % k)
        except (ValueError, IndexError, OSError):
            self.fail("bad peer tag %s" % w)
        if ports is None:
            self.fail("peer tag without a port")
        sel = []
        for a in range(alo, ahi + 1):
            for port in range(ports[0], ports[1] + 1):
                addr = socket.inet_ntoa(struct.pack("!I", a))
                c = self.peers.get((addr, port))
                if c is None:
                    c = self.peers[(addr, port)] = Peer(addr, port)
                if isn is not None:
                    c.remote_isn = (c.remote_isn + isn if rel else isn) & 0xFFFFFFFF
                if fresh:
                    c.local_isn_known = False
                if lport:
                    c.local_port = lport
                sel.append(c)
        if count > len(sel) or count < 0:
            self.fail("peer tag: count %d of %d peers" % (count, len(sel)))
        self.want = count or len(sel)
        return sel, rest

    def parse_time(self, w):
        a, _, b = w.partition("~")
        if a == "*":
            return self.last, self.last, 1e9

        def val(x):
            return float(x[1:]) + self.last if x.startswith("+") else float(x)
        t = val(a)
        lo, hi = t - self.tol, t + self.tol
        if b:
            lo, hi = t, val(b)
        return t, lo, hi

    def run(self):
        mtu = 1500
        lines = self.text.split("\n")
        for ln in lines:
            x = ln.split("#")[0].split()
            if len(x) >= 3 and x[0] == "option":
                if x[1] == "mtu":
                    mtu = int(x[2])
                if x[1] == "tolerance_ms":
                    self.tol = max(self.tol, float(x[2]) / 1000)
        self.setup(mtu)
        time.sleep(0.05)
        with self.cv:
            self.q.clear()
        self.t0 = time.monotonic()
        for i, ln in enumerate(lines):
            self.lineno = i + 1
            self.line = ln
            body = ln.split("#")[0].strip()
            if not body:
                continue
            w = body.split()
            if w[0] == "option":
                continue
            try:
                self.step(w, body)
            except Soft:
                pass
        time.sleep(0.01)
        if self.keep_going:
            with self.cv:
                for p in self.q:
                    print("  %8.3f %s  (unexpected)" % (p.t - self.t0, self.pstr(p)))
                    self.nfail += 1
                self.q.clear()
        self.check_unexpected()
        if self.nfail:
            raise Fail("%d differences" % self.nfail)

    def step(self, w, body):
        if True:
            t, lo, hi = self.parse_time(w[0])
            ev = w[1]
            if ev == ">":
                hi = max(hi, t + self.drift + self.tol + (t - self.last_pkt) / 8)
                self.last = t
                sel, rest = self.parse_tag(body.split(">", 1)[1])
                self.expect(parse_pspec(rest), t, lo, hi, sel)
                return
            self.check_unexpected()
            self.sleep_to(t + self.drift)
            self.check_unexpected()
            self.last = t
            if ev in PURE:
                # the kernel's timers run late by up to 1/8 of their length (timer
                # wheel granularity): a check that fails is retried until then
                until = self.t0 + t + self.drift + self.tol + (t - self.last_pkt) / 8
                while True:
                    kg, self.keep_going = self.keep_going, False
                    try:
                        self.call(ev, w[2:])
                        break
                    except Fail:
                        if time.monotonic() > until:
                            self.keep_going = kg
                            self.call(ev, w[2:])
                            break
                        time.sleep(0.005)
                    finally:
                        self.keep_going = kg
                return
            if ev == "<":
                self.last_pkt = t
                sel, rest = self.parse_tag(body.split("<", 1)[1])
                rest = rest.strip()
                if rest.startswith("icmp"):
                    for c in sel or [self.dflt]:
                        self.inject_icmp(rest.split()[1:], c)
                    return
                s = parse_pspec(rest)
                if not sel:
                    if s.flags & 0x02 and not s.flags & 0x10 and s.seq == 0:
                        self.remote_port_seen = None
                    self.inject(s, self.dflt)
                for c in sel:
                    self.inject(s, c)
            else:
                self.call(ev, w[2:])


def run_one(path, tol, verbose):
    with open(path) as f:
        text = f.read()
    r = Runner(path, text, tol, verbose)
    try:
        r.run()
    except Fail as e:
        print(str(e))
        return 1
    return 0


def collect(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                out += [os.path.join(root, f) for f in files if f.endswith(".pkt")]
        else:
            out.append(a)
    return sorted(out)


def script_span(path):
    """The script's last time in seconds (how long it runs in real time)."""
    last = 0.0
    with open(path) as f:
        for ln in f:
            w = ln.split("#")[0].split()
            if not w or w[0] == "option":
                continue
            a = w[0].split("~")[0]
            try:
                last = last + float(a[1:]) if a.startswith("+") else (last if a == "*" else float(a))
            except ValueError:
                pass
    return last


def skip_reason(path):
    with open(path) as f:
        for ln in f:
            if ln.startswith("# kernel: skip"):
                return ln[len("# kernel: skip"):].strip() or "marked"
    return None


def main():
    args = sys.argv[1:]
    jobs, tol, verbose, one, retries = 16, 12.0, False, False, 0
    max_span = None
    paths = []
    i = 0
    while i < len(args):
        if args[i] == "-j":
            jobs = int(args[i + 1])
            i += 1
        elif args[i] == "--retry":
            retries = int(args[i + 1])
            i += 1
        elif args[i] == "--tol":
            tol = float(args[i + 1])
            i += 1
        elif args[i] == "-v":
            verbose = True
        elif args[i] == "--max-span":
            max_span = float(args[i + 1])
            i += 1
        elif args[i] == "-k":
            global KEEP_GOING
            KEEP_GOING = True
        elif args[i] == "--one":
            one = True
        else:
            paths.append(args[i])
        i += 1
    if one:
        sys.exit(run_one(paths[0], tol, verbose))
    if os.geteuid() != 0:
        print("kreplay: needs root (network namespaces, TUN)")
        sys.exit(77)
    paths = collect(paths)
    running, npass, nfail, nskip = [], 0, 0, 0
    failed = []
    pending = list(paths)

    def reap(limit):
        nonlocal npass, nfail
        while len(running) > limit:
            for j, (p, pr, t) in enumerate(running):
                if pr.poll() is None:
                    continue
                out = pr.stdout.read().decode(errors="replace")
                if pr.returncode == 0:
                    npass += 1
                    print("ok   %s (%.1f s)" % (p, time.monotonic() - t))
                    if verbose and out.strip():
                        print(out.rstrip())
                else:
                    nfail += 1
                    failed.append(p)
                    print("FAIL %s\n%s" % (p, out.rstrip()))
                sys.stdout.flush()
                running.pop(j)
                break
            else:
                time.sleep(0.05)
    while pending:
        p = pending.pop(0)
        why = skip_reason(p)
        if not why and max_span is not None and script_span(p) > max_span:
            why = "runs %.0f s, over --max-span" % script_span(p)
        if why:
            nskip += 1
            print("skip %s (%s)" % (p, why))
            continue
        cmd = ["unshare", "-n", sys.executable, os.path.abspath(__file__), "--one",
               "--tol", str(tol), p] + (["-v"] if verbose else []) + (["-k"] if KEEP_GOING else [])
        running.append((p, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT), time.monotonic()))
        reap(jobs - 1)
    reap(0)
    # A script that failed while many others ran beside it is run again alone: the
    # kernel's timers fire late on a loaded machine (a packet 20 ms late fails the 12 ms
    # tolerance). The expectations are the same; a real difference fails every time.
    nretried = 0
    for p in list(failed):
        for k in range(retries):
            cmd = ["unshare", "-n", sys.executable, os.path.abspath(__file__), "--one",
                   "--tol", str(tol), p]
            t = time.monotonic()
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode == 0:
                print("ok   %s (%.1f s, alone, after %d failed run%s)"
                      % (p, time.monotonic() - t, k + 1, "s" if k else ""))
                failed.remove(p)
                nfail -= 1
                npass += 1
                nretried += 1
                break
            print("FAIL %s (alone, run %d)\n%s"
                  % (p, k + 2, r.stdout.decode(errors="replace").rstrip()))
        sys.stdout.flush()
    if nretried:
        print("kreplay: %d script(s) passed only when run alone (timing under load)" % nretried)
    print("kreplay: %d passed, %d failed, %d skipped" % (npass, nfail, nskip))
    sys.exit(1 if nfail else 0)


if __name__ == "__main__":
    main()
