/*
 * ixgbe.c: driver for the Intel 82599 10 GbE controller family (82599/X520, X540, X550).
 *
 * Read it side by side with the "Intel 82599 10 GbE Controller Datasheet", rev. 3.3: the init
 * code follows 4.6.3 step by step, with the steps numbered as there; the rx and tx paths use
 * the advanced descriptors of 7.1.6 and 7.2.3.2.4. Register definitions: ixgbe_regs.h.
 *
 * What we deliberately do not do: interrupts (we poll; 4.6.3 step 9 and 4.6.6 skipped), flow
 * control (4.6.3.2's FCTTV/FCRTL/FCRTH/FCCFG left at reset values: off), DCB and
 * virtualization (4.6.11: one traffic class, no pools), receive side coalescing, header split,
 * jumbo frames, checksum and segmentation offloads, VLAN filtering and stripping, multicast
 * filtering beyond "all or none", and management firmware handshakes beyond CTRL_EXT.DRV_LOAD
 * (no SW/FW semaphore).
 *
 * Threads: see device.h. Each rx and tx queue is used by one thread at a time; statistics
 * are accumulated under a mutex so they may be read from any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "device.h"
#include "ixgbe_regs.h"
#include "log.h"
#include "memory.h"
#include "mempool.h"

#define IXGBE_DEFAULT_RING_SIZE 512
/* Rings are powers of two (index wrap by mask) and a multiple of 8 descriptors, since
 * RDLEN/TDLEN must be multiples of 128 bytes (8.2.3.8.3, 8.2.3.9.7). */
#define IXGBE_MIN_RING_SIZE 64
#define IXGBE_MAX_RING_SIZE 4096
/* Rx buffers per queue: the ring's, plus as many again held by a tx ring they are forwarded
 * to, plus as many again in the caller's hands. */
#define IXGBE_RX_POOL_FACTOR 4
#define IXGBE_RX_BUF_SIZE    2048
/* Tx descriptors are reclaimed this many at a time (see ixgbe_tx_clean()). */
#define IXGBE_TX_CLEAN_BATCH 32

#define IXGBE_RESET_TIMEOUT_MS	      1000
#define IXGBE_RESET_SETTLE_MS	      10 /* 4.6.3.2: wait at least 10 ms after a global reset */
#define IXGBE_EEPROM_TIMEOUT_MS	      1000
#define IXGBE_DMA_INIT_TIMEOUT_MS     1000
#define IXGBE_QUEUE_ENABLE_TIMEOUT_MS 1000
#define IXGBE_SECRX_TIMEOUT_MS	      40 /* as Linux's IXGBE_MAX_SECRX_POLL x 1 ms */
#define IXGBE_LINK_TIMEOUT_MS	      3000

/* The MAC never accepts a frame over 1518 bytes (+4 with a VLAN tag) while jumbo frames are off
 * (8.2.3.22.13), so with the FCS stripped it writes at most 1518 bytes into a buffer. We tell
 * the device (SRRCTL.BSIZEPACKET) that buffers hold 2 KB, the granule above, although a frame
 * received at the default offset has 2048 - 128 bytes: the frame limit keeps every write
 * inside the buffer. */
#define IXGBE_RX_BSIZEPKT_KB 2
static_assert(IXGBE_RX_BUF_SIZE - PKT_BUF_DATA_OFF >= IXGBE_MAX_FRAME_NO_JUMBO + 4 - IXGBE_FCS_LEN,
	      "rx buffers must hold the largest frame the MAC accepts, VLAN-tagged, FCS stripped");

/*
 * Ordering between descriptor memory and registers. On x86-64 stores are not reordered with
 * other stores, loads not with other loads, and a store to an uncached MMIO register is not
 * passed by earlier stores to write-back memory. So keeping the compiler from reordering is
 * enough; the macros name the two orders we rely on.
 */
#if !defined(__x86_64__)
#error "ixgbe.c: the barriers below are written for x86-64's memory ordering"
#endif
/* Descriptors written before the tail register write that hands them to the device. */
#define ixgbe_wmb_before_tail() compiler_barrier()
/* The DD bit read before the rest of a descriptor the device wrote back (the device writes
 * DD last, 7.1.6.2 and 7.2.3.2.4). */
#define ixgbe_rmb_after_dd() compiler_barrier()

/* The MAC generation, from the PCI device ID (the probe in device.c maps IDs to this
 * driver). What differs between them here: the link setup of 4.6.4, the receive packet buffer
 * size and the size of the RSS redirection table. */
enum ixgbe_mac {
	IXGBE_MAC_UNKNOWN,   /* an ID we have no MAC type for: refused */
	IXGBE_MAC_82599_SFP, /* 82599 with an SFP+ cage: we program the SFI link mode */
	IXGBE_MAC_82599,     /* other 82599 PHYs: keep the EEPROM's link mode */
	IXGBE_MAC_X540,	     /* integrated copper PHY negotiates by itself */
	IXGBE_MAC_X550,	     /* ditto; 512-entry redirection table (ERETA) */
};

struct ixgbe_rx_queue {
	volatile union ixgbe_adv_rx_desc *ring;
	struct pkt_buf **bufs; /* bufs[i]: buffer posted in descriptor i, NULL if none */
	struct mempool *pool;
	uint16_t mask;	   /* ring size - 1 */
	uint16_t rx_index; /* next descriptor whose DD we check */
	/* Last value written to RDT. The device owns descriptors rx_index .. tail - 1; tail is
	 * never allowed to reach rx_index again, so at most size - 1 are posted (RDH == RDT means
	 * "none", 8.2.3.8.4). */
	uint16_t tail;
	uint16_t index; /* queue number */
	struct dma_region ring_mem;
} __cache_aligned;

struct ixgbe_tx_queue {
	volatile union ixgbe_adv_tx_desc *ring;
	struct pkt_buf **bufs; /* bufs[i]: buffer sent from descriptor i until reclaimed */
	uint16_t mask;
	/* Invariant: clean_index <= tail in ring order; clean_index .. tail - 1 are in flight
	 * (handed to the device, not yet reclaimed). tail never catches up with clean_index from
	 * behind, so at most size - 1 are in flight (TDH == TDT means "none", 8.2.3.9.8). */
	uint16_t clean_index;
	uint16_t tail;
	uint16_t index;
	struct dma_region ring_mem;
} __cache_aligned;

