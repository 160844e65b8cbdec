/* `ipstack ctl`'s commands (ctl_exec() in tools/ctl_server.c) on simulated stacks, no
 * root and no socket file: the exact text shapes (ip route order, ip -4 addr, ip link,
 * ss for UDP, raw and TCP, nstat columns), procps's sysctl errors, exit statuses, and
 * that a rejected command changes nothing. tests/interop/test_ctl.sh runs the same
 * commands through the control socket of a real `ipstack host`.
 *
 * The tool's source is compiled into this test (tests link only the library). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ctl_server.c"
#include "test.h"

/* ctl(st, "route show table all", &out, &err): split on blanks, run, return status. */
static int ctl(ips_stack *st, const char *line, char **out, char **err)
{
	char buf[512], *argv[32];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && n < 32; t = strtok(NULL, " "))
		argv[n++] = t;
	return ctl_exec(st, n, argv, out, err);
}

/* Run a command that must succeed silently; returns its output (caller frees). */
static char *ctl_out(ips_stack *st, const char *line)
{
	char *out, *err;
	int rc = ctl(st, line, &out, &err);

	if (rc != 0 || *err)
		fprintf(stderr, "  ctl %s: status %d, stderr: %s", line, rc, err);
	free(err);
	return out;
}

static ips_world *one_host(ips_stack **st)
{
	ips_world *w = ips_world_new(1);
	ips_stack *peer;

	*st = ips_world_add_stack(w, "h");
	peer = ips_world_add_stack(w, "peer");
	ips_memlink_new(*st, "eth0", peer, "eth0", NULL);
	ips_addr_add(*st, "eth0", "10.0.0.1/24");
	ips_addr_add(peer, "eth0", "10.0.0.2/24");
	return w;
}

static void world_done(ips_world *w, ips_stack *st)
{
	ips_world_run_for(w, 1000000000ull);
	CHECK_EQ(ips_stack_pkb_outstanding(st), 0);
	ips_world_free(w);
}

TEST(ctl_route_lists_like_ip_route_in_linux_order)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o;

	o = ctl_out(st, "route add 10.8.0.0/16 via 10.0.0.2");
	free(o);
	o = ctl_out(st, "route add blackhole 10.7.0.0/16");
	free(o);
	o = ctl_out(st, "route add default via 10.0.0.2 metric 100");
	free(o);
	o = ctl_out(st, "route");
	/* By prefix address, as Linux's trie walks them. */
	CHECK_STR(o, "default via 10.0.0.2 dev eth0 metric 100\n"
		     "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n"
		     "blackhole 10.7.0.0/16\n"
		     "10.8.0.0/16 via 10.0.0.2 dev eth0\n");
	free(o);
	/* Linux 6.18 `ip route show table local` for the same addresses. */
	o = ctl_out(st, "route show table local");
	CHECK_STR(o, "local 10.0.0.1 dev eth0 table local proto kernel scope host src 10.0.0.1\n"
		     "broadcast 10.0.0.255 dev eth0 table local proto kernel scope link src 10.0.0.1\n"
		     "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1\n"
		     "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\n"
		     "broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1\n");
	free(o);
	o = ctl_out(st, "--json route");
	CHECK(strncmp(o, "[{\"dst\":\"default\",\"gateway\":\"10.0.0.2\",\"dev\":\"eth0\",\"metric\":100", 63) == 0);
	free(o);
	world_done(w, st);
}

TEST(ctl_route_errors_are_one_line_and_change_nothing)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o, *e;

	free(ctl_out(st, "route add 10.8.0.0/16 via 10.0.0.2"));
	CHECK_EQ(ctl(st, "route add 10.8.0.0/16 via 10.0.0.2", &o, &e), 1);
	CHECK_STR(e, "route add 10.8.0.0/16 via 10.0.0.2: File exists\n");
	free(o);
	free(e);
	free(ctl_out(st, "route del 10.8.0.0/16"));
	CHECK_EQ(ctl(st, "route del 10.8.0.0/16", &o, &e), 1);
	CHECK_STR(e, "route del 10.8.0.0/16: No such process (no such route)\n");
	free(o);
	free(e);
	CHECK_EQ(ctl(st, "route frob", &o, &e), 2);
	CHECK(strchr(e, '\n') == e + strlen(e) - 1);	/* one line */
	free(o);
	free(e);
	world_done(w, st);
}

