/* A KVM virtual machine: RAM, in-kernel irqchip and PIT, one vCPU, the PC
 * devices a PVH guest needs (COM1, isa-debug-exit, PCI host bridge) and the
 * exit counters printed by `vpio vm --stats`.
 *
 * Exit statuses of `vpio vm`: an odd status is the guest's own
 * ((value << 1) | 1, written to isa-debug-exit); vpio's statuses are even. */
#ifndef VPIO_VM_H
#define VPIO_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "debug_exit.h"
#include "devif/guest_mem.h"
#include "pci.h"
#include "pvh.h"
#include "devif/io_thread.h"
#include "devif/vm_services.h"
#include "serial.h"

enum vm_status {
    VM_EXIT_USAGE = 64,       /* bad command line */
    VM_EXIT_BAD_IMAGE = 66,   /* kernel missing, unreadable, not a PVH ELF, does not fit */
    VM_EXIT_NO_KVM = 68,      /* /dev/kvm missing, not permitted, or too old */
    VM_EXIT_SETUP = 70,       /* any other failure to set the VM up */
    VM_EXIT_GUEST_CRASH = 72, /* triple fault, emulation failure, entry failure */
    VM_EXIT_TIMEOUT = 124,    /* --timeout elapsed (same as timeout(1)) */
};

#define VM_MIN_MEM (4ull << 20)
#define VM_MAX_MEM ((uint64_t)PCI_MMIO_WINDOW_BASE) /* RAM stays below the PCI window */
#define VM_DEFAULT_MEM (64ull << 20)

struct vm_config {
    const char *kernel;
    uint64_t mem_size;
    const char *cmdline;
    double timeout_s; /* 0 = none */
    bool stats;
    /* KVM's halt polling for this VM: how long a halted vCPU spins in the
     * host before it sleeps. Default 0: on a machine with few cores the
     * spinning takes the core from the VM's own I/O threads and from other
     * VMs. */
    uint32_t halt_poll_ns;
};

/* Exits by kind, counted by the vCPU loop. */
struct vm_exit_stats {
    uint64_t total, pio, mmio, hlt, intr, irq_window, shutdown, other;
};

struct vm {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    struct guest_mem mem;
    struct bus pio, mmio;
    struct pci_host pci;
    struct serial com1;
    struct debug_exit dbg;
    struct vm_exit_stats exits;
    /* Devices that registered (devif/vm_services.h), in order; written at
     * set-up, read by the start/stop/stats/destroy walks. */
    struct {
        const struct vm_device_ops *ops;
        void *opaque;
    } devices[VM_MAX_DEVICES];
    int device_count;
    struct io_thread io; /* the devices' I/O thread (vm_io_thread) */
    bool io_ready;       /* io initialised (its eventfd exists) */
    uint64_t irq_errors; /* KVM_IRQ_LINE failures (atomic adds: vCPU and I/O threads) */
    /* Set by the caller before vm_destroy when set-up failed and the VM
     * never ran: devices then also remove what they created outside the
     * process (a switch arena). */
    bool setup_failed;
    uint64_t start_ns, end_ns;
    char err[256];
};

/* Each returns 0, or a VM_EXIT_* status with vm->err describing the failure.
 * vm_destroy() may be called after any of them, also after a failure. */
int vm_create(struct vm *vm, const struct vm_config *cfg);

/* A kernel image read and validated before any VM exists, so a bad image
 * fails early with no KVM state created. */
struct vm_image {
    uint8_t *data;
    size_t size;
    struct pvh_image pvh;
};
int vm_image_read(struct vm_image *img, const char *path, uint64_t mem_size, char *err,
                  size_t errlen);
void vm_image_free(struct vm_image *img);
int vm_load_kernel(struct vm *vm, const struct vm_image *img, const char *cmdline);
/* Runs the vCPU until the guest exits, crashes or the timeout elapses. */
int vm_run(struct vm *vm, double timeout_s);
void vm_print_stats(const struct vm *vm, FILE *out);

/* The registered devices' hooks, in order (vm_services.c). start: 0 or -1
 * with vm->err set; then the I/O thread starts. stop: every device, then the
 * I/O thread. destroy: stop, then every device's destroy. */
int vm_devices_start(struct vm *vm);
void vm_devices_stop(struct vm *vm);
void vm_devices_print_stats(struct vm *vm, FILE *out);
void vm_devices_destroy(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
