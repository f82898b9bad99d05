/* PVH ELF loader and start info: built-in-memory ELF images, good and bad. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/pvh.h"

#define RAM_SIZE (8u << 20)
#define LOAD_ADDR 0x100000u

/* A minimal 64-bit ELF: header, two program headers (LOAD, NOTE), a PVH note,
 * then 64 bytes of "code". */
struct image {
    uint8_t bytes[4096];
    size_t size;
};

static void build_elf64(struct image *im, uint32_t entry, uint64_t paddr, uint64_t memsz)
{
    memset(im, 0, sizeof(*im));
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    eh.e_ehsize = sizeof(eh);
    memcpy(im->bytes, &eh, sizeof(eh));
    size_t note_off = sizeof(eh) + 2 * sizeof(Elf64_Phdr);
    uint32_t note[5] = {4, 4, XEN_ELFNOTE_PHYS32_ENTRY, 0, entry};
    memcpy(&note[3], "Xen", 4);
    memcpy(im->bytes + note_off, note, sizeof(note));
    size_t code_off = 512;
    memset(im->bytes + code_off, 0x90, 64);
    Elf64_Phdr load = {.p_type = PT_LOAD,
                       .p_offset = code_off,
                       .p_paddr = paddr,
                       .p_vaddr = paddr,
                       .p_filesz = 64,
                       .p_memsz = memsz,
                       .p_align = 16};
    Elf64_Phdr nph = {
        .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = sizeof(note), .p_align = 4};
    memcpy(im->bytes + sizeof(eh), &load, sizeof(load));
    memcpy(im->bytes + sizeof(eh) + sizeof(load), &nph, sizeof(nph));
    im->size = code_off + 64;
}

static void accepts_a_valid_image(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR + 8, LOAD_ADDR, 4096);
    struct pvh_image img;
    char err[200] = "";
    assert_int_equal(pvh_parse(im.bytes, im.size, RAM_SIZE, &img, err, sizeof(err)), 0);
    assert_int_equal(img.entry, LOAD_ADDR + 8);
    assert_int_equal(img.load_start, LOAD_ADDR);
    assert_int_equal(img.load_end, LOAD_ADDR + 4096);
    assert_int_equal(img.segments, 1);
}

static void loads_segments_and_zeroes_bss(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR, LOAD_ADDR, 4096);
    struct guest_mem mem = {.host = malloc(RAM_SIZE), .size = RAM_SIZE};
    memset(mem.host, 0xAA, RAM_SIZE);
    struct pvh_image img;
    char err[200];
    assert_int_equal(pvh_load(im.bytes, im.size, &mem, &img, err, sizeof(err)), 0);
    assert_int_equal(mem.host[LOAD_ADDR], 0x90);
    assert_int_equal(mem.host[LOAD_ADDR + 63], 0x90);
    assert_int_equal(mem.host[LOAD_ADDR + 64], 0);
    assert_int_equal(mem.host[LOAD_ADDR + 4095], 0);
    assert_int_equal(mem.host[LOAD_ADDR + 4096], 0xAA);
    free(mem.host);
}

static void expect_error(const struct image *im, uint64_t ram, const char *needle)
{
    struct pvh_image img;
    char err[200] = "";
    assert_int_equal(pvh_parse(im->bytes, im->size, ram, &img, err, sizeof(err)), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void rejects_non_elf(void **state)
{
    struct image im = {.size = 100};
    memcpy(im.bytes, "#!/bin/sh\n", 10);
    expect_error(&im, RAM_SIZE, "not an ELF");
    im.size = 2;
    expect_error(&im, RAM_SIZE, "not an ELF");
}

static void rejects_missing_note(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR, LOAD_ADDR, 4096);
    /* Change the note type: no longer PHYS32_ENTRY. */
    size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    im.bytes[note_off + 8] = 17;
    expect_error(&im, RAM_SIZE, "no PVH entry note");
}

static void rejects_segment_outside_ram(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR, LOAD_ADDR, 16u << 20);
    expect_error(&im, RAM_SIZE, "outside guest RAM");
    build_elf64(&im, LOAD_ADDR, UINT64_MAX - 10, 4096); /* wraps */
    expect_error(&im, RAM_SIZE, "");
}

