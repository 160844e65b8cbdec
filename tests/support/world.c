/* Simulated worlds for tests: addressed, routed stacks joined by memlinks. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

uint32_t A(const char *dotted)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

const char *S(uint32_t addr)
{
	static char buf[2][INET_ADDRSTRLEN];
	static int i;
	struct in_addr a = { addr };

	i ^= 1;
	inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
	return buf[i];
}

uint64_t test_counter(ips_stack *st, const char *name)
{
	uint64_t v = 0;

	if (ips_counter_get(st, name, &v) < 0) {
		fprintf(stderr, "  no counter %s\n", name);
		return UINT64_MAX;
	}
	return v;
}

void test_run(ips_world *w, uint64_t max_ns)
{
	ips_world_run_until(w, NULL, NULL, max_ns);
}

static int link_up(ips_stack *a, const char *ifa, const char *cidr_a, ips_stack *b,
		   const char *ifb, const char *cidr_b, uint32_t mtu)
{
	struct ips_link_config cfg = { .mtu = mtu };
	int err;

	err = ips_memlink_new(a, ifa, b, ifb, &cfg);
	if (!err)
		err = ips_dev_set_up(a, ifa, 1);
	if (!err)
		err = ips_dev_set_up(b, ifb, 1);
	if (!err)
		err = ips_addr_add(a, ifa, cidr_a);
	if (!err)
		err = ips_addr_add(b, ifb, cidr_b);
	if (err)
		fprintf(stderr, "  link %s-%s: %d\n", ifa, ifb, err);
	return err;
}

int two_hosts(ips_world *w, ips_stack **a, ips_stack **b, const struct ips_link_config *cfg)
{
	int err;

	*a = ips_world_add_stack(w, "a");
	*b = ips_world_add_stack(w, "b");
	if (!*a || !*b)
		return -1;
	err = ips_memlink_new(*a, "eth0", *b, "eth0", cfg);
	if (!err)
		err = ips_dev_set_up(*a, "eth0", 1);
	if (!err)
		err = ips_dev_set_up(*b, "eth0", 1);
	if (!err)
		err = ips_addr_add(*a, "eth0", "10.0.0.1/24");
	if (!err)
		err = ips_addr_add(*b, "eth0", "10.0.0.2/24");
	return err;
}

uint32_t chain_addr(int i, bool left)
{
	char buf[32];

	/* link i-1 is to the left of stack i, where it is .2; link i to its right, .1 */
	if (left)
		snprintf(buf, sizeof(buf), "10.0.%d.2", i);
	else
		snprintf(buf, sizeof(buf), "10.0.%d.1", i + 1);
	return A(buf);
}

int chain_world(ips_world *w, int n, const uint32_t *mtus, ips_stack **stacks)
{
	char name[16], la[32], lb[32], ifa[8], route[64];
	int err = 0;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		stacks[i] = ips_world_add_stack(w, name);
		if (!stacks[i])
			return -1;
	}
	for (int i = 0; i + 1 < n && !err; i++) {
		snprintf(ifa, sizeof(ifa), "%s", i == 0 ? "eth0" : "eth1");
		snprintf(la, sizeof(la), "10.0.%d.1/24", i + 1);
		snprintf(lb, sizeof(lb), "10.0.%d.2/24", i + 1);
		err = link_up(stacks[i], ifa, la, stacks[i + 1], "eth0", lb, mtus ? mtus[i] : 0);
	}
	/* Routes: every subnet not connected, via the neighbour on its side. */
	for (int i = 0; i < n && !err; i++) {
		for (int l = 0; l + 1 < n && !err; l++) {
			if (l == i || l == i - 1)
				continue;	/* connected */
			if (l > i)
				snprintf(route, sizeof(route), "10.0.%d.0/24 via 10.0.%d.2", l + 1, i + 1);
			else
				snprintf(route, sizeof(route), "10.0.%d.0/24 via 10.0.%d.1", l + 1, i);
			err = ips_route_add_str(stacks[i], route);
		}
		if (!err && i > 0 && i + 1 < n)
			err = ips_sysctl_set(stacks[i], "net.ipv4.ip_forward", "1");
	}
	if (err)
		fprintf(stderr, "  chain_world: %d\n", err);
	return err;
}

int host_router_host(ips_world *w, ips_stack **a, ips_stack **r, ips_stack **b, uint32_t mtu_a,
		     uint32_t mtu_b)
{
	int err;

	*a = ips_world_add_stack(w, "a");
	*r = ips_world_add_stack(w, "r");
	*b = ips_world_add_stack(w, "b");
	if (!*a || !*r || !*b)
		return -1;
	err = link_up(*a, "eth0", "10.0.1.1/24", *r, "eth0", "10.0.1.2/24", mtu_a);
	if (!err)
		err = link_up(*r, "eth1", "10.0.2.1/24", *b, "eth0", "10.0.2.2/24", mtu_b);
	if (!err)
		err = ips_route_add_str(*a, "default via 10.0.1.2");
	if (!err)
		err = ips_route_add_str(*b, "default via 10.0.2.1");
	if (!err)
		err = ips_sysctl_set(*r, "net.ipv4.ip_forward", "1");
	if (err)
		fprintf(stderr, "  host_router_host: %d\n", err);
	return err;
}

struct sockaddr_in sin4(const char *dotted, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, dotted, &s.sin_addr);
	return s;
}
