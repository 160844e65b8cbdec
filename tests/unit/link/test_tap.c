/* TAP and TUN devices against the real kernel, in a network namespace of our own
 * (unshare(CLONE_NEWNET)): needs root. Without it every case passes vacuously and says
 * it was skipped. The stack runs in driven mode on the real clock; waits are bounded
 * liveness checks (a few seconds), not timing thresholds. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/ip_icmp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "link/netdev.h"
#include "test.h"
#include "wire/eth.h"
#include "wire/wire.h"

TEST_MAIN

#define EXP_ETHERTYPE 0x88b5	/* IEEE 802 local experimental */

static int netns_state;	/* 0 unknown, 1 in our own netns, -1 unavailable */

static bool own_netns(void)
{
	if (netns_state == 0) {
		if (unshare(CLONE_NEWNET) == 0 && system("ip link set lo up") == 0) {
			netns_state = 1;
			/* Keep the kernel from sending IPv6 chatter (MLD, RS) on our devices. */
			if (system("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
				   "net.ipv6.conf.default.disable_ipv6=1 2>/dev/null")) {
			}
		} else {
			netns_state = -1;
			fprintf(stderr, "  (skipped: needs root to create a network namespace)\n");
		}
	}
	return netns_state > 0;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "  command failed: %s\n", cmd);
	return rc;
}

static ips_stack *driven_stack(void)
{
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .name = "tap-test", .seed = 7 };

	return ips_stack_new(&cfg);
}

/* Poll the stack until *flag is set, for at most ~5 s. */
static bool poll_until(ips_stack *st, volatile int *flag)
{
	for (int i = 0; i < 500 && !*flag; i++)
		ips_stack_poll(st, 10);
	return *flag != 0;
}

