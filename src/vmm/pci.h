/* PCI: a host bridge with type-1 configuration access (ports 0xCF8/0xCFC)
 * and a single bus of up to 32 functions.
 *
 * A device model fills a struct pci_device (IDs, class, BAR sizes, interrupt
 * pin) and calls pci_add_device(). Configuration space is a 256-byte array
 * with a write mask; BAR writes follow the standard sizing protocol and, when
 * a BAR is moved, the bus range of the device is remapped. */
#ifndef VPIO_PCI_H
#define VPIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define PCI_MAX_DEVICES 32
#define PCI_NUM_BARS 6

enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_MMIO32, PCI_BAR_IO };

struct pci_bar {
    enum pci_bar_kind kind;
    uint32_t size; /* power of two, >= 16 (MMIO >= 4096 recommended) */
    uint32_t addr; /* current base, assigned by the VMM, may be moved by the guest */
    bus_handler_fn handler;
    void *opaque;
    /* filled by the PCI code: where the bar is decoded right now */
    bool mapped;
    uint32_t mapped_addr;
};

struct pci_device {
    const char *name;
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint32_t class_code; /* 24 bits: class, subclass, prog-if */
    uint8_t irq_pin;     /* 1 = INTA, 0 = none */
    uint8_t irq_line;    /* GSI the VMM routes INTx to (set by pci_add_device) */
    struct pci_bar bars[PCI_NUM_BARS];

    /* filled by the PCI code */
    uint8_t config[256];
    uint8_t wmask[256];
    int slot;
};

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
 * PCI_INTX_GSI_BASE + (N - 1) % 8, level-triggered, active high; the pin is
 * also written to the interrupt-line register for the guest to read. */
#define PCI_INTX_GSI_BASE 16
#define PCI_MMIO_WINDOW_BASE 0xC0000000u
#define PCI_MMIO_WINDOW_SIZE 0x20000000u
#define PCI_IO_WINDOW_BASE 0xC000u

#endif
