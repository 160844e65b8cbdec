/* The stack's only view of time: an injected clock (see include/ipstack/ipstack.h).
 * Time is nanoseconds on a monotonic scale; the virtual clock starts at 0. */
#ifndef IPS_CORE_CLOCK_H
#define IPS_CORE_CLOCK_H

#include <stdint.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL

uint64_t clock_real_now_ns(void *ctx);	/* CLOCK_MONOTONIC */

#endif
