/* e1000 model: probe sequence, registers, interrupts (no traffic). */
#include "test_e1000_harness.h"

static uint16_t eerd(struct h *h, uint32_t addr)
{
    wr(h, E1000_EERD, (addr << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
    uint32_t v = rd(h, E1000_EERD);
    assert_true(v & E1000_EERD_DONE);
    return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

static void test_probe_reset_and_mac(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    wr(h, E1000_IMC, 0xFFFFFFFF);
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
    assert_false(rd(h, E1000_CTRL) & E1000_CTRL_RST); /* self-clearing */
    uint8_t mac[6];
    for (int i = 0; i < 3; i++) {
        uint16_t w = eerd(h, (uint32_t)i);
        mac[2 * i] = (uint8_t)w;
        mac[2 * i + 1] = (uint8_t)(w >> 8);
    }
    assert_memory_equal(mac, TEST_MAC, 6);
    /* RAL0/RAH0 hold the MAC with Address Valid after reset */
    assert_int_equal(rd(h, E1000_RA), 0xAA005452u);
    assert_int_equal(rd(h, E1000_RA + 4), 0x01BBu | E1000_RAH_AV);
    assert_int_equal(st(h).resets, 1);
    h_free(h);
}

static void test_eeprom_checksum(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    uint16_t sum = 0;
    for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++)
        sum = (uint16_t)(sum + eerd(h, i));
    assert_int_equal(sum, E1000_EEPROM_SUM);
    assert_int_equal(eerd(h, 0x0D), E1000_DEVICE_ID);
    assert_int_equal(eerd(h, 0x0E), E1000_VENDOR_ID);
    assert_int_equal(eerd(h, 200), 0); /* beyond the EEPROM */
    h_free(h);
}

/* Microwire read as Linux's e1000 does it for the 82540EM (3 opcode bits, 6 address bits). */
static void ee_clock(struct h *h, uint32_t *eecd, bool up)
{
    *eecd = up ? (*eecd | E1000_EECD_SK) : (*eecd & ~E1000_EECD_SK);
    wr(h, E1000_EECD, *eecd);
}

static uint16_t eecd_read_word(struct h *h, uint32_t addr)
{
    uint32_t eecd = rd(h, E1000_EECD);
    assert_true(eecd & E1000_EECD_PRES);
    eecd |= E1000_EECD_REQ;
    wr(h, E1000_EECD, eecd);
    assert_true(rd(h, E1000_EECD) & E1000_EECD_GNT);
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    wr(h, E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(h, E1000_EECD, eecd);
    uint32_t cmd = (6u << 6) | addr; /* 110 aaaaaa */
    for (int b = 8; b >= 0; b--) {
        eecd = (cmd >> b) & 1 ? eecd | E1000_EECD_DI : eecd & ~E1000_EECD_DI;
        wr(h, E1000_EECD, eecd);
        ee_clock(h, &eecd, true);
        ee_clock(h, &eecd, false);
    }
    eecd &= ~E1000_EECD_DI;
    uint16_t data = 0;
    for (int b = 0; b < 16; b++) {
        data = (uint16_t)(data << 1);
        ee_clock(h, &eecd, true);
        if (rd(h, E1000_EECD) & E1000_EECD_DO)
            data |= 1;
        ee_clock(h, &eecd, false);
    }
    eecd &= ~(E1000_EECD_CS | E1000_EECD_REQ);
    wr(h, E1000_EECD, eecd);
    return data;
}

static void test_eeprom_bitbang(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    for (uint32_t a = 0; a < E1000_EEPROM_WORDS; a++)
        assert_int_equal(eecd_read_word(h, a), eerd(h, a));
    h_free(h);
}

static uint32_t mdic(struct h *h, uint32_t op, uint32_t phy, uint32_t reg, uint16_t data)
{
    wr(h, E1000_MDIC, op | (phy << E1000_MDIC_PHY_SHIFT) | (reg << E1000_MDIC_REG_SHIFT) | data);
    uint32_t v = rd(h, E1000_MDIC);
    assert_true(v & E1000_MDIC_READY);
    return v;
}

static void test_mdic_phy(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    uint32_t id1 = mdic(h, E1000_MDIC_OP_READ, 1, PHY_ID1, 0) & 0xFFFF;
    uint32_t id2 = mdic(h, E1000_MDIC_OP_READ, 1, PHY_ID2, 0) & 0xFFFF;
    assert_int_equal((id1 << 16) | id2, 0x01410C20);
    uint32_t s = mdic(h, E1000_MDIC_OP_READ, 1, PHY_STATUS, 0);
    assert_true(s & PHY_STATUS_LINK);
    assert_true(s & PHY_STATUS_AN_COMPLETE);
    assert_false(s & E1000_MDIC_ERROR);
    /* restart autoneg: self-clearing, completes, raises LSC */
    mdic(h, E1000_MDIC_OP_WRITE, 1, PHY_CTRL, 0x1140 | PHY_CTRL_RESTART_AN);
    assert_false(mdic(h, E1000_MDIC_OP_READ, 1, PHY_CTRL, 0) & PHY_CTRL_RESTART_AN);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_LSC);
    /* PHY reset self-clears */
    mdic(h, E1000_MDIC_OP_WRITE, 1, PHY_CTRL, PHY_CTRL_RESET);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, PHY_CTRL, 0) & 0xFFFF, 0x1140);
    /* read-only and absent PHY */
    mdic(h, E1000_MDIC_OP_WRITE, 1, PHY_ID1, 0x1234);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, PHY_ID1, 0) & 0xFFFF, 0x0141);
    assert_true(mdic(h, E1000_MDIC_OP_READ, 2, PHY_ID1, 0) & E1000_MDIC_ERROR);
    /* writable register */
    mdic(h, E1000_MDIC_OP_WRITE, 1, PHY_AUTONEG_ADV, 0x01E1);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, PHY_AUTONEG_ADV, 0) & 0xFFFF, 0x01E1);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, M88_PHY_SPEC_STATUS, 0) & 0xFFFF, 0xAC00);
    h_free(h);
}

