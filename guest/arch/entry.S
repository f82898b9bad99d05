/*
 * PVH entry, the switch to long mode and ring 3, and every ring-0 code path.
 *
 * Why it looks like this: on the machine we build on, guest code at CPL 0 is
 * interpreted (~0.7 us per instruction) while CPL 3 runs natively. So ring 0
 * executes as few instructions as possible:
 *   - the page tables, GDT, TSS and IDT are static data, complete at link
 *     time (no fill loops at boot);
 *   - boot is ~20 instructions from the PVH entry to the iretq into ring 3;
 *   - interrupt handlers are 3-8 instructions; exceptions record what
 *     happened and return to a ring-3 handler;
 *   - the system calls are `wait` (sleep unless an interrupt came since the
 *     caller looked), `halt` and port I/O.
 * Everything else (bss zeroing, parsing, devices, drivers) runs in ring 3
 * with user-accessible mappings.
 *
 * Ring 3 runs with IF set and IOPL 0, and never changes either: KVM-PVM (the
 * hypervisor of our build machine) runs guest ring 3 in host user mode, where
 * it neither honours a guest IOPL nor lets `cli`/`sti` through (both #GP).
 * So port I/O is a system call, and the race-free sleep is a sequence count
 * of interrupts (irq_seq) checked by `wait` with IF clear, not cli in ring 3.
 *
 * Tables that must hold 16-bit pieces of addresses (IDT gates, the TSS
 * descriptor) are computed as offsets from __image_base inside this one
 * section, which the assembler resolves; guest.ld asserts that the section
 * starts at IMAGE_BASE and stays under 64 KiB, so the upper address bits
 * are the constant IMAGE_BASE >> 16.
 */
#include "layout.h"

#define CR0_PE          0x00000001
#define CR0_WP          0x00010000
#define CR0_PG          0x80000000
#define CR4_PAE         0x00000020
#define MSR_EFER        0xc0000080
#define EFER_LME        0x00000100

#define OFF(sym)        ((sym) - __boot_start)
#define BASE_HI16       (IMAGE_BASE >> 16)

/* ---------------------------------------------------------------------- */
/* The PVH ELF note: name "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY),
 * descriptor = 32-bit physical entry address. guest.ld puts it in PT_NOTE. */
        .section .note.Xen, "a"
        .balign 4
        .long 4, 4, 18
        .asciz "Xen"
        .balign 4
        .long pvh_entry

/* ---------------------------------------------------------------------- */
        .section .boot, "awx", @progbits
__boot_start:

/* Entry: 32-bit protected mode, paging off, EBX = hvm_start_info. */
        .code32
        .globl pvh_entry
pvh_entry:
        mov     $kstack_top, %esp
        lgdt    gdt_ptr
        mov     $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     $(CR0_PG | CR0_WP | CR0_PE), %eax
        mov     %eax, %cr0
        ljmp    $SEL_KCODE, $long_mode

        .code64
long_mode:
        mov     $SEL_TSS, %ax
        ltr     %ax
        lidt    idt_ptr(%rip)
        /* Firmware (SeaBIOS under QEMU) leaves the 8259s unmasked with the
         * PIT on vector 8; ring 3 runs with IF set, so mask them here. */
        mov     $0xff, %al
        out     %al, $0x21
        out     %al, $0xa1
        /* iretq into ring 3, IF set, IOPL 0. */
        push    $SEL_UDATA
        push    $ustack_top
        push    $RFLAGS_USER
        push    $SEL_UCODE
        push    $user_start
        mov     %ebx, %edi              /* start info pointer, zero-extended */
        iretq

/* ---------------------------------------------------------------------- */
/* Ring-0 interrupt handlers. Each one ends with EOI + iretq. The EOI store
 * writes whatever EAX holds: the xAPIC EOI register ignores the value. */

/* Every handler of a hardware interrupt counts it in irq_seq (SYS_WAIT). */

/* LAPIC timer: one counter, visible to ring 3. */
timer_isr:
        incq    timer_ticks(%rip)
        incq    irq_seq(%rip)
        movabs  %eax, LAPIC_EOI
        iretq

/* System calls. KVM-PVM (our build machine's hypervisor) turns `int N` from
 * guest ring 3 into #UD and runs the target of `syscall` without entering
 * ring 0, but delivers exceptions faithfully. So a system call is the
 * instruction sequence SYSCALL_INSN (layout.h: ud2, then the byte 0x80),
 * which raises #UD on every x86 CPU and hypervisor; the #UD handler checks
 * the three bytes, steps over them and dispatches. Number in eax, arguments
 * in rdi, rsi, rdx, result in eax; rcx, rdx and r11 are clobbered (ring 0
 * uses rcx and r11 as scratch). IF is clear on entry (interrupt gate).
 * Anything else that raises #UD is a real fault. One jump through a table:
 * every ring-0 instruction counts (see the top). */
