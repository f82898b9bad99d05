/* Concurrency stress of one VM's threads around one e1000 model, with frames
 * flowing through a real vpio switch:
 *   - a vCPU stand-in: the guest driver (consumes RX, recycles buffers,
 *     sends a little) and, at random, register writes: CTRL.RST (then a new
 *     set-up), the CSB on and off (edge interrupts or not), RCTL.EN off and
 *     on, ITR/RDTR/RADV/IMS/IMC, ICR reads, TDT kicks;
 *   - the VMM's I/O thread (src/devif/io_thread.c) running the model's timers;
 *   - the switch backend's receive thread (net_start_rx -> e1000_rx_arrived);
 *   - the CSB I/O thread (e1000_csb_thread_start);
 *   - a peer port on the same switch sending broadcast frames (some longer
 *     than the guest allows) as fast as it can.
 * Checks: nothing deadlocks (a watchdog aborts on no progress or overtime;
 * every thread is joined), and no frame is lost uncounted: every frame the
 * peer offered is received by the model (rx_frames) or counted as a drop
 * (the model's RX drops, which include the frames the switch dropped
 * because the VM's port ring was full: MPC via the backend's rx_dropped).
 * The run lasts E1000_STRESS_SECONDS (default 4; `make tsan-stress` runs it
 * for 15 under ThreadSanitizer). Guest RAM is touched by the guest
 * stand-in only in the guest_ram_* functions: their races with the model's
 * DMA are the guest's by design (another CPU behind a VM boundary) and are
 * the only ones tests/unit/tsan-stress.supp suppresses. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "test_e1000_harness.h"

#include "dev/e1000_csb_thread.h"
#include "devif/io_thread.h"
#include "vpio/switch.h"

#define S_RAM (8u << 20)
#define S_TX_RING 0x10000u
#define S_RX_RING 0x20000u
#define S_CSB 0x30000u
#define S_TX_BUF 0x100000u
#define S_RX_BUF 0x200000u
#define S_RX_N 256u
#define S_TX_N 64u
#define S_RX_STRIDE 2048u

static const uint8_t VM_MAC[6] = {0x52, 0x54, 0x00, 0x5A, 0x5A, 0x01};

struct stress {
    uint8_t *ram;
    struct guest_mem mem;
    struct e1000 dev;
    struct net_backend *be;
    struct io_thread io;
    struct e1000_csb_waiter csb;
    char sw[48];
    atomic_bool stop_guest, stop_peer;
    atomic_uint_fast64_t progress; /* guest loop turns: the watchdog's pulse */
    atomic_uint_fast64_t irq_sets, irq_pulses;
    /* the guest's own view (vCPU thread only) */
    uint32_t rx_next; /* next RX descriptor the guest looks at */
    uint32_t tx_tail;
    bool csb_on;
    uint64_t seen, resets, csb_toggles, rctl_toggles, reg_writes;
    /* the peer (its thread only until joined) */
    uint64_t offered, accepted, long_offered;
};

static uint64_t mono_s_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xrnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- guest RAM, as the guest CPU touches it ---- */
static __attribute__((noinline)) uint8_t guest_ram_rx_status(struct stress *x, uint32_t i)
{
    return __atomic_load_n(x->ram + S_RX_RING + 16 * i + 12, __ATOMIC_ACQUIRE);
}
static __attribute__((noinline)) void guest_ram_rx_desc(struct stress *x, uint32_t i)
{
    uint8_t *d = x->ram + S_RX_RING + 16 * i;
    uint64_t a = S_RX_BUF + (uint64_t)i * S_RX_STRIDE;
    for (int b = 0; b < 8; b++)
        __atomic_store_n(d + b, (uint8_t)(a >> (8 * b)), __ATOMIC_RELAXED);
    for (int b = 8; b < 16; b++)
        __atomic_store_n(d + b, 0, __ATOMIC_RELAXED);
}
static __attribute__((noinline)) void guest_ram_tx_desc(struct stress *x, uint32_t i, uint32_t len)
{
    uint8_t *d = x->ram + S_TX_RING + 16 * i;
    uint64_t a = S_TX_BUF + (uint64_t)i * 2048;
    for (int b = 0; b < 8; b++)
        __atomic_store_n(d + b, (uint8_t)(a >> (8 * b)), __ATOMIC_RELAXED);
    __atomic_store_n(d + 8, (uint8_t)len, __ATOMIC_RELAXED);
    __atomic_store_n(d + 9, (uint8_t)(len >> 8), __ATOMIC_RELAXED);
    __atomic_store_n(d + 10, 0, __ATOMIC_RELAXED);
    __atomic_store_n(d + 11, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, __ATOMIC_RELAXED);
    for (int b = 12; b < 16; b++)
        __atomic_store_n(d + b, 0, __ATOMIC_RELAXED);
}
static __attribute__((noinline)) void guest_ram_csb(struct stress *x, uint32_t off, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)(x->ram + S_CSB + off), v, __ATOMIC_SEQ_CST);
}

