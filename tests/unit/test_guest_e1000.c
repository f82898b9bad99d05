/* Unit tests of the guest e1000 driver (guest/drivers/e1000.c) built for the
 * host against fake hardware: BAR0 is a plain memory array (a register reads
 * back what was last written), PCI configuration, the page allocator and the
 * interrupt counters are stubs. This runs the real probe (options, the CSB
 * detection, enabling and fallback) and the real transmit disciplines:
 * classic writes TDT per packet; sc defers while the TX interrupt is pending
 * and writes when an interrupt was counted, when the ring is full, on flush,
 * and after the timeout; csb publishes through the CSB and writes TDT/RDT
 * only when the host's need-kick flags say so. The CSB path cannot run on
 * QEMU (no CSB there) and vpio's VMM needs /dev/kvm, so this is where its
 * driver half is exercised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "../../guest/kernel/cmdline.c"
#include "../../guest/drivers/e1000.c"
#include "../../guest/drivers/e1000_csb.c"

enum {
    R_CTRL = 0x0000,
    R_STATUS = 0x0008,
    R_ITR = 0x00c4,
    R_IMS = 0x00d0,
    R_RCTL = 0x0100,
    R_TCTL = 0x0400,
    R_RDT = 0x2818,
    R_RDTR = 0x2820,
    R_RADV = 0x282c,
    R_TDT = 0x3818,
    R_TIDV = 0x3820,
    R_TADV = 0x382c
};

/* ---- fake platform ---- */
u64 tsc_hz = 1000000000ull;
volatile u64 nic_icr_addr[NIC_MAX];
volatile u32 nic_icr[NIC_MAX];
volatile u32 nic_irqs[NIC_MAX];
volatile u64 irq_seq;

static volatile u32 *regs; /* 128 KiB BAR0, below 2 GiB (MAP_32BIT) */
static struct pci_dev fake_pci;
static u16 subsys_vendor, subsys_id;
static u8 irq_line = 10;
static int fake_nics = 1;   /* how many 8086:100e pci_find reports (all are fake_pci) */
static int routes;          /* ioapic_route calls */
static u8 route_vector[24]; /* vector last routed per GSI */
static u8 *arena;
#define ARENA_SIZE (32u << 20) /* two NICs' rings and buffers */
static size_t arena_used;

static void *low_map(size_t len)
{
    void *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

const struct pci_dev *pci_find(u16 vendor, u16 device, int index)
{
    return vendor == 0x8086 && device == 0x100e && index >= 0 && index < fake_nics ? &fake_pci
                                                                                   : NULL;
}
u64 pci_bar_addr(const struct pci_dev *d, int bar)
{
    return (u64)(uintptr_t)regs;
}
u16 pci_read16(const struct pci_dev *d, u8 off)
{
    return off == 0x2c ? subsys_vendor : off == 0x2e ? subsys_id : 0;
}
void pci_write16(const struct pci_dev *d, u8 off, u16 v)
{
}
void delay_us(u64 us)
{
    regs[R_CTRL / 4] &= ~CTRL_RST;
} /* reset completes */
void *alloc_pages(size_t npages, size_t align_pages)
{
    size_t len = npages * PAGE_SIZE;
    if (arena_used + len > ARENA_SIZE)
        return NULL;
    void *p = arena + arena_used;
    arena_used += len;
    memset(p, 0, len);
    return p;
}
void free_pages(void *p, size_t npages)
{
}
u32 ioapic_pins(void)
{
    return 24;
}
void ioapic_route(u32 gsi, u8 vector, int trigger, int polarity)
{
    routes++;
    if (gsi < 24)
        route_vector[gsi] = vector;
}
static int sys_waits;
void sys_wait(u64 seen_irq_seq)
{
    sys_waits++;
}

static struct e1000 nic;
static struct cmdline cl;

static int probe(const char *cmdline, u16 svid, u16 ssid)
{
    if (!regs)
        regs = low_map(0x20000);
    if (!arena)
        arena = low_map(ARENA_SIZE);
    memset((void *)regs, 0, 0x20000);
    arena_used = 0;
    memset(&fake_pci, 0, sizeof(fake_pci));
    fake_pci.irq_line = irq_line;
    subsys_vendor = svid;
    subsys_id = ssid;
    regs[R_STATUS / 4] = STATUS_LU;
    regs[EERD / 4] = EERD_DONE; /* EEPROM answers at once (word 0) */
    nic_irqs[0] = 0;
    cmdline_parse(&cl, cmdline);
    return e1000_probe(&nic, 0, &cl);
}

static const u8 frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5};

