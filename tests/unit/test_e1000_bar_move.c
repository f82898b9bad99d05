/* The CSB doorbells follow BAR0 when the guest moves it (real KVM; skipped
 * without /dev/kvm).
 *
 * A VM with one e1000 (null backend, CSB offered) runs a few instructions of
 * 32-bit guest code. Before it runs, the test plays the guest driver from
 * the outside: it enables the CSB (CSBAL through the MMIO bus, as a vCPU
 * exit would) and then moves BAR0 with a configuration-space write. The
 * guest then
 *   1. writes TDT at the NEW BAR0: a CSB kick. It must be served inside the
 *      kernel (the ioeventfd moved with the BAR): no MMIO exit, the model
 *      sees no TDT write, the CSB I/O thread wakes on its doorbell;
 *   2. spins a while (time for the CSB thread to sleep and wake);
 *   3. writes TDT at the OLD BAR0: nothing is there any more, so this one
 *      is an MMIO exit that no device claims (the ioeventfd left the old
 *      address);
 *   4. writes 0 to isa-debug-exit (status 1). */
#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/e1000_nic.h"
#include "vmm/vm.h"

#define LOAD_ADDR 0x100000u
#define CSB_GPA 0x200000u
#define NEW_BAR0 (PCI_MMIO_WINDOW_BASE + 0x100000u)

static size_t put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
    return 4;
}

/* The guest code above, 32-bit protected mode, paging off. */
static size_t guest_code(uint8_t *c, uint32_t old_bar0, uint32_t new_bar0)
{
    size_t n = 0;
    c[n++] = 0xB8; /* mov eax, 1 */
    n += put_u32(c + n, 1);
    c[n++] = 0xA3; /* mov [new_bar0 + TDT], eax */
    n += put_u32(c + n, new_bar0 + E1000_TDT);
    c[n++] = 0xB9; /* mov ecx, 200000 (without paging this KVM runs ~3 us per round) */
    n += put_u32(c + n, 200000);
    c[n++] = 0x49; /* 1: dec ecx */
    c[n++] = 0x75; /* jnz 1b */
    c[n++] = 0xFD;
    c[n++] = 0xA3; /* mov [old_bar0 + TDT], eax */
    n += put_u32(c + n, old_bar0 + E1000_TDT);
    c[n++] = 0xB0; /* mov al, 0 */
    c[n++] = 0x00;
    c[n++] = 0xE6; /* out DEBUG_EXIT_PORT, al */
    c[n++] = DEBUG_EXIT_PORT;
    c[n++] = 0xF4; /* hlt */
    return n;
}

/* A PVH ELF holding code at LOAD_ADDR, written to a temporary file. */
static void write_image(const char *path, const uint8_t *code, size_t len)
{
    uint8_t img[4096];
    memset(img, 0, sizeof(img));
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
    memcpy(img, &eh, sizeof(eh));
    size_t note_off = sizeof(eh) + 2 * sizeof(Elf64_Phdr), code_off = 512;
    uint32_t note[5] = {4, 4, XEN_ELFNOTE_PHYS32_ENTRY, 0, LOAD_ADDR};
    memcpy(&note[3], "Xen", 4);
    memcpy(img + note_off, note, sizeof(note));
    memcpy(img + code_off, code, len);
    Elf64_Phdr load = {.p_type = PT_LOAD,
                       .p_offset = code_off,
                       .p_paddr = LOAD_ADDR,
                       .p_vaddr = LOAD_ADDR,
                       .p_filesz = len,
                       .p_memsz = 4096,
                       .p_align = 16};
    Elf64_Phdr nph = {
        .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = sizeof(note), .p_align = 4};
    memcpy(img + sizeof(eh), &load, sizeof(load));
    memcpy(img + sizeof(eh) + sizeof(load), &nph, sizeof(nph));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, code_off + len, f), code_off + len);
    fclose(f);
}

static void mmio_write32(struct vm *vm, uint64_t addr, uint32_t v)
{
    assert_true(bus_access(&vm->mmio, addr, (uint8_t *)&v, 4, true));
}

static void csb_kick_follows_bar0(void **state)
{
    (void)state;
    int kfd = open("/dev/kvm", O_RDWR);
    if (kfd < 0)
        skip(); /* needs /dev/kvm */
    close(kfd);
    static struct vm vm;
    struct vm_config cfg = {.mem_size = 16u << 20, .cmdline = ""};
    if (vm_create(&vm, &cfg) != 0) {
        print_message("no usable KVM: %s\n", vm.err);
        vm_destroy(&vm);
        skip();
    }
    assert_int_equal(e1000_nic_add(&vm, "null", vm.err, sizeof(vm.err)), 0);
    struct e1000_nic *nic = e1000_nic_get(&vm, 0);
    assert_non_null(nic);
    assert_true(nic->csb_offered);
    uint32_t old_bar0 = nic->e1000.pci.bars[0].mapped_addr;
    assert_int_not_equal(old_bar0, NEW_BAR0);

    uint8_t code[64];
    size_t len = guest_code(code, old_bar0, NEW_BAR0);
    char path[] = "/tmp/vpio-bar-move-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_image(path, code, len);
    struct vm_image image;
    char err[256];
    assert_int_equal(vm_image_read(&image, path, cfg.mem_size, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(vm_load_kernel(&vm, &image, ""), 0);
    vm_image_free(&image);

    /* The driver's part: CSB on (the page is zeroed RAM), then BAR0 moves. */
    mmio_write32(&vm, old_bar0 + E1000_CSBAH, 0);
    mmio_write32(&vm, old_bar0 + E1000_CSBAL, CSB_GPA | E1000_CSBAL_ENABLE);
    assert_true(nic->csb.bound);
    assert_int_equal(nic->csb.bound_base, old_bar0);
    int slot = nic->e1000.pci.slot;
    pci_config_write(&vm.pci, (uint8_t)slot, 0, 0x10, 4, NEW_BAR0);
    assert_int_equal(nic->e1000.pci.bars[0].mapped_addr, NEW_BAR0);
    assert_true(nic->csb.bound);
    assert_int_equal(nic->csb.bound_base, NEW_BAR0);
    assert_int_equal(nic->csb.bind_errors, 0);
    uint64_t mmio_before = vm.exits.mmio;

    assert_int_equal(vm_run(&vm, 30), 1); /* isa-debug-exit 0 */
    struct e1000_stats st;
    e1000_get_stats(&nic->e1000.dev, &st);
    /* 1: the kick at the new BAR0 never left the kernel */
    assert_int_equal(st.csb_tx_kicks, 0);
    assert_int_equal(st.tdt_writes, 0);
    assert_true(atomic_load(&nic->csb.waiter.doorbell_wakeups) >= 1);
    /* 3: the old address exits and nobody claims it */
    assert_int_equal(vm.exits.mmio - mmio_before, 1);
    assert_int_equal(vm.mmio.unclaimed, 1);
    vm_destroy(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csb_kick_follows_bar0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
