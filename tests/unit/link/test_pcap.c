/* pcap files: header and records as libpcap reads them. */
#include <errno.h>
#include <unistd.h>

#include "link/pcap.h"
#include "test.h"

TEST_MAIN

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static char tmpl[64];

static const char *tmpfile_path(void)
{
	int fd;

	snprintf(tmpl, sizeof(tmpl), "/tmp/ipstack-pcap-XXXXXX");
	fd = mkstemp(tmpl);
	if (fd >= 0)
		close(fd);
	return tmpl;
}

TEST(header_is_nanosecond_pcap)
{
	const char *path = tmpfile_path();
	int err = 0;
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, &err);
	size_t len;
	uint8_t *b;

	ASSERT(w);
	CHECK_EQ(pcap_close(w), 0);
	b = slurp(path, &len);
	ASSERT(b);
	ASSERT_EQ(len, PCAP_FILE_HDR_LEN);
	CHECK_EQ(rd32(b), 0xa1b23c4du);
	CHECK_EQ(rd16(b + 4), 2);
	CHECK_EQ(rd16(b + 6), 4);
	CHECK_EQ(rd32(b + 8), 0);
	CHECK_EQ(rd32(b + 12), 0);
	CHECK_EQ(rd32(b + 16), 262144);
	CHECK_EQ(rd32(b + 20), 1);
	free(b);
	unlink(path);
}

TEST(records_carry_time_and_bytes)
{
	const char *path = tmpfile_path();
	int err = 0;
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_RAW, &err);
	uint8_t f1[42], f2[3] = { 1, 2, 3 };
	size_t len;
	uint8_t *b;

	ASSERT(w);
	for (size_t i = 0; i < sizeof(f1); i++)
		f1[i] = (uint8_t)i;
	pcap_write(w, 0, f1, sizeof(f1));
	pcap_write(w, 3 * 1000000000ULL + 123456789, f2, sizeof(f2));
	CHECK_EQ(pcap_close(w), 0);
	b = slurp(path, &len);
	ASSERT(b);
	ASSERT_EQ(len, 24 + 16 + 42 + 16 + 3);
	CHECK_EQ(rd32(b + 20), 101);
	const uint8_t *r = b + 24;

	CHECK_EQ(rd32(r), 0);
	CHECK_EQ(rd32(r + 4), 0);
	CHECK_EQ(rd32(r + 8), 42);
	CHECK_EQ(rd32(r + 12), 42);
	CHECK_MEM(r + 16, f1, 42);
	r += 16 + 42;
	CHECK_EQ(rd32(r), 3);
	CHECK_EQ(rd32(r + 4), 123456789);
	CHECK_EQ(rd32(r + 8), 3);
	CHECK_EQ(rd32(r + 12), 3);
	CHECK_MEM(r + 16, f2, 3);
	free(b);
	unlink(path);
}

TEST(long_frames_are_cut_to_snaplen)
{
	const char *path = tmpfile_path();
	int err = 0;
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_RAW, &err);
	size_t big = PCAP_SNAPLEN + 100, len;
	uint8_t *data = calloc(1, big), *b;

	ASSERT(w);
	pcap_write(w, 5, data, big);
	CHECK_EQ(pcap_close(w), 0);
	b = slurp(path, &len);
	ASSERT(b);
	ASSERT_EQ(len, 24 + 16 + PCAP_SNAPLEN);
	CHECK_EQ(rd32(b + 24 + 4), 5);
	CHECK_EQ(rd32(b + 24 + 8), PCAP_SNAPLEN);
	CHECK_EQ(rd32(b + 24 + 12), big);
	free(b);
	free(data);
	unlink(path);
}

TEST(flush_makes_records_visible)
{
	const char *path = tmpfile_path();
	int err = 0;
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, &err);
	uint8_t f[60] = { 0 };
	size_t len;
	uint8_t *b;

	ASSERT(w);
	pcap_write(w, 1, f, sizeof(f));
	b = slurp(path, &len);
	CHECK_EQ(len, 24);	/* still buffered */
	free(b);
	CHECK_EQ(pcap_flush(w), 0);
	b = slurp(path, &len);
	CHECK_EQ(len, 24 + 16 + 60);
	free(b);
	pcap_close(w);
	unlink(path);
}

TEST(open_failure_reports_errno)
{
	int err = 0;
	struct pcap_writer *w = pcap_open("/nonexistent-dir/x.pcap", PCAP_LINKTYPE_RAW, &err);

	CHECK(w == NULL);
	CHECK_EQ(err, -ENOENT);
}
