/* PCI: a host bridge with type-1 configuration access (ports 0xCF8/0xCFC)
 * and a single bus of up to 32 functions.
 *
 * A device model fills a struct pci_device (devif/pci_dev.h: IDs, class, BAR
 * sizes, interrupt pin) and the VMM calls pci_add_device(). Configuration space is a 256-byte array
 * with a write mask; BAR writes follow the standard sizing protocol and, when
 * a BAR is moved, the bus range of the device is remapped. */
#ifndef VPIO_PCI_H
#define VPIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "devif/pci_dev.h"

#define PCI_MAX_DEVICES 32

struct pci_host {
    struct pci_device bridge; /* slot 0 */
    struct pci_device *devices[PCI_MAX_DEVICES];
    uint32_t config_address; /* last value written to 0xCF8 */
    struct bus *pio, *mmio;
    uint32_t next_mmio, next_io; /* BAR allocation cursors */
};

/* Sets up the host bridge (slot 0) and claims ports 0xCF8..0xCFF on pio. */
int pci_host_init(struct pci_host *host, struct bus *pio, struct bus *mmio);
/* Adds dev in the next free slot, assigns its BARs and an INTx GSI, maps the BARs. */
int pci_add_device(struct pci_host *host, struct pci_device *dev);

/* Pure configuration-space access, exposed for unit tests and fuzzing. */
uint32_t pci_config_read(struct pci_host *host, uint8_t slot, uint8_t func, uint8_t reg,
                         uint32_t len);
void pci_config_write(struct pci_host *host, uint8_t slot, uint8_t func, uint8_t reg, uint32_t len,
                      uint32_t value);

/* INTx of the device in slot N (N >= 1) is wired to IOAPIC pin
 * PCI_INTX_GSI_BASE (devif/pci_dev.h) + (N - 1) % 8, level-triggered, active
 * high; the pin is also written to the interrupt-line register for the guest
 * to read. */
#define PCI_MMIO_WINDOW_BASE 0xC0000000u
#define PCI_MMIO_WINDOW_SIZE 0x20000000u
#define PCI_IO_WINDOW_BASE 0xC000u

#endif
