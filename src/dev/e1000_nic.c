/* The e1000 as a NIC of a VM (see e1000_nic.h). */
#include "dev/e1000_nic.h"

#include "dev/e1000_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void nic_rx_ready(void *opaque)
{
    struct e1000_nic *nic = opaque;
    e1000_rx_poll(&nic->e1000.dev);
}

/* From the backend's own receive thread (the switch port). */
static uint64_t nic_rx_arrived(void *opaque)
{
    struct e1000_nic *nic = opaque;
    return e1000_rx_arrived(&nic->e1000.dev);
}

static uint64_t nic_deadline(void *opaque)
{
    struct e1000_nic *nic = opaque;
    return e1000_next_deadline_ns(&nic->e1000.dev);
}

static void nic_timer(void *opaque, uint64_t now)
{
    struct e1000_nic *nic = opaque;
    e1000_timer_expired(&nic->e1000.dev, now);
}

/* A register write armed an earlier moderation timer: wake the I/O thread
 * if it sleeps towards a later one (the model calls this only on change). */
static void nic_deadline_changed(void *opaque, uint64_t deadline_ns)
{
    io_thread_notify(opaque, deadline_ns);
}

static int nic_start(void *opaque, char *err, size_t errlen)
{
    struct e1000_nic *nic = opaque;
    bool own_thread = net_has_rx_thread(nic->backend);
    if (own_thread && net_start_rx(nic->backend, nic_rx_arrived, nic) < 0) {
        snprintf(err, errlen, "cannot start the receive thread of %s", nic->e1000.name);
        return -1;
    }
    /* The I/O thread runs the moderation timers of every NIC, and waits
     * for input of the backends that have an fd. */
    struct io_source src = {.fd = own_thread ? -1 : net_poll_fd(nic->backend),
                            .on_ready = nic_rx_ready,
                            .next_deadline = nic_deadline,
                            .on_deadline = nic_timer,
                            .opaque = nic};
    struct io_thread *io = vm_io_thread(nic->vm);
    if (!io || io_thread_add(io, &src) < 0) {
        /* The NIC still works through its vCPU exits, but its moderation
         * timers and fd input are not served: say so, count it. */
        nic->io_source_errors++;
        fprintf(stderr, "vpio: warning: %s: the I/O thread refused it (timers not served)\n",
                nic->e1000.name);
    }
    if (nic->csb_offered) {
        if (e1000_csb_kvm_start(&nic->csb) < 0) {
            snprintf(err, errlen, "cannot start the CSB I/O thread of %s", nic->e1000.name);
            return -1;
        }
        nic->csb_running = true;
    }
    return 0;
}

static void nic_stop(void *opaque)
{
    struct e1000_nic *nic = opaque;
    net_stop_rx(nic->backend); /* before the model it calls into goes away */
    if (nic->csb_offered) {
        /* Also when the thread never started: it unhooks the model and
         * closes the doorbells. */
        e1000_csb_kvm_stop(&nic->csb);
        nic->csb_offered = nic->csb_running = false;
    }
}

static void nic_print_stats(void *opaque, FILE *out)
{
    struct e1000_nic *nic = opaque;
    struct e1000_stats s;
    e1000_get_stats(&nic->e1000.dev, &s);
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
            nic->e1000.name, net_desc(nic->backend), (unsigned long long)exits,
            (unsigned long long)s.tdt_writes, (unsigned long long)s.irqs_raised,
            (unsigned long long)s.irqs_suppressed, (unsigned long long)s.tx_frames,
            (unsigned long long)s.tx_bytes, (unsigned long long)s.rx_frames,
            (unsigned long long)s.rx_bytes, (unsigned long long)drops, (unsigned long long)gerrs);
    if (nic->csb_offered)
        fprintf(out,
                "vpio stats: %s csb enables=%llu doorbells=%llu sleeps=%llu irqfd=%s "
                "edge_irqs=%llu rx_arrivals_deferred=%llu\n",
                nic->e1000.name, (unsigned long long)s.csb_enables,
                (unsigned long long)s.csb_doorbells, (unsigned long long)s.csb_sleeps,
                nic->csb.irqfd >= 0 ? "yes" : "no", (unsigned long long)nic->csb.pulses,
                (unsigned long long)s.rx_arrivals_deferred);
    /* Every error counter, also when 0 (a failed KVM_IOEVENTFD silently
     * turns CSB kicks into user-space exits: bind_errors says so). */
    fprintf(out, "vpio stats: %s errors bind_errors=%llu irqfd_errors=%llu io_source_errors=%llu\n",
            nic->e1000.name, (unsigned long long)nic->csb.bind_errors,
            (unsigned long long)nic->csb.irqfd_errors, (unsigned long long)nic->io_source_errors);
}

