/* PCI host bridge and configuration space (see pci.h).
 *
 * No firmware runs before the guest, so the VMM plays the BIOS: it assigns
 * BAR addresses, enables I/O and memory decoding and fills the interrupt line.
 * The guest may still size and move BARs; decoding follows the command
 * register, as on real hardware. */
#include "pci.h"

#include <string.h>

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT 0xCFC

#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CLASS 0x09
#define CFG_HEADER_TYPE 0x0E
#define CFG_BAR0 0x10
#define CFG_SUBSYS_VENDOR 0x2C
#define CFG_SUBSYS_ID 0x2E
#define CFG_INT_LINE 0x3C
#define CFG_INT_PIN 0x3D

#define CMD_IO 0x0001
#define CMD_MEM 0x0002
#define CMD_MASTER 0x0004
#define CMD_INTX_DISABLE 0x0400

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static struct bus *bar_bus(struct pci_host *host, const struct pci_bar *bar)
{
    return bar->kind == PCI_BAR_IO ? host->pio : host->mmio;
}

static uint32_t bar_addr_mask(const struct pci_bar *bar)
{
    return ~(bar->size - 1);
}

/* Brings the bus mappings of dev in line with its BARs and command register. */
static void update_mappings(struct pci_host *host, struct pci_device *dev)
{
    uint16_t cmd = get16(&dev->config[CFG_COMMAND]);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *bar = &dev->bars[i];
        if (bar->kind == PCI_BAR_NONE)
            continue;
        uint32_t addr = get32(&dev->config[CFG_BAR0 + 4 * i]) & bar_addr_mask(bar);
        bool enabled = (cmd & (bar->kind == PCI_BAR_IO ? CMD_IO : CMD_MEM)) != 0;
        /* An I/O BAR can only decode the 64 KiB port space. */
        if (bar->kind == PCI_BAR_IO && (uint64_t)addr + bar->size > 0x10000)
            enabled = false;
        /* Address 0 and the all-ones sizing pattern are not real placements. */
        if (addr == 0 || addr == bar_addr_mask(bar))
            enabled = false;
        struct bus *bus = bar_bus(host, bar);
        if (bar->mapped && (!enabled || addr != bar->mapped_addr)) {
            bus_unregister(bus, bar->mapped_addr);
            bar->mapped = false;
            if (dev->bar_deactivate)
                dev->bar_deactivate(dev, i, bar->mapped_addr, dev->bar_opaque);
        }
        if (enabled && !bar->mapped &&
            bus_register(bus, addr, bar->size, bar->handler, bar->opaque, dev->name) == 0) {
            bar->mapped = true;
            bar->mapped_addr = addr;
            if (dev->bar_activate)
                dev->bar_activate(dev, i, addr, dev->bar_opaque);
        }
    }
}

static struct pci_device *lookup(struct pci_host *host, uint8_t slot, uint8_t func)
{
    if (slot >= PCI_MAX_DEVICES || func != 0)
        return NULL;
    return host->devices[slot];
}

uint32_t pci_config_read(struct pci_host *host, uint8_t slot, uint8_t func, uint8_t reg,
                         uint32_t len)
{
    struct pci_device *dev = lookup(host, slot, func);
    if (!dev || (len != 1 && len != 2 && len != 4) || reg + len > 256)
        return len == 1 ? 0xff : len == 2 ? 0xffff : 0xffffffffu;
    uint32_t v = 0;
    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)dev->config[reg + i] << (8 * i);
    return v;
}

void pci_config_write(struct pci_host *host, uint8_t slot, uint8_t func, uint8_t reg, uint32_t len,
                      uint32_t value)
{
    struct pci_device *dev = lookup(host, slot, func);
    if (!dev || (len != 1 && len != 2 && len != 4) || reg + len > 256)
        return;
    for (uint32_t i = 0; i < len; i++) {
        uint8_t m = dev->wmask[reg + i];
        uint8_t b = (value >> (8 * i)) & 0xff;
        dev->config[reg + i] = (dev->config[reg + i] & ~m) | (b & m);
    }
    bool touches_bars = reg < CFG_BAR0 + 4 * PCI_NUM_BARS && reg + len > CFG_BAR0;
    bool touches_cmd = reg < CFG_COMMAND + 2 && reg + len > CFG_COMMAND;
    if (touches_bars || touches_cmd)
        update_mappings(host, dev);
}

