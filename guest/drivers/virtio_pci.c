/* Modern virtio-PCI transport (see virtio_pci.h). Offsets of the common
 * configuration structure: virtio 1.0, 4.1.4.3. */
#include "virtio_pci.h"
#include "io.h"

enum {
    CC_DFSELECT = 0x00,
    CC_DF = 0x04,
    CC_GFSELECT = 0x08,
    CC_GF = 0x0c,
    CC_MSIX = 0x10,
    CC_NUMQ = 0x12,
    CC_STATUS = 0x14,
    CC_CFGGEN = 0x15,
    CC_Q_SELECT = 0x16,
    CC_Q_SIZE = 0x18,
    CC_Q_MSIX = 0x1a,
    CC_Q_ENABLE = 0x1c,
    CC_Q_NOFF = 0x1e,
    CC_Q_DESC = 0x20,
    CC_Q_AVAIL = 0x28,
    CC_Q_USED = 0x30,
};
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11
#define BAR_LIMIT (4ull << 30) /* only the 3-4 GiB hole is mapped uncached */

static u8 cfg8(const struct pci_dev *d, u8 off)
{
    return (u8)(pci_read32(d, off & ~3) >> (8 * (off & 3)));
}

static u8 r8(struct virtio_pci *vp, u64 a)
{
    vp->reg_reads++;
    return *(volatile u8 *)a;
}
static u16 r16(struct virtio_pci *vp, u64 a)
{
    vp->reg_reads++;
    return *(volatile u16 *)a;
}
static u32 r32(struct virtio_pci *vp, u64 a)
{
    vp->reg_reads++;
    return *(volatile u32 *)a;
}
static void w8(struct virtio_pci *vp, u64 a, u8 v)
{
    vp->reg_writes++;
    *(volatile u8 *)a = v;
}
static void w16(struct virtio_pci *vp, u64 a, u16 v)
{
    vp->reg_writes++;
    *(volatile u16 *)a = v;
}
static void w32(struct virtio_pci *vp, u64 a, u32 v)
{
    vp->reg_writes++;
    *(volatile u32 *)a = v;
}
static void w64(struct virtio_pci *vp, u64 a, u64 v)
{
    w32(vp, a, (u32)v); /* the spec allows two 32-bit halves, low first */
    w32(vp, a + 4, (u32)(v >> 32));
}

bool virtio_pci_parse_cap(const u8 *cap, u8 len, u8 *type, u8 *bar, u32 *off, u32 *length)
{
    if (len < 16 || cap[0] != PCI_CAP_VENDOR || cap[2] < 16)
        return false;
    *type = cap[3];
    *bar = cap[4];
    *off = cap[8] | cap[9] << 8 | cap[10] << 16 | (u32)cap[11] << 24;
    *length = cap[12] | cap[13] << 8 | cap[14] << 16 | (u32)cap[15] << 24;
    return *bar < 6;
}

/* A region inside a memory BAR, below 4 GiB; 0 if not usable. */
static u64 region(const struct pci_dev *d, u8 bar, u32 off, u32 len)
{
    u64 base = pci_bar_addr(d, bar);
    if (!base || base + off + (u64)len > BAR_LIMIT || base + off < base)
        return 0;
    return base + off;
}

int virtio_pci_map(struct virtio_pci *vp, const struct pci_dev *d)
{
    memset(vp, 0, sizeof(*vp));
    vp->pci = d;
    if (!(pci_read16(d, 0x06) & 0x10)) { /* status: capabilities list */
        printf("virtio: %02x:%02x.%x has no capability list (legacy-only device)\n", d->bus,
               d->slot, d->fn);
        return -1;
    }
    u8 at = cfg8(d, 0x34) & 0xfc;
    /* A walk of at most 48 capabilities: a looping list ends it. */
    for (int n = 0; at >= 0x40 && n < 48; n++) {
        u8 cap[20];
        for (int i = 0; i < 20; i++)
            cap[i] = at + i < 256 ? cfg8(d, (u8)(at + i)) : 0;
        if (cap[0] == PCI_CAP_MSIX) {
            u16 ctrl = cap[2] | cap[3] << 8;
            u32 tbl = cap[4] | cap[5] << 8 | cap[6] << 16 | (u32)cap[7] << 24;
            u16 entries = (ctrl & 0x7ff) + 1;
            u64 a = region(d, tbl & 7, tbl & ~7u, 16u * entries);
            if (a) {
                vp->msix_table = a;
                vp->msix_entries = entries;
                vp->msix_cap = at;
            }
        }
        u8 type, bar;
        u32 off, len;
        if (virtio_pci_parse_cap(cap, sizeof(cap), &type, &bar, &off, &len)) {
            u64 a = region(d, bar, off, len);
            /* The first capability of each type is the preferred one. */
            if (type == CAP_COMMON && !vp->common && len >= 0x38)
                vp->common = a;
            else if (type == CAP_NOTIFY && !vp->notify && cap[2] >= 20 && len >= 2) {
                vp->notify = a;
                vp->notify_mult = cap[16] | cap[17] << 8 | cap[18] << 16 | (u32)cap[19] << 24;
            } else if (type == CAP_ISR && !vp->isr && len >= 1)
                vp->isr = a;
            else if (type == CAP_DEVICE && !vp->device) {
                vp->device = a;
                vp->device_len = len;
            }
        }
        at = cap[1] & 0xfc;
    }
    if (!vp->common || !vp->notify || !vp->isr || !vp->device) {
        printf("virtio: %02x:%02x.%x: missing capability (common %s notify %s isr %s device %s;"
               " BARs must be memory below 4 GiB)\n",
               d->bus, d->slot, d->fn, vp->common ? "ok" : "no", vp->notify ? "ok" : "no",
               vp->isr ? "ok" : "no", vp->device ? "ok" : "no");
        return -1;
    }
    return 0;
}

