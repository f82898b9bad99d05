/* Unit tests of the guest virtio-net driver (guest/drivers/virtio_net.c,
 * virtqueue.c, nm_ring_virtio.c) built for the host against a model of the
 * device side: the rings live in fake guest memory (a MAP_32BIT arena, so
 * addresses are "physical"), the transport (virtio_pci.c) is replaced by a
 * small state machine, and the model plays the device: it takes avail
 * entries, follows the descriptor chains, writes used entries, and decides
 * kicks and interrupts with the EVENT_IDX rule. Checked: feature
 * negotiation, batching (one publication per sync, a notify only when the
 * device asked for it), TX completions in any order, RX in the order the
 * device used buffers, buffer swaps (NM_BUF_CHANGED), MRG_RXBUF frames
 * spread over buffers, interrupt suppression while polling and the race-free
 * re-arm before sleeping, bad used entries refused and counted, the
 * per-packet API's batched refill. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "../../guest/kernel/cmdline.c"
#include "../../guest/drivers/virtqueue.c"
#include "../../guest/drivers/virtio_net.c"
#include "../../guest/drivers/nm_ring_virtio.c"

/* ---- fake platform ---- */
u64 tsc_hz = 1000000000ull;
volatile u64 nic_icr_addr[NIC_MAX];
volatile u32 nic_icr[NIC_MAX];
volatile u32 nic_irqs[NIC_MAX];
volatile u64 irq_seq;
struct pci_dev pci_devs[PCI_MAX];
int pci_ndevs;
static int sleeps;

static u8 *arena;
#define ARENA_SIZE (16u << 20)
static size_t arena_used;

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
u16 pci_read16(const struct pci_dev *d, u8 off)
{
    return 0;
}
void pci_write16(const struct pci_dev *d, u8 off, u16 v)
{
}
u32 ioapic_pins(void)
{
    return 24;
}
void ioapic_route(u32 gsi, u8 vector, int trigger, int polarity)
{
}
void delay_us(u64 us)
{
}
void sys_wait(u64 seen)
{
    sleeps++;
}

/* ---- the transport, as a model ---- */
static struct {
    u8 status;
    u64 offered, driver;
    u16 qmax[2];
    bool msix;
    volatile u16 doorbell[2];
    u8 mac[6];
} dev;

int virtio_pci_map(struct virtio_pci *vp, const struct pci_dev *pci)
{
    memset(vp, 0, sizeof(*vp));
    vp->pci = pci;
    vp->isr = 0x1000;
    vp->msix_table =
        dev.msix ? 0x2000 : 0; /* never dereferenced: virtio_msix_enable is the model too */
    return 0;
}
u8 virtio_status(struct virtio_pci *vp)
{
    return dev.status;
}
void virtio_set_status(struct virtio_pci *vp, u8 s)
{
    /* FEATURES_OK sticks only if the driver took nothing we did not offer. */
    if ((s & VIRTIO_S_FEATURES_OK) && (dev.driver & ~dev.offered))
        s &= ~VIRTIO_S_FEATURES_OK;
    dev.status = s;
}
bool virtio_reset(struct virtio_pci *vp)
{
    dev.status = 0;
    return true;
}
u64 virtio_device_features(struct virtio_pci *vp)
{
    return dev.offered;
}
void virtio_driver_features(struct virtio_pci *vp, u64 f)
{
    dev.driver = f;
}
u16 virtio_queue_max(struct virtio_pci *vp, u16 q)
{
    return dev.qmax[q];
}
u16 virtio_queue_setup(struct virtio_pci *vp, u16 q, u16 size, u64 desc, u64 avail, u64 used,
                       u16 vector, u64 *notify)
{
    *notify = (u64)(uintptr_t)&dev.doorbell[q];
    return dev.msix ? vector : VIRTIO_NO_VECTOR;
}
void virtio_config_vector(struct virtio_pci *vp, u16 vector)
{
}
u8 virtio_cfg_read8(struct virtio_pci *vp, u32 off)
{
    return off < 6 ? dev.mac[off] : 0;
}
u16 virtio_cfg_read16(struct virtio_pci *vp, u32 off)
{
    return 1; /* link up */
}
bool virtio_msix_enable(struct virtio_pci *vp, u8 vector)
{
    return dev.msix;
}

