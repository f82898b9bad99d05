/* PCI configuration space, BAR sizing and moving, and the I/O bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/bus.h"
#include "vmm/pci.h"

struct fake_dev {
    int reads, writes;
    uint64_t last_offset;
};

static void fake_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
    struct fake_dev *d = opaque;
    d->last_offset = offset;
    if (is_write) {
        d->writes++;
    } else {
        d->reads++;
        memset(data, 0x5a, len);
    }
}

static void bus_dispatches_by_range(void **state)
{
    struct bus bus = {.name = "test"};
    struct fake_dev a = {0}, b = {0};
    assert_int_equal(bus_register(&bus, 0x100, 0x10, fake_io, &a, "a"), 0);
    assert_int_equal(bus_register(&bus, 0x200, 0x10, fake_io, &b, "b"), 0);
    assert_int_equal(bus_register(&bus, 0x10f, 0x2, fake_io, &b, "overlap"), -1);
    assert_int_equal(bus_register(&bus, 0x300, 0, fake_io, &b, "empty"), -1);
    uint8_t data[4] = {0};
    assert_true(bus_access(&bus, 0x104, data, 4, false));
    assert_int_equal(a.reads, 1);
    assert_int_equal(a.last_offset, 4);
    assert_int_equal(data[0], 0x5a);
    assert_true(bus_access(&bus, 0x20f, data, 1, true));
    assert_int_equal(b.writes, 1);
    assert_false(bus_access(&bus, 0x210, data, 4, false));
    assert_int_equal(data[0], 0xff);
    assert_int_equal(bus.unclaimed, 1);
    assert_int_equal(bus_remap(&bus, 0x200, 0x400), 0);
    assert_true(bus_access(&bus, 0x400, data, 1, true));
    assert_int_equal(b.writes, 2);
    assert_int_equal(bus_remap(&bus, 0x400, 0x108), -1); /* would overlap a */
    assert_int_equal(bus_unregister(&bus, 0x400), 0);
    assert_false(bus_access(&bus, 0x400, data, 1, true));
}

struct pci_fixture {
    struct bus pio, mmio;
    struct pci_host host;
    struct pci_device dev;
    struct fake_dev mmio_dev, io_dev;
};

static struct pci_fixture fx;

static void setup_pci(void)
{
    memset(&fx, 0, sizeof(fx));
    fx.pio.name = "pio";
    fx.mmio.name = "mmio";
    assert_int_equal(pci_host_init(&fx.host, &fx.pio, &fx.mmio), 0);
    fx.dev = (struct pci_device){
        .name = "nic",
        .vendor_id = 0x8086,
        .device_id = 0x100e,
        .class_code = 0x020000,
        .irq_pin = 1,
        .bars =
            {[0] = {.kind = PCI_BAR_MMIO32,
                    .size = 0x20000,
                    .handler = fake_io,
                    .opaque = &fx.mmio_dev},
             [1] = {.kind = PCI_BAR_IO, .size = 0x40, .handler = fake_io, .opaque = &fx.io_dev}},
    };
    assert_int_equal(pci_add_device(&fx.host, &fx.dev), 0);
}

/* Drives the config ports like a guest does. */
static uint32_t cfg_read(uint8_t slot, uint8_t reg)
{
    uint32_t addr = 0x80000000u | slot << 11 | reg;
    bus_access(&fx.pio, 0xcf8, (uint8_t *)&addr, 4, true);
    uint32_t v;
    bus_access(&fx.pio, 0xcfc, (uint8_t *)&v, 4, false);
    return v;
}

static void cfg_write(uint8_t slot, uint8_t reg, uint32_t v)
{
    uint32_t addr = 0x80000000u | slot << 11 | reg;
    bus_access(&fx.pio, 0xcf8, (uint8_t *)&addr, 4, true);
    bus_access(&fx.pio, 0xcfc, (uint8_t *)&v, 4, true);
}

