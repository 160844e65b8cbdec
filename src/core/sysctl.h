/* The sysctl registry of one stack (= one network namespace): net.ipv4.* with Linux's
 * names, fresh-namespace defaults, ranges and write validation (docs/sysctl.md).
 *
 * Storage. Code reads the values straight from plain structs whose fields are named
 * exactly like Linux's sysctl leaves:
 *	st->sysctl.ip.ip_default_ttl		net.ipv4.ip_default_ttl
 *	st->sysctl.ip.route_min_pmtu		net.ipv4.route.min_pmtu  (route.<leaf> -> route_<leaf>)
 *	dev->conf.rp_filter			net.ipv4.conf.<dev>.rp_filter
 *	st->sysctl.conf_all.rp_filter		net.ipv4.conf.all.rp_filter
 *	dev->neigh_parms.retrans_time_ms	net.ipv4.neigh.<dev>.retrans_time_ms
 * Values are in the leaf's own unit (seconds for tcp_keepalive_time, ms for
 * icmp_ratelimit), rounded the way Linux's jiffies round them, EXCEPT struct neigh_parms,
 * whose time fields are all milliseconds (int64_t) whatever the leaf's unit.
 * Alias leaves have no field of their own: neigh.*.base_reachable_time (s) and
 * retrans_time (1/100 s) are views of base_reachable_time_ms / retrans_time_ms, and
 * neigh.*.unres_qlen (packets) is a view of unres_qlen_bytes, as in Linux.
 *
 * Writes. Code that changes a value at run time goes through sysctl_write() (one door:
 * validation, the conf.default/all propagation rules, the change hook). The semantic
 * helpers in_dev_*() below combine conf.all with a device's conf exactly as Linux's
 * IN_DEV_*() macros do; use them instead of reading dev->conf.<x> alone. */
#ifndef IPS_CORE_SYSCTL_H
#define IPS_CORE_SYSCTL_H

#include <stddef.h>
#include <stdint.h>

#define SYSCTL_IFNAMSIZ 16
#define SYSCTL_TCP_CA_NAME_MAX 16	/* TCP_CA_NAME_MAX, with the NUL */
#define SYSCTL_HZ_DEFAULT 250		/* Linux's Kconfig default CONFIG_HZ */

/* net.core.* that the socket layer reads. In Linux rmem_* and wmem_* are host-wide (the
 * initial namespace's, read-only in every other one) and somaxconn/optmem_max are per
 * namespace; an ipstack stack is a whole host to its sockets, so here all six are per
 * stack and writable, with Linux's compiled-in defaults and the initial namespace's
 * validation (docs/sockets.md). */
struct core_sysctl {
	int optmem_max;
	int rmem_default;
	int rmem_max;
	int somaxconn;
	int wmem_default;
	int wmem_max;
};