/* ---- the guest driver ---- */
static void guest_setup(struct stress *x, uint64_t r)
{
    e1000_reg_write(&x->dev, E1000_CTRL, E1000_CTRL_RST);
    x->csb_on = false;
    for (uint32_t i = 0; i < S_RX_N; i++)
        guest_ram_rx_desc(x, i);
    for (uint32_t i = 0; i < S_TX_N; i++)
        guest_ram_tx_desc(x, i, 60);
    e1000_reg_write(&x->dev, E1000_RDBAL, S_RX_RING);
    e1000_reg_write(&x->dev, E1000_RDLEN, S_RX_N * 16);
    e1000_reg_write(&x->dev, E1000_RDH, 0);
    e1000_reg_write(&x->dev, E1000_RDT, S_RX_N - 1);
    e1000_reg_write(&x->dev, E1000_TDBAL, S_TX_RING);
    e1000_reg_write(&x->dev, E1000_TDLEN, S_TX_N * 16);
    e1000_reg_write(&x->dev, E1000_TDH, 0);
    e1000_reg_write(&x->dev, E1000_TDT, 0);
    e1000_reg_write(&x->dev, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    e1000_reg_write(&x->dev, E1000_ITR, (uint32_t)(r % 2000));
    e1000_reg_write(&x->dev, E1000_RDTR, (uint32_t)((r >> 12) % 50));
    e1000_reg_write(&x->dev, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXO);
    e1000_reg_write(&x->dev, E1000_RCTL,
                    E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_RDMTS_MASK);
    x->rx_next = 0;
    x->tx_tail = 0;
}

static void guest_csb(struct stress *x, bool on, bool edge)
{
    if (on) {
        guest_ram_csb(x, 0x00, x->tx_tail);                         /* guest_tdt */
        guest_ram_csb(x, 0x04, (x->rx_next + S_RX_N - 1) % S_RX_N); /* guest_rdt */
        guest_ram_csb(x, 0x08, 1);                                  /* need_txintr */
        guest_ram_csb(x, 0x0C, 1);                                  /* need_rxintr */
        e1000_reg_write(&x->dev, E1000_CSBAH, 0);
        e1000_reg_write(&x->dev, E1000_CSBAL,
                        S_CSB | E1000_CSBAL_ENABLE | (edge ? E1000_CSBAL_EDGE : 0));
        x->csb_on = (e1000_reg_read(&x->dev, E1000_CSBAL) & E1000_CSBAL_ENABLE) != 0;
    } else {
        e1000_reg_write(&x->dev, E1000_CSBAL, 0);
        x->csb_on = false;
    }
    x->csb_toggles++;
}

/* Takes what the device delivered and gives the buffers back. */
static void guest_rx(struct stress *x)
{
    unsigned n = 0;
    while (n < S_RX_N && (guest_ram_rx_status(x, x->rx_next) & E1000_RXD_STAT_DD)) {
        guest_ram_rx_desc(x, x->rx_next);
        x->rx_next = (x->rx_next + 1) % S_RX_N;
        x->seen++;
        n++;
    }
    if (!n)
        return;
    uint32_t tail = (x->rx_next + S_RX_N - 1) % S_RX_N;
    if (x->csb_on)
        guest_ram_csb(x, 0x04, tail);
    e1000_reg_write(&x->dev, E1000_RDT, tail); /* with the CSB on: a kick */
}

static void guest_tx(struct stress *x)
{
    uint32_t next = (x->tx_tail + 1) % S_TX_N;
    guest_ram_tx_desc(x, x->tx_tail, 60);
    x->tx_tail = next;
    if (x->csb_on)
        guest_ram_csb(x, 0x00, next);
    e1000_reg_write(&x->dev, E1000_TDT, next);
}

static void *guest_main(void *arg)
{
    struct stress *x = arg;
    uint64_t s = 0x2545F4914F6CDD1Dull;
    guest_setup(x, xrnd(&s));
    while (!atomic_load(&x->stop_guest)) {
        uint64_t r = xrnd(&s);
        guest_rx(x);
        switch (r % 4096) {
        case 0:
            guest_setup(x, r >> 9);
            x->resets++;
            break;
        case 1:
        case 2:
        case 3:
            guest_csb(x, !x->csb_on, (r >> 20) & 1);
            break;
        case 4: /* the receiver off for a moment */
            e1000_reg_write(&x->dev, E1000_RCTL, 0);
            e1000_reg_write(&x->dev, E1000_RCTL,
                            E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
                                E1000_RCTL_RDMTS_MASK);
            x->rctl_toggles++;
            break;
        case 5:
            e1000_reg_write(&x->dev, E1000_ITR, (uint32_t)((r >> 10) % 4000));
            x->reg_writes++;
            break;
        case 6:
            e1000_reg_write(&x->dev, E1000_RDTR, (uint32_t)((r >> 10) % 100));
            e1000_reg_write(&x->dev, E1000_RADV, (uint32_t)((r >> 20) % 200));
            x->reg_writes++;
            break;
        case 7:
            e1000_reg_write(&x->dev, (r >> 20) & 1 ? E1000_IMC : E1000_IMS, (uint32_t)(r >> 21));
            x->reg_writes++;
            break;
        case 8:
        case 9:
        case 10:
        case 11:
        case 12:
        case 13:
        case 14:
        case 15:
            guest_tx(x);
            break;
        default:
            if (r % 8 == 0)
                (void)e1000_reg_read(&x->dev, E1000_ICR); /* the interrupt handler */
            if (r % 64 == 1)
                sched_yield();
            break;
        }
        atomic_fetch_add(&x->progress, 1);
    }
    return NULL;
}

/* ---- the peer: a port on the switch that sends broadcast frames ---- */
struct peer {
    struct stress *x;
    struct vpio_port *port;
};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    struct stress *x = p->x;
    static uint8_t frames[32][1600];
    struct vpio_pkt pk[32];
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 32; i++) {
        memset(frames[i], 0xFF, 6);
        memcpy(frames[i] + 6, "\x52\x54\x00\x77\x77\x01", 6);
        frames[i][12] = 0x88;
        frames[i][13] = 0xB5;
    }
    while (!atomic_load(&x->stop_peer)) {
        unsigned n = 1 + xrnd(&s) % 32;
        for (unsigned i = 0; i < n; i++) {
            uint64_t r = xrnd(&s);
            /* 1 in 64 longer than the guest allows (1519 bytes: dropped, ROC) */
            uint32_t len = r % 64 == 0 ? 1519 : 60 + (uint32_t)((r >> 8) % 1455);
            pk[i] = (struct vpio_pkt){.data = frames[i], .len = len};
            x->long_offered += len > 1518;
        }
        unsigned ok = vpio_port_send_batch(p->port, pk, n);
        x->offered += n;
        x->accepted += ok;
        /* what the VM transmits comes here: read it so it does not pile up */
        static uint8_t sink[2048];
        struct vpio_rxpkt rx[16];
        for (int i = 0; i < 16; i++)
            rx[i] = (struct vpio_rxpkt){.buf = sink, .cap = sizeof(sink)};
        vpio_port_recv_batch(p->port, rx, 16);
        if (xrnd(&s) % 4 == 0)
            usleep(50);
    }
    return NULL;
}