static void rejects_truncated_file(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR, LOAD_ADDR, 4096);
    im.size = 500; /* segment data at 512 no longer inside */
    expect_error(&im, RAM_SIZE, "outside the file");
    im.size = sizeof(Elf64_Ehdr) + 10; /* program headers cut */
    expect_error(&im, RAM_SIZE, "outside the file");
}

static void rejects_entry_outside_image(void **state)
{
    struct image im;
    build_elf64(&im, 0x5000000, LOAD_ADDR, 4096);
    expect_error(&im, RAM_SIZE, "entry");
}

static void rejects_wrong_machine(void **state)
{
    struct image im;
    build_elf64(&im, LOAD_ADDR, LOAD_ADDR, 4096);
    uint16_t arm = EM_AARCH64;
    memcpy(im.bytes + offsetof(Elf64_Ehdr, e_machine), &arm, 2);
    expect_error(&im, RAM_SIZE, "x86-64");
}

static void writes_start_info(void **state)
{
    struct guest_mem mem = {.host = calloc(1, RAM_SIZE), .size = RAM_SIZE};
    char err[200];
    uint64_t at = pvh_write_start_info(&mem, "app=selftest x=1", err, sizeof(err));
    assert_int_equal(at, PVH_START_INFO_GPA);
    struct hvm_start_info info;
    memcpy(&info, mem.host + at, sizeof(info));
    assert_int_equal(info.magic, PVH_START_INFO_MAGIC);
    assert_int_equal(info.version, 1);
    assert_string_equal((char *)mem.host + info.cmdline_paddr, "app=selftest x=1");
    assert_int_equal(info.memmap_entries, 3);
    struct hvm_memmap_table_entry e[3];
    memcpy(e, mem.host + info.memmap_paddr, sizeof(e));
    assert_int_equal(e[2].addr, 0x100000);
    assert_int_equal(e[2].addr + e[2].size, RAM_SIZE);
    assert_int_equal(e[2].type, 1);
    /* Offsets fixed by the PVH ABI. */
    assert_int_equal(offsetof(struct hvm_start_info, cmdline_paddr), 24);
    assert_int_equal(offsetof(struct hvm_start_info, rsdp_paddr), 32);
    assert_int_equal(offsetof(struct hvm_start_info, memmap_paddr), 40);
    assert_int_equal(offsetof(struct hvm_start_info, memmap_entries), 48);
    assert_int_equal(sizeof(struct hvm_memmap_table_entry), 24);
    free(mem.host);
}

static void rejects_long_cmdline(void **state)
{
    struct guest_mem mem = {.host = calloc(1, RAM_SIZE), .size = RAM_SIZE};
    char *line = malloc(PVH_CMDLINE_MAX + 1);
    memset(line, 'a', PVH_CMDLINE_MAX);
    line[PVH_CMDLINE_MAX] = 0;
    char err[200];
    assert_int_equal(pvh_write_start_info(&mem, line, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "too long"));
    free(line);
    free(mem.host);
}

static void guest_mem_bounds(void **state)
{
    uint8_t buf[64];
    struct guest_mem mem = {.host = buf, .size = sizeof(buf)};
    assert_non_null(guest_mem_ptr(&mem, 0, 64));
    assert_non_null(guest_mem_ptr(&mem, 63, 1));
    assert_non_null(guest_mem_ptr(&mem, 64, 0));
    assert_null(guest_mem_ptr(&mem, 63, 2));
    assert_null(guest_mem_ptr(&mem, 65, 0));
    assert_null(guest_mem_ptr(&mem, UINT64_MAX, 2));
    assert_null(guest_mem_ptr(&mem, 8, UINT64_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_a_valid_image),
        cmocka_unit_test(loads_segments_and_zeroes_bss),
        cmocka_unit_test(rejects_non_elf),
        cmocka_unit_test(rejects_missing_note),
        cmocka_unit_test(rejects_segment_outside_ram),
        cmocka_unit_test(rejects_truncated_file),
        cmocka_unit_test(rejects_entry_outside_image),
        cmocka_unit_test(rejects_wrong_machine),
        cmocka_unit_test(writes_start_info),
        cmocka_unit_test(rejects_long_cmdline),
        cmocka_unit_test(guest_mem_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
