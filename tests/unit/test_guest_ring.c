/* Unit tests of the guest's netmap-style ring API (guest/drivers/nm_ring.c),
 * built for the host against a fake e1000: the fake keeps the driver's ring
 * indices the way e1000.c does, counts tail updates (commits / RX gives),
 * and plays the device (completes TX descriptors, writes RX frames). Checks:
 * one tail update per sync, netmap head/cur/tail semantics across many
 * wraps, the data path is zero copy (slot buffer == descriptor buffer),
 * buffer swaps (NM_BUF_CHANGED), rejection of out-of-range head/cur, the
 * RX tail never passing the device's tail, and the send-combining "ring
 * would stall" flush. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../guest/drivers/nm_ring.c"

u64 tsc_hz = 1000000000ull;

/* ---- the fake driver ---- */
static struct fake {
    bool defer; /* sc-like: commits do not reach the device */
    u64 commits, flushes, gives;
    u32 last_rdt;
    u32 tdh; /* device TX head */
    u32 rdh; /* device RX head */
    u32 rdt; /* device RX tail (from gives) */
} fk;

void e1000_tx_commit(struct e1000 *nic)
{
    fk.commits++;
    if (!fk.defer)
        nic->tx_hw_tail = nic->tx_tail;
}

void e1000_tx_flush(struct e1000 *nic)
{
    fk.flushes++;
    nic->tx_hw_tail = nic->tx_tail;
}

u32 e1000_tx_reclaim(struct e1000 *nic)
{
    u32 clean = nic->tx_clean;
    while (clean != nic->tx_hw_tail && (nic->tx[clean].status & DESC_DD)) {
        nic->tx[clean].status = 0;
        clean = (clean + 1) % E1000_NTX;
    }
    nic->tx_clean = clean;
    return (nic->tx_tail + E1000_NTX - nic->tx_clean) % E1000_NTX;
}

void e1000_rx_give(struct e1000 *nic, u32 rdt)
{
    fk.gives++;
    fk.last_rdt = rdt;
    fk.rdt = rdt;
}

void e1000_rx_wait(struct e1000 *nic)
{
}

static u32 tx_waits;
void e1000_tx_wait(struct e1000 *nic)
{
    tx_waits++;
}

static u32 wait_any_calls, wait_any_n;
void e1000_rx_wait_any(struct e1000 *const *nics, unsigned n)
{
    (void)nics;
    wait_any_calls++;
    wait_any_n = n;
}

/* The virtio-net half of nm_ring.c (port->vnet) is not exercised here
 * (test_guest_virtio.c covers it): these never run on an e1000 port. */
volatile u64 irq_seq;
void sys_wait(u64 seen)
{
    fail();
}
bool e1000_rx_sleep_arm(struct e1000 *n)
{
    fail();
    return false;
}
void e1000_rx_sleep_end(struct e1000 *n)
{
    fail();
}
int vnet_nm_txsync(struct nm_port *p)
{
    fail();
    return -1;
}
int vnet_nm_rxsync(struct nm_port *p)
{
    fail();
    return -1;
}
u32 vnet_nm_tx_pending(const struct nm_port *p)
{
    fail();
    return 0;
}
u32 vnet_nm_tx_drain(struct nm_port *p, u64 t)
{
    fail();
    return 0;
}
bool vnet_rx_sleep_arm(struct vnet *v)
{
    fail();
    return false;
}
void vnet_rx_sleep_end(struct vnet *v)
{
    fail();
}
void vnet_rx_wait(struct vnet *v)
{
    fail();
}
void vnet_tx_wait(struct vnet *v)
{
    fail();
}

static struct e1000 nic;
static struct nm_port port;
static u8 *txbufs, *rxbufs;

