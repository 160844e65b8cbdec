/* Classic pcap capture files (the libpcap format Wireshark and tcpdump read):
 * nanosecond-resolution magic 0xa1b23c4d, version 2.4, snaplen 262144, written in host
 * byte order (readers detect the order from the magic). LINKTYPE_ETHERNET (1) for
 * Ethernet devices, LINKTYPE_RAW (101, bare IPv4) for loopback, TUN and callback
 * devices. Timestamps come from the stack clock (a simulated world's start at 0).
 *
 * What is captured: on transmit, the frame as it goes on the wire (after tx
 * impairment: a lost frame is not in the file, a duplicated one is there twice, a
 * corrupted one is corrupted); on receive, the frame as it arrived (before rx
 * impairment). Writes are buffered; the file is flushed when capture stops, when the
 * device is unregistered or the stack freed, and on ips_pcap_flush(). On lo, where
 * every sent packet is also received, each packet is captured once (on receive), as
 * libpcap shows it. */
#ifndef IPS_LINK_PCAP_H
#define IPS_LINK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_SNAPLEN 262144u
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_LINKTYPE_RAW 101u
#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN 16

struct pcap_writer;

/* Create (truncate) path and write the file header. NULL with *err = -errno on failure. */
struct pcap_writer *pcap_open(const char *path, uint32_t linktype, int *err);
/* Append one record (truncated to the snaplen). Errors are remembered, not reported. */
void pcap_write(struct pcap_writer *w, uint64_t ts_ns, const void *data, size_t len);
int pcap_flush(struct pcap_writer *w);
/* Flush, close and free. Returns 0 or the first write error (-errno). */
int pcap_close(struct pcap_writer *w);

#endif
