/* KVM glue of the e1000 CSB extension (see e1000_csb_kvm.h). */
#include "dev/e1000_csb_kvm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/e1000_regs.h"

static int ioeventfd(struct e1000_csb_kvm *c, uint64_t addr, bool assign)
{
    int fd = c->waiter.doorbell_fd;
    int r = assign ? vm_ioeventfd_add(c->vm, addr, 4, fd) : vm_ioeventfd_del(c->vm, addr, 4, fd);
    if (r < 0 && !c->bind_warned) {
        c->bind_warned = true;
        fprintf(stderr,
                "vpio: warning: %s: KVM_IOEVENTFD at 0x%llx: %s (CSB kicks exit to user space)\n",
                c->nic->name, (unsigned long long)addr, strerror(errno));
    }
    return r;
}

/* Brings the doorbell ioeventfds in line with the guest's CSB state (on)
 * and where BAR0 is decoded now: unbound from the old address, bound at the
 * current one while the CSB is on and BAR0 decoded. Caller holds
 * c->bind_lock. */
static void bind(struct e1000_csb_kvm *c, bool on)
{
    c->csb_on = on;
    const struct pci_bar *bar = &c->nic->pci.bars[0];
    bool want = on && bar->mapped;
    if (c->bound && (!want || c->bound_base != bar->mapped_addr)) {
        if (ioeventfd(c, c->bound_base + E1000_TDT, false) < 0)
            c->bind_errors++;
        if (ioeventfd(c, c->bound_base + E1000_RDT, false) < 0)
            c->bind_errors++;
        c->bound = false;
    }
    if (!want || c->bound)
        return; /* BAR0 not decoded: kicks exit to user space, the model forwards them */
    uint64_t base = bar->mapped_addr;
    if (ioeventfd(c, base + E1000_TDT, true) < 0) {
        c->bind_errors++;
        return;
    }
    if (ioeventfd(c, base + E1000_RDT, true) < 0) {
        c->bind_errors++;
        ioeventfd(c, base + E1000_TDT, false);
        return;
    }
    c->bound = true;
    c->bound_base = base;
}

/* BAR0 moved, or its decoding was switched on or off (the PCI code, in the
 * vCPU thread that wrote configuration space, after it updated the BAR's
 * mapping): the doorbells follow it, as kvmtool re-binds its ioeventfds in
 * its BAR activate/deactivate callbacks. */
static void bar_changed(struct pci_device *pci, int bar, uint64_t addr, void *opaque)
{
    struct e1000_csb_kvm *c = opaque;
    (void)pci;
    (void)addr;
    if (bar != 0)
        return;
    pthread_mutex_lock(&c->bind_lock);
    bind(c, c->csb_on);
    pthread_mutex_unlock(&c->bind_lock);
}

/* An edge interrupt (the model's irq_pulse, device lock held). */
static void irqfd_pulse(void *opaque, unsigned gsi)
{
    struct e1000_csb_kvm *c = opaque;
    (void)gsi;
    uint64_t one = 1;
    ssize_t r = write(c->irqfd, &one, sizeof(one));
    (void)r; /* EAGAIN: one is already pending; one edge is enough */
    c->pulses++;
}

/* Creates the irqfd; without it edges are KVM_IRQ_LINE raise + lower. */
static void irqfd_setup(struct e1000_csb_kvm *c)
{
    struct e1000 *dev = &c->nic->dev;
    c->irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->irqfd < 0 || vm_irqfd_add(c->vm, c->nic->pci.irq_line, c->irqfd) < 0) {
        c->irqfd_errors++;
        fprintf(stderr, "vpio: warning: %s: irqfd: %s (edge interrupts go through KVM_IRQ_LINE)\n",
                c->nic->name, strerror(errno));
        if (c->irqfd >= 0)
            close(c->irqfd);
        c->irqfd = -1;
        return;
    }
    e1000_set_irq_pulse(dev, irqfd_pulse, c);
}

static void irqfd_teardown(struct e1000_csb_kvm *c)
{
    if (c->irqfd < 0)
        return;
    e1000_set_irq_pulse(&c->nic->dev, NULL, NULL);
    vm_irqfd_del(c->vm, c->nic->pci.irq_line, c->irqfd);
    close(c->irqfd);
    c->irqfd = -1;
}

/* From the model, device lock held, in the vCPU thread that wrote CSBAL/CTRL. */
static void csb_changed(void *opaque, bool enabled)
{
    struct e1000_csb_kvm *c = opaque;
    pthread_mutex_lock(&c->bind_lock);
    bind(c, enabled);
    pthread_mutex_unlock(&c->bind_lock);
}

int e1000_csb_kvm_init(struct e1000_csb_kvm *c, struct vm *vm, struct e1000_pci *nic,
                       unsigned poll_us)
{
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->nic = nic;
    c->irqfd = -1;
    if (e1000_csb_waiter_init(&c->waiter, poll_us) < 0)
        return -1;
    pthread_mutex_init(&c->bind_lock, NULL);
    irqfd_setup(c);
    /* Set-up, before the vCPU runs: nobody writes configuration space yet. */
    nic->pci.bar_activate = nic->pci.bar_deactivate = bar_changed;
    nic->pci.bar_opaque = c;
    e1000_set_csb_hook(&nic->dev, csb_changed, c);
    return 0;
}

int e1000_csb_kvm_start(struct e1000_csb_kvm *c)
{
    const struct pci_bar *bar = &c->nic->pci.bars[0];
    pthread_mutex_lock(&c->bind_lock);
    if (!c->bound && bar->mapped) {
        uint64_t probe = bar->mapped_addr + E1000_TDT;
        if (ioeventfd(c, probe, true) < 0)
            c->bind_errors++;
        else
            ioeventfd(c, probe, false);
    }
    pthread_mutex_unlock(&c->bind_lock);
    return e1000_csb_thread_start(&c->waiter, &c->nic->dev);
}

void e1000_csb_kvm_stop(struct e1000_csb_kvm *c)
{
    e1000_csb_thread_stop(&c->waiter);
    e1000_set_csb_hook(&c->nic->dev, NULL, NULL); /* no csb_changed runs after this */
    c->nic->pci.bar_activate = c->nic->pci.bar_deactivate = NULL; /* the vCPU has stopped */
    pthread_mutex_lock(&c->bind_lock);
    bind(c, false);
    pthread_mutex_unlock(&c->bind_lock);
    irqfd_teardown(c);
    e1000_csb_waiter_destroy(&c->waiter);
    pthread_mutex_destroy(&c->bind_lock);
}