static int setup(void **state)
{
    memset(&fk, 0, sizeof(fk));
    memset(&nic, 0, sizeof(nic));
    nic.ntx = E1000_NTX; /* the default ring size, as probed without ring= */
    nic.nrx = E1000_NRX;
    nic.tx = calloc(E1000_NTX, sizeof(struct e1000_tx_desc));
    nic.rx = calloc(E1000_NRX, sizeof(struct e1000_rx_desc));
    txbufs = calloc(E1000_NTX, E1000_BUF);
    rxbufs = calloc(E1000_NRX, E1000_BUF);
    for (u32 i = 0; i < E1000_NTX; i++)
        nic.tx[i].addr = (u64)(uintptr_t)(txbufs + i * E1000_BUF);
    for (u32 i = 0; i < E1000_NRX; i++)
        nic.rx[i].addr = (u64)(uintptr_t)(rxbufs + i * E1000_BUF);
    nic.txd_cmd = 0x0b;
    fk.rdt = E1000_NRX - 1; /* as probed */
    nm_open(&port, &nic);
    return 0;
}

static int teardown(void **state)
{
    free((void *)nic.tx);
    free((void *)nic.rx);
    free(txbufs);
    free(rxbufs);
    return 0;
}

/* The device transmits everything it was given, checking each frame. */
static u32 dev_tx(u32 *expect_seq)
{
    u32 n = 0;
    while (fk.tdh != nic.tx_hw_tail) {
        volatile struct e1000_tx_desc *d = &nic.tx[fk.tdh];
        u32 seq;
        memcpy(&seq, (const void *)(uintptr_t)(d->addr + 14), 4);
        assert_int_equal(seq, *expect_seq);
        assert_int_equal(d->length, 60 + seq % 100);
        assert_int_equal(d->cmd, 0x0b);
        (*expect_seq)++;
        d->status = DESC_DD;
        fk.tdh = (fk.tdh + 1) % E1000_NTX;
        n++;
    }
    return n;
}

/* The device receives up to n frames into free descriptors [rdh, rdt). */
static u32 dev_rx(u32 n, u32 *seq)
{
    u32 done = 0;
    while (done < n && fk.rdh != fk.rdt) {
        volatile struct e1000_rx_desc *d = &nic.rx[fk.rdh];
        assert_int_equal(d->status, 0); /* given back clean */
        memcpy((void *)(uintptr_t)d->addr, seq, 4);
        d->length = (u16)(64 + *seq % 1000);
        d->errors = 0;
        d->status = DESC_DD | RXD_EOP;
        (*seq)++;
        fk.rdh = (fk.rdh + 1) % E1000_NRX;
        done++;
    }
    return done;
}

static void test_open(void **state)
{
    assert_int_equal(port.tx.num_slots, E1000_NTX);
    assert_int_equal(port.rx.num_slots, E1000_NRX);
    assert_int_equal(nm_ring_space(&port.tx), E1000_NTX - 1); /* one slot kept empty */
    assert_int_equal(nm_ring_space(&port.rx), 0);
    /* zero copy: the slot buffer is the descriptor's DMA buffer */
    for (u32 i = 0; i < E1000_NTX; i++)
        assert_ptr_equal(port.tx.slot[i].buf, (void *)(uintptr_t)nic.tx[i].addr);
    for (u32 i = 0; i < E1000_NRX; i++)
        assert_ptr_equal(port.rx.slot[i].buf, (void *)(uintptr_t)nic.rx[i].addr);
}

static void test_tx_batches_wrap(void **state)
{
    struct nm_ring *r = &port.tx;
    unsigned seed = 7;
    u32 seq = 0, expect = 0, sent = 0;
    for (int round = 0; round < 5000; round++) {
        u32 space = nm_ring_space(r);
        u32 n = (u32)rand_r(&seed) % 80;
        if (n > space)
            n = space;
        u32 cur = r->cur;
        for (u32 k = 0; k < n; k++) {
            struct nm_slot *s = &r->slot[cur];
            memcpy(s->buf + 14, &seq, 4);
            s->len = (u16)(60 + seq % 100);
            seq++;
            cur = nm_ring_next(r, cur);
        }
        r->head = r->cur = cur;
        u64 before = fk.commits;
        assert_int_equal(nm_txsync(&port), 0);
        assert_int_equal(fk.commits - before, n ? 1 : 0); /* one tail update per sync */
        sent += n;
        if (rand_r(&seed) % 3)
            dev_tx(&expect);
        /* tail = one before the oldest unreclaimed descriptor */
        assert_int_equal(r->tail, (nic.tx_clean + E1000_NTX - 1) % E1000_NTX);
    }
    dev_tx(&expect);
    assert_int_equal(nm_tx_drain(&port, 1000), 0);
    assert_int_equal(expect, sent);
    assert_int_equal(nic.tx_pkts, sent);
    assert_true(sent > 10 * E1000_NTX); /* wrapped many times */
    assert_int_equal(nm_ring_space(r), E1000_NTX - 1);
}

