/* NICs of a VM (see vm_nic.h). */
#include "vm_nic.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

/* INTx from a device model: the in-kernel IOAPIC pin follows the level. */
static void kvm_set_irq_level(void *opaque, unsigned gsi, int level)
{
    struct vm *vm = opaque;
    struct kvm_irq_level irq = {.irq = gsi, .level = level};
    if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
        vm->irq_errors++;
}

static void nic_rx_ready(void *opaque)
{
    struct vm_nic *nic = opaque;
    e1000_rx_poll(&nic->e1000.dev);
}

/* From the backend's own receive thread (the switch port). */
static uint64_t nic_rx_arrived(void *opaque)
{
    struct vm_nic *nic = opaque;
    return e1000_rx_arrived(&nic->e1000.dev);
}

static uint64_t nic_deadline(void *opaque)
{
    struct vm_nic *nic = opaque;
    return e1000_next_deadline_ns(&nic->e1000.dev);
}

static void nic_timer(void *opaque, uint64_t now)
{
    struct vm_nic *nic = opaque;
    e1000_timer_expired(&nic->e1000.dev, now);
}

/* A register write armed an earlier moderation timer: wake the I/O thread
 * if it sleeps towards a later one (the model calls this only on change). */
static void nic_deadline_changed(void *opaque, uint64_t deadline_ns)
{
    io_thread_notify(opaque, deadline_ns);
}

int vm_nic_add(struct vm *vm, const char *spec)
{
    struct vm_nics *nics = &vm->nics;
    if (nics->count >= VM_MAX_NICS) {
        snprintf(vm->err, sizeof(vm->err), "at most %d NICs", VM_MAX_NICS);
        return -1;
    }
    struct net_nic_spec parsed;
    char err[200];
    if (net_nic_spec_parse(spec, &parsed, err, sizeof(err)) < 0) {
        snprintf(vm->err, sizeof(vm->err), "--nic %s: %s", spec, err);
        return -1;
    }
    /* The I/O thread exists (not yet running) before any model can report a
     * deadline to it. */
    if (!nics->io_ready) {
        if (io_thread_init(&nics->io) < 0) {
            snprintf(vm->err, sizeof(vm->err), "eventfd: %s", strerror(errno));
            return -1;
        }
        nics->io_ready = true;
    }
    unsigned index = nics->count;
    struct e1000_config cfg = {.mitigation = parsed.mitigation != 0,
                               .csb = parsed.csb != 0,
                               .deadline_changed = nic_deadline_changed,
                               .deadline_opaque = &nics->io};
    if (parsed.has_mac)
        memcpy(cfg.mac, parsed.mac, 6);
    else
        net_default_mac(index, cfg.mac);
    struct vm_nic *nic = &nics->nic[index];
    memset(nic, 0, sizeof(*nic));
    nic->vm = vm;
    nic->backend = net_backend_create(&parsed, err, sizeof(err));
    if (!nic->backend) {
        snprintf(vm->err, sizeof(vm->err), "--nic %s: %s", spec, err);
        return -1;
    }
    struct irq_line irq = {.set_level = kvm_set_irq_level, .opaque = vm};
    if (e1000_pci_create(&nic->e1000, index, &vm->pci, &cfg, &vm->mem, irq, nic->backend) < 0) {
        net_backend_close(nic->backend);
        snprintf(vm->err, sizeof(vm->err), "--nic %s: cannot add the e1000 to the PCI bus", spec);
        return -1;
    }
    if (cfg.csb) {
        if (vm_csb_init(&nic->csb, vm->vm_fd, &nic->e1000, parsed.csb_poll_us) < 0) {
            e1000_pci_destroy(&nic->e1000);
            net_backend_close(nic->backend);
            snprintf(vm->err, sizeof(vm->err), "--nic %s: CSB set-up: %s", spec, strerror(errno));
            return -1;
        }
        nic->csb_offered = true;
    }
    nics->count++;
    return 0;
}

