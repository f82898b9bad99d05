/* kmain: ring 3 from the first instruction. Parses the start info and the
 * command line, sets up memory, interrupts and time, then runs the app the
 * command line names and exits with its status through debug-exit. */
#include "io.h"
#include "kernel.h"

static struct cmdline cl;
u64 boot_tsc;

void kmain(u32 start_info)
{
    boot_tsc = rdtsc();
    pic_mask_all();
    bootinfo_parse(start_info);
    cmdline_parse(&cl, boot_info.cmdline);
    printf("vpio-guest: start_info=0x%x%s cmdline=\"%s\" ram_top=0x%lx\n", start_info,
           boot_info.valid ? "" : " (invalid)", boot_info.cmdline, boot_info.ram_top);

    const struct app *app = NULL;
    for (int i = 0; i < napps; i++)
        if (!strcmp(apps[i].name, cl.app))
            app = &apps[i];
    if (!app) {
        printf("vpio-guest: error: unknown app '%s'; known apps:", cl.app);
        for (int i = 0; i < napps; i++)
            printf(" %s", apps[i].name);
        printf("\nRESULT app=%s ok=0 error=unknown-app\n", cl.app);
        guest_exit(EXIT_USAGE);
    }

    alloc_init();
    lapic_init();
    ioapic_init();
    tsc_calibrate();
    u64 hz = 1000;
    if (cmdline_get(&cl, "hz") && (!cmdline_u64(&cl, "hz", &hz) || hz > 100000)) {
        printf("vpio-guest: error: bad hz=%s\n", cmdline_get(&cl, "hz"));
        guest_exit(EXIT_USAGE);
    }
    timer_start((u32)hz);
    printf("vpio-guest: ring 3, tsc %lu kHz, timer %u Hz, %lu MiB free, lapic id %u, "
           "ioapic %u pins\n",
           tsc_hz / 1000, timer_hz, alloc_free_pages() * PAGE_SIZE >> 20, lapic_id(),
           ioapic_pins());
    pci_scan();
    int rc = app->main(&cl);
    guest_exit(rc);
}
