/*
 * ixgbe_regs.h: registers and DMA descriptors of the Intel 82599 10 GbE controller, as used by
 * drivers/ixgbe.c and by the behavioural model in tests/ixgbe/.
 *
 * Written by us from the "Intel 82599 10 GbE Controller Datasheet", revision 3.3. Every
 * definition names the datasheet section it comes from; offsets are into BAR0. Only what the
 * driver and the model use is here. The X540 and X550 keep these offsets and bits for
 * everything listed (their datasheets' chapter 8 repeats the 82599 layout for them).
 *
 * Where the 82599 lists two addresses for a register (an 82598-compatible alias and its own),
 * we use the 82599 one and name the alias, except for the RSS registers (MRQC, RETA, RSSRK):
 * there we use the address every reference driver (ixy, Linux, DPDK ixgbe_type.h) programs on
 * all three MACs, see the comment above IXGBE_MRQC. Facts taken from those headers rather than
 * from a datasheet page say so; docs/ixgbe.md lists what is not checked against a datasheet.
 */
#ifndef IXYD_IXGBE_REGS_H
#define IXYD_IXGBE_REGS_H

#include <stdint.h>

#include "compiler.h"

/* ---- General control and status (8.2.3.1) ---- */

/* Device Control, 8.2.3.1.1 */
#define IXGBE_CTRL		  0x00000
#define IXGBE_CTRL_MASTER_DISABLE (1u << 2)  /* PCIe master disable: stop issuing DMA */
#define IXGBE_CTRL_LRST		  (1u << 3)  /* link reset, self-clearing */
#define IXGBE_CTRL_RST		  (1u << 26) /* device (software) reset, self-clearing */
#define IXGBE_CTRL_RST_MASK	  (IXGBE_CTRL_LRST | IXGBE_CTRL_RST)

/* Device Status, 8.2.3.1.2 */
#define IXGBE_STATUS		   0x00008
#define IXGBE_STATUS_MASTER_ENABLE (1u << 19) /* GIO master enable status: DMA still pending */
/* How long to wait for STATUS.MASTER_ENABLE to clear after CTRL.MASTER_DISABLE: Linux waits
 * 800 x 100 us (IXGBE_PCI_MASTER_DISABLE_TIMEOUT in its ixgbe_type.h); 5.2.5.3.2. */
#define IXGBE_MASTER_DISABLE_TIMEOUT_MS 80

/* Extended Device Control, 8.2.3.1.3 */
#define IXGBE_CTRL_EXT		0x00018
#define IXGBE_CTRL_EXT_NS_DIS	(1u << 16) /* no-snoop disable */
#define IXGBE_CTRL_EXT_DRV_LOAD (1u << 28) /* driver loaded (tells firmware we own the port) */

/* ---- EEPROM (8.2.3.2) ---- */

/* EEPROM/Flash Control, 8.2.3.2.1 */
#define IXGBE_EEC	  0x10010
#define IXGBE_EEC_PRES	  (1u << 8) /* EEPROM present */
#define IXGBE_EEC_AUTO_RD (1u << 9) /* auto-read of the EEPROM done after reset */

/* ---- Interrupts (8.2.3.5) ---- */

/* Extended Interrupt Cause (read to clear), 8.2.3.5.1 */
#define IXGBE_EICR 0x00800
/* Extended Interrupt Mask Clear, 8.2.3.5.4: writing 1 masks that cause. Bits 30:0 are the
 * causes; bit 31 is reserved. */
#define IXGBE_EIMC     0x00888
#define IXGBE_EIMC_ALL 0x7fffffffu

/* ---- Receive DMA (8.2.3.8) ----
 * The 82599 has 128 rx queues in two blocks of 0x40-byte register sets: queues 0..63 at
 * 0x01000 + 0x40 * n, queues 64..127 at 0x0D000 + 0x40 * (n - 64). RDBAL..RXDCTL, SRRCTL and
 * DCA_RXCTRL all split there (the same split in Linux's and DPDK's ixgbe_type.h). IXGBE_RXQ()
 * gives the start of queue n's set; each register is an offset into it. */
