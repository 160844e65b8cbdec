/* IGMP: v1 (RFC 1112 appendix I), v2 (RFC 2236) and v3 (RFC 3376 4). */
#ifndef IPS_WIRE_IGMP_H
#define IPS_WIRE_IGMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define WIRE_IGMP_QUERY		0x11
#define WIRE_IGMP_V1_REPORT	0x12
#define WIRE_IGMP_V2_REPORT	0x16
#define WIRE_IGMP_V2_LEAVE	0x17
#define WIRE_IGMP_V3_REPORT	0x22

#define WIRE_IGMP_LEN		8	/* v1/v2 messages, and the v1/v2 query */
#define WIRE_IGMPV3_QUERY_LEN	12	/* without sources */
#define WIRE_IGMPV3_REPORT_LEN	8	/* without group records */
#define WIRE_IGMPV3_REC_LEN	8	/* without sources and aux data */

/* RFC 3376 4.2.12 record types */
#define WIRE_IGMPV3_MODE_IS_INCLUDE	1
#define WIRE_IGMPV3_MODE_IS_EXCLUDE	2
#define WIRE_IGMPV3_CHANGE_TO_INCLUDE	3
#define WIRE_IGMPV3_CHANGE_TO_EXCLUDE	4
#define WIRE_IGMPV3_ALLOW_NEW_SOURCES	5
#define WIRE_IGMPV3_BLOCK_OLD_SOURCES	6

/* The 8-byte v1/v2 message (and the first 8 bytes of any IGMP message). */
struct wire_igmp {
	uint8_t type;
	uint8_t code;		/* v2 query: Max Resp Time in 1/10 s; v1: 0 ("unused") */
	uint16_t csum;
	uint32_t group;		/* network order */
};

/* Needs len >= 8. Checksum not checked (wire_igmp_csum_ok()). */
int wire_igmp_parse(const uint8_t *p, size_t len, struct wire_igmp *out);
/* Writes 8 bytes with the checksum. */
size_t wire_igmp_emit(uint8_t *p, const struct wire_igmp *h);
/* RFC 3376 4.1.2 / 4.2.2: the checksum over the whole IGMP message verifies. */
bool wire_igmp_csum_ok(const uint8_t *p, size_t len);

/* A query's version by its length, RFC 3376 7.1: 8 bytes and code 0 -> 1, 8 bytes and
 * code != 0 -> 2, >= 12 bytes -> 3; 9..11 bytes -> 0 (ignored, as Linux
 * igmp_heard_query() does). */
int wire_igmp_query_version(size_t len, uint8_t code);

/* RFC 3376 4.1 Membership Query (v3). */
struct wire_igmpv3_query {
	uint8_t max_resp_code;	/* encoded; wire_igmpv3_code_decode() -> 1/10 s */
	uint16_t csum;
	uint32_t group;		/* network order; 0 = general query */
	bool s_flag;		/* suppress router-side processing */
	uint8_t qrv;		/* querier's robustness variable, 0..7 */
	uint8_t qqic;		/* encoded; wire_igmpv3_code_decode() -> seconds */
	uint8_t resv;		/* the 4 reserved bits (ignored on receipt, RFC 3376 4.1.5) */
	uint16_t nsrcs;
	const uint8_t *srcs;	/* parse: nsrcs * 4 bytes in the packet; wire_igmpv3_src() */
};

/* Needs type 0x11, len >= 12 and len >= 12 + 4 * nsrcs (Linux igmp_heard_query() ignores
 * a query whose sources do not fit). Bytes past the sources are ignored. */
int wire_igmpv3_query_parse(const uint8_t *p, size_t len, struct wire_igmpv3_query *out);
/* Writes 12 + 4 * nsrcs bytes with the checksum; sources from srcs_be (network order)
 * or, if that is NULL, from h->srcs bytes. */
size_t wire_igmpv3_query_emit(uint8_t *p, const struct wire_igmpv3_query *h,
			      const uint32_t *srcs_be);

/* The i-th address of a source list in packet bytes (network order). */
static inline uint32_t wire_igmpv3_src(const uint8_t *srcs, unsigned int i)
{
	return get_in4(srcs + 4 * (size_t)i);
}

/* RFC 3376 4.1.1 / 4.1.7: Max Resp Code and QQIC share a format: < 128 is the value
 * itself; otherwise 1|exp(3)|mant(4) means (mant | 0x10) << (exp + 3). */
unsigned int wire_igmpv3_code_decode(uint8_t code);
/* The inverse, rounding down to a representable value (so a router never waits for
 * longer than asked); values above 31744 encode as 0xff (31744). */
uint8_t wire_igmpv3_code_encode(unsigned int value);

/* RFC 3376 4.2 Version 3 Membership Report: iterate its group records in place. */
struct wire_igmpv3_report {
	uint16_t csum;
	uint16_t nrecs;		/* as announced by the header */
	const uint8_t *recs;	/* first record */
	size_t recs_len;	/* bytes from recs to the end of the message */
};

struct wire_igmpv3_rec {
	uint8_t type;		/* WIRE_IGMPV3_* record type */
	uint8_t aux_words;	/* aux data length in 32-bit words */
	uint16_t nsrcs;
	uint32_t group;		/* network order */
	const uint8_t *srcs;	/* nsrcs * 4 bytes: wire_igmpv3_src() */
	const uint8_t *aux;	/* aux_words * 4 bytes */
};

/* Needs type 0x22 and len >= 8; the records are checked as they are iterated. */
int wire_igmpv3_report_parse(const uint8_t *p, size_t len, struct wire_igmpv3_report *out);

/* Record iterator, zero-initialised: struct wire_igmpv3_rec_iter it = {0}. */
struct wire_igmpv3_rec_iter {
	unsigned int idx;	/* records returned so far */
	size_t off;		/* offset of the next record from r->recs */
};

/* Returns 1 with *rec filled (pointers into the packet) and the iterator advanced; 0
 * after r->nrecs records; -EBADMSG if a record runs past the end of the message (a
 * snooping switch or multicast router would drop the whole report then; a host ignores
 * reports anyway, RFC 3376 5). */
int wire_igmpv3_rec_next(const struct wire_igmpv3_report *r, struct wire_igmpv3_rec_iter *it,
			 struct wire_igmpv3_rec *rec);

/* A group record to emit. */
struct wire_igmpv3_rec_out {
	uint8_t type;
	uint32_t group;		/* network order */
	const uint32_t *srcs;	/* network order */
	uint16_t nsrcs;
};

/* Bytes a report with these records takes. */
size_t wire_igmpv3_report_len(const struct wire_igmpv3_rec_out *recs, size_t nrecs);
/* Writes the report (no aux data) with its checksum; returns its length. */
size_t wire_igmpv3_report_emit(uint8_t *p, const struct wire_igmpv3_rec_out *recs, size_t nrecs);

#endif