/* Ports 0xCF8 (address, 32-bit) and 0xCFC-0xCFF (data window). */
static void config_port_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
                           bool is_write)
{
    struct pci_host *host = opaque;
    if (offset < 4) {
        if (offset == 0 && len == 4) {
            if (is_write)
                host->config_address = get32(data);
            else
                put32(data, host->config_address);
        } else if (!is_write) {
            memset(data, 0xff, len);
        }
        return;
    }
    uint32_t ca = host->config_address;
    uint32_t byte = (uint32_t)offset - 4;
    bool enabled = ca & 0x80000000u;
    uint8_t bus = (ca >> 16) & 0xff, slot = (ca >> 11) & 0x1f, func = (ca >> 8) & 7;
    uint8_t reg = (ca & 0xfc) + byte;
    if (!enabled || bus != 0 || byte + len > 4) {
        if (!is_write)
            memset(data, 0xff, len);
        return;
    }
    if (is_write) {
        uint32_t v = 0;
        memcpy(&v, data, len);
        pci_config_write(host, slot, func, reg, len, v);
    } else {
        uint32_t v = pci_config_read(host, slot, func, reg, len);
        memcpy(data, &v, len);
    }
}

static void init_config(struct pci_device *dev)
{
    memset(dev->config, 0, sizeof(dev->config));
    memset(dev->wmask, 0, sizeof(dev->wmask));
    put16(&dev->config[CFG_VENDOR], dev->vendor_id);
    put16(&dev->config[CFG_DEVICE], dev->device_id);
    dev->config[CFG_REVISION] = dev->revision;
    dev->config[CFG_CLASS] = dev->class_code & 0xff;
    dev->config[CFG_CLASS + 1] = (dev->class_code >> 8) & 0xff;
    dev->config[CFG_CLASS + 2] = (dev->class_code >> 16) & 0xff;
    dev->config[CFG_HEADER_TYPE] = 0;
    put16(&dev->config[CFG_SUBSYS_VENDOR], dev->subsystem_vendor_id);
    put16(&dev->config[CFG_SUBSYS_ID], dev->subsystem_id);
    dev->config[CFG_INT_PIN] = dev->irq_pin;
    dev->config[CFG_INT_LINE] = dev->irq_line;
    put16(&dev->wmask[CFG_COMMAND], CMD_IO | CMD_MEM | CMD_MASTER | CMD_INTX_DISABLE);
    dev->wmask[CFG_INT_LINE] = 0xff;
}

static int assign_bars(struct pci_host *host, struct pci_device *dev)
{
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *bar = &dev->bars[i];
        if (bar->kind == PCI_BAR_NONE)
            continue;
        if (bar->size < 16 || (bar->size & (bar->size - 1)) || !bar->handler)
            return -1;
        uint32_t *cursor = bar->kind == PCI_BAR_IO ? &host->next_io : &host->next_mmio;
        uint32_t addr = (*cursor + bar->size - 1) & ~(bar->size - 1);
        uint64_t limit = bar->kind == PCI_BAR_IO
                             ? 0x10000
                             : (uint64_t)PCI_MMIO_WINDOW_BASE + PCI_MMIO_WINDOW_SIZE;
        if ((uint64_t)addr + bar->size > limit)
            return -1;
        *cursor = addr + bar->size;
        bar->addr = addr;
        uint32_t type_bits = bar->kind == PCI_BAR_IO ? 0x1 : 0x0;
        put32(&dev->config[CFG_BAR0 + 4 * i], addr | type_bits);
        put32(&dev->wmask[CFG_BAR0 + 4 * i], bar_addr_mask(bar));
    }
    return 0;
}

int pci_add_device(struct pci_host *host, struct pci_device *dev)
{
    int slot = 1;
    while (slot < PCI_MAX_DEVICES && host->devices[slot])
        slot++;
    if (slot >= PCI_MAX_DEVICES)
        return -1;
    dev->slot = slot;
    if (dev->irq_pin)
        dev->irq_line = PCI_INTX_GSI_BASE + (slot - 1) % 8;
    init_config(dev);
    if (assign_bars(host, dev) < 0)
        return -1;
    put16(&dev->config[CFG_COMMAND], CMD_IO | CMD_MEM | CMD_MASTER);
    host->devices[slot] = dev;
    update_mappings(host, dev);
    return 0;
}

int pci_host_init(struct pci_host *host, struct bus *pio, struct bus *mmio)
{
    memset(host, 0, sizeof(*host));
    host->pio = pio;
    host->mmio = mmio;
    host->next_mmio = PCI_MMIO_WINDOW_BASE;
    host->next_io = PCI_IO_WINDOW_BASE;
    host->bridge = (struct pci_device){
        .name = "host-bridge",
        .vendor_id = 0x8086,
        .device_id = 0x1237, /* i440FX, what guests expect to find in slot 0 */
        .class_code = 0x060000,
    };
    init_config(&host->bridge);
    host->devices[0] = &host->bridge;
    return bus_register(pio, PCI_CONFIG_ADDRESS_PORT, 8, config_port_io, host, "pci-config");
}