static void test_tx_rejects_bad_head(void **state)
{
    struct nm_ring *r = &port.tx;
    r->head = r->cur = E1000_NTX + 3; /* outside the ring */
    assert_int_equal(nm_txsync(&port), -1);
    /* Send 10 (not completed): hwcur 10, tail 255 (nothing reclaimed). */
    for (u32 i = 0; i < 10; i++)
        r->slot[i].len = 60;
    r->head = r->cur = 10;
    assert_int_equal(nm_txsync(&port), 0);
    assert_int_equal(fk.commits, 1);
    assert_int_equal(r->tail, E1000_NTX - 1);
    r->head = r->cur = 5; /* behind the last synced head */
    assert_int_equal(nm_txsync(&port), -1);
    r->head = 10;
    r->cur = 8; /* cur behind head */
    assert_int_equal(nm_txsync(&port), -1);
    r->head = r->cur = 10;
    assert_int_equal(nm_txsync(&port), 0);
    assert_int_equal(fk.commits, 1); /* nothing new: no tail update */
    assert_int_equal(nic.tx_pkts, 10);
}

static void test_tx_buf_changed(void **state)
{
    static u8 other[E1000_BUF];
    struct nm_ring *r = &port.tx;
    u32 i = r->cur;
    r->slot[i].buf = other;
    r->slot[i].flags = NM_BUF_CHANGED;
    u32 seq = 0;
    memcpy(other + 14, &seq, 4);
    r->slot[i].len = 60;
    r->head = r->cur = nm_ring_next(r, i);
    assert_int_equal(nm_txsync(&port), 0);
    assert_ptr_equal((void *)(uintptr_t)nic.tx[i].addr, other);
    assert_int_equal(r->slot[i].flags, 0);
    u32 expect = 0;
    assert_int_equal(dev_tx(&expect), 1);
}

static void test_tx_full_flushes_deferred(void **state)
{
    struct nm_ring *r = &port.tx;
    fk.defer = true; /* sc: TX interrupt pending */
    u32 n = nm_ring_space(r), cur = r->cur, seq = 0;
    for (u32 k = 0; k < n; k++) {
        memcpy(r->slot[cur].buf + 14, &seq, 4);
        r->slot[cur].len = (u16)(60 + seq % 100);
        seq++;
        cur = nm_ring_next(r, cur);
    }
    r->head = r->cur = cur;
    assert_int_equal(nm_txsync(&port), 0);
    /* No room left and the tail was deferred: the sync must hand it over. */
    assert_int_equal(fk.flushes, 1);
    assert_int_equal(nic.tx_hw_tail, nic.tx_tail);
    u32 expect = 0;
    assert_int_equal(dev_tx(&expect), n);
    assert_int_equal(nm_txsync(&port), 0);
    assert_int_equal(nm_ring_space(r), E1000_NTX - 1);
}

/* nm_rx_wait_any: sleeps (once, over all ports) only when every ring is
 * empty after an rxsync; a frame on any port means no sleep. */
static void test_rx_wait_any(void **state)
{
    struct nm_port *const ports[2] = {&port, &port};
    u32 seq = 0;
    wait_any_calls = 0;
    assert_int_equal(nm_rx_wait_any(ports, 2), 0);
    assert_int_equal(wait_any_calls, 1);
    assert_int_equal(wait_any_n, 2);
    assert_int_equal(dev_rx(3, &seq), 3);
    assert_int_equal(nm_rx_wait_any(ports, 2), 0);
    assert_int_equal(wait_any_calls, 1); /* frames there: no sleep */
    assert_int_equal(nm_ring_space(&port.rx), 3);
    port.rx.head = port.rx.cur = port.rx.tail; /* consume them */
    assert_int_equal(nm_rx_wait_any(ports, 1), 0);
    assert_int_equal(wait_any_calls, 2); /* released, empty again: sleeps */
    assert_int_equal(fk.last_rdt, (port.rx.head + E1000_NRX - 1) % E1000_NRX);
    assert_int_equal(nm_rx_wait_any(ports, NIC_MAX + 1), -1);
}

