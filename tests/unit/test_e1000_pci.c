/* e1000 as a PCI function: IDs, class, BARs, INTx, and register access
 * through the MMIO and I/O buses (uses the VMM's pci.c and bus.c). */
#include "test_e1000_harness.h"

#include "dev/e1000_pci.h"
#include "vmm/bus.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

static void test_pci_function(void **state)
{
    (void)state;
    static struct vm vm; /* no KVM: only its buses and PCI host */
    struct bus *pio = &vm.pio, *mmio = &vm.mmio;
    struct pci_host *host = &vm.pci;
    pio->name = "pio";
    mmio->name = "mmio";
    static struct e1000_pci nic;
    static uint8_t ram[1 << 16];
    struct guest_mem mem = {ram, sizeof(ram)};
    struct h *hh = h_new(false); /* for its irq recorder */
    struct irq_line irq = {.set_level = h_irq, .opaque = hh, .gsi = 0};
    struct e1000_config cfg = {.mitigation = true};
    memcpy(cfg.mac, TEST_MAC, 6);
    assert_int_equal(pci_host_init(host, pio, mmio), 0);
    assert_int_equal(e1000_pci_create(&nic, 0, &vm, &cfg, &mem, irq, NULL), 0);
    int slot = nic.pci.slot;
    assert_true(slot > 0);
    assert_int_equal(pci_config_read(host, (uint8_t)slot, 0, 0, 4), 0x100E8086);
    assert_int_equal(pci_config_read(host, (uint8_t)slot, 0, 8, 4) >> 8, 0x020000);
    assert_int_equal(pci_config_read(host, (uint8_t)slot, 0, 0x3D, 1), 1); /* INTA */
    assert_int_equal(nic.dev.irq.gsi, nic.pci.irq_line);
    assert_int_equal(nic.pci.bars[0].size, 128 * 1024);
    assert_int_equal(nic.pci.bars[1].kind, PCI_BAR_IO);

    /* STATUS through the MMIO bus at BAR0 */
    uint32_t bar0 = nic.pci.bars[0].addr;
    uint8_t b[4];
    assert_true(bus_access(mmio, bar0 + E1000_STATUS, b, 4, false));
    assert_true(e1000_le32(b) & E1000_STATUS_LU);
    /* ICS/IMS through the I/O BAR raise INTx */
    uint32_t io = nic.pci.bars[1].addr;
    uint32_t v = E1000_IMS;
    assert_true(bus_access(pio, io + E1000_IOADDR, (uint8_t *)&v, 4, true));
    v = E1000_ICR_TXDW;
    assert_true(bus_access(pio, io + E1000_IODATA, (uint8_t *)&v, 4, true));
    v = E1000_ICS;
    bus_access(pio, io + E1000_IOADDR, (uint8_t *)&v, 4, true);
    v = E1000_ICR_TXDW;
    bus_access(pio, io + E1000_IODATA, (uint8_t *)&v, 4, true);
    assert_int_equal(hh->level, 1);
    assert_true(bus_access(mmio, bar0 + E1000_ICR, b, 4, false));
    assert_int_equal(e1000_le32(b), E1000_ICR_TXDW);
    assert_int_equal(hh->level, 0);
    e1000_pci_destroy(&nic);
    h_free(hh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pci_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