/* ---- the device side of the rings ---- */
struct dq {
    u16 seen; /* avail entries taken */
    u16 used; /* used.idx published */
    u64 irqs; /* interrupts the EVENT_IDX rule asked for */
};
static struct dq drx, dtx;

static u16 dev_avail_idx(struct virtq *q)
{
    return q->avail[1];
}
static bool dev_take(struct virtq *q, struct dq *d, u16 *head)
{
    if (d->seen == dev_avail_idx(q))
        return false;
    *head = q->avail[2 + (d->seen & (q->size - 1))];
    d->seen++;
    return true;
}
static void dev_set_avail_event(struct virtq *q, u16 v)
{
    *(volatile u16 *)(q->used + 4 + 8 * (u32)q->size) = v;
}
static void dev_push(struct virtq *q, struct dq *d, u32 id, u32 len)
{
    volatile struct vq_used_elem *e = (void *)(q->used + 4 + 8 * (u32)(d->used & (q->size - 1)));
    e->id = id;
    e->len = len;
    u16 old = d->used++;
    *(volatile u16 *)(q->used + 2) = d->used;
    if (vq_need_event(q->avail[2 + q->size], d->used, old))
        d->irqs++;
}

static struct vnet v;
static struct nm_port port;
static struct cmdline cl;

static void setup_dev(u16 qsize, bool event_idx, bool mrg)
{
    if (!arena)
        arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    assert_true(arena != MAP_FAILED);
    arena_used = 0;
    memset(&dev, 0, sizeof(dev));
    memset(&drx, 0, sizeof(drx));
    memset(&dtx, 0, sizeof(dtx));
    dev.offered = VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS |
                  (event_idx ? VIRTIO_F_EVENT_IDX : 0) | (mrg ? VIRTIO_NET_F_MRG_RXBUF : 0) |
                  (1ull << 0) /* CSUM: offered, not taken */;
    dev.qmax[0] = dev.qmax[1] = qsize;
    dev.msix = true;
    const u8 mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    memcpy(dev.mac, mac, 6);
    memset(pci_devs, 0, sizeof(pci_devs));
    pci_devs[0] = (struct pci_dev){.vendor = 0x1af4, .device = 0x1000, .irq_line = 11};
    pci_ndevs = 1;
    cmdline_parse(&cl, "pktgen tx");
    assert_int_equal(vnet_probe(&v, 0, &cl), 0);
}

static void test_probe(void **state)
{
    setup_dev(256, true, true);
    assert_int_equal(v.features, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS |
                                     VIRTIO_F_EVENT_IDX | VIRTIO_NET_F_MRG_RXBUF);
    assert_true(dev.status & VIRTIO_S_DRIVER_OK);
    assert_int_equal(v.nrx, 128);
    assert_int_equal(v.ntx, 128);
    assert_memory_equal(v.mac, dev.mac, 6);
    assert_int_equal(dev_avail_idx(&v.rxq), 127); /* all pairs but one posted */
    assert_true(v.msix);
    assert_int_equal(v.irq_slot, NIC_MAX - 1);
    /* Queue sizes: the device's maximum caps the 1024 asked for. */
    setup_dev(1024, true, true);
    assert_int_equal(v.nrx, 512);
    /* No VERSION_1: refused (legacy devices are not driven). */
    dev.offered = 0;
    memset(&dev, 0, sizeof(dev));
    dev.qmax[0] = dev.qmax[1] = 256;
    assert_int_equal(vnet_probe(&v, 0, &cl), -1);
    assert_true(dev.status & VIRTIO_S_FAILED);
}

/* Device: consume every avail TX chain, check it, complete in `order`. */
static u32 dev_tx_collect(u16 *heads, u32 max, u8 frames[][64], u32 *lens)
{
    u16 h;
    u32 n = 0;
    while (n < max && dev_take(&v.txq, &dtx, &h)) {
        volatile struct vq_desc *d0 = &v.txq.desc[h];
        assert_int_equal(d0->len, VNET_HDR_LEN);
        assert_true(d0->flags & VRING_DESC_F_NEXT);
        volatile struct vq_desc *d1 = &v.txq.desc[d0->next];
        assert_false(d1->flags & VRING_DESC_F_WRITE);
        const u8 *hdr = (const u8 *)(uintptr_t)d0->addr;
        for (int i = 0; i < VNET_HDR_LEN; i++)
            assert_int_equal(hdr[i], 0); /* no offload asked for */
        lens[n] = d1->len;
        memcpy(frames[n], (const void *)(uintptr_t)d1->addr, d1->len < 64 ? d1->len : 64);
        heads[n++] = h;
    }
    return n;
}

