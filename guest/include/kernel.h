/* The ring-3 kernel's interfaces: console, command line, memory, time,
 * interrupts, PCI, faults. One section per file in guest/kernel/. */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H
#include "types.h"
#include "layout.h"

/* console.c: COM1 output, printf subset: %d %i %u %x %X %p %s %c %%,
 * length l/ll/z, flags '-' '0', width, precision for %s. */
void console_first_line(void);
void console_putc(char c);
void console_write(const char *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* string.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* cmdline.c: "APP [ARG...] [key=value...]" (see docs/guest.md). */
#define CMDLINE_MAX 512
#define CMDLINE_ARGS 32
struct cmdline {
    char buf[CMDLINE_MAX];
    const char *app;            /* "selftest" if none given */
    int argc;                   /* positional words after the app */
    const char *argv[CMDLINE_ARGS];
    int nopts;
    const char *key[CMDLINE_ARGS], *val[CMDLINE_ARGS];
};
void cmdline_parse(struct cmdline *cl, const char *src);
const char *cmdline_get(const struct cmdline *cl, const char *key);
bool cmdline_u64(const struct cmdline *cl, const char *key, u64 *out);
/* "2", "0.5", "1.25" (seconds) -> milliseconds; false if not a number. */
bool parse_seconds_ms(const char *s, u64 *ms);
bool parse_u64(const char *s, u64 *out);          /* decimal or 0x hex, K/M/G */
bool parse_mac(const char *s, u8 mac[6]);

/* bootinfo.c: the PVH hvm_start_info. */
struct boot_info {
    u32 start_info;             /* physical address given in EBX */
    bool valid;                 /* magic matched */
    u32 version;
    const char *cmdline;        /* "" if absent */
    u64 ram_top;                /* end of the RAM region holding the image */
    u32 nregions;
};
extern struct boot_info boot_info;
void bootinfo_parse(u32 start_info);
/* Calls fn for each RAM region (type 1), after bootinfo_parse. */
void bootinfo_ram_regions(void (*fn)(u64 base, u64 len));

/* alloc.c: physical pages above the image (identity mapped, so physical ==
 * virtual). Contiguous runs, power-of-two alignment in pages. */
void alloc_init(void);
void *alloc_pages(size_t npages, size_t align_pages);  /* zeroed; NULL if none */
void free_pages(void *p, size_t npages);
size_t alloc_free_pages(void);

/* interrupts.c: the ring-0/ring-3 shared state and the wait call. */
extern volatile u64 timer_ticks;
extern volatile u64 irq_seq;      /* hardware interrupts taken (ring 0 counts) */
extern volatile u32 unexpected_irqs;
extern volatile u32 irq_counts[16];
extern volatile u64 nic_icr_addr[NIC_MAX];
extern volatile u32 nic_icr[NIC_MAX];
extern volatile u32 nic_irqs[NIC_MAX];
/* The race-free sleep: seen = irq_seq_read(); check the condition; if
 * there is nothing to do, sys_wait(seen). It returns after an interrupt, at
 * once if one came after irq_seq_read(). Ring 3 never masks interrupts. */
static inline u64 irq_seq_read(void) { return __atomic_load_n(&irq_seq, __ATOMIC_SEQ_CST); }
void sys_wait(u64 seen_irq_seq);
void sys_halt(void) __attribute__((noreturn));
void guest_exit(int code) __attribute__((noreturn));
void pic_mask_all(void);
/* Waits (halting) until *p != old; returns the new value. */
u64 wait_change64(volatile u64 *p, u64 old);

/* lapic.c / ioapic.c */
void lapic_init(void);
u32 lapic_id(void);
void lapic_eoi(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
enum { IOAPIC_EDGE = 0, IOAPIC_LEVEL = 1 };
enum { IOAPIC_HIGH = 0, IOAPIC_LOW = 1 };
void ioapic_init(void);
u32 ioapic_pins(void);
void ioapic_route(u32 gsi, u8 vector, int trigger, int polarity);
void ioapic_mask(u32 gsi, bool masked);

/* timer.c: TSC time base calibrated against PIT channel 2; LAPIC timer. */
extern u64 tsc_hz;
extern u32 timer_hz;
void tsc_calibrate(void);
void timer_start(u32 hz);
u64 tsc_to_ns(u64 delta);
u64 now_ns(void);
void delay_us(u64 us);

/* pci.c: type-1 configuration, bus 0 enumeration. */
struct pci_dev {
    u8 bus, slot, fn;
    u16 vendor, device;
    u8 class, subclass, progif, header;
    u8 irq_line, irq_pin;
    u32 bar[6];
};
#define PCI_MAX 64
extern struct pci_dev pci_devs[PCI_MAX];
extern int pci_ndevs;
u32 pci_read32(const struct pci_dev *d, u8 off);
void pci_write32(const struct pci_dev *d, u8 off, u32 v);
u16 pci_read16(const struct pci_dev *d, u8 off);
void pci_write16(const struct pci_dev *d, u8 off, u16 v);
void pci_scan(void);
void pci_print(void);
const struct pci_dev *pci_find(u16 vendor, u16 device, int index);
u64 pci_bar_addr(const struct pci_dev *d, int bar);   /* memory BAR base */

/* fault.c: exceptions come back to ring 3 here. */
struct fault_info {
    u64 vector, error, rip, cs, rsp, cr2, depth, pad;
};
extern volatile struct fault_info fault_info;
struct catch_buf { u64 regs[9]; };
/* Arms a recovery point: returns 0 now, 1 when a later exception resumed
 * here (fault_info then says which). Disarm with catch_end(). */
#define CATCH(buf) (catch_arm(buf), catch_begin(buf))
int catch_begin(struct catch_buf *b) __attribute__((returns_twice));
void catch_arm(struct catch_buf *b);
void catch_end(void);

/* Apps (apps/). */
struct app {
    const char *name;
    const char *usage;
    int (*main)(const struct cmdline *cl);   /* returns an EXIT_* code */
};
extern const struct app apps[];
extern const int napps;
#endif