/* The fake device completes every descriptor it was given (DD). */
static void device_tx_all(void)
{
    u32 tdt = nic.csb ? nic.csb->guest_tdt : regs[R_TDT / 4];
    for (u32 i = nic.tx_clean; i != tdt; i = (i + 1) % E1000_NTX)
        nic.tx[i].status = DESC_DD;
}

static void test_probe_options(void **state)
{
    assert_int_equal(probe("pktgen tx itr=500 tidv=8 tadv=32 rdtr=2 radv=16", 0x1af4, 0x1100), 0);
    assert_int_equal(regs[R_ITR / 4], 500);
    assert_int_equal(regs[R_TIDV / 4], 8);
    assert_int_equal(regs[R_TADV / 4], 32);
    assert_int_equal(regs[R_RDTR / 4], 2);
    assert_int_equal(regs[R_RADV / 4], 16);
    assert_int_equal(nic.txd_cmd & TXD_IDE, TXD_IDE); /* delays apply only with IDE */
    assert_int_equal(nic.txmode, E1000_TX_CLASSIC);
    assert_true(regs[R_RCTL / 4] & RCTL_EN);
    assert_true(regs[R_TCTL / 4] & TCTL_EN);
    assert_true(nic.irqs_on);
    assert_int_equal(probe("pktgen tx", 0x1af4, 0x1100), 0);
    assert_int_equal(nic.txd_cmd & TXD_IDE, 0);
    assert_int_equal(regs[R_ITR / 4], 0);
    assert_int_equal(probe("pktgen tx txmode=fast", 0x1af4, 0x1100), -1); /* bad option */
    /* ring=: descriptors per ring, both rings, programmed as RDLEN/TDLEN */
    assert_int_equal(probe("pktgen tx", 0x1af4, 0x1100), 0);
    assert_int_equal(nic.ntx, E1000_NTX); /* the default */
    assert_int_equal(regs[0x2808 / 4], E1000_NRX * 16);
    assert_int_equal(probe("pktgen tx ring=4096", 0x1af4, 0x1100), 0);
    assert_int_equal(nic.ntx, 4096);
    assert_int_equal(nic.nrx, 4096);
    assert_int_equal(regs[0x2808 / 4], 4096 * 16); /* RDLEN */
    assert_int_equal(regs[0x3808 / 4], 4096 * 16); /* TDLEN */
    assert_int_equal(regs[0x2818 / 4], 4095);      /* RDT: all but one buffer */
    assert_int_equal(probe("pktgen tx ring=1000", 0x1af4, 0x1100), -1); /* not a power of two */
    assert_int_equal(probe("pktgen tx ring=128", 0x1af4, 0x1100), -1);  /* below the minimum */
    assert_int_equal(probe("pktgen tx ring=8192", 0x1af4, 0x1100), -1); /* above the maximum */
}

static void test_csb_fallback_on_qemu(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=csb", 0x1af4, 0x1100), 0);
    assert_int_equal(nic.txmode_requested, E1000_TX_CSB);
    assert_int_equal(nic.txmode, E1000_TX_SC);
    assert_null(nic.csb);
    assert_int_equal(regs[E1000_CSBAL / 4], 0); /* never touched */
    /* A plain vpio e1000 (8086:100e subsystem) also has no CSB. */
    assert_int_equal(probe("pktgen tx txmode=csb", 0x8086, 0x100e), 0);
    assert_int_equal(nic.txmode, E1000_TX_SC);
}

