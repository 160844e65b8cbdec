/* The table of every net.ipv4 sysctl: Linux's name, the proc handler it behaves like,
 * the field it lives in, its range, and whether ipstack honours it yet. Defaults are
 * those of a fresh Linux network namespace (tests/unit/core/linux_ipv4_defaults.txt)
 * except tcp_*congestion_control (stock Linux's cubic; see docs/sysctl.md). Ranges were
 * checked against Linux 6.18 by tests/unit/core/gen_sysctl_kernel_results.sh. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/sysctl_priv.h"

const char *const sysctl_tcp_cc_available[] = { "reno", "cubic", NULL };

#define COREOFF(f) offsetof(struct core_sysctl, f)
#define IPOFF(f) offsetof(struct ipv4_sysctl, f)
#define CONFOFF(f) offsetof(struct ipv4_devconf, f)
#define NEIGHOFF(f) offsetof(struct neigh_parms, f)

#define ENTRY(nm, sc, k, st, nn, fl, impl, o, lo, hi) \
	{ .name = nm, .scope = sc, .kind = k, .store = st, .n = nn, .flags = fl, \
	  .implemented = impl, .off = o, .min = lo, .max = hi }

/* net.ipv4.<leaf> stored in ipv4_sysctl.<leaf> */
#define IP_INT(leaf, impl) ENTRY(#leaf, SC_IP, SK_INT, ST_INT, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_INT_MIN(leaf, lo, impl) \
	ENTRY(#leaf, SC_IP, SK_INT, ST_INT, 1, F_MIN, impl, IPOFF(leaf), lo, 0)
#define IP_INT_RANGE(leaf, lo, hi, impl) \
	ENTRY(#leaf, SC_IP, SK_INT, ST_INT, 1, F_MIN | F_MAX, impl, IPOFF(leaf), lo, hi)
#define IP_U8(leaf, impl) ENTRY(#leaf, SC_IP, SK_U8, ST_INT, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_U8_RANGE(leaf, lo, hi, impl) \
	ENTRY(#leaf, SC_IP, SK_U8, ST_INT, 1, F_MIN | F_MAX, impl, IPOFF(leaf), lo, hi)
#define IP_UINT(leaf, impl) ENTRY(#leaf, SC_IP, SK_UINT, ST_UINT, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_UINT_RANGE(leaf, lo, hi, impl) \
	ENTRY(#leaf, SC_IP, SK_UINT, ST_UINT, 1, F_MIN | F_MAX, impl, IPOFF(leaf), lo, hi)
#define IP_ULONG(leaf, impl) ENTRY(#leaf, SC_IP, SK_ULONG, ST_ULONG, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_SECS(leaf, impl) ENTRY(#leaf, SC_IP, SK_JIFFIES, ST_SEC, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_MSECS(leaf, impl) \
	ENTRY(#leaf, SC_IP, SK_MS_JIFFIES, ST_UMS, 1, 0, impl, IPOFF(leaf), 0, 0)
#define IP_RO(leaf, impl) ENTRY(#leaf, SC_IP, SK_INT, ST_INT, 1, F_RO, impl, IPOFF(leaf), 0, 0)

/* net.ipv4.conf.<dev>.<leaf>: devinet_conf_proc() (follows conf.default until written)
 * or ipv4_doint_and_flush() (never follows it) */
#define CONF(leaf, impl) \
	ENTRY(#leaf, SC_CONF, SK_INT, ST_INT, 1, F_DEVINET, impl, CONFOFF(leaf), 0, 0)
#define CONF_FLUSH(leaf, impl) ENTRY(#leaf, SC_CONF, SK_INT, ST_INT, 1, 0, impl, CONFOFF(leaf), 0, 0)

/* net.ipv4.neigh.<dev>.<leaf>: neigh_proc_*() (follows neigh.default until written) */
#define NEIGH_COUNT(leaf, impl) \
	ENTRY(#leaf, SC_NEIGH, SK_INT, ST_INT, 1, F_NEIGH | F_MIN | F_MAX, impl, NEIGHOFF(leaf), \
	      0, INT_MAX)
#define NEIGH_TIME(leaf, kind, impl) \
	ENTRY(#leaf, SC_NEIGH, kind, ST_MS64, 1, F_NEIGH, impl, NEIGHOFF(leaf), 0, 0)

/* Linux's SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86_64 (2 * TCP_SKB_MIN_TRUESIZE and
 * half of it): the lower bounds of net.core.{w,r}mem_{default,max}. */
#define CORE_MIN_SNDBUF 4608
#define CORE_MIN_RCVBUF 2304

const struct sysctl_entry sysctl_table[] = {
	/* ---- net.core.* (net/core/sysctl_net_core.c, proc_dointvec_minmax) ---- */
	ENTRY("optmem_max", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 1, COREOFF(optmem_max), 0, 0),
	ENTRY("rmem_default", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 1, COREOFF(rmem_default),
	      CORE_MIN_RCVBUF, 0),
	ENTRY("rmem_max", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 1, COREOFF(rmem_max), CORE_MIN_RCVBUF,
	      0),
	ENTRY("somaxconn", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 0, COREOFF(somaxconn), 0, 0),
	ENTRY("wmem_default", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 1, COREOFF(wmem_default),
	      CORE_MIN_SNDBUF, 0),
	ENTRY("wmem_max", SC_CORE, SK_INT, ST_INT, 1, F_MIN, 1, COREOFF(wmem_max), CORE_MIN_SNDBUF,
	      0),
	/* ---- net.ipv4.* ---- */
	IP_UINT_RANGE(fib_multipath_hash_fields, 1, 0xfff, 0),
	IP_U8_RANGE(fib_multipath_hash_policy, 0, 3, 0),
	IP_UINT(fib_multipath_hash_seed, 0),
	IP_U8_RANGE(fib_multipath_use_neigh, 0, 1, 0),
	IP_U8_RANGE(fib_notify_on_flag_change, 0, 2, 0),
	IP_U8(fwmark_reflect, 1),
	IP_U8_RANGE(icmp_echo_enable_probe, 0, 1, 0),
	IP_U8_RANGE(icmp_echo_ignore_all, 0, 1, 1),
	IP_U8_RANGE(icmp_echo_ignore_broadcasts, 0, 1, 1),
	IP_U8_RANGE(icmp_errors_use_inbound_ifaddr, 0, 1, 1),
	IP_U8_RANGE(icmp_ignore_bogus_error_responses, 0, 1, 1),
	IP_INT_MIN(icmp_msgs_burst, 0, 1),
	IP_INT_MIN(icmp_msgs_per_sec, 0, 1),
	IP_MSECS(icmp_ratelimit, 1),
	IP_INT(icmp_ratemask, 1),
	IP_U8(igmp_link_local_mcast_reports, 0),
	IP_INT(igmp_max_memberships, 0),
	IP_INT(igmp_max_msf, 0),
	IP_INT_MIN(igmp_qrv, 1, 0),
	IP_U8_RANGE(ip_autobind_reuse, 0, 1, 0),
	IP_U8_RANGE(ip_default_ttl, 1, 255, 1),
	IP_U8(ip_dynaddr, 0),
	IP_U8(ip_early_demux, 0),
	ENTRY("ip_forward", SC_IP, SK_FORWARD, ST_INT, 1, 0, 1, IPOFF(ip_forward), 0, 0),
	IP_U8_RANGE(ip_forward_update_priority, 0, 1, 1),
	IP_U8(ip_forward_use_pmtu, 0),
	ENTRY("ip_local_port_range", SC_IP, SK_PORT_RANGE, ST_INT, 2, F_MIN | F_MAX, 1,
	      IPOFF(ip_local_port_range), 1, 65535),
	ENTRY("ip_local_reserved_ports", SC_IP, SK_PORT_BITMAP, ST_NONE, 1, 0, 0,
	      IPOFF(ip_local_reserved_ports), 0, 65535),
	IP_U8(ip_no_pmtu_disc, 1),
	IP_U8(ip_nonlocal_bind, 1),
	ENTRY("ip_unprivileged_port_start", SC_IP, SK_UNPRIV_PORT, ST_INT, 1, F_MIN | F_MAX, 1,
	      IPOFF(ip_unprivileged_port_start), 0, 65535),
	ENTRY("ipfrag_high_thresh", SC_IP, SK_ULONG, ST_ULONG, 1, F_MIN_FIELD, 1,
	      IPOFF(ipfrag_high_thresh), IPOFF(ipfrag_low_thresh), 0),
	ENTRY("ipfrag_low_thresh", SC_IP, SK_ULONG, ST_ULONG, 1, F_MAX_FIELD, 0,
	      IPOFF(ipfrag_low_thresh), 0, IPOFF(ipfrag_high_thresh)),
	IP_INT_MIN(ipfrag_max_dist, 0, 1),
	IP_SECS(ipfrag_time, 1),
	IP_U8_RANGE(nexthop_compat_mode, 0, 1, 0),
	ENTRY("ping_group_range", SC_IP, SK_PING_GROUP, ST_NONE, 2, F_MIN | F_MAX, 0,
	      IPOFF(ping_group_range), 0, SYSCTL_GID_T_MAX),
	IP_U8_RANGE(raw_l3mdev_accept, 0, 1, 0),
	ENTRY("route.flush", SC_IP, SK_FLUSH, ST_NONE, 1, F_WO, 0, 0, 0, 0),
	ENTRY("route.min_adv_mss", SC_IP, SK_INT, ST_INT, 1, 0, 1, IPOFF(route_min_adv_mss), 0, 0),
	ENTRY("route.min_pmtu", SC_IP, SK_INT, ST_INT, 1, F_MIN, 1, IPOFF(route_min_pmtu), 68, 0),
	ENTRY("route.mtu_expires", SC_IP, SK_JIFFIES, ST_SEC, 1, 0, 1, IPOFF(route_mtu_expires),
	      0, 0),
	IP_U8(tcp_abort_on_overflow, 1),
	IP_INT_RANGE(tcp_adv_win_scale, -31, 31, 0),
	ENTRY("tcp_allowed_congestion_control", SC_IP, SK_CC_LIST, ST_NONE, 1, F_RO, 0, 0, 0, 0),
	IP_U8_RANGE(tcp_app_win, 0, 31, 1),
	IP_U8_RANGE(tcp_autocorking, 0, 1, 0),
	ENTRY("tcp_available_congestion_control", SC_IP, SK_CC_LIST, ST_NONE, 1, F_RO, 0, 0, 0,
	      0),
	IP_U8_RANGE(tcp_backlog_ack_defer, 0, 1, 0),
	IP_INT(tcp_base_mss, 0),
	IP_INT(tcp_challenge_ack_limit, 1),
	IP_UINT_RANGE(tcp_child_ehash_entries, 0, 16 * 1024 * 1024, 0),
	IP_ULONG(tcp_comp_sack_delay_ns, 1),
	IP_U8(tcp_comp_sack_nr, 1),
	IP_ULONG(tcp_comp_sack_slack_ns, 0),
	ENTRY("tcp_congestion_control", SC_IP, SK_CC, ST_NONE, 1, 0, 1,
	      IPOFF(tcp_congestion_control), 0, 0),
	IP_U8(tcp_dsack, 1),
	IP_U8(tcp_early_demux, 0),
	IP_U8_RANGE(tcp_early_retrans, 0, 4, 1),
	IP_U8_RANGE(tcp_ecn, 0, 2, 1),
	IP_U8_RANGE(tcp_ecn_fallback, 0, 1, 0),
	IP_U8_RANGE(tcp_ecn_option, 0, 2, 0),
	IP_U8_RANGE(tcp_ecn_option_beacon, 0, 3, 0),
	IP_RO(tcp_ehash_entries, 1),
	IP_U8(tcp_fack, 0),
	IP_INT(tcp_fastopen, 0),
	IP_INT_MIN(tcp_fastopen_blackhole_timeout_sec, 0, 0),
	ENTRY("tcp_fastopen_key", SC_IP, SK_TFO_KEY, ST_NONE, 1, 0, 0, IPOFF(tcp_fastopen_key), 0,
	      0),
	IP_SECS(tcp_fin_timeout, 1),
	IP_U8(tcp_frto, 1),
	IP_U8(tcp_fwmark_accept, 0),
	IP_MSECS(tcp_invalid_ratelimit, 1),
	IP_SECS(tcp_keepalive_intvl, 1),
	IP_U8(tcp_keepalive_probes, 1),
	IP_SECS(tcp_keepalive_time, 1),
	IP_U8_RANGE(tcp_l3mdev_accept, 0, 1, 0),
	IP_INT(tcp_limit_output_bytes, 0),
	IP_INT_MIN(tcp_max_reordering, 1, 0),
	IP_INT(tcp_max_syn_backlog, 1),
	IP_INT(tcp_max_tw_buckets, 1),
	IP_U8_RANGE(tcp_migrate_req, 0, 1, 0),
	IP_INT_RANGE(tcp_min_rtt_wlen, 0, 24 * 3600, 1),
	IP_INT_RANGE(tcp_min_snd_mss, 48, 65535, 1),
	IP_U8_RANGE(tcp_min_tso_segs, 1, 255, 0),
	IP_U8(tcp_moderate_rcvbuf, 1),
	IP_INT_RANGE(tcp_mtu_probe_floor, 48, 65535, 0),
	IP_U8(tcp_mtu_probing, 0),
	IP_U8(tcp_no_metrics_save, 0),
	IP_U8_RANGE(tcp_no_ssthresh_metrics_save, 0, 1, 0),
	IP_UINT(tcp_notsent_lowat, 1),
	IP_U8(tcp_orphan_retries, 1),
	IP_INT_RANGE(tcp_pacing_ca_ratio, 0, 1000, 0),
	IP_INT_RANGE(tcp_pacing_ss_ratio, 0, 1000, 0),
	IP_U8_RANGE(tcp_pingpong_thresh, 1, 255, 1),
	IP_INT_RANGE(tcp_plb_cong_thresh, 0, 256, 0),
	IP_U8_RANGE(tcp_plb_enabled, 0, 1, 0),
	IP_U8_RANGE(tcp_plb_idle_rehash_rounds, 0, 31, 0),
	IP_U8_RANGE(tcp_plb_rehash_rounds, 0, 31, 0),
	IP_U8(tcp_plb_suspend_rto_sec, 0),
	ENTRY("tcp_probe_interval", SC_IP, SK_UINT, ST_UINT, 1, F_MAX_UINT_DIV_HZ, 0,
	      IPOFF(tcp_probe_interval), 0, 0),
	IP_INT(tcp_probe_threshold, 0),
	IP_U8(tcp_recovery, 1),
	IP_U8_RANGE(tcp_reflect_tos, 0, 1, 0),
	ENTRY("tcp_reordering", SC_IP, SK_INT, ST_INT, 1, F_MIN | F_MAX_FIELD, 1,
	      IPOFF(tcp_reordering), 1, IPOFF(tcp_max_reordering)),
	IP_U8(tcp_retrans_collapse, 0),
	IP_U8_RANGE(tcp_retries1, 0, 255, 0),
	IP_U8(tcp_retries2, 1),
	IP_U8(tcp_rfc1337, 1),
	ENTRY("tcp_rmem", SC_IP, SK_INT, ST_INT, 3, F_MIN, 1, IPOFF(tcp_rmem), 4096, 0),
	IP_INT_RANGE(tcp_rto_max_ms, 1000, 120000, 0),
	IP_INT_MIN(tcp_rto_min_us, 1, 0),
	IP_U8(tcp_sack, 1),
	IP_U8_RANGE(tcp_shrink_window, 0, 1, 0),
	IP_U8(tcp_slow_start_after_idle, 1),
	IP_U8(tcp_stdurg, 1),
	IP_U8_RANGE(tcp_syn_linear_timeouts, 0, 127, 1),
	IP_U8_RANGE(tcp_syn_retries, 1, 127, 1),
	IP_U8(tcp_synack_retries, 1),
	IP_U8(tcp_syncookies, 1),
	IP_U8(tcp_thin_linear_timeouts, 1),
	IP_U8(tcp_timestamps, 1),
	IP_U8(tcp_tso_rtt_log, 0),
	IP_U8(tcp_tso_win_divisor, 0),
	IP_U8_RANGE(tcp_tw_reuse, 0, 2, 1),
	IP_UINT_RANGE(tcp_tw_reuse_delay, 1, 60000, 1),
	IP_U8(tcp_window_scaling, 1),
	ENTRY("tcp_wmem", SC_IP, SK_INT, ST_INT, 3, F_MIN, 1, IPOFF(tcp_wmem), 1, 0),
	IP_U8(tcp_workaround_signed_windows, 1),
	IP_UINT_RANGE(udp_child_hash_entries, 0, 65536, 0),
	IP_U8(udp_early_demux, 0),
	IP_RO(udp_hash_entries, 0),
	IP_U8_RANGE(udp_l3mdev_accept, 0, 1, 0),
	IP_INT_MIN(udp_rmem_min, 1, 0),
	IP_INT_MIN(udp_wmem_min, 1, 0),
	IP_INT(xfrm4_gc_thresh, 0),

	/* ---- net.ipv4.conf.{all,default,<dev>}.* ---- */
	CONF(accept_local, 1),
	CONF(accept_redirects, 1),
	CONF(accept_source_route, 1),
	CONF(arp_accept, 1),
	CONF(arp_announce, 1),
	CONF(arp_evict_nocarrier, 0),
	CONF(arp_filter, 1),
	CONF(arp_ignore, 1),
	CONF(arp_notify, 1),
	CONF(bc_forwarding, 1),
	CONF(bootp_relay, 0),
	CONF_FLUSH(disable_policy, 0),
	CONF_FLUSH(disable_xfrm, 0),
	CONF(drop_gratuitous_arp, 1),
	CONF_FLUSH(drop_unicast_in_l2_multicast, 1),
	CONF(force_igmp_version, 0),
	ENTRY("forwarding", SC_CONF, SK_FORWARD, ST_INT, 1, 0, 1, CONFOFF(forwarding), 0, 0),
	CONF(igmpv2_unsolicited_report_interval, 0),
	CONF(igmpv3_unsolicited_report_interval, 0),
	CONF(ignore_routes_with_linkdown, 0),
	CONF(log_martians, 0),
	ENTRY("mc_forwarding", SC_CONF, SK_INT, ST_INT, 1, F_RO, 0, CONFOFF(mc_forwarding), 0, 0),
	CONF(medium_id, 0),
	CONF_FLUSH(promote_secondaries, 1),
	CONF(proxy_arp, 0),
	CONF(proxy_arp_pvlan, 0),
	CONF_FLUSH(route_localnet, 1),
	CONF(rp_filter, 1),
	CONF(secure_redirects, 1),
	CONF(send_redirects, 1),
	CONF(shared_media, 1),
	CONF(src_valid_mark, 0),
	CONF(tag, 0),

	/* ---- net.ipv4.neigh.{default,<dev>}.* (times stored in ms) ---- */
	NEIGH_TIME(anycast_delay, SK_USERHZ, 0),
	NEIGH_COUNT(app_solicit, 1),
	ENTRY("base_reachable_time", SC_NEIGH, SK_JIFFIES, ST_MS64, 1,
	      F_NEIGH | F_DEPRECATED | F_ALIAS, 1, NEIGHOFF(base_reachable_time_ms), 0, 0),
	NEIGH_TIME(base_reachable_time_ms, SK_MS_JIFFIES, 1),
	NEIGH_TIME(delay_first_probe_time, SK_JIFFIES, 1),
	ENTRY("gc_interval", SC_NEIGH, SK_JIFFIES, ST_MS64, 1, F_DFLT_ONLY, 0,
	      NEIGHOFF(gc_interval), 0, 0),
	NEIGH_TIME(gc_stale_time, SK_JIFFIES, 1),
	ENTRY("gc_thresh1", SC_NEIGH, SK_INT, ST_INT, 1, F_DFLT_ONLY | F_MIN | F_MAX, 1,
	      NEIGHOFF(gc_thresh1), 0, INT_MAX),
	ENTRY("gc_thresh2", SC_NEIGH, SK_INT, ST_INT, 1, F_DFLT_ONLY | F_MIN | F_MAX, 1,
	      NEIGHOFF(gc_thresh2), 0, INT_MAX),
	ENTRY("gc_thresh3", SC_NEIGH, SK_INT, ST_INT, 1, F_DFLT_ONLY | F_MIN | F_MAX, 1,
	      NEIGHOFF(gc_thresh3), 0, INT_MAX),
	/* neigh_proc_dointvec_ms_jiffies_positive(): at least one jiffy */
	ENTRY("interval_probe_time_ms", SC_NEIGH, SK_MS_JIFFIES, ST_MS64, 1, F_NEIGH | F_MIN, 0,
	      NEIGHOFF(interval_probe_time_ms), 1, 0),
	NEIGH_TIME(locktime, SK_USERHZ, 1),
	NEIGH_COUNT(mcast_resolicit, 1),
	NEIGH_COUNT(mcast_solicit, 1),
	NEIGH_TIME(proxy_delay, SK_USERHZ, 0),
	NEIGH_COUNT(proxy_qlen, 0),
	ENTRY("retrans_time", SC_NEIGH, SK_USERHZ, ST_MS64, 1, F_NEIGH | F_DEPRECATED | F_ALIAS, 1,
	      NEIGHOFF(retrans_time_ms), 0, 0),
	NEIGH_TIME(retrans_time_ms, SK_MS_JIFFIES, 1),
	NEIGH_COUNT(ucast_solicit, 1),
	ENTRY("unres_qlen", SC_NEIGH, SK_UNRES_QLEN, ST_INT, 1, F_NEIGH | F_ALIAS, 1,
	      NEIGHOFF(unres_qlen_bytes), 0, 0),
	NEIGH_COUNT(unres_qlen_bytes, 1),
};

const size_t sysctl_table_len = sizeof(sysctl_table) / sizeof(sysctl_table[0]);

void sysctl_defaults_init(struct sysctl_ns *ns)
{
	struct ipv4_sysctl *ip = &ns->ip;
	struct ipv4_devconf *all = &ns->conf_all, *dflt = &ns->conf_dflt;
	struct neigh_parms *n = &ns->neigh_dflt;
	struct core_sysctl *core = &ns->core;

	/* net.core: Linux's compiled-in defaults (SK_RMEM_MAX/SK_WMEM_MAX = 212992 on
	 * x86_64; somaxconn SOMAXCONN 4096; optmem_max 128 KiB since 6.6). */
	core->optmem_max = 131072;
	core->rmem_default = 212992;
	core->rmem_max = 212992;
	core->somaxconn = 4096;
	core->wmem_default = 212992;
	core->wmem_max = 212992;
	memset(ip, 0, sizeof(*ip));
	ip->fib_multipath_hash_fields = 7;
	ip->icmp_echo_ignore_broadcasts = 1;
	ip->icmp_ignore_bogus_error_responses = 1;
	ip->icmp_msgs_burst = 50;
	ip->icmp_msgs_per_sec = 1000;
	ip->icmp_ratelimit = 1000;
	ip->icmp_ratemask = 6168;	/* dest unreachable, source quench, time exceeded, param problem */
	ip->igmp_link_local_mcast_reports = 1;
	ip->igmp_max_memberships = 20;
	ip->igmp_max_msf = 10;
	ip->igmp_qrv = 2;
	ip->ip_default_ttl = 64;
	ip->ip_early_demux = 1;
	ip->ip_forward_update_priority = 1;
	ip->ip_local_port_range[0] = 32768;
	ip->ip_local_port_range[1] = 60999;
	ip->ip_unprivileged_port_start = 1024;
	ip->ipfrag_high_thresh = 4 * 1024 * 1024;
	ip->ipfrag_low_thresh = 3 * 1024 * 1024;
	ip->ipfrag_max_dist = 64;
	ip->ipfrag_time = 30;
	ip->nexthop_compat_mode = 1;
	ip->ping_group_range[0] = 1;
	ip->ping_group_range[1] = 0;
	ip->raw_l3mdev_accept = 1;
	ip->route_min_adv_mss = 256;
	ip->route_min_pmtu = 552;
	ip->route_mtu_expires = 600;
	ip->tcp_adv_win_scale = 1;
	ip->tcp_app_win = 31;
	ip->tcp_autocorking = 1;
	ip->tcp_backlog_ack_defer = 1;
	ip->tcp_base_mss = 1024;
	ip->tcp_challenge_ack_limit = INT_MAX;
	ip->tcp_comp_sack_delay_ns = 1000000;
	ip->tcp_comp_sack_nr = 44;
	ip->tcp_comp_sack_slack_ns = 100000;
	snprintf(ip->tcp_congestion_control, sizeof(ip->tcp_congestion_control), "cubic");
	ip->tcp_dsack = 1;
	ip->tcp_early_demux = 1;
	ip->tcp_early_retrans = 3;
	ip->tcp_ecn = 2;
	ip->tcp_ecn_fallback = 1;
	ip->tcp_ecn_option = 2;
	ip->tcp_ecn_option_beacon = 3;
	ip->tcp_ehash_entries = -262144;	/* a child namespace sharing the global table */
	ip->tcp_fastopen = 1;
	ip->tcp_fin_timeout = 60;
	ip->tcp_frto = 2;
	ip->tcp_invalid_ratelimit = 500;
	ip->tcp_keepalive_intvl = 75;
	ip->tcp_keepalive_probes = 9;
	ip->tcp_keepalive_time = 7200;
	ip->tcp_limit_output_bytes = 4194304;
	ip->tcp_max_reordering = 300;
	ip->tcp_max_syn_backlog = 2048;
	ip->tcp_max_tw_buckets = 131072;
	ip->tcp_min_rtt_wlen = 300;
	ip->tcp_min_snd_mss = 48;
	ip->tcp_min_tso_segs = 2;
	ip->tcp_moderate_rcvbuf = 1;
	ip->tcp_mtu_probe_floor = 48;
	ip->tcp_no_ssthresh_metrics_save = 1;
	ip->tcp_notsent_lowat = UINT_MAX;
	ip->tcp_pacing_ca_ratio = 120;
	ip->tcp_pacing_ss_ratio = 200;
	ip->tcp_pingpong_thresh = 1;
	ip->tcp_plb_cong_thresh = 128;
	ip->tcp_plb_idle_rehash_rounds = 3;
	ip->tcp_plb_rehash_rounds = 12;
	ip->tcp_plb_suspend_rto_sec = 60;
	ip->tcp_probe_interval = 600;
	ip->tcp_probe_threshold = 8;
	ip->tcp_recovery = 1;
	ip->tcp_reordering = 3;
	ip->tcp_retrans_collapse = 1;
	ip->tcp_retries1 = 3;
	ip->tcp_retries2 = 15;
	ip->tcp_rmem[0] = 4096;
	ip->tcp_rmem[1] = 131072;
	ip->tcp_rmem[2] = 33554432;
	ip->tcp_rto_max_ms = 120000;
	ip->tcp_rto_min_us = 200000;
	ip->tcp_sack = 1;
	ip->tcp_slow_start_after_idle = 1;
	ip->tcp_syn_linear_timeouts = 4;
	ip->tcp_syn_retries = 6;
	ip->tcp_synack_retries = 5;
	ip->tcp_syncookies = 1;
	ip->tcp_timestamps = 1;
	ip->tcp_tso_rtt_log = 9;
	ip->tcp_tso_win_divisor = 3;
	ip->tcp_tw_reuse = 2;
	ip->tcp_tw_reuse_delay = 1000;
	ip->tcp_window_scaling = 1;
	ip->tcp_wmem[0] = 4096;
	ip->tcp_wmem[1] = 16384;
	ip->tcp_wmem[2] = 4194304;
	ip->udp_early_demux = 1;
	ip->udp_hash_entries = -16384;		/* as tcp_ehash_entries */
	ip->udp_rmem_min = 4096;
	ip->udp_wmem_min = 4096;
	ip->xfrm4_gc_thresh = 32768;

	/* ipv4_devconf / ipv4_devconf_dflt (net/ipv4/devinet.c) */
	memset(all, 0, sizeof(*all));
	all->accept_redirects = 1;
	all->send_redirects = 1;
	all->secure_redirects = 1;
	all->shared_media = 1;
	all->igmpv2_unsolicited_report_interval = 10000;
	all->igmpv3_unsolicited_report_interval = 1000;
	all->arp_evict_nocarrier = 1;
	*dflt = *all;
	dflt->accept_source_route = 1;

	/* arp_tbl.parms (net/ipv4/arp.c) */
	memset(n, 0, sizeof(*n));
	n->anycast_delay = 1000;
	n->base_reachable_time_ms = 30000;
	n->delay_first_probe_time = 5000;
	n->gc_stale_time = 60000;
	n->interval_probe_time_ms = 5000;
	n->locktime = 1000;
	n->mcast_solicit = 3;
	n->proxy_delay = 800;
	n->proxy_qlen = 64;
	n->retrans_time_ms = 1000;
	n->ucast_solicit = 3;
	n->unres_qlen_bytes = 212992;	/* SK_WMEM_MAX */
	n->gc_interval = 30000;
	n->gc_thresh1 = 128;
	n->gc_thresh2 = 512;
	n->gc_thresh3 = 1024;
}

/* ---- docs/sysctl.md ---- */

static const char *num_word(long long v)
{
	static char buf[32];

	if (v == INT_MAX)
		return "INT_MAX";
	if (v == INT_MIN)
		return "INT_MIN";
	snprintf(buf, sizeof(buf), "%lld", v);
	return buf;
}

void sysctl_entry_range(const struct sysctl_ns *ns, const struct sysctl_entry *e, char *buf,
			size_t len)
{
	char lo[32] = "", hi[32] = "";
	const char *follows = "";

	if (e->flags & (F_DEVINET | F_NEIGH))
		follows = "; follows default until set";
	else if (e->scope == SC_CONF && e->kind == SK_INT && !(e->flags & F_RO))
		follows = "; never follows default";
	switch (e->kind) {
	case SK_FORWARD:
		snprintf(buf, len, "int; %s", e->scope == SC_IP ? "= conf.all.forwarding"
			 : "all: sets default and every device; never follows default");
		return;
	case SK_PORT_RANGE:
		snprintf(buf, len, "1..65535 each, low <= high, low >= ip_unprivileged_port_start");
		return;
	case SK_UNPRIV_PORT:
		snprintf(buf, len, "0..65535, <= ip_local_port_range low");
		return;
	case SK_PING_GROUP:
		snprintf(buf, len, "gid 0..4294967294 each; high < low: nobody");
		return;
	case SK_PORT_BITMAP:
		snprintf(buf, len, "list of ports and ranges in 0..65535");
		return;
	case SK_CC:
		snprintf(buf, len, "an available name");
		return;
	case SK_CC_LIST:
		snprintf(buf, len, "read-only");
		return;
	case SK_TFO_KEY:
		snprintf(buf, len, "hex key[,backup key]");
		return;
	case SK_FLUSH:
		snprintf(buf, len, "write-only, any value");
		return;
	case SK_UNRES_QLEN:
		snprintf(buf, len, "0..%d packets of %d bytes%s", INT_MAX / SYSCTL_SKB_TRUESIZE,
			 SYSCTL_SKB_TRUESIZE, follows);
		return;
	case SK_JIFFIES:
		snprintf(buf, len, "-INT_MAX/HZ..INT_MAX/HZ s%s", follows);
		return;
	case SK_USERHZ:
		snprintf(buf, len, "any, 1/100 s%s", follows);
		return;
	default:
		break;
	}
	if (e->flags & F_RO) {
		snprintf(buf, len, "read-only");
		return;
	}
	if (e->flags & F_MIN_FIELD)
		snprintf(lo, sizeof(lo), "ipfrag_low_thresh");
	else if (e->flags & F_MIN)
		snprintf(lo, sizeof(lo), "%s", num_word(e->min));
	else
		snprintf(lo, sizeof(lo), "%s", e->kind == SK_INT ? "INT_MIN" : "0");
	if (e->flags & F_MAX_FIELD)
		snprintf(hi, sizeof(hi), "%s",
			 e->off == offsetof(struct ipv4_sysctl, ipfrag_low_thresh) ? "ipfrag_high_thresh"
										      : "tcp_max_reordering");
	else if (e->flags & F_MAX)
		snprintf(hi, sizeof(hi), "%s", num_word(e->max));
	else if (e->flags & F_MAX_UINT_DIV_HZ)
		snprintf(hi, sizeof(hi), "UINT_MAX/HZ");
	else if (e->kind == SK_U8)
		snprintf(hi, sizeof(hi), "255");
	else if (e->kind == SK_UINT)
		snprintf(hi, sizeof(hi), "UINT_MAX");
	else if (e->kind == SK_ULONG)
		snprintf(hi, sizeof(hi), "ULONG_MAX");
	else
		snprintf(hi, sizeof(hi), "INT_MAX");
	if (e->kind == SK_MS_JIFFIES) {
		snprintf(buf, len, "%s..INT_MAX ms, rounded up to the tick%s",
			 e->flags & F_MIN ? "1" : "0", follows);
		return;
	}
	if (e->kind == SK_INT && !(e->flags & (F_MIN | F_MAX | F_MIN_FIELD | F_MAX_FIELD)))
		snprintf(buf, len, "int%s", follows);
	else
		snprintf(buf, len, "%s..%s%s%s", lo, hi, e->n > 1 ? " each" : "", follows);
}