/* net.ipv4.* (not per interface). One field per leaf, sorted by name. */
struct ipv4_sysctl {
	unsigned int fib_multipath_hash_fields;
	int fib_multipath_hash_policy;
	unsigned int fib_multipath_hash_seed;
	int fib_multipath_use_neigh;
	int fib_notify_on_flag_change;
	int fwmark_reflect;
	int icmp_echo_enable_probe;
	int icmp_echo_ignore_all;
	int icmp_echo_ignore_broadcasts;
	int icmp_errors_use_inbound_ifaddr;
	int icmp_ignore_bogus_error_responses;
	int icmp_msgs_burst;
	int icmp_msgs_per_sec;
	unsigned int icmp_ratelimit;		/* ms, a multiple of the tick (1000/hz) */
	int icmp_ratemask;
	int igmp_link_local_mcast_reports;
	int igmp_max_memberships;
	int igmp_max_msf;
	int igmp_qrv;
	int ip_autobind_reuse;
	int ip_default_ttl;
	int ip_dynaddr;
	int ip_early_demux;
	int ip_forward;				/* always == conf_all.forwarding */
	int ip_forward_update_priority;
	int ip_forward_use_pmtu;
	int ip_local_port_range[2];
	uint64_t ip_local_reserved_ports[65536 / 64];	/* bitmap; see sysctl_port_reserved() */
	int ip_no_pmtu_disc;
	int ip_nonlocal_bind;
	int ip_unprivileged_port_start;
	unsigned long ipfrag_high_thresh;	/* bytes */
	unsigned long ipfrag_low_thresh;	/* bytes */
	int ipfrag_max_dist;
	int ipfrag_time;			/* s */
	int nexthop_compat_mode;
	unsigned int ping_group_range[2];	/* gid_t; {1, 0} = nobody */
	int raw_l3mdev_accept;
	int route_min_adv_mss;			/* net.ipv4.route.min_adv_mss */
	int route_min_pmtu;			/* net.ipv4.route.min_pmtu */
	int route_mtu_expires;			/* net.ipv4.route.mtu_expires, s */
	int tcp_abort_on_overflow;
	int tcp_adv_win_scale;
	int tcp_app_win;
	int tcp_autocorking;
	int tcp_backlog_ack_defer;
	int tcp_base_mss;
	int tcp_challenge_ack_limit;
	unsigned int tcp_child_ehash_entries;
	unsigned long tcp_comp_sack_delay_ns;
	int tcp_comp_sack_nr;
	unsigned long tcp_comp_sack_slack_ns;
	char tcp_congestion_control[SYSCTL_TCP_CA_NAME_MAX];
	int tcp_dsack;
	int tcp_early_demux;
	int tcp_early_retrans;
	int tcp_ecn;
	int tcp_ecn_fallback;
	int tcp_ecn_option;
	int tcp_ecn_option_beacon;
	int tcp_ehash_entries;			/* read-only; set by TCP to its table size */
	int tcp_fack;
	int tcp_fastopen;
	int tcp_fastopen_blackhole_timeout_sec;
	uint32_t tcp_fastopen_key[8];		/* primary key [0..3], backup [4..7] */
	int tcp_fastopen_key_n;			/* keys set: 0 (reads as zeros), 1 or 2 */
	int tcp_fin_timeout;			/* s */
	int tcp_frto;
	int tcp_fwmark_accept;
	unsigned int tcp_invalid_ratelimit;	/* ms, a multiple of the tick */
	int tcp_keepalive_intvl;		/* s */
	int tcp_keepalive_probes;
	int tcp_keepalive_time;			/* s */
	int tcp_l3mdev_accept;
	int tcp_limit_output_bytes;
	int tcp_max_reordering;
	int tcp_max_syn_backlog;
	int tcp_max_tw_buckets;
	int tcp_migrate_req;
	int tcp_min_rtt_wlen;
	int tcp_min_snd_mss;
	int tcp_min_tso_segs;
	int tcp_moderate_rcvbuf;
	int tcp_mtu_probe_floor;
	int tcp_mtu_probing;
	int tcp_no_metrics_save;
	int tcp_no_ssthresh_metrics_save;
	unsigned int tcp_notsent_lowat;
	int tcp_orphan_retries;
	int tcp_pacing_ca_ratio;
	int tcp_pacing_ss_ratio;
	int tcp_pingpong_thresh;
	int tcp_plb_cong_thresh;
	int tcp_plb_enabled;
	int tcp_plb_idle_rehash_rounds;
	int tcp_plb_rehash_rounds;
	int tcp_plb_suspend_rto_sec;
	unsigned int tcp_probe_interval;	/* s */
	int tcp_probe_threshold;
	int tcp_recovery;
	int tcp_reflect_tos;
	int tcp_reordering;
	int tcp_retrans_collapse;
	int tcp_retries1;
	int tcp_retries2;
	int tcp_rfc1337;
	int tcp_rmem[3];
	int tcp_rto_max_ms;
	int tcp_rto_min_us;
	int tcp_sack;
	int tcp_shrink_window;
	int tcp_slow_start_after_idle;
	int tcp_stdurg;
	int tcp_syn_linear_timeouts;
	int tcp_syn_retries;
	int tcp_synack_retries;
	int tcp_syncookies;
	int tcp_thin_linear_timeouts;
	int tcp_timestamps;
	int tcp_tso_rtt_log;
	int tcp_tso_win_divisor;
	int tcp_tw_reuse;
	unsigned int tcp_tw_reuse_delay;	/* ms */
	int tcp_window_scaling;
	int tcp_wmem[3];
	int tcp_workaround_signed_windows;
	unsigned int udp_child_hash_entries;
	int udp_early_demux;
	int udp_hash_entries;			/* read-only; set by UDP to its table size */
	int udp_l3mdev_accept;
	int udp_rmem_min;
	int udp_wmem_min;
	int xfrm4_gc_thresh;
};

