/* Time: the TSC, calibrated against PIT channel 2 (gated through port
 * 0x61, polled; no PIT interrupt), and the LAPIC timer in periodic mode,
 * calibrated against the TSC. All from ring 3. */
#include "io.h"
#include "kernel.h"

#define PIT_HZ      1193182u
#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PORT_61     0x61
#define CALIB_MS    10

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_PERIODIC (1u << 17)
#define LVT_MASKED (1u << 16)

u64 tsc_hz;
u32 timer_hz;

/* Count CALIB_MS with PIT channel 2 in mode 0 (OUT2 rises at terminal
 * count, visible as bit 5 of port 0x61) and see how far the TSC moved. */
static u64 pit_measure_tsc(void)
{
    u32 latch = PIT_HZ * CALIB_MS / 1000;
    outb(PORT_61, (inb(PORT_61) & ~0x02) | 0x01);   /* gate on, speaker off */
    outb(PIT_CMD, 0xb0);                            /* ch2, lo/hi, mode 0, binary */
    outb(PIT_CH2, latch & 0xff);
    u64 t0 = rdtsc();
    outb(PIT_CH2, latch >> 8);                      /* counting starts */
    /* Bounded by TSC cycles, not iterations: each inb is a VM exit
     * (~30 us from ring 3 on nested KVM). 2^32 cycles: a second or two. */
    u64 t1;
    while (!(inb(PORT_61) & 0x20))
        if ((t1 = rdtsc()) - t0 > (1ull << 32))
            return 0;
    t1 = rdtsc();
    return t1 - t0;
}

void tsc_calibrate(void)
{
    u64 best = 0;
    /* Take the smaller of two: a delayed PIT read only makes it longer. */
    for (int i = 0; i < 2; i++) {
        u64 d = pit_measure_tsc();
        if (d && (!best || d < best))
            best = d;
    }
    tsc_hz = best ? best * 1000 / CALIB_MS : 1000000000ull;  /* fallback: 1 GHz */
}

u64 tsc_to_ns(u64 delta)
{
    /* delta * 1e9 / hz without overflow for deltas up to hours. */
    u64 s = delta / tsc_hz, r = delta % tsc_hz;
    return s * 1000000000ull + r * 1000000000ull / tsc_hz;
}

u64 now_ns(void) { return tsc_to_ns(rdtsc()); }

void delay_us(u64 us)
{
    u64 end = rdtsc() + tsc_hz / 1000000 * us;
    while ((int64_t)(rdtsc() - end) < 0)
        cpu_relax();
}

/* Periodic LAPIC timer at hz on VEC_TIMER (timer_ticks++ in ring 0). The
 * timer's input clock is unknown, so measure it over 10 ms of TSC. */
void timer_start(u32 hz)
{
    if (!hz)
        return;
    lapic_write(LAPIC_TIMER_DIV, 0x3);                      /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);   /* one-shot, masked */
    lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
    delay_us(10000);
    u32 elapsed = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
    lapic_write(LAPIC_TIMER_INIT, 0);
    u64 per_sec = (u64)elapsed * 100;
    u64 count = per_sec / hz;
    if (!count)
        count = 1;
    timer_hz = hz;
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    lapic_write(LAPIC_TIMER_INIT, (u32)(count > 0xffffffffu ? 0xffffffffu : count));
}
