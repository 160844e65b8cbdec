/* Real packets, captured on the loopback interface of Linux 6.18 (AF_PACKET socket),
 * from iputils ping 20221126:
 *   RR_*       ping -c1 -R -s 8 127.0.0.1
 *   TSONLY_*   ping -c1 -T tsonly -s 8 127.0.0.1
 *   TSADDR_*   ping -c1 -T tsandaddr -s 8 127.0.0.1
 *   PRESPEC_*  ping -c1 -T tsprespec 127.0.0.1 127.0.0.2 -s 8 127.0.0.1
 * Each is the IP header (first lines) then the ICMP message. The requests are as the
 * sender's ip_options_build() wrote them (it records itself first); the replies are
 * what Linux's icmp_reply() sent back after ip_options_compile() on receipt and
 * __ip_options_echo(). All timestamps in one exchange fell in the same millisecond. */
#ifndef IPS_TESTS_WIRE_VECTORS_H
#define IPS_TESTS_WIRE_VECTORS_H

static const char RR_REQ[] =
	"4f00004c 2b464000 40016058 7f000001 7f000001"
	"01072708 7f000001 00000000 00000000 00000000"
	"00000000 00000000 00000000 00000000 00000000"
	/* ICMP */ "0800ca3d 21b10001 00010203 04050607";
static const char RR_REPLY[] =
	"4f00004c 2b470000 40012bc4 7f000001 7f000001"
	"0727107f 0000017f 0000017f 00000100 00000000"
	"00000000 00000000 00000000 00000000 00000000"
	/* ICMP */ "0000d23d 21b10001 00010203 04050607";
static const char TSONLY_REQ[] =
	"4f00004c 2d9d4000 4001a77e 7f000001 7f000001"
	"44280900 03510d1a 00000000 00000000 00000000"
	"00000000 00000000 00000000 00000000 00000000"
	/* ICMP */ "0800c9dd 22110001 00010203 04050607";
static const char TSONLY_REPLY[] =
	"4f00004c 2d9e0000 4001bea7 7f000001 7f000001"
	"44281100 03510d1a 03510d1a 03510d1a 00000000"
	"00000000 00000000 00000000 00000000 00000000"
	/* ICMP */ "0000d1dd 22110001 00010203 04050607";
static const char TSADDR_REQ[] =
	"4e000048 2db44000 400124c5 7f000001 7f000001"
	"44240d01 7f000001 03510dc2 00000000 00000000"
	"00000000 00000000 00000000 00000000"
	/* ICMP */ "0800c9b2 223c0001 00010203 04050607";
static const char TSADDR_REPLY[] =
	"4e000048 2db50000 4001349b 7f000001 7f000001"
	"44241d01 7f000001 03510dc2 7f000001 03510dc2"
	"7f000001 03510dc2 00000000 00000000"
	/* ICMP */ "0000d1b2 223c0001 00010203 04050607";
static const char PRESPEC_REQ[] =
	"4a000038 2dbc4000 4001a94c 7f000001 7f000001"
	"44140d03 7f000001 03510e4e 7f000002 00000000"
	""
	/* ICMP */ "0800c987 22670001 00010203 04050607";
static const char PRESPEC_REPLY[] =
	"4a000038 2dbd0000 4001cfac 7f000001 7f000001"
	"44141503 7f000001 03510e4e 7f000002 03510e4e"
	""
	/* ICMP */ "0000d187 22670001 00010203 04050607";

/* More real packets from the same machine (IP header onwards; loopback, so TCP and UDP
 * checksums are CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not
 * complemented, for "hardware" to finish; ICMP and IGMP checksums are complete):
 *   CAP_UDP_DGRAM     python sendto(b"hello ipstack\n", ("127.0.0.1", 9999))
 *   CAP_ICMP_PORT_UNREACH  Linux's answer to it (type 3 code 3, quoting it; TOS 0xc0)
 *   CAP_TCP_SYN, CAP_TCP_SYNACK, CAP_TCP_ACK, CAP_TCP_DATA   connect() + send() to a listener
 *   CAP_IGMPV3_JOIN, CAP_IGMPV3_LEAVE  IP_ADD_MEMBERSHIP 239.1.2.3 on lo, and close()
 */
static const char CAP_UDP_DGRAM[] =
	"4500002a b7e24000 401184de 7f000001 7f000001"
	/* UDP */ "ca8a270f 0016fe29 68656c6c 6f206970 73746163 6b0a";
static const char CAP_ICMP_PORT_UNREACH[] =
	"45c00046 5d7a0000 40011e7b 7f000001 7f000001"
	/* ICMP */ "03031fde 00000000 4500002a b7e24000 401184de 7f000001 7f000001"
	"ca8a270f 0016fe29 68656c6c 6f206970 73746163 6b0a";
static const char CAP_TCP_SYN[] =
	"4500003c 17b44000 40062506 7f000001 7f000001"
	/* TCP */ "dbb215b3 f74f998f 00000000 a002ffd7 fe300000"
	"0204ffd7 0402080a eec4c275 00000000 0103030a";
static const char CAP_TCP_SYNACK[] =
	"4500003c 00004000 40063cba 7f000001 7f000001"
	/* TCP */ "15b3dbb2 4f092f26 f74f9990 a012ffcb fe300000"
	"0204ffd7 0402080a 6a7e177e eec4c275 0103030a";
static const char CAP_TCP_ACK[] =
	"45000034 17b54000 4006250d 7f000001 7f000001"
	/* TCP */ "dbb215b3 f74f9990 4f092f27 80100040 fe280000"
	"0101080a eec4c275 6a7e177e";
static const char CAP_TCP_DATA[] =
	"45000046 17b64000 400624fa 7f000001 7f000001"
	/* TCP */ "dbb215b3 f74f9990 4f092f27 80180040 fe3a0000"
	"0101080a eec4c275 6a7e177e 47455420 2f204854 54502f31 2e300d0a 0d0a";
static const char CAP_IGMPV3_JOIN[] =
	"46c00028 00004000 010203fa 00000000 e0000016 94040000"
	/* IGMP */ "2200e8f9 00000001 04000000 ef010203";
static const char CAP_IGMPV3_LEAVE[] =
	"46c00028 00004000 010203fa 00000000 e0000016 94040000"
	/* IGMP */ "2200e9f9 00000001 03000000 ef010203";

#endif
