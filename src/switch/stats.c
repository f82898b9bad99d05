/* Port counters as a reader may trust them. The counters live in the shared
 * arena, where any peer can overwrite them; what reaches a guest (the
 * e1000's MPC through the backend's rx_dropped) or a report must not be
 * whatever a peer wrote. A reader remembers what it read last: a counter
 * moves only forward, and by no more than the frames that could have been
 * offered to (or sent by) one port since that read. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "switch/sw_internal.h"

/* Frames that may be in flight at any instant beyond the rate bound: one
 * batch from every other port (counted at once, whatever the clock says). */
#define IN_FLIGHT ((uint64_t)VPIO_SW_MAX_PORTS * VPIO_SW_BATCH)

static uint64_t frames_bound(uint64_t dt_ns)
{
    /* VPIO_SW_MAX_PPS * dt without overflow (dt up to centuries) */
    uint64_t s = dt_ns / 1000000000u, ns = dt_ns % 1000000000u;
    uint64_t lim = UINT64_MAX / 4 / VPIO_SW_MAX_FRAME;
    if (s >= lim / VPIO_SW_MAX_PPS)
        return lim;
    return s * VPIO_SW_MAX_PPS + ns * (VPIO_SW_MAX_PPS / 1000000u) / 1000u + IN_FLIGHT;
}

/* One counter: accept raw - last_raw if it is forward and plausible; the
 * raw value becomes the new base either way (a forged jump is skipped once,
 * the real increments after it are counted again). */
static void step(uint64_t *safe, uint64_t *last_raw, uint64_t raw, uint64_t bound,
                 uint64_t *refused)
{
    uint64_t d = raw - *last_raw; /* modulo 2^64: a backwards move is huge */
    *last_raw = raw;
    if (d > bound) {
        (*refused)++;
        return;
    }
    *safe += d;
}

void vpio_stats_reader_init(struct vpio_stats_reader *r, const struct vpio_port_stats *base,
                            uint64_t now_ns)
{
    memset(r, 0, sizeof *r);
    if (base)
        r->raw = *base;
    r->safe = r->raw;
    r->ns = now_ns;
}

void vpio_stats_read(struct vpio_stats_reader *r, const struct vpio_port_stats *raw,
                     uint64_t now_ns, struct vpio_port_stats *out)
{
    uint64_t dt = now_ns > r->ns ? now_ns - r->ns : 0;
    uint64_t f = frames_bound(dt), b = f * VPIO_SW_MAX_FRAME;
    r->ns = now_ns > r->ns ? now_ns : r->ns;
    step(&r->safe.tx_pkts, &r->raw.tx_pkts, raw->tx_pkts, f, &r->refused);
    step(&r->safe.tx_bytes, &r->raw.tx_bytes, raw->tx_bytes, b, &r->refused);
    step(&r->safe.tx_drops, &r->raw.tx_drops, raw->tx_drops, f, &r->refused);
    step(&r->safe.tx_errs, &r->raw.tx_errs, raw->tx_errs, f, &r->refused);
    step(&r->safe.rx_pkts, &r->raw.rx_pkts, raw->rx_pkts, f, &r->refused);
    step(&r->safe.rx_bytes, &r->raw.rx_bytes, raw->rx_bytes, b, &r->refused);
    step(&r->safe.rx_drops, &r->raw.rx_drops, raw->rx_drops, f, &r->refused);
    step(&r->safe.rx_errs, &r->raw.rx_errs, raw->rx_errs, f, &r->refused);
    *out = r->safe;
}

void sw_read_stats(const struct vpio_sw_port *sp, struct vpio_port_stats *st)
{
    st->tx_pkts = __atomic_load_n(&sp->tx_pkts, __ATOMIC_RELAXED);
    st->tx_bytes = __atomic_load_n(&sp->tx_bytes, __ATOMIC_RELAXED);
    st->tx_drops = __atomic_load_n(&sp->tx_drops, __ATOMIC_RELAXED);
    st->tx_errs = __atomic_load_n(&sp->tx_errs, __ATOMIC_RELAXED);
    st->rx_pkts = __atomic_load_n(&sp->rx_pkts, __ATOMIC_RELAXED);
    st->rx_bytes = __atomic_load_n(&sp->rx_bytes, __ATOMIC_RELAXED);
    st->rx_drops = __atomic_load_n(&sp->rx_drops, __ATOMIC_RELAXED);
    st->rx_errs = __atomic_load_n(&sp->rx_errs, __ATOMIC_RELAXED);
}

/* How long the owner (start time in clock ticks since boot) has existed,
 * in ns; the time since boot if unknown. Its port was attached (counters
 * zeroed) after that. */
uint64_t sw_owner_age_ns(uint64_t pid_start)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    uint64_t up = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    uint64_t st = pid_start / (uint64_t)hz * 1000000000u +
                  pid_start % (uint64_t)hz * (1000000000u / (uint64_t)hz);
    return st && st < up ? up - st : up;
}