#define IXGBE_RXQ(n) ((n) < 64 ? 0x01000 + 0x40 * (n) : 0x0d000 + 0x40 * ((n)-64))

#define IXGBE_RDBAL(n) (IXGBE_RXQ(n) + 0x00) /* 8.2.3.8.1 descriptor base, low 32 bits */
#define IXGBE_RDBAH(n) (IXGBE_RXQ(n) + 0x04) /* 8.2.3.8.2 descriptor base, high 32 bits */
#define IXGBE_RDLEN(n) (IXGBE_RXQ(n) + 0x08) /* 8.2.3.8.3 ring length, multiple of 128 bytes */
#define IXGBE_RDH(n)   (IXGBE_RXQ(n) + 0x10) /* 8.2.3.8.4 head, owned by the device */
#define IXGBE_RDT(n)   (IXGBE_RXQ(n) + 0x18) /* 8.2.3.8.5 tail, owned by software */

/* Receive Descriptor Control, 8.2.3.8.6 */
#define IXGBE_RXDCTL(n)	    (IXGBE_RXQ(n) + 0x28)
#define IXGBE_RXDCTL_ENABLE (1u << 25)

/* Split Receive Control, 8.2.3.8.7. Queues 0..15 also answer at the 82598 alias 0x02100 + 4n,
 * which Linux uses; we use the 82599's own address in the queue's set. */
#define IXGBE_SRRCTL(n)		      (IXGBE_RXQ(n) + 0x14)
#define IXGBE_SRRCTL_BSIZEPKT_SHIFT   0 /* bits 4:0, packet buffer size in 1 KB units */
#define IXGBE_SRRCTL_BSIZEPKT_MASK    0x1fu
#define IXGBE_SRRCTL_BSIZEPKT_UNIT    1024u
#define IXGBE_SRRCTL_DESCTYPE_MASK    (7u << 25) /* bits 27:25 */
#define IXGBE_SRRCTL_DESCTYPE_ADV_ONE (1u << 25) /* 001b: advanced, one buffer */
#define IXGBE_SRRCTL_DROP_EN	      (1u << 28) /* drop when the queue has no descriptor */

/* Rx DCA Control, 8.2.3.11.1 (queues 0..15 also at the 82598 alias 0x02200 + 4n) */
#define IXGBE_DCA_RXCTRL(n)	     (IXGBE_RXQ(n) + 0x0c)
#define IXGBE_DCA_RXCTRL_DESC_WRO_EN (1u << 12) /* 4.6.7 asks to clear it */

/* Queue Packets Received Drop Count, n = 0..15 only, clear on read (statistics, 8.2.3.23) */
#define IXGBE_QPRDC(n) (0x01430 + 0x40 * (n))

/* Receive DMA Control, 8.2.3.8.8 */
#define IXGBE_RDRXCTL		       0x02f00
#define IXGBE_RDRXCTL_CRCSTRIP	       (1u << 1)
#define IXGBE_RDRXCTL_DMAIDONE	       (1u << 3)     /* DMA init done after reset */
#define IXGBE_RDRXCTL_RSCFRSTSIZE_MASK (0x1fu << 17) /* bits 21:17, must be 0 (4.6.7) */
#define IXGBE_RDRXCTL_RSCACKC	       (1u << 25)    /* must be 1 (4.6.7) */
#define IXGBE_RDRXCTL_FCOE_WRFIX       (1u << 26)    /* must be 1 (4.6.7) */

/* Receive Control, 8.2.3.8.10 */
#define IXGBE_RXCTRL	  0x03000
#define IXGBE_RXCTRL_RXEN (1u << 0)

/* Rx Packet Buffer Size, 8.2.3.8.9 (n = 0..7, one per traffic class); size in KB at 19:10.
 * The sizes of all eight together must not exceed the MAC's receive packet buffer: 512 KB on
 * the 82599 (Linux ixgbe_82599.c IXGBE_82599_RX_PB_SIZE; the 82599 datasheet's 4.6.11.3.1 gives
 * TC0 all of it without DCB, section not rechecked), 384 KB on the X540 and the X550 (Linux
 * ixgbe_x540.c IXGBE_X540_RX_PB_SIZE, which its X550 code reuses; not checked against the X540/X550
 * datasheets). */