static void test_csb_enable(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=csb", 0x8086, 0x1101), 0);
    assert_int_equal(nic.txmode, E1000_TX_CSB);
    assert_non_null(nic.csb);
    u64 pa = (u64)(uintptr_t)nic.csb;
    assert_int_equal(pa & 0xfff, 0);
    assert_int_equal(regs[E1000_CSBAH / 4], (u32)(pa >> 32));
    /* edge interrupts asked for by default (csb_irq=edge) */
    assert_int_equal(regs[E1000_CSBAL / 4], (u32)pa | E1000_CSBAL_ENABLE | E1000_CSBAL_EDGE);
    assert_int_equal(nic.csb->guest_tdt, 0);
    assert_int_equal(nic.csb->guest_rdt, E1000_NRX - 1);
    assert_int_equal(nic.csb->guest_need_txintr, 0);
    assert_int_equal(nic.csb->guest_need_rxintr, 1);
}

static void test_classic_one_tdt_per_packet(void **state)
{
    assert_int_equal(probe("pktgen tx", 0x1af4, 0x1100), 0);
    e1000_stats_reset(&nic);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(e1000_tx(&nic, frame, sizeof(frame)), 0);
        assert_int_equal(regs[R_TDT / 4], nic.tx_tail);
        device_tx_all();
    }
    assert_int_equal(nic.tdt_writes, 1000);
    assert_int_equal(nic.reg_writes, 1000);
    assert_int_equal(nic.reg_reads, 0);
    assert_int_equal(e1000_tx_reclaim(&nic), 0);
}

static void test_sc_defers_until_interrupt(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=sc sc_timeout_us=10000000", 0x1af4, 0x1100), 0);
    e1000_stats_reset(&nic);
    /* First packet: no interrupt pending, TDT written, now one is pending. */
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(regs[R_TDT / 4], 1);
    assert_int_equal(nic.tdt_writes, 1);
    /* More packets while pending: only the software tail moves. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(regs[R_TDT / 4], 1);
    assert_int_equal(nic.tx_tail, 11);
    assert_int_equal(nic.tdt_writes, 1);
    assert_int_equal(nic.sc_deferred, 10);
    device_tx_all();
    /* Reclaim without an interrupt: still deferred. */
    assert_int_equal(e1000_tx_reclaim(&nic), 10);
    assert_int_equal(nic.tdt_writes, 1);
    /* The interrupt arrives (the ring-0 stub counts it); the next driver call
     * writes the pending tail once. */
    nic_irqs[0]++;
    assert_int_equal(e1000_tx_reclaim(&nic), 10);
    assert_int_equal(regs[R_TDT / 4], 11);
    assert_int_equal(nic.tdt_writes, 2);
    device_tx_all();
    assert_int_equal(e1000_tx_reclaim(&nic), 0);
    /* Flush (end of burst) writes even though an interrupt is pending. */
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(nic.tdt_writes, 2);
    e1000_tx_flush(&nic);
    assert_int_equal(regs[R_TDT / 4], 12);
    assert_int_equal(nic.tdt_writes, 3);
    assert_int_equal(nic.sc_stalls, 1);
    assert_int_equal(nic.reg_writes, nic.tdt_writes);
}

static void test_sc_full_ring_does_not_stall(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=sc sc_timeout_us=10000000", 0x1af4, 0x1100), 0);
    e1000_stats_reset(&nic);
    int sent = 0;
    while (e1000_tx(&nic, frame, 60) == 0)
        sent++;
    /* Ring full (255 in it), no interrupt ever: the full ring forced a write. */
    assert_int_equal(sent, E1000_NTX - 1);
    assert_int_equal(regs[R_TDT / 4], nic.tx_tail);
    assert_int_equal(nic.tdt_writes, 2);
    assert_int_equal(nic.sc_stalls, 1);
    device_tx_all();
    assert_int_equal(e1000_tx_reclaim(&nic), 0);
}

static void test_sc_timeout(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=sc sc_timeout_us=10000000", 0x1af4, 0x1100), 0);
    assert_int_equal(nic.sc_timeout, 10000000ull * (tsc_hz / 1000000));
    e1000_stats_reset(&nic);
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(nic.tdt_writes, 1);
    nic.sc_timeout = 1000; /* now the bound is short ... */
    u64 t = rdtsc();
    while (rdtsc() - t < 100000) /* ... and has passed */
        ;
    e1000_tx_reclaim(&nic); /* the interrupt was lost: bounded */
    assert_int_equal(nic.tdt_writes, 2);
    assert_int_equal(nic.sc_timeouts, 1);
    assert_int_equal(regs[R_TDT / 4], 2);
}

