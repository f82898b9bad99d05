/* selftest: checks the kernel's foundations and prints one RESULT line.
 *   ring3   the code runs at CPL 3
 *   loop    10^8 iterations of a tight loop (ns per iteration: native
 *           speed there, interpreted speed if we were in ring 0)
 *   timer   LAPIC timer interrupts arrive in ring 3, `wait` wakes on them
 *   ipi     a self-IPI reaches the generic device-IRQ stub (count + EOI)
 *   ud      an invalid opcode (ud2) is caught and reported
 *   de      a divide error is caught and reported
 *   pf      a page fault above the mapped 4 GiB is caught, CR2 reported
 *   alloc   pages: allocate, write, free, re-allocate; aligned runs
 *   pci     enumeration (listed; never fails: a VMM may have no devices)
 * Exit: EXIT_OK when every check passed, else EXIT_FAIL. */
#include "apps.h"
#include "io.h"

#define LOOP_ITERS 100000000ull

static char failed[128];
static int nfailed;

static void check(bool ok, const char *name)
{
    printf("selftest: %-6s %s\n", name, ok ? "ok" : "FAILED");
    if (!ok) {
        size_t n = strlen(failed);
        snprintf(failed + n, sizeof(failed) - n, "%s%s", n ? "," : "", name);
        nfailed++;
    }
}

/* Provokes one exception; returns its vector, or -1 if none came. */
static int provoke(int which)
{
    static struct catch_buf cb;
    if (CATCH(&cb)) {
        catch_end();
        return (int)fault_info.vector;
    }
    if (which == 6) {
        __asm__ volatile("ud2");
    } else if (which == 0) {
        volatile u32 zero = 0;
        u32 a = 1, d = 0, z = zero;
        __asm__ volatile("divl %2" : "+a"(a), "+d"(d) : "r"(z));
    } else {
        volatile u64 *bad = (volatile u64 *)0x0000100000000000ull;   /* unmapped */
        (void)*bad;
    }
    catch_end();
    return -1;
}

static bool check_fault(int which, int vec_expected)
{
    int v = provoke(which);
    printf("selftest: provoked exception %d: caught vector %d rip=0x%lx err=0x%lx", which, v,
           fault_info.rip, fault_info.error);
    if (v == 14)
        printf(" cr2=0x%lx", fault_info.cr2);
    printf("\n");
    return v == vec_expected && (fault_info.cs & 3) == 3;
}

static bool check_alloc(void)
{
    size_t before = alloc_free_pages();
    u64 *p = alloc_pages(1, 1);
    if (!p)
        return false;
    for (int i = 0; i < 512; i++)
        p[i] = 0x5a5a0000u + i;
    for (int i = 0; i < 512; i++)
        if (p[i] != 0x5a5a0000u + (u64)i)
            return false;
    free_pages(p, 1);
    u64 *q = alloc_pages(1, 1);                 /* first fit: same page again */
    if (q != p || q[7] != 0)                     /* and zeroed */
        return false;
    u8 *ring = alloc_pages(16, 16);             /* 64 KiB, 64 KiB aligned */
    if (!ring || ((uintptr_t)ring & 0xffff))
        return false;
    ring[16 * 4096 - 1] = 1;
    printf("selftest: alloc page %p, aligned run %p, %lu pages free\n", (void *)q, ring,
           alloc_free_pages());
    free_pages(ring, 16);
    free_pages(q, 1);
    return alloc_free_pages() == before;
}

int selftest_main(const struct cmdline *cl)
{
    extern u64 boot_tsc;
    u64 boot_ms = tsc_to_ns(rdtsc() - boot_tsc) / 1000000;

    check((read_cs() & 3) == 3, "ring3");

    /* The empty asm keeps the loop (and its counter in a register). */
    u64 t0 = rdtsc();
    for (u64 i = 0; i < LOOP_ITERS; i++)
        __asm__ volatile("" : "+r"(i));
    u64 loop_ns_total = tsc_to_ns(rdtsc() - t0);
    u64 loop_ps = loop_ns_total * 1000 / LOOP_ITERS;       /* per iteration */
    check(loop_ns_total > 0, "loop");

    /* Ten timer ticks, sleeping in `wait` between them. */
    u64 ticks0 = timer_ticks, wakeups = 0;
    u64 w0 = rdtsc();
    while (timer_ticks - ticks0 < 10 && tsc_to_ns(rdtsc() - w0) < 2000000000ull) {
        u64 seen = irq_seq_read();
        if (timer_ticks - ticks0 < 10)
            sys_wait(seen);
        wakeups++;
    }
    u64 ticks = timer_ticks - ticks0;
    u64 wait_us = tsc_to_ns(rdtsc() - w0) / 1000;
    printf("selftest: %lu ticks, %lu wakeups in %lu us (timer %u Hz)\n", ticks, wakeups,
           wait_us, timer_hz);
    check(ticks >= 10 && wakeups >= 1 && wakeups <= ticks + 1, "timer");

    /* A self-IPI on a generic device vector: the ring-0 counting stub. */
    u32 ipi0 = irq_counts[VEC_IRQ_FIRST - 0x20];
    lapic_write(0x300, (1u << 18) | (1u << 14) | VEC_IRQ_FIRST);    /* ICR: self, fixed */
    for (int i = 0; i < 1000000 && irq_counts[VEC_IRQ_FIRST - 0x20] == ipi0; i++)
        cpu_relax();
    check(irq_counts[VEC_IRQ_FIRST - 0x20] == ipi0 + 1, "ipi");

    check(check_fault(6, 6), "ud");
    check(check_fault(0, 0), "de");
    check(check_fault(14, 14), "pf");
    check(check_alloc(), "alloc");
    pci_print();
    check(true, "pci");

    u64 total_ms = tsc_to_ns(rdtsc() - boot_tsc) / 1000000;
    printf("RESULT app=selftest ok=%d loop_ns=%lu.%03lu ticks=%lu hz=%u tsc_khz=%lu pci=%d "
           "boot_ms=%lu total_ms=%lu%s%s\n",
           nfailed == 0, loop_ps / 1000, loop_ps % 1000, timer_ticks, timer_hz, tsc_hz / 1000,
           pci_ndevs, boot_ms, total_ms, nfailed ? " failed=" : "", failed);
    return nfailed ? EXIT_FAIL : EXIT_OK;
}

/* crash: an exception nobody catches (tests the fatal path: a FATAL line
 * and exit code EXIT_FAULT). `crash pf` faults on a read above 4 GiB. */
int crash_main(const struct cmdline *cl)
{
    printf("crash: provoking an uncaught exception\n");
    if (cl->argc && !strcmp(cl->argv[0], "pf"))
        (void)*(volatile u64 *)0x0000100000000000ull;
    __asm__ volatile("ud2");
    return EXIT_FAIL;
}
