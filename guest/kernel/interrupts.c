/* Ring-3 side of interrupts: the wait/halt system calls, exit through the
 * debug-exit port, masking the legacy PIC. The ring-0 handlers are in
 * arch/entry.S; their counters live there too (user-accessible .data). */
#include "io.h"
#include "kernel.h"

void sys_wait(void)
{
    __asm__ volatile("int $0x80" : : "a"(SYS_WAIT) : "memory");
}

void sys_halt(void)
{
    for (;;)
        __asm__ volatile("int $0x80" : : "a"(SYS_HALT) : "memory");
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

/* Race-free sleep: check with IF clear (IOPL 3 allows cli in ring 3), and
 * the kernel's sti; hlt cannot miss an interrupt that arrives after the
 * check. Returns with IF set. */
u64 wait_change64(volatile u64 *p, u64 old)
{
    u64 v;
    cli();
    while ((v = *p) == old)
        sys_wait();
    sti();
    return v;
}
