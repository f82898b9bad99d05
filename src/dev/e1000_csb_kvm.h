/* KVM glue of the e1000 CSB extension (docs/csb.md "Device side"): one CSB
 * I/O thread per NIC, and its doorbell eventfd bound with vm_ioeventfd_add
 * to the NIC's TDT (BAR0+0x3818) and RDT (BAR0+0x2818), 4 bytes, no
 * datamatch, exactly while the guest has the CSB enabled (a plain e1000
 * guest needs its TDT/RDT values, which an ioeventfd drops) and BAR0 is
 * decoded; when the guest moves BAR0 they move with it (the PCI function's
 * BAR activate/deactivate callbacks). A kick is then
 * an exit served inside the kernel. Interrupts: the model's INTx line, or,
 * when the guest asked for edge interrupts with the CSB (docs/csb.md), an
 * irqfd on the same GSI: one eventfd write per interrupt, injected by the
 * kernel.
 *
 * Use (per NIC, after e1000_pci_create, before the vCPU runs):
 *   e1000_csb_kvm_init(&c, vm, &nic->e1000, poll_us);   // poll_us 0 = 50
 *   e1000_csb_kvm_start(&c);
 *   ...
 *   e1000_csb_kvm_stop(&c);    // before e1000_pci_destroy
 * The thread itself is tested without KVM
 * (tests/unit/test_guest_e1000_csb_device.c emulates the ioeventfd); the
 * KVM glue by the integration tests that run csb guests under vpio. */
#ifndef VPIO_E1000_CSB_KVM_H
#define VPIO_E1000_CSB_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/e1000_csb_thread.h"
#include "dev/e1000_pci.h"
#include "devif/vm_services.h"

struct e1000_csb_kvm {
    struct vm *vm;
    struct e1000_pci *nic;
    struct e1000_csb_waiter waiter;
    /* Written under bind_lock (taken inside the device lock when the model
     * reports CSB on/off from a vCPU; alone at stop). */
    pthread_mutex_t bind_lock;
    bool csb_on; /* the guest has the CSB enabled (last csb_changed) */
    bool bound;
    uint64_t bound_base;   /* BAR0 address the ioeventfds were bound at */
    uint64_t bind_errors;  /* failed KVM_IOEVENTFD (un)binds: kicks then exit to user space */
    bool bind_warned;      /* the first failure was reported on stderr */
    uint64_t irqfd_errors; /* the irqfd could not be set up (edges go through INTx) */
    int irqfd;             /* irqfd on the NIC's GSI, -1 if none */
    uint64_t pulses;       /* interrupts sent through it (device lock) */
};

/* Creates the eventfds and hooks CSB on/off of the model; a failed irqfd is
 * a warning on stderr (and irqfd_errors). 0 or -1 (errno). */
int e1000_csb_kvm_init(struct e1000_csb_kvm *c, struct vm *vm, struct e1000_pci *nic,
                       unsigned poll_us);
/* Checks that KVM accepts the doorbell ioeventfd at BAR0 (binds and
 * unbinds it: a failure is a warning on stderr and a bind error, the CSB
 * still works with user-space exits), then starts the CSB I/O thread.
 * 0 or -1. */
int e1000_csb_kvm_start(struct e1000_csb_kvm *c);
/* Stops the thread, unbinds the ioeventfds, closes the eventfds. */
void e1000_csb_kvm_stop(struct e1000_csb_kvm *c);

#endif