TEST(ctl_addr_shows_like_ip_4_addr)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o, *e;

	free(ctl_out(st, "addr add 10.0.0.5/24 dev eth0"));
	o = ctl_out(st, "addr show dev eth0");
	CHECK_STR(o, "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default\n"
		     "    inet 10.0.0.1/24 scope global eth0\n"
		     "       valid_lft forever preferred_lft forever\n"
		     "    inet 10.0.0.5/24 scope global secondary eth0\n"
		     "       valid_lft forever preferred_lft forever\n");
	free(o);
	CHECK_EQ(ctl(st, "addr add 10.0.0.5/24 dev eth0", &o, &e), 1);
	CHECK_STR(e, "addr add 10.0.0.5/24 dev eth0: File exists\n");
	free(o);
	free(e);
	CHECK_EQ(ctl(st, "addr add 10.0.0.6/24 dev eth9", &o, &e), 1);
	CHECK_STR(e, "Cannot find device \"eth9\"\n");
	free(o);
	free(e);
	free(ctl_out(st, "addr del 10.0.0.5/24 dev eth0"));
	o = ctl_out(st, "addr");
	CHECK(strstr(o, "10.0.0.5") == NULL);
	CHECK(strstr(o, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN") == o);
	free(o);
	world_done(w, st);
}

TEST(ctl_link_set_checks_every_argument_first)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o, *e;

	CHECK_EQ(ctl(st, "link set eth0 mtu 1400 frob", &o, &e), 2);
	free(o);
	free(e);
	o = ctl_out(st, "link show eth0");
	CHECK(strstr(o, " mtu 1500 ") != NULL);	/* the mtu before frob was not applied */
	CHECK(strstr(o, "    link/ether ") != NULL);
	free(o);
	free(ctl_out(st, "link set eth0 down mtu 1400"));
	o = ctl_out(st, "link show eth0");
	CHECK(strncmp(o, "2: eth0: <BROADCAST,MULTICAST> mtu 1400 qdisc noqueue state DOWN mode DEFAULT", 77) == 0);
	free(o);
	free(ctl_out(st, "link set eth0 up"));
	o = ctl_out(st, "link");
	CHECK(strstr(o, "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n") != NULL);
	free(o);
	world_done(w, st);
}

TEST(ctl_sysctl_reads_writes_and_fails_as_procps)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o, *e;

	o = ctl_out(st, "sysctl net.ipv4.ip_default_ttl net/ipv4/ip_forward");
	CHECK_STR(o, "net.ipv4.ip_default_ttl = 64\nnet.ipv4.ip_forward = 0\n");
	free(o);
	o = ctl_out(st, "sysctl -w net.ipv4.ip_default_ttl=33");
	CHECK_STR(o, "net.ipv4.ip_default_ttl = 33\n");
	free(o);
	CHECK_EQ(ctl(st, "sysctl -w net.ipv4.ip_default_ttl=256", &o, &e), 1);
	CHECK_STR(e, "sysctl: setting key \"net.ipv4.ip_default_ttl\": Invalid argument\n");
	free(o);
	free(e);
	o = ctl_out(st, "sysctl -n net.ipv4.ip_default_ttl");
	CHECK_STR(o, "33\n");
	free(o);
	CHECK_EQ(ctl(st, "sysctl net.ipv4.nope", &o, &e), 1);
	CHECK_STR(e, "sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory\n");
	free(o);
	free(e);
	o = ctl_out(st, "sysctl -a ip_local_port_range");
	CHECK_STR(o, "net.ipv4.ip_local_port_range = 32768\t60999\n");
	free(o);
	o = ctl_out(st, "--json sysctl net.ipv4.ip_forward");
	CHECK_STR(o, "{\"net.ipv4.ip_forward\":\"0\"}\n");
	free(o);
	world_done(w, st);
}

TEST(ctl_stat_prints_nstat_columns)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o = ctl_out(st, "stat IpInReceives IpDefaultTTL");

	/* nstat's order (/proc/net/snmp's), whatever the order of the patterns. */
	CHECK_STR(o, "#kernel\n"
		     "IpDefaultTTL                    64                 0.0\n"
		     "IpInReceives                    0                  0.0\n");
	free(o);
	o = ctl_out(st, "--json stat IpDefaultTTL");
	CHECK_STR(o, "{\"kernel\":{\"IpDefaultTTL\":64}}\n");
	free(o);
	world_done(w, st);
}

