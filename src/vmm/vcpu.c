/* The vCPU loop: run the guest, hand each exit to the bus that owns it, count
 * exits by kind. The loop never names a device. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <time.h>

#include "vm.h"
#include "vpio/clock.h"

/* The timeout: a POSIX timer whose SIGALRM goes to the vCPU thread itself
 * (SIGEV_THREAD_ID), so it interrupts KVM_RUN even when backends have
 * started threads of their own. immediate_exit closes the race of a signal
 * that arrives just before the thread enters the guest. */
static volatile sig_atomic_t timed_out;
static struct kvm_run *volatile alarm_run;
static timer_t alarm_timer;
static bool alarm_armed;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    if (alarm_run)
        alarm_run->immediate_exit = 1;
}

static int arm_timeout(struct vm *vm, double seconds)
{
    timed_out = 0;
    alarm_run = vm->run;
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        return -1;
    if (seconds <= 0)
        return 0;
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &ev, &alarm_timer) < 0)
        return -1;
    alarm_armed = true;
    struct itimerspec it = {0};
    it.it_value.tv_sec = (time_t)seconds;
    it.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
        it.it_value.tv_nsec = 1;
    return timer_settime(alarm_timer, 0, &it, NULL);
}

static void disarm_timeout(void)
{
    if (alarm_armed)
        timer_delete(alarm_timer);
    alarm_armed = false;
    alarm_run = NULL;
}

static void handle_pio(struct vm *vm)
{
    struct kvm_run *run = vm->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
    /* String I/O (rep outsb) arrives as count consecutive items. */
    for (uint32_t i = 0; i < run->io.count; i++)
        bus_access(&vm->pio, run->io.port, data + (size_t)i * run->io.size, run->io.size, is_write);
}

static void handle_mmio(struct vm *vm)
{
    struct kvm_run *run = vm->run;
    uint32_t len = run->mmio.len;
    if (len > sizeof(run->mmio.data))
        len = sizeof(run->mmio.data);
    bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

static void dump_registers(struct vm *vm)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return;
    fprintf(stderr,
            "vpio: rip=%016llx rsp=%016llx rflags=%08llx cs=%04x cr0=%08llx cr3=%08llx "
            "cr4=%08llx efer=%llx\n",
            (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
            (unsigned long long)regs.rflags, sregs.cs.selector, (unsigned long long)sregs.cr0,
            (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
            (unsigned long long)sregs.efer);
}

static int guest_crashed(struct vm *vm, const char *what)
{
    snprintf(vm->err, sizeof(vm->err), "guest stopped: %s", what);
    dump_registers(vm);
    return VM_EXIT_GUEST_CRASH;
}

int vm_run(struct vm *vm, double timeout_s)
{
    if (vm_devices_start(vm) < 0)
        return VM_EXIT_SETUP;
    if (arm_timeout(vm, timeout_s) < 0) {
        snprintf(vm->err, sizeof(vm->err), "cannot arm the timeout: %s", strerror(errno));
        return VM_EXIT_SETUP;
    }
    int status = -1;
    struct vm_exit_stats *x = &vm->exits;
    while (status < 0) {
        if (timed_out) {
            snprintf(vm->err, sizeof(vm->err), "guest did not exit within %g s (--timeout)",
                     timeout_s);
            status = VM_EXIT_TIMEOUT;
            break;
        }
        if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                vm->run->immediate_exit = 0;
                x->intr++;
                continue;
            }
            snprintf(vm->err, sizeof(vm->err), "KVM_RUN: %s", strerror(errno));
            status = VM_EXIT_SETUP;
            break;
        }
        x->total++;
        switch (vm->run->exit_reason) {
        case KVM_EXIT_IO:
            x->pio++;
            handle_pio(vm);
            break;
        case KVM_EXIT_MMIO:
            x->mmio++;
            handle_mmio(vm);
            break;
        case KVM_EXIT_HLT:
            x->hlt++; /* with the in-kernel LAPIC, HLT is served in the kernel */
            break;
        case KVM_EXIT_INTR:
            x->intr++;
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            x->irq_window++;
            break;
        case KVM_EXIT_SHUTDOWN:
            x->shutdown++;
            status = guest_crashed(vm, "shutdown (triple fault)");
            break;
        case KVM_EXIT_FAIL_ENTRY:
            status = guest_crashed(vm, "VM entry failed");
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            status = guest_crashed(vm, "KVM internal error (emulation failure)");
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            status = guest_crashed(vm, "system event (reset or power off)");
            break;
        default: {
            char what[64];
            x->other++;
            snprintf(what, sizeof(what), "unexpected KVM exit reason %u", vm->run->exit_reason);
            status = guest_crashed(vm, what);
            break;
        }
        }
        if (vm->dbg.requested)
            status = debug_exit_status(&vm->dbg);
    }
    disarm_timeout();
    vm->end_ns = vpio_now_ns();
    vm_devices_stop(vm); /* the I/O thread ends before anything it uses goes away */
    fflush(stdout);
    return status;
}

void vm_print_stats(const struct vm *vm, FILE *out)
{
    const struct vm_exit_stats *x = &vm->exits;
    double run_ms = (vm->end_ns - vm->start_ns) / 1e6;
    fprintf(out, "vpio stats: run %.3f ms", run_ms);
    if (vm->com1.first_byte_ns)
        fprintf(out, ", first serial byte at %.3f ms",
                (vm->com1.first_byte_ns - vm->start_ns) / 1e6);
    fprintf(out,
            "\nvpio stats: exits total=%llu pio=%llu mmio=%llu hlt=%llu intr=%llu "
            "irq_window=%llu shutdown=%llu other=%llu\n",
            (unsigned long long)x->total, (unsigned long long)x->pio, (unsigned long long)x->mmio,
            (unsigned long long)x->hlt, (unsigned long long)x->intr,
            (unsigned long long)x->irq_window, (unsigned long long)x->shutdown,
            (unsigned long long)x->other);
    const struct bus *buses[] = {&vm->pio, &vm->mmio};
    for (int b = 0; b < 2; b++) {
        const struct bus *bus = buses[b];
        for (int i = 0; i < bus->count; i++)
            fprintf(out, "vpio stats: %s %-12s base=0x%llx accesses=%llu\n", bus->name,
                    bus->ranges[i].name, (unsigned long long)bus->ranges[i].base,
                    (unsigned long long)bus->ranges[i].accesses);
        fprintf(out, "vpio stats: %s unclaimed accesses=%llu\n", bus->name,
                (unsigned long long)bus->unclaimed);
    }
    fprintf(out, "vpio stats: errors irq_errors=%llu\n",
            (unsigned long long)__atomic_load_n(&vm->irq_errors, __ATOMIC_RELAXED));
    vm_devices_print_stats((struct vm *)vm, out);
}
