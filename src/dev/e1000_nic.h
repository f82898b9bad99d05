/* The e1000 as a NIC of a VM: per --nic, an e1000 PCI function, its
 * backend, its sources on the VM's I/O thread (backend input, moderation
 * timers) and, if offered, its CSB I/O thread and doorbells. Everything it
 * needs from the VM goes through devif/vm_services.h. */
#ifndef VPIO_E1000_NIC_H
#define VPIO_E1000_NIC_H

#include <stdbool.h>
#include <stddef.h>

#include "dev/e1000_csb_kvm.h"
#include "dev/e1000_pci.h"
#include "devif/vm_services.h"

#define E1000_NIC_MAX 4

struct e1000_nic {
    struct e1000_pci e1000;
    struct net_backend *backend;
    struct vm *vm;
    struct e1000_csb_kvm csb; /* the CSB extension's I/O thread and doorbells */
    bool csb_offered;         /* --nic ...,csb=on (the default) */
    bool csb_running;
    uint64_t io_source_errors; /* the VM's I/O thread refused this NIC's source */
};

/* Parses spec (see `vpio vm --help`), opens its backend and plugs an e1000
 * into the VM's PCI bus. Returns 0, or a enum vm_device_error with a message
 * in err: VM_DEVICE_BAD_SPEC for a spec that is wrong, VM_DEVICE_SETUP for a
 * resource that failed. */
int e1000_nic_add(struct vm *vm, const char *spec, char *err, size_t errlen);
/* The index-th e1000 NIC of vm (in --nic order), or NULL. */
struct e1000_nic *e1000_nic_get(struct vm *vm, unsigned index);
unsigned e1000_nic_count(struct vm *vm);

#endif
