/* NICs of a VM: an e1000 PCI function per --nic, its backend, and the I/O
 * thread that serves backend input and moderation timers. */
#ifndef VPIO_VM_NIC_H
#define VPIO_VM_NIC_H

#include <stdio.h>

#include "dev/e1000_pci.h"
#include "io_thread.h"
#include "vm_csb.h"

#define VM_MAX_NICS 4

struct vm;

struct vm_nic {
    struct e1000_pci e1000;
    struct net_backend *backend;
    struct vm *vm;
    struct vm_csb csb;  /* the CSB extension's I/O thread and doorbells */
    bool csb_offered;   /* --nic ...,csb=on (the default) */
    bool csb_running;
};

struct vm_nics {
    struct vm_nic nic[VM_MAX_NICS];
    int count;
    struct io_thread io;
    bool io_ready;
};

/* Parses spec (see `vpio vm --help`), opens its backend and plugs an e1000
 * into the VM's PCI bus. Returns 0 or -1 with vm->err set. */
int vm_nic_add(struct vm *vm, const char *spec);
/* Starts the I/O thread (if there are NICs). 0 or -1 with vm->err set. */
int vm_nics_start(struct vm *vm);
/* Stops the I/O thread; counters stay readable. */
void vm_nics_stop(struct vm *vm);
void vm_nics_print_stats(struct vm *vm, FILE *out);
/* Stops the I/O thread, frees the models, closes the backends. */
void vm_nics_destroy(struct vm *vm);

#endif