#define IXGBE_RXPBSIZE(n)   (0x03c00 + 4 * (n))
#define IXGBE_PBSIZE_SHIFT  10
#define IXGBE_RXPB_KB_82599 512
#define IXGBE_RXPB_KB_X540  384
#define IXGBE_RXPB_KB_X550  384

/* ---- Receive filters (8.2.3.7) ---- */

/* Receive Checksum Control, 8.2.3.7.5 */
#define IXGBE_RXCSUM	  0x05000
#define IXGBE_RXCSUM_PCSD (1u << 13) /* write the RSS hash, not the fragment checksum */

/* Filter Control, 8.2.3.7.1 */
#define IXGBE_FCTRL	0x05080
#define IXGBE_FCTRL_SBP (1u << 1)  /* store bad packets */
#define IXGBE_FCTRL_MPE (1u << 8)  /* multicast promiscuous */
#define IXGBE_FCTRL_UPE (1u << 9)  /* unicast promiscuous */
#define IXGBE_FCTRL_BAM (1u << 10) /* accept broadcast */

/* Receive Address Low/High, 8.2.3.7.8 and 8.2.3.7.9 (n = 0..127; entry 0 is the station
 * address, loaded from the EEPROM at reset). RAL holds address bytes 0..3 (byte 0 in bits
 * 7:0), RAH bits 15:0 bytes 4..5. */
#define IXGBE_RAL(n) (0x0a200 + 8 * (n))
#define IXGBE_RAH(n) (0x0a204 + 8 * (n))
#define IXGBE_RAH_AV (1u << 31) /* address valid */

/* Multicast Table Array, 8.2.3.7.7 (n = 0..127) */
#define IXGBE_MTA(n)	(0x05200 + 4 * (n))
#define IXGBE_MTA_COUNT 128

/*
 * RSS registers. The 82599 datasheet lists MRQC, RETA and RSSRK twice: at 0x0EC80,
 * 0x0EB00 + 4n and 0x0EB80 + 4n in its own map, and at 0x05818, 0x05C00 + 4n and
 * 0x05C80 + 4n, the 82598's addresses. Every reference driver (ixy, Linux, DPDK) programs the
 * second set on the 82599, the X540 and the X550 alike, and the X550's extension ERETA sits
 * at 0x0EE80, outside the first set. We use the second set: it is what those drivers have
 * proved on all three MACs. That the X540 and X550 also decode the first set is not checked
 * (their datasheets were not available to us): see docs/ixgbe.md.
 */

/* Multiple Receive Queues Command, 8.2.3.7.12 */
#define IXGBE_MRQC	     0x05818
#define IXGBE_MRQC_MRQE_MASK 0xfu
#define IXGBE_MRQC_MRQE_RSS  0x1u /* 0001b: RSS only, no DCB, no virtualization */
#define IXGBE_MRQC_TCP_IPV4  (1u << 16)
#define IXGBE_MRQC_IPV4	     (1u << 17)
#define IXGBE_MRQC_IPV6	     (1u << 20)
#define IXGBE_MRQC_TCP_IPV6  (1u << 21)
#define IXGBE_MRQC_UDP_IPV4  (1u << 22)
#define IXGBE_MRQC_UDP_IPV6  (1u << 23)
/* The 82599 map's own addresses of the three, which we do not use (the model flags them). */
#define IXGBE_MRQC_ALT	   0x0ec80
#define IXGBE_RETA_ALT(n)  (0x0eb00 + 4 * (n))
#define IXGBE_RSSRK_ALT(n) (0x0eb80 + 4 * (n))

/* Redirection Table, 8.2.3.7.13: 32 registers of four one-byte entries, 128 entries in all;
 * entry i is byte i % 4 of RETA[i / 4], its bits 3:0 the queue on the 82599/X540. The hash's 7
 * low bits index it (7.1.2.8). */
