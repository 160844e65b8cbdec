/* pcap capture files (see pcap.h) and their attachment to devices. */
#include "link/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

struct pcap_writer {
	FILE *f;
	int err;		/* first write error, -errno */
};

#define PCAP_BUFSZ (256 * 1024)

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* host order, announced by the magic */
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

struct pcap_writer *pcap_open(const char *path, uint32_t linktype, int *err)
{
	struct pcap_writer *w = calloc(1, sizeof(*w));
	uint8_t h[PCAP_FILE_HDR_LEN] = { 0 };

	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	w->f = fopen(path, "wbe");
	if (!w->f) {
		*err = -errno;
		free(w);
		return NULL;
	}
	setvbuf(w->f, NULL, _IOFBF, PCAP_BUFSZ);
	put32(h, PCAP_MAGIC_NSEC);
	put16(h + 4, 2);		/* version 2.4 */
	put16(h + 6, 4);
	/* thiszone, sigfigs: 0 */
	put32(h + 16, PCAP_SNAPLEN);
	put32(h + 20, linktype);
	if (fwrite(h, sizeof(h), 1, w->f) != 1 || fflush(w->f) != 0) {
		*err = -(errno ? errno : EIO);
		fclose(w->f);
		free(w);
		return NULL;
	}
	return w;
}

void pcap_write(struct pcap_writer *w, uint64_t ts_ns, const void *data, size_t len)
{
	uint8_t h[PCAP_REC_HDR_LEN];
	size_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;

	if (w->err)
		return;
	put32(h, (uint32_t)(ts_ns / NS_PER_SEC));
	put32(h + 4, (uint32_t)(ts_ns % NS_PER_SEC));
	put32(h + 8, (uint32_t)incl);
	put32(h + 12, (uint32_t)len);
	if (fwrite(h, sizeof(h), 1, w->f) != 1 || (incl && fwrite(data, incl, 1, w->f) != 1))
		w->err = -(errno ? errno : EIO);
}

int pcap_flush(struct pcap_writer *w)
{
	if (fflush(w->f) != 0 && !w->err)
		w->err = -(errno ? errno : EIO);
	return w->err;
}

int pcap_close(struct pcap_writer *w)
{
	int err;

	if (!w)
		return 0;
	pcap_flush(w);
	err = w->err;
	if (fclose(w->f) != 0 && !err)
		err = -(errno ? errno : EIO);
	free(w);
	return err;
}
