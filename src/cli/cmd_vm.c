/* vpio vm: boot a PVH kernel under KVM and run it to its exit. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dev/e1000_nic.h"
#include "devif/io_cpus.h"
#include "net/backend.h"
#include "vm_args.h"
#include "vmm/vm.h"

/* The switch port's receive thread is started by the net layer, which
 * cannot include devif: it calls this hook. */
static void place_backend_thread(void)
{
    io_cpus_place_self();
}

int cmd_vm(int argc, char **argv)
{
    struct vm_args args;
    char err[256];
    if (vm_args_parse(argc, argv, &args, err, sizeof(err)) < 0) {
        fprintf(stderr, "vpio vm: %s\n", err);
        return VM_EXIT_USAGE;
    }
    if (args.help) {
        /* vm_args_parse printed the help text */
        return 0;
    }
    if (args.io_cpus) {
        /* against the CPUs this process may use (before --cpus narrows them) */
        cpu_set_t now;
        if (sched_getaffinity(0, sizeof(now), &now) < 0) {
            fprintf(stderr, "vpio vm: --io-cpus: %s\n", strerror(errno));
            return VM_EXIT_USAGE;
        }
        cpu_set_t both;
        CPU_AND(&both, &now, &args.io_cpuset);
        if (CPU_COUNT(&both) == 0) {
            fprintf(stderr, "vpio vm: --io-cpus %s: none of these CPUs is usable\n", args.io_cpus);
            return VM_EXIT_USAGE;
        }
        io_cpus_set(&args.io_cpuset);
        net_thread_start_hook = place_backend_thread;
    }
    /* Before any thread exists: the vCPU and every I/O thread inherit it. */
    if (args.cpus && sched_setaffinity(0, sizeof(args.cpuset), &args.cpuset) < 0) {
        fprintf(stderr, "vpio vm: --cpus %s: %s\n", args.cpus, strerror(errno));
        return VM_EXIT_USAGE;
    }
    struct vm_image image;
    int status = vm_image_read(&image, args.vm.kernel, args.vm.mem_size, err, sizeof(err));
    if (status) {
        fprintf(stderr, "vpio vm: %s\n", err);
        return status;
    }
    static struct vm vm; /* large; and the timeout handler refers to its kvm_run */
    status = vm_create(&vm, &args.vm);
    for (int i = 0; status == 0 && i < args.nic_count; i++) {
        int r = e1000_nic_add(&vm, args.nics[i], vm.err, sizeof(vm.err));
        if (r < 0) /* a wrong spec is a usage error; a tap or eventfd that failed is not */
            status = r == VM_DEVICE_BAD_SPEC ? VM_EXIT_USAGE : VM_EXIT_SETUP;
    }
    if (status == 0)
        status = vm_load_kernel(&vm, &image, args.vm.cmdline);
    vm_image_free(&image);
    if (status == 0) {
        status = vm_run(&vm, args.vm.timeout_s);
        if (status % 2 == 0)
            fprintf(stderr, "vpio vm: %s\n", vm.err);
        if (args.vm.stats)
            vm_print_stats(&vm, stderr);
    } else {
        fprintf(stderr, "vpio vm: %s\n", vm.err);
        vm.setup_failed = true; /* remove what the NICs created (a switch) */
    }
    vm_destroy(&vm);
    return status;
}
