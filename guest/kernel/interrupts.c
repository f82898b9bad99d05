/* Ring-3 side of interrupts: the wait/halt system calls, exit through the
 * debug-exit port, masking the legacy PIC. The ring-0 handlers are in
 * arch/entry.S; their counters live there too (user-accessible .data). */
#include "io.h"
#include "kernel.h"

void sys_wait(u64 seen_irq_seq)
{
    syscall2(SYS_WAIT, seen_irq_seq, 0);
}

void sys_halt(void)
{
    for (;;)
        syscall2(SYS_HALT, 0, 0);
}

/* QEMU's isa-debug-exit and vpio end the VM with status (code << 1) | 1.
 * Without such a device, halt forever. */
void guest_exit(int code)
{
    outb(DEBUG_EXIT_PORT, (u8)code);
    sys_halt();
}

/* Firmware may leave the 8259s unmasked with IRQ0 on vector 8; we use the
 * LAPIC and IOAPIC only. */
void pic_mask_all(void)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/* Race-free sleep: read irq_seq before the check; SYS_WAIT returns at once
 * if an interrupt came in between. */
u64 wait_change64(volatile u64 *p, u64 old)
{
    for (;;) {
        u64 seen = irq_seq_read();
        u64 v = *p;
        if (v != old)
            return v;
        sys_wait(seen);
    }
}