static void test_status_link(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    uint32_t s = rd(h, E1000_STATUS);
    assert_true(s & E1000_STATUS_LU);
    assert_true(s & E1000_STATUS_FD);
    assert_int_equal(s & 0xC0, E1000_STATUS_SPEED_1000);
    wr(h, E1000_STATUS, 0); /* read-only */
    assert_int_equal(rd(h, E1000_STATUS), s);
    h_free(h);
}

static void test_icr_ims_imc_ics(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    assert_int_equal(h->level, 0);
    wr(h, E1000_ICS, E1000_ICR_RXT0); /* cause without mask: no interrupt */
    assert_int_equal(h->level, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    assert_int_equal(rd(h, E1000_IMS), E1000_ICR_RXT0 | E1000_ICR_TXDW);
    assert_int_equal(h->level, 1); /* unmasking a pending cause asserts */
    assert_int_equal(rd(h, E1000_IMC), 0);
    wr(h, E1000_IMC, E1000_ICR_RXT0);
    assert_int_equal(h->level, 0); /* masked again */
    assert_int_equal(rd(h, E1000_IMS), E1000_ICR_TXDW);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    assert_int_equal(h->level, 1);
    uint32_t icr = rd(h, E1000_ICR);
    assert_int_equal(icr, E1000_ICR_RXT0); /* read clears and lowers the line */
    assert_int_equal(h->level, 0);
    assert_int_equal(rd(h, E1000_ICR), 0);
    /* write-1-to-clear */
    wr(h, E1000_ICS, E1000_ICR_TXDW | E1000_ICR_LSC);
    assert_int_equal(h->level, 1);
    wr(h, E1000_ICR, E1000_ICR_TXDW);
    assert_int_equal(h->level, 0);
    assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
    assert_int_equal(h->edges, 3);
    assert_int_equal(st(h).irqs_raised, 3);
    h_free(h);
}

static void test_ctrl_rst_resets_state(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    wr(h, E1000_IMS, 0xFFFF);
    wr(h, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(h->level, 1);
    tx_setup(h, 8);
    wr(h, E1000_RCTL, E1000_RCTL_EN);
    wr(h, E1000_MTA + 8, 0x55);
    wr(h, E1000_RA + 4, 0); /* invalidate RA0 */
    wr(h, E1000_ITR, 100);
    wr(h, E1000_CTRL, E1000_CTRL_RST);
    assert_int_equal(h->level, 0);
    assert_int_equal(rd(h, E1000_IMS), 0);
    assert_int_equal(rd(h, E1000_ICR), 0);
    assert_int_equal(rd(h, E1000_TCTL), 0);
    assert_int_equal(rd(h, E1000_RCTL), 0);
    assert_int_equal(rd(h, E1000_TDLEN), 0);
    assert_int_equal(rd(h, E1000_MTA + 8), 0);
    assert_int_equal(rd(h, E1000_ITR), 0);
    assert_true(rd(h, E1000_RA + 4) & E1000_RAH_AV);
    assert_true(rd(h, E1000_CTRL) & E1000_CTRL_SLU);
    h_free(h);
}

static void test_stats_clear_on_read(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    tx_setup(h, 8);
    uint8_t f[100];
    make_frame(f, sizeof(f), BCAST, 1);
    memcpy(h->ram + TX_BUF, f, sizeof(f));
    tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 1);
    assert_int_equal(rd(h, E1000_GPTC), 1);
    assert_int_equal(rd(h, E1000_GPTC), 0);
    assert_int_equal(rd(h, E1000_BPTC), 1);
    assert_int_equal(rd(h, E1000_GOTCL), 104);
    assert_int_equal(rd(h, E1000_GOTCH), 0);
    assert_int_equal(rd(h, E1000_GOTCL), 0);
    wr(h, E1000_TPT, 55); /* read-only */
    assert_int_equal(rd(h, E1000_TPT), 1);
    h_free(h);
}

static void test_io_bar_indirection(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    uint8_t b[4];
    uint32_t a = E1000_IMS;
    e1000_io_write(&h->dev, E1000_IOADDR, (uint8_t *)&a, 4);
    uint32_t v = 0x84;
    e1000_io_write(&h->dev, E1000_IODATA, (uint8_t *)&v, 4);
    assert_int_equal(rd(h, E1000_IMS), 0x84);
    e1000_io_read(&h->dev, E1000_IOADDR, b, 4);
    assert_int_equal(e1000_le32(b), E1000_IMS);
    a = E1000_STATUS;
    e1000_io_write(&h->dev, E1000_IOADDR, (uint8_t *)&a, 4);
    e1000_io_read(&h->dev, E1000_IODATA, b, 4);
    assert_true(e1000_le32(b) & E1000_STATUS_LU);
    /* IOADDR beyond the register space: counted, masked */
    a = 0xFFFFFFF0;
    e1000_io_write(&h->dev, E1000_IOADDR, (uint8_t *)&a, 4);
    e1000_io_read(&h->dev, E1000_IODATA, b, 4);
    e1000_io_read(&h->dev, 8, b, 4);
    e1000_io_read(&h->dev, E1000_IODATA, b, 2);
    struct e1000_stats s = st(h);
    assert_int_equal(s.guest_errors[E1000_GERR_IO_ADDR], 1);
    assert_int_equal(s.guest_errors[E1000_GERR_ACCESS], 2);
    h_free(h);
}

static void test_unknown_and_bad_access(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    wr(h, 0x1F000, 0x12345678); /* unimplemented: write ignored */
    assert_int_equal(rd(h, 0x1F000), 0);
    uint8_t b[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    e1000_mmio_write(&h->dev, E1000_IMS, b, 2);       /* narrow */
    e1000_mmio_write(&h->dev, E1000_IMS + 1, b, 4);   /* unaligned */
    e1000_mmio_write(&h->dev, E1000_MMIO_SIZE, b, 4); /* outside */
    e1000_mmio_read(&h->dev, E1000_MMIO_SIZE - 4, b, 8);
    assert_int_equal(rd(h, E1000_IMS), 0);
    /* 8-byte access = two registers */
    uint8_t q[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    e1000_mmio_write(&h->dev, E1000_RDBAL, q, 8);
    assert_int_equal(rd(h, E1000_RDBAL), 0x80);
    struct e1000_stats s = st(h);
    assert_int_equal(s.guest_errors[E1000_GERR_UNKNOWN_REG], 2);
    assert_int_equal(s.guest_errors[E1000_GERR_ACCESS], 4);
    assert_true(s.exits_write[E1000_RC_RING] >= 2);
    h_free(h);
}

static void test_exit_counters_by_class(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    rd(h, E1000_ICR);
    rd(h, E1000_ICR);
    wr(h, E1000_IMS, 1);
    wr(h, E1000_TDT, 0);
    rd(h, E1000_STATUS);
    struct e1000_stats s = st(h);
    assert_int_equal(s.exits_read[E1000_RC_ICR], 2);
    assert_int_equal(s.exits_write[E1000_RC_IMASK], 1);
    assert_int_equal(s.exits_write[E1000_RC_TDT], 1);
    assert_int_equal(s.tdt_writes, 1);
    assert_int_equal(s.exits_read[E1000_RC_CTRL], 1);
    assert_string_equal(e1000_reg_class_name(E1000_RC_TDT), "tdt");
    assert_string_equal(e1000_drop_name(E1000_DROP_RX_NO_DESC), "rx_no_desc");
    assert_string_equal(e1000_guest_error_name(E1000_GERR_TSO), "tso");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    e1000_print_stats(&h->dev, "nic0", f);
    fclose(f);
    assert_non_null(strstr(buf, "nic0: tx_frames=0"));
    assert_non_null(strstr(buf, "icr=2/0"));
    free(buf);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_reset_and_mac),
        cmocka_unit_test(test_eeprom_checksum),
        cmocka_unit_test(test_eeprom_bitbang),
        cmocka_unit_test(test_mdic_phy),
        cmocka_unit_test(test_status_link),
        cmocka_unit_test(test_icr_ims_imc_ics),
        cmocka_unit_test(test_ctrl_rst_resets_state),
        cmocka_unit_test(test_stats_clear_on_read),
        cmocka_unit_test(test_io_bar_indirection),
        cmocka_unit_test(test_unknown_and_bad_access),
        cmocka_unit_test(test_exit_counters_by_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
