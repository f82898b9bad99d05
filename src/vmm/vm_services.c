/* The VM's services to its devices (devif/vm_services.h) and the walks over
 * the registered devices (vm.h). Generic: no device is named here. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

struct guest_mem *vm_guest_mem(struct vm *vm)
{
    return &vm->mem;
}

int vm_pci_add(struct vm *vm, struct pci_device *dev)
{
    return pci_add_device(&vm->pci, dev);
}

/* INTx from a device model: the in-kernel IOAPIC pin follows the level. */
static void kvm_set_irq_level(void *opaque, unsigned gsi, int level)
{
    struct vm *vm = opaque;
    struct kvm_irq_level irq = {.irq = gsi, .level = level};
    if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
        __atomic_fetch_add(&vm->irq_errors, 1, __ATOMIC_RELAXED);
}

struct irq_line vm_intx_line(struct vm *vm, unsigned gsi)
{
    return (struct irq_line){.set_level = kvm_set_irq_level, .opaque = vm, .gsi = gsi};
}

static int ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool assign)
{
    struct kvm_ioeventfd io;
    memset(&io, 0, sizeof(io));
    io.addr = addr;
    io.len = len;
    io.fd = fd;
    io.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN;
    return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -1 : 0;
}

int vm_ioeventfd_add(struct vm *vm, uint64_t addr, uint32_t len, int fd)
{
    return ioeventfd(vm, addr, len, fd, true);
}

int vm_ioeventfd_del(struct vm *vm, uint64_t addr, uint32_t len, int fd)
{
    return ioeventfd(vm, addr, len, fd, false);
}

static int irqfd(struct vm *vm, unsigned gsi, int fd, bool assign)
{
    struct kvm_irqfd req = {
        .fd = (uint32_t)fd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
    return ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0 ? -1 : 0;
}

int vm_irqfd_add(struct vm *vm, unsigned gsi, int fd)
{
    return irqfd(vm, gsi, fd, true);
}

int vm_irqfd_del(struct vm *vm, unsigned gsi, int fd)
{
    return irqfd(vm, gsi, fd, false);
}

struct io_thread *vm_io_thread(struct vm *vm)
{
    if (!vm->io_ready) {
        if (io_thread_init(&vm->io) < 0)
            return NULL;
        vm->io_ready = true;
    }
    return &vm->io;
}

int vm_device_register(struct vm *vm, const struct vm_device_ops *ops, void *opaque)
{
    if (vm->device_count >= VM_MAX_DEVICES)
        return -1;
    vm->devices[vm->device_count].ops = ops;
    vm->devices[vm->device_count].opaque = opaque;
    vm->device_count++;
    return 0;
}

void *vm_device_find(struct vm *vm, const struct vm_device_ops *ops, unsigned index)
{
    for (int i = 0; i < vm->device_count; i++)
        if (vm->devices[i].ops == ops && index-- == 0)
            return vm->devices[i].opaque;
    return NULL;
}

unsigned vm_device_count(struct vm *vm, const struct vm_device_ops *ops)
{
    unsigned n = 0;
    for (int i = 0; i < vm->device_count; i++)
        n += vm->devices[i].ops == ops;
    return n;
}

int vm_devices_start(struct vm *vm)
{
    for (int i = 0; i < vm->device_count; i++) {
        char err[200] = "";
        if (vm->devices[i].ops->start(vm->devices[i].opaque, err, sizeof(err)) < 0) {
            snprintf(vm->err, sizeof(vm->err), "%s", err[0] ? err : "a device failed to start");
            return -1;
        }
    }
    if (vm->io_ready && vm->io.count > 0 && io_thread_start(&vm->io) < 0) {
        snprintf(vm->err, sizeof(vm->err), "cannot start the I/O thread");
        return -1;
    }
    return 0;
}

void vm_devices_stop(struct vm *vm)
{
    for (int i = 0; i < vm->device_count; i++)
        if (vm->devices[i].ops->stop)
            vm->devices[i].ops->stop(vm->devices[i].opaque);
    if (vm->io_ready)
        io_thread_stop(&vm->io);
}

void vm_devices_print_stats(struct vm *vm, FILE *out)
{
    for (int i = 0; i < vm->device_count; i++)
        if (vm->devices[i].ops->print_stats)
            vm->devices[i].ops->print_stats(vm->devices[i].opaque, out);
    if (vm->io_ready)
        fprintf(out, "vpio stats: io-thread wakeups=%llu timer_runs=%llu ready_runs=%llu\n",
                (unsigned long long)vm->io.wakeups, (unsigned long long)vm->io.deadline_runs,
                (unsigned long long)vm->io.ready_runs);
}

void vm_devices_destroy(struct vm *vm)
{
    vm_devices_stop(vm);
    for (int i = vm->device_count - 1; i >= 0; i--)
        if (vm->devices[i].ops->destroy)
            vm->devices[i].ops->destroy(vm->devices[i].opaque, vm->setup_failed);
    vm->device_count = 0;
    vm->io_ready = false; /* io_thread_stop closed its eventfd */
}