/* net.ipv4.conf.{all,default,<dev>}.*: every field is an int, in this order, so that a
 * field's index (offset / sizeof(int)) is its bit in `state`. */
struct ipv4_devconf {
	int accept_local;
	int accept_redirects;
	int accept_source_route;
	int arp_accept;
	int arp_announce;
	int arp_evict_nocarrier;
	int arp_filter;
	int arp_ignore;
	int arp_notify;
	int bc_forwarding;
	int bootp_relay;
	int disable_policy;
	int disable_xfrm;
	int drop_gratuitous_arp;
	int drop_unicast_in_l2_multicast;
	int force_igmp_version;
	int forwarding;
	int igmpv2_unsolicited_report_interval;	/* ms */
	int igmpv3_unsolicited_report_interval;	/* ms */
	int ignore_routes_with_linkdown;
	int log_martians;
	int mc_forwarding;			/* read-only */
	int medium_id;
	int promote_secondaries;
	int proxy_arp;
	int proxy_arp_pvlan;
	int route_localnet;
	int rp_filter;
	int secure_redirects;
	int send_redirects;
	int shared_media;
	int src_valid_mark;
	int tag;
	/* Linux's cnf.state: bit set once the entry was written on this device (even by a
	 * rejected write), after which writes to conf.default no longer reach it. A new
	 * device copies conf.default including these bits. */
	uint64_t state;
};

/* net.ipv4.neigh.{default,<dev>}.*. ALL TIMES ARE MILLISECONDS, whatever the leaf's
 * unit (seconds for delay_first_probe_time/gc_stale_time/gc_interval, 1/100 s for
 * anycast_delay/locktime/proxy_delay). */
struct neigh_parms {
	int64_t anycast_delay;			/* ms */
	int app_solicit;
	int64_t base_reachable_time_ms;		/* also base_reachable_time (s) */
	int64_t delay_first_probe_time;		/* ms */
	int64_t gc_stale_time;			/* ms */
	int64_t interval_probe_time_ms;
	int64_t locktime;			/* ms */
	int mcast_resolicit;
	int mcast_solicit;
	int64_t proxy_delay;			/* ms */
	int proxy_qlen;
	int64_t retrans_time_ms;		/* also retrans_time (1/100 s) */
	int ucast_solicit;
	int unres_qlen_bytes;			/* also unres_qlen (packets) */
	/* neigh.default only (Linux's neigh_table fields); meaningless in a device's copy. */
	int64_t gc_interval;			/* ms */
	int gc_thresh1;
	int gc_thresh2;
	int gc_thresh3;
	/* Linux's data_state: bit (offset / 4) set once written on this device; writes to
	 * neigh.default no longer reach it. Cleared for a new device. */
	uint64_t state;
};

struct sysctl_dev;

