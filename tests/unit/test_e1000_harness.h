/* Test harness for the e1000 model: a fake guest RAM (malloc'd), a fake INTx
 * line that records its level and edges, a fake clock, and a capturing
 * backend whose receive queue the test fills. Included by tests/unit/test_e1000*.c. */
#ifndef TEST_E1000_HARNESS_H
#define TEST_E1000_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dev/e1000.h"
#include "dev/e1000_internal.h"

#define RAM_SIZE (64u << 20) /* room for 2048 RX buffers at RX_BUF_STRIDE */
#define TX_RING 0x10000u
#define RX_RING 0x20000u
#define TX_BUF 0x100000u
#define RX_BUF 0x400000u
#define RX_BUF_STRIDE 0x4000u
#define MAX_CAP 4096
#define MAX_INJ 8192 /* more than E1000_RX_POLL_BUDGET */

static const uint8_t TEST_MAC[6] = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01};

struct cap_frame {
    uint32_t len;
    uint8_t *data;
};

struct fake_be {
    struct net_backend be;
    struct cap_frame cap[MAX_CAP];
    unsigned ncap, batches, last_batch, accept_limit; /* accept_limit 0 = all */
    struct cap_frame inj[MAX_INJ];
    unsigned inj_head, inj_n;
    struct h *h;
    void (*on_send)(struct fake_be *fb); /* hook for re-entry tests */
};

struct h {
    uint8_t *ram;
    struct guest_mem mem;
    struct e1000 dev;
    struct fake_be fb;
    uint64_t now;
    int level, edges;
};

static __attribute__((unused)) unsigned fb_send(struct net_backend *be, const struct vpio_pkt *f,
                                                unsigned n)
{
    struct fake_be *fb = (struct fake_be *)be;
    fb->batches++;
    fb->last_batch = n;
    if (fb->on_send)
        fb->on_send(fb);
    unsigned ok = n;
    if (fb->accept_limit && ok > fb->accept_limit)
        ok = fb->accept_limit;
    for (unsigned i = 0; i < ok && fb->ncap < MAX_CAP; i++) {
        fb->cap[fb->ncap].len = f[i].len;
        fb->cap[fb->ncap].data = malloc(f[i].len ? f[i].len : 1);
        memcpy(fb->cap[fb->ncap].data, f[i].data, f[i].len);
        fb->ncap++;
    }
    return ok;
}

static __attribute__((unused)) ssize_t fb_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct fake_be *fb = (struct fake_be *)be;
    while (fb->inj_n) {
        struct cap_frame *c = &fb->inj[fb->inj_head];
        fb->inj_head = (fb->inj_head + 1) % MAX_INJ;
        fb->inj_n--;
        ssize_t len = c->len;
        if ((size_t)len > cap) { /* backend.h: dropped, counted, the next one tried */
            be->stats.rx_drops++;
            free(c->data);
            continue;
        }
        memcpy(buf, c->data, (size_t)len);
        free(c->data);
        return len;
    }
    return 0;
}

static __attribute__((unused)) void fb_close(struct net_backend *be)
{
    (void)be;
}

static const struct net_backend_ops fb_ops = {
    .kind = "fake", .send_batch = fb_send, .recv = fb_recv, .poll_fd = NULL, .close = fb_close};

static __attribute__((unused)) uint64_t h_clock(void *o)
{
    return ((struct h *)o)->now;
}

static __attribute__((unused)) void h_irq(void *o, unsigned gsi, int level)
{
    (void)gsi;
    struct h *h = o;
    if (level && !h->level)
        h->edges++;
    h->level = level;
}

static __attribute__((unused)) struct h *h_new_cfg(bool mitigation, unsigned backlog)
{
    struct h *h = calloc(1, sizeof(*h));
    h->ram = calloc(1, RAM_SIZE);
    h->mem = (struct guest_mem){h->ram, RAM_SIZE};
    h->fb.be.ops = &fb_ops;
    h->fb.h = h;
    h->now = 1000000;
    struct e1000_config cfg = {
        .mitigation = mitigation, .rx_backlog_max = backlog, .clock = h_clock, .clock_opaque = h};
    memcpy(cfg.mac, TEST_MAC, 6);
    struct irq_line irq = {.set_level = h_irq, .opaque = h, .gsi = 11};
    assert_int_equal(e1000_init(&h->dev, &cfg, &h->mem, irq, &h->fb.be), 0);
    return h;
}

static __attribute__((unused)) struct h *h_new(bool mitigation)
{
    return h_new_cfg(mitigation, 0);
}

static __attribute__((unused)) void h_free(struct h *h)
{
    e1000_destroy(&h->dev);
    for (unsigned i = 0; i < h->fb.ncap; i++)
        free(h->fb.cap[i].data);
    while (h->fb.inj_n) {
        free(h->fb.inj[h->fb.inj_head].data);
        h->fb.inj_head = (h->fb.inj_head + 1) % MAX_INJ;
        h->fb.inj_n--;
    }
    free(h->ram);
    free(h);
}

