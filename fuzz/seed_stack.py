#!/usr/bin/env python3
"""Write the seed inputs of the stack harnesses (fuzz/corpus/stack_{eth,ip,arp}/seed_*):
scripts in the format of fuzz/fuzz_stack.h aimed at the harnesses' fixed addresses.
Packets are built with correct checksums, and the real Linux packets of
tests/unit/wire/vectors.h are re-addressed into the harness's subnets. Run once; the
fuzzers grow the corpora from there (FZ_TRACE=1 build/fuzz/fuzz_stack_eth FILE shows
what a seed makes the stack send, and its counters)."""
import os, re, struct

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- packets ----
def a(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(src, dst, proto, payload, ttl=64, ident=0x1234, df=False, mf=False, off=0, opts=b"",
       tos=0, tot=None, l4=True):
    """IPv4 packet; with l4 the ICMP/UDP/TCP/IGMP checksum of an unfragmented payload is
    filled in (its field must be zero)."""
    opts = opts + b"\0" * (-len(opts) % 4)
    hl = 20 + len(opts)
    src, dst = a(src), a(dst)
    if l4 and not mf and off == 0:
        payload = l4_fix(src, dst, proto, bytearray(payload))
    if tot is None:
        tot = hl + len(payload)
    fo = (off // 8) | (0x4000 if df else 0) | (0x2000 if mf else 0)
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, tos, tot, ident, fo, ttl, proto,
                              0, src, dst) + opts)
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h) + bytes(payload)


def l4_fix(src, dst, proto, p):
    if proto in (1, 2) and len(p) >= 4:
        struct.pack_into("!H", p, 2, 0)
        struct.pack_into("!H", p, 2, csum(bytes(p)))
    elif proto == 17 and len(p) >= 8:
        struct.pack_into("!H", p, 6, 0)
        ph = src + dst + struct.pack("!BBH", 0, 17, len(p))
        c = csum(ph + bytes(p))
        struct.pack_into("!H", p, 6, c or 0xFFFF)
    elif proto == 136 and len(p) >= 8:
        cov = struct.unpack("!H", p[4:6])[0] or len(p)
        struct.pack_into("!H", p, 6, 0)
        ph = src + dst + struct.pack("!BBH", 0, 136, len(p))
        c = csum(ph + bytes(p[:cov]))
        struct.pack_into("!H", p, 6, c or 0xFFFF)
    elif proto == 6 and len(p) >= 20:
        struct.pack_into("!H", p, 16, 0)
        ph = src + dst + struct.pack("!BBH", 0, 6, len(p))
        struct.pack_into("!H", p, 16, csum(ph + bytes(p)))
    return p


def icmp(t, code, rest=b"\0\0\0\0", data=b""):
    return struct.pack("!BBH", t, code, 0) + rest + data


def echo(ident=0x4242, seq=1, data=b"abcdefgh" * 2):
    return icmp(8, 0, struct.pack("!HH", ident, seq), data)


def udp(sport, dport, data, ulen=None):
    return struct.pack("!HHHH", sport, dport, ulen if ulen is not None else 8 + len(data), 0) + data


def tcp(sport, dport, seq, ack, flags, win=65535, opts=b"", data=b""):
    opts = opts + b"\1" * (-len(opts) % 4)
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) // 4 << 4, flags,
                       win, 0, 0) + opts + data


def frags(src, dst, proto, payload, size, ident=0x5151, **kw):
    """Fragment an already checksummed payload into pieces of `size` bytes (multiple of 8)."""
    out = []
    for off in range(0, len(payload), size):
        piece = payload[off:off + size]
        out.append(ip(src, dst, proto, piece, ident=ident, off=off,
                      mf=off + size < len(payload), l4=False, **kw))
    return out


def l4(src, dst, proto, payload):
    return bytes(l4_fix(a(src), a(dst), proto, bytearray(payload)))


BCAST = b"\xff" * 6
MAC = [bytes.fromhex("020000000001"), bytes.fromhex("020000000002")]
PEER = bytes.fromhex("0200000000a1")
GW = bytes.fromhex("0200000000a2")


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa, htype=1):
    return struct.pack("!HHBBH", htype, 0x0800, 6, 4, op) + sha + a(spa) + tha + a(tpa)


# ---- the script format of fuzz_stack.h ----
def frame(b, dev=0, fix=False, fixlen=False, arg=0):
    kind = 1 if fix else 0
    arg |= dev | (2 if fixlen else 0)
    return bytes([kind | arg << 3]) + struct.pack("!H", len(b)) + b


def adv(ms):
    return bytes([2]) + struct.pack("!H", ms)


def adv100(n):
    return bytes([3 | n << 3])


def act(n, args=b""):
    return bytes([4 | n << 3]) + args


def repeat(n):
    return bytes([5 | (n - 1) << 3])