u8 virtio_status(struct virtio_pci *vp)
{
    return r8(vp, vp->common + CC_STATUS);
}
void virtio_set_status(struct virtio_pci *vp, u8 s)
{
    w8(vp, vp->common + CC_STATUS, s);
}

bool virtio_reset(struct virtio_pci *vp)
{
    virtio_set_status(vp, 0);
    for (int i = 0; i < 1000; i++) {
        if (virtio_status(vp) == 0)
            return true;
        delay_us(100);
    }
    return false;
}

u64 virtio_device_features(struct virtio_pci *vp)
{
    w32(vp, vp->common + CC_DFSELECT, 0);
    u64 lo = r32(vp, vp->common + CC_DF);
    w32(vp, vp->common + CC_DFSELECT, 1);
    u64 hi = r32(vp, vp->common + CC_DF);
    return hi << 32 | lo;
}

void virtio_driver_features(struct virtio_pci *vp, u64 f)
{
    w32(vp, vp->common + CC_GFSELECT, 0);
    w32(vp, vp->common + CC_GF, (u32)f);
    w32(vp, vp->common + CC_GFSELECT, 1);
    w32(vp, vp->common + CC_GF, (u32)(f >> 32));
}

u16 virtio_num_queues(struct virtio_pci *vp)
{
    return r16(vp, vp->common + CC_NUMQ);
}

u16 virtio_queue_max(struct virtio_pci *vp, u16 q)
{
    w16(vp, vp->common + CC_Q_SELECT, q);
    return r16(vp, vp->common + CC_Q_SIZE);
}

u16 virtio_queue_setup(struct virtio_pci *vp, u16 q, u16 size, u64 desc, u64 avail, u64 used,
                       u16 vector, u64 *notify)
{
    u64 c = vp->common;
    w16(vp, c + CC_Q_SELECT, q);
    w16(vp, c + CC_Q_SIZE, size);
    w64(vp, c + CC_Q_DESC, desc);
    w64(vp, c + CC_Q_AVAIL, avail);
    w64(vp, c + CC_Q_USED, used);
    w16(vp, c + CC_Q_MSIX, vector);
    u16 got = r16(vp, c + CC_Q_MSIX);
    u16 noff = r16(vp, c + CC_Q_NOFF);
    *notify = vp->notify + (u64)noff * vp->notify_mult;
    w16(vp, c + CC_Q_ENABLE, 1);
    return got;
}

void virtio_config_vector(struct virtio_pci *vp, u16 vector)
{
    w16(vp, vp->common + CC_MSIX, vector);
}

u8 virtio_cfg_read8(struct virtio_pci *vp, u32 off)
{
    return off < vp->device_len ? r8(vp, vp->device + off) : 0;
}

u16 virtio_cfg_read16(struct virtio_pci *vp, u32 off)
{
    return off + 2 <= vp->device_len ? r16(vp, vp->device + off) : 0;
}

bool virtio_msix_enable(struct virtio_pci *vp, u8 vector)
{
    if (!vp->msix_table)
        return false;
    u64 e = vp->msix_table; /* entry 0: address, data, vector control */
    w32(vp, e + 0, 0xfee00000u | lapic_id() << 12);
    w32(vp, e + 4, 0);
    w32(vp, e + 8, vector); /* fixed delivery, edge */
    w32(vp, e + 12, 0);     /* unmasked */
    u16 ctrl = pci_read16(vp->pci, vp->msix_cap + 2);
    pci_write16(vp->pci, vp->msix_cap + 2,
                (ctrl | 0x8000) & ~0x4000); /* enable, no function mask */
    return true;
}
