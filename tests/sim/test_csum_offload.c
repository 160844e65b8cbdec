/* Checksum offload (CHECKSUM_PARTIAL), as Linux's lo and veth: TCP leaves its checksum
 * to the device; lo and memlinks carry the buffer as it is and the receiver trusts it;
 * everything that needs the real bytes completes it first: a device without
 * NETIF_F_HW_CSUM (TUN/TAP, callback devices), a capture, corruption, fragmentation. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csum.h"
#include "support/support.h"
#include "test.h"
#include "wire/wire.h"

#define SA(x) ((struct sockaddr *)&(x))

/* The TCP checksum of an IPv4 packet is complete and right. */
static bool tcp_csum_valid(const uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get_be16(ip + 2);
	uint32_t saddr, daddr, s;

	if (tot > len || tot < ihl + 20)
		return false;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	s = ips_csum_pseudo(saddr, daddr, IPPROTO_TCP, (uint16_t)(tot - ihl));
	return ips_csum_fold(ips_csum_add(s, ip + ihl, tot - ihl)) == 0;
}

/* The checksum field holds only the pseudo-header's folded sum (CHECKSUM_PARTIAL). */
static bool tcp_csum_partial(const uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get_be16(ip + 2);
	uint32_t saddr, daddr;
	uint16_t folded;

	if (tot > len || tot < ihl + 20)
		return false;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	folded = (uint16_t)~ips_csum_fold(ips_csum_pseudo(saddr, daddr, IPPROTO_TCP,
						       (uint16_t)(tot - ihl)));
	return get_be16(ip + ihl + 16) == folded;
}

/* n bytes of test_fill() pattern from a to b:port (baddr), as non-blocking socket calls
 * between slices of virtual time; sock_opt, if > 0, is set as IP_MTU_DISCOVER on the
 * client. Returns the bytes b read that matched the pattern, -1 on setup failure. */
static long transfer(ips_world *w, ips_stack *a, ips_stack *b, const char *baddr, int port,
		     long n, int pmtudisc)
{
	static uint8_t out[1 << 20], in[65536];
	struct sockaddr_in dst = sin4(baddr, port), any = sin4("0.0.0.0", port);
	long sent = 0, got = 0, good = 0;
	int l, c, s = -1;

	if (n > (long)sizeof(out))
		return -1;
	test_fill(out, (size_t)n, 3);
	ips_stack_enter(b);
	l = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || ips_bind(l, SA(any), sizeof(any)) < 0 || ips_listen(l, 4) < 0)
		return -1;
	ips_stack_enter(a);
	c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c < 0)
		return -1;
	if (pmtudisc >= 0 &&
	    ips_setsockopt(c, IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc, sizeof(pmtudisc)) < 0)
		return -1;
	ips_connect(c, SA(dst), sizeof(dst));
	for (int rounds = 0; got < n && rounds < 100000; rounds++) {
		long k;

		if (s < 0) {
			ips_stack_enter(b);
			s = ips_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		}
		ips_stack_enter(a);
		while (sent < n && (k = ips_send(c, out + sent, (size_t)(n - sent), 0)) > 0)
			sent += k;
		if (s >= 0) {
			ips_stack_enter(b);
			while ((k = ips_recv(s, in, sizeof(in), 0)) > 0) {
				if (got + k <= n && memcmp(in, out + got, (size_t)k) == 0)
					good += k;
				got += k;
			}
		}
		ips_world_run_for(w, MS(1));
	}
	ips_stack_enter(a);
	ips_close(c);
	ips_stack_enter(b);
	if (s >= 0)
		ips_close(s);
	ips_close(l);
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(1));
	return good;
}

static void finish(ips_world *w, ips_stack **sts, int n)
{
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(120));		/* TIME_WAIT and the rest */
	for (int i = 0; i < n; i++)
		CHECK_EQ(ips_stack_pkb_outstanding(sts[i]), 0);
	ips_world_free(w);
}

/* What reaches a memlink's driver is the segment as TCP left it: only the pseudo-header
 * in the checksum field (a capture on veth shows the same "incorrect" checksums); the
 * receiver takes it without verifying and delivers every byte. */
TEST(tcp_leaves_its_checksum_to_a_memlink_and_the_receiver_trusts_it)
{
	ips_world *w = ips_world_new(1);
	static struct test_tap tap;
	ips_stack *a, *b;
	size_t tcp = 0, partial = 0;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	/* checksum offload alone: segment by segment, without TSO's super-packets */
	ASSERT_EQ(ips_dev_set_offload(a, "eth0", IPS_OFFLOAD_CSUM), 0);
	ASSERT_EQ(test_tap_start(&tap, a, "eth0"), 0);
	CHECK_EQ(transfer(w, a, b, "10.0.0.2", 5001, 200000, -1), 200000);
	for (size_t i = 0; i < tap.n; i++) {
		if (tap.pkts[i].len < 40 || tap.pkts[i].data[9] != IPPROTO_TCP)
			continue;
		tcp++;
		partial += tcp_csum_partial(tap.pkts[i].data, tap.pkts[i].len);
	}
	test_tap_stop(&tap);
	CHECK(tcp > 20);
	CHECK_EQ(partial, tcp);
	CHECK_EQ(test_counter(b, "TcpInCsumErrors"), 0);
	CHECK_EQ(test_counter(a, "TcpInCsumErrors"), 0);
	ips_stack *sts[] = { a, b };

	finish(w, sts, 2);
}

struct cb_capture {
	int tcp, valid;
};

