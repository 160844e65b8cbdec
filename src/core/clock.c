#include "core/clock.h"

#include <time.h>

/* The one place that reads the system's clock; a stack reads it only through its
 * injected clock ops, of which this is the default for threaded and driven stacks. */
uint64_t clock_real_now_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