/* Everything one namespace owns. The devices' structs belong to their netdevs. */
struct sysctl_ns {
	struct core_sysctl core;
	struct ipv4_sysctl ip;
	struct ipv4_devconf conf_all;
	struct ipv4_devconf conf_dflt;
	struct neigh_parms neigh_dflt;
	struct sysctl_dev *devs;		/* registered devices, in registration order */
	/* The tick that Linux's jiffies conversions round to; divides 1000. Only affects
	 * rounding and the limits of time entries (e.g. icmp_ratelimit=1 reads back 4 at
	 * 250). Set it right after sysctl_ns_init(), before any write. */
	int hz;
	/* Called after every successful write, with the canonical dotted name (e.g.
	 * "net.ipv4.route.min_pmtu"; the value may be unchanged), and once more for every
	 * other leaf whose value the write changed (ip_forward -> conf.*.forwarding,
	 * conf.default.x -> conf.<dev>.x, ...). May be NULL. */
	void (*on_change)(void *ctx, const char *name);
	void *on_change_ctx;
};

void sysctl_ns_init(struct sysctl_ns *ns);
void sysctl_ns_fini(struct sysctl_ns *ns);

/* Register a device's conf and neigh parms (either may be NULL) under ifname, filling
 * them from conf.default / neigh.default as Linux does for a new device. "lo" is the
 * loopback device and also gets disable_xfrm = disable_policy = 1 (inetdev_init).
 * -EEXIST, -EINVAL (bad or reserved name), -ENOMEM. */
int sysctl_register_dev(struct sysctl_ns *ns, const char *ifname, struct ipv4_devconf *conf,
			struct neigh_parms *neigh);
void sysctl_unregister_dev(struct sysctl_ns *ns, const char *ifname);

/* name: "net.ipv4.ip_default_ttl" or "net/ipv4/ip_default_ttl" (a '.' inside a device name
 * is written '/' in the dotted form, as procps does). The value is formatted as Linux
 * prints it without the trailing newline (vectors tab-separated). Returns the length
 * written, -ENOENT (unknown), -EACCES (write-only entry), -ENOSPC (buffer too small). */
int sysctl_read(struct sysctl_ns *ns, const char *name, char *buf, size_t len);

/* Apply value exactly as Linux does when these bytes are written to /proc/sys/... the
 * way `printf '%s' value > file` writes them (a short write is continued at the next
 * offset): leading/trailing whitespace, base prefixes ("0x10", "010"), several
 * whitespace-separated ints for vectors, partial writes of vectors. `sysctl -w` would
 * append '\n'; "" writes nothing and succeeds. Returns 0, -ENOENT (no such entry, or an
 * unknown congestion control), -EACCES (read-only), -EINVAL (unparsable or out of
 * range), as Linux. */
int sysctl_write(struct sysctl_ns *ns, const char *name, const char *value);

/* Every readable entry in `sysctl -a` order (deprecated aliases hidden, as procps does).
 * cb returns nonzero to stop; that value is returned. */
int sysctl_foreach(struct sysctl_ns *ns, int (*cb)(void *arg, const char *name, const char *value),
		   void *arg);

/* Find a registered device's conf / neigh parms by name (NULL if none). */
struct ipv4_devconf *sysctl_dev_conf(struct sysctl_ns *ns, const char *ifname);
struct neigh_parms *sysctl_dev_neigh(struct sysctl_ns *ns, const char *ifname);

/* IN_DEV_CONF_SET(): set a conf value from code and mark it as the device's own (e.g.
 * a driver's defaults), so conf.default no longer overrides it. field is a field of
 * struct ipv4_devconf. */
#define sysctl_devconf_set(cnf, field, val)                                             \
	do {                                                                            \
		(cnf)->state |= 1ull << (offsetof(struct ipv4_devconf, field) / sizeof(int)); \
		(cnf)->field = (val);                                                   \
	} while (0)

/* net.ipv4.ip_local_reserved_ports */
static inline int sysctl_port_reserved(const struct ipv4_sysctl *ip, unsigned int port)
{
	return port < 65536 && ((ip->ip_local_reserved_ports[port / 64] >> (port % 64)) & 1);
}

/* ---- Linux's IN_DEV_*() (include/linux/inetdevice.h): how conf.all combines with a
 * device's conf. AND: both must be on; OR: either; MAX: the larger; DEV: the device's
 * value alone. ---- */