static void enumerates_bridge_and_device(void **state)
{
    setup_pci();
    assert_int_equal(cfg_read(0, 0), 0x12378086);
    assert_int_equal(cfg_read(1, 0), 0x100e8086);
    assert_int_equal(cfg_read(1, 8) >> 8, 0x020000);
    assert_int_equal(cfg_read(2, 0), 0xffffffff); /* empty slot */
    uint32_t intr = cfg_read(1, 0x3c);
    assert_int_equal((intr >> 8) & 0xff, 1); /* INTA */
    assert_int_equal(intr & 0xff, PCI_INTX_GSI_BASE);
    /* Byte and word reads through the data window. */
    uint32_t addr = 0x80000000u | 1 << 11;
    bus_access(&fx.pio, 0xcf8, (uint8_t *)&addr, 4, true);
    uint16_t w;
    bus_access(&fx.pio, 0xcfe, (uint8_t *)&w, 2, false);
    assert_int_equal(w, 0x100e);
}

static void bars_are_assigned_and_decoded(void **state)
{
    setup_pci();
    uint32_t bar0 = cfg_read(1, 0x10), bar1 = cfg_read(1, 0x14);
    assert_int_equal(bar0 & 0xf, 0);
    assert_int_equal(bar0 & 0x1ffff, 0); /* aligned to its size */
    assert_true(bar0 >= PCI_MMIO_WINDOW_BASE);
    assert_int_equal(bar1 & 1, 1); /* I/O space */
    uint8_t d[4];
    assert_true(bus_access(&fx.mmio, bar0 + 0x3818, d, 4, true));
    assert_int_equal(fx.mmio_dev.last_offset, 0x3818);
    assert_true(bus_access(&fx.pio, (bar1 & ~3u) + 4, d, 4, false));
    assert_int_equal(fx.io_dev.reads, 1);
}

static void bar_sizing_and_moving(void **state)
{
    setup_pci();
    uint32_t old = cfg_read(1, 0x10);
    cfg_write(1, 0x10, 0xffffffff);
    assert_int_equal(cfg_read(1, 0x10), 0xfffe0000); /* 128 KiB */
    cfg_write(1, 0x14, 0xffffffff);
    assert_int_equal(cfg_read(1, 0x14), 0xffffffc1); /* 64 bytes, I/O */
    uint8_t d[4];
    assert_false(bus_access(&fx.mmio, old, d, 4, false)); /* not decoded while sized */
    cfg_write(1, 0x10, 0xd0000000);
    assert_true(bus_access(&fx.mmio, 0xd0000010, d, 4, false));
    assert_int_equal(fx.mmio_dev.last_offset, 0x10);
    assert_false(bus_access(&fx.mmio, old, d, 4, false));
    /* Memory decoding off in the command register: BAR no longer decoded. */
    cfg_write(1, 0x04, 0x0);
    assert_false(bus_access(&fx.mmio, 0xd0000010, d, 4, false));
    cfg_write(1, 0x04, 0x2);
    assert_true(bus_access(&fx.mmio, 0xd0000010, d, 4, false));
}

static void read_only_fields_stay(void **state)
{
    setup_pci();
    cfg_write(1, 0x00, 0x12345678);
    assert_int_equal(cfg_read(1, 0), 0x100e8086);
    cfg_write(1, 0x3c, 0x0000ff0b); /* line writable, pin not */
    assert_int_equal(cfg_read(1, 0x3c) & 0xffff, 0x010b);
    /* Out-of-range register through the direct API is ignored. */
    pci_config_write(&fx.host, 1, 0, 254, 4, 0xffffffff);
    assert_int_equal(pci_config_read(&fx.host, 1, 0, 254, 4), 0xffffffff);
    assert_int_equal(pci_config_read(&fx.host, 1, 3, 0, 4), 0xffffffff); /* func 3 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bus_dispatches_by_range),
        cmocka_unit_test(enumerates_bridge_and_device),
        cmocka_unit_test(bars_are_assigned_and_decoded),
        cmocka_unit_test(bar_sizing_and_moving),
        cmocka_unit_test(read_only_fields_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
