/* PVH boot: the ELF loader that finds the XEN_ELFNOTE_PHYS32_ENTRY note, and
 * the hvm_start_info the guest finds in EBX at its 32-bit entry point.
 *
 * Both are pure functions over byte buffers so they can be unit tested and
 * fuzzed without KVM. The layout of hvm_start_info follows Xen's public
 * header arch-x86/hvm/start_info.h (version 1, with a memory map). */
#ifndef VPIO_PVH_H
#define VPIO_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "devif/guest_mem.h"

#define PVH_START_INFO_MAGIC 0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Where vpio places the boot data (below the 1 MiB load address of the guest). */
#define PVH_START_INFO_GPA 0x6000u
#define PVH_MEMMAP_GPA 0x7000u
#define PVH_CMDLINE_GPA 0x8000u
#define PVH_CMDLINE_MAX 4096u /* including the terminating NUL */

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type; /* 1 = RAM, 2 = reserved (e820 types) */
    uint32_t reserved;
};

struct pvh_image {
    uint32_t entry;                /* 32-bit physical entry point from the note */
    uint64_t load_start, load_end; /* lowest and highest physical byte loaded */
    int segments;                  /* PT_LOAD segments */
};

/* Validates an ELF image (32- or 64-bit, x86) and finds its PVH entry. Every
 * offset and size is checked against the file and against ram_size; on
 * failure returns -1 with a human-readable reason in err. */
int pvh_parse(const uint8_t *file, size_t file_size, uint64_t ram_size, struct pvh_image *img,
              char *err, size_t errlen);

/* Parses (as above) and copies the PT_LOAD segments into guest RAM, zeroing
 * each segment's bss part. Nothing is written if validation fails. */
int pvh_load(const uint8_t *file, size_t file_size, const struct guest_mem *mem,
             struct pvh_image *img, char *err, size_t errlen);

/* Writes hvm_start_info, the memory map and the command line at the fixed
 * addresses above. Returns the start info's address, or 0 with err set (for
 * example a command line that does not fit). */
uint64_t pvh_write_start_info(const struct guest_mem *mem, const char *cmdline, char *err,
                              size_t errlen);

#endif
