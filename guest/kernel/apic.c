/* Local APIC (xAPIC MMIO at 0xfee00000) and IOAPIC (0xfec00000), both
 * programmed from ring 3 through user-accessible uncached mappings. The
 * ring-0 handlers EOI by themselves (entry.S). */
#include "io.h"
#include "kernel.h"

#define LAPIC_ID    0x020
#define LAPIC_TPR   0x080
#define LAPIC_SVR   0x0f0
#define LAPIC_LINT0 0x350
#define LAPIC_LINT1 0x360
#define LAPIC_ERR   0x370
#define LVT_MASKED  (1u << 16)

u32 lapic_read(u32 reg) { return mmio_read32(LAPIC_BASE + reg); }
void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC_BASE + reg, v); }
u32 lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
void lapic_eoi(void) { lapic_write(0x0b0, 0); }

void lapic_init(void)
{
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);   /* software enable */
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LINT0, LVT_MASKED);           /* no 8259 ExtINT */
    lapic_write(LAPIC_ERR, LVT_MASKED);
}

#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPIC_VER 0x01
#define REDTBL(n) (0x10 + 2 * (n))

static u32 ioapic_read(u32 reg)
{
    mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
    return mmio_read32(IOAPIC_BASE + IOWIN);
}

static void ioapic_write(u32 reg, u32 v)
{
    mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
    mmio_write32(IOAPIC_BASE + IOWIN, v);
}

static u32 npins;

u32 ioapic_pins(void) { return npins; }

void ioapic_init(void)
{
    npins = ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
    if (npins > 64)
        npins = 24;
    for (u32 i = 0; i < npins; i++)
        ioapic_write(REDTBL(i), LVT_MASKED);
}

/* Fixed delivery, physical destination = this CPU, unmasked. trigger:
 * IOAPIC_EDGE/IOAPIC_LEVEL; polarity: IOAPIC_HIGH/IOAPIC_LOW. */
void ioapic_route(u32 gsi, u8 vector, int trigger, int polarity)
{
    if (gsi >= npins)
        return;
    u32 lo = vector | (polarity == IOAPIC_LOW ? 1u << 13 : 0) |
             (trigger == IOAPIC_LEVEL ? 1u << 15 : 0);
    ioapic_write(REDTBL(gsi) + 1, lapic_id() << 24);
    ioapic_write(REDTBL(gsi), lo);
}

void ioapic_mask(u32 gsi, bool masked)
{
    if (gsi >= npins)
        return;
    u32 lo = ioapic_read(REDTBL(gsi));
    ioapic_write(REDTBL(gsi), masked ? lo | LVT_MASKED : lo & ~LVT_MASKED);
}