/* ---- the watchdog ---- */
struct watchdog {
    struct stress *x;
    atomic_bool done;
    double limit_s;
};

static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    uint64_t start = mono_s_ns(), last = 0, last_change = start;
    while (!atomic_load(&w->done)) {
        usleep(100000);
        uint64_t now = mono_s_ns(), p = atomic_load(&w->x->progress);
        if (p != last) {
            last = p;
            last_change = now;
        }
        if (now - last_change > 20000000000ull) {
            fprintf(stderr, "stress watchdog: the guest thread made no progress for 20 s\n");
            abort();
        }
        if ((double)(now - start) / 1e9 > w->limit_s) {
            fprintf(stderr, "stress watchdog: still running after %.0f s\n", w->limit_s);
            abort();
        }
    }
    return NULL;
}

/* ---- glue ---- */
static uint64_t arrived(void *opaque)
{
    return e1000_rx_arrived(opaque);
}
static uint64_t nic_deadline(void *opaque)
{
    return e1000_next_deadline_ns(opaque);
}
static void nic_timer(void *opaque, uint64_t now)
{
    e1000_timer_expired(opaque, now);
}
static void deadline_changed(void *opaque, uint64_t dl)
{
    io_thread_notify(opaque, dl);
}
static void irq_set(void *opaque, unsigned gsi, int level)
{
    (void)gsi, (void)level;
    atomic_fetch_add(&((struct stress *)opaque)->irq_sets, 1);
}
static void stress_irq_pulse(void *opaque, unsigned gsi)
{
    (void)gsi;
    atomic_fetch_add(&((struct stress *)opaque)->irq_pulses, 1);
}