int vm_nics_start(struct vm *vm)
{
    struct vm_nics *nics = &vm->nics;
    if (nics->count == 0)
        return 0;
    for (int i = 0; i < nics->count; i++) {
        struct vm_nic *nic = &nics->nic[i];
        bool own_thread = net_has_rx_thread(nic->backend);
        if (own_thread && net_start_rx(nic->backend, nic_rx_arrived, nic) < 0) {
            snprintf(vm->err, sizeof(vm->err), "cannot start the receive thread of %s",
                     nic->e1000.name);
            return -1;
        }
        /* The I/O thread runs the moderation timers of every NIC, and waits
         * for input of the backends that have an fd. */
        struct io_source src = {.fd = own_thread ? -1 : net_poll_fd(nic->backend),
                                .on_ready = nic_rx_ready,
                                .next_deadline = nic_deadline,
                                .on_deadline = nic_timer,
                                .opaque = nic};
        io_thread_add(&nics->io, &src);
    }
    if (io_thread_start(&nics->io) < 0) {
        snprintf(vm->err, sizeof(vm->err), "cannot start the I/O thread");
        return -1;
    }
    for (int i = 0; i < nics->count; i++) {
        struct vm_nic *nic = &nics->nic[i];
        if (!nic->csb_offered)
            continue;
        if (vm_csb_start(&nic->csb) < 0) {
            snprintf(vm->err, sizeof(vm->err), "cannot start the CSB I/O thread of %s",
                     nic->e1000.name);
            return -1;
        }
        nic->csb_running = true;
    }
    return 0;
}

void vm_nics_print_stats(struct vm *vm, FILE *out)
{
    struct vm_nics *nics = &vm->nics;
    for (int i = 0; i < nics->count; i++) {
        struct vm_nic *nic = &nics->nic[i];
        struct e1000 *d = &nic->e1000.dev;
        pthread_mutex_lock(&d->lock);
        struct e1000_stats s = d->stats;
        pthread_mutex_unlock(&d->lock);
        uint64_t drops = 0, gerrs = 0, exits = 0;
        for (int k = 0; k < E1000_DROP_COUNT; k++)
            drops += s.drops[k];
        for (int k = 0; k < E1000_GERR_COUNT; k++)
            gerrs += s.guest_errors[k];
        for (int k = 0; k < E1000_RC_COUNT; k++)
            exits += s.exits_read[k] + s.exits_write[k];
        fprintf(out,
                "vpio stats: %s (%s) exits=%llu tdt_writes=%llu irqs=%llu suppressed=%llu "
                "tx=%llu/%lluB rx=%llu/%lluB drops=%llu guest_errors=%llu\n",
                nic->e1000.name, nic->backend->desc, (unsigned long long)exits,
                (unsigned long long)s.tdt_writes, (unsigned long long)s.irqs_raised,
                (unsigned long long)s.irqs_suppressed, (unsigned long long)s.tx_frames,
                (unsigned long long)s.tx_bytes, (unsigned long long)s.rx_frames,
                (unsigned long long)s.rx_bytes, (unsigned long long)drops,
                (unsigned long long)gerrs);
        if (nic->csb_offered)
            fprintf(out,
                    "vpio stats: %s csb enables=%llu doorbells=%llu sleeps=%llu irqfd=%s "
                    "edge_irqs=%llu rx_arrivals_deferred=%llu\n",
                    nic->e1000.name, (unsigned long long)s.csb_enables,
                    (unsigned long long)s.csb_doorbells, (unsigned long long)s.csb_sleeps,
                    nic->csb.irqfd >= 0 ? "yes" : "no", (unsigned long long)nic->csb.pulses,
                    (unsigned long long)s.rx_arrivals_deferred);
    }
    if (nics->io_ready)
        fprintf(out, "vpio stats: io-thread wakeups=%llu timer_runs=%llu ready_runs=%llu\n",
                (unsigned long long)nics->io.wakeups, (unsigned long long)nics->io.deadline_runs,
                (unsigned long long)nics->io.ready_runs);
}

void vm_nics_stop(struct vm *vm)
{
    for (int i = 0; i < vm->nics.count; i++) {
        struct vm_nic *nic = &vm->nics.nic[i];
        net_stop_rx(nic->backend); /* before the model it calls into goes away */
        if (nic->csb_offered) {
            /* Also when the thread never started: it unhooks the model and
             * closes the doorbells. */
            vm_csb_stop(&nic->csb);
            nic->csb_offered = nic->csb_running = false;
        }
    }
    if (vm->nics.io_ready)
        io_thread_stop(&vm->nics.io);
}

void vm_nics_destroy(struct vm *vm)
{
    struct vm_nics *nics = &vm->nics;
    vm_nics_stop(vm);
    nics->io_ready = false;
    for (int i = 0; i < nics->count; i++) {
        e1000_pci_destroy(&nics->nic[i].e1000);
        net_backend_close(nics->nic[i].backend);
    }
    nics->count = 0;
}