static __attribute__((unused)) void wr(struct h *h, uint32_t off, uint32_t v)
{
    e1000_reg_write(&h->dev, off, v);
}

static __attribute__((unused)) uint32_t rd(struct h *h, uint32_t off)
{
    return e1000_reg_read(&h->dev, off);
}

static __attribute__((unused)) struct e1000_stats st(struct h *h)
{
    struct e1000_stats s;
    e1000_get_stats(&h->dev, &s);
    return s;
}

static __attribute__((unused)) void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- TX ---- */
static __attribute__((unused)) void tx_setup(struct h *h, uint32_t n)
{
    wr(h, E1000_TDBAL, TX_RING);
    wr(h, E1000_TDBAH, 0);
    wr(h, E1000_TDLEN, n * 16);
    wr(h, E1000_TDH, 0);
    wr(h, E1000_TDT, 0);
    wr(h, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static __attribute__((unused)) uint8_t *txd(struct h *h, uint32_t i)
{
    return h->ram + TX_RING + 16 * i;
}

static __attribute__((unused)) void tx_legacy(struct h *h, uint32_t i, uint64_t addr, uint16_t len,
                                              uint8_t cmd)
{
    uint8_t *d = txd(h, i);
    memset(d, 0, 16);
    put_le64(d, addr);
    d[8] = (uint8_t)len;
    d[9] = (uint8_t)(len >> 8);
    d[11] = cmd;
}

static __attribute__((unused)) void tx_data(struct h *h, uint32_t i, uint64_t addr, uint32_t len,
                                            uint8_t dcmd, uint8_t popts)
{
    uint8_t *d = txd(h, i);
    memset(d, 0, 16);
    put_le64(d, addr);
    uint32_t dw2 = (len & 0xFFFFF) | (1u << 20) | ((uint32_t)(dcmd | E1000_TXD_CMD_DEXT) << 24);
    memcpy(d + 8, &dw2, 4);
    d[13] = popts;
}

static __attribute__((unused)) void tx_ctx(struct h *h, uint32_t i, uint8_t ipcss, uint8_t ipcso,
                                           uint16_t ipcse, uint8_t tucss, uint8_t tucso,
                                           uint16_t tucse, uint32_t paylen, uint8_t tucmd,
                                           uint8_t hdr_len, uint16_t mss)
{
    uint8_t *d = txd(h, i);
    memset(d, 0, 16);
    d[0] = ipcss;
    d[1] = ipcso;
    d[2] = (uint8_t)ipcse;
    d[3] = (uint8_t)(ipcse >> 8);
    d[4] = tucss;
    d[5] = tucso;
    d[6] = (uint8_t)tucse;
    d[7] = (uint8_t)(tucse >> 8);
    uint32_t dw2 = (paylen & 0xFFFFF) | ((uint32_t)(tucmd | E1000_TXD_CMD_DEXT) << 24);
    memcpy(d + 8, &dw2, 4);
    d[13] = hdr_len;
    d[14] = (uint8_t)mss;
    d[15] = (uint8_t)(mss >> 8);
}

/* A frame of len bytes: to dst, from TEST_MAC, ethertype 0x88B5, pattern seeded by seed. */
static __attribute__((unused)) void make_frame(uint8_t *p, uint32_t len, const uint8_t *dst,
                                               uint8_t seed)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, TEST_MAC, 6);
    p[12] = 0x88;
    p[13] = 0xB5;
    for (uint32_t i = 14; i < len; i++)
        p[i] = (uint8_t)(seed + i);
}

/* ---- RX ---- */
static __attribute__((unused)) void rx_setup(struct h *h, uint32_t n, uint32_t rctl_extra)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *d = h->ram + RX_RING + 16 * i;
        memset(d, 0, 16);
        put_le64(d, RX_BUF + (uint64_t)i * RX_BUF_STRIDE);
    }
    wr(h, E1000_RDBAL, RX_RING);
    wr(h, E1000_RDBAH, 0);
    wr(h, E1000_RDLEN, n * 16);
    wr(h, E1000_RDH, 0);
    wr(h, E1000_RDT, n - 1);
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | rctl_extra);
}

static __attribute__((unused)) uint8_t *rxd(struct h *h, uint32_t i)
{
    return h->ram + RX_RING + 16 * i;
}

static __attribute__((unused)) void inject(struct h *h, const uint8_t *p, uint32_t len)
{
    struct fake_be *fb = &h->fb;
    assert_true(fb->inj_n < MAX_INJ);
    unsigned slot = (fb->inj_head + fb->inj_n) % MAX_INJ;
    fb->inj[slot].len = len;
    fb->inj[slot].data = malloc(len ? len : 1);
    memcpy(fb->inj[slot].data, p, len);
    fb->inj_n++;
}

static const uint8_t BCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* Internet checksum over a buffer, folded (0 when the embedded sum is right). */
static __attribute__((unused)) uint16_t csum_check(const uint8_t *p, uint32_t len, uint32_t seed)
{
    return e1000_csum_fold(e1000_csum_add(seed, p, len));
}

#endif