#define IXGBE_RETA(n)	   (0x05c00 + 4 * (n))
#define IXGBE_RETA_REGS	   32
#define IXGBE_RETA_ENTRIES 128

/* X550 only: Extended Redirection Table, 96 registers holding entries 128..511 in the same
 * byte layout (entry i in byte i % 4 of ERETA[i / 4 - 32]). The X550's table has 512 entries
 * indexed by the hash's 9 low bits, and its entries hold a 6-bit queue index (Linux
 * ixgbe_main.c ixgbe_store_reta() and ixgbe_type.h IXGBE_ERETA; not checked against the X550
 * datasheet). */
#define IXGBE_ERETA(n)		(0x0ee80 + 4 * (n))
#define IXGBE_ERETA_REGS	96
#define IXGBE_X550_RETA_ENTRIES 512

/* RSS Random Key, 8.2.3.7.14: 10 registers, 40 bytes; key byte 0 is bits 7:0 of RSSRK[0]. */
#define IXGBE_RSSRK(n)	 (0x05c80 + 4 * (n))
#define IXGBE_RSSRK_REGS 10

/* ---- MAC (8.2.3.22) ---- */

/* MAC Core Control 0, 8.2.3.22.8 */
#define IXGBE_HLREG0	       0x04240
#define IXGBE_HLREG0_TXCRCEN   (1u << 0) /* append the FCS on transmit */
#define IXGBE_HLREG0_RXCRCSTRP (1u << 1) /* strip the FCS on receive */
#define IXGBE_HLREG0_JUMBOEN   (1u << 2)
#define IXGBE_HLREG0_TXPADEN   (1u << 10) /* pad short frames to 64 bytes */

/* Max Frame Size, 8.2.3.22.13: MFS bits 31:16, used only with HLREG0.JUMBOEN; otherwise the
 * MAC takes frames up to 1518 bytes with FCS, +4 for a VLAN tag. */
#define IXGBE_MAXFRS		 0x04268
#define IXGBE_MAX_FRAME_NO_JUMBO 1518

/* Auto-Negotiation Control, 8.2.3.22.19 */
#define IXGBE_AUTOC		   0x042a0
#define IXGBE_AUTOC_RESTART_AN	   (1u << 12)
#define IXGBE_AUTOC_LMS_SHIFT	   13 /* link mode select, bits 15:13 */
#define IXGBE_AUTOC_LMS_MASK	   (7u << IXGBE_AUTOC_LMS_SHIFT)
#define IXGBE_AUTOC_LMS_10G_SERIAL (3u << IXGBE_AUTOC_LMS_SHIFT) /* 011b: 10 GbE serial (SFI) */

/* Link Status, 8.2.3.22.20 */
#define IXGBE_LINKS		0x042a4
#define IXGBE_LINKS_UP		(1u << 30)
#define IXGBE_LINKS_SPEED_SHIFT 28 /* bits 29:28 */
#define IXGBE_LINKS_SPEED_MASK	(3u << IXGBE_LINKS_SPEED_SHIFT)
#define IXGBE_LINKS_SPEED_100M	(1u << IXGBE_LINKS_SPEED_SHIFT)
#define IXGBE_LINKS_SPEED_1G	(2u << IXGBE_LINKS_SPEED_SHIFT)
#define IXGBE_LINKS_SPEED_10G	(3u << IXGBE_LINKS_SPEED_SHIFT)

/* Auto-Negotiation Control 2, 8.2.3.22.21 */
#define IXGBE_AUTOC2		      0x042a8
#define IXGBE_AUTOC2_10G_SERIAL_SHIFT 16 /* 10G PMA/PMD serial, bits 17:16 */
#define IXGBE_AUTOC2_10G_SERIAL_MASK  (3u << IXGBE_AUTOC2_10G_SERIAL_SHIFT)
#define IXGBE_AUTOC2_10G_SFI	      (2u << IXGBE_AUTOC2_10G_SERIAL_SHIFT) /* 10b: SFI */

