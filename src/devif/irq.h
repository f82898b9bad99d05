/* Interrupt lines from device models to the in-kernel IOAPIC. Device models
 * call irq_set_level(); the VMM implements it with KVM_IRQ_LINE, tests with a
 * fake that records levels. */
#ifndef VPIO_IRQ_H
#define VPIO_IRQ_H

struct irq_line {
    void (*set_level)(void *opaque, unsigned gsi, int level);
    void *opaque;
    unsigned gsi;
    /* Optional: one edge (an interrupt message) on the line, e.g. through a
     * KVM irqfd. Without it a pulse is a raise and a lower of the level. */
    void (*pulse)(void *opaque, unsigned gsi);
    void *pulse_opaque;
};

static inline void irq_set_level(const struct irq_line *line, int level)
{
    if (line->set_level)
        line->set_level(line->opaque, line->gsi, level);
}

static inline void irq_pulse(const struct irq_line *line)
{
    if (line->pulse) {
        line->pulse(line->pulse_opaque, line->gsi);
        return;
    }
    irq_set_level(line, 1);
    irq_set_level(line, 0);
}

#endif
