/* What a virtual machine offers its devices: the one interface between a
 * device model's KVM glue (src/dev) and the VMM (src/vmm), in the way
 * kvmtool's devices use include/kvm/{pci,irq,ioeventfd}.h.
 *
 * The VM is an opaque struct vm here: a device never sees KVM file
 * descriptors, the bus tables or the vCPU. src/vmm implements every function
 * (src/vmm/vm_services.c); a device calls them from its set-up code (before
 * the vCPU runs), its BAR callbacks or its own threads, as each says.
 *
 * Layering (docs/architecture.md "Layers"): src/devif includes nothing of
 * src/vmm, src/dev or src/net; src/dev includes src/devif and src/net,
 * never src/vmm; src/vmm includes src/devif, never src/dev. */
#ifndef VPIO_DEVIF_VM_SERVICES_H
#define VPIO_DEVIF_VM_SERVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devif/guest_mem.h"
#include "devif/io_thread.h"
#include "devif/irq.h"
#include "devif/pci_dev.h"

struct vm;

/* Guest RAM, for DMA. Valid for the VM's life. */
struct guest_mem *vm_guest_mem(struct vm *vm);

/* Plugs dev into the PCI bus: next free slot, BARs assigned and decoded,
 * dev->irq_line set to its INTx GSI. Set-up only. 0 or -1 (bus full, BARs
 * do not fit). */
int vm_pci_add(struct vm *vm, struct pci_device *dev);

/* An interrupt line to the in-kernel IOAPIC pin gsi (KVM_IRQ_LINE; a failed
 * ioctl is counted in the VM's irq_errors, printed by --stats). */
struct irq_line vm_intx_line(struct vm *vm, unsigned gsi);

/* Binds eventfd fd to a guest write of len bytes (any value) at
 * guest-physical MMIO address addr: the write is then served inside the
 * kernel (an exit of ~3 us instead of ~30 us to user space) and signals fd.
 * del undoes exactly one add. From any thread. 0, or -1 with errno. */
int vm_ioeventfd_add(struct vm *vm, uint64_t addr, uint32_t len, int fd);
int vm_ioeventfd_del(struct vm *vm, uint64_t addr, uint32_t len, int fd);

/* Binds eventfd fd to GSI gsi: each write to fd is one edge on the line,
 * injected by the kernel. 0, or -1 with errno. */
int vm_irqfd_add(struct vm *vm, unsigned gsi, int fd);
int vm_irqfd_del(struct vm *vm, unsigned gsi, int fd);

/* The VM's I/O thread (devif/io_thread.h): fds and timers of every device,
 * served outside the vCPU. Sources are added before it starts (a device's
 * start hook); the VM starts it after every device started and stops it
 * after every device stopped. NULL (errno set) if its eventfd could not be
 * created. */
struct io_thread *vm_io_thread(struct vm *vm);

/* A device's life-cycle hooks, called by the VMM in the order the devices
 * registered: start before the first KVM_RUN (0, or -1 with a message in
 * err: the VM does not run), stop after the vCPU stopped (also when start
 * was never called or failed), print_stats for --stats (every error counter
 * the device has, also when 0), destroy when the VM goes away (after stop;
 * undo: the VM failed to set up and never ran, so the device also removes
 * what it created outside the process, e.g. a switch it created). Every
 * hook but start is optional. */
struct vm_device_ops {
    const char *name;
    int (*start)(void *opaque, char *err, size_t errlen);
    void (*stop)(void *opaque);
    void (*print_stats)(void *opaque, FILE *out);
    void (*destroy)(void *opaque, bool undo);
};

#define VM_MAX_DEVICES 8

/* Set-up only. 0, or -1 (VM_MAX_DEVICES reached). */
int vm_device_register(struct vm *vm, const struct vm_device_ops *ops, void *opaque);
/* The opaque of the index-th device registered with ops, or NULL. */
void *vm_device_find(struct vm *vm, const struct vm_device_ops *ops, unsigned index);
/* How many devices registered with ops. */
unsigned vm_device_count(struct vm *vm, const struct vm_device_ops *ops);

/* How a device's add function (e.g. e1000_nic_add) failed: the caller maps
 * these to its own exit statuses (`vpio vm`: 64 and 70). */
enum vm_device_error {
    VM_DEVICE_BAD_SPEC = -1, /* the specification is wrong: a usage error */
    VM_DEVICE_SETUP = -2,    /* a resource failed: tap, eventfd, memory, a full bus */
};

#endif
