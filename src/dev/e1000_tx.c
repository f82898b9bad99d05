/* e1000 model: transmit.
 *
 * A TDT write (or TCTL.EN, or the deferred-work hook) walks the ring from
 * TDH to TDT once: each descriptor is copied out of guest memory, checked,
 * and its buffer appended to the frame being assembled; at EOP the frame is
 * finished (checksum offload, TSO split, VLAN tag, padding) and staged in an
 * arena. When the walk ends the staged frames go to the backend as one batch
 * (a batch is flushed early only if the arena, NET_BATCH_MAX or the DD list
 * fills up).
 *
 * The common frame -- one legacy descriptor with EOP, no offload, no VLAN
 * insertion, no padding needed -- is not copied: the batch points at the
 * guest's buffer (checked to lie in guest RAM) and the backend copies it
 * once (the switch: into the destination ring). So DD, which gives the
 * buffer back to the guest, is written for every descriptor of a batch only
 * after the backend has taken the batch. A guest that rewrites a buffer it
 * has handed over changes only its own frame's bytes, never a length or an
 * address the host uses.
 *
 * Bounds: the walk visits at most min(ring size, E1000_TX_DESC_BUDGET)
 * descriptors, copies at most E1000_TX_BYTE_BUDGET bytes from the guest and
 * stages at most that many (plus one frame's TSO output); the rest is
 * left for e1000_timer_expired() (next deadline "now"). A frame is capped at
 * 64 KiB; every TSO segment carries at least one payload byte. */
#include <stdlib.h>
#include <string.h>

#include "dev/e1000_internal.h"

#define E1000_TX_DESC_BUDGET 4096u
#define E1000_TX_BYTE_BUDGET (8u << 20)
#define ETH_ZLEN 60

int e1000_tx_alloc(struct e1000 *dev)
{
    dev->tx_pkt = malloc(E1000_TX_PKT_MAX);
    dev->tx_seg = malloc(E1000_TX_PKT_MAX);
    dev->tx_arena = malloc(E1000_TX_ARENA);
    dev->tx_batch = calloc(NET_BATCH_MAX, sizeof(*dev->tx_batch));
    dev->tx_dd = calloc(E1000_TX_DD_MAX, sizeof(*dev->tx_dd));
    return dev->tx_pkt && dev->tx_seg && dev->tx_arena && dev->tx_batch && dev->tx_dd ? 0 : -1;
}

void e1000_tx_free(struct e1000 *dev)
{
    free(dev->tx_pkt);
    free(dev->tx_seg);
    free(dev->tx_arena);
    free(dev->tx_batch);
    free(dev->tx_dd);
    dev->tx_pkt = dev->tx_seg = dev->tx_arena = NULL;
    dev->tx_batch = NULL;
    dev->tx_dd = NULL;
}

static void frame_clear(struct e1000 *dev)
{
    dev->tx_len = 0;
    dev->tx_in_frame = false;
    dev->tx_frame_bad = false;
    dev->tx_tse = false;
    dev->tx_popts = 0;
    dev->tx_legacy_ic = false;
    dev->tx_vle = false;
}

void e1000_tx_reset(struct e1000 *dev)
{
    frame_clear(dev);
    memset(&dev->ctx, 0, sizeof(dev->ctx));
    dev->tx_arena_used = 0;
    dev->tx_batch_n = 0;
    dev->tx_dd_n = 0;
    dev->tx_pending = false;
}

/* ---- checksums ---- */

uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
    uint64_t s = sum;
    uint32_t i = 0;
    for (; i + 1 < len; i += 2)
        s += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (i < len)
        s += (uint32_t)(p[i] << 8);
    while (s >> 32)
        s = (s & 0xFFFFFFFFu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t e1000_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Sums [css, cse] (cse 0: to the end) and stores the result at cso. */
static void csum_insert(struct e1000 *dev, uint8_t *p, uint32_t len, uint32_t css, uint32_t cse,
                        uint32_t cso, bool udp)
{
    uint32_t end = (cse == 0 || cse >= len) ? len : cse + 1;
    if (css >= end || cso + 2 > len) {
        e1000_guest_error(dev, E1000_GERR_CSUM);
        return;
    }
    uint16_t c = e1000_csum_fold(e1000_csum_add(0, p + css, end - css));
    if (udp && c == 0)
        c = 0xFFFF;
    e1000_put_be16(p + cso, c);
}

/* ---- batching ---- */

static void flush_batch(struct e1000 *dev)
{
    unsigned n = dev->tx_batch_n;
    if (n) {
        unsigned ok = dev->backend ? net_send_batch(dev->backend, dev->tx_batch, n) : n;
        if (ok > n)
            ok = n;
        dev->stats.drops[E1000_DROP_TX_BACKEND] += n - ok;
        dev->stats.tx_batches++;
        dev->tx_batch_n = 0;
        dev->tx_arena_used = 0;
    }
    /* The buffers are the guest's again: DD (release, after the backend's reads). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (unsigned i = 0; i < dev->tx_dd_n; i++)
        *dev->tx_dd[i] |= E1000_TXD_STAT_DD;
    dev->tx_dd_n = 0;
}

/* Counts a frame the batch carries (staged or the guest's own buffer). */
static void tx_count(struct e1000 *dev, const uint8_t *d, uint32_t out)
{
    dev->tx_pass_bytes += out;
    dev->stats.tx_frames++;
    dev->stats.tx_bytes += out;
    e1000_stat_inc(dev, E1000_GPTC);
    e1000_stat_inc(dev, E1000_TPT);
    dev->gotc += out + 4;
    dev->tot += out + 4;
    if (d[0] & 1)
        e1000_stat_inc(dev,
                       (d[0] & d[1] & d[2] & d[3] & d[4] & d[5]) == 0xFF ? E1000_BPTC : E1000_MPTC);
}

/* Stages one finished frame: VLAN tag (VLE with CTRL.VME), short-packet
 * padding (TCTL.PSP), statistics. */
static void emit(struct e1000 *dev, const uint8_t *p, uint32_t len)
{
    bool vlan = dev->tx_vle && (R(dev, E1000_CTRL) & E1000_CTRL_VME) && len >= 12;
    uint32_t out = len + (vlan ? 4 : 0);
    if (out < ETH_ZLEN && (R(dev, E1000_TCTL) & E1000_TCTL_PSP))
        out = ETH_ZLEN;
    if (out > E1000_TX_PKT_MAX + 4) {
        e1000_drop(dev, E1000_DROP_TX_OVERSIZE);
        return;
    }
    if (dev->tx_batch_n == NET_BATCH_MAX || E1000_TX_ARENA - dev->tx_arena_used < out)
        flush_batch(dev);
    uint8_t *d = dev->tx_arena + dev->tx_arena_used;
    if (vlan) {
        memcpy(d, p, 12);
        e1000_put_be16(d + 12, (uint16_t)R(dev, E1000_VET));
        e1000_put_be16(d + 14, dev->tx_vlan);
        memcpy(d + 16, p + 12, len - 12);
    } else {
        memcpy(d, p, len);
    }
    if (out > len + (vlan ? 4u : 0u))
        memset(d + len + (vlan ? 4 : 0), 0, out - len - (vlan ? 4 : 0));
    dev->tx_batch[dev->tx_batch_n++] = (struct vpio_pkt){.data = d, .len = out};
    dev->tx_arena_used += (out + 63) & ~63u;
    if (dev->tx_arena_used > E1000_TX_ARENA)
        dev->tx_arena_used = E1000_TX_ARENA;
    tx_count(dev, d, out);
}

/* The common frame (see the top): one legacy descriptor with EOP, nothing
 * to insert, pad or sum. Batched as the guest's buffer itself; false if it
 * is not such a frame (the copying path takes it). */
static bool tx_direct(struct e1000 *dev, uint64_t addr, uint32_t len, uint8_t cmd)
{
    if (dev->tx_in_frame || !(cmd & E1000_TXD_CMD_EOP) ||
        (cmd & (E1000_TXD_CMD_IC | E1000_TXD_CMD_VLE)) || len < ETH_ZLEN || len > E1000_TX_PKT_MAX)
        return false;
    const uint8_t *p = guest_mem_ptr(dev->mem, addr, len);
    if (!p)
        return false; /* the copying path counts the error */
    if (dev->tx_batch_n == NET_BATCH_MAX)
        flush_batch(dev);
    dev->tx_batch[dev->tx_batch_n++] = (struct vpio_pkt){.data = p, .len = len};
    tx_count(dev, p, len);
    return true;
}

/* ---- TCP segmentation ---- */

static void tso_split(struct e1000 *dev)
{
    const struct e1000_txctx *c = &dev->ctx;
    uint32_t hdr = c->hdr_len, mss = c->mss, len = dev->tx_len;
    bool ipv4 = c->tucmd & E1000_TUCMD_IP, tcp = c->tucmd & E1000_TUCMD_TCP;
    /* CVE-2015-6815: zero header length or MSS must not loop. */
    if (hdr == 0 || mss == 0 || hdr > len || (uint32_t)c->ipcss + (ipv4 ? 20 : 40) > hdr ||
        (uint32_t)c->tucss + (tcp ? 20 : 8) > hdr || (uint32_t)c->tucso + 2 > hdr ||
        (uint32_t)c->ipcso + 2 > hdr) {
        e1000_guest_error(dev, E1000_GERR_TSO);
        e1000_drop(dev, E1000_DROP_TX_BAD);
        return;
    }
    uint32_t payload = len - hdr;
    uint32_t nseg = payload ? (payload + mss - 1) / mss : 1;
    if (nseg > E1000_TSO_MAX_SEGS) {
        e1000_guest_error(dev, E1000_GERR_TSO);
        e1000_drop(dev, E1000_DROP_TX_BAD);
        return;
    }
    const uint8_t *src = dev->tx_pkt;
    uint16_t ip_id = e1000_be16(src + c->ipcss + 4);
    uint32_t seq = e1000_be32(src + c->tucss + 4);
    uint8_t *seg = dev->tx_seg;
    for (uint32_t i = 0, off = 0; i < nseg; i++) {
        uint32_t plen = payload - off < mss ? payload - off : mss;
        uint32_t slen = hdr + plen;
        bool last = i + 1 == nseg;
        memcpy(seg, src, hdr);
        memcpy(seg + hdr, src + hdr + off, plen);
        if (ipv4) {
            e1000_put_be16(seg + c->ipcss + 2, (uint16_t)(slen - c->ipcss));
            e1000_put_be16(seg + c->ipcss + 4, (uint16_t)(ip_id + i));
        } else {
            e1000_put_be16(seg + c->ipcss + 4, (uint16_t)(slen - c->ipcss - 40));
        }
        if (tcp) {
            e1000_put_be32(seg + c->tucss + 4, seq + off);
            if (!last)
                seg[c->tucss + 13] &= (uint8_t)~0x09; /* FIN, PSH only on the last */
        } else {
            e1000_put_be16(seg + c->tucss + 4, (uint16_t)(slen - c->tucss));
        }
        if ((dev->tx_popts & E1000_TXD_POPTS_IXSM) && ipv4) {
            e1000_put_be16(seg + c->ipcso, 0);
            csum_insert(dev, seg, slen, c->ipcss, c->ipcse, c->ipcso, false);
        }
        if (dev->tx_popts & E1000_TXD_POPTS_TXSM) {
            /* The driver seeded the pseudo-header sum without the length. */
            uint32_t ph = e1000_be16(seg + c->tucso) + (slen - c->tucss);
            ph = (ph & 0xFFFF) + (ph >> 16);
            e1000_put_be16(seg + c->tucso, (uint16_t)ph);
            csum_insert(dev, seg, slen, c->tucss, c->tucse, c->tucso, !tcp);
        }
        emit(dev, seg, slen);
        dev->stats.tx_tso_segments++;
        off += plen;
    }
    e1000_stat_inc(dev, E1000_TSCTC);
}

/* ---- frames ---- */

static void frame_end(struct e1000 *dev)
{
    if (dev->tx_frame_bad) {
        /* the reason was counted when the frame went bad */
    } else if (dev->tx_len == 0) {
        e1000_drop(dev, E1000_DROP_TX_EMPTY);
    } else if (dev->tx_frame_ext && dev->tx_tse) {
        tso_split(dev);
    } else {
        uint8_t *p = dev->tx_pkt;
        uint32_t len = dev->tx_len;
        const struct e1000_txctx *c = &dev->ctx;
        if (dev->tx_frame_ext) {
            if (dev->tx_popts & E1000_TXD_POPTS_IXSM)
                csum_insert(dev, p, len, c->ipcss, c->ipcse, c->ipcso, false);
            if (dev->tx_popts & E1000_TXD_POPTS_TXSM)
                csum_insert(dev, p, len, c->tucss, c->tucse, c->tucso,
                            !(c->tucmd & E1000_TUCMD_TCP));
        } else if (dev->tx_legacy_ic) {
            csum_insert(dev, p, len, dev->tx_legacy_css, 0, dev->tx_legacy_cso, false);
        }
        emit(dev, p, len);
    }
    frame_clear(dev);
}

static void frame_bad(struct e1000 *dev, enum e1000_drop why)
{
    if (!dev->tx_frame_bad)
        e1000_drop(dev, why);
    dev->tx_frame_bad = true;
}

static void append(struct e1000 *dev, uint64_t addr, uint32_t len, uint32_t *bytes)
{
    if (dev->tx_frame_bad || len == 0)
        return;
    if (len > E1000_TX_PKT_MAX - dev->tx_len) {
        frame_bad(dev, E1000_DROP_TX_OVERSIZE);
        return;
    }
    const void *src = guest_mem_ptr(dev->mem, addr, len);
    if (!src) {
        e1000_guest_error(dev, E1000_GERR_BUF_DMA);
        frame_bad(dev, E1000_DROP_TX_BAD);
        return;
    }
    memcpy(dev->tx_pkt + dev->tx_len, src, len);
    dev->tx_len += len;
    *bytes += len;
}

/* Handles one descriptor (a private copy); returns its command byte. */
static uint8_t process_desc(struct e1000 *dev, const uint8_t *d, uint32_t *bytes)
{
    uint32_t dw2 = e1000_le32(d + 8);
    uint8_t cmd = (uint8_t)(dw2 >> 24);
    if (!(cmd & E1000_TXD_CMD_DEXT)) { /* legacy */
        if (tx_direct(dev, e1000_le64(d), dw2 & 0xFFFF, cmd)) {
            *bytes += dw2 & 0xFFFF;
            return cmd;
        }
        if (!dev->tx_in_frame) {
            dev->tx_in_frame = true;
            dev->tx_frame_ext = false;
        } else if (dev->tx_frame_ext) { /* CVE-2021-20257 class: mixed kinds */
            e1000_guest_error(dev, E1000_GERR_MIXED_DESC);
            frame_bad(dev, E1000_DROP_TX_BAD);
        }
        append(dev, e1000_le64(d), dw2 & 0xFFFF, bytes);
        if (cmd & E1000_TXD_CMD_IC) {
            dev->tx_legacy_ic = true;
            dev->tx_legacy_cso = d[10];
            dev->tx_legacy_css = d[13];
        }
        if (cmd & E1000_TXD_CMD_EOP) {
            dev->tx_vle = cmd & E1000_TXD_CMD_VLE;
            dev->tx_vlan = e1000_le16(d + 14);
            frame_end(dev);
        }
        return cmd;
    }
    uint32_t dtyp = (dw2 >> 20) & 0xF;
    if (dtyp == E1000_TXD_DTYP_CTX) {
        if (dev->tx_in_frame) { /* a context inside a frame: drop that frame */
            e1000_guest_error(dev, E1000_GERR_MIXED_DESC);
            frame_bad(dev, E1000_DROP_TX_BAD);
            frame_clear(dev);
        }
        struct e1000_txctx *c = &dev->ctx;
        c->ipcss = d[0];
        c->ipcso = d[1];
        c->ipcse = e1000_le16(d + 2);
        c->tucss = d[4];
        c->tucso = d[5];
        c->tucse = e1000_le16(d + 6);
        c->paylen = dw2 & 0xFFFFF;
        c->tucmd = cmd;
        c->hdr_len = d[13];
        c->mss = e1000_le16(d + 14);
        return cmd;
    }
    if (dtyp != E1000_TXD_DTYP_DATA) {
        e1000_guest_error(dev, E1000_GERR_MIXED_DESC);
        if (dev->tx_in_frame)
            frame_bad(dev, E1000_DROP_TX_BAD);
        if (dev->tx_in_frame && (cmd & E1000_TXD_CMD_EOP))
            frame_end(dev);
        return cmd;
    }
    if (!dev->tx_in_frame) {
        dev->tx_in_frame = true;
        dev->tx_frame_ext = true;
        dev->tx_tse = (cmd & E1000_TXD_CMD_TSE) != 0;
        dev->tx_popts = d[13];
    } else if (!dev->tx_frame_ext) {
        e1000_guest_error(dev, E1000_GERR_MIXED_DESC);
        frame_bad(dev, E1000_DROP_TX_BAD);
    }
    append(dev, e1000_le64(d), dw2 & 0xFFFFF, bytes);
    if (cmd & E1000_TXD_CMD_EOP) {
        dev->tx_vle = cmd & E1000_TXD_CMD_VLE;
        dev->tx_vlan = e1000_le16(d + 14);
        frame_end(dev);
    }
    return cmd;
}

void e1000_tx_run(struct e1000 *dev)
{
    dev->tx_pending = false;
    if (dev->csb.enabled)
        e1000_csb_tx_sync(dev); /* the tail comes from guest_tdt */
    if (!(R(dev, E1000_TCTL) & E1000_TCTL_EN))
        return;
    uint32_t n = R(dev, E1000_TDLEN) / E1000_DESC_SIZE;
    uint32_t head = R(dev, E1000_TDH), tail = R(dev, E1000_TDT);
    if (head == tail)
        return;
    if (n == 0) {
        e1000_guest_error(dev, E1000_GERR_RING_LEN);
        return;
    }
    if (head >= n || tail >= n) { /* CVE-2016-1981: the walk would never wrap */
        e1000_guest_error(dev, E1000_GERR_RING_INDEX);
        return;
    }
    uint64_t base = ((uint64_t)R(dev, E1000_TDBAH) << 32) | R(dev, E1000_TDBAL);
    if (base > UINT64_MAX - (uint64_t)n * E1000_DESC_SIZE) { /* the ring would wrap 2^64 */
        e1000_guest_error(dev, E1000_GERR_DESC_DMA);
        return;
    }
    uint32_t cause = 0, bytes = 0, budget = n < E1000_TX_DESC_BUDGET ? n : E1000_TX_DESC_BUDGET;
    dev->tx_pass_bytes = 0; /* bytes staged (after TSO) in this pass */
    dev->depth++;
    while (head != tail) {
        if (budget-- == 0 || bytes >= E1000_TX_BYTE_BUDGET ||
            dev->tx_pass_bytes >= E1000_TX_BYTE_BUDGET) {
            e1000_guest_error(dev, E1000_GERR_WORK_BOUND);
            dev->tx_pending = true;
            break;
        }
        uint64_t gpa = base + (uint64_t)head * E1000_DESC_SIZE;
        uint8_t d[E1000_DESC_SIZE];
        if (guest_mem_read(dev->mem, gpa, d, sizeof(d)) < 0) {
            /* Stop here; TDH stays on the bad descriptor until the guest fixes the ring. */
            e1000_guest_error(dev, E1000_GERR_DESC_DMA);
            break;
        }
        uint8_t cmd = process_desc(dev, d, &bytes);
        dev->stats.tx_descs++;
        if (cmd & (E1000_TXD_CMD_RS | E1000_TXD_CMD_RPS)) {
            uint8_t *st = guest_mem_ptr(dev->mem, gpa + 12, 1);
            if (st) { /* written when the batch has gone (flush_batch) */
                if (dev->tx_dd_n == E1000_TX_DD_MAX)
                    flush_batch(dev);
                dev->tx_dd[dev->tx_dd_n++] = st;
            }
            cause |= e1000_tx_done_event(dev, cmd & E1000_TXD_CMD_IDE);
        }
        head = head + 1 == n ? 0 : head + 1;
    }
    R(dev, E1000_TDH) = head;
    flush_batch(dev);
    if (head == tail)
        cause |= E1000_ICR_TXQE;
    dev->depth--;
    if (dev->csb.enabled)
        e1000_csb_tx_publish(dev); /* host_tdh after the DD write-backs, before the flag read */
    e1000_post_cause(dev, cause);
}
