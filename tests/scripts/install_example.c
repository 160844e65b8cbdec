/* Built against an installed ipstack (pkg-config), using only the public header. */
#include <ipstack/ipstack.h>
#include <stdio.h>

int main(void)
{
	ips_world *w = ips_world_new(7);
	ips_stack *a = ips_world_add_stack(w, "a");
	ips_stack *b = ips_world_add_stack(w, "b");
	struct ips_link_config link = { .mtu = 1500 };
	char ttl[16];
	uint64_t rx = 0;
	int rc = 0;

	rc |= ips_memlink_new(a, "eth0", b, "eth0", &link);
	rc |= ips_addr_add(a, "eth0", "10.0.0.1/24");
	rc |= ips_addr_add(b, "eth0", "10.0.0.2/24");
	ips_world_run_for(w, 1000000000ULL);
	rc |= ips_sysctl_get(a, "net.ipv4.ip_default_ttl", ttl, sizeof(ttl)) < 0;
	rc |= ips_counter_get(b, "IpInReceives", &rx);
	printf("rc=%d ttl=%s\n", rc, ttl);
	ips_world_free(w);
	return rc != 0;
}
