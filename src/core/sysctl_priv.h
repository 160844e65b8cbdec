/* Private to the sysctl registry: the table's entry format and the proc-handler
 * emulation shared by sysctl.c, sysctl_proc.c and sysctl_table.c. */
#ifndef IPS_CORE_SYSCTL_PRIV_H
#define IPS_CORE_SYSCTL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sysctl.h"

/* Which struct an entry's field lives in. */
enum sysctl_scope {
	SC_IP,		/* struct ipv4_sysctl: net.ipv4.<name> */
	SC_CONF,	/* struct ipv4_devconf: net.ipv4.conf.{all,default,<dev>}.<name> */
	SC_NEIGH,	/* struct neigh_parms: net.ipv4.neigh.{default,<dev>}.<name> */
	SC_CORE,	/* struct core_sysctl: net.core.<name> */
};

/* The Linux proc handler an entry behaves like (kernel/sysctl.c, net/ipv4/...). */
enum sysctl_kind {
	SK_INT,		/* proc_dointvec[_minmax]: int vector, elements committed one by one */
	SK_U8,		/* proc_dou8vec_minmax: one value, 0..255 unless bounded */
	SK_UINT,	/* proc_douintvec[_minmax]: one unsigned int */
	SK_ULONG,	/* proc_doulongvec_minmax: unsigned long vector */
	SK_JIFFIES,	/* proc_dointvec_jiffies: seconds */
	SK_MS_JIFFIES,	/* proc_dointvec_ms_jiffies[_minmax]: ms; bounds are in jiffies */
	SK_USERHZ,	/* proc_dointvec_userhz_jiffies: 1/USER_HZ s */
	SK_UNRES_QLEN,	/* neigh_proc_dointvec_unres_qlen: packets of SKB_TRUESIZE bytes */
	SK_FORWARD,	/* devinet_sysctl_forward: ip_forward, conf.*.forwarding */
	SK_PORT_RANGE,	/* ipv4_local_port_range */
	SK_UNPRIV_PORT,	/* ipv4_privileged_ports */
	SK_PING_GROUP,	/* ipv4_ping_group_range */
	SK_PORT_BITMAP,	/* proc_do_large_bitmap: ip_local_reserved_ports */
	SK_CC,		/* proc_tcp_congestion_control */
	SK_CC_LIST,	/* proc_tcp_{available,allowed}_congestion_control (read-only here) */
	SK_TFO_KEY,	/* proc_tcp_fastopen_key */
	SK_FLUSH,	/* ipv4_sysctl_rtcache_flush: write-only, any value */
};

/* How the field is stored (the unit is the leaf's, see sysctl.h). */
enum sysctl_store {
	ST_INT,		/* int */
	ST_UINT,	/* unsigned int */
	ST_ULONG,	/* unsigned long */
	ST_SEC,		/* int, seconds (a jiffies entry outside neigh) */
	ST_UMS,		/* unsigned int, ms (an ms_jiffies entry outside neigh) */
	ST_MS64,	/* int64_t, ms (every neigh time) */
	ST_NONE,	/* no field (computed or write-only) */
};

enum sysctl_flag {
	F_MIN = 1 << 0,		/* .min is a lower bound */
	F_MAX = 1 << 1,		/* .max is an upper bound */
	F_MIN_FIELD = 1 << 2,	/* .min is the offset of a field holding the lower bound */
	F_MAX_FIELD = 1 << 3,	/* .max is the offset of a field holding the upper bound */
	F_MAX_UINT_DIV_HZ = 1 << 4, /* upper bound UINT_MAX / HZ */
	F_RO = 1 << 5,		/* mode 0444 (in a non-initial namespace) */
	F_WO = 1 << 6,		/* mode 0200 */
	F_DEPRECATED = 1 << 7,	/* hidden from `sysctl -a` (procps) */
	F_DEVINET = 1 << 8,	/* devinet_conf_proc: marks the device's state bit; a write to
				 * conf.default reaches devices that have not set it */
	F_NEIGH = 1 << 9,	/* neigh_proc_update: the same for neigh.default */
	F_DFLT_ONLY = 1 << 10,	/* exists under neigh.default only */
	F_ALIAS = 1 << 11,	/* a view of another leaf's field (no field of its own) */
};

struct sysctl_entry {
	const char *name;	/* below net.ipv4. (SC_IP) or below conf.<dev>. / neigh.<dev>. */
	uint8_t scope;		/* enum sysctl_scope */
	uint8_t kind;		/* enum sysctl_kind */
	uint8_t store;		/* enum sysctl_store */
	uint8_t n;		/* elements (vectors) */
	uint16_t flags;		/* enum sysctl_flag */
	uint8_t implemented;	/* 1: ipstack honours it; 0: stored and validated only */
	size_t off;		/* of the field in its scope's struct */
	long long min, max;	/* see F_MIN/F_MAX/F_MIN_FIELD/F_MAX_FIELD */
	const char *note;	/* for docs/sysctl.md, may be NULL */
};

extern const struct sysctl_entry sysctl_table[];
extern const size_t sysctl_table_len;

/* Linux's SKB_TRUESIZE(ETH_FRAME_LEN) on x86_64 (6.x): the unit of neigh.*.unres_qlen. */
#define SYSCTL_SKB_TRUESIZE 2090
#define SYSCTL_USER_HZ 100
#define SYSCTL_GID_T_MAX 4294967294u	/* GID_T_MAX: (gid_t)~0 - 1 */
#define SYSCTL_PAGE_SIZE 4096
#define SYSCTL_TFO_KEY_MAXLEN (16 * 2 * 2 + 2 * 5)	/* two keys in hex, dashes, comma */

/* The congestion controls ipstack has (tcp_available_congestion_control, in Linux's
 * registration order: reno is built in first). All are allowed. */
extern const char *const sysctl_tcp_cc_available[];

/* Set the fresh-namespace defaults of every struct. */
void sysctl_defaults_init(struct sysctl_ns *ns);

/* One write or read on an entry, as Linux's handler does it. target points at the
 * struct of the entry's scope. pos is the file offset of this write(2) (a short write
 * is continued at the next offset, as stdio does). Returns bytes consumed or -errno. */
struct sysctl_target {
	struct sysctl_ns *ns;
	const struct sysctl_entry *e;
	void *base;		/* struct ipv4_sysctl / ipv4_devconf / neigh_parms */
};
long sysctl_proc_write(const struct sysctl_target *t, const char *buf, size_t len, size_t pos);
/* proc_dointvec() on one plain int (conf.*.forwarding). */
long sysctl_proc_dointvec(const char *buf, size_t len, size_t pos, int *val);
/* Formats without the trailing newline. Returns the length, or -ENOSPC. */
int sysctl_proc_read(const struct sysctl_target *t, char *buf, size_t len);

/* The value range in words, for docs/sysctl.md. */
void sysctl_entry_range(const struct sysctl_ns *ns, const struct sysctl_entry *e, char *buf,
			size_t len);

/* Write the markdown table of every entry (name, default, range, implemented) for a
 * fresh namespace. */
void sysctl_doc_table(FILE *f);

#endif
