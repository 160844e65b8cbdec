#!/usr/bin/python3
"""A kernel UDP socket sends to a port with no listener and must learn, from the ICMP
port unreachable that comes back, ECONNREFUSED — on recv() of a connected socket, and in
detail through IP_RECVERR (origin ICMP, type 3, code 3, offender = the peer).

usage: udp_unreach.py ADDR PORT [TRIES]   (exit 0 iff every check holds)"""
import errno
import select
import socket
import struct
import sys

IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    tries = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    ok = True

    # 1. A plain connected socket: the error surfaces as ECONNREFUSED on recv().
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.connect((addr, port))
    got = None
    sent = 0
    for _ in range(tries):	# the first datagram may wait for ARP
        s.send(b"ipstack-udp-unreach")
        sent += 1
        try:
            s.recv(100)
            got = "a datagram came back"
            break
        except ConnectionRefusedError:
            got = "ECONNREFUSED"
            break
        except socket.timeout:
            got = "timeout (no ICMP error)"
        except OSError as e:
            got = "%s (%s)" % (errno.errorcode.get(e.errno, e.errno), e.strerror)
            break
    print("recv on connected socket: %s" % got)
    if got != "ECONNREFUSED":
        if got and got.startswith("ENOPROTOOPT"):
            print("  (ENOPROTOOPT = ICMP protocol unreachable: the peer has no UDP input)")
        ok = False
    s.close()

    # 2. IP_RECVERR: the extended error says exactly what came back.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.connect((addr, port))
    s.send(b"ipstack-udp-unreach-2")
    sent += 1
    detail = None
    for _ in range(20):
        select.select([s], [], [s], 0.1)	# an error queue entry shows as readable
        try:
            data, anc, flags, _ = s.recvmsg(100, 512, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            continue
        except OSError as e:
            if e.errno == errno.EAGAIN:
                continue
            raise
        for level, typ, cdata in anc:
            if level == socket.IPPROTO_IP and typ == IP_RECVERR:
                ee_errno, origin, etype, ecode, pad, info, data_ = struct.unpack("=IBBBBII", cdata[:16])
                off = socket.inet_ntoa(cdata[16 + 4:16 + 8]) if len(cdata) >= 24 else "?"
                detail = (errno.errorcode.get(ee_errno, ee_errno), origin, etype, ecode, off)
        break
    want = ("ECONNREFUSED", SO_EE_ORIGIN_ICMP, 3, 3, addr)
    print("IP_RECVERR: %s (want errno, origin, type, code, offender = %s)" % (detail, want))
    if detail != want:
        ok = False
    s.close()
    print("datagrams sent: %d" % sent)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