static void cb_out(void *arg, const void *pkt, size_t len)
{
	struct cb_capture *c = arg;
	const uint8_t *p = pkt;

	if (len < 40 || p[9] != IPPROTO_TCP)
		return;
	c->tcp++;
	c->valid += tcp_csum_valid(p, len);
}

/* A device without NETIF_F_HW_CSUM (here a callback device, as TUN/TAP) gets complete
 * checksums: netdev_xmit() completes them, as validate_xmit_skb() does. */
TEST(a_device_without_offload_gets_complete_checksums)
{
	ips_world *w = ips_world_new(2);
	ips_stack *a = ips_world_add_stack(w, "a");
	struct cb_capture cap = { 0 };
	struct sockaddr_in dst = sin4("10.9.0.2", 80);
	int c;

	ASSERT_EQ(ips_cbdev_new(a, "tun0", 1500, cb_out, &cap), 0);
	ASSERT_EQ(ips_addr_add(a, "tun0", "10.9.0.1/24"), 0);
	ips_stack_enter(a);
	c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT(c >= 0);
	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	ips_world_run_for(w, MS(2500));		/* the SYN, retransmitted at 1 s and 2 s */
	CHECK_EQ(cap.tcp, 3);
	CHECK_EQ(cap.valid, cap.tcp);
	ips_close(c);
	ips_stack *sts[] = { a };

	finish(w, sts, 1);
}

struct pcap_scan {
	int tcp, valid;
};

/* Every TCP segment in an Ethernet pcap file. */
static int pcap_scan_file(const char *path, struct pcap_scan *sc)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[24], rec[16];
	static uint8_t frame[70000];

	if (!f)
		return -1;
	if (fread(hdr, 1, 24, f) != 24) {
		fclose(f);
		return -1;
	}
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t incl;

		memcpy(&incl, rec + 8, 4);	/* written in host order */
		if (incl > sizeof(frame) || fread(frame, 1, incl, f) != incl)
			break;
		if (incl < 14 + 40 || get_be16(frame + 12) != 0x0800 || frame[14 + 9] != IPPROTO_TCP)
			continue;
		sc->tcp++;
		sc->valid += tcp_csum_valid(frame + 14, incl - 14);
	}
	fclose(f);
	return 0;
}

/* A capture shows what a wire would carry: complete checksums, on the sender's side and
 * on the receiver's. */
TEST(captures_on_a_memlink_show_complete_checksums)
{
	ips_world *w = ips_world_new(3);
	ips_stack *a, *b;
	char pa[64], pb[64];
	struct pcap_scan sa = { 0 }, sb = { 0 };

	snprintf(pa, sizeof(pa), "/tmp/ipstack-csum-a-%d.pcap", (int)getpid());
	snprintf(pb, sizeof(pb), "/tmp/ipstack-csum-b-%d.pcap", (int)getpid());
	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	ASSERT_EQ(ips_dev_set_pcap(a, "eth0", pa), 0);
	ASSERT_EQ(ips_dev_set_pcap(b, "eth0", pb), 0);
	CHECK_EQ(transfer(w, a, b, "10.0.0.2", 5002, 100000, -1), 100000);
	ASSERT_EQ(ips_dev_set_pcap(a, "eth0", NULL), 0);
	ASSERT_EQ(ips_dev_set_pcap(b, "eth0", NULL), 0);
	ASSERT_EQ(pcap_scan_file(pa, &sa), 0);
	ASSERT_EQ(pcap_scan_file(pb, &sb), 0);
	CHECK(sa.tcp > 20);
	CHECK_EQ(sa.valid, sa.tcp);
	CHECK(sb.tcp > 20);
	CHECK_EQ(sb.valid, sb.tcp);
	unlink(pa);
	unlink(pb);
	ips_stack *sts[] = { a, b };

	finish(w, sts, 2);
}

/* Corruption (netem's corrupt) flips bits of the real bytes: the checksum is completed
 * first, so the receiver catches every damaged segment and the stream stays exact. */
TEST(corruption_on_a_memlink_is_caught_by_the_receiver)
{
	ips_world *w = ips_world_new(4);
	struct ips_link_config cfg = { .impair = { .corrupt_pct = 5 } };
	ips_stack *a, *b;

	ASSERT_EQ(two_hosts(w, &a, &b, &cfg), 0);
	CHECK_EQ(transfer(w, a, b, "10.0.0.2", 5003, 300000, -1), 300000);
	CHECK(test_counter(b, "TcpInCsumErrors") > 0);
	ips_stack *sts[] = { a, b };

	finish(w, sts, 2);
}

/* Segments without DF (IP_PMTUDISC_DONT) meet a 1000-byte link behind the first router,
 * which fragments them: the checksum is completed before cutting (ip_do_fragment()), and
 * the receiver, verifying the reassembled segments, takes them all. */
TEST(a_router_completes_the_checksum_before_fragmenting)
{
	ips_world *w = ips_world_new(5);
	const uint32_t mtus[3] = { 1500, 1000, 1500 };
	ips_stack *s[4];

	ASSERT_EQ(chain_world(w, 4, mtus, s), 0);
	CHECK_EQ(transfer(w, s[0], s[3], "10.0.3.2", 5004, 100000, IP_PMTUDISC_DONT), 100000);
	CHECK(test_counter(s[1], "IpFragCreates") > 0);
	CHECK(test_counter(s[3], "IpReasmOKs") > 0);
	CHECK_EQ(test_counter(s[3], "TcpInCsumErrors"), 0);
	finish(w, s, 4);
}

TEST_MAIN
