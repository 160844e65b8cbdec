/* The differential test's mapping layer: the same source calls socket(), bind(), ... and
 * this header, included after the system headers in the ipstack build, turns each call
 * into its ips_ twin. Nothing else differs between the two builds. */
#ifndef IPS_DIFF_MAP_H
#define IPS_DIFF_MAP_H

#include <ipstack/ipstack.h>

#define socket ips_socket
#define bind ips_bind
#define connect ips_connect
#define listen ips_listen
#define accept ips_accept
#define accept4 ips_accept4
#define send ips_send
#define sendto ips_sendto
#define sendmsg ips_sendmsg
#define recv ips_recv
#define recvfrom ips_recvfrom
#define recvmsg ips_recvmsg
#define read ips_read
#define write ips_write
#define readv ips_readv
#define writev ips_writev
#define shutdown ips_shutdown
#define close ips_close
#define getsockname ips_getsockname
#define getpeername ips_getpeername
#define setsockopt ips_setsockopt
#define getsockopt ips_getsockopt
#define poll ips_poll
#define fcntl ips_fcntl
#define ioctl ips_ioctl

#endif
