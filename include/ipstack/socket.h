/* The socket API of ipstack: the POSIX calls with an ips_ prefix, the same arguments,
 * the same <netinet/in.h> structures and constants; each returns -1 and sets errno as
 * Linux does. (Being written: see the sockets issue.) */
#ifndef IPSTACK_SOCKET_H
#define IPSTACK_SOCKET_H

#endif
