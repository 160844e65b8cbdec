/* MIB counters: one array per stack, indexed by MIB_<Group><Name>, plus the IcmpMsg
 * per-type tables. Counters are bumped under the stack lock. */
#ifndef IPS_CORE_MIB_H
#define IPS_CORE_MIB_H

#include <stdint.h>
#include <stddef.h>
#include "core/mib_list.h"

enum mib_id {
#define MIB_ENUM(g, n) MIB_##g##n,
	IPS_MIB_LIST(MIB_ENUM)
#undef MIB_ENUM
	MIB_MAX
};

struct mib {
	uint64_t v[MIB_MAX];
	uint64_t icmpmsg_in[256];	/* IcmpMsgInTypeN */
	uint64_t icmpmsg_out[256];	/* IcmpMsgOutTypeN */
};

#define MIB_INC(st, name) ((st)->mib.v[MIB_##name]++)
#define MIB_ADD(st, name, n) ((st)->mib.v[MIB_##name] += (n))
#define MIB_DEC(st, name) ((st)->mib.v[MIB_##name]--)

/* "IpInReceives" -> index, or -1. */
int mib_lookup(const char *name);
const char *mib_group(enum mib_id id);	/* "Ip" */
const char *mib_field(enum mib_id id);	/* "InReceives" */

#endif
