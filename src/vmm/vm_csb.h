/* KVM glue of the e1000 CSB extension (docs/csb.md "Device side"): one CSB
 * I/O thread per NIC, and its doorbell eventfd bound with KVM_IOEVENTFD to
 * the NIC's TDT (BAR0+0x3818) and RDT (BAR0+0x2818), 4 bytes, no datamatch,
 * exactly while the guest has the CSB enabled (a plain e1000 guest needs
 * its TDT/RDT values, which an ioeventfd drops). A kick is then an exit
 * served inside the kernel. Interrupts: the model's INTx line
 * (KVM_IRQ_LINE), or, when the guest asked for edge interrupts with the
 * CSB (docs/csb.md), an irqfd on the same GSI: one eventfd write per
 * interrupt, injected by the kernel.
 *
 * Use (per NIC, after e1000_pci_create, before the vCPU runs):
 *   vm_csb_init(&c, vm->vm_fd, &nic->e1000, poll_us);   // poll_us 0 = 50
 *   vm_csb_start(&c);
 *   ...
 *   vm_csb_stop(&c);    // before e1000_pci_destroy
 * The thread itself is tested without KVM
 * (tests/unit/test_guest_e1000_csb_device.c emulates the ioeventfd); the
 * KVM glue by the integration tests that run csb guests under vpio. */
#ifndef VPIO_VM_CSB_H
#define VPIO_VM_CSB_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/e1000_csb_thread.h"
#include "dev/e1000_pci.h"

struct vm_csb {
    int vm_fd;
    struct e1000_pci *nic;
    struct e1000_csb_waiter waiter;
    bool bound;
    uint64_t bound_base; /* BAR0 address the ioeventfds were bound at */
    uint64_t bind_errors;
    int irqfd;       /* KVM_IRQFD on the NIC's GSI, -1 if none */
    uint64_t pulses; /* interrupts sent through it */
};

/* Creates the eventfds and hooks CSB on/off of the model. 0 or -1 (errno). */
int vm_csb_init(struct vm_csb *c, int vm_fd, struct e1000_pci *nic, unsigned poll_us);
int vm_csb_start(struct vm_csb *c);
/* Stops the thread, unbinds the ioeventfds, closes the eventfds. */
void vm_csb_stop(struct vm_csb *c);

#endif