static void nic_destroy(void *opaque, bool undo)
{
    struct e1000_nic *nic = opaque;
    e1000_pci_destroy(&nic->e1000);
    if (undo)
        net_backend_discard(nic->backend);
    else
        net_backend_close(nic->backend);
    free(nic);
}

static const struct vm_device_ops e1000_nic_ops = {
    .name = "e1000",
    .start = nic_start,
    .stop = nic_stop,
    .print_stats = nic_print_stats,
    .destroy = nic_destroy,
};

struct e1000_nic *e1000_nic_get(struct vm *vm, unsigned index)
{
    return vm_device_find(vm, &e1000_nic_ops, index);
}

unsigned e1000_nic_count(struct vm *vm)
{
    return vm_device_count(vm, &e1000_nic_ops);
}

int e1000_nic_add(struct vm *vm, const char *spec, char *err, size_t errlen)
{
    unsigned index = e1000_nic_count(vm);
    if (index >= E1000_NIC_MAX) {
        snprintf(err, errlen, "at most %d NICs", E1000_NIC_MAX);
        return VM_DEVICE_BAD_SPEC;
    }
    struct net_nic_spec parsed;
    struct e1000_nic_opts opts;
    char why[200];
    if (net_nic_spec_parse(spec, &parsed, why, sizeof(why)) < 0 ||
        e1000_nic_opts_parse(parsed.dev_opts, &opts, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "--nic %s: %s", spec, why);
        return VM_DEVICE_BAD_SPEC;
    }
    /* The I/O thread exists (not yet running) before any model can report a
     * deadline to it. */
    struct io_thread *io = vm_io_thread(vm);
    if (!io) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return VM_DEVICE_SETUP;
    }
    struct e1000_config cfg = {.mitigation = opts.mitigation,
                               .csb = opts.csb,
                               .deadline_changed = nic_deadline_changed,
                               .deadline_opaque = io};
    if (parsed.has_mac)
        memcpy(cfg.mac, parsed.mac, 6);
    else
        net_default_mac(index, cfg.mac);
    struct e1000_nic *nic = calloc(1, sizeof(*nic));
    if (!nic) {
        snprintf(err, errlen, "--nic %s: out of memory", spec);
        return VM_DEVICE_SETUP;
    }
    nic->vm = vm;
    nic->backend = net_backend_create(&parsed, why, sizeof(why));
    if (!nic->backend) { /* the spec parsed: a tap, file or switch port failed */
        snprintf(err, errlen, "--nic %s: %s", spec, why);
        free(nic);
        return VM_DEVICE_SETUP;
    }
    struct irq_line irq = vm_intx_line(vm, 0);
    if (e1000_pci_create(&nic->e1000, index, vm, &cfg, vm_guest_mem(vm), irq, nic->backend) < 0) {
        net_backend_discard(nic->backend);
        free(nic);
        snprintf(err, errlen, "--nic %s: cannot add the e1000 to the PCI bus", spec);
        return VM_DEVICE_SETUP;
    }
    if (cfg.csb) {
        if (e1000_csb_kvm_init(&nic->csb, vm, &nic->e1000, opts.csb_poll_us) < 0) {
            snprintf(err, errlen, "--nic %s: CSB set-up: %s", spec, strerror(errno));
            e1000_pci_destroy(&nic->e1000);
            net_backend_discard(nic->backend);
            free(nic);
            return VM_DEVICE_SETUP;
        }
        nic->csb_offered = true;
    }
    if (vm_device_register(vm, &e1000_nic_ops, nic) < 0) {
        snprintf(err, errlen, "--nic %s: too many devices", spec);
        nic_stop(nic);
        nic_destroy(nic, true);
        return VM_DEVICE_SETUP;
    }
    return 0;
}
