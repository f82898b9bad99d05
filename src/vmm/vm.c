/* KVM VM set-up and tear-down (see vm.h); the run loop is in vcpu.c. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pvh.h"
#include "vpio/clock.h"

/* Addresses KVM on Intel needs for its real-mode helpers, just below 4 GiB
 * and clear of the PCI window and the IOAPIC/LAPIC pages. */
#define KVM_TSS_ADDR 0xfffbd000u
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000u

static int fail(struct vm *vm, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
    va_end(ap);
    return status;
}

static int open_kvm(struct vm *vm)
{
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        if (errno == ENOENT)
            return fail(vm, VM_EXIT_NO_KVM,
                        "/dev/kvm does not exist: this machine offers no KVM (no hardware "
                        "virtualization, or the kvm module is not loaded)");
        if (errno == EACCES || errno == EPERM)
            return fail(vm, VM_EXIT_NO_KVM,
                        "/dev/kvm: permission denied (run as root or join the kvm group)");
        return fail(vm, VM_EXIT_NO_KVM, "/dev/kvm: %s", strerror(errno));
    }
    int version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        return fail(vm, VM_EXIT_NO_KVM, "KVM API version %d, expected %d", version,
                    KVM_API_VERSION);
    static const struct {
        int cap;
        const char *name;
    } needed[] = {{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
                  {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
                  {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                  {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}};
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0)
            return fail(vm, VM_EXIT_NO_KVM, "KVM lacks %s", needed[i].name);
    return 0;
}

static int setup_memory(struct vm *vm, uint64_t size)
{
    void *ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        return fail(vm, VM_EXIT_SETUP, "cannot allocate %llu bytes of guest RAM: %s",
                    (unsigned long long)size, strerror(errno));
    vm->mem.host = ram;
    vm->mem.size = size;
    madvise(ram, size, MADV_HUGEPAGE); /* fewer TLB misses on the packet path */
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = size,
        .userspace_addr = (uintptr_t)ram,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    return 0;
}

/* The host's supported CPUID, minus what this nested KVM cannot give a guest
 * (ARCH_CAPABILITIES, as with QEMU's -cpu host,-arch-capabilities). */
static int setup_cpuid(struct vm *vm)
{
    int n = 128;
    struct kvm_cpuid2 *cpuid = NULL;
    for (;;) {
        cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));
        if (!cpuid)
            return fail(vm, VM_EXIT_SETUP, "out of memory");
        cpuid->nent = n;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
            break;
        free(cpuid);
        if (errno != E2BIG || n >= 4096)
            return fail(vm, VM_EXIT_SETUP, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        n *= 2;
    }
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 1)
            e->ebx &= 0x00ffffff; /* initial APIC ID 0 */
        if (e->function == 7 && e->index == 0)
            e->edx &= ~(1u << 29); /* ARCH_CAPABILITIES */
    }
    int r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid);
    int saved = errno;
    free(cpuid);
    if (r < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_CPUID2: %s", strerror(saved));
    return 0;
}

static int setup_vcpu(struct vm *vm)
{
    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_CREATE_VCPU: %s", strerror(errno));
    int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < (int)sizeof(struct kvm_run))
        return fail(vm, VM_EXIT_SETUP, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
    vm->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        return fail(vm, VM_EXIT_SETUP, "mmap of kvm_run: %s", strerror(errno));
    }
    vm->run_size = size;
    return setup_cpuid(vm);
}

static int setup_devices(struct vm *vm)
{
    vm->pio.name = "pio";
    vm->mmio.name = "mmio";
    serial_init(&vm->com1, stdout);
    if (bus_register(&vm->pio, SERIAL_COM1_PORT, 8, serial_io, &vm->com1, "com1") < 0 ||
        bus_register(&vm->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, debug_exit_io, &vm->dbg,
                     "debug-exit") < 0 ||
        pci_host_init(&vm->pci, &vm->pio, &vm->mmio) < 0)
        return fail(vm, VM_EXIT_SETUP, "cannot register the PC devices");
    return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
    memset(vm, 0, sizeof(*vm));
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    vm->start_ns = vpio_now_ns();
    if (cfg->mem_size < VM_MIN_MEM || cfg->mem_size > VM_MAX_MEM)
        return fail(vm, VM_EXIT_USAGE, "memory size %llu MiB out of range (%llu MiB to %llu MiB)",
                    (unsigned long long)(cfg->mem_size >> 20),
                    (unsigned long long)(VM_MIN_MEM >> 20), (unsigned long long)(VM_MAX_MEM >> 20));
    int r = open_kvm(vm);
    if (r)
        return r;
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0)
        return fail(vm, VM_EXIT_NO_KVM, "KVM_CREATE_VM: %s", strerror(errno));
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_TSS_ADDR: %s", strerror(errno));
    uint64_t identity = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
    /* SPEAKER_DUMMY: port 0x61 in the kernel too, with PIT channel 2's gate
     * and output (bit 5), which the guest's TSC calibration polls. */
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_CREATE_PIT2: %s", strerror(errno));
    /* Best effort: older kernels have no per-VM halt polling setting. */
    struct kvm_enable_cap hp = {.cap = KVM_CAP_HALT_POLL, .args = {cfg->halt_poll_ns}};
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) > 0 &&
        ioctl(vm->vm_fd, KVM_ENABLE_CAP, &hp) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_CAP_HALT_POLL: %s", strerror(errno));
    if ((r = setup_memory(vm, cfg->mem_size)) || (r = setup_vcpu(vm)) || (r = setup_devices(vm)))
        return r;
    return 0;
}