static void test_rx_batches_wrap(void **state)
{
    struct nm_ring *r = &port.rx;
    unsigned seed = 11;
    u32 dev_seq = 0, got = 0;
    for (int round = 0; round < 5000; round++) {
        dev_rx((u32)rand_r(&seed) % 300, &dev_seq);
        u64 gives = fk.gives;
        assert_int_equal(nm_rxsync(&port), 0);
        assert_int_equal(fk.gives - gives, 0); /* nothing released since the last sync */
        /* read some of what is there, in order */
        u32 avail = nm_ring_space(r);
        u32 take = avail ? (u32)rand_r(&seed) % (avail + 1) : 0;
        u32 cur = r->cur;
        for (u32 k = 0; k < take; k++) {
            u32 v;
            memcpy(&v, r->slot[cur].buf, 4);
            assert_int_equal(v, got);
            assert_int_equal(r->slot[cur].len, 64 + got % 1000);
            assert_int_equal(r->slot[cur].flags, 0);
            got++;
            cur = nm_ring_next(r, cur);
        }
        r->head = r->cur = cur;
        gives = fk.gives;
        assert_int_equal(nm_rxsync(&port), 0);
        assert_int_equal(fk.gives - gives, take ? 1 : 0); /* one tail update per sync */
        if (take)
            assert_int_equal(fk.last_rdt, (r->head + E1000_NRX - 1) % E1000_NRX);
        /* the ring's tail never passes the device's tail */
        assert_true((r->tail + E1000_NRX - r->head) % E1000_NRX <= E1000_NRX - 1);
    }
    assert_true(got > 2 * E1000_NRX);
    assert_int_equal(nic.rx_pkts, dev_seq);
}

static void test_rx_full_ring_stops(void **state)
{
    struct nm_ring *r = &port.rx;
    u32 seq = 0;
    assert_int_equal(dev_rx(5000, &seq), E1000_NRX - 1); /* device fills what it owns */
    assert_int_equal(nm_rxsync(&port), 0);
    assert_int_equal(nm_ring_space(r), E1000_NRX - 1);
    assert_int_equal(r->tail, E1000_NRX - 1);
    /* Nothing released: a second sync gives nothing back and finds nothing. */
    assert_int_equal(nm_rxsync(&port), 0);
    assert_int_equal(fk.gives, 0);
    /* Release everything: one give, RDT one before head. */
    r->head = r->cur = r->tail;
    assert_int_equal(nm_rxsync(&port), 0);
    assert_int_equal(fk.gives, 1);
    assert_int_equal(fk.last_rdt, E1000_NRX - 2);
    for (u32 i = 0; i < E1000_NRX - 1; i++)
        assert_int_equal(nic.rx[i].status, 0);
    /* An error frame is flagged, not counted. */
    nic.rx[r->tail].errors = 0x01;
    nic.rx[r->tail].status = DESC_DD | RXD_EOP;
    nic.rx[r->tail].length = 60;
    u64 pkts = nic.rx_pkts;
    assert_int_equal(nm_rxsync(&port), 0);
    assert_int_equal(r->slot[(r->tail + E1000_NRX - 1) % E1000_NRX].flags, NM_RX_ERROR);
    assert_int_equal(nic.rx_pkts, pkts);
    assert_int_equal(nic.rx_errors, 1);
}

static void test_rx_buf_changed(void **state)
{
    static u8 other[E1000_BUF];
    struct nm_ring *r = &port.rx;
    u32 seq = 0;
    dev_rx(1, &seq);
    assert_int_equal(nm_rxsync(&port), 0);
    u32 i = r->cur;
    r->slot[i].buf = other; /* keep the frame, give the NIC another buffer */
    r->slot[i].flags |= NM_BUF_CHANGED;
    r->head = r->cur = nm_ring_next(r, i);
    assert_int_equal(nm_rxsync(&port), 0);
    assert_ptr_equal((void *)(uintptr_t)nic.rx[i].addr, other);
    assert_int_equal(r->slot[i].flags, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_batches_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_rejects_bad_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_buf_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_full_flushes_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_batches_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_wait_any, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_full_ring_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_buf_changed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