TEST(ctl_ss_lists_udp_and_raw_sockets_like_ss)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(5353) };
	struct sockaddr_in dns = { .sin_family = AF_INET, .sin_port = htons(53) };
	char *o;

	inet_pton(AF_INET, "10.0.0.2", &dns.sin_addr);
	ips_stack_enter(st);
	int u1 = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int u2 = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int r = ips_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	ASSERT(u1 >= 0 && u2 >= 0 && r >= 0);
	CHECK_EQ(ips_bind(u1, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(ips_connect(u2, (struct sockaddr *)&dns, sizeof(dns)), 0);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);

	ips_getsockname(u2, (struct sockaddr *)&me, &ml);
	char want[512];

	/* Default: connected sockets only. */
	o = ctl_out(st, "ss -u -n");
	snprintf(want, sizeof(want),
		 "State Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
		 "ESTAB 0      0           10.0.0.1:%-5d     10.0.0.2:53  \n",
		 ntohs(me.sin_port));
	CHECK_STR(o, want);
	free(o);
	/* -a: unconnected too; raw first, with its protocol as the port; a Netid column. */
	o = ctl_out(st, "ss -a -n -u -w");
	snprintf(want, sizeof(want),
		 "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
		 "raw   UNCONN 0      0            0.0.0.0:1          0.0.0.0:0   \n"
		 "udp   ESTAB  0      0           10.0.0.1:%-5d     10.0.0.2:53  \n"
		 "udp   UNCONN 0      0            0.0.0.0:5353       0.0.0.0:*   \n",
		 ntohs(me.sin_port));
	CHECK_STR(o, want);
	free(o);
	/* -l: the unconnected ones count as listening, as in ss. */
	o = ctl_out(st, "ss -l -u -n");
	CHECK(strstr(o, "UNCONN 0      0            0.0.0.0:5353") != NULL);
	CHECK(strstr(o, "ESTAB") == NULL);
	free(o);
	o = ctl_out(st, "--json ss -u -n");
	snprintf(want, sizeof(want),
		 "[{\"netid\":\"udp\",\"state\":\"ESTAB\",\"recv_q\":0,\"send_q\":0,\"local\":"
		 "{\"addr\":\"10.0.0.1\",\"port\":%d},\"peer\":{\"addr\":\"10.0.0.2\",\"port\":53}}]\n",
		 ntohs(me.sin_port));
	CHECK_STR(o, want);
	free(o);
	ips_close(u1);
	ips_close(u2);
	ips_close(r);
	ips_stack_enter(NULL);
	world_done(w, st);
}

TEST(ctl_ss_lists_tcp_listener_and_connection_with_info)
{
	ips_world *w = ips_world_new(3);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");
	struct ips_link_config l = { .mtu = 1500, .impair = { .delay_us = 5000 } };
	char *o;

	ips_memlink_new(a, "eth0", b, "eth0", &l);
	ips_addr_add(a, "eth0", "10.0.0.1/24");
	ips_addr_add(b, "eth0", "10.0.0.2/24");
	/* Straight on TCP's engine (src/transport/tcp.h): what ss sees does not depend on
	 * the socket layer. */
	stack_lock(a);
	stack_lock(b);
	ASSERT_EQ(tcp_init(a), 0);
	ASSERT_EQ(tcp_init(b), 0);
	struct tcp_sock *ls = tcp_sock_new(b), *cs = tcp_sock_new(a);

	CHECK_EQ(tcp_bind(ls, inet_addr("10.0.0.2"), 5001), 0);
	CHECK_EQ(tcp_listen(ls, 16), 0);
	CHECK_EQ(tcp_connect(cs, inet_addr("10.0.0.2"), 5001), -EINPROGRESS);
	stack_unlock(b);
	stack_unlock(a);
	ips_world_run_for(w, 100000000ull);

	uint32_t la, ra;
	uint16_t lp, rp;

	tcp_sock_names(cs, &la, &lp, &ra, &rp);
	char want[512];

	/* B: the listener first (accept queue 1 of 16), then the child. */
	o = ctl_out(b, "ss -t -a -n");
	snprintf(want, sizeof(want),
		 "State  Recv-Q Send-Q Local Address:Port Peer Address:Port  Process\n"
		 "LISTEN 1      16          10.0.0.2:5001      0.0.0.0:*    \n"
		 "ESTAB  0      0           10.0.0.2:5001     10.0.0.1:%-5u\n", lp);
	CHECK_STR(o, want);
	free(o);
	o = ctl_out(b, "ss -t -n");
	CHECK(strstr(o, "LISTEN") == NULL);
	free(o);
	/* A: -i adds TCP_INFO in ss's layout. */
	o = ctl_out(a, "ss -t -n -i");
	CHECK(strstr(o, "\n\t cubic wscale:") != NULL);
	CHECK(strstr(o, " mss:1448 pmtu:1500 ") != NULL);
	CHECK(strstr(o, " cwnd:10") != NULL);
	free(o);
	o = ctl_out(a, "--json ss -t -n -i");
	CHECK(strstr(o, "\"info\":{\"cong_alg\":\"cubic\"") != NULL);
	free(o);
	stack_lock(a);
	stack_lock(b);
	/* Take the child off the accept queue before tearing down (tcp_fini() with an
	 * un-accepted child touches it after freeing it: reported to TCP). */
	int err = 0;
	struct tcp_sock *child = tcp_accept(ls, &err);

	CHECK(child != NULL);
	tcp_fini(a);
	tcp_fini(b);
	stack_unlock(b);
	stack_unlock(a);
	world_done(w, a);
}

TEST(ctl_unknown_command_and_help)
{
	ips_stack *st;
	ips_world *w = one_host(&st);
	char *o, *e;

	CHECK_EQ(ctl(st, "frob", &o, &e), 2);
	CHECK_STR(e, "unknown command 'frob' (try 'help')\n");
	free(o);
	free(e);
	CHECK_EQ(ctl(st, "help", &o, &e), 0);
	CHECK(strstr(o, "sysctl -w NAME=VALUE") != NULL);
	free(o);
	free(e);
	world_done(w, st);
}

TEST_MAIN
