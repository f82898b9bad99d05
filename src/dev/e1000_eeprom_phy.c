/* e1000 model: the EEPROM (read through EERD or bit-banged Microwire on
 * EECD) and the PHY behind MDIC (a Marvell 88E1011 with the link up). */
#include <string.h>

#include "dev/e1000_internal.h"

/* The 64-word EEPROM: MAC address, IDs, and a checksum word that makes the
 * sum of all words 0xBABA, which drivers verify. */
void e1000_eeprom_init(struct e1000 *dev)
{
    uint16_t *w = dev->eeprom;
    const uint8_t *m = dev->cfg.mac;
    memset(dev->eeprom, 0, sizeof(dev->eeprom));
    w[0] = (uint16_t)(m[0] | (m[1] << 8));
    w[1] = (uint16_t)(m[2] | (m[3] << 8));
    w[2] = (uint16_t)(m[4] | (m[5] << 8));
    w[0x04] = 0xFFFF; /* LED settings: defaults */
    w[0x0A] = 0x6401; /* init control 1: load subsystem IDs, 1 = "signature" 01b in 15:14 */
    w[0x0B] = dev->cfg.csb ? E1000_CSB_SUBSYS_ID : E1000_DEVICE_ID; /* subsystem ID (as PCI) */
    w[0x0C] = E1000_VENDOR_ID;                                      /* subsystem vendor */
    w[0x0D] = E1000_DEVICE_ID;
    w[0x0E] = E1000_VENDOR_ID;
    w[0x0F] = 0x3040; /* init control 2 */
    uint16_t sum = 0;
    for (int i = 0; i < E1000_EEPROM_CHECKSUM_WORD; i++)
        sum = (uint16_t)(sum + w[i]);
    w[E1000_EEPROM_CHECKSUM_WORD] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

void e1000_eerd_write(struct e1000 *dev, uint32_t val)
{
    if (!(val & E1000_EERD_START)) {
        R(dev, E1000_EERD) = val & E1000_EERD_ADDR_MASK;
        return;
    }
    uint32_t addr = (val & E1000_EERD_ADDR_MASK) >> E1000_EERD_ADDR_SHIFT;
    uint32_t data = addr < E1000_EEPROM_WORDS ? dev->eeprom[addr] : 0;
    R(dev, E1000_EERD) =
        (data << E1000_EERD_DATA_SHIFT) | (addr << E1000_EERD_ADDR_SHIFT) | E1000_EERD_DONE;
}

/* Microwire: with CS high, the driver clocks in (on SK rising edges) a start
 * bit, the 2-bit READ opcode and 6 address bits; then each further clock
 * shifts one data bit out on DO, most significant bit first, through
 * consecutive words. bit_out counts bits from the start of the EEPROM and
 * advances on SK falling edges. */
void e1000_eecd_write(struct e1000 *dev, uint32_t val)
{
    uint32_t old = dev->eecd.last;
    dev->eecd.last = val & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_REQ |
                            E1000_EECD_FWE_MASK);
    if (!(val & E1000_EECD_CS)) {
        dev->eecd.val_in = dev->eecd.bits_in = dev->eecd.bit_out = 0;
        dev->eecd.reading = false;
        return;
    }
    if (!(old & E1000_EECD_CS))
        return; /* CS just rose: start of a command */
    if (!((val ^ old) & E1000_EECD_SK))
        return;                   /* no clock edge */
    if (!(val & E1000_EECD_SK)) { /* falling edge */
        if (dev->eecd.reading)
            dev->eecd.bit_out++;
        return;
    }
    /* rising edge: shift a bit in (only the command matters) */
    if (dev->eecd.bits_in < 9) {
        dev->eecd.val_in = (dev->eecd.val_in << 1) | ((val & E1000_EECD_DI) ? 1 : 0);
        if (++dev->eecd.bits_in == 9) {
            uint32_t op = (dev->eecd.val_in >> 6) & 7;
            dev->eecd.reading = op == E1000_EEPROM_READ_OPCODE;
            /* The falling edge after the last address bit moves to its MSB. */
            dev->eecd.bit_out = (dev->eecd.val_in & 0x3F) * 16 - 1;
        }
    }
}