static void test_sc_without_interrupts_is_classic(void **state)
{
    irq_line = 0xff; /* no interrupt line assigned */
    int rc = probe("pktgen tx txmode=sc sc_timeout_us=10000000", 0x1af4, 0x1100);
    irq_line = 10;
    assert_int_equal(rc, 0);
    assert_false(nic.irqs_on);
    assert_int_equal(regs[R_IMS / 4], 0);
    e1000_stats_reset(&nic);
    for (int i = 0; i < 20; i++)
        assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(nic.tdt_writes, 20);
}

static void test_csb_tx_kicks_only_when_host_sleeps(void **state)
{
    assert_int_equal(probe("pktgen tx txmode=csb", 0x8086, 0x1101), 0);
    struct e1000_csb *c = nic.csb;
    assert_non_null(c);
    c->host_need_txkick = 1; /* set by the device on enable */
    e1000_stats_reset(&nic);
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(c->guest_tdt, 1);
    assert_int_equal(nic.tdt_writes, 1); /* host asleep: kick */
    assert_int_equal(regs[R_TDT / 4], 1);
    c->host_need_txkick = 0; /* host I/O thread woke and polls */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(e1000_tx(&nic, frame, 60), 0);
        device_tx_all();
        e1000_tx_reclaim(&nic);
    }
    assert_int_equal(c->guest_tdt, 101);
    assert_int_equal(nic.tdt_writes, 1); /* no exits while the host is awake */
    assert_int_equal(nic.reg_writes + nic.reg_reads, 1);
    c->host_need_txkick = 2; /* host went to sleep again: a new flag value */
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(nic.tdt_writes, 2);
    assert_int_equal(regs[R_TDT / 4], 102);
    /* Still the same sleep: the first kick already woke it, no second exit. */
    assert_int_equal(e1000_tx(&nic, frame, 60), 0);
    assert_int_equal(nic.tdt_writes, 2);
    assert_int_equal(c->guest_tdt, 103);
}

static void test_csb_rx_give_and_wait(void **state)
{
    assert_int_equal(probe("pktgen rx txmode=csb", 0x8086, 0x1101), 0);
    struct e1000_csb *c = nic.csb;
    c->host_need_rxkick = 0;
    e1000_stats_reset(&nic);
    e1000_rx_give(&nic, 100);
    assert_int_equal(c->guest_rdt, 100);
    assert_int_equal(nic.reg_reads + nic.reg_writes, 0); /* no RDT, no STATUS read */
    c->host_need_rxkick = 1;
    e1000_rx_give(&nic, 200);
    assert_int_equal(regs[R_RDT / 4], 200);
    assert_int_equal(nic.rdt_writes, 1);
    assert_int_equal(nic.reg_reads, 0);
    /* Classic refill for comparison: RDT write plus the STATUS read. */
    assert_int_equal(probe("pktgen rx", 0x1af4, 0x1100), 0);
    e1000_stats_reset(&nic);
    e1000_rx_give(&nic, 5);
    assert_int_equal(nic.reg_writes, 1);
    assert_int_equal(nic.reg_reads, 1);
}

/* The CSB sleeps compare the host's index with the value read before the
 * last look at the ring, not with the guest's own position: the guest reads
 * and reclaims by DD, which the host writes before it publishes its index at
 * the end of a pass. With a lagging host index (5) and the guest at 10, an
 * empty RX ring or a full TX ring must sleep (it used to spin: the stream
 * guests never slept and took the core their host threads needed). */
