/* Segmentation offload changes how segments are handed to the device, not what goes on
 * the wire: the same transfer with TSO on and off over a memlink (same seed) delivers the
 * same bytes (SHA-256) and, with the receiver taking wire frames (its offloads off, so the
 * link cuts the super-packets for it), puts byte-for-byte the same frames on the wire, as
 * the sender's capture (which shows wire frames) records them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/stack.h"
#include "link/netdev.h"
#include "support/support.h"
#include "test.h"
#include "../../tools/sha256.c"

#define SA(x) ((struct sockaddr *)&(x))
#define XFER_BYTES (2L << 20)

struct run {
	uint8_t sent_sha[32], got_sha[32];
	long got;
	uint64_t tx_packets;	/* a's eth0: super-packets count once */
	uint64_t out_segs;	/* a's TcpOutSegs */
	char pcap[96];
};

/* XFER_BYTES of test_fill() data from a to b over a fresh two-host world of the given
 * seed, a's capture in r->pcap; a_offload/b_offload are a's and b's eth0 offloads. */
static int run_transfer(unsigned seed, unsigned a_offload, unsigned b_offload, struct run *r,
			const char *tag)
{
	static uint8_t out[XFER_BYTES], in[65536];
	ips_world *w = ips_world_new(seed);
	struct sockaddr_in dst = sin4("10.0.0.2", 5001), any = sin4("0.0.0.0", 5001);
	struct sha256 hs, hr;
	long sent = 0;
	int l, c, s = -1, rc = -1;
	ips_stack *a, *b;

	if (!w || two_hosts(w, &a, &b, NULL) < 0)
		return -1;
	if (ips_dev_set_offload(a, "eth0", a_offload) < 0 ||
	    ips_dev_set_offload(b, "eth0", b_offload) < 0)
		goto out;
	snprintf(r->pcap, sizeof(r->pcap), "/tmp/ipstack-tso-wire-%d-%s.pcap", (int)getpid(), tag);
	if (ips_dev_set_pcap(a, "eth0", r->pcap) < 0)
		goto out;
	test_fill(out, sizeof(out), seed);
	sha256_init(&hs);
	sha256_init(&hr);
	r->got = 0;
	ips_stack_enter(b);
	l = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || ips_bind(l, SA(any), sizeof(any)) < 0 || ips_listen(l, 4) < 0)
		goto out;
	ips_stack_enter(a);
	c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c < 0)
		goto out;
	ips_connect(c, SA(dst), sizeof(dst));
	for (int rounds = 0; r->got < XFER_BYTES && rounds < 100000; rounds++) {
		long k;

		if (s < 0) {
			ips_stack_enter(b);
			s = ips_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		}
		ips_stack_enter(a);
		while (sent < XFER_BYTES &&
		       (k = ips_send(c, out + sent, (size_t)(XFER_BYTES - sent), 0)) > 0) {
			sha256_update(&hs, out + sent, (size_t)k);
			sent += k;
		}
		if (s >= 0) {
			ips_stack_enter(b);
			while ((k = ips_recv(s, in, sizeof(in), 0)) > 0) {
				sha256_update(&hr, in, (size_t)k);
				r->got += k;
			}
		}
		ips_world_run_for(w, MS(1));
	}
	sha256_final(&hs, r->sent_sha);
	sha256_final(&hr, r->got_sha);
	ips_stack_enter(a);
	ips_close(c);
	ips_stack_enter(b);
	if (s >= 0)
		ips_close(s);
	ips_close(l);
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(120));		/* FIN exchange and TIME_WAIT */
	stack_lock(a);
	r->tx_packets = stack_dev_by_name(a, "eth0")->tx_packets;
	stack_unlock(a);
	r->out_segs = test_counter(a, "TcpOutSegs");
	rc = ips_dev_set_pcap(a, "eth0", NULL);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
out:
	ips_stack_enter(NULL);
	ips_world_free(w);
	return rc;
}

/* The whole file, or NULL; *len its size. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Frames in a pcap file, and how many are longer than a 1500-byte MTU allows. */
static size_t pcap_frames(const uint8_t *p, size_t len, size_t *over_mtu)
{
	size_t off = 24, n = 0;

	*over_mtu = 0;
	while (off + 16 <= len) {
		uint32_t incl;

		memcpy(&incl, p + off + 8, 4);	/* host order */
		if (off + 16 + incl > len)
			break;
		*over_mtu += incl > 1514;
		n++;
		off += 16 + incl;
	}
	return n;
}

TEST(tso_on_and_off_give_the_same_bytes_and_the_same_wire_frames)
{
	struct run on, off;
	uint8_t *pon, *poff;
	size_t lon = 0, loff = 0, over_on, over_off, n_on, n_off;

	ASSERT_EQ(run_transfer(11, IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO, 0, &on, "on"), 0);
	ASSERT_EQ(run_transfer(11, 0, 0, &off, "off"), 0);
	CHECK_EQ(on.got, XFER_BYTES);
	CHECK_EQ(off.got, XFER_BYTES);
	CHECK_MEM(on.got_sha, on.sent_sha, 32);
	CHECK_MEM(off.got_sha, off.sent_sha, 32);
	CHECK_MEM(on.got_sha, off.got_sha, 32);
	/* TSO was used: the device was handed far fewer packets than TCP sent segments;
	 * without it, one per segment (and the two runs sent the same segments). */
	CHECK_EQ(on.out_segs, off.out_segs);
	CHECK(on.tx_packets * 4 < on.out_segs);
	CHECK(off.tx_packets >= off.out_segs);
	pon = slurp(on.pcap, &lon);
	poff = slurp(off.pcap, &loff);
	ASSERT(pon && poff);
	n_on = pcap_frames(pon, lon, &over_on);
	n_off = pcap_frames(poff, loff, &over_off);
	CHECK(n_on > XFER_BYTES / 1500);
	CHECK_EQ(n_on, n_off);
	CHECK_EQ(over_on, 0);		/* the capture shows wire frames, not super-packets */
	CHECK_EQ(over_off, 0);
	CHECK_EQ(lon, loff);
	if (lon == loff)
		CHECK(memcmp(pon, poff, lon) == 0);	/* frames, checksums, IDs, times */
	free(pon);
	free(poff);
	unlink(on.pcap);
	unlink(off.pcap);
}

/* A receiver that takes super-packets whole (GRO-like, both ends with offloads) gets
 * the same bytes. */
TEST(tso_end_to_end_delivers_the_same_bytes)
{
	struct run on, off;

	ASSERT_EQ(run_transfer(12, IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO,
			       IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO, &on, "both"), 0);
	ASSERT_EQ(run_transfer(12, 0, 0, &off, "none"), 0);
	CHECK_EQ(on.got, XFER_BYTES);
	CHECK_EQ(off.got, XFER_BYTES);
	CHECK_MEM(on.got_sha, on.sent_sha, 32);
	CHECK_MEM(on.got_sha, off.got_sha, 32);
	CHECK(on.tx_packets * 4 < on.out_segs);
	unlink(on.pcap);
	unlink(off.pcap);
}

TEST_MAIN