static void fill_tx(u32 n, u32 *seq)
{
    struct nm_ring *r = &port.tx;
    u32 i = r->cur;
    for (u32 k = 0; k < n; k++, i = nm_ring_next(r, i)) {
        memset(r->slot[i].buf, 0, 60);
        memcpy(r->slot[i].buf + 14, seq, 4);
        (*seq)++;
        r->slot[i].len = 60;
    }
    r->head = r->cur = i;
}

static void test_tx_batch_and_kicks(void **state)
{
    setup_dev(256, true, true);
    nm_open_vnet(&port, &v);
    u32 seq = 0;
    /* The device wants a kick at the first new entry (avail_event 0). */
    fill_tx(64, &seq);
    assert_int_equal(vnet_nm_txsync(&port), 0);
    assert_int_equal(dev_avail_idx(&v.txq), 64); /* one publication */
    assert_int_equal(v.txq.kicks, 1);
    /* The device is busy (it does not move avail_event): no more kicks. */
    fill_tx(32, &seq);
    vnet_nm_txsync(&port);
    fill_tx(10, &seq);
    vnet_nm_txsync(&port);
    assert_int_equal(v.txq.kicks, 1);
    assert_int_equal(v.txq.kicks_skipped, 2);
    /* Device drains everything and asks again: the next sync kicks. */
    u16 heads[256];
    u8 frames[256][64];
    u32 lens[256];
    u32 n = dev_tx_collect(heads, 256, frames, lens);
    assert_int_equal(n, 106);
    for (u32 k = 0; k < n; k++) {
        u32 s;
        memcpy(&s, frames[k] + 14, 4);
        assert_int_equal(s, k);
        assert_int_equal(lens[k], 60);
    }
    dev_set_avail_event(&v.txq, dtx.seen);
    fill_tx(1, &seq);
    vnet_nm_txsync(&port);
    assert_int_equal(v.txq.kicks, 2);
    /* Without interrupts asked for, completions do not interrupt. */
    for (u32 k = 0; k < n; k++)
        dev_push(&v.txq, &dtx, heads[k], 0);
    assert_int_equal(dtx.irqs, 0);
    vnet_nm_txsync(&port);
    assert_int_equal(vnet_nm_tx_pending(&port), 1);
}

static void test_tx_out_of_order_wraps(void **state)
{
    setup_dev(64, true, false); /* 32 slots: many wraps */
    nm_open_vnet(&port, &v);
    u32 seq = 0, got = 0;
    srand(7);
    u16 heads[64];
    u8 frames[64][64];
    u32 lens[64];
    for (int round = 0; round < 500; round++) {
        u32 space = nm_ring_space(&port.tx);
        u32 n = space ? 1 + (u32)rand() % space : 0;
        if (n)
            fill_tx(n, &seq);
        vnet_nm_txsync(&port);
        u32 m = dev_tx_collect(heads, 64, frames, lens);
        for (u32 k = 0; k < m; k++) {
            u32 s;
            memcpy(&s, frames[k] + 14, 4);
            assert_int_equal(s, got + k); /* in order on the wire */
        }
        got += m;
        /* Complete in a random order. */
        for (u32 k = m; k > 1; k--) {
            u32 j = (u32)rand() % k;
            u16 t = heads[k - 1];
            heads[k - 1] = heads[j];
            heads[j] = t;
        }
        for (u32 k = 0; k < m; k++)
            dev_push(&v.txq, &dtx, heads[k], 0);
    }
    vnet_nm_txsync(&port);
    assert_int_equal(got, seq);
    assert_int_equal(vnet_nm_tx_pending(&port), 0);
    assert_int_equal(v.bad_used + v.txq.bad_used, 0);
}

