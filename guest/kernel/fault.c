/* Exceptions, ring-3 half: entry.S records the fault in fault_info and
 * resumes here, on the fault stack with IF clear. Either a CATCH() point is
 * armed (a test provoking a fault on purpose) and we resume there, or the
 * fault is fatal: print it and exit with EXIT_FAULT. */
#include "kernel.h"

static struct catch_buf *armed;

static const char *const names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound",
    "#UD invalid opcode", "#NM no FPU", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87", "#AC alignment", "#MC machine check",
    "#XM SIMD", "#VE virtualization", "#CP control protection",
};

void catch_arm(struct catch_buf *b) { armed = b; }
void catch_end(void) { armed = NULL; }

void catch_resume(struct catch_buf *b) __attribute__((noreturn));
void fault_handle(void) __attribute__((noreturn));

void fault_handle(void)
{
    if (armed) {
        struct catch_buf *b = armed;
        armed = NULL;
        fault_info.depth = 0;
        catch_resume(b);
    }
    u64 v = fault_info.vector;
    printf("vpio-guest: FATAL exception %lu (%s) error=0x%lx rip=0x%lx cs=0x%lx rsp=0x%lx",
           v, v < 32 && names[v] ? names[v] : "?", fault_info.error, fault_info.rip,
           fault_info.cs, fault_info.rsp);
    if (v == 14)
        printf(" cr2=0x%lx", fault_info.cr2);
    printf("\nRESULT app=fault ok=0 vector=%lu rip=0x%lx\n", v, fault_info.rip);
    guest_exit(EXIT_FAULT);
}
