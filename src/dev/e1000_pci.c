/* Glue between the e1000 model and the PCI bus. */
#include <stdio.h>
#include <string.h>

#include "dev/e1000_pci.h"

void e1000_pci_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
    struct e1000_pci *nic = opaque;
    if (is_write)
        e1000_mmio_write(&nic->dev, offset, data, len);
    else
        e1000_mmio_read(&nic->dev, offset, data, len);
}

void e1000_pci_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
    struct e1000_pci *nic = opaque;
    if (is_write)
        e1000_io_write(&nic->dev, offset, data, len);
    else
        e1000_io_read(&nic->dev, offset, data, len);
}

void e1000_pci_fill(struct e1000_pci *nic, unsigned index)
{
    snprintf(nic->name, sizeof(nic->name), "e1000-%u", index);
    memset(&nic->pci, 0, sizeof(nic->pci));
    nic->pci.name = nic->name;
    nic->pci.vendor_id = E1000_VENDOR_ID;
    nic->pci.device_id = E1000_DEVICE_ID;
    nic->pci.subsystem_vendor_id = E1000_VENDOR_ID;
    /* The CSB extension is advertised through the subsystem ID (docs/csb.md). */
    nic->pci.subsystem_id = nic->dev.cfg.csb ? E1000_CSB_SUBSYS_ID : E1000_DEVICE_ID;
    nic->pci.revision = 3;
    nic->pci.class_code = E1000_CLASS_CODE;
    nic->pci.irq_pin = 1; /* INTA */
    nic->pci.bars[0] = (struct pci_bar){
        .kind = PCI_BAR_MMIO32, .size = E1000_MMIO_SIZE, .handler = e1000_pci_mmio, .opaque = nic};
    nic->pci.bars[1] = (struct pci_bar){
        .kind = PCI_BAR_IO, .size = E1000_IO_SIZE, .handler = e1000_pci_io, .opaque = nic};
}

int e1000_pci_create(struct e1000_pci *nic, unsigned index, struct vm *vm,
                     const struct e1000_config *cfg, struct guest_mem *mem, struct irq_line irq,
                     struct net_backend *backend)
{
    if (e1000_init(&nic->dev, cfg, mem, irq, backend) < 0)
        return -1;
    e1000_pci_fill(nic, index);
    if (vm_pci_add(vm, &nic->pci) < 0) {
        e1000_destroy(&nic->dev);
        return -1;
    }
    e1000_set_irq_gsi(&nic->dev, nic->pci.irq_line);
    return 0;
}

void e1000_pci_destroy(struct e1000_pci *nic)
{
    e1000_destroy(&nic->dev);
}
