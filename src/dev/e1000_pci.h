/* The e1000 as a PCI function: 8086:100E, class 0x020000 (Ethernet),
 * BAR0 128 KiB MMIO, BAR1 64-byte I/O (IOADDR/IODATA), INTA. */
#ifndef VPIO_E1000_PCI_H
#define VPIO_E1000_PCI_H

#include "dev/e1000.h"
#include "devif/pci_dev.h"
#include "devif/vm_services.h"

struct e1000_pci {
    struct pci_device pci;
    struct e1000 dev;
    char name[16];
};

/* Fills nic->pci (IDs, class, BARs with handlers that call the model). */
void e1000_pci_fill(struct e1000_pci *nic, unsigned index);

/* Initialises the model, fills the PCI function and plugs it into the VM's
 * PCI bus (BARs mapped, INTx GSI assigned; irq.gsi is replaced by that GSI).
 * index names it "e1000-<index>". 0, or -1 with nothing left allocated. */
int e1000_pci_create(struct e1000_pci *nic, unsigned index, struct vm *vm,
                     const struct e1000_config *cfg, struct guest_mem *mem, struct irq_line irq,
                     struct net_backend *backend);
void e1000_pci_destroy(struct e1000_pci *nic);

/* The BAR handlers (bus_handler_fn), opaque = struct e1000_pci *. */
void e1000_pci_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
void e1000_pci_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
