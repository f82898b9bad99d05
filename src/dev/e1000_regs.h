/* Intel 82540EM (8086:100E) register map: offsets in BAR0 and bit names,
 * from the 8254x Software Developer's Manual. Only what the model uses or a
 * driver commonly names; every other offset reads as zero. */
#ifndef VPIO_E1000_REGS_H
#define VPIO_E1000_REGS_H

#include "vpio/e1000_csb.h" /* the CSB extension's registers */

#define E1000_VENDOR_ID 0x8086
#define E1000_DEVICE_ID 0x100E /* 82540EM desktop */
#define E1000_CLASS_CODE 0x020000
#define E1000_MMIO_SIZE 0x20000 /* BAR0: 128 KiB */
#define E1000_IO_SIZE 64        /* BAR1: IOADDR/IODATA window */
#define E1000_IOADDR 0x00
#define E1000_IODATA 0x04

/* ---- general ---- */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EECD 0x0010
#define E1000_EERD 0x0014
#define E1000_CTRL_EXT 0x0018
#define E1000_FLA 0x001C
#define E1000_MDIC 0x0020
#define E1000_FCAL 0x0028
#define E1000_FCAH 0x002C
#define E1000_FCT 0x0030
#define E1000_VET 0x0038
#define E1000_ICR 0x00C0
#define E1000_ITR 0x00C4
#define E1000_ICS 0x00C8
#define E1000_IMS 0x00D0
#define E1000_IMC 0x00D8
#define E1000_RCTL 0x0100
#define E1000_FCTTV 0x0170
#define E1000_TXCW 0x0178
#define E1000_RXCW 0x0180
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_LEDCTL 0x0E00
#define E1000_PBA 0x1000
#define E1000_FCRTL 0x2160
#define E1000_FCRTH 0x2168
/* ---- receive ring ---- */
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820
#define E1000_RXDCTL 0x2828
#define E1000_RADV 0x282C
/* E1000_CSBAL, E1000_CSBAH (0x2830, 0x2834) and the CSB page: vpio/e1000_csb.h */
#define E1000_RSRPD 0x2C00
/* ---- transmit ring ---- */
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_TIDV 0x3820
#define E1000_TXDCTL 0x3828
#define E1000_TADV 0x382C
/* ---- statistics (clear on read) 0x4000..0x40FF ---- */
#define E1000_STATS_BASE 0x4000
#define E1000_STATS_END 0x4100
#define E1000_CRCERRS 0x4000
#define E1000_MPC 0x4010 /* missed packets: no RX descriptor */
#define E1000_COLC 0x4028
#define E1000_PRC64 0x405C
#define E1000_PRC127 0x4060
#define E1000_PRC255 0x4064
#define E1000_PRC511 0x4068
#define E1000_PRC1023 0x406C
#define E1000_PRC1522 0x4070
#define E1000_GPRC 0x4074
#define E1000_BPRC 0x4078
#define E1000_MPRC 0x407C
#define E1000_GPTC 0x4080
#define E1000_GORCL 0x4088
#define E1000_GORCH 0x408C
#define E1000_GOTCL 0x4090
#define E1000_GOTCH 0x4094
#define E1000_RNBC 0x40A0
#define E1000_RLEC 0x4040 /* receive length errors (undersize and oversize) */
#define E1000_RUC 0x40A4
#define E1000_ROC 0x40AC
#define E1000_TORL 0x40C0
#define E1000_TORH 0x40C4
#define E1000_TOTL 0x40C8
#define E1000_TOTH 0x40CC
#define E1000_TPR 0x40D0
#define E1000_TPT 0x40D4
#define E1000_PTC64 0x40D8
#define E1000_PTC127 0x40DC
#define E1000_PTC255 0x40E0
#define E1000_PTC511 0x40E4
#define E1000_PTC1023 0x40E8
#define E1000_PTC1522 0x40EC
#define E1000_MPTC 0x40F0
#define E1000_BPTC 0x40F4
#define E1000_TSCTC 0x40F8
#define E1000_TSCTFC 0x40FC
/* ---- receive control / filters ---- */
#define E1000_RXCSUM 0x5000
#define E1000_MTA 0x5200 /* 128 dwords */
#define E1000_MTA_WORDS 128
#define E1000_RA 0x5400 /* 16 pairs RAL/RAH */
#define E1000_RA_ENTRIES 16
#define E1000_VFTA 0x5600 /* 128 dwords */
#define E1000_VFTA_WORDS 128
#define E1000_WUC 0x5800
#define E1000_WUFC 0x5808
#define E1000_MANC 0x5820

