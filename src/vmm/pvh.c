/* PVH ELF loader and start info (see pvh.h). The ELF file is untrusted input:
 * every header field is range-checked before it is used. */
#include "pvh.h"

#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A program header, widened to 64 bits whatever the ELF class. */
struct phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
    const uint8_t *file;
    size_t size;
    bool is64;
    uint64_t phoff;
    uint32_t phentsize, phnum;
};

static bool in_file(const struct elf_view *e, uint64_t off, uint64_t len)
{
    return off <= e->size && len <= e->size - off;
}

static void get_phdr(const struct elf_view *e, uint32_t i, struct phdr *p)
{
    const uint8_t *raw = e->file + e->phoff + (uint64_t)i * e->phentsize;
    if (e->is64) {
        Elf64_Phdr h;
        memcpy(&h, raw, sizeof(h));
        *p = (struct phdr){h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz};
    } else {
        Elf32_Phdr h;
        memcpy(&h, raw, sizeof(h));
        *p = (struct phdr){h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz};
    }
}

static int open_elf(const uint8_t *file, size_t size, struct elf_view *e, char *err, size_t errlen)
{
    if (size < EI_NIDENT || memcmp(file, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "not an ELF file");
    if (file[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "not a little-endian ELF file");
    e->file = file;
    e->size = size;
    if (file[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr h;
        if (size < sizeof(h))
            return fail(err, errlen, "truncated ELF header");
        memcpy(&h, file, sizeof(h));
        if (h.e_machine != EM_X86_64)
            return fail(err, errlen, "not an x86-64 ELF file (machine %u)", h.e_machine);
        e->is64 = true;
        e->phoff = h.e_phoff;
        e->phentsize = h.e_phentsize;
        e->phnum = h.e_phnum;
        if (e->phentsize < sizeof(Elf64_Phdr))
            return fail(err, errlen, "bad program header size %u", e->phentsize);
    } else if (file[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr h;
        if (size < sizeof(h))
            return fail(err, errlen, "truncated ELF header");
        memcpy(&h, file, sizeof(h));
        if (h.e_machine != EM_386)
            return fail(err, errlen, "not an x86 ELF file (machine %u)", h.e_machine);
        e->is64 = false;
        e->phoff = h.e_phoff;
        e->phentsize = h.e_phentsize;
        e->phnum = h.e_phnum;
        if (e->phentsize < sizeof(Elf32_Phdr))
            return fail(err, errlen, "bad program header size %u", e->phentsize);
    } else {
        return fail(err, errlen, "unknown ELF class %u", file[EI_CLASS]);
    }
    if (e->phnum == 0)
        return fail(err, errlen, "ELF file has no program headers");
    if (!in_file(e, e->phoff, (uint64_t)e->phnum * e->phentsize))
        return fail(err, errlen, "program headers lie outside the file");
    return 0;
}

/* Walks the notes of one PT_NOTE segment; returns 1 and sets *entry if the
 * PVH entry note is there. Notes are 4-byte aligned in both ELF classes. */
static int find_pvh_note(const struct elf_view *e, const struct phdr *p, uint32_t *entry)
{
    uint64_t off = p->offset, end = p->offset + p->filesz;
    while (end - off >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, e->file + off, 4);
        memcpy(&descsz, e->file + off + 4, 4);
        memcpy(&type, e->file + off + 8, 4);
        uint64_t name_off = off + 12;
        uint64_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
        uint64_t next = desc_off + ((descsz + 3ull) & ~3ull);
        if (next > end)
            return 0;
        if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
            memcmp(e->file + name_off, "Xen", 4) == 0 && descsz >= 4) {
            memcpy(entry, e->file + desc_off, 4);
            return 1;
        }
        off = next;
    }
    return 0;
}

int pvh_parse(const uint8_t *file, size_t file_size, uint64_t ram_size, struct pvh_image *img,
              char *err, size_t errlen)
{
    struct elf_view e;
    if (open_elf(file, file_size, &e, err, errlen) < 0)
        return -1;
    bool have_entry = false;
    memset(img, 0, sizeof(*img));
    img->load_start = UINT64_MAX;
    /* The note first: a file without it is not a PVH kernel at all, whatever
     * its segments look like. */
    for (uint32_t i = 0; i < e.phnum && !have_entry; i++) {
        struct phdr p;
        get_phdr(&e, i, &p);
        if (p.type != PT_NOTE)
            continue;
        if (!in_file(&e, p.offset, p.filesz))
            return fail(err, errlen, "note segment %u lies outside the file", i);
        have_entry = find_pvh_note(&e, &p, &img->entry);
    }
    if (!have_entry)
        return fail(err, errlen, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) in the ELF file");
    for (uint32_t i = 0; i < e.phnum; i++) {
        struct phdr p;
        get_phdr(&e, i, &p);
        if (p.type != PT_LOAD)
            continue;
        if (p.filesz > p.memsz)
            return fail(err, errlen, "segment %u: file size exceeds memory size", i);
        if (!in_file(&e, p.offset, p.filesz))
            return fail(err, errlen, "segment %u lies outside the file", i);
        if (p.memsz == 0)
            continue;
        if (p.paddr > ram_size || p.memsz > ram_size - p.paddr)
            return fail(err, errlen,
                        "segment %u at 0x%llx (%llu bytes) lies outside guest RAM (%llu bytes)", i,
                        (unsigned long long)p.paddr, (unsigned long long)p.memsz,
                        (unsigned long long)ram_size);
        if (p.paddr < PVH_CMDLINE_GPA + PVH_CMDLINE_MAX)
            return fail(err, errlen, "segment %u at 0x%llx overlaps the boot data below 0x%x", i,
                        (unsigned long long)p.paddr, PVH_CMDLINE_GPA + PVH_CMDLINE_MAX);
        if (p.paddr < img->load_start)
            img->load_start = p.paddr;
        if (p.paddr + p.memsz > img->load_end)
            img->load_end = p.paddr + p.memsz;
        img->segments++;
    }
    if (img->segments == 0)
        return fail(err, errlen, "ELF file has no loadable segment");
    if (img->entry < img->load_start || img->entry >= img->load_end)
        return fail(err, errlen, "PVH entry 0x%x is outside the loaded image", img->entry);
    return 0;
}

int pvh_load(const uint8_t *file, size_t file_size, const struct guest_mem *mem,
             struct pvh_image *img, char *err, size_t errlen)
{
    if (pvh_parse(file, file_size, mem->size, img, err, errlen) < 0)
        return -1;
    struct elf_view e;
    open_elf(file, file_size, &e, err, errlen); /* validated by pvh_parse */
    for (uint32_t i = 0; i < e.phnum; i++) {
        struct phdr p;
        get_phdr(&e, i, &p);
        if (p.type != PT_LOAD || p.memsz == 0)
            continue;
        uint8_t *dst = guest_mem_ptr(mem, p.paddr, p.memsz);
        memcpy(dst, file + p.offset, p.filesz);
        memset(dst + p.filesz, 0, p.memsz - p.filesz);
    }
    return 0;
}

uint64_t pvh_write_start_info(const struct guest_mem *mem, const char *cmdline, char *err,
                              size_t errlen)
{
    size_t cmdlen = strlen(cmdline) + 1;
    if (cmdlen > PVH_CMDLINE_MAX) {
        fail(err, errlen, "command line too long (%zu bytes, at most %u)", cmdlen - 1,
             PVH_CMDLINE_MAX - 1);
        return 0;
    }
    if (mem->size < 0x100000 + 0x100000) {
        fail(err, errlen, "guest RAM too small for the boot layout");
        return 0;
    }
    /* The classic PC layout: low RAM, the legacy VGA/BIOS hole, then RAM
     * from 1 MiB to the end (vpio keeps RAM below the PCI window). */
    const struct hvm_memmap_table_entry map[] = {
        {.addr = 0, .size = 0x9fc00, .type = 1},
        {.addr = 0x9fc00, .size = 0x100000 - 0x9fc00, .type = 2},
        {.addr = 0x100000, .size = mem->size - 0x100000, .type = 1},
    };
    const unsigned entries = sizeof(map) / sizeof(map[0]);
    struct hvm_start_info info = {
        .magic = PVH_START_INFO_MAGIC,
        .version = 1,
        .cmdline_paddr = PVH_CMDLINE_GPA,
        .memmap_paddr = PVH_MEMMAP_GPA,
        .memmap_entries = entries,
    };
    if (guest_mem_write(mem, PVH_START_INFO_GPA, &info, sizeof(info)) < 0 ||
        guest_mem_write(mem, PVH_MEMMAP_GPA, map, sizeof(map)) < 0 ||
        guest_mem_write(mem, PVH_CMDLINE_GPA, cmdline, cmdlen) < 0) {
        fail(err, errlen, "guest RAM too small for the boot data");
        return 0;
    }
    return PVH_START_INFO_GPA;
}