/* ---- Transmit DMA (8.2.3.9); per queue n = 0..127 at 0x06000 + 0x40 * n ---- */

#define IXGBE_DMATXCTL	  0x04a80 /* 8.2.3.9.2 */
#define IXGBE_DMATXCTL_TE (1u << 0)

#define IXGBE_TDBAL(n) (0x06000 + 0x40 * (n)) /* 8.2.3.9.5 */
#define IXGBE_TDBAH(n) (0x06004 + 0x40 * (n)) /* 8.2.3.9.6 */
#define IXGBE_TDLEN(n) (0x06008 + 0x40 * (n)) /* 8.2.3.9.7 */
#define IXGBE_TDH(n)   (0x06010 + 0x40 * (n)) /* 8.2.3.9.8 */
#define IXGBE_TDT(n)   (0x06018 + 0x40 * (n)) /* 8.2.3.9.9 */

/* Transmit Descriptor Control, 8.2.3.9.10 */
#define IXGBE_TXDCTL(n)		   (0x06028 + 0x40 * (n))
#define IXGBE_TXDCTL_PTHRESH_SHIFT 0  /* prefetch threshold, bits 6:0 */
#define IXGBE_TXDCTL_HTHRESH_SHIFT 8  /* host threshold, bits 14:8 */
#define IXGBE_TXDCTL_WTHRESH_SHIFT 16 /* write-back threshold, bits 22:16 */
#define IXGBE_TXDCTL_WTHRESH_MASK  (0x7fu << IXGBE_TXDCTL_WTHRESH_SHIFT)
#define IXGBE_TXDCTL_ENABLE	   (1u << 25)

/* DCB Transmit Descriptor Plane Control and Status, 8.2.3.10.2 */
#define IXGBE_RTTDCS	    0x04900
#define IXGBE_RTTDCS_ARBDIS (1u << 6) /* arbiter disable, while tx buffers are resized */

/* Transmit Packet Buffer Size, 8.2.3.9.13 (n = 0..7); size in KB at bits 19:10 */
#define IXGBE_TXPBSIZE(n) (0x0cc00 + 4 * (n))

/* Multiple Transmit Queues Command, 8.2.3.9.15: 0 = 64 queues, no DCB, no virtualization */
#define IXGBE_MTQC 0x08120

/* ---- Security block (8.2.3.12), on the receive path ---- */

#define IXGBE_SECRXCTRL	       0x08d00 /* 8.2.3.12.5 */
#define IXGBE_SECRXCTRL_RX_DIS (1u << 1)
#define IXGBE_SECRXSTAT	       0x08d04	 /* 8.2.3.12.6 */
#define IXGBE_SECRXSTAT_RDY    (1u << 0) /* security rx path empty */

/* ---- Statistics (8.2.3.23): all clear on read ---- */

#define IXGBE_CRCERRS  0x04000		   /* CRC error count */
#define IXGBE_RLEC     0x04040		   /* receive length error count */
#define IXGBE_MPC(n)   (0x03fa0 + 4 * (n)) /* missed packets, per packet buffer n = 0..7 */
#define IXGBE_MPC_REGS 8
#define IXGBE_GPRC     0x04074 /* good packets received */
#define IXGBE_GPTC     0x04080 /* good packets transmitted */
/* Good octets received/transmitted, 36 bits split low/high; they count from the destination
 * address through the FCS, so each frame adds its length plus 4. */
#define IXGBE_GORCL   0x04088
#define IXGBE_GORCH   0x0408c
#define IXGBE_GOTCL   0x04090
#define IXGBE_GOTCH   0x04094
#define IXGBE_RUC     0x040a4 /* receive undersize count */
#define IXGBE_ROC     0x040ac /* receive oversize count */
#define IXGBE_FCS_LEN 4

/* ---- Advanced receive descriptor, 7.1.6 ---- */

/* Read format, 7.1.6.1: what software posts. */
struct ixgbe_adv_rx_read {
	uint64_t pkt_addr; /* bus address of the packet buffer */
	uint64_t hdr_addr; /* header buffer (split only); bit 0 must be 0 (it becomes DD) */
};