struct ixgbe_device {
	struct ixy_device base; /* first: container_of() gets us back */
	struct pci_bar bar;
	enum ixgbe_mac mac;
	uint16_t rx_ring_size;
	uint16_t tx_ring_size;
	pthread_mutex_t stats_lock;
	struct ixy_stats stats; /* accumulated: the hardware counters clear on read */
	struct ixgbe_rx_queue rx[IXY_MAX_QUEUES];
	struct ixgbe_tx_queue tx[IXY_MAX_QUEUES];
};

static const struct ixy_device_ops ixgbe_ops;

static inline struct ixgbe_device *to_ixgbe(struct ixy_device *dev)
{
	return container_of(dev, struct ixgbe_device, base);
}

static inline uint32_t rd32(const struct ixgbe_device *dev, uint32_t reg)
{
	return pci_bar_read32(&dev->bar, reg);
}

static inline void wr32(const struct ixgbe_device *dev, uint32_t reg, uint32_t value)
{
	pci_bar_write32(&dev->bar, reg, value);
}

static void set_bits(const struct ixgbe_device *dev, uint32_t reg, uint32_t bits)
{
	wr32(dev, reg, rd32(dev, reg) | bits);
}

static void clear_bits(const struct ixgbe_device *dev, uint32_t reg, uint32_t bits)
{
	wr32(dev, reg, rd32(dev, reg) & ~bits);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Poll reg until (value & mask) == want, every millisecond for up to timeout_ms.
 * Returns 0, or -ETIMEDOUT. */
static int wait_reg(const struct ixgbe_device *dev, uint32_t reg, uint32_t mask, uint32_t want,
		    unsigned timeout_ms)
{
	for (unsigned waited_ms = 0;; waited_ms++) {
		if ((rd32(dev, reg) & mask) == want)
			return 0;
		if (waited_ms >= timeout_ms)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
}

/* Device IDs and their MAC, as in the IXGBE_DEV_ID_* list of Linux's and DPDK's ixgbe_type.h
 * (the same IDs as the probe table in device.c; docs/ixgbe.md lists them). Anything else,
 * including the family's other MACs (X550EM, the 82598), is IXGBE_MAC_UNKNOWN: their link
 * set-up is not 4.6.4's, and AUTOC writes meant for an 82599 could do harm there. */
static enum ixgbe_mac mac_from_device_id(uint16_t device_id)
{
	switch (device_id) {
	case 0x10fb: /* 82599 SFP+ (X520) */
	case 0x1507: /* 82599 SFP+ (EM) */
	case 0x1529: /* 82599 SFP+ FCoE */
	case 0x154d: /* 82599 SFP+ SF2 */
	case 0x1557: /* 82599EN SFP+ */
		return IXGBE_MAC_82599_SFP;
	case 0x10f7: /* 82599 KX4 */
	case 0x10f8: /* 82599 combined backplane */
	case 0x10f9: /* 82599 CX4 */
	case 0x10fc: /* 82599 XAUI LOM */
	case 0x1514: /* 82599 KX4 mezzanine */
	case 0x151c: /* 82599 10GBASE-T (T3 LOM) */
	case 0x152a: /* 82599 backplane FCoE */
		return IXGBE_MAC_82599;
	case 0x1528: /* X540-T */
	case 0x1560: /* X540-T1 */
		return IXGBE_MAC_X540;
	case 0x1563: /* X550-T */
	case 0x15d1: /* X550-T1 */
		return IXGBE_MAC_X550;
	default:
		return IXGBE_MAC_UNKNOWN;
	}
}

/* The receive packet buffer of the MAC, in KB (see IXGBE_RXPBSIZE). */
static unsigned rx_packet_buffer_kb(enum ixgbe_mac mac)
{
	switch (mac) {
	case IXGBE_MAC_X540:
		return IXGBE_RXPB_KB_X540;
	case IXGBE_MAC_X550:
		return IXGBE_RXPB_KB_X550;
	default:
		return IXGBE_RXPB_KB_82599;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Initialisation, 4.6.3                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* 4.6.3 step 1 and 4.6.3.1: mask every interrupt cause (we poll). */
static void ixgbe_disable_interrupts(const struct ixgbe_device *dev)
{
	wr32(dev, IXGBE_EIMC, IXGBE_EIMC_ALL);
	(void)rd32(dev, IXGBE_EICR); /* clear causes already latched (read to clear, 8.2.3.5.1) */
}

/* 5.2.5.3.2: before a reset, stop the device's DMA: set CTRL.PCIe_Master_Disable, then wait
 * for STATUS.GIO_Master_Enable to clear (no request pending). A reset with requests still in
 * flight may corrupt host memory or hang the PCIe link. As Linux does, a timeout is logged and
 * the reset goes ahead: it is the only way left to stop the device. */
static void ixgbe_disable_master(const struct ixgbe_device *dev)
{
	set_bits(dev, IXGBE_CTRL, IXGBE_CTRL_MASTER_DISABLE);
	if (wait_reg(dev, IXGBE_STATUS, IXGBE_STATUS_MASTER_ENABLE, 0,
		     IXGBE_MASTER_DISABLE_TIMEOUT_MS))
		LOG_WARN("ixgbe",
			 "%s: DMA still pending %u ms after master disable, resetting anyway",
			 dev->base.name, IXGBE_MASTER_DISABLE_TIMEOUT_MS);
}

/* Device reset: master disable (above), then link reset and device reset together, as a
 * driver load does (CTRL.LRST and CTRL.RST, 8.2.3.1.1); both clear themselves when done. Used
 * at init (where the kernel driver may have left DMA running) and at close or after a failed
 * init (where ours may be). Returns 0 or -EIO. */
static int ixgbe_reset_device(const struct ixgbe_device *dev)
{
	ixgbe_disable_master(dev);
	set_bits(dev, IXGBE_CTRL, IXGBE_CTRL_RST_MASK);
	if (wait_reg(dev, IXGBE_CTRL, IXGBE_CTRL_RST_MASK, 0, IXGBE_RESET_TIMEOUT_MS)) {
		LOG_ERR("ixgbe", "%s: reset did not complete in %u ms", dev->base.name,
			IXGBE_RESET_TIMEOUT_MS);
		return -EIO;
	}
	return 0;
}

/* 4.6.3 step 2 and 4.6.3.2: global reset, then take the port over from manageability
 * firmware. Returns 0 or -EIO. */
static int ixgbe_global_reset(const struct ixgbe_device *dev)
{
	int err = ixgbe_reset_device(dev);
	if (err)
		return err;
	sleep_ms(IXGBE_RESET_SETTLE_MS);
	/* CTRL_EXT.DRV_LOAD (8.2.3.1.3): the driver owns the port now; firmware that shares it
	 * (manageability) stops using it as its own. Cleared again in ixgbe_destroy(). */
	set_bits(dev, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_DRV_LOAD);
	/* 4.6.3.1: interrupts are disabled again after the reset. */
	ixgbe_disable_interrupts(dev);
	/* The rest of 4.6.3.2's general configuration is flow control (skipped: off after
	 * reset) and the VLAN ethertype (reset value 0x8100 kept). */
	return 0;
}

/* 4.6.4: link setup. The 82599 restarts auto-negotiation (or, for SFI, link bring-up) with
 * the mode in AUTOC; X540 and X550 have a copper PHY that negotiates after reset on its own
 * and whose configuration through MDIO we do not touch. We do not take the SW/FW semaphore
 * around AUTOC (4.6.4 note on manageability): no management firmware is assumed. */
static void ixgbe_setup_link(const struct ixgbe_device *dev)
{
	if (dev->mac == IXGBE_MAC_X540 || dev->mac == IXGBE_MAC_X550)
		return;
	uint32_t autoc = rd32(dev, IXGBE_AUTOC);
	if (dev->mac == IXGBE_MAC_82599_SFP) {
		/* SFP+ modules: 10 GbE serial link (AUTOC.LMS = 011b) with the SFI PMA/PMD
		 * (AUTOC2.10G_PMA_PMD_SERIAL = 10b), 8.2.3.22.19 and 8.2.3.22.21. */
		autoc = (autoc & ~IXGBE_AUTOC_LMS_MASK) | IXGBE_AUTOC_LMS_10G_SERIAL;
		uint32_t autoc2 = rd32(dev, IXGBE_AUTOC2);
		autoc2 = (autoc2 & ~IXGBE_AUTOC2_10G_SERIAL_MASK) | IXGBE_AUTOC2_10G_SFI;
		wr32(dev, IXGBE_AUTOC2, autoc2);
	}
	/* Other 82599 variants (KX4, KR, CX4, XAUI, 10GBASE-T) keep the mode the EEPROM loaded
	 * into AUTOC. Restart_AN applies the mode (8.2.3.22.19). */
	wr32(dev, IXGBE_AUTOC, autoc | IXGBE_AUTOC_RESTART_AN);
}

/* Add the clear-on-read counters of 8.2.3.23 to dev->stats. Caller holds stats_lock. */
static void ixgbe_accumulate_stats(struct ixgbe_device *dev)
{
	struct ixy_stats *s = &dev->stats;
	uint64_t rx_packets = rd32(dev, IXGBE_GPRC);
	uint64_t tx_packets = rd32(dev, IXGBE_GPTC);
	/* Low half first, then high (each half clears on its own read). */
	uint64_t rx_octets = rd32(dev, IXGBE_GORCL);
	rx_octets |= (uint64_t)rd32(dev, IXGBE_GORCH) << 32;
	uint64_t tx_octets = rd32(dev, IXGBE_GOTCL);
	tx_octets |= (uint64_t)rd32(dev, IXGBE_GOTCH) << 32;
	s->rx_packets += rx_packets;
	s->tx_packets += tx_packets;
	/* The octet counters include each frame's FCS; ixy_stats counts without it. */
	s->rx_bytes += rx_octets - rx_packets * IXGBE_FCS_LEN;
	s->tx_bytes += tx_octets - tx_packets * IXGBE_FCS_LEN;

	/* Lost for lack of a descriptor: per queue with SRRCTL.DROP_EN (QPRDC), per packet
	 * buffer otherwise (MPC). We set DROP_EN, but count both. */
	uint64_t missed = 0;
	for (unsigned i = 0; i < IXGBE_MPC_REGS; i++)
		missed += rd32(dev, IXGBE_MPC(i));
	for (unsigned q = 0; q < dev->base.rx_queues; q++)
		missed += rd32(dev, IXGBE_QPRDC(q));
	s->rx_dropped += missed;
	s->rx_crc_errors += rd32(dev, IXGBE_CRCERRS);
	/* Too short (RUC), too long (ROC), or an 802.3 length field that disagrees (RLEC). */
	s->rx_length_errors +=
	    (uint64_t)rd32(dev, IXGBE_RUC) + rd32(dev, IXGBE_ROC) + rd32(dev, IXGBE_RLEC);
}

/* 4.6.3 step 6 and 4.6.5: the statistics registers clear on read, so reading them all once
 * starts them from zero. */
static void ixgbe_reset_stats(struct ixgbe_device *dev)
{
	pthread_mutex_lock(&dev->stats_lock);
	ixgbe_accumulate_stats(dev);
	memset(&dev->stats, 0, sizeof(dev->stats));
	pthread_mutex_unlock(&dev->stats_lock);
}

/* Take buffers from the queue's pool and post them in the free descriptors tail ..
 * rx_index - 2, then hand them over with one RDT write. Posts fewer (or none) when the pool
 * runs low; a later call posts the rest. */
static void ixgbe_rx_refill(struct ixgbe_device *dev, struct ixgbe_rx_queue *q)
{
	/* One slot stays empty so that tail never reaches rx_index (see struct). */
	uint32_t free_slots = (q->rx_index - q->tail - 1) & q->mask;
	uint32_t posted = 0;
	uint16_t tail = q->tail;
	while (posted < free_slots) {
		/* Allocate straight into bufs[], in at most two runs when the free part of the
		 * ring wraps around its end. */
		uint32_t run = MIN(free_slots - posted, (uint32_t)q->mask + 1 - tail);
		uint32_t got = pkt_buf_alloc_batch(q->pool, &q->bufs[tail], run);
		for (uint32_t i = 0; i < got; i++) {
			volatile union ixgbe_adv_rx_desc *desc = &q->ring[tail + i];
			/* Read format, 7.1.6.1: the device writes the frame at pkt_addr; hdr_addr's
			 * bit 0 doubles as DD, so writing 0 also clears the last write-back. */
			desc->read.pkt_addr = pkt_rx_iova(q->bufs[tail + i]);
			desc->read.hdr_addr = 0;
		}
		posted += got;
		tail = (tail + got) & q->mask;
		if (got < run)
			break;
	}
	if (posted == 0)
		return;
	q->tail = tail;
	ixgbe_wmb_before_tail();
	wr32(dev, IXGBE_RDT(q->index), tail);
}

/* Free what a queue holds (buffers, ring, pool); safe on a partly set up queue. */
static void ixgbe_rx_queue_free(struct ixgbe_rx_queue *q)
{
	if (q->bufs) {
		for (uint32_t i = 0; i <= q->mask; i++) {
			if (q->bufs[i])
				pkt_buf_free(q->bufs[i]);
		}
	}
	free(q->bufs);
	q->bufs = NULL;
	mempool_free(q->pool);
	q->pool = NULL;
	dma_free(&q->ring_mem);
	q->ring = NULL;
}

static void ixgbe_tx_queue_free(struct ixgbe_tx_queue *q)
{
	if (q->bufs) {
		for (uint16_t i = q->clean_index; i != q->tail; i = (i + 1) & q->mask)
			pkt_buf_free(q->bufs[i]);
	}
	free(q->bufs);
	q->bufs = NULL;
	dma_free(&q->ring_mem);
	q->ring = NULL;
}

/* The RSS key: the example key of Microsoft's RSS specification, which is also the key of the
 * 82599's hash examples (7.1.2.8.1), so hashes can be checked against published values. */
static const uint8_t ixgbe_rss_key[IXGBE_RSSRK_REGS * 4] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* RSS (7.1.2.8): hash IPv4/IPv6 addresses and TCP/UDP ports with the key above, spread the
 * redirection entries round-robin over the rx queues: 128 entries in RETA, and on the X550
 * another 384 in ERETA (its hash indexes all 512; left zero, three quarters of the flows would
 * land on queue 0). */
static void ixgbe_setup_rss(const struct ixgbe_device *dev)
{
	for (unsigned i = 0; i < IXGBE_RSSRK_REGS; i++) {
		const uint8_t *k = &ixgbe_rss_key[4 * i];
		/* Key byte 0 in bits 7:0 of RSSRK[0] (8.2.3.7.14). */
		wr32(dev, IXGBE_RSSRK(i),
		     k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24);
	}
	for (unsigned i = 0; i < IXGBE_RETA_REGS; i++) {
		uint32_t reta = 0;
		for (unsigned b = 0; b < 4; b++)
			reta |= (uint32_t)((4 * i + b) % dev->base.rx_queues) << (8 * b);
		wr32(dev, IXGBE_RETA(i), reta);
	}
	if (dev->mac == IXGBE_MAC_X550) {
		for (unsigned i = 0; i < IXGBE_ERETA_REGS; i++) {
			uint32_t reta = 0;
			unsigned first = IXGBE_RETA_ENTRIES + 4 * i; /* entry in ERETA[i] byte 0 */
			for (unsigned b = 0; b < 4; b++)
				reta |= (uint32_t)((first + b) % dev->base.rx_queues) << (8 * b);
			wr32(dev, IXGBE_ERETA(i), reta);
		}
	}
	wr32(dev, IXGBE_MRQC,
	     IXGBE_MRQC_MRQE_RSS | IXGBE_MRQC_IPV4 | IXGBE_MRQC_TCP_IPV4 | IXGBE_MRQC_UDP_IPV4 |
		 IXGBE_MRQC_IPV6 | IXGBE_MRQC_TCP_IPV6 | IXGBE_MRQC_UDP_IPV6);
	/* Descriptors carry the RSS hash instead of the fragment checksum (8.2.3.7.5). */
	set_bits(dev, IXGBE_RXCSUM, IXGBE_RXCSUM_PCSD);
}

/* 4.6.7, the steps done once per receive queue. Returns 0 or -errno. */
static int ixgbe_init_rx_queue(struct ixgbe_device *dev, struct ixgbe_rx_queue *q)
{
	uint32_t n = dev->rx_ring_size;
	q->mask = (uint16_t)(n - 1);
	/* 1. Memory for the descriptor ring. */
	int err = dma_alloc(n * sizeof(union ixgbe_adv_rx_desc), true, &q->ring_mem);
	if (err) {
		LOG_ERR("ixgbe", "%s: rx queue %u: no DMA memory for the ring", dev->base.name,
			q->index);
		return err;
	}
	q->ring = q->ring_mem.virt;
	/* 2. Receive buffers: a pool per queue, posted below once the queue is enabled. */
	q->bufs = calloc(n, sizeof(*q->bufs));
	q->pool = mempool_create(IXGBE_RX_POOL_FACTOR * n, IXGBE_RX_BUF_SIZE);
	if (!q->bufs || !q->pool) {
		LOG_ERR("ixgbe", "%s: rx queue %u: cannot allocate buffers", dev->base.name,
			q->index);
		return -ENOMEM;
	}
	/* 3. Ring base address: the bus address (IOVA), never our virtual address. */
	wr32(dev, IXGBE_RDBAL(q->index), (uint32_t)q->ring_mem.iova);
	wr32(dev, IXGBE_RDBAH(q->index), (uint32_t)(q->ring_mem.iova >> 32));
	/* 4. Ring length in bytes. */
	wr32(dev, IXGBE_RDLEN(q->index), n * (uint32_t)sizeof(union ixgbe_adv_rx_desc));
	/* 5. SRRCTL: advanced one-buffer descriptors, buffer size (see IXGBE_RX_BSIZEPKT_KB), and
	 * drop frames for this queue when it has no descriptor instead of holding them in the
	 * shared packet buffer, where they would stall every other queue (8.2.3.8.7). */
	wr32(dev, IXGBE_SRRCTL(q->index),
	     IXGBE_SRRCTL_DESCTYPE_ADV_ONE | IXGBE_RX_BSIZEPKT_KB | IXGBE_SRRCTL_DROP_EN);
	/* 6. PSRTYPE: skipped, no header split. 7. RSCCTL: skipped, RSC stays off (reset). */
	/* The last sentence of 4.6.7 asks to clear bit 12 of DCA_RXCTRL (descriptor write
	 * relaxed ordering) for each queue. */
	clear_bits(dev, IXGBE_DCA_RXCTRL(q->index), IXGBE_DCA_RXCTRL_DESC_WRO_EN);
	/* 8. Enable the queue. 9. Wait until the enable bit reads back 1. */
	set_bits(dev, IXGBE_RXDCTL(q->index), IXGBE_RXDCTL_ENABLE);
	if (wait_reg(dev, IXGBE_RXDCTL(q->index), IXGBE_RXDCTL_ENABLE, IXGBE_RXDCTL_ENABLE,
		     IXGBE_QUEUE_ENABLE_TIMEOUT_MS)) {
		LOG_ERR("ixgbe", "%s: rx queue %u did not enable", dev->base.name, q->index);
		return -EIO;
	}
	/* 10. Post buffers and bump the tail: the datasheet sets RDT to ring length - 1, which
	 * is what a full refill writes (one descriptor stays empty). */
	q->rx_index = 0;
	q->tail = 0;
	ixgbe_rx_refill(dev, q);
	if (q->tail != q->mask) {
		LOG_ERR("ixgbe", "%s: rx queue %u: pool too small for the ring", dev->base.name,
			q->index);
		return -ENOMEM;
	}
	return 0;
}

/* 4.6.7: receive initialisation up to, not including, step 11 (enabling receive, done after
 * transmit init as 4.6.3 orders it). Returns 0 or -errno. */
static int ixgbe_init_rx(struct ixgbe_device *dev)
{
	/* Filters are changed with the receiver off (4.6.7). It is off after reset. */
	clear_bits(dev, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	/* Receive address 0 keeps the station address the EEPROM auto-read loaded. */
	/* The multicast table: all zero, no multicast accepted unless promiscuous. */
	for (unsigned i = 0; i < IXGBE_MTA_COUNT; i++)
		wr32(dev, IXGBE_MTA(i), 0);
	/* Filters (8.2.3.7.1): accept broadcast; unicast/multicast promiscuous off. */
	wr32(dev, IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	dev->base.promisc = false;
	/* Strip the FCS: HLREG0.RXCRCSTRP and RDRXCTL.CRCStrip must agree; RSCFRSTSIZE must be
	 * 0 and RSCACKC and FCOE_WRFIX 1 instead of their reset values (4.6.7, 8.2.3.8.8). */
	set_bits(dev, IXGBE_HLREG0, IXGBE_HLREG0_RXCRCSTRP);
	uint32_t rdrxctl = rd32(dev, IXGBE_RDRXCTL);
	rdrxctl &= ~IXGBE_RDRXCTL_RSCFRSTSIZE_MASK;
	rdrxctl |= IXGBE_RDRXCTL_CRCSTRIP | IXGBE_RDRXCTL_RSCACKC | IXGBE_RDRXCTL_FCOE_WRFIX;
	wr32(dev, IXGBE_RDRXCTL, rdrxctl);
	/* Packet buffers with no DCB and no virtualization (4.6.11.3.1): all of the MAC's receive
	 * packet buffer to traffic class 0 (512 KB on the 82599, 384 KB on X540/X550). */
	wr32(dev, IXGBE_RXPBSIZE(0), rx_packet_buffer_kb(dev->mac) << IXGBE_PBSIZE_SHIFT);
	for (unsigned i = 1; i < 8; i++)
		wr32(dev, IXGBE_RXPBSIZE(i), 0);
	/* MRQC, RSSRK, RETA, RXCSUM. */
	ixgbe_setup_rss(dev);
	/* Jumbo frames stay off (HLREG0.JUMBOEN = 0); RSC stays off. */

	for (uint16_t i = 0; i < dev->base.rx_queues; i++) {
		dev->rx[i].index = i;
		int err = ixgbe_init_rx_queue(dev, &dev->rx[i]);
		if (err)
			return err;
	}
	/* The last sentence of 4.6.7: set CTRL_EXT.NS_DIS (bit 16), no snoop disable. */
	set_bits(dev, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_NS_DIS);
	return 0;
}

/* 4.6.7 step 11: enable receive with the security block's data path halted and drained, as
 * the datasheet orders it. Nothing has been received yet, so a security block that never
 * reports empty is logged and receive enabled anyway, as Linux does (its
 * ixgbe_disable_rx_buff_generic() polls 40 ms and continues). */
static void ixgbe_enable_rx(const struct ixgbe_device *dev)
{
	set_bits(dev, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	if (wait_reg(dev, IXGBE_SECRXSTAT, IXGBE_SECRXSTAT_RDY, IXGBE_SECRXSTAT_RDY,
		     IXGBE_SECRX_TIMEOUT_MS))
		LOG_WARN("ixgbe", "%s: security rx path not empty after %u ms, enabling rx anyway",
			 dev->base.name, IXGBE_SECRX_TIMEOUT_MS);
	set_bits(dev, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	clear_bits(dev, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
}

/* 4.6.8, the steps done once per transmit queue (6., DMATXCTL.TE, is done by the caller
 * before the first queue). Returns 0 or -errno. */
static int ixgbe_init_tx_queue(struct ixgbe_device *dev, struct ixgbe_tx_queue *q)
{
	uint32_t n = dev->tx_ring_size;
	q->mask = (uint16_t)(n - 1);
	/* 1. Memory for the descriptor ring. */
	int err = dma_alloc(n * sizeof(union ixgbe_adv_tx_desc), true, &q->ring_mem);
	q->bufs = calloc(n, sizeof(*q->bufs));
	if (err || !q->bufs) {
		LOG_ERR("ixgbe", "%s: tx queue %u: cannot allocate the ring", dev->base.name,
			q->index);
		return err ? err : -ENOMEM;
	}
	q->ring = q->ring_mem.virt;
	q->clean_index = 0;
	q->tail = 0;
	/* 2. Ring base (bus address). 3. Ring length in bytes. */
	wr32(dev, IXGBE_TDBAL(q->index), (uint32_t)q->ring_mem.iova);
	wr32(dev, IXGBE_TDBAH(q->index), (uint32_t)(q->ring_mem.iova >> 32));
	wr32(dev, IXGBE_TDLEN(q->index), n * (uint32_t)sizeof(union ixgbe_adv_tx_desc));
	/* 4. Descriptor thresholds (8.2.3.9.10): prefetch when 32 descriptors are free on chip
	 * and at least 1 waits in host memory; WTHRESH 0 writes DD back for every descriptor
	 * with RS as soon as it is done, which is what ixgbe_tx_clean() polls for. */
	uint32_t txdctl = rd32(dev, IXGBE_TXDCTL(q->index));
	txdctl &= ~(0x7fu << IXGBE_TXDCTL_PTHRESH_SHIFT | 0x7fu << IXGBE_TXDCTL_HTHRESH_SHIFT |
		    IXGBE_TXDCTL_WTHRESH_MASK);
	txdctl |= 32u << IXGBE_TXDCTL_PTHRESH_SHIFT | 1u << IXGBE_TXDCTL_HTHRESH_SHIFT;
	wr32(dev, IXGBE_TXDCTL(q->index), txdctl);
	/* 5. Head write-back (TDWBAL/H): skipped, we poll DD in the descriptors. */
	return 0;
}

/* 4.6.8: transmit initialisation. Returns 0 or -errno. */
static int ixgbe_init_tx(struct ixgbe_device *dev)
{
	/* HLREG0: append the FCS and pad short frames (8.2.3.22.8). */
	set_bits(dev, IXGBE_HLREG0, IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_TXPADEN);
	/* Packet buffers and queue mapping with no DCB and no virtualization (4.6.11.3.1),
	 * changed with the descriptor arbiter disabled: all 160 KB of tx buffer to traffic
	 * class 0, MTQC = 0 (64 queues, one class). DTXMXSZRQ and TXPBTHRESH keep their reset
	 * values; TSO parameters are unused. */
	set_bits(dev, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);
	wr32(dev, IXGBE_TXPBSIZE(0), 160u << IXGBE_PBSIZE_SHIFT);
	for (unsigned i = 1; i < 8; i++)
		wr32(dev, IXGBE_TXPBSIZE(i), 0);
	wr32(dev, IXGBE_MTQC, 0);
	clear_bits(dev, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);

	for (uint16_t i = 0; i < dev->base.tx_queues; i++) {
		dev->tx[i].index = i;
		int err = ixgbe_init_tx_queue(dev, &dev->tx[i]);
		if (err)
			return err;
	}
	/* 6. Enable the transmit path, once, before the first queue. */
	set_bits(dev, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
	/* 7. Enable each queue and wait for the bit to read back; the tail is not bumped before
	 * (4.6.8 note). */
	for (uint16_t i = 0; i < dev->base.tx_queues; i++) {
		set_bits(dev, IXGBE_TXDCTL(i), IXGBE_TXDCTL_ENABLE);
		if (wait_reg(dev, IXGBE_TXDCTL(i), IXGBE_TXDCTL_ENABLE, IXGBE_TXDCTL_ENABLE,
			     IXGBE_QUEUE_ENABLE_TIMEOUT_MS)) {
			LOG_ERR("ixgbe", "%s: tx queue %u did not enable", dev->base.name, i);
			return -EIO;
		}
	}
	return 0;
}

/* The 82599's initialisation sequence, 4.6.3, steps 1 to 9. Returns 0 or -errno. */
static int ixgbe_reset_and_init(struct ixgbe_device *dev)
{
	int err;
	/* 1. Disable interrupts. */
	ixgbe_disable_interrupts(dev);
	/* 2. Global reset and general configuration. */
	err = ixgbe_global_reset(dev);
	if (err)
		return err;
	/* 3. Wait for the EEPROM auto-read to complete (EEC.Auto_RD, 8.2.3.2.1). */
	if (wait_reg(dev, IXGBE_EEC, IXGBE_EEC_AUTO_RD, IXGBE_EEC_AUTO_RD,
		     IXGBE_EEPROM_TIMEOUT_MS)) {
		LOG_ERR("ixgbe", "%s: EEPROM auto-read did not complete", dev->base.name);
		return -EIO;
	}
	/* 4. Wait for DMA initialisation to complete (RDRXCTL.DMAIDONE, 8.2.3.8.8). */
	if (wait_reg(dev, IXGBE_RDRXCTL, IXGBE_RDRXCTL_DMAIDONE, IXGBE_RDRXCTL_DMAIDONE,
		     IXGBE_DMA_INIT_TIMEOUT_MS)) {
		LOG_ERR("ixgbe", "%s: DMA initialisation did not complete", dev->base.name);
		return -EIO;
	}
	/* 5. Set up the PHY and the link (4.6.4). We wait for the link at the end. */
	ixgbe_setup_link(dev);
	/* 6. Initialise the statistics (4.6.5). */
	ixgbe_reset_stats(dev);
	/* 7. Receive (4.6.7). */
	err = ixgbe_init_rx(dev);
	if (err)
		return err;
	/* 8. Transmit (4.6.8). */
	err = ixgbe_init_tx(dev);
	if (err)
		return err;
	/* 4.6.7 step 11, receive enable, once everything else is set. */
	ixgbe_enable_rx(dev);
	/* 9. Enable interrupts: skipped, we poll. */
	return 0;
}

static void ixgbe_wait_for_link(struct ixgbe_device *dev)
{
	struct ixy_link link = {0};
	for (unsigned waited_ms = 0; waited_ms < IXGBE_LINK_TIMEOUT_MS; waited_ms += 10) {
		dev->base.ops->get_link(&dev->base, &link);
		if (link.up)
			break;
		sleep_ms(10);
	}
	if (link.up)
		LOG_INFO("ixgbe", "%s: link up at %u Mbit/s", dev->base.name, link.speed_mbps);
	else
		LOG_WARN("ixgbe", "%s: link still down after %u ms", dev->base.name,
			 IXGBE_LINK_TIMEOUT_MS);
}

static bool valid_ring_size(uint32_t n)
{
	return n >= IXGBE_MIN_RING_SIZE && n <= IXGBE_MAX_RING_SIZE && (n & (n - 1)) == 0;
}

/* Stop all DMA (master disable, then a reset disables every queue and the receiver), hand the
 * port back to firmware (CTRL_EXT.DRV_LOAD cleared, 8.2.3.1.3) and free everything. */
static void ixgbe_destroy(struct ixgbe_device *dev, bool reset)
{
	if (reset) {
		if (ixgbe_reset_device(dev) == 0)
			clear_bits(dev, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_DRV_LOAD);
	}
	for (unsigned i = 0; i < IXY_MAX_QUEUES; i++) {
		ixgbe_rx_queue_free(&dev->rx[i]);
		ixgbe_tx_queue_free(&dev->tx[i]);
	}
	pci_unmap_bar(&dev->bar);
	pthread_mutex_destroy(&dev->stats_lock);
	free(dev);
}

struct ixy_device *ixgbe_init(const struct pci_device *pci, const struct ixy_device_config *cfg)
{
	uint16_t rx_queues = cfg->rx_queues ? cfg->rx_queues : 1;
	uint16_t tx_queues = cfg->tx_queues ? cfg->tx_queues : 1;
	uint16_t rx_ring = cfg->rx_ring_size ? cfg->rx_ring_size : IXGBE_DEFAULT_RING_SIZE;
	uint16_t tx_ring = cfg->tx_ring_size ? cfg->tx_ring_size : IXGBE_DEFAULT_RING_SIZE;
	/* RETA entries hold a 4-bit queue index (8.2.3.7.13): 16 queues at most, which is also
	 * IXY_MAX_QUEUES. */
	if (rx_queues > IXY_MAX_QUEUES || tx_queues > IXY_MAX_QUEUES || !valid_ring_size(rx_ring) ||
	    !valid_ring_size(tx_ring)) {
		LOG_ERR("ixgbe",
			"%s: bad config: %u/%u queues, rings %u/%u (queues 1..%u, rings a "
			"power of two in %u..%u)",
			pci->addr, rx_queues, tx_queues, rx_ring, tx_ring, IXY_MAX_QUEUES,
			IXGBE_MIN_RING_SIZE, IXGBE_MAX_RING_SIZE);
		errno = EINVAL;
		return NULL;
	}
	enum ixgbe_mac mac = mac_from_device_id(pci->device_id);
	if (mac == IXGBE_MAC_UNKNOWN) {
		LOG_ERR("ixgbe",
			"%s: device ID 0x%04x is not an 82599, X540 or X550 this driver knows "
			"(docs/ixgbe.md lists them); refused",
			pci->addr, pci->device_id);
		errno = ENODEV;
		return NULL;
	}
	struct ixgbe_device *dev = calloc(1, sizeof(*dev));
	if (!dev) {
		errno = ENOMEM;
		return NULL;
	}
	dev->base.ops = &ixgbe_ops;
	snprintf(dev->base.name, sizeof(dev->base.name), "%s", pci->addr);
	dev->base.rx_queues = rx_queues;
	dev->base.tx_queues = tx_queues;
	dev->base.numa_node = pci->numa_node;
	dev->mac = mac;
	dev->rx_ring_size = rx_ring;
	dev->tx_ring_size = tx_ring;
	pthread_mutex_init(&dev->stats_lock, NULL);

	int err = pci_map_bar(pci, 0, &dev->bar);
	if (err) {
		LOG_ERR("ixgbe", "%s: cannot map BAR0", pci->addr);
		goto err_free;
	}
	err = pci_enable_bus_master(pci);
	if (err)
		goto err_free;
	err = ixgbe_reset_and_init(dev);
	if (err)
		goto err_reset;
	ixgbe_wait_for_link(dev);
	LOG_INFO("ixgbe", "%s: %u rx / %u tx queues, rings %u/%u", dev->base.name, rx_queues,
		 tx_queues, rx_ring, tx_ring);
	return &dev->base;

err_reset:
	/* The device may have started DMA into our rings: reset it before freeing them. */
	ixgbe_destroy(dev, true);
	errno = -err;
	return NULL;
err_free:
	ixgbe_destroy(dev, false);
	errno = -err;
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Receive and transmit                                                                     */
/* ---------------------------------------------------------------------------------------- */

static uint32_t ixgbe_rx_batch(struct ixy_device *ixy, uint16_t queue, struct pkt_buf **bufs,
			       uint32_t n)
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	struct ixgbe_rx_queue *q = &dev->rx[queue];
	uint16_t rx_index = q->rx_index;
	uint32_t got = 0;
	/* 1. Take done descriptors, oldest first, stopping at the first without DD (7.1.6.2).
	 * We never read RDH: the DD bit in memory says the same without an MMIO read. */
	while (got < n && rx_index != q->tail) {
		volatile union ixgbe_adv_rx_desc *desc = &q->ring[rx_index];
		uint32_t status = desc->wb.status_error;
		if (!(status & IXGBE_RXD_STAT_DD))
			break;
		ixgbe_rmb_after_dd();
		struct pkt_buf *buf = q->bufs[rx_index];
		q->bufs[rx_index] = NULL;
		rx_index = (rx_index + 1) & q->mask;
		if (unlikely(!(status & IXGBE_RXD_STAT_EOP))) {
			/* A frame over several buffers cannot happen with jumbo frames off (see
			 * IXGBE_RX_BSIZEPKT_KB); should it, drop the piece and keep going. */
			LOG_WARN_RL("ixgbe", "%s: rx queue %u: frame without EOP dropped",
				    ixy->name, queue);
			pkt_buf_free(buf);
			continue;
		}
		pkt_reset(buf, desc->wb.length); /* written at pkt_rx_iova(), the default offset */
		buf->rss_hash =
		    (desc->wb.pkt_info & IXGBE_RXD_RSS_TYPE_MASK) ? desc->wb.rss_hash : 0;
		buf->rx_queue = queue;
		bufs[got++] = buf;
	}
	q->rx_index = rx_index;
	/* 2. Post fresh buffers in the freed descriptors, one RDT write for all of them. Done
	 * even when nothing arrived, so a ring drained while the pool was empty fills again. */
	ixgbe_rx_refill(dev, q);
	return got;
}

/* Reclaim sent buffers. Every descriptor has RS set, so the device writes DD into each one
 * (7.2.3.2.4, WTHRESH = 0) in ring order. The fast path looks only at the last descriptor of
 * each group of IXGBE_TX_CLEAN_BATCH and frees the group with one pool call; with all set,
 * the remaining partial group is reclaimed descriptor by descriptor too. */
static void ixgbe_tx_clean(struct ixgbe_tx_queue *q, bool all)
{
	for (;;) {
		uint16_t in_flight = (uint16_t)((q->tail - q->clean_index) & q->mask);
		uint16_t batch = IXGBE_TX_CLEAN_BATCH;
		if (in_flight < batch) {
			if (!all || in_flight == 0)
				return;
			batch = in_flight;
		}
		uint16_t last = (q->clean_index + batch - 1) & q->mask;
		if (!(q->ring[last].wb.status & IXGBE_TXD_STAT_DD)) {
			if (!all || batch == 1)
				return;
			/* Partial: free what is done, one at a time. */
			if (!(q->ring[q->clean_index].wb.status & IXGBE_TXD_STAT_DD))
				return;
			batch = 1;
		}
		/* The group may wrap around the end of the ring: free it in two runs. */
		uint16_t first_run = MIN(batch, (uint16_t)(q->mask + 1 - q->clean_index));
		pkt_buf_free_batch(&q->bufs[q->clean_index], first_run);
		if (batch > first_run)
			pkt_buf_free_batch(&q->bufs[0], batch - first_run);
		q->clean_index = (q->clean_index + batch) & q->mask;
	}
}

static uint32_t ixgbe_tx_batch(struct ixy_device *ixy, uint16_t queue, struct pkt_buf **bufs,
			       uint32_t n)
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	struct ixgbe_tx_queue *q = &dev->tx[queue];
	/* 1. Reclaim what the device has sent, in whole groups; n == 0 asks to reclaim
	 * everything sent, and so does a batch that would not fit otherwise. */
	ixgbe_tx_clean(q, n == 0);
	/* One descriptor stays empty, see struct. */
	uint16_t free_slots = (uint16_t)((q->clean_index - q->tail - 1) & q->mask);
	if (free_slots < n) {
		ixgbe_tx_clean(q, true);
		free_slots = (uint16_t)((q->clean_index - q->tail - 1) & q->mask);
	}
	/* 2. Fill free descriptors. */
	uint32_t sent = MIN(n, free_slots);
	uint16_t tail = q->tail;
	for (uint32_t i = 0; i < sent; i++) {
		struct pkt_buf *buf = bufs[i];
		assert(buf->len > 0 && buf->len <= IXGBE_TXD_DTALEN_MASK);
		volatile union ixgbe_adv_tx_desc *desc = &q->ring[tail];
		/* Advanced data descriptor, 7.2.3.2.4: one buffer per frame (EOP), FCS appended
		 * (IFCS), DD wanted back (RS); PAYLEN is the whole frame without offloads. */
		desc->read.buffer_addr = pkt_data_iova(buf);
		desc->read.cmd_type_len = buf->len | IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_DEXT |
					  IXGBE_TXD_CMD_EOP | IXGBE_TXD_CMD_IFCS | IXGBE_TXD_CMD_RS;
		desc->read.olinfo_status = buf->len << IXGBE_TXD_PAYLEN_SHIFT;
		q->bufs[tail] = buf;
		tail = (tail + 1) & q->mask;
	}
	/* 3. One TDT write for the batch. */
	if (sent) {
		q->tail = tail;
		ixgbe_wmb_before_tail();
		wr32(dev, IXGBE_TDT(queue), tail);
	}
	return sent;
}

/* ---------------------------------------------------------------------------------------- */
/* Control path                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void ixgbe_read_stats(struct ixy_device *ixy, struct ixy_stats *stats)
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	pthread_mutex_lock(&dev->stats_lock);
	ixgbe_accumulate_stats(dev);
	*stats = dev->stats;
	pthread_mutex_unlock(&dev->stats_lock);
}

static int ixgbe_set_promisc(struct ixy_device *ixy, bool on)
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	/* Unicast and multicast promiscuous, 8.2.3.7.1. */
	if (on)
		set_bits(dev, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	else
		clear_bits(dev, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	ixy->promisc = on;
	return 0;
}

static int ixgbe_get_link(struct ixy_device *ixy, struct ixy_link *link)
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	uint32_t links = rd32(dev, IXGBE_LINKS); /* 8.2.3.22.20 */
	link->up = (links & IXGBE_LINKS_UP) != 0;
	link->speed_mbps = 0;
	if (!link->up)
		return 0;
	/* The 82599/X540 encoding; the X550's 2.5/5 GbE (NBASE-T) speeds are not decoded. */
	switch (links & IXGBE_LINKS_SPEED_MASK) {
	case IXGBE_LINKS_SPEED_100M:
		link->speed_mbps = 100;
		break;
	case IXGBE_LINKS_SPEED_1G:
		link->speed_mbps = 1000;
		break;
	case IXGBE_LINKS_SPEED_10G:
		link->speed_mbps = 10000;
		break;
	default:
		break;
	}
	return 0;
}

static int ixgbe_get_mac(struct ixy_device *ixy, uint8_t mac[ETHER_ADDR_LEN])
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	/* Receive address 0 (8.2.3.7.8-9): bytes 0..3 in RAL, 4..5 in RAH bits 15:0. */
	uint32_t ral = rd32(dev, IXGBE_RAL(0));
	uint32_t rah = rd32(dev, IXGBE_RAH(0));
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(ral >> (8 * i));
	mac[4] = (uint8_t)rah;
	mac[5] = (uint8_t)(rah >> 8);
	return 0;
}

static int ixgbe_set_mac(struct ixy_device *ixy, const uint8_t mac[ETHER_ADDR_LEN])
{
	struct ixgbe_device *dev = to_ixgbe(ixy);
	if (mac[0] & 1) /* a group address cannot be a station address */
		return -EINVAL;
	uint32_t ral =
	    mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
	uint32_t rah = mac[4] | (uint32_t)mac[5] << 8;
	/* Invalidate the entry while its two halves disagree, then write it valid (AV). */
	wr32(dev, IXGBE_RAH(0), 0);
	wr32(dev, IXGBE_RAL(0), ral);
	wr32(dev, IXGBE_RAH(0), rah | IXGBE_RAH_AV);
	return 0;
}

static void ixgbe_close(struct ixy_device *ixy)
{
	ixgbe_destroy(to_ixgbe(ixy), true);
}

static const struct ixy_device_ops ixgbe_ops = {
    .driver_name = "ixgbe",
    .rx_batch = ixgbe_rx_batch,
    .tx_batch = ixgbe_tx_batch,
    .read_stats = ixgbe_read_stats,
    .set_promisc = ixgbe_set_promisc,
    .get_link = ixgbe_get_link,
    .get_mac = ixgbe_get_mac,
    .set_mac = ixgbe_set_mac,
    .close = ixgbe_close,
};
