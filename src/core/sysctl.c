/* The sysctl registry: names, devices, read/write dispatch, `sysctl -a` order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysctl.h"

struct sysctl_dev {
	struct sysctl_dev *next;
	char name[SYSCTL_IFNAMSIZ];
	struct ipv4_devconf *conf;
	struct neigh_parms *neigh;
};

void sysctl_ns_init(struct sysctl_ns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->hz = SYSCTL_HZ_DEFAULT;
	ns->ip.ip_default_ttl = 64;
	ns->ip.ip_local_port_range[0] = 32768;
	ns->ip.ip_local_port_range[1] = 60999;
}

void sysctl_ns_fini(struct sysctl_ns *ns)
{
	while (ns->devs) {
		struct sysctl_dev *d = ns->devs;

		ns->devs = d->next;
		free(d);
	}
}

int sysctl_register_dev(struct sysctl_ns *ns, const char *ifname, struct ipv4_devconf *conf,
			struct neigh_parms *neigh)
{
	struct sysctl_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	strncpy(d->name, ifname, sizeof(d->name) - 1);
	d->conf = conf;
	d->neigh = neigh;
	if (conf)
		*conf = ns->conf_dflt;
	if (neigh)
		*neigh = ns->neigh_dflt;
	d->next = ns->devs;
	ns->devs = d;
	return 0;
}

void sysctl_unregister_dev(struct sysctl_ns *ns, const char *ifname)
{
	for (struct sysctl_dev **pp = &ns->devs; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, ifname) == 0) {
			struct sysctl_dev *d = *pp;

			*pp = d->next;
			free(d);
			return;
		}
	}
}

struct ipv4_devconf *sysctl_dev_conf(struct sysctl_ns *ns, const char *ifname)
{
	for (struct sysctl_dev *d = ns->devs; d; d = d->next)
		if (strcmp(d->name, ifname) == 0)
			return d->conf;
	return NULL;
}

struct neigh_parms *sysctl_dev_neigh(struct sysctl_ns *ns, const char *ifname)
{
	for (struct sysctl_dev *d = ns->devs; d; d = d->next)
		if (strcmp(d->name, ifname) == 0)
			return d->neigh;
	return NULL;
}

int sysctl_read(struct sysctl_ns *ns, const char *name, char *buf, size_t len)
{
	return -ENOSYS;	/* placeholder until the table lands */
}

int sysctl_write(struct sysctl_ns *ns, const char *name, const char *value)
{
	return -ENOSYS;
}

int sysctl_foreach(struct sysctl_ns *ns, int (*cb)(void *arg, const char *name, const char *value),
		   void *arg)
{
	return 0;
}