#define SYSCTL_IN_DEV_AND(ns, cnf, f) ((ns)->conf_all.f && (cnf)->f)
#define SYSCTL_IN_DEV_OR(ns, cnf, f) ((ns)->conf_all.f || (cnf)->f)
#define SYSCTL_IN_DEV_MAX(ns, cnf, f) ((ns)->conf_all.f > (cnf)->f ? (ns)->conf_all.f : (cnf)->f)

static inline int in_dev_forward(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return cnf->forwarding;
}
static inline int in_dev_mforward(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_AND(ns, cnf, mc_forwarding);
}
static inline int in_dev_bforward(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_AND(ns, cnf, bc_forwarding);
}
static inline int in_dev_rpfilter(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_MAX(ns, cnf, rp_filter);
}
static inline int in_dev_src_vmark(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, src_valid_mark);
}
static inline int in_dev_source_route(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_AND(ns, cnf, accept_source_route);
}
static inline int in_dev_accept_local(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, accept_local);
}
static inline int in_dev_bootp_relay(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_AND(ns, cnf, bootp_relay);
}
static inline int in_dev_log_martians(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, log_martians);
}
static inline int in_dev_proxy_arp(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, proxy_arp);
}
static inline int in_dev_proxy_arp_pvlan(const struct sysctl_ns *ns,
					 const struct ipv4_devconf *cnf)
{
	return cnf->proxy_arp_pvlan;
}
static inline int in_dev_shared_media(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, shared_media);
}
static inline int in_dev_tx_redirects(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, send_redirects);
}
static inline int in_dev_sec_redirects(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, secure_redirects);
}
static inline int in_dev_idtag(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return cnf->tag;
}
static inline int in_dev_medium_id(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return cnf->medium_id;
}
static inline int in_dev_promote_secondaries(const struct sysctl_ns *ns,
					     const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, promote_secondaries);
}
static inline int in_dev_route_localnet(const struct sysctl_ns *ns,
					const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, route_localnet);
}
/* Accept ICMP redirects: a forwarding device needs all && dev, a host all || dev. */
static inline int in_dev_rx_redirects(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return in_dev_forward(ns, cnf) ? SYSCTL_IN_DEV_AND(ns, cnf, accept_redirects)
				       : SYSCTL_IN_DEV_OR(ns, cnf, accept_redirects);
}
static inline int in_dev_ignore_routes_with_linkdown(const struct sysctl_ns *ns,
						     const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, ignore_routes_with_linkdown);
}
static inline int in_dev_arpfilter(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, arp_filter);
}
static inline int in_dev_arp_accept(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_MAX(ns, cnf, arp_accept);
}
static inline int in_dev_arp_announce(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_MAX(ns, cnf, arp_announce);
}
static inline int in_dev_arp_ignore(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_MAX(ns, cnf, arp_ignore);
}
static inline int in_dev_arp_notify(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_MAX(ns, cnf, arp_notify);
}
static inline int in_dev_arp_evict_nocarrier(const struct sysctl_ns *ns,
					     const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_AND(ns, cnf, arp_evict_nocarrier);
}
/* arp.c and ip_input.c use IN_DEV_ORCONF() for these two. */
static inline int in_dev_drop_gratuitous_arp(const struct sysctl_ns *ns,
					     const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, drop_gratuitous_arp);
}
static inline int in_dev_drop_unicast_in_l2_multicast(const struct sysctl_ns *ns,
						      const struct ipv4_devconf *cnf)
{
	return SYSCTL_IN_DEV_OR(ns, cnf, drop_unicast_in_l2_multicast);
}
/* igmp.c IGMP_V1_SEEN()/IGMP_V2_SEEN() without the querier-seen timers: forced when
 * conf.all or the device says so. */
static inline int in_dev_igmp_force_v1(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return ns->conf_all.force_igmp_version == 1 || cnf->force_igmp_version == 1;
}
static inline int in_dev_igmp_force_v2(const struct sysctl_ns *ns, const struct ipv4_devconf *cnf)
{
	return ns->conf_all.force_igmp_version == 2 || cnf->force_igmp_version == 2;
}

#endif