def send_udp(dst, port, size16):
    return act(0, a(dst) + struct.pack("!HB", port, size16))


def send_ping(dst, size16=1, ttl=0):
    return act(1, a(dst) + bytes([size16, ttl]))


def sysctl(i, v):
    return act(2, bytes([i, v]))


def dev_bounce(dev, ms10):
    return act(4 + dev, bytes([ms10]))


def set_mtu(dev, mtu):
    return act(6 + dev, struct.pack("!H", mtu))


def neigh_add(dev, addr, state, mac):
    return act(8 + dev, a(addr) + bytes([state]) + mac)


def neigh_del(dev, addr):
    return act(10 + dev, a(addr))


def addr_add(dev, addr, plen):
    return act(12 + dev, a(addr) + bytes([plen]))


def addr_del(dev, addr, plen):
    return act(14 + dev, a(addr) + bytes([plen]))


def drain():
    return act(16)


def send_connected(size16):
    return act(17, bytes([size16]))


def send_df(dst, port, size16):
    return act(18, a(dst) + struct.pack("!HB", port, size16))


def tcp_answer(flags, delta=0, win=65535, payload8=0, ts=False):
    """Answer the stack's last TCP segment (seq/ack from it): action 22, 23 with TS."""
    return act(23 if ts else 22, struct.pack("!BbHB", flags, delta, win, payload8))


def route(dst, plen, gw, delete=False, rtype=0):
    return act(19, a(dst) + bytes([plen | (0x20 if delete else 0) | (rtype << 6)]) + a(gw))


# Sysctl indexes in fz_sysctls[] (fuzz_stack.h).
SYS = {n: i for i, n in enumerate([
    "ip_forward", "rp_filter", "accept_source_route", "accept_local", "route_localnet",
    "arp_accept", "arp_ignore", "arp_filter", "arp_announce", "arp_notify", "proxy_arp",
    "proxy_arp_pvlan", "drop_gratuitous_arp", "accept_redirects", "secure_redirects",
    "send_redirects", "bc_forwarding", "forwarding", "drop_unicast_in_l2_multicast",
    "icmp_echo_ignore_broadcasts", "icmp_echo_ignore_all", "icmp_ignore_bogus",
    "icmp_errors_use_inbound_ifaddr", "icmp_ratelimit", "icmp_ratemask", "icmp_msgs_per_sec",
    "icmp_msgs_burst", "icmp_echo_enable_probe", "ipfrag_max_dist", "ipfrag_time",
    "ipfrag_high_thresh", "ipfrag_low_thresh", "ip_no_pmtu_disc", "min_pmtu", "mtu_expires",
    "ip_forward_use_pmtu", "ip_default_ttl", "unres_qlen_bytes", "proxy_delay", "proxy_qlen",
    "locktime", "app_solicit", "mcast_solicit", "ucast_solicit", "mcast_resolicit",
    "retrans_time_ms", "base_reachable_time_ms", "delay_first_probe_time", "gc_stale_time",
    "gc_thresh1", "gc_thresh2", "gc_thresh3", "gc_interval", "medium_id", "dev_arp_ignore",
    "dev_arp_announce", "dev_arp_accept", "dev_rp_filter", "dev_accept_redirects",
    "shared_media", "arp_evict_nocarrier", "src_valid_mark", "icmp_echo_enable_probe2",
    "ip_nonlocal_bind", "ignore_routes_with_linkdown"])}

CFG_FWD, CFG_RPF, CFG_SRR, CFG_ARPACC, CFG_PROXY, CFG_ACCLOCAL, CFG_NORATE, CFG_FRAGMEM = (
    1, 2, 4, 8, 16, 32, 64, 128)


# ---- the vectors of tests/unit/wire/vectors.h ----
def vectors():
    src = open(os.path.join(root, "tests/unit/wire/vectors.h")).read()
    vec = {}
    for m in re.finditer(r'static const char (\w+)\[\] =(.*?);', src, re.S):
        hexs = "".join(re.findall(r'"([0-9a-fA-F ]*)"', m.group(2)))
        vec[m.group(1)] = bytes.fromhex(hexs.replace(" ", ""))
    return vec


def readdress(p, src, dst):
    """A captured packet with new addresses and right checksums (the loopback captures
    carry CHECKSUM_PARTIAL values in TCP/UDP)."""
    p = bytearray(p)
    hl = (p[0] & 15) * 4
    p[12:16] = a(src)
    p[16:20] = a(dst)
    frag = struct.unpack("!H", p[6:8])[0] & 0x3FFF
    if not frag:
        body = l4_fix(bytes(p[12:16]), bytes(p[16:20]), p[9], bytearray(p[hl:]))
        p[hl:] = body
    struct.pack_into("!H", p, 10, 0)
    struct.pack_into("!H", p, 10, csum(bytes(p[:hl])))
    return bytes(p)