/* CTRL */
#define E1000_CTRL_FD 0x00000001u
#define E1000_CTRL_LRST 0x00000008u
#define E1000_CTRL_ASDE 0x00000020u
#define E1000_CTRL_SLU 0x00000040u
#define E1000_CTRL_ILOS 0x00000080u
#define E1000_CTRL_SPD_1000 0x00000200u
#define E1000_CTRL_FRCSPD 0x00000800u
#define E1000_CTRL_FRCDPX 0x00001000u
#define E1000_CTRL_RST 0x04000000u
#define E1000_CTRL_VME 0x40000000u
#define E1000_CTRL_PHY_RST 0x80000000u

/* STATUS */
#define E1000_STATUS_FD 0x00000001u
#define E1000_STATUS_LU 0x00000002u
#define E1000_STATUS_TXOFF 0x00000010u
#define E1000_STATUS_SPEED_1000 0x00000080u

/* EECD (Microwire, 64 words) */
#define E1000_EECD_SK 0x00000001u
#define E1000_EECD_CS 0x00000002u
#define E1000_EECD_DI 0x00000004u
#define E1000_EECD_DO 0x00000008u
#define E1000_EECD_FWE_MASK 0x00000030u
#define E1000_EECD_REQ 0x00000040u
#define E1000_EECD_GNT 0x00000080u
#define E1000_EECD_PRES 0x00000100u
#define E1000_EEPROM_READ_OPCODE 0x6 /* start bit + "10" */

/* EERD */
#define E1000_EERD_START 0x00000001u
#define E1000_EERD_DONE 0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_ADDR_MASK 0x0000FF00u
#define E1000_EERD_DATA_SHIFT 16

#define E1000_EEPROM_WORDS 64
#define E1000_EEPROM_SUM 0xBABA
#define E1000_EEPROM_CHECKSUM_WORD 0x3F

/* MDIC */
#define E1000_MDIC_DATA_MASK 0x0000FFFFu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_REG_MASK 0x001F0000u
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_PHY_MASK 0x03E00000u
#define E1000_MDIC_OP_WRITE 0x04000000u
#define E1000_MDIC_OP_READ 0x08000000u
#define E1000_MDIC_READY 0x10000000u
#define E1000_MDIC_INT_EN 0x20000000u
#define E1000_MDIC_ERROR 0x40000000u

/* PHY (Marvell 88E1011 as on the 82540EM), address 1 */
#define E1000_PHY_ADDR 1
#define PHY_CTRL 0x00
#define PHY_STATUS 0x01
#define PHY_ID1 0x02
#define PHY_ID2 0x03
#define PHY_AUTONEG_ADV 0x04
#define PHY_LP_ABILITY 0x05
#define PHY_AUTONEG_EXP 0x06
#define PHY_1000T_CTRL 0x09
#define PHY_1000T_STATUS 0x0A
#define PHY_EXT_STATUS 0x0F
#define M88_PHY_SPEC_CTRL 0x10
#define M88_PHY_SPEC_STATUS 0x11
#define M88_EXT_PHY_SPEC_CTRL 0x14
#define PHY_REGS 32
#define M88E1011_PHY_ID1 0x0141
#define M88E1011_PHY_ID2 0x0C20
#define PHY_CTRL_RESET 0x8000
#define PHY_CTRL_RESTART_AN 0x0200
#define PHY_STATUS_LINK 0x0004
#define PHY_STATUS_AN_COMPLETE 0x0020

