/* The VMM's NIC glue without KVM: a --nic spec becomes an e1000 on the PCI
 * bus, reachable through the MMIO bus, served by the I/O thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/e1000_nic.h"
#include "vmm/vm.h"

static struct vm vm;

static void setup_vm(void)
{
    memset(&vm, 0, sizeof(vm));
    vm.kvm_fd = vm.vm_fd = vm.vcpu_fd = -1; /* KVM_IRQ_LINE fails and is counted */
    vm.mem.size = 8u << 20;
    vm.mem.host = calloc(1, vm.mem.size);
    vm.pio.name = "pio";
    vm.mmio.name = "mmio";
    assert_int_equal(pci_host_init(&vm.pci, &vm.pio, &vm.mmio), 0);
}

static int nic_add(const char *spec)
{
    return e1000_nic_add(&vm, spec, vm.err, sizeof(vm.err));
}

static void teardown_vm(void)
{
    vm_devices_destroy(&vm);
    free(vm.mem.host);
}

static uint32_t mmio_read32(uint64_t addr)
{
    uint32_t v = 0;
    assert_true(bus_access(&vm.mmio, addr, (uint8_t *)&v, 4, false));
    return v;
}

static void nic_appears_on_pci_and_mmio(void **state)
{
    setup_vm();
    assert_int_equal(nic_add("null,mac=52:54:00:aa:bb:01,mitigation=off"), 0);
    assert_int_equal(e1000_nic_count(&vm), 1);
    assert_int_equal(pci_config_read(&vm.pci, 1, 0, 0, 4), 0x100e8086);
    uint32_t bar0 = pci_config_read(&vm.pci, 1, 0, 0x10, 4) & ~0xfu;
    /* STATUS: link up; RAL0/RAH0: the MAC from the spec. */
    assert_true(mmio_read32(bar0 + 0x8) & 0x2);
    assert_int_equal(mmio_read32(bar0 + 0x5400), 0xaa005452);
    assert_int_equal(mmio_read32(bar0 + 0x5404) & 0xffff, 0x01bb);
    assert_int_equal(vm_devices_start(&vm), 0);
    assert_true(vm.io.running);
    teardown_vm();
}

static void csb_is_offered_unless_switched_off(void **state)
{
    setup_vm();
    assert_int_equal(nic_add("null"), 0);
    assert_int_equal(nic_add("null,csb=off,mac=52:54:00:aa:bb:02"), 0);
    /* Subsystem ID (config 0x2e): 0x1101 advertises the CSB (docs/csb.md). */
    assert_int_equal(pci_config_read(&vm.pci, 1, 0, 0x2e, 2), 0x1101);
    assert_int_not_equal(pci_config_read(&vm.pci, 2, 0, 0x2e, 2), 0x1101);
    assert_true(e1000_nic_get(&vm, 0)->csb_offered);
    assert_false(e1000_nic_get(&vm, 1)->csb_offered);
    assert_int_equal(vm_devices_start(&vm), 0);
    assert_true(e1000_nic_get(&vm, 0)->csb_running);
    vm_devices_stop(&vm);
    assert_false(e1000_nic_get(&vm, 0)->csb_running);
    teardown_vm();
}

static void bad_specs_are_refused(void **state)
{
    setup_vm();
    assert_int_equal(nic_add("bogus-backend"), VM_DEVICE_BAD_SPEC);
    assert_non_null(strstr(vm.err, "bogus-backend"));
    assert_int_equal(nic_add("null,mac=zz"), VM_DEVICE_BAD_SPEC);
    /* A spec that parses but whose backend cannot be opened: set-up. */
    assert_int_equal(nic_add("pcap:/nonexistent-dir/x.pcap"), VM_DEVICE_SETUP);
    assert_int_equal(e1000_nic_count(&vm), 0);
    for (int i = 0; i < E1000_NIC_MAX; i++)
        assert_int_equal(nic_add("null"), 0);
    assert_int_equal(nic_add("null"), -1);
    assert_non_null(strstr(vm.err, "at most"));
    teardown_vm();
}

/* --stats shows every error counter, also when 0; here (no KVM behind the
 * fake VM) the irqfd and the ioeventfd probe fail and are counted. */
static void error_counters_are_shown(void **state)
{
    setup_vm();
    assert_int_equal(nic_add("null"), 0);
    assert_int_equal(vm_devices_start(&vm), 0);
    vm_devices_stop(&vm);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    vm_devices_print_stats(&vm, out);
    fclose(out);
    assert_non_null(strstr(text, "vpio stats: e1000-0 errors bind_errors=1 irqfd_errors=1 "
                                 "io_source_errors=0\n"));
    free(text);
    teardown_vm();
}

/* A VM whose set-up fails removes the switch its first --nic created. */
static void failed_setup_removes_its_switch(void **state)
{
    setup_vm();
    char sw[32], spec[64], path[64];
    snprintf(sw, sizeof(sw), "vpnt%d", (int)getpid());
    snprintf(spec, sizeof(spec), "%s:a", sw);
    snprintf(path, sizeof(path), "/dev/shm/vpio-%s", sw);
    assert_int_equal(nic_add(spec), 0);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(nic_add(spec), VM_DEVICE_SETUP); /* the port is taken */
    vm.setup_failed = true;
    teardown_vm();
    assert_int_not_equal(access(path, F_OK), 0);
    unlink(path);
}

/* A VM that ran leaves the switch for others. */
static void normal_end_keeps_the_switch(void **state)
{
    setup_vm();
    char sw[32], spec[64], path[64];
    snprintf(sw, sizeof(sw), "vpnk%d", (int)getpid());
    snprintf(spec, sizeof(spec), "%s:a", sw);
    snprintf(path, sizeof(path), "/dev/shm/vpio-%s", sw);
    assert_int_equal(nic_add(spec), 0);
    teardown_vm();
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nic_appears_on_pci_and_mmio),
        cmocka_unit_test(csb_is_offered_unless_switched_off),
        cmocka_unit_test(bad_specs_are_refused),
        cmocka_unit_test(error_counters_are_shown),
        cmocka_unit_test(failed_setup_removes_its_switch),
        cmocka_unit_test(normal_end_keeps_the_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