def common_ip_seeds(us, peer, us2, far, other_local, wrap, dev1_peer):
    """Seeds shared by stack_eth and stack_ip: `wrap(pkt, dev)` makes a frame record.
    us/peer: dev 0's address and its neighbour; us2: dev 1's address; far: an address
    routed out of dev 1 (forwarding); other_local: the secondary address."""
    s = {}
    vec = vectors()
    for k, p in vec.items():
        if k.startswith("CAP_IGMP"):
            s["vec_" + k] = wrap(readdress(p, peer, "224.0.0.22"), 0)
        else:
            s["vec_" + k] = wrap(readdress(p, peer, us), 0)
    # Forwarded option-bearing pings (RR/TS rewritten by a router).
    s["fwd_rr"] = wrap(readdress(vec["RR_REQ"], peer, far), 0)
    s["fwd_tsaddr"] = wrap(readdress(vec["TSADDR_REQ"], peer, far), 0)
    s["fwd_prespec"] = wrap(readdress(vec["PRESPEC_REQ"], peer, far), 0)

    def E(**kw):
        return ip(peer, us, 1, echo(), **kw)

    s["echo"] = wrap(E(), 0) + adv100(1) + wrap(E(ident=2), 0)
    s["echo_bcast"] = wrap(ip(peer, us.rsplit(".", 1)[0] + ".255", 1, echo()), 0)
    s["echo_secondary"] = wrap(ip(peer, other_local, 1, echo()), 0)
    s["echo_dev1_addr"] = wrap(ip(peer, us2, 1, echo()), 0)
    s["timestamp"] = wrap(ip(peer, us, 1, icmp(13, 0, struct.pack("!HH", 1, 1), bytes(12))), 0)
    s["info_addrmask"] = wrap(ip(peer, us, 1, icmp(17, 0, struct.pack("!HH", 1, 1), bytes(4))), 0)
    s["echo_big_3000"] = b"".join(wrap(f, 0) for f in frags(peer, us, 1, l4(peer, us, 1, echo(data=bytes(3000))), 1480))
    fr = frags(peer, us, 1, l4(peer, us, 1, echo(data=bytes(range(256)) * 6)), 512)
    s["frag_reverse"] = b"".join(wrap(f, 0) for f in reversed(fr))
    s["frag_dup_overlap"] = (wrap(fr[0], 0) + wrap(fr[0], 0) + wrap(fr[1], 0) +
                             wrap(ip(peer, us, 1, bytes(600), ident=0x5151, off=256, mf=True, l4=False), 0) +
                             b"".join(wrap(f, 0) for f in fr[2:]))
    s["frag_timeout"] = wrap(fr[0], 0) + wrap(fr[2], 0) + adv(31000) + wrap(fr[1], 0)
    s["frag_timeout_nofirst"] = wrap(fr[1], 0) + adv(31000)
    s["frag_udp_to_7"] = b"".join(wrap(f, 0) for f in frags(peer, us, 17, l4(peer, us, 17, udp(1234, 7, bytes(2000))), 1000))
    s["frag_65535"] = b"".join(
        wrap(f, 0) for f in frags(peer, us, 1, l4(peer, us, 1, echo(data=bytes(65507 - 8))), 8192))
    s["frag_over_65535"] = wrap(ip(peer, us, 1, bytes(1000), off=65528 - 1000, ident=9, mf=True, l4=False), 0) + \
        wrap(ip(peer, us, 1, bytes(16), off=65528, ident=9, l4=False), 0)
    s["frag_fwd"] = (CFG_FWD, b"".join(wrap(f, 0) for f in frags(peer, far, 17, l4(peer, far, 17, udp(1, 2, bytes(1400))), 704)))
    s["frag_mem"] = b"".join(wrap(ip(peer, us, 17, bytes(1000), ident=i, mf=True, l4=False), 0) for i in range(12))
    s["frag_tiny_opts"] = wrap(ip(peer, us, 1, bytes(8), mf=True, opts=b"\x07\x07\x04" + bytes(4), l4=False), 0) + \
        wrap(ip(peer, us, 1, l4(peer, us, 1, echo())[8:], off=8, l4=False), 0)
    # UDP delivery: echo port, local-address port, connected socket, multicast, UDP-Lite,
    # raw protocol 253, closed port (port unreachable), zero checksum, bad length.
    s["udp_7"] = wrap(ip(peer, us, 17, udp(1000, 7, b"hello")), 0)
    s["udp_53"] = wrap(ip(peer, us, 17, udp(1000, 53, b"\0" * 12)), 0)
    s["udp_connected"] = wrap(ip(peer, us, 17, udp(9, 5000, b"reply")), 0) + drain()
    s["udp_mcast"] = wrap(ip(peer, "224.0.0.251", 17, udp(5353, 5353, b"mdns"), ttl=255), 0)
    s["udp_bcast_closed"] = wrap(ip(peer, "255.255.255.255", 17, udp(68, 67, b"dhcp")), 0)
    s["udplite_8"] = wrap(ip(peer, us, 136, udp(1000, 8, b"lite-data", ulen=8)), 0)
    s["raw_253"] = wrap(ip(peer, us, 253, b"experimental"), 0)
    s["udp_closed"] = wrap(ip(peer, us, 17, udp(1000, 9999, b"x")), 0) + adv100(10) + \
        wrap(ip(peer, us, 17, udp(1000, 9998, b"x")), 0)
    s["udp_nocsum"] = wrap(ip(peer, us, 17, udp(1000, 7, b"nocsum"), l4=False), 0)
    s["udp_badlen"] = wrap(ip(peer, us, 17, udp(1000, 7, b"abc", ulen=200)), 0)
    s["udp_rcvbuf"] = wrap(ip(peer, us, 17, udp(1000, 7, bytes(1400))), 0) + repeat(32) + repeat(32) + \
        repeat(32) + repeat(32) + drain()
    # TCP (answered with RST or SYN-ACK once TCP input is registered).
    syn_opts = bytes.fromhex("020405b4 0402080a 00000001 00000000 01030307".replace(" ", ""))
    s["tcp_syn_80"] = wrap(ip(peer, us, 6, tcp(40000, 80, 1000, 0, 0x02, opts=syn_opts)), 0) + adv(10) + \
        wrap(ip(peer, us, 6, tcp(40000, 80, 1001, 0, 0x10)), 0) + drain()
    syn = wrap(ip(peer, us, 6, tcp(40000, 80, 1000, 0, 0x02, opts=syn_opts)), 0)
    syn_nots = wrap(ip(peer, us, 6, tcp(40002, 80, 7000, 0, 0x02, opts=bytes.fromhex("020405b401030307"))), 0)
    est = syn + tcp_answer(0x10, ts=True)
    s["tcp_established_data"] = est + tcp_answer(0x18, payload8=8, ts=True) + tcp_answer(0x18, payload8=100, ts=True) + \
        drain() + tcp_answer(0x11, ts=True) + adv(1000)
    s["tcp_established_nots"] = syn_nots + tcp_answer(0x10) + tcp_answer(0x18, payload8=4) + adv(300) + \
        tcp_answer(0x10, win=0) + drain() + adv(5000) + tcp_answer(0x10, win=1000) + tcp_answer(0x11)
    s["tcp_ooo"] = est + tcp_answer(0x18, delta=64, payload8=8, ts=True) + tcp_answer(0x18, delta=-8, payload8=8, ts=True) + \
        tcp_answer(0x18, payload8=8, ts=True) + drain()
    s["tcp_rst"] = est + tcp_answer(0x04) + syn + tcp_answer(0x14) + syn + tcp_answer(0x02)
    s["tcp_close_first"] = est + tcp_answer(0x19, payload8=2, ts=True) + adv(200) + drain() + adv(200) + \
        tcp_answer(0x10, ts=True) + adv(65000) + adv(5000)
    s["tcp_retrans"] = est + tcp_answer(0x18, payload8=2) + drain() + adv(3000) + adv(10000) + tcp_answer(0x10)
    s["tcp_synflood"] = syn + repeat(32) + b"".join(
        wrap(ip(peer, us, 6, tcp(41000 + i, 80, 5 + i, 0, 0x02, opts=syn_opts)), 0) for i in range(8)) + adv(5000)
    s["tcp_syn_closed"] = wrap(ip(peer, us, 6, tcp(40001, 81, 5, 0, 0x02)), 0)
    s["tcp_ack_closed"] = wrap(ip(peer, us, 6, tcp(40001, 81, 5, 77, 0x10, data=b"x")), 0)
    # ICMP errors quoting what the stack sent: port unreachable for the connected socket's
    # datagram, frag needed (PMTU), time exceeded, redirect, source quench, parameter problem.
    sent = ip(us, peer, 17, udp(5000, 9, bytes(16)))
    s["err_port_unreach"] = send_connected(1) + wrap(ip(peer, us, 1, icmp(3, 3, data=sent[:28])), 0) + drain()
    s["err_frag_needed"] = send_udp(peer, 7, 60) + \
        wrap(ip(peer, us, 1, icmp(3, 4, struct.pack("!HH", 0, 576), ip(us, peer, 17, udp(7, 7, bytes(952)), df=True)[:28])), 0) + \
        send_df(peer, 7, 60) + drain()
    s["err_frag_needed_tiny"] = wrap(ip(peer, us, 1, icmp(3, 4, struct.pack("!HH", 0, 10), ip(us, far, 17, udp(7, 7, bytes(952)), df=True)[:28])), 0) + \
        send_udp(far, 7, 40)
    s["err_time_exceeded"] = wrap(ip(peer, us, 1, icmp(11, 0, data=ip(us, far, 1, echo())[:28])), 0)
    newgw = dev1_peer.rsplit(".", 1)[0] + ".253"
    s["err_redirect"] = send_udp("10.77.0.1", 7, 1) + wrap(ip(dev1_peer, us2, 1, icmp(
        5, 1, a(newgw), ip(us2, "10.77.0.1", 17, udp(7, 7, bytes(8)))[:28])), 1) + send_udp("10.77.0.1", 7, 1)
    s["err_redirect_net_tos"] = wrap(ip(dev1_peer, us2, 1, icmp(
        5, 2, a(newgw), ip(us2, "10.78.0.1", 1, echo())[:28])), 1) + send_ping("10.78.0.1")
    # The ping socket (identifier 0x4242): replies and errors quoting its requests.
    s["ping_sock_reply"] = wrap(ip(peer, us, 1, icmp(0, 0, struct.pack("!HH", 0x4242, 1), b"x" * 16)), 0) + drain()
    s["ping_sock_err"] = wrap(ip(peer, us, 1, icmp(3, 1, data=ip(us, far, 1, echo(ident=0x4242))[:28])), 0) + drain()
    # SO_REUSEPORT group on 6000 (one member with a 2 KB receive buffer), UDP-Lite with a
    # minimum coverage of 20 on port 9, multicast fan-out to two sockets on 5353.
    s["udp_reuseport"] = b"".join(wrap(ip(peer, us, 17, udp(1000 + i, 6000, bytes(300))), 0) for i in range(8)) + drain()
    s["udplite_cscov"] = wrap(ip(peer, us, 136, udp(1000, 9, bytes(40), ulen=8)), 0) + \
        wrap(ip(peer, us, 136, udp(1000, 9, bytes(40), ulen=24)), 0) + \
        wrap(ip(peer, us, 136, udp(1000, 9, bytes(40), ulen=0)), 0) + drain()
    s["udp_mcast_fanout"] = wrap(ip(peer, "224.0.0.251", 17, udp(5353, 5353, b"m" * 40)), 0) + \
        wrap(ip(peer, "224.0.0.1", 17, udp(5353, 5353, b"all")), 0) + drain()
    # Impairments on dev 0 (loss, dup, reorder, corrupt, delay, jitter) under traffic.
    s["impair"] = act(20, bytes([10, 30, 30, 5, 20, 50])) + wrap(E(), 0) + repeat(16) + \
        send_udp(peer, 7, 100) + adv(300) + act(20, bytes(6)) + wrap(E(), 0)
    s["err_param"] = wrap(ip(peer, us, 1, icmp(12, 0, b"\x08\0\0\0", sent[:28])), 0)
    s["err_quench"] = wrap(ip(peer, us, 1, icmp(4, 0, data=sent[:28])), 0)
    s["err_quoting_icmp"] = wrap(ip(peer, us, 1, icmp(3, 1, data=ip(us, peer, 1, echo())[:28])), 0) + drain()
    s["err_quoting_tcp"] = wrap(ip(peer, us, 1, icmp(3, 3, data=ip(us, peer, 6, tcp(80, 40000, 1, 1, 0x12))[:28])), 0)
    s["err_to_bcast"] = wrap(ip(peer, "255.255.255.255", 1, icmp(3, 3, data=sent[:28])), 0)
    # Header problems and options.
    s["ttl1_local"] = wrap(ip(peer, us, 1, echo(), ttl=1), 0)
    s["opt_rr_local"] = wrap(ip(peer, us, 1, echo(), opts=b"\x07\x0b\x04" + bytes(8)), 0)
    s["opt_ts_overflow"] = wrap(ip(peer, us, 1, echo(), opts=b"\x44\x0c\x0d\xf1" + bytes(8)), 0)
    s["opt_bad_ptr"] = wrap(ip(peer, us, 1, echo(), opts=b"\x07\x07\x02" + bytes(4)), 0)
    s["opt_lsrr_local"] = (CFG_SRR, wrap(ip(peer, us, 1, echo(), opts=b"\x83\x0b\x04" + a(us) + a(far)), 0))
    s["opt_ssrr"] = (CFG_SRR | CFG_FWD, wrap(ip(peer, us, 1, echo(), opts=b"\x89\x07\x04" + a(far)), 0))
    s["opt_ra_cipso"] = wrap(ip(peer, us, 1, echo(), opts=bytes.fromhex("94040000860a00000001000000000000")), 0)
    s["opt_junk"] = wrap(ip(peer, us, 1, echo(), opts=bytes.fromhex("01010000ff0200000000")), 0)
    good = ip(peer, us, 1, echo())
    s["hdr_bad_csum"] = wrap(good[:10] + b"\0\0" + good[12:], 0)
    s["hdr_truncated"] = wrap(ip(peer, us, 1, echo(), tot=200), 0)
    s["hdr_padded"] = wrap(ip(peer, us, 1, echo()) + bytes(30), 0)
    s["martian_src"] = wrap(ip("127.0.0.1", us, 1, echo()), 0) + wrap(ip("0.0.0.0", us, 1, echo()), 0) + \
        wrap(ip("224.0.0.1", us, 1, echo()), 0)
    s["spoofed_local_src"] = (CFG_ACCLOCAL, wrap(ip(us, us, 1, echo()), 0))
    # Forwarding (config bit 0): out of dev 1 (next hop resolution there), TTL expiry,
    # DF over a 576 route, reject routes, back out of dev 0 (redirect), directed broadcast.
    s["fwd_plain"] = (CFG_FWD, wrap(ip(peer, far, 17, udp(1, 2, b"fwd")), 0) + adv(1000) + adv(3000))
    s["fwd_ttl1"] = (CFG_FWD, wrap(ip(peer, far, 1, echo(), ttl=1), 0))
    s["fwd_df_576"] = (CFG_FWD, wrap(ip(peer, "10.6.1.1", 17, udp(1, 2, bytes(1000)), df=True), 0))
    s["fwd_frag_576"] = (CFG_FWD, wrap(ip(peer, "10.6.1.1", 17, udp(1, 2, bytes(1400))), 0))
    s["fwd_reject"] = (CFG_FWD, wrap(ip(peer, "10.9.0.1", 1, echo()), 0) +
                       wrap(ip(peer, "10.10.0.1", 1, echo()), 0) + wrap(ip(peer, "10.11.0.1", 1, echo()), 0))
    s["fwd_redirect"] = (CFG_FWD, wrap(ip(peer, "10.5.1.1", 1, echo()), 0))
    s["fwd_from_dev1"] = (CFG_FWD, wrap(ip(far, peer, 1, echo()), 1) + wrap(ip(dev1_peer, us, 1, echo()), 1))
    s["fwd_dbcast"] = (CFG_FWD, sysctl(SYS["bc_forwarding"], 1) + wrap(ip(peer, us2.rsplit(".", 1)[0] + ".255", 1, echo()), 0))
    s["fwd_rpf"] = (CFG_FWD | CFG_RPF, wrap(ip(far, "10.5.1.1", 1, echo()), 0))
    s["fwd_rr_lsrr"] = (CFG_FWD | CFG_SRR, wrap(ip(peer, us, 1, echo(), opts=b"\x83\x0b\x04" + a(far) + a("10.5.0.9") + b"\x07\x07\x04" + bytes(4)), 0))
    # Output from the stack and time: datagrams and pings out, fragmented output, rate
    # limits, MTU changes, devices bouncing, routes.
    s["out_udp_frag"] = send_udp(peer, 7, 200) + adv(500) + send_ping(far, 100, 1) + adv(5000)
    s["rate_limit"] = wrap(ip(peer, us, 17, udp(1, 9999, b"x")), 0) + repeat(32) + adv100(5) + repeat(8)
    s["mtu_change"] = set_mtu(0, 600) + send_udp(peer, 7, 60) + set_mtu(0, 9000) + \
        wrap(ip(peer, us, 1, echo(data=bytes(8000))), 0) + set_mtu(0, 68)
    s["dev_bounce"] = wrap(fr[0], 0) + dev_bounce(0, 5) + wrap(fr[1], 0) + dev_bounce(1, 0) + send_udp(far, 1, 1)
    s["addr_churn"] = addr_add(0, "10.0.0.50", 24) + wrap(ip(peer, "10.0.0.50", 1, echo()), 0) + \
        addr_del(0, us, 24) + wrap(ip(peer, us, 1, echo()), 0) + addr_add(0, us, 24)
    s["route_churn"] = route("10.20.0.0", 16, peer) + send_udp("10.20.1.1", 1, 1) + \
        route("10.20.0.0", 16, peer, delete=True) + route("10.21.0.0", 16, "0.0.0.0", rtype=3) + \
        wrap(ip(peer, "10.21.0.1", 1, echo()), 0)
    s["sysctl_mix"] = sysctl(SYS["icmp_echo_ignore_all"], 1) + wrap(ip(peer, us, 1, echo()), 0) + \
        sysctl(SYS["icmp_ratelimit"], 0) + sysctl(SYS["ipfrag_time"], 0) + wrap(fr[0], 0) + adv(2000)
    return s