ud_isr:
        mov     (%rsp), %rcx                    /* faulting rip */
        movl    (%rcx), %r11d
        and     $0xffffff, %r11d
        cmp     $SYSCALL_SIGNATURE, %r11d
        jne     ud_fault
        add     $3, %rcx
        mov     %rcx, (%rsp)                    /* return past the signature */
        cmp     $SYS_COUNT, %eax
        jae     sys_bad
        jmp     *syscall_table(, %rax, 8)
ud_fault:
        push    $0
        push    $6
        jmp     fault_common

/* SYS_WAIT(seen): sleep unless irq_seq moved past `seen`, the value ring 3
 * read before it checked its condition. With IF clear here, an interrupt
 * that came after that read has already bumped irq_seq (return at once);
 * one that comes later wakes the hlt: the sti shadow covers hlt. */
sys_wait:
        cmp     irq_seq(%rip), %rdi
        jne     1f
        sti
        hlt
1:      iretq

sys_outb:
        mov     %esi, %eax
        mov     %edi, %edx
        out     %al, %dx
        iretq

sys_outl:
        mov     %esi, %eax
        mov     %edi, %edx
        out     %eax, %dx
        iretq

sys_inb:
        mov     %edi, %edx
        xor     %eax, %eax
        in      %dx, %al
        iretq

sys_inl:
        mov     %edi, %edx
        in      %dx, %eax
        iretq

/* SYS_OUTSB(port, buf, n): one string instruction, one VM exit per page. */
sys_outsb:
        mov     %rdx, %rcx
        mov     %edi, %edx
        rep outsb
        iretq

sys_halt:
sys_bad:
1:      cli
        hlt
        jmp     1b

/* Spurious LAPIC vector: no EOI. */
spurious_isr:
        iretq

/* Any vector nobody asked for: count it, EOI (harmless if not in service). */
unexpected_isr:
        incl    unexpected_irqs(%rip)
        incq    irq_seq(%rip)
        movabs  %eax, LAPIC_EOI
        iretq

/* Generic device IRQs 0x21-0x2f: irq_counts[vector - 0x20]++ . Stubs are
 * 24 bytes: 32 apart (the IDT gates below use the same stride). */
        .balign 32
irq_stubs:
        .set    v, VEC_IRQ_FIRST
        .rept   VEC_IRQ_LAST - VEC_IRQ_FIRST + 1
        .balign 32
1:      incl    irq_counts + 4 * (v - 0x20)(%rip)
        incq    irq_seq(%rip)
        movabs  %eax, LAPIC_EOI
        iretq
        .if     . - 1b > 32
        .error  "IRQ stub longer than its IDT stride"
        .endif
        .set    v, v + 1
        .endr

/* NIC interrupts 0x30-0x33 (level-triggered INTx): read the NIC's ICR to
 * deassert the line before EOI, accumulate it for the ring-3 driver
 * (nic_icr[n], taken with xchg), count the interrupt. */
/* Stubs are 41 bytes: 64 apart (the IDT gates below use the same stride). */
        .balign 64
nic_stubs:
        .set    n, 0
        .rept   NIC_MAX
        .balign 64
1:      push    %rax
        mov     nic_icr_addr + 8 * n(%rip), %rax
        mov     (%rax), %eax
        or      %eax, nic_icr + 4 * n(%rip)
        incl    nic_irqs + 4 * n(%rip)
        incq    irq_seq(%rip)
        movabs  %eax, LAPIC_EOI
        pop     %rax
        iretq
        .if     . - 1b > 64
        .error  "NIC stub longer than its IDT stride"
        .endif
        .set    n, n + 1
        .endr

/* NIC edge interrupts 0x34-0x37 (the CSB's edge mode, docs/csb.md): the
 * device consumed the causes when it sent the edge, so no ICR read (a VM
 * exit) and nothing to deassert: count, EOI. 24 bytes: 32 apart. */
        .balign 32
nic_edge_stubs:
        .set    n, 0
        .rept   NIC_MAX
        .balign 32
1:      incl    nic_irqs + 4 * n(%rip)
        incq    irq_seq(%rip)
        movabs  %eax, LAPIC_EOI
        iretq
        .if     . - 1b > 32
        .error  "NIC edge stub longer than its IDT stride"
        .endif
        .set    n, n + 1
        .endr

