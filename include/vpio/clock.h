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

/* The same clock read cheaply (vDSO, a few ms resolution): for per-batch
 * checks in hot loops and for MAC aging, where a precise read (~80 ns on a
 * nested VM) would cost too much per frame. */
static inline uint64_t vpio_now_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double vpio_now_coarse_s(void)
{
    return (double)vpio_now_coarse_ns() / 1e9;
}

#endif
