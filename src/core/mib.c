#include "core/mib.h"

#include <string.h>

static const char *const mib_groups[MIB_MAX] = {
#define MIB_G(g, n) #g,
	IPS_MIB_LIST(MIB_G)
#undef MIB_G
};

static const char *const mib_fields[MIB_MAX] = {
#define MIB_F(g, n) #n,
	IPS_MIB_LIST(MIB_F)
#undef MIB_F
};

const char *mib_group(enum mib_id id)
{
	return id < MIB_MAX ? mib_groups[id] : NULL;
}

const char *mib_field(enum mib_id id)
{
	return id < MIB_MAX ? mib_fields[id] : NULL;
}

int mib_lookup(const char *name)
{
	for (int i = 0; i < MIB_MAX; i++) {
		size_t gl = strlen(mib_groups[i]);

		if (strncmp(name, mib_groups[i], gl) == 0 && strcmp(name + gl, mib_fields[i]) == 0)
			return i;
	}
	return -1;
}
