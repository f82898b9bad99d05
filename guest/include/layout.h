/* Constants shared by the assembly entry code and the C kernel: segment
 * selectors, interrupt vectors, fixed device addresses, system call numbers.
 * Kept free of C syntax so entry.S can include it. */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define IMAGE_BASE      0x100000        /* load address (guest.ld) */

/* GDT selectors (entry.S builds the table). */
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x1b            /* 0x18 | RPL 3 */
#define SEL_UCODE       0x23            /* 0x20 | RPL 3 */
#define SEL_TSS         0x28

/* RFLAGS of ring 3: IF set, IOPL 0. Ring 3 never changes IF (entry.S). */
#define RFLAGS_USER     0x0202          /* IF, bit 1 always set */
#define RFLAGS_IF       0x200

/* Interrupt vectors. */
#define VEC_TIMER       0x20            /* LAPIC timer: ticks++ */
#define VEC_IRQ_FIRST   0x21            /* 0x21-0x2f: generic IRQ counters */
#define VEC_IRQ_LAST    0x2f
#define VEC_NIC_FIRST   0x30            /* 0x30-0x33: NIC handlers (read ICR) */
#define NIC_MAX         4
#define VEC_NIC_EDGE_FIRST 0x34         /* 0x34-0x37: NIC edge interrupts (CSB): no ICR read */
#define VEC_SPURIOUS    0xff

/* System calls: SYSCALL_INSN (ud2; .byte 0x80, see arch/entry.S), number in
 * eax, arguments in rdi, rsi, rdx. */
#define SYSCALL_INSN    "ud2; .byte 0x80"
#define SYSCALL_SIGNATURE 0x800b0f      /* its three bytes, little-endian */
#define SYS_WAIT        0               /* (seen_irq_seq): halt unless irq_seq moved */
#define SYS_HALT        1               /* halt forever (exit without debug-exit) */
#define SYS_OUTB        2               /* (port, value) */
#define SYS_OUTL        3               /* (port, value) */
#define SYS_INB         4               /* (port) -> value */
#define SYS_INL         5               /* (port) -> value */
#define SYS_OUTSB       6               /* (port, buf, n): rep outsb */
#define SYS_COUNT       7

/* Devices at fixed addresses (identity mapped, user accessible, uncached). */
#define LAPIC_BASE      0xfee00000
#define LAPIC_EOI       0xfee000b0
#define IOAPIC_BASE     0xfec00000

#define COM1            0x3f8
#define DEBUG_EXIT_PORT 0xf4

/* Exit codes written to the debug-exit port; QEMU and vpio exit with
 * status (code << 1) | 1. */
#define EXIT_OK         0               /* status 1 */
#define EXIT_FAIL       1               /* status 3: a check failed */
#define EXIT_USAGE      2               /* status 5: bad command line */
#define EXIT_FAULT      3               /* status 7: unexpected exception */

#endif
