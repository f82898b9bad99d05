/* libFuzzer target: a hostile peer and the switch's readers.
 *
 * Each input builds a fresh switch with three ports, then runs a list of
 * 8-byte records: [op][a][b][c][value u32]. Ops write `value` into the
 * shared parts of the arena (header, MAC table, port records, rings and
 * slots of the ports) as a peer process could, or run the paths that read
 * them: send_batch (learning, lookup, grouping, delivery), txsync, rxsync,
 * recv_batch, poll, attach/detach of another port (header validation,
 * reclaim) and vpio_switch_info. The port records include the RX lease
 * state (reservation index, lease ids, the lease table), so reservation,
 * publication and the expiry of leases read garbage too. Nothing may crash
 * or trip a sanitizer.
 * Lock words only receive 0, a dead pid or our own tid (a live foreign
 * holder just makes every call wait its bounded 50-200 ms: correct, but
 * too slow for fuzzing); the ready word is left alone (same reason: a 2 s
 * wait). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "switch/sw_internal.h"

#define NP 3
static pid_t dead_pid;
static char swname[VPIO_SW_NAME_MAX];

static uint32_t sanitize_lock(uint32_t v)
{
    switch (v % 3) {
    case 0:
        return 0;
    case 1:
        return (uint32_t)dead_pid;
    default:
        return (uint32_t)gettid();
    }
}

static void put32(uint8_t *base, size_t size, uint32_t off, uint32_t v, const size_t *locks,
                  int nlocks, size_t ready)
{
    off = (uint32_t)((off % (size / 4)) * 4);
    for (int i = 0; i < nlocks; i++)
        if (off == locks[i])
            v = sanitize_lock(v);
    if (off == ready)
        return;
    memcpy(base + off, &v, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dead_pid) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        waitpid(p, NULL, 0);
        dead_pid = p;
        snprintf(swname, sizeof swname, "fz%d", (int)getpid());
    }
    struct vpio_port *port[NP];
    char ifname[80];
    for (int i = 0; i < NP; i++) {
        snprintf(ifname, sizeof ifname, "%s:p%d", swname, i);
        if (vpio_port_open(&port[i], ifname, 0) < 0)
            abort();
    }
    struct sw_arena *a = &port[0]->a;
    size_t hdr_locks[1] = {offsetof(struct vpio_sw_hdr, port_lock)};
    size_t port_locks[NP + 1];
    for (int i = 0; i <= NP; i++)
        port_locks[i] =
            (size_t)i * sizeof(struct vpio_sw_port) + offsetof(struct vpio_sw_port, rx_lock);
    static uint8_t frames[64][2100];
    static uint8_t rxbuf[8][VPIO_SW_MAX_FRAME];

    for (size_t off = 0; off + 8 <= size; off += 8) {
        const uint8_t *r = data + off;
        uint32_t v;
        memcpy(&v, r + 4, 4);
        struct vpio_port *p = port[r[1] % NP];
        switch (r[0] % 8) {
        case 0: /* header */
            put32(a->base, sizeof(struct vpio_sw_hdr), (uint32_t)(r[2] | r[3] << 8), v, hdr_locks,
                  1, offsetof(struct vpio_sw_hdr, ready));
            break;
        case 1: /* MAC table */
            put32((uint8_t *)a->mac, VPIO_SW_MAC_ENTRIES * sizeof(struct vpio_sw_mac),
                  (uint32_t)(r[2] | r[3] << 8), v, NULL, 0, SIZE_MAX);
            break;
        case 2: /* port records of our ports and one more */
            put32((uint8_t *)a->ports, (NP + 1) * sizeof(struct vpio_sw_port),
                  (uint32_t)(r[2] | r[3] << 8), v, port_locks, NP + 1, SIZE_MAX);
            break;
        case 3: /* rings (headers and slots) of our ports */
            put32((uint8_t *)sw_ring(a, 0, 0), 2 * NP * sizeof(struct vpio_ring),
                  (uint32_t)(r[2] | r[3] << 8 | (r[1] & 0x3f) << 16), v, NULL, 0, SIZE_MAX);
            break;
        case 4: { /* send a batch */
            unsigned n = r[2] % 64 + 1;
            struct vpio_pkt pk[64];
            struct iovec iov[64][2];
            for (unsigned i = 0; i < n; i++) {
                uint32_t len = (v + i * 131) % 2100;
                uint8_t *f = frames[i];
                memset(f, 0, 14);
                switch ((r[3] + i) % 4) {
                case 0:
                    memset(f, 0xff, 6);
                    break;
                case 1:
                    f[0] = 2;
                    f[5] = (uint8_t)((r[3] >> 2) % (NP + 1));
                    break;
                case 2:
                    f[0] = 1;
                    f[5] = (uint8_t)i;
                    break;
                default:
                    memcpy(f, r + 2, 6);
                    break;
                }
                f[6] = 2;
                f[11] = (uint8_t)vpio_port_id(p);
                if (i & 1) {
                    uint32_t cut = len / 3;
                    iov[i][0] = (struct iovec){f, cut};
                    iov[i][1] = (struct iovec){f + cut, len - cut};
                    pk[i] = (struct vpio_pkt){.iovcnt = 2, .iov = iov[i]};
                } else {
                    pk[i] = (struct vpio_pkt){.data = f, .len = len};
                }
            }
            vpio_port_send_batch(p, pk, n);
            break;
        }
        case 5: { /* receive */
            struct vpio_rxpkt rp[8];
            for (int i = 0; i < 8; i++)
                rp[i] =
                    (struct vpio_rxpkt){.buf = rxbuf[i], .cap = (r[2] & 1) ? 100 : sizeof rxbuf[i]};
            if (r[3] & 1)
                vpio_port_recv_batch(p, rp, 8);
            else
                vpio_port_rxsync(p);
            vpio_port_poll(p, VPIO_POLL_RX | VPIO_POLL_TX, 0);
            break;
        }
        case 6: { /* user-side TX ring use, then txsync */
            struct vpio_ring *t = vpio_port_txring(p);
            uint32_t h = t->head % VPIO_SW_RING_SLOTS;
            for (unsigned i = 0; i < (r[2] & 15u); i++) {
                uint8_t *b = vpio_ring_buf(p, t, h);
                memset(b, 0xff, 6);
                b[6] = 2;
                t->slot[h].len = (uint16_t)(v >> (i & 7));
                t->slot[h].flags = (uint16_t)(r[3] >> (i & 3));
                h = vpio_ring_next(h);
            }
            t->head = t->cur = h;
            vpio_port_txsync(p);
            break;
        }
        default: { /* attach / detach another port, switch info */
            struct vpio_port *x;
            snprintf(ifname, sizeof ifname, "%s:x", swname);
            if (vpio_port_open(&x, ifname, 0) == 0)
                vpio_port_close(x);
            struct vpio_switch_info info;
            vpio_switch_info(swname, &info);
            break;
        }
        }
    }
    for (int i = 0; i < NP; i++)
        vpio_port_close(port[i]);
    vpio_switch_remove(swname, 1);
    return 0;
}