/* Exceptions 0-31: a 16-byte stub each, pushing a dummy error code where
 * the CPU pushes none, then the vector. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
        .balign 16
exc_stubs:
        .set    v, 0
        .rept   32
        .balign 16
        .if     !HAS_ERR(v)
        push    $0
        .endif
        push    $v
        jmp     fault_common
        .set    v, v + 1
        .endr

/* Record the fault for ring 3 (fault_info, see fault.h) and return to the
 * ring-3 handler user_fault_entry on its own stack, IF clear. A fault that
 * keeps recurring (depth 3: the ring-3 handler itself faults) exits at once
 * through debug-exit with EXIT_FAULT. */
fault_common:
        push    %rax
        mov     8(%rsp), %rax
        mov     %rax, fault_info + 0(%rip)      /* vector */
        mov     16(%rsp), %rax
        mov     %rax, fault_info + 8(%rip)      /* error code */
        mov     24(%rsp), %rax
        mov     %rax, fault_info + 16(%rip)     /* rip */
        mov     32(%rsp), %rax
        mov     %rax, fault_info + 24(%rip)     /* cs */
        mov     48(%rsp), %rax
        mov     %rax, fault_info + 32(%rip)     /* rsp */
        mov     %cr2, %rax
        mov     %rax, fault_info + 40(%rip)     /* cr2 */
        incq    fault_info + 48(%rip)           /* depth */
        cmpq    $3, fault_info + 48(%rip)
        jae     fault_hard
        movq    $user_fault_entry, 24(%rsp)
        movq    $SEL_UCODE, 32(%rsp)
        movq    $RFLAGS_USER, 40(%rsp)
        movq    $fstack_top, 48(%rsp)
        movq    $SEL_UDATA, 56(%rsp)
        pop     %rax
        add     $16, %rsp
        iretq
fault_hard:
        mov     $EXIT_FAULT, %al
        out     %al, $DEBUG_EXIT_PORT
1:      cli
        hlt
        jmp     1b

/* ---------------------------------------------------------------------- */
/* Static descriptor tables (in this section: see the header comment). */

        .balign 16
tss64:
        .long   0
        .quad   kstack_top                      /* RSP0: ring 3 -> ring 0 */
        .quad   0, 0                            /* RSP1, RSP2 */
        .quad   0                               /* reserved */
        .quad   0, 0, 0, 0, 0, 0, 0             /* IST1-7 (unused) */
        .quad   0
        .word   0
        .word   104                             /* I/O map base: none (IOPL 3 instead) */
tss64_end:

        .balign 16
gdt:
        .quad   0
        .quad   0x00af9a000000ffff              /* 0x08 kernel code, 64-bit */
        .quad   0x00cf92000000ffff              /* 0x10 kernel data */
        .quad   0x00cff2000000ffff              /* 0x18 user data */
        .quad   0x00affa000000ffff              /* 0x20 user code, 64-bit */
        /* 0x28: 64-bit available TSS, base = tss64, limit 103 */
        .word   tss64_end - tss64 - 1
        .word   OFF(tss64)
        .byte   BASE_HI16 & 0xff
        .byte   0x89
        .byte   0
        .byte   BASE_HI16 >> 8
        .long   0
        .long   0
gdt_end:

        .balign 8
        .word   0, 0, 0
gdt_ptr:                                        /* 32-bit lgdt reads 6 bytes */
        .word   gdt_end - gdt - 1
        .quad   gdt
        .word   0, 0, 0
idt_ptr:
        .word   idt_end - idt - 1
        .quad   idt

/* Interrupt gate: handler offset within this section, kernel code. */
#define GATE(off, type) .word (off); .word SEL_KCODE; .byte 0; .byte type; \
        .word BASE_HI16; .long 0; .long 0

        .balign 16
idt:
        .set    v, 0
        .rept   256
        .if     v == 6
        GATE(OFF(ud_isr), 0x8e)
        .elseif v < 32
        GATE(OFF(exc_stubs) + 16 * v, 0x8e)
        .elseif v == VEC_TIMER
        GATE(OFF(timer_isr), 0x8e)
        .elseif v >= VEC_IRQ_FIRST && v <= VEC_IRQ_LAST
        GATE(OFF(irq_stubs) + 32 * (v - VEC_IRQ_FIRST), 0x8e)
        .elseif v >= VEC_NIC_FIRST && v < VEC_NIC_FIRST + NIC_MAX
        GATE(OFF(nic_stubs) + 64 * (v - VEC_NIC_FIRST), 0x8e)
        .elseif v >= VEC_NIC_EDGE_FIRST && v < VEC_NIC_EDGE_FIRST + NIC_MAX
        GATE(OFF(nic_edge_stubs) + 32 * (v - VEC_NIC_EDGE_FIRST), 0x8e)
        .elseif v == VEC_SPURIOUS
        GATE(OFF(spurious_isr), 0x8e)
        .else
        GATE(OFF(unexpected_isr), 0x8e)
        .endif
        .set    v, v + 1
        .endr
