/* PCI configuration mechanism #1 (ports 0xcf8/0xcfc, from ring 3 with
 * IOPL 3) and a scan of bus 0. BARs are used as firmware/VMM assigned them
 * (SeaBIOS on QEMU, the VMM on vpio); everything below 4 GiB is mapped. */
#include "io.h"
#include "kernel.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

struct pci_dev pci_devs[PCI_MAX];
int pci_ndevs;

static u32 cfg_addr(u8 bus, u8 slot, u8 fn, u8 off)
{
    return 0x80000000u | (u32)bus << 16 | (u32)slot << 11 | (u32)fn << 8 | (off & 0xfc);
}

static u32 cfg_read(u8 bus, u8 slot, u8 fn, u8 off)
{
    outl(PCI_ADDR, cfg_addr(bus, slot, fn, off));
    return inl(PCI_DATA);
}

u32 pci_read32(const struct pci_dev *d, u8 off) { return cfg_read(d->bus, d->slot, d->fn, off); }

void pci_write32(const struct pci_dev *d, u8 off, u32 v)
{
    outl(PCI_ADDR, cfg_addr(d->bus, d->slot, d->fn, off));
    outl(PCI_DATA, v);
}

u16 pci_read16(const struct pci_dev *d, u8 off)
{
    return (u16)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

void pci_write16(const struct pci_dev *d, u8 off, u16 v)
{
    u32 old = pci_read32(d, off & ~3);
    int sh = (off & 2) * 8;
    pci_write32(d, off & ~3, (old & ~(0xffffu << sh)) | (u32)v << sh);
}

static void add(u8 bus, u8 slot, u8 fn, u32 id)
{
    if (pci_ndevs >= PCI_MAX)
        return;
    struct pci_dev *d = &pci_devs[pci_ndevs++];
    d->bus = bus, d->slot = slot, d->fn = fn;
    d->vendor = id & 0xffff;
    d->device = id >> 16;
    u32 cls = pci_read32(d, 0x08);
    d->class = cls >> 24, d->subclass = cls >> 16, d->progif = cls >> 8;
    d->header = pci_read32(d, 0x0c) >> 16;
    u32 irq = pci_read32(d, 0x3c);
    d->irq_line = irq & 0xff, d->irq_pin = irq >> 8;
    if ((d->header & 0x7f) == 0)
        for (int i = 0; i < 6; i++)
            d->bar[i] = pci_read32(d, 0x10 + 4 * i);
}

void pci_scan(void)
{
    pci_ndevs = 0;
    for (u8 slot = 0; slot < 32; slot++) {
        u32 id = cfg_read(0, slot, 0, 0);
        if ((id & 0xffff) == 0xffff || id == 0)
            continue;
        add(0, slot, 0, id);
        bool multi = (cfg_read(0, slot, 0, 0x0c) >> 16) & 0x80;
        for (u8 fn = 1; multi && fn < 8; fn++) {
            id = cfg_read(0, slot, fn, 0);
            if ((id & 0xffff) != 0xffff && id != 0)
                add(0, slot, fn, id);
        }
    }
}

void pci_print(void)
{
    printf("pci: %d device(s) on bus 0\n", pci_ndevs);
    for (int i = 0; i < pci_ndevs; i++) {
        const struct pci_dev *d = &pci_devs[i];
        printf("pci: %02x:%02x.%x %04x:%04x class %02x.%02x.%02x irq line %u pin %u", d->bus,
               d->slot, d->fn, d->vendor, d->device, d->class, d->subclass, d->progif,
               d->irq_line, d->irq_pin);
        for (int b = 0; b < 6; b++)
            if (d->bar[b])
                printf(" bar%d=0x%x", b, d->bar[b]);
        printf("\n");
    }
}

const struct pci_dev *pci_find(u16 vendor, u16 device, int index)
{
    for (int i = 0; i < pci_ndevs; i++)
        if (pci_devs[i].vendor == vendor && pci_devs[i].device == device && index-- == 0)
            return &pci_devs[i];
    return NULL;
}

u64 pci_bar_addr(const struct pci_dev *d, int bar)
{
    u32 v = d->bar[bar];
    if (v & 1)
        return 0;                               /* I/O BAR */
    u64 a = v & ~0xfu;
    if (((v >> 1) & 3) == 2 && bar < 5)
        a |= (u64)d->bar[bar + 1] << 32;
    return a;
}
