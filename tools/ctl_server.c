/* `ipstack host --ctl PATH`: the control socket server (see ctl_server.h). */
#include <errno.h>
#include <stdlib.h>

#include "ctl_server.h"
#include "cli.h"

struct ctl_server {
	ips_stack *st;
};

struct ctl_server *ctl_server_start(ips_stack *st, const char *path, int *err)
{
	(void)st;
	(void)path;
	*err = -ENOSYS;
	return NULL;
}

void ctl_server_stop(struct ctl_server *srv)
{
	free(srv);
}
