/* Interrupt lines from device models to the in-kernel IOAPIC. Device models
 * call irq_set_level(); the VMM implements it with KVM_IRQ_LINE, tests with a
 * fake that records levels. */
#ifndef VPIO_IRQ_H
#define VPIO_IRQ_H

struct irq_line {
    void (*set_level)(void *opaque, unsigned gsi, int level);
    void *opaque;
    unsigned gsi;
};

static inline void irq_set_level(const struct irq_line *line, int level)
{
    if (line->set_level)
        line->set_level(line->opaque, line->gsi, level);
}

#endif
