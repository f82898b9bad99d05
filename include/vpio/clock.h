/* The one monotonic clock of the host side: nanoseconds since an arbitrary
 * start, never going back (CLOCK_MONOTONIC). Wall-clock time is for logs
 * only and is not taken from here. */
#ifndef VPIO_CLOCK_H
#define VPIO_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t vpio_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double vpio_now_s(void)
{
    return (double)vpio_now_ns() / 1e9;
}

#endif