static int packet_socket(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(proto));

	if (s < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

TEST(tap_frames_both_ways)
{
	ips_stack *st;
	struct netdev *dev;
	uint8_t mac[6], frame[64], buf[256];
	int ps, got = 0;

	if (!own_netns())
		return;
	st = driven_stack();
	ASSERT(st);
	ASSERT_EQ(ips_tap_attach(st, "tap0"), 0);
	ASSERT_EQ(sh("ip link set tap0 up"), 0);
	ASSERT_EQ(ips_dev_hwaddr(st, "tap0", mac), 0);
	CHECK_EQ(mac[0] & 3, 2);		/* our own locally administered MAC */
	stack_lock(st);
	dev = stack_dev_by_name(st, "tap0");
	stack_unlock(st);
	ASSERT(dev);
	CHECK_EQ(dev->type, NETDEV_ETHER);
	CHECK_EQ(dev->mtu, 1500);
	ps = packet_socket("tap0", EXP_ETHERTYPE);
	ASSERT(ps >= 0);

	/* Kernel -> ipstack: a broadcast frame of an EtherType nobody handles. */
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x01\x02\x03\x04\x05", 6);
	put_be16(frame + 12, EXP_ETHERTYPE);
	memcpy(frame + 14, "kernel says hi", 14);
	ASSERT_EQ(send(ps, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (int i = 0; i < 500 && dev->rx_packets == 0; i++)
		ips_stack_poll(st, 10);
	CHECK_EQ(dev->rx_packets, 1);
	CHECK_EQ(dev->rx_dropped, 1);		/* no handler for the EtherType */
	CHECK_EQ(dev->rx_bytes, sizeof(frame));

	/* ipstack -> kernel. */
	struct pkb *p = stack_pkb_alloc(st, 64);

	memcpy(pkb_put(p, 64), frame, 64);
	memcpy(p->data + 6, mac, 6);
	memcpy(p->data + 14, "ipstack says hi", 15);
	stack_lock(st);
	CHECK_EQ(netdev_xmit(dev, p), 0);
	stack_unlock(st);
	for (int i = 0; i < 500 && !got; i++) {
		ssize_t n = recv(ps, buf, sizeof(buf), 0);

		if (n >= 29 && memcmp(buf + 6, mac, 6) == 0 &&
		    memcmp(buf + 14, "ipstack says hi", 15) == 0)
			got = 1;
		else
			usleep(10000);
	}
	CHECK(got);
	CHECK_EQ(dev->tx_packets, 1);
	close(ps);
	ips_stack_free(st);
	/* The tap was ours: it went with the fd. */
	CHECK_EQ(if_nametoindex("tap0"), 0);
}

/* Run a shell command while driving the stack; its exit status. */
static int run_polling(ips_stack *st, const char *cmd)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		ips_stack_poll(st, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

struct echo_wait {
	struct icmp_listener l;
	volatile int replies;
};

static void echo_fn(void *arg, struct pkb *pkb)
{
	struct echo_wait *e = arg;

	if (pkb->th[0] == ICMP_ECHOREPLY)
		e->replies++;
}

static int ping_kernel(ips_stack *st, const char *dst, struct echo_wait *e)
{
	struct in_addr a;
	struct icmp_echo_req req = { .id = 1, .seq = 1, .ttl = -1, .pmtudisc = -1 };
	int rc;

	inet_pton(AF_INET, dst, &a);
	req.daddr = a.s_addr;
	stack_lock(st);
	rc = icmp_echo_send(st, &req, NULL);
	stack_unlock(st);
	return rc;
}

TEST(tap_ping_the_kernel)
{
	struct echo_wait e = { 0 };
	ips_stack *st;

	if (!own_netns())
		return;
	ASSERT_EQ(sh("ip tuntap add dev tap1 mode tap && ip link set tap1 mtu 1400 && "
		     "ip addr add 10.77.0.1/24 dev tap1 && ip link set tap1 up"), 0);
	st = driven_stack();
	ASSERT(st);
	/* Attaches to the existing (persistent) device and takes its MTU. */
	ASSERT_EQ(ips_tap_attach(st, "tap1"), 0);
	stack_lock(st);
	CHECK_EQ(stack_dev_by_name(st, "tap1")->mtu, 1400);
	stack_unlock(st);
	ASSERT_EQ(ips_addr_add(st, "tap1", "10.77.0.2/24"), 0);
	e.l.fn = echo_fn;
	e.l.arg = &e;
	stack_lock(st);
	icmp_listener_add(st, &e.l);
	stack_unlock(st);
	ASSERT_EQ(ping_kernel(st, "10.77.0.1", &e), 0);
	CHECK(poll_until(st, &e.replies));
	/* And the kernel pings us (while we keep polling). */
	CHECK_EQ(run_polling(st, "ping -c1 -W3 10.77.0.2 >/dev/null"), 0);
	stack_lock(st);
	icmp_listener_del(st, &e.l);
	stack_unlock(st);
	ips_stack_free(st);
	CHECK(if_nametoindex("tap1") != 0);	/* persistent: still there */
	sh("ip link del tap1");
}

TEST(tun_ping_the_kernel)
{
	struct echo_wait e = { 0 };
	ips_stack *st;

	if (!own_netns())
		return;
	st = driven_stack();
	ASSERT(st);
	ASSERT_EQ(ips_tun_attach(st, "tun0"), 0);
	ASSERT_EQ(sh("ip addr add 10.78.0.1/24 dev tun0 && ip link set tun0 up"), 0);
	stack_lock(st);
	struct netdev *dev = stack_dev_by_name(st, "tun0");

	CHECK_EQ(dev->type, NETDEV_RAWIP);
	CHECK(dev->flags & IFF_NOARP);
	stack_unlock(st);
	ASSERT_EQ(ips_addr_add(st, "tun0", "10.78.0.2/24"), 0);
	e.l.fn = echo_fn;
	e.l.arg = &e;
	stack_lock(st);
	icmp_listener_add(st, &e.l);
	stack_unlock(st);
	ASSERT_EQ(ping_kernel(st, "10.78.0.1", &e), 0);
	CHECK(poll_until(st, &e.replies));
	stack_lock(st);
	icmp_listener_del(st, &e.l);
	stack_unlock(st);
	ips_stack_free(st);
}

/* The kernel's view of its tap's features (ethtool -k): "on" or "off" for the named one,
 * or "" when it cannot tell. */
static const char *kernel_feature(const char *ifname, const char *feature)
{
	static char buf[16];
	char cmd[160];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ethtool -k %s 2>/dev/null | awk -F': ' '$1 == \"%s\" {print $2}'",
		 ifname, feature);
	buf[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return buf;
	if (fscanf(f, "%15s", buf) != 1)
		buf[0] = '\0';
	pclose(f);
	return buf;
}

/* IFF_VNET_HDR offloads: on after attach, as ips_dev_get_offload() and the kernel's
 * ethtool say (TUNSETOFFLOAD gives the kernel's tap TSO and checksum offload), and
 * ips_dev_set_offload() turns them off on both sides, and on again. */
TEST(tap_offloads_follow_set_offload_on_both_sides)
{
	ips_stack *st;

	if (!own_netns())
		return;
	if (system("command -v ethtool >/dev/null") != 0) {
		const char *ci = getenv("CI");

		/* In CI a missing tool is a failure, not a skip. */
		CHECK(!(ci && strcmp(ci, "true") == 0));
		fprintf(stderr, "  (skipped: needs ethtool)\n");
		return;
	}
	st = driven_stack();
	ASSERT(st);
	ASSERT_EQ(ips_tap_attach(st, "tap4"), 0);
	CHECK_EQ(ips_dev_get_offload(st, "tap4"), (int)(IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO));
	CHECK_STR(kernel_feature("tap4", "tcp-segmentation-offload"), "on");
	CHECK_STR(kernel_feature("tap4", "tx-checksumming"), "on");
	ASSERT_EQ(ips_dev_set_offload(st, "tap4", 0), 0);
	CHECK_EQ(ips_dev_get_offload(st, "tap4"), 0);
	CHECK_STR(kernel_feature("tap4", "tcp-segmentation-offload"), "off");
	CHECK_STR(kernel_feature("tap4", "tx-checksumming"), "off");
	/* TSO needs checksum offload (netdev_fix_features) */
	CHECK_EQ(ips_dev_set_offload(st, "tap4", IPS_OFFLOAD_TSO), -EINVAL);
	ASSERT_EQ(ips_dev_set_offload(st, "tap4", IPS_OFFLOAD_CSUM), 0);
	CHECK_STR(kernel_feature("tap4", "tx-checksumming"), "on");
	CHECK_STR(kernel_feature("tap4", "tcp-segmentation-offload"), "off");
	ASSERT_EQ(ips_dev_set_offload(st, "tap4", IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO), 0);
	CHECK_STR(kernel_feature("tap4", "tcp-segmentation-offload"), "on");
	ips_stack_free(st);
}

/* With offloads on, a frame longer than our MTU that is not a super-packet is still
 * dropped, as a NIC drops it: the kernel's tap has MTU 1500, ours 1400; the kernel's ping
 * of 1450 bytes (a 1492-byte frame) never gets an answer, one of 1300 does. */
TEST(tap_drops_a_frame_over_the_mtu_that_is_not_a_super_packet)
{
	ips_stack *st;
	struct netdev *dev;
	uint64_t dropped;

	if (!own_netns())
		return;
	ASSERT_EQ(sh("ip tuntap add dev tap5 mode tap && ip addr add 10.79.0.1/24 dev tap5 && "
		     "ip link set tap5 up"), 0);
	st = driven_stack();
	ASSERT(st);
	ASSERT_EQ(ips_tap_attach(st, "tap5"), 0);
	ASSERT_EQ(ips_dev_set_mtu(st, "tap5", 1400), 0);
	ASSERT_EQ(ips_addr_add(st, "tap5", "10.79.0.2/24"), 0);
	stack_lock(st);
	dev = stack_dev_by_name(st, "tap5");
	stack_unlock(st);
	ASSERT(dev);
	CHECK_EQ(run_polling(st, "ping -c1 -W3 -s 1300 10.79.0.2 >/dev/null"), 0);
	stack_lock(st);
	dropped = dev->rx_dropped;
	stack_unlock(st);
	CHECK(run_polling(st, "ping -c1 -W1 -M dont -s 1450 10.79.0.2 >/dev/null") != 0);
	stack_lock(st);
	CHECK(dev->rx_dropped > dropped);
	CHECK_EQ(dev->rx_frame_errors, 0);
	stack_unlock(st);
	ips_stack_free(st);
	sh("ip link del tap5");
}

TEST(attach_errors)
{
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .seed = 1 };
	ips_stack *st = ips_stack_new(&cfg);

	ASSERT(st);
	CHECK_EQ(ips_tap_attach(st, ""), -EINVAL);
	CHECK_EQ(ips_tap_attach(st, "a-name-far-too-long-for-ifnamsiz"), -EINVAL);
	CHECK_EQ(ips_tun_attach(NULL, "tun0"), -EINVAL);
	if (own_netns()) {
		ASSERT_EQ(ips_tap_attach(st, "tap2"), 0);
		/* Already attached (single queue): the kernel says busy. */
		CHECK_EQ(ips_tap_attach(st, "tap2"), -EBUSY);
		/* A TUN cannot attach to a TAP. */
		CHECK_EQ(ips_tun_attach(st, "tap2"), -EINVAL);
		/* Our stack has the name already: nothing is left behind in the kernel. */
		ASSERT_EQ(ips_cbdev_new(st, "tap3", 0, NULL, NULL), 0);
		CHECK_EQ(ips_tap_attach(st, "tap3"), -EEXIST);
		CHECK_EQ(if_nametoindex("tap3"), 0);
	}
	ips_stack_free(st);
}