static void test_csb_sleep_with_lagging_host_index(void **state)
{
    assert_int_equal(probe("pktgen rx txmode=csb ring=256", 0x8086, 0x1101), 0);
    struct e1000_csb *c = nic.csb;
    assert_true(nic.irqs_on);
    nic.rx_next = 10;
    c->host_rdh = 5;
    nic.rx[10].status = 0;
    assert_true(e1000_rx_sleep_arm(&nic));
    assert_int_equal(c->guest_need_rxintr, 1);
    e1000_rx_sleep_end(&nic);
    nic.rx[10].status = DESC_DD; /* a frame at rx_next: no sleep */
    assert_false(e1000_rx_sleep_arm(&nic));
    e1000_rx_sleep_end(&nic);
    /* TX full at tx_clean 10 (tail 9), nothing completed since host_tdh 5 */
    for (u32 i = 0; i < nic.ntx; i++)
        nic.tx[i].status = 0;
    nic.tx_clean = 10;
    nic.tx_tail = nic.tx_hw_tail = 9;
    c->host_tdh = 5;
    int waits = sys_waits;
    e1000_tx_wait(&nic);
    assert_int_equal(sys_waits, waits + 1);
    assert_int_equal(c->guest_need_txintr, 0); /* awake again after the wait */
    nic.tx[10].status = DESC_DD;               /* completed: reclaimed, no sleep */
    e1000_tx_wait(&nic);
    assert_int_equal(sys_waits, waits + 1);
    assert_int_equal(nic.tx_clean, 11);
}

/* Two NICs on one GSI: the second must not steal the first one's route
 * (each vector's stub reads one NIC's ICR), so it runs without interrupts;
 * re-probing the first keeps its route; a NIC on another GSI gets its own. */
static void test_two_nics_shared_gsi(void **state)
{
    static struct e1000 nic1;
    fake_nics = 2;
    assert_int_equal(probe("fwd", 0x1af4, 0x1100), 0);
    assert_true(nic.irqs_on);
    assert_int_equal(route_vector[10], VEC_NIC_FIRST);
    int before = routes;
    assert_int_equal(e1000_probe(&nic1, 1, &cl), 0);
    assert_false(nic1.irqs_on);
    assert_int_equal(routes, before); /* GSI 10 still goes to nic0 */
    assert_int_equal(route_vector[10], VEC_NIC_FIRST);
    assert_int_equal(probe("fwd", 0x1af4, 0x1100), 0); /* nic0 again: its own GSI */
    assert_true(nic.irqs_on);
    fake_pci.irq_line = 11;
    assert_int_equal(e1000_probe(&nic1, 1, &cl), 0);
    assert_true(nic1.irqs_on);
    assert_int_equal(route_vector[11], VEC_NIC_FIRST + 1);
    fake_nics = 1;
    memset(routed_gsi, 0, sizeof(routed_gsi)); /* nic1 is gone for later tests */
}

static void test_set_promisc(void **state)
{
    assert_int_equal(probe("fwd", 0x1af4, 0x1100), 0);
    assert_int_equal(regs[R_RCTL / 4] & (RCTL_UPE | RCTL_MPE), 0);
    e1000_set_promisc(&nic, true);
    assert_int_equal(regs[R_RCTL / 4] & (RCTL_UPE | RCTL_MPE), RCTL_UPE | RCTL_MPE);
    assert_true(regs[R_RCTL / 4] & RCTL_EN);
    e1000_set_promisc(&nic, false);
    assert_int_equal(regs[R_RCTL / 4] & (RCTL_UPE | RCTL_MPE), 0);
    assert_true(regs[R_RCTL / 4] & RCTL_EN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_options),
        cmocka_unit_test(test_csb_fallback_on_qemu),
        cmocka_unit_test(test_csb_enable),
        cmocka_unit_test(test_classic_one_tdt_per_packet),
        cmocka_unit_test(test_sc_defers_until_interrupt),
        cmocka_unit_test(test_sc_full_ring_does_not_stall),
        cmocka_unit_test(test_sc_timeout),
        cmocka_unit_test(test_sc_without_interrupts_is_classic),
        cmocka_unit_test(test_csb_tx_kicks_only_when_host_sleeps),
        cmocka_unit_test(test_csb_rx_give_and_wait),
        cmocka_unit_test(test_csb_sleep_with_lagging_host_index),
        cmocka_unit_test(test_two_nics_shared_gsi),
        cmocka_unit_test(test_set_promisc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