idt_end:

        .balign 8
syscall_table:                                  /* indexed by SYS_* */
        .quad   sys_wait, sys_halt, sys_outb, sys_outl, sys_inb, sys_inl, sys_outsb
        .if     (. - syscall_table) != 8 * SYS_COUNT
        .error  "syscall_table and SYS_COUNT disagree"
        .endif

        .globl  __boot_end
__boot_end:

/* ---------------------------------------------------------------------- */
/* Ring 3 from here on. */
        .text
        .globl  user_start
user_start:
        mov     %rdi, %rbx
        call    console_first_line              /* touches no .bss */
        lea     __bss_start(%rip), %rdi
        lea     __bss_end(%rip), %rcx
        sub     %rdi, %rcx
        xor     %eax, %eax
        rep stosb
        mov     %rbx, %rdi
        call    kmain
        mov     $EXIT_FAIL, %edi
        call    guest_exit

/* The ring-3 side of an exception: on the fault stack. */
        .globl  user_fault_entry
user_fault_entry:
        and     $-16, %rsp
        call    fault_handle                    /* does not return */
        mov     $EXIT_FAULT, %edi
        call    guest_exit

/* catch_begin(buf): setjmp-like; returns 0, or 1 when a fault came back
 * here through catch_resume(). Saves callee-saved registers and RFLAGS. */
        .globl  catch_begin
catch_begin:
        mov     %rbx, 0(%rdi)
        mov     %rbp, 8(%rdi)
        mov     %r12, 16(%rdi)
        mov     %r13, 24(%rdi)
        mov     %r14, 32(%rdi)
        mov     %r15, 40(%rdi)
        lea     8(%rsp), %rax
        mov     %rax, 48(%rdi)                  /* rsp after return */
        mov     (%rsp), %rax
        mov     %rax, 56(%rdi)                  /* return address */
        pushfq
        pop     %rax
        mov     %rax, 64(%rdi)
        xor     %eax, %eax
        ret

        .globl  catch_resume
catch_resume:
        mov     0(%rdi), %rbx
        mov     8(%rdi), %rbp
        mov     16(%rdi), %r12
        mov     24(%rdi), %r13
        mov     32(%rdi), %r14
        mov     40(%rdi), %r15
        mov     48(%rdi), %rsp
        push    64(%rdi)
        popfq                                   /* ring 3: IF and IOPL stay as they are */
        mov     $1, %eax
        jmp     *56(%rdi)

/* ---------------------------------------------------------------------- */
/* Page tables: identity map of the first 4 GiB with 2 MiB pages, all
 * present, writable and user-accessible; 3-4 GiB (LAPIC, IOAPIC, PCI BARs)
 * uncached (PCD|PWT). Static: no ring-0 loop builds them. */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080
        .data
        .balign 4096
        .globl  pml4
pml4:
        .quad   pdpt + (PTE_P | PTE_W | PTE_U)
        .fill   511, 8, 0
pdpt:
        .quad   pd + 0 * 4096 + (PTE_P | PTE_W | PTE_U)
        .quad   pd + 1 * 4096 + (PTE_P | PTE_W | PTE_U)
        .quad   pd + 2 * 4096 + (PTE_P | PTE_W | PTE_U)
        .quad   pd + 3 * 4096 + (PTE_P | PTE_W | PTE_U)
        .fill   508, 8, 0
pd:
        .set    i, 0
        .rept   2048
        .if     i >= 1536
        .quad   (i << 21) | (PTE_P | PTE_W | PTE_U | PTE_PS | PTE_PCD | PTE_PWT)
        .else
        .quad   (i << 21) | (PTE_P | PTE_W | PTE_U | PTE_PS)
        .endif
        .set    i, i + 1
        .endr

/* State written by ring-0 handlers and read by ring 3 (user-accessible). */
        .balign 64
        .globl  timer_ticks, irq_seq, unexpected_irqs, irq_counts, fault_info
        .globl  nic_icr_addr, nic_icr, nic_irqs
timer_ticks:    .quad 0
irq_seq:        .quad 0                 /* hardware interrupts taken, all vectors */
unexpected_irqs: .long 0
        .balign 8
irq_counts:     .fill 16, 4, 0
nic_icr_addr:   .fill NIC_MAX, 8, 0
nic_icr:        .fill NIC_MAX, 4, 0
nic_irqs:       .fill NIC_MAX, 4, 0
fault_info:     .fill 8, 8, 0

/* Stacks: not part of .bss (ring 3 zeroes .bss while running on ustack). */
        .section .stack, "aw", @nobits
        .balign 4096
        .space  4096
kstack_top:
        .space  8192
fstack_top:
        .space  65536
ustack_top:
