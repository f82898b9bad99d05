/* probe: what the platform charges for each way out of ring 3, measured from
 * inside the guest with the TSC (median of many samples, so a host
 * interruption does not skew it). These costs decide every design choice of
 * the packet path (docs/results.md, "Platform costs"):
 *   syscall   a system call that returns at once (ring 3 -> ring 0 -> ring 3)
 *   pio       a port read through a system call (+ a VM exit to the VMM)
 *   lapic     an xAPIC register read (a VM exit served in the host kernel)
 *   ipi       a self-IPI: LAPIC ICR write, interrupt, ring-0 stub, back
 *   mmio      an e1000 STATUS read (a VM exit to the VMM in user space);
 *             only with a NIC (nic=I chooses it)
 *   kick      a TDT write while the CSB is on (txmode=csb on a vpio NIC):
 *             an exit the host kernel serves by signalling an eventfd
 *             (KVM_IOEVENTFD), the CSB's doorbell */
#include "apps.h"
#include "drivers/e1000.h"
#include "io.h"

#define SAMPLES 101

static u64 median(u64 *v, int n)
{
    /* Insertion sort: 101 samples. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            u64 t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

typedef void (*probe_fn)(void *ctx);

/* Median cost of one call of fn, in ns, over SAMPLES batches of `per`. */
static u64 measure(probe_fn fn, void *ctx, int per)
{
    u64 t[SAMPLES];
    fn(ctx); /* warm up */
    for (int s = 0; s < SAMPLES; s++) {
        u64 t0 = rdtsc();
        for (int i = 0; i < per; i++)
            fn(ctx);
        t[s] = rdtsc() - t0;
    }
    return tsc_to_ns(median(t, SAMPLES)) * 1000 / (u64)per; /* picoseconds */
}

static void do_syscall(void *ctx)
{
    (void)ctx;
    sys_wait(irq_seq_read() - 1); /* irq_seq moved: returns at once */
}

static void do_pio(void *ctx)
{
    (void)ctx;
    (void)inb(COM1 + 5); /* LSR */
}

static void do_lapic(void *ctx)
{
    (void)ctx;
    (void)lapic_read(0x20); /* ID */
}

static void do_ipi(void *ctx)
{
    (void)ctx;
    u32 n = irq_counts[VEC_IRQ_FIRST - 0x20];
    lapic_write(0x300, (1u << 18) | (1u << 14) | VEC_IRQ_FIRST); /* self, fixed */
    for (int i = 0; i < 1000000 && irq_counts[VEC_IRQ_FIRST - 0x20] == n; i++)
        cpu_relax();
}

static void do_mmio(void *ctx)
{
    (void)e1000_read(ctx, 0x8); /* STATUS */
}

static void do_kick(void *ctx)
{
    struct e1000 *nic = ctx;
    e1000_write(nic, 0x3818, nic->tx_tail); /* TDT: the tail it already has */
}

static void print_ps(const char *name, u64 ps)
{
    printf(" %s_ns=%lu.%03lu", name, ps / 1000, ps % 1000);
}

int probe_main(const struct cmdline *cl)
{
    static struct e1000 nic;
    u64 index = 0;
    cmdline_u64(cl, "nic", &index);
    bool have_nic = pci_find(0x8086, 0x100e, (int)index) != NULL;
    if (have_nic && e1000_probe(&nic, (int)index, cl) < 0) {
        printf("RESULT app=probe ok=0 error=nic-probe\n");
        return EXIT_FAIL;
    }
    u64 syscall = measure(do_syscall, NULL, 20);
    u64 pio = measure(do_pio, NULL, 5);
    u64 lapic = measure(do_lapic, NULL, 20);
    u64 ipi = measure(do_ipi, NULL, 5);
    u64 mmio = have_nic ? measure(do_mmio, &nic, 5) : 0;
    bool csb = have_nic && nic.csb;
    u64 kick = csb ? measure(do_kick, &nic, 20) : 0;
    printf("RESULT app=probe ok=1");
    print_ps("syscall", syscall);
    print_ps("pio", pio);
    print_ps("lapic", lapic);
    print_ps("ipi", ipi);
    if (have_nic)
        print_ps("mmio", mmio);
    if (csb)
        print_ps("kick", kick);
    printf("\n");
    return EXIT_OK;
}