def write(name, seeds):
    """Each seed is records (config byte 0) or (config, records)."""
    d = os.path.join(root, "fuzz/corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        cfg, body = v if isinstance(v, tuple) else (0, v)
        open(os.path.join(d, "seed_" + k.lower()), "wb").write(bytes([cfg]) + bytes(body))
    print(name, len(seeds))


def eth_seeds():
    def wrap(p, dev):
        return frame(eth(MAC[dev], PEER if dev == 0 else GW, 0x0800, p), dev)

    s = (common_ip_seeds("10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.1.5", "10.0.0.100",
                                 wrap, "10.0.1.254"))
    # Link layer: resolution of the peer first, then IP; other-host, multicast and
    # broadcast frames; 802.3 length frames; VLAN tags; our own MAC as source.
    req = arp(1, PEER, "10.0.0.2", bytes(6), "10.0.0.1")
    s["arp_then_echo"] = frame(eth(BCAST, PEER, 0x0806, req)) + \
        wrap(ip("10.0.0.2", "10.0.0.1", 1, echo()), 0)
    s["resolve_reply"] = send_udp("10.0.0.2", 7, 1) + adv(100) + \
        frame(eth(MAC[0], PEER, 0x0806, arp(2, PEER, "10.0.0.2", MAC[0], "10.0.0.1"))) + adv(100)
    s["fwd_resolved"] = (CFG_FWD, frame(eth(MAC[0], PEER, 0x0800, ip("10.0.0.2", "10.0.1.5", 1, echo()))) +
                         frame(eth(MAC[1], GW, 0x0806, arp(2, GW, "10.0.1.5", MAC[1], "10.0.1.1")), 1) + adv(100))
    p = ip("10.0.0.2", "10.0.0.1", 1, echo())
    s["otherhost"] = frame(eth(bytes.fromhex("020000000077"), PEER, 0x0800, p))
    s["l2_bcast_ip"] = frame(eth(BCAST, PEER, 0x0800, p))
    s["l2_mcast_ip"] = frame(eth(bytes.fromhex("01005e0000fb"), PEER, 0x0800,
                                 ip("10.0.0.2", "224.0.0.251", 17, udp(5353, 5353, b"q"))))
    s["own_src_mac"] = frame(eth(MAC[0], MAC[0], 0x0800, p))
    s["llc_frame"] = frame(eth(MAC[0], PEER, 0x0040, bytes(64)))
    s["vlan_frame"] = frame(eth(MAC[0], PEER, 0x8100, b"\x00\x05\x08\x00" + p))
    s["ipv6_frame"] = frame(eth(MAC[0], PEER, 0x86DD, bytes(40)))
    s["runt"] = frame(MAC[0] + PEER + b"\x08")
    s["fixup"] = frame(eth(bytes(6), PEER, 0x0800, ip("10.0.0.2", "10.0.0.1", 1, echo())[:10] + bytes(2) +
                           ip("10.0.0.2", "10.0.0.1", 1, echo())[12:]), fix=True, arg=4)
    write("stack_eth", s)


def ip_seeds():
    def wrap(p, dev):
        return frame(p, dev)

    s = (common_ip_seeds("10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.5", "10.1.0.100",
                                 wrap, "10.2.0.2"))
    s["not_ipv4"] = frame(b"\x60" + bytes(39)) + frame(b"\x45")
    s["fixup"] = frame(ip("10.1.0.2", "10.1.0.1", 1, echo(), tot=3)[:10] + b"\0\0" +
                       ip("10.1.0.2", "10.1.0.1", 1, echo())[12:], fix=True, fixlen=True)
    write("stack_ip", s)


def arp_seeds():
    """ARP frame records: the body only; arg bits pick the Ethernet header (fuzz_stack_arp.c)."""
    def A(body, dev=0, dst=0, fix=False, other_src=False):
        return frame(body, dev, fix=fix, arg=(dst << 1) | (8 if other_src else 0))

    Z = bytes(6)
    s = {}
    s["request"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1"))
    s["request_secondary"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.100"))
    s["request_unicast"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1"), dst=1)
    s["request_other"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.77"))
    s["request_dev1_addr"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.1"))
    s["request_wrong_subnet"] = A(arp(1, PEER, "10.3.0.2", Z, "10.0.0.1"))
    s["probe_dad"] = A(arp(1, PEER, "0.0.0.0", Z, "10.0.0.1")) + A(arp(1, PEER, "0.0.0.0", Z, "10.0.0.9"))
    s["gratuitous_req"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.2"))
    s["gratuitous_reply"] = A(arp(2, PEER, "10.0.0.2", BCAST, "10.0.0.2"))
    s["unsolicited_reply"] = A(arp(2, PEER, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1)
    s["reply_other_mac"] = A(arp(2, PEER, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1, other_src=True)
    s["bad_htype"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1", htype=6))
    s["bad_op"] = A(arp(9, PEER, "10.0.0.2", Z, "10.0.0.1"))
    s["short"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1")[:20])
    s["mcast_sha"] = A(arp(1, bytes.fromhex("01005e000001"), "10.0.0.2", Z, "10.0.0.1"))
    s["sender_is_us"] = A(arp(1, PEER, "10.0.0.1", Z, "10.0.0.1"))
    s["sender_bcast"] = A(arp(1, PEER, "10.0.0.255", Z, "10.0.0.1"))
    s["l2_mcast"] = A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1"), dst=3)
    # Resolution: a datagram out makes an INCOMPLETE entry; the reply resolves it (and
    # the queue drains); time makes it STALE; use makes it DELAY then PROBE.
    resolve = send_udp("10.0.0.2", 7, 1) + adv(200) + A(arp(2, PEER, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1)
    s["resolve"] = resolve
    s["resolve_fail"] = send_udp("10.0.0.3", 7, 1) + send_udp("10.0.0.3", 7, 1) + adv(5000)
    s["resolve_queue_full"] = sysctl(SYS["unres_qlen_bytes"], 3) + send_udp("10.0.0.4", 7, 90) + \
        send_udp("10.0.0.4", 7, 90) + send_udp("10.0.0.4", 7, 90) + adv(3500)
    s["stale_delay_probe"] = resolve + adv(50000) + send_udp("10.0.0.2", 7, 1) + adv(5100) + adv(1000) + \
        A(arp(2, PEER, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1) + adv(3000)
    s["probe_fail"] = resolve + adv(50000) + send_udp("10.0.0.2", 7, 1) + adv(12000)
    s["mac_change"] = resolve + A(arp(2, GW, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1, other_src=True) + adv(1200) + \
        A(arp(2, GW, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1)
    s["ping_via_gw"] = send_ping("10.0.1.254", 1) + adv(100) + \
        A(arp(2, GW, "10.0.1.254", MAC[1], "10.0.1.1"), dev=1, dst=1) + adv(100)
    s["proxy"] = (CFG_PROXY, A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.7")) + adv(1000))
    s["proxy_delay"] = (CFG_PROXY, sysctl(SYS["proxy_delay"], 2) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.7")) +
                        A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.8")) + adv(100))
    s["accept_new"] = (CFG_ARPACC, A(arp(1, PEER, "10.0.0.9", Z, "10.0.0.9")) +
                       A(arp(2, PEER, "10.0.0.10", BCAST, "10.0.0.10")))
    s["static"] = neigh_add(0, "10.0.0.2", 0, PEER) + A(arp(2, GW, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1) + \
        send_udp("10.0.0.2", 7, 1) + neigh_del(0, "10.0.0.2") + neigh_add(0, "10.0.0.3", 2, GW) + \
        adv(40000) + send_udp("10.0.0.3", 7, 1) + adv(6000)
    s["ignore_filter_announce"] = sysctl(SYS["arp_ignore"], 1) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.1")) + \
        sysctl(SYS["arp_ignore"], 2) + A(arp(1, PEER, "10.3.0.2", Z, "10.0.0.1")) + \
        sysctl(SYS["arp_ignore"], 3) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1")) + \
        sysctl(SYS["arp_filter"], 1) + A(arp(1, PEER, "10.0.1.9", Z, "10.0.0.1")) + \
        sysctl(SYS["arp_announce"], 2) + send_udp("10.0.0.7", 7, 1)
    s["drop_gratuitous"] = sysctl(SYS["drop_gratuitous_arp"], 1) + A(arp(2, PEER, "10.0.0.2", BCAST, "10.0.0.2"))
    s["gc_full"] = sysctl(SYS["gc_thresh3"], 2) + sysctl(SYS["gc_thresh1"], 1) + b"".join(
        send_udp("10.0.0.%d" % i, 7, 1) for i in range(10, 16)) + adv(2000) + \
        A(arp(2, PEER, "10.0.0.11", MAC[0], "10.0.0.1"), dst=1) + adv(40000)
    s["locktime"] = resolve + A(arp(2, GW, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1) + adv100(2) + \
        A(arp(2, GW, "10.0.0.2", MAC[0], "10.0.0.1"), dst=1)
    s["addr_announce"] = sysctl(SYS["arp_notify"], 1) + addr_add(0, "10.0.0.60", 24) + dev_bounce(0, 1) + \
        A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.60")) + addr_del(0, "10.0.0.60", 24)
    s["dev_down_queued"] = send_udp("10.0.0.5", 7, 1) + dev_bounce(0, 10) + adv(4000)
    s["fixup"] = A(bytes(8) + PEER + a("10.0.0.2") + Z + a("10.0.0.1"), fix=True)
    s["ignore_3_8"] = sysctl(SYS["arp_ignore"], 4) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1")) + \
        sysctl(SYS["arp_ignore"], 3) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.1"))
    s["proxy_medium"] = (CFG_PROXY, sysctl(SYS["medium_id"], 1) + sysctl(SYS["proxy_arp_pvlan"], 1) +
                         A(arp(1, PEER, "10.0.0.2", Z, "10.0.1.7")) + A(arp(1, PEER, "10.0.0.2", Z, "10.0.0.9")))
    write("stack_arp", s)


if __name__ == "__main__":
    eth_seeds()
    ip_seeds()
    arp_seeds()