static double stress_seconds(void)
{
    const char *e = getenv("E1000_STRESS_SECONDS");
    double s = e ? atof(e) : 4.0;
    return s > 0 && s < 3600 ? s : 4.0;
}

static uint64_t rx_drops(const struct e1000_stats *s)
{
    return s->drops[E1000_DROP_RX_NO_DESC] + s->drops[E1000_DROP_RX_OVERSIZE] +
           s->drops[E1000_DROP_RX_FILTER] + s->drops[E1000_DROP_RX_DISABLED] +
           s->drops[E1000_DROP_RX_DMA];
}

static void test_vm_threads_under_chaos(void **state)
{
    (void)state;
    static struct stress x;
    memset(&x, 0, sizeof(x));
    x.ram = calloc(1, S_RAM);
    assert_non_null(x.ram);
    x.mem = (struct guest_mem){x.ram, S_RAM};
    snprintf(x.sw, sizeof(x.sw), "tstress%d", (int)getpid());
    char vm_port[80], peer_port[80], err[256] = "";
    snprintf(vm_port, sizeof(vm_port), "%s:vm", x.sw);
    snprintf(peer_port, sizeof(peer_port), "%s:peer", x.sw);

    assert_int_equal(io_thread_init(&x.io), 0);
    struct e1000_config cfg = {.mitigation = true,
                               .rx_backlog_max = 64,
                               .csb = true,
                               .deadline_changed = deadline_changed,
                               .deadline_opaque = &x.io};
    memcpy(cfg.mac, VM_MAC, 6);
    struct irq_line irq = {.set_level = irq_set,
                           .opaque = &x,
                           .gsi = 11,
                           .pulse = stress_irq_pulse,
                           .pulse_opaque = &x};
    x.be = net_backend_open(vm_port, err, sizeof(err));
    if (!x.be)
        fail_msg("%s", err);
    assert_int_equal(e1000_init(&x.dev, &cfg, &x.mem, irq, x.be), 0);
    struct io_source src = {
        .fd = -1, .next_deadline = nic_deadline, .on_deadline = nic_timer, .opaque = &x.dev};
    assert_int_equal(io_thread_add(&x.io, &src), 0);
    struct peer peer = {.x = &x};
    assert_int_equal(vpio_port_open(&peer.port, peer_port, 0), 0);
    for (uint32_t i = 0; i < S_TX_N; i++) { /* the guest's TX frames: to the peer */
        uint8_t *p = x.ram + S_TX_BUF + i * 2048;
        memset(p, 0xFF, 6);
        memcpy(p + 6, VM_MAC, 6);
        p[12] = 0x88;
        p[13] = 0xB6;
    }

    double secs = stress_seconds();
    struct watchdog wd = {.x = &x, .limit_s = secs * 10 + 60};
    pthread_t t_wd, t_guest, t_peer;
    assert_int_equal(pthread_create(&t_wd, NULL, watchdog_main, &wd), 0);
    assert_int_equal(e1000_csb_waiter_init(&x.csb, 20), 0);
    assert_int_equal(e1000_csb_thread_start(&x.csb, &x.dev), 0);
    assert_int_equal(io_thread_start(&x.io), 0);
    assert_int_equal(net_start_rx(x.be, arrived, &x.dev), 0);
    assert_int_equal(pthread_create(&t_guest, NULL, guest_main, &x), 0);
    assert_int_equal(pthread_create(&t_peer, NULL, peer_main, &peer), 0);

    uint64_t end = mono_s_ns() + (uint64_t)(secs * 1e9);
    while (mono_s_ns() < end)
        usleep(20000);

    /* Stop the chaos, then let the model take in what is still queued. */
    atomic_store(&x.stop_peer, true);
    pthread_join(t_peer, NULL);
    atomic_store(&x.stop_guest, true);
    pthread_join(t_guest, NULL);
    net_stop_rx(x.be);
    e1000_csb_thread_stop(&x.csb);
    io_thread_stop(&x.io);
    guest_setup(&x, 0); /* a clean ring, no CSB, no moderation delays */
    e1000_reg_write(&x.dev, E1000_RDTR, 0);
    for (int round = 0; round < 100000; round++) {
        e1000_rx_poll(&x.dev);
        guest_rx(&x);
        if (!net_rx_pending(x.be) && x.dev.backlog_n == 0 && round > 2)
            break;
    }
    e1000_rx_poll(&x.dev); /* the last look at the switch's drop count */
    atomic_store(&wd.done, true);
    pthread_join(t_wd, NULL);

    struct e1000_stats s;
    e1000_get_stats(&x.dev, &s);
    struct vpio_port_stats vs;
    assert_int_equal(vpio_port_stats(peer.port, &vs), 0);
    printf("stress: %.1f s: offered %llu (accepted by the switch %llu, %llu too long), "
           "received %llu, drops no_desc %llu oversize %llu disabled %llu filter %llu dma %llu; "
           "guest turns %llu, resets %llu, csb toggles %llu (enables %llu), rctl toggles %llu, "
           "irq sets %llu, pulses %llu, csb thread sleeps %llu, tx frames %llu\n",
           secs, (unsigned long long)x.offered, (unsigned long long)x.accepted,
           (unsigned long long)x.long_offered, (unsigned long long)s.rx_frames,
           (unsigned long long)s.drops[E1000_DROP_RX_NO_DESC],
           (unsigned long long)s.drops[E1000_DROP_RX_OVERSIZE],
           (unsigned long long)s.drops[E1000_DROP_RX_DISABLED],
           (unsigned long long)s.drops[E1000_DROP_RX_FILTER],
           (unsigned long long)s.drops[E1000_DROP_RX_DMA],
           (unsigned long long)atomic_load(&x.progress), (unsigned long long)x.resets,
           (unsigned long long)x.csb_toggles, (unsigned long long)s.csb_enables,
           (unsigned long long)x.rctl_toggles, (unsigned long long)atomic_load(&x.irq_sets),
           (unsigned long long)atomic_load(&x.irq_pulses),
           (unsigned long long)atomic_load(&x.csb.sleeps), (unsigned long long)s.tx_frames);

    /* Nothing is left in flight, and every offered frame is accounted for. */
    assert_int_equal(net_rx_pending(x.be), 0);
    assert_int_equal(x.dev.backlog_n, 0);
    assert_int_equal(x.offered, s.rx_frames + rx_drops(&s));
    assert_true(x.long_offered == 0 || s.drops[E1000_DROP_RX_OVERSIZE] > 0);
    assert_true(x.seen <= s.rx_frames);
    /* the chaos really happened */
    assert_true(x.offered > 1000);
    assert_true(s.rx_frames > 100);
    assert_true(x.resets > 0 || atomic_load(&x.progress) < 5000);
    assert_true(s.csb_enables > 0);
    assert_true(atomic_load(&x.irq_pulses) > 0); /* edge mode was on at times */

    vpio_port_close(peer.port);
    e1000_destroy(&x.dev);
    net_backend_close(x.be);
    vpio_switch_remove(x.sw, 1);
    e1000_csb_waiter_destroy(&x.csb);
    free(x.ram);
    (void)vs;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_threads_under_chaos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