/* Write-back format, 7.1.6.2: what the device writes over it. */
struct ixgbe_adv_rx_wb {
	uint16_t pkt_info;     /* bits 3:0 RSS type, 16:4 packet type (low part) */
	uint16_t hdr_info;     /* header length, split-header bit */
	uint32_t rss_hash;     /* RSS hash (with RXCSUM.PCSD set) */
	uint32_t status_error; /* bits 19:0 extended status, 31:20 extended errors */
	uint16_t length;       /* PKT_LEN: bytes written to the packet buffer */
	uint16_t vlan;
};

union ixgbe_adv_rx_desc {
	struct ixgbe_adv_rx_read read;
	struct ixgbe_adv_rx_wb wb;
};
static_assert(sizeof(union ixgbe_adv_rx_desc) == 16, "7.1.6: descriptors are 16 bytes");
static_assert(offsetof(struct ixgbe_adv_rx_wb, rss_hash) == 4, "7.1.6.2: RSS hash at byte 4");
static_assert(offsetof(struct ixgbe_adv_rx_wb, status_error) == 8, "7.1.6.2: status at byte 8");
static_assert(offsetof(struct ixgbe_adv_rx_wb, length) == 12, "7.1.6.2: PKT_LEN at byte 12");

#define IXGBE_RXD_STAT_DD	(1u << 0) /* descriptor done */
#define IXGBE_RXD_STAT_EOP	(1u << 1) /* end of packet */
#define IXGBE_RXD_RSS_TYPE_MASK 0xfu	  /* pkt_info bits 3:0, 7.1.6.2 */
/* RSS type values, 7.1.6.2 */
#define IXGBE_RSS_TYPE_NONE	0x0
#define IXGBE_RSS_TYPE_TCP_IPV4 0x1
#define IXGBE_RSS_TYPE_IPV4	0x2
#define IXGBE_RSS_TYPE_TCP_IPV6 0x3
#define IXGBE_RSS_TYPE_IPV6	0x5
#define IXGBE_RSS_TYPE_UDP_IPV4 0x7
#define IXGBE_RSS_TYPE_UDP_IPV6 0x8

/* ---- Advanced transmit data descriptor, 7.2.3.2.4 ---- */

struct ixgbe_adv_tx_read {
	uint64_t buffer_addr;
	uint32_t cmd_type_len;	/* DTALEN 15:0, DTYP 23:20, DCMD 31:24 */
	uint32_t olinfo_status; /* STA 3:0, IDX 6:4, CC 7, POPTS 13:8, PAYLEN 31:14 */
};

/* Write-back, 7.2.3.2.4: the device clears the first 8 bytes and sets STA.DD. */
struct ixgbe_adv_tx_wb {
	uint64_t reserved;
	uint32_t nxtseq_seed;
	uint32_t status; /* STA bits 3:0 */
};

union ixgbe_adv_tx_desc {
	struct ixgbe_adv_tx_read read;
	struct ixgbe_adv_tx_wb wb;
};
static_assert(sizeof(union ixgbe_adv_tx_desc) == 16, "7.2.3.2.4: descriptors are 16 bytes");
static_assert(offsetof(struct ixgbe_adv_tx_wb, status) == 12, "7.2.3.2.4: STA in byte 12");

#define IXGBE_TXD_DTALEN_MASK  0xffffu
#define IXGBE_TXD_DTYP_DATA    (3u << 20) /* 0011b: advanced data descriptor */
#define IXGBE_TXD_DTYP_MASK    (0xfu << 20)
#define IXGBE_TXD_CMD_EOP      (1u << 24) /* end of packet */
#define IXGBE_TXD_CMD_IFCS     (1u << 25) /* insert FCS */
#define IXGBE_TXD_CMD_RS       (1u << 27) /* report status: write back DD */
#define IXGBE_TXD_CMD_DEXT     (1u << 29) /* descriptor extension: advanced format */
#define IXGBE_TXD_PAYLEN_SHIFT 14
#define IXGBE_TXD_STAT_DD      (1u << 0)

#endif