/* Interrupt causes: ICR / ICS / IMS / IMC */
#define E1000_ICR_TXDW 0x00000001u
#define E1000_ICR_TXQE 0x00000002u
#define E1000_ICR_LSC 0x00000004u
#define E1000_ICR_RXSEQ 0x00000008u
#define E1000_ICR_RXDMT0 0x00000010u
#define E1000_ICR_RXO 0x00000040u
#define E1000_ICR_RXT0 0x00000080u
#define E1000_ICR_MDAC 0x00000200u
#define E1000_ICR_RXCFG 0x00000400u
#define E1000_ICR_TXD_LOW 0x00008000u
#define E1000_ICR_SRPD 0x00010000u
#define E1000_ICR_VALID 0x0001F6DFu /* causes that exist on the 82540EM */

/* RCTL */
#define E1000_RCTL_EN 0x00000002u
#define E1000_RCTL_SBP 0x00000004u
#define E1000_RCTL_UPE 0x00000008u
#define E1000_RCTL_MPE 0x00000010u
#define E1000_RCTL_LPE 0x00000020u
#define E1000_RCTL_LBM_MASK 0x000000C0u
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_RDMTS_MASK 0x00000300u
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_MO_MASK 0x00003000u
#define E1000_RCTL_BAM 0x00008000u
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSIZE_MASK 0x00030000u
#define E1000_RCTL_VFE 0x00040000u
#define E1000_RCTL_BSEX 0x02000000u
#define E1000_RCTL_SECRC 0x04000000u

#define E1000_RAH_AV 0x80000000u

/* TCTL */
#define E1000_TCTL_EN 0x00000002u
#define E1000_TCTL_PSP 0x00000008u

/* Transmit descriptors (16 bytes). Dword 2 of every kind: bits 0-19 length
 * (legacy: bits 0-15 length, 16-23 CSO), bits 20-23 DTYP, bits 24-31 command.
 * Byte 12 is the status byte (DD written back). */
#define E1000_TXD_CMD_EOP 0x01u  /* end of packet */
#define E1000_TXD_CMD_IFCS 0x02u /* insert FCS (ignored: backends carry no FCS) */
#define E1000_TXD_CMD_IC 0x04u   /* legacy: insert checksum */
#define E1000_TXD_CMD_TSE 0x04u  /* data: TCP segmentation */
#define E1000_TXD_CMD_RS 0x08u   /* report status */
#define E1000_TXD_CMD_RPS 0x10u  /* report packet sent (legacy) */
#define E1000_TXD_CMD_DEXT 0x20u /* extended descriptor */
#define E1000_TXD_CMD_VLE 0x40u  /* insert VLAN tag */
#define E1000_TXD_CMD_IDE 0x80u  /* interrupt delay enable */
#define E1000_TXD_DTYP_CTX 0x0u
#define E1000_TXD_DTYP_DATA 0x1u
#define E1000_TXD_STAT_DD 0x01u
#define E1000_TXD_POPTS_IXSM 0x01u
#define E1000_TXD_POPTS_TXSM 0x02u
/* context descriptor TUCMD */
#define E1000_TUCMD_TCP 0x01u
#define E1000_TUCMD_IP 0x02u /* IPv4 (else IPv6) */
#define E1000_TUCMD_TSE 0x04u

/* Receive descriptor (legacy, 16 bytes): addr(8) len(2) csum(2) status(1) errors(1) special(2) */
#define E1000_RXD_STAT_DD 0x01u
#define E1000_RXD_STAT_EOP 0x02u
#define E1000_RXD_STAT_IXSM 0x04u

#define E1000_DESC_SIZE 16

#endif
