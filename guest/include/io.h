/* Port I/O, MMIO, TSC helpers, usable from ring 3. MMIO and the TSC are
 * direct (device pages are mapped user-accessible). Port I/O is a system
 * call: ring 3 runs with IOPL 0 (see arch/entry.S), so each in/out is done
 * by ring 0 on its behalf. Port I/O is for set-up and the console, never
 * for the packet path. */
#ifndef GUEST_IO_H
#define GUEST_IO_H
#include "layout.h"
#include "types.h"

static inline u64 syscall2(u64 nr, u64 a, u64 b)
{
    u64 ret = nr;
    __asm__ volatile(SYSCALL_INSN : "+a"(ret), "+D"(a), "+S"(b) : : "rcx", "rdx", "r11", "memory");
    return ret;
}

static inline void outb(u16 port, u8 v) { syscall2(SYS_OUTB, port, v); }
static inline void outl(u16 port, u32 v) { syscall2(SYS_OUTL, port, v); }
static inline u8 inb(u16 port) { return (u8)syscall2(SYS_INB, port, 0); }
static inline u32 inl(u16 port) { return (u32)syscall2(SYS_INL, port, 0); }
/* n bytes to one port in one string instruction (the console). */
static inline void outsb(u16 port, const void *buf, u64 n)
{
    u64 ret = SYS_OUTSB, p = port;
    __asm__ volatile(SYSCALL_INSN
                     : "+a"(ret), "+D"(p), "+S"(buf), "+d"(n)
                     :
                     : "rcx", "r11", "memory");
}

static inline u32 mmio_read32(u64 addr) { return *(volatile u32 *)addr; }
static inline void mmio_write32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }

static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void wmb(void) { __asm__ volatile("sfence" ::: "memory"); }

static inline u16 read_cs(void)
{
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs;
}
#endif