/* Device: deliver one frame (len bytes, tagged) into the next avail RX chain. */
static bool dev_rx(u32 len, u8 tag, u16 nbufs, u16 *used_head)
{
    u16 h;
    if (!dev_take(&v.rxq, &drx, &h))
        return false;
    volatile struct vq_desc *d0 = &v.rxq.desc[h];
    assert_int_equal(d0->len, VNET_HDR_LEN);
    assert_true(d0->flags & VRING_DESC_F_WRITE);
    volatile struct vq_desc *d1 = &v.rxq.desc[d0->next];
    assert_true(d1->flags & VRING_DESC_F_WRITE);
    assert_true(d1->len >= len);
    u8 *hdr = (u8 *)(uintptr_t)d0->addr;
    memset(hdr, 0, VNET_HDR_LEN);
    hdr[10] = (u8)nbufs;
    memset((u8 *)(uintptr_t)d1->addr, tag, len);
    if (used_head)
        *used_head = h;
    else
        dev_push(&v.rxq, &drx, h, VNET_HDR_LEN + len);
    return true;
}

static void test_rx_order_and_swap(void **state)
{
    setup_dev(256, true, true);
    nm_open_vnet(&port, &v);
    /* Three buffers taken, used in the order 2, 0, 1. */
    u16 h[3];
    for (int i = 0; i < 3; i++)
        assert_true(dev_rx(100 + i, (u8)(0xa0 + i), 1, &h[i]));
    dev_push(&v.rxq, &drx, h[2], VNET_HDR_LEN + 102);
    dev_push(&v.rxq, &drx, h[0], VNET_HDR_LEN + 100);
    dev_push(&v.rxq, &drx, h[1], VNET_HDR_LEN + 101);
    assert_int_equal(vnet_nm_rxsync(&port), 0);
    struct nm_ring *r = &port.rx;
    assert_int_equal(nm_ring_space(r), 3);
    const u8 want[3] = {0xa2, 0xa0, 0xa1};
    for (u32 k = 0, i = r->cur; k < 3; k++, i = nm_ring_next(r, i)) {
        assert_int_equal(r->slot[i].len, 100 + (want[k] - 0xa0));
        assert_int_equal(r->slot[i].buf[0], want[k]);
        assert_int_equal(r->slot[i].flags, 0);
    }
    /* Swap the first slot's buffer for our own, release all three. */
    static u8 mine[2048] __attribute__((aligned(64)));
    u8 *theirs = r->slot[r->cur].buf;
    r->slot[r->cur].buf = mine;
    r->slot[r->cur].flags |= NM_BUF_CHANGED;
    u16 before = dev_avail_idx(&v.rxq);
    r->head = r->cur = (r->cur + 3) % r->num_slots;
    vnet_nm_rxsync(&port);
    assert_int_equal((u16)(dev_avail_idx(&v.rxq) - before), 3); /* one publication of 3 */
    /* The reposted chain of the swapped slot points at our buffer. */
    bool found = false;
    for (u32 p = 0; p < v.nrx; p++)
        if (v.rxq.desc[2 * p + 1].addr == (u64)(uintptr_t)mine)
            found = true;
        else
            assert_true(v.rxq.desc[2 * p + 1].addr != (u64)(uintptr_t)theirs);
    assert_true(found);
    /* RX refills never kick a device that did not ask (avail_event 0 passed long ago). */
    assert_int_equal(v.rxq.kicks, 1); /* the one at probe */
}

static void test_rx_mergeable_and_bad_used(void **state)
{
    setup_dev(256, true, true);
    nm_open_vnet(&port, &v);
    u16 h;
    assert_true(dev_rx(1000, 1, 2, NULL)); /* first of two buffers */
    assert_true(dev_rx(500, 2, 0, NULL));  /* its continuation */
    assert_true(dev_rx(60, 3, 1, NULL));   /* a whole frame */
    /* A broken device: an odd id, an id out of range, and a head given twice. */
    assert_true(dev_rx(60, 4, 1, &h));
    dev_push(&v.rxq, &drx, 1, 72);
    dev_push(&v.rxq, &drx, 4000, 72);
    dev_push(&v.rxq, &drx, h, 72);
    dev_push(&v.rxq, &drx, h, 72);
    vnet_nm_rxsync(&port);
    struct nm_ring *r = &port.rx;
    assert_int_equal(nm_ring_space(r), 4);
    u32 i = r->cur;
    assert_int_equal(r->slot[i].flags, NM_MOREFRAG);
    i = nm_ring_next(r, i);
    assert_int_equal(r->slot[i].flags, 0);
    assert_int_equal(r->slot[i].len, 500);
    i = nm_ring_next(r, i);
    assert_int_equal(r->slot[i].flags, 0);
    assert_int_equal(r->slot[i].len, 60);
    assert_int_equal(v.bad_used, 3);
    /* used.idx far ahead of what the ring can hold: refused. */
    *(volatile u16 *)(v.rxq.used + 2) = (u16)(drx.used + 1000);
    r->head = r->cur = nm_ring_next(r, i);
    vnet_nm_rxsync(&port);
    assert_true(v.rxq.bad_used > 0);
}