uint32_t e1000_eecd_read(struct e1000 *dev)
{
    uint32_t v = dev->eecd.last | E1000_EECD_PRES | E1000_EECD_GNT;
    v &= ~E1000_EECD_DO;
    if (dev->eecd.reading && dev->eecd.bits_in >= 9) {
        uint32_t bit = dev->eecd.bit_out;
        uint32_t word = (bit >> 4) % E1000_EEPROM_WORDS;
        if ((dev->eeprom[word] >> (15 - (bit & 15))) & 1)
            v |= E1000_EECD_DO;
    }
    return v;
}

/* ---- PHY ---- */

void e1000_phy_reset(struct e1000 *dev)
{
    uint16_t *p = dev->phy;
    memset(dev->phy, 0, sizeof(dev->phy));
    p[PHY_CTRL] = 0x1140;   /* autoneg enabled, full duplex, 1000 Mb/s */
    p[PHY_STATUS] = 0x796D; /* link up, autoneg complete, capabilities */
    p[PHY_ID1] = M88E1011_PHY_ID1;
    p[PHY_ID2] = M88E1011_PHY_ID2;
    p[PHY_AUTONEG_ADV] = 0x0DE1;
    p[PHY_LP_ABILITY] = 0x41E1;
    p[PHY_AUTONEG_EXP] = 0x0001;
    p[PHY_1000T_CTRL] = 0x0E00;
    p[PHY_1000T_STATUS] = 0x3C00;
    p[PHY_EXT_STATUS] = 0x3000;
    p[M88_PHY_SPEC_CTRL] = 0x0068;
    p[M88_PHY_SPEC_STATUS] = 0xAC00; /* 1000, full duplex, resolved, link */
    p[M88_EXT_PHY_SPEC_CTRL] = 0x0D60;
}

static bool phy_read_only(uint32_t reg)
{
    switch (reg) {
    case PHY_STATUS:
    case PHY_ID1:
    case PHY_ID2:
    case PHY_LP_ABILITY:
    case PHY_AUTONEG_EXP:
    case PHY_1000T_STATUS:
    case PHY_EXT_STATUS:
    case M88_PHY_SPEC_STATUS:
        return true;
    }
    return false;
}

static void phy_write(struct e1000 *dev, uint32_t reg, uint16_t val)
{
    if (phy_read_only(reg))
        return;
    if (reg == PHY_CTRL) {
        if (val & PHY_CTRL_RESET) {
            e1000_phy_reset(dev);
            return;
        }
        /* Reset and restart-autonegotiation self-clear; the link is always up
         * and autonegotiation completes at once. */
        dev->phy[PHY_CTRL] = val & ~(PHY_CTRL_RESET | PHY_CTRL_RESTART_AN);
        if (val & PHY_CTRL_RESTART_AN) {
            dev->phy[PHY_STATUS] |= PHY_STATUS_AN_COMPLETE | PHY_STATUS_LINK;
            e1000_set_cause(dev, E1000_ICR_LSC);
        }
        return;
    }
    dev->phy[reg] = val;
}

void e1000_mdic_write(struct e1000 *dev, uint32_t val)
{
    uint32_t phy = (val & E1000_MDIC_PHY_MASK) >> E1000_MDIC_PHY_SHIFT;
    uint32_t reg = (val & E1000_MDIC_REG_MASK) >> E1000_MDIC_REG_SHIFT;
    uint32_t res = val & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
    if (phy != E1000_PHY_ADDR) {
        res |= E1000_MDIC_ERROR;
    } else if ((val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) == E1000_MDIC_OP_READ) {
        res = (res & ~E1000_MDIC_DATA_MASK) | dev->phy[reg];
    } else if ((val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) == E1000_MDIC_OP_WRITE) {
        phy_write(dev, reg, (uint16_t)(val & E1000_MDIC_DATA_MASK));
    } else {
        res |= E1000_MDIC_ERROR;
    }
    R(dev, E1000_MDIC) = res | E1000_MDIC_READY;
    if (val & E1000_MDIC_INT_EN)
        e1000_set_cause(dev, E1000_ICR_MDAC);
}