/* The PVH entry state: 32-bit protected mode, flat segments, paging off,
 * EBX = start info (REFERENCE.md, "PVH boot"). */
static int set_entry_state(struct vm *vm, uint32_t entry, uint64_t start_info)
{
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_GET_SREGS: %s", strerror(errno));
    struct kvm_segment code = {.base = 0,
                               .limit = 0xffffffff,
                               .selector = 0x8,
                               .type = 0xb, /* exec/read, accessed */
                               .present = 1,
                               .dpl = 0,
                               .db = 1,
                               .s = 1,
                               .l = 0,
                               .g = 1};
    struct kvm_segment data = code;
    data.selector = 0x10;
    data.type = 0x3; /* read/write, accessed */
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = (struct kvm_segment){.base = 0,
                                    .limit = 0x67,
                                    .selector = 0x18,
                                    .type = 0xb, /* busy 32-bit TSS */
                                    .present = 1,
                                    .s = 0,
                                    .g = 0};
    sregs.cr0 = 0x11; /* PE | ET */
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_SREGS: %s", strerror(errno));
    struct kvm_regs regs = {.rip = entry, .rbx = start_info, .rflags = 0x2};
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return fail(vm, VM_EXIT_SETUP, "KVM_SET_REGS: %s", strerror(errno));
    return 0;
}

static int image_fail(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    return VM_EXIT_BAD_IMAGE;
}

int vm_image_read(struct vm_image *img, const char *path, uint64_t mem_size, char *err,
                  size_t errlen)
{
    memset(img, 0, sizeof(*img));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return image_fail(err, errlen, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return image_fail(err, errlen, path, "not a regular file");
    }
    if ((uint64_t)st.st_size > VM_MAX_MEM) {
        close(fd);
        return image_fail(err, errlen, path, "too large for any guest");
    }
    img->size = st.st_size;
    img->data = malloc(img->size ? img->size : 1);
    size_t got = 0;
    int saved = 0;
    while (img->data && got < img->size) {
        ssize_t n = read(fd, img->data + got, img->size - got);
        if (n <= 0) {
            saved = n < 0 ? errno : EIO;
            break;
        }
        got += n;
    }
    close(fd);
    if (!img->data || got != img->size) {
        vm_image_free(img);
        return image_fail(err, errlen, path, saved ? strerror(saved) : "out of memory");
    }
    char why[200];
    if (pvh_parse(img->data, img->size, mem_size, &img->pvh, why, sizeof(why)) < 0) {
        vm_image_free(img);
        return image_fail(err, errlen, path, why);
    }
    return 0;
}

void vm_image_free(struct vm_image *img)
{
    free(img->data);
    img->data = NULL;
}

int vm_load_kernel(struct vm *vm, const struct vm_image *img, const char *cmdline)
{
    struct pvh_image pvh;
    char err[200];
    if (pvh_load(img->data, img->size, &vm->mem, &pvh, err, sizeof(err)) < 0)
        return fail(vm, VM_EXIT_BAD_IMAGE, "%s", err);
    uint64_t info = pvh_write_start_info(&vm->mem, cmdline, err, sizeof(err));
    if (!info)
        return fail(vm, VM_EXIT_USAGE, "%s", err);
    return set_entry_state(vm, pvh.entry, info);
}

void vm_destroy(struct vm *vm)
{
    vm_devices_destroy(vm);
    if (vm->run)
        munmap(vm->run, vm->run_size);
    if (vm->mem.host)
        munmap(vm->mem.host, vm->mem.size);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    vm->run = NULL;
    vm->mem.host = NULL;
    vm->vcpu_fd = vm->vm_fd = vm->kvm_fd = -1;
}
