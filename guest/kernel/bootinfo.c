/* The PVH hvm_start_info (Xen's arch-x86/hvm/start_info.h): magic, command
 * line and, from version 1, an e820-style memory map. Read in ring 3: all
 * of low memory is identity mapped and user-accessible. */
#include "kernel.h"

#define HVM_START_MAGIC 0x336ec578
#define E820_RAM 1

struct hvm_start_info {
    u32 magic, version, flags, nr_modules;
    u64 modlist_paddr, cmdline_paddr, rsdp_paddr;
    u64 memmap_paddr;           /* version >= 1 */
    u32 memmap_entries, reserved;
};

struct hvm_memmap_entry {
    u64 addr, size;
    u32 type, reserved;
};

struct boot_info boot_info;
static const struct hvm_start_info *si;

extern char __image_end[];

/* Without a memory map (version 0): assume 32 MiB, the smallest RAM we
 * document, rather than guess high. */
#define FALLBACK_RAM_TOP (32ull << 20)

void bootinfo_parse(u32 start_info)
{
    boot_info.start_info = start_info;
    boot_info.cmdline = "";
    si = (const struct hvm_start_info *)(uintptr_t)start_info;
    if (!start_info || si->magic != HVM_START_MAGIC) {
        si = NULL;
        boot_info.ram_top = FALLBACK_RAM_TOP;
        return;
    }
    boot_info.valid = true;
    boot_info.version = si->version;
    if (si->cmdline_paddr && si->cmdline_paddr < (4ull << 30))
        boot_info.cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
    boot_info.ram_top = FALLBACK_RAM_TOP;
    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        u64 img = (u64)(uintptr_t)__image_end;
        for (u32 i = 0; i < si->memmap_entries; i++) {
            if (e[i].type != E820_RAM)
                continue;
            boot_info.nregions++;
            if (e[i].addr <= img && e[i].addr + e[i].size >= img)
                boot_info.ram_top = e[i].addr + e[i].size;
        }
    }
}

void bootinfo_ram_regions(void (*fn)(u64 base, u64 len))
{
    if (!si || si->version < 1 || !si->memmap_paddr || !si->memmap_entries) {
        fn(0, boot_info.ram_top);
        return;
    }
    const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (u32 i = 0; i < si->memmap_entries; i++)
        if (e[i].type == E820_RAM)
            fn(e[i].addr, e[i].size);
}