static void test_interrupts_suppressed_then_rearmed(void **state)
{
    setup_dev(256, true, true);
    nm_open_vnet(&port, &v);
    /* Polling: the device's EVENT_IDX test says no interrupt. */
    for (int k = 0; k < 10; k++)
        dev_rx(60, 1, 1, NULL);
    assert_int_equal(drx.irqs, 0);
    vnet_nm_rxsync(&port);
    port.rx.head = port.rx.cur = port.rx.tail;
    vnet_nm_rxsync(&port);
    /* Going to sleep: armed at what was read; the next frame interrupts. */
    assert_true(vnet_rx_sleep_arm(&v));
    dev_rx(60, 2, 1, NULL);
    assert_int_equal(drx.irqs, 1);
    vnet_rx_sleep_end(&v);
    dev_rx(60, 3, 1, NULL);
    assert_int_equal(drx.irqs, 1); /* suppressed again after waking */
    /* A frame that is there before the arm: no sleep. */
    assert_false(vnet_rx_sleep_arm(&v));
    int s = sleeps;
    vnet_rx_wait(&v);
    assert_int_equal(sleeps, s); /* work was there: did not sleep */
    /* Without EVENT_IDX the flags do the same job. */
    setup_dev(256, false, true);
    nm_open_vnet(&port, &v);
    assert_int_equal(v.rxq.avail[0], VRING_AVAIL_F_NO_INTERRUPT);
    assert_true(vnet_rx_sleep_arm(&v));
    assert_int_equal(v.rxq.avail[0], 0);
    vnet_rx_sleep_end(&v);
    assert_int_equal(v.rxq.avail[0], VRING_AVAIL_F_NO_INTERRUPT);
}

static void test_per_packet_refill_batches(void **state)
{
    setup_dev(256, true, true);
    const u8 f[60] = {1, 2, 3};
    /* TX: a frame per call, each published; the first kicks. */
    for (int k = 0; k < 5; k++)
        assert_int_equal(vnet_tx(&v, f, 60), 0);
    assert_int_equal(dev_avail_idx(&v.txq), 5);
    assert_int_equal(v.txq.kicks, 1);
    /* RX: 40 frames there; reading 10 with more waiting gives nothing back. */
    for (int k = 0; k < 40; k++)
        dev_rx(60, (u8)k, 1, NULL);
    u16 posted = dev_avail_idx(&v.rxq);
    const u8 *data;
    u32 len;
    u8 flags;
    for (int k = 0; k < 10; k++) {
        assert_true(vnet_rx_peek(&v, &data, &len, &flags));
        assert_int_equal(data[0], k);
        assert_int_equal(len, 60);
        vnet_rx_advance(&v);
    }
    vnet_rx_refill(&v);
    assert_int_equal(dev_avail_idx(&v.rxq), posted);
    /* A quarter ring (32) read: given back in one publication. */
    for (int k = 10; k < 32; k++) {
        assert_true(vnet_rx_peek(&v, &data, &len, &flags));
        vnet_rx_advance(&v);
    }
    vnet_rx_refill(&v);
    assert_int_equal((u16)(dev_avail_idx(&v.rxq) - posted), 32);
    /* The rest, then the ring runs dry: everything goes back. */
    while (vnet_rx_peek(&v, &data, &len, &flags))
        vnet_rx_advance(&v);
    vnet_rx_refill(&v);
    assert_int_equal((u16)(dev_avail_idx(&v.rxq) - posted), 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_tx_batch_and_kicks),
        cmocka_unit_test(test_tx_out_of_order_wraps),
        cmocka_unit_test(test_rx_order_and_swap),
        cmocka_unit_test(test_rx_mergeable_and_bad_used),
        cmocka_unit_test(test_interrupts_suppressed_then_rearmed),
        cmocka_unit_test(test_per_packet_refill_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
