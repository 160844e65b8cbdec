/* A scripted packet-level TCP test harness in the spirit of packetdrill.
 *
 * The stack under test is one simulated stack with a callback device (tun0,
 * 192.168.0.1/24, route to 192.0.2.0/24); the harness plays the remote peer
 * 192.0.2.1 exactly: it injects the packets a script gives (<), checks every packet the
 * stack sends against the script (>), and makes the socket calls, all on the virtual
 * clock. See tests/tcp/README.md for the script format. */
#ifndef IPS_TESTS_TCP_HARNESS_H
#define IPS_TESTS_TCP_HARNESS_H

#include <stdio.h>

/* Run one script (text); returns 0 on success, -1 with a message on err. name is used in
 * messages. */
int tcp_script_run(const char *name, const char *text, FILE *err);
int tcp_script_run_file(const char *path, FILE *err);

#endif
