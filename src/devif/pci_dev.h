/* A PCI function as a device model describes it to the VMM's host bridge
 * (src/vmm/pci.c): IDs, class, BARs with their access handlers, interrupt
 * pin, and optional callbacks when a BAR starts or stops being decoded.
 *
 * Configuration space itself (the 256-byte array, the write mask, BAR
 * sizing) is the bridge's: a device fills the descriptive fields and reads
 * the rest. */
#ifndef VPIO_DEVIF_PCI_DEV_H
#define VPIO_DEVIF_PCI_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "devif/bus_region.h"

#define PCI_NUM_BARS 6

enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_MMIO32, PCI_BAR_IO };

struct pci_bar {
    enum pci_bar_kind kind;
    uint32_t size; /* power of two, >= 16 (MMIO >= 4096 recommended) */
    uint32_t addr; /* current base, assigned by the VMM, may be moved by the guest */
    bus_handler_fn handler;
    void *opaque;
    /* Written by the PCI code (the vCPU thread of a config write, or the
     * set-up thread): where the BAR is decoded right now. Read by anyone
     * under the same serialisation (the BAR callbacks below). */
    bool mapped;
    uint32_t mapped_addr;
};

struct pci_device;

/* A BAR starts (activate) or stops (deactivate) being decoded at addr: the
 * guest enabled decoding, disabled it, or moved the BAR (a deactivate at the
 * old address, then an activate at the new one). Called by the PCI code in
 * the thread that wrote configuration space (a vCPU), after bars[bar].mapped
 * and mapped_addr were updated. For devices that bound something to a BAR
 * address outside the bus (an ioeventfd): re-bind it here. */
typedef void (*pci_bar_fn)(struct pci_device *dev, int bar, uint64_t addr, void *opaque);

struct pci_device {
    const char *name;
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint32_t class_code; /* 24 bits: class, subclass, prog-if */
    uint8_t irq_pin;     /* 1 = INTA, 0 = none */
    uint8_t irq_line;    /* GSI the VMM routes INTx to (set by pci_add_device) */
    struct pci_bar bars[PCI_NUM_BARS];
    pci_bar_fn bar_activate, bar_deactivate; /* optional */
    void *bar_opaque;

    /* filled by the PCI code */
    uint8_t config[256];
    uint8_t wmask[256];
    int slot;
};

/* The INTx GSIs the VMM routes: slot N (N >= 1) to IOAPIC pin
 * PCI_INTX_GSI_BASE + (N - 1) % 8, level-triggered, active high. */
#define PCI_INTX_GSI_BASE 16

#endif
