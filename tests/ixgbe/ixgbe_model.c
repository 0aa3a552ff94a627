/*
 * ixgbe_model.c: the behavioural 82599 model; see ixgbe_model.h and docs/ixgbe.md.
 *
 * The register file is an array indexed by offset / 4 holding what a read returns, with the
 * registers that have behaviour handled in model_read()/model_write(). Sections cited are the
 * 82599 datasheet's, rev. 3.3, as in drivers/ixgbe_regs.h.
 */
#include "ixgbe_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ixgbe_regs.h"
#include "memory.h"

#define BAR0_SIZE    0x20000u /* 128 KB of registers (9.3.6.1, BAR0 memory space) */
#define MODEL_QUEUES 16	      /* queues the model implements; the 82599 has 128 */
#define TRACE_MAX    200000   /* accesses kept for ixgbe_model_trace() */
/* Reads of a polled bit before it appears: the driver must poll, not read once. */
#define POLLS_BEFORE_DONE     2
#define LINKS_READS_BEFORE_UP 3

/* Reset values the model gives (8.2.3.x "initial value"; EEPROM-loaded where it says so). */
#define HLREG0_RESET  (IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_RXCRCSTRP | IXGBE_HLREG0_TXPADEN)
#define RDRXCTL_RESET (0x8u << 17)		    /* RSCFRSTSIZE = 0x8, CRCStrip = 0 */
#define AUTOC_RESET   (4u << IXGBE_AUTOC_LMS_SHIFT) /* EEPROM: KX/KX4/KR auto-negotiation */

/* The MAC the model plays, from its device ID (the driver's list, docs/ixgbe.md). */
enum model_mac {
	MODEL_82599,
	MODEL_X540,
	MODEL_X550,
	MODEL_OTHER, /* a family member the driver does not know (e.g. X550EM): not an 82599 */
};

struct ixgbe_model {
	uint32_t regs[BAR0_SIZE / 4];
	uint16_t device_id;
	enum model_mac mac_type;
	uint8_t mac[6];
	bool no_link;
	bool secrx_stuck;
	bool tx_enable_stuck;

	unsigned master_disable_polls; /* STATUS reads left before GIO_Master_Enable clears */
	bool master_stopped;	       /* the driver has seen GIO_Master_Enable clear */

	bool in_reset;	      /* CTRL.RST set: only CTRL may be read */
	unsigned reset_polls; /* CTRL reads left before RST clears */
	unsigned eeprom_polls;
	unsigned dma_init_polls;
	bool link_training; /* link setup started, LINKS reads count down */
	unsigned link_polls;
	unsigned rx_enable_polls[MODEL_QUEUES];
	unsigned tx_enable_polls[MODEL_QUEUES];
	bool rx_enabled[MODEL_QUEUES]; /* RXDCTL.ENABLE latched */
	bool tx_enabled[MODEL_QUEUES];
	bool rx_enable_seen[MODEL_QUEUES]; /* the driver has read ENABLE back as 1 */
	bool tx_enable_seen[MODEL_QUEUES];
	uint64_t gorc, gotc; /* 36-bit octet counters; each half clears on its own read */
	bool hold_tx;

	ixgbe_model_tx_fn tx_fn;
	void *tx_ctx;

	char error[512];
	bool failed;
	struct ixgbe_model_access *trace;
	size_t trace_len;
};

static void model_fail(struct ixgbe_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void model_fail(struct ixgbe_model *m, const char *fmt, ...)
{
	char msg[sizeof(m->error)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ixgbe model: MISUSE: %s\n", msg);
	if (!m->failed) {
		m->failed = true;
		snprintf(m->error, sizeof(m->error), "%s", msg);
	}
}

static inline uint32_t *reg(struct ixgbe_model *m, uint32_t offset)
{
	return &m->regs[offset / 4];
}

/* The device's view of DMA memory: [iova, iova + len) must lie in one region the driver
 * allocated. */
static void *model_dma(struct ixgbe_model *m, uint64_t iova, size_t len, const char *what)
{
	void *virt = memory_iova_to_virt(iova, len);
	if (!virt)
		model_fail(m,
			   "%s: DMA to 0x%llx (+%zu bytes) is outside memory the driver allocated",
			   what, (unsigned long long)iova, len);
	return virt;
}

static void trace_access(struct ixgbe_model *m, uint32_t offset, uint32_t value, bool write)
{
	if (m->trace_len < TRACE_MAX)
		m->trace[m->trace_len++] = (struct ixgbe_model_access){offset, value, write};
}

static enum model_mac mac_from_id(uint16_t id)
{
	switch (id) {
	case 0x10f7:
	case 0x10f8:
	case 0x10f9:
	case 0x10fb:
	case 0x10fc:
	case 0x1507:
	case 0x1514:
	case 0x151c:
	case 0x1529:
	case 0x152a:
	case 0x154d:
	case 0x1557:
		return MODEL_82599;
	case 0x1528:
	case 0x1560:
		return MODEL_X540;
	case 0x1563:
	case 0x15d1:
		return MODEL_X550;
	default:
		return MODEL_OTHER;
	}
}

static bool link_autonomous(const struct ixgbe_model *m)
{
	/* Everything but the 82599: the PHY negotiates after reset by itself. */
	return m->mac_type != MODEL_82599;
}

/* The receive packet buffer in KB (IXGBE_RXPBSIZE in ixgbe_regs.h). */
static uint32_t rx_packet_buffer_kb(const struct ixgbe_model *m)
{
	switch (m->mac_type) {
	case MODEL_82599:
		return IXGBE_RXPB_KB_82599;
	case MODEL_X540:
		return IXGBE_RXPB_KB_X540;
	default:
		return IXGBE_RXPB_KB_X550;
	}
}

/* Could the device be doing DMA: any queue or either direction enabled. */
static bool dma_may_be_live(struct ixgbe_model *m)
{
	if ((*reg(m, IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN) ||
	    (*reg(m, IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE))
		return true;
	for (int q = 0; q < MODEL_QUEUES; q++) {
		if (m->rx_enabled[q] || m->tx_enabled[q])
			return true;
	}
	return false;
}

/* Power-on or software reset: every register to its initial value (8.2.3), the EEPROM auto-
 * read and DMA init start again (they complete after a few polls), link down. */
static void model_reset(struct ixgbe_model *m)
{
	/* CTRL_EXT.DRV_LOAD is modelled as surviving a software reset, so the driver has to clear
	 * it itself to hand the port back (as Linux does); whether the hardware keeps it across
	 * CTRL.RST is not checked (docs/ixgbe.md). */
	uint32_t drv_load = *reg(m, IXGBE_CTRL_EXT) & IXGBE_CTRL_EXT_DRV_LOAD;
	memset(m->regs, 0, sizeof(m->regs));
	*reg(m, IXGBE_CTRL_EXT) = drv_load;
	/* Bus mastering on, no master disable pending (8.2.3.1.2). */
	*reg(m, IXGBE_STATUS) = IXGBE_STATUS_MASTER_ENABLE;
	m->master_disable_polls = 0;
	m->master_stopped = false;
	/* All of the receive packet buffer in PB 0 (8.2.3.8.9 initial value). */
	*reg(m, IXGBE_RXPBSIZE(0)) = rx_packet_buffer_kb(m) << IXGBE_PBSIZE_SHIFT;
	memset(m->rx_enable_polls, 0, sizeof(m->rx_enable_polls));
	memset(m->tx_enable_polls, 0, sizeof(m->tx_enable_polls));
	memset(m->rx_enabled, 0, sizeof(m->rx_enabled));
	memset(m->tx_enabled, 0, sizeof(m->tx_enabled));
	memset(m->rx_enable_seen, 0, sizeof(m->rx_enable_seen));
	memset(m->tx_enable_seen, 0, sizeof(m->tx_enable_seen));
	m->gorc = m->gotc = 0;
	*reg(m, IXGBE_EEC) = IXGBE_EEC_PRES;
	m->eeprom_polls = POLLS_BEFORE_DONE;
	m->dma_init_polls = POLLS_BEFORE_DONE;
	*reg(m, IXGBE_HLREG0) = HLREG0_RESET;
	*reg(m, IXGBE_RDRXCTL) = RDRXCTL_RESET;
	*reg(m, IXGBE_AUTOC) = AUTOC_RESET;
	/* Station address from the EEPROM into receive address 0, valid (8.2.3.7.9). */
	*reg(m, IXGBE_RAL(0)) = m->mac[0] | (uint32_t)m->mac[1] << 8 | (uint32_t)m->mac[2] << 16 |
				(uint32_t)m->mac[3] << 24;
	*reg(m, IXGBE_RAH(0)) = m->mac[4] | (uint32_t)m->mac[5] << 8 | IXGBE_RAH_AV;
	m->link_training = link_autonomous(m);
	m->link_polls = LINKS_READS_BEFORE_UP;
}

struct ixgbe_model *ixgbe_model_create(const struct ixgbe_model_config *cfg)
{
	struct ixgbe_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->trace = calloc(TRACE_MAX, sizeof(*m->trace));
	if (!m->trace) {
		free(m);
		return NULL;
	}
	m->device_id = cfg->device_id ? cfg->device_id : 0x10fb;
	m->mac_type = mac_from_id(m->device_id);
	memcpy(m->mac, cfg->mac, sizeof(m->mac));
	m->no_link = cfg->no_link;
	m->secrx_stuck = cfg->secrx_stuck;
	m->tx_enable_stuck = cfg->tx_enable_stuck;
	model_reset(m);
	/* At power-on the EEPROM has long been read. */
	*reg(m, IXGBE_EEC) |= IXGBE_EEC_AUTO_RD;
	*reg(m, IXGBE_RDRXCTL) |= IXGBE_RDRXCTL_DMAIDONE;
	m->eeprom_polls = m->dma_init_polls = 0;
	return m;
}

void ixgbe_model_free(struct ixgbe_model *m)
{
	if (!m)
		return;
	free(m->trace);
	free(m);
}

/* ---- Queue registers ---- */

/* Which queue register an offset is: returns the queue and sets *which to the offset within
 * the queue's 0x40-byte block, or returns -1. */
static int rx_queue_reg(uint32_t offset, uint32_t *which)
{
	if (offset < 0x01000 || offset >= 0x01000 + 0x40 * MODEL_QUEUES)
		return -1;
	*which = 0x01000 + (offset & 0x3f);
	return (int)((offset - 0x01000) / 0x40);
}

static int tx_queue_reg(uint32_t offset, uint32_t *which)
{
	if (offset < 0x06000 || offset >= 0x06000 + 0x40 * MODEL_QUEUES)
		return -1;
	*which = 0x06000 + (offset & 0x3f);
	return (int)((offset - 0x06000) / 0x40);
}

static uint64_t ring_base(struct ixgbe_model *m, uint32_t bal, uint32_t bah)
{
	return *reg(m, bal) | (uint64_t)*reg(m, bah) << 32;
}

/* A ring may be enabled only once its base and length are set and point at driver memory
 * (4.6.7 steps 3-4 before 8, 4.6.8 steps 2-3 before 7). */
static bool ring_ok(struct ixgbe_model *m, const char *what, int q, uint64_t base, uint32_t len)
{
	if (base == 0 || len == 0) {
		model_fail(m,
			   "%s %d enabled before its base and length were set (base 0x%llx, "
			   "length %u)",
			   what, q, (unsigned long long)base, len);
		return false;
	}
	if (len % 128 != 0 || base % 128 != 0) {
		/* 8.2.3.8.3 / 8.2.3.9.7: length a multiple of 128 bytes; base 128-byte aligned */
		model_fail(m, "%s %d: base 0x%llx or length %u not a multiple of 128", what, q,
			   (unsigned long long)base, len);
		return false;
	}
	return model_dma(m, base, len, what) != NULL;
}

static void tx_process(struct ixgbe_model *m, int q);

static void write_rx_queue_reg(struct ixgbe_model *m, int q, uint32_t which, uint32_t value)
{
	uint32_t *r = reg(m, IXGBE_RXDCTL(q) - IXGBE_RXDCTL(0) + which);
	if (which == IXGBE_RXDCTL(0)) {
		bool enable = value & IXGBE_RXDCTL_ENABLE;
		*r = value & ~IXGBE_RXDCTL_ENABLE; /* the bit reads 1 once latched */
		m->rx_enabled[q] = false;
		m->rx_enable_seen[q] = false;
		if (enable &&
		    ring_ok(m, "rx queue", q, ring_base(m, IXGBE_RDBAL(q), IXGBE_RDBAH(q)),
			    *reg(m, IXGBE_RDLEN(q)))) {
			m->rx_enabled[q] = true;
			m->rx_enable_polls[q] = POLLS_BEFORE_DONE;
		}
		return;
	}
	if (which == IXGBE_RDT(0)) {
		uint32_t size = *reg(m, IXGBE_RDLEN(q)) / 16;
		if (!m->rx_enable_seen[q])
			model_fail(m,
				   "RDT[%d] written before RXDCTL.ENABLE read back as 1 "
				   "(4.6.7 step 9)",
				   q);
		else if (value >= size)
			model_fail(m, "RDT[%d] = %u is beyond the ring of %u descriptors", q, value,
				   size);
		*r = value;
		return;
	}
	if (which == IXGBE_RDH(0) || which == IXGBE_RDBAL(0) || which == IXGBE_RDBAH(0) ||
	    which == IXGBE_RDLEN(0)) {
		if (m->rx_enabled[q])
			model_fail(m, "rx queue %d: ring register 0x%x written while enabled", q,
				   which);
	}
	*r = value;
}

static void write_tx_queue_reg(struct ixgbe_model *m, int q, uint32_t which, uint32_t value)
{
	uint32_t *r = reg(m, IXGBE_TXDCTL(q) - IXGBE_TXDCTL(0) + which);
	if (which == IXGBE_TXDCTL(0)) {
		bool enable = value & IXGBE_TXDCTL_ENABLE;
		*r = value & ~IXGBE_TXDCTL_ENABLE;
		m->tx_enabled[q] = false;
		m->tx_enable_seen[q] = false;
		if (!enable)
			return;
		if (!(*reg(m, IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE)) {
			model_fail(m, "tx queue %d enabled before DMATXCTL.TE (4.6.8 step 6)", q);
			return;
		}
		if (value & IXGBE_TXDCTL_WTHRESH_MASK) {
			model_fail(m, "tx queue %d: WTHRESH > 0 is not modelled", q);
			return;
		}
		if (ring_ok(m, "tx queue", q, ring_base(m, IXGBE_TDBAL(q), IXGBE_TDBAH(q)),
			    *reg(m, IXGBE_TDLEN(q)))) {
			m->tx_enabled[q] = true;
			m->tx_enable_polls[q] = POLLS_BEFORE_DONE;
		}
		return;
	}
	if (which == IXGBE_TDT(0)) {
		uint32_t size = *reg(m, IXGBE_TDLEN(q)) / 16;
		if (!m->tx_enable_seen[q]) {
			model_fail(m,
				   "TDT[%d] written before TXDCTL.ENABLE read back as 1 "
				   "(4.6.8 step 7 note)",
				   q);
			return;
		}
		if (value >= size) {
			model_fail(m, "TDT[%d] = %u is beyond the ring of %u descriptors", q, value,
				   size);
			return;
		}
		*r = value;
		tx_process(m, q);
		return;
	}
	if (which == IXGBE_TDH(0) || which == IXGBE_TDBAL(0) || which == IXGBE_TDBAH(0) ||
	    which == IXGBE_TDLEN(0)) {
		if (m->tx_enabled[q])
			model_fail(m, "tx queue %d: ring register 0x%x written while enabled", q,
				   which);
	}
	*r = value;
}

/* ---- Transmit: descriptors between head and tail, 7.2 ---- */

static void tx_process(struct ixgbe_model *m, int q)
{
	if (m->hold_tx || !m->tx_enabled[q] || !(*reg(m, IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE))
		return;
	uint64_t base = ring_base(m, IXGBE_TDBAL(q), IXGBE_TDBAH(q));
	uint32_t size = *reg(m, IXGBE_TDLEN(q)) / 16;
	uint32_t head = *reg(m, IXGBE_TDH(q));
	uint32_t tail = *reg(m, IXGBE_TDT(q));
	while (head != tail) {
		union ixgbe_adv_tx_desc *desc =
		    model_dma(m, base + head * 16ull, sizeof(*desc), "tx descriptor");
		if (!desc)
			return;
		uint32_t cmd = desc->read.cmd_type_len;
		uint32_t len = cmd & IXGBE_TXD_DTALEN_MASK;
		if (!(cmd & IXGBE_TXD_CMD_DEXT) ||
		    (cmd & IXGBE_TXD_DTYP_MASK) != IXGBE_TXD_DTYP_DATA) {
			model_fail(
			    m,
			    "tx queue %d desc %u: not an advanced data descriptor (cmd 0x%x); "
			    "context and legacy descriptors are not modelled",
			    q, head, cmd);
			return;
		}
		if (!(cmd & IXGBE_TXD_CMD_EOP)) {
			model_fail(m,
				   "tx queue %d desc %u: frames over several descriptors are not "
				   "modelled",
				   q, head);
			return;
		}
		if (len == 0 || desc->read.olinfo_status >> IXGBE_TXD_PAYLEN_SHIFT != len) {
			/* 7.2.3.2.4: without TSO, PAYLEN is the frame length */
			model_fail(m, "tx queue %d desc %u: length %u, PAYLEN %u", q, head, len,
				   desc->read.olinfo_status >> IXGBE_TXD_PAYLEN_SHIFT);
			return;
		}
		const uint8_t *frame = model_dma(m, desc->read.buffer_addr, len, "tx buffer");
		if (!frame)
			return;
		if (m->tx_fn)
			m->tx_fn(m->tx_ctx, (uint16_t)q, frame, len);
		uint32_t wire_len = len;
		if ((*reg(m, IXGBE_HLREG0) & IXGBE_HLREG0_TXPADEN) && wire_len < 60)
			wire_len = 60;
		*reg(m, IXGBE_GPTC) += 1;
		m->gotc += wire_len + IXGBE_FCS_LEN;
		if (cmd & IXGBE_TXD_CMD_RS) {
			/* Write-back, 7.2.3.2.4: reserved fields zeroed, DD set, status last. */
			desc->wb.reserved = 0;
			desc->wb.nxtseq_seed = 0;
			__atomic_store_n(&desc->wb.status, IXGBE_TXD_STAT_DD, __ATOMIC_RELEASE);
		}
		head = (head + 1) % size;
		*reg(m, IXGBE_TDH(q)) = head;
	}
}

/* ---- Register access ---- */

static bool is_clear_on_read(uint32_t offset)
{
	switch (offset) {
	case IXGBE_EICR:
	case IXGBE_CRCERRS:
	case IXGBE_RLEC:
	case IXGBE_GPRC:
	case IXGBE_GPTC:
	case IXGBE_RUC:
	case IXGBE_ROC:
		return true;
	default:
		break;
	}
	if (offset >= IXGBE_MPC(0) && offset < IXGBE_MPC(IXGBE_MPC_REGS))
		return true;
	/* QPRC (0x01030 + 0x40 n) and QPRDC (0x01430 + 0x40 n), n = 0..15 */
	return offset >= 0x01000 && offset < 0x01800 && (offset & 0x3f) == 0x30;
}

static uint32_t model_read(struct ixgbe_model *m, uint32_t offset)
{
	uint32_t *r = reg(m, offset);
	uint32_t value = *r;
	uint32_t which;
	int q;
	if (m->in_reset) {
		if (offset != IXGBE_CTRL) {
			model_fail(m, "register 0x%05x read during reset", offset);
			return 0xffffffffu;
		}
		if (--m->reset_polls == 0) {
			m->in_reset = false;
			*r &= ~IXGBE_CTRL_RST_MASK;
		}
		return value;
	}
	switch (offset) {
	case IXGBE_EEC:
		if (m->eeprom_polls && --m->eeprom_polls == 0)
			*r |= IXGBE_EEC_AUTO_RD;
		return value;
	case IXGBE_RDRXCTL:
		if (m->dma_init_polls && --m->dma_init_polls == 0)
			*r |= IXGBE_RDRXCTL_DMAIDONE;
		return value;
	case IXGBE_LINKS:
		if (m->link_training && !m->no_link && m->link_polls && --m->link_polls == 0) {
			*r = IXGBE_LINKS_UP | IXGBE_LINKS_SPEED_10G;
			m->link_training = false;
		}
		return value;
	case IXGBE_SECRXSTAT:
		/* The security block is empty as soon as its rx path is halted, unless the model
		 * plays one that never reports it (secrx_stuck). */
		return (*reg(m, IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS) && !m->secrx_stuck
			   ? IXGBE_SECRXSTAT_RDY
			   : 0;
	case IXGBE_STATUS:
		/* GIO_Master_Enable clears a few reads after CTRL.PCIe_Master_Disable. */
		if (m->master_disable_polls && --m->master_disable_polls == 0)
			*r &= ~IXGBE_STATUS_MASTER_ENABLE;
		if ((*reg(m, IXGBE_CTRL) & IXGBE_CTRL_MASTER_DISABLE) &&
		    !(*r & IXGBE_STATUS_MASTER_ENABLE))
			m->master_stopped = true;
		return *r;
	default:
		break;
	}
	if (offset == IXGBE_GORCL || offset == IXGBE_GORCH || offset == IXGBE_GOTCL ||
	    offset == IXGBE_GOTCH) {
		uint64_t *counter = offset < IXGBE_GOTCL ? &m->gorc : &m->gotc;
		bool high = offset == IXGBE_GORCH || offset == IXGBE_GOTCH;
		uint32_t half = high ? (uint32_t)(*counter >> 32) & 0xf : (uint32_t)*counter;
		*counter &= high ? 0xffffffffull : ~0xffffffffull;
		return half;
	}
	if ((q = rx_queue_reg(offset, &which)) >= 0 && which == IXGBE_RXDCTL(0)) {
		if (m->rx_enabled[q] && m->rx_enable_polls[q] && --m->rx_enable_polls[q] == 0)
			*r |= IXGBE_RXDCTL_ENABLE;
		if (*r & IXGBE_RXDCTL_ENABLE)
			m->rx_enable_seen[q] = true;
		return value;
	}
	if ((q = tx_queue_reg(offset, &which)) >= 0 && which == IXGBE_TXDCTL(0)) {
		if (m->tx_enabled[q] && !m->tx_enable_stuck && m->tx_enable_polls[q] &&
		    --m->tx_enable_polls[q] == 0)
			*r |= IXGBE_TXDCTL_ENABLE;
		if (*r & IXGBE_TXDCTL_ENABLE)
			m->tx_enable_seen[q] = true;
		return value;
	}
	if (is_clear_on_read(offset))
		*r = 0;
	return value;
}

static void model_write(struct ixgbe_model *m, uint32_t offset, uint32_t value)
{
	uint32_t which;
	int q;
	if (m->in_reset) {
		model_fail(m, "register 0x%05x written during reset", offset);
		return;
	}
	switch (offset) {
	case IXGBE_CTRL:
		if ((value & IXGBE_CTRL_MASTER_DISABLE) &&
		    !(*reg(m, IXGBE_CTRL) & IXGBE_CTRL_MASTER_DISABLE))
			m->master_disable_polls = POLLS_BEFORE_DONE;
		if ((value & IXGBE_CTRL_RST) && dma_may_be_live(m) && !m->master_stopped)
			model_fail(m, "CTRL.RST with DMA enabled, without master disable first "
				      "(CTRL.PCIe_Master_Disable, then STATUS.GIO_Master_Enable "
				      "polled clear, 5.2.5.3.2)");
		if (value & IXGBE_CTRL_RST) {
			model_reset(m);
			m->in_reset = true;
			m->reset_polls = POLLS_BEFORE_DONE;
			/* RST and LRST read 1 until done; the reset clears the rest of CTRL,
			 * master disable included. */
			*reg(m, IXGBE_CTRL) = value & IXGBE_CTRL_RST_MASK;
		} else if (value & IXGBE_CTRL_LRST) {
			/* Link reset alone: the link drops and retrains. */
			*reg(m, IXGBE_LINKS) = 0;
			m->link_training = true;
			m->link_polls = LINKS_READS_BEFORE_UP;
			*reg(m, IXGBE_CTRL) = value & ~IXGBE_CTRL_LRST;
		} else {
			*reg(m, IXGBE_CTRL) = value;
		}
		return;
	case IXGBE_AUTOC:
		if (m->mac_type != MODEL_82599)
			model_fail(m,
				   "AUTOC written on device 0x%04x, which is not an 82599 (its "
				   "link is not set up through AUTOC, 4.6.4)",
				   m->device_id);
		*reg(m, offset) = value & ~IXGBE_AUTOC_RESTART_AN; /* self-clearing */
		if (value & IXGBE_AUTOC_RESTART_AN) {
			*reg(m, IXGBE_LINKS) = 0;
			m->link_training = true;
			m->link_polls = LINKS_READS_BEFORE_UP;
		}
		return;
	case IXGBE_RDRXCTL: /* DMAIDONE is read-only */
		*reg(m, offset) =
		    (value & ~IXGBE_RDRXCTL_DMAIDONE) | (*reg(m, offset) & IXGBE_RDRXCTL_DMAIDONE);
		return;
	case IXGBE_RXCTRL:
		if ((value & IXGBE_RXCTRL_RXEN) &&
		    !(*reg(m, IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS))
			model_fail(m, "RXCTRL.RXEN set without the security rx path halted "
				      "(4.6.7 step 11)");
		if ((value & IXGBE_RXCTRL_RXEN) &&
		    !(*reg(m, IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP) !=
			!(*reg(m, IXGBE_RDRXCTL) & IXGBE_RDRXCTL_CRCSTRIP))
			model_fail(m, "HLREG0.RXCRCSTRP and RDRXCTL.CRCStrip differ (4.6.7)");
		if (value & IXGBE_RXCTRL_RXEN) {
			uint32_t kb = 0;
			for (unsigned i = 0; i < 8; i++)
				kb += (*reg(m, IXGBE_RXPBSIZE(i)) >> IXGBE_PBSIZE_SHIFT) & 0x3ff;
			if (kb > rx_packet_buffer_kb(m))
				model_fail(m,
					   "RXPBSIZE[0..7] add up to %u KB, more than the %u KB "
					   "receive packet buffer of device 0x%04x (8.2.3.8.9)",
					   kb, rx_packet_buffer_kb(m), m->device_id);
			if (!(*reg(m, IXGBE_CTRL_EXT) & IXGBE_CTRL_EXT_DRV_LOAD))
				model_fail(m,
					   "RXCTRL.RXEN without CTRL_EXT.DRV_LOAD: firmware still "
					   "owns the port (8.2.3.1.3)");
		}
		*reg(m, offset) = value;
		return;
	case IXGBE_DMATXCTL:
		*reg(m, offset) = value;
		for (int i = 0; i < MODEL_QUEUES; i++)
			tx_process(m, i);
		return;
	case IXGBE_STATUS:    /* read-only */
	case IXGBE_LINKS:     /* read-only */
	case IXGBE_SECRXSTAT: /* read-only */
	case IXGBE_EEC:	      /* the EEPROM bit-bang interface is not modelled */
		return;
	default:
		break;
	}
	if (is_clear_on_read(offset) || (offset >= IXGBE_GORCL && offset <= IXGBE_GOTCH))
		return; /* counters are read-only */
	if (offset == IXGBE_MRQC_ALT ||
	    (offset >= IXGBE_RETA_ALT(0) && offset < IXGBE_RETA_ALT(IXGBE_RETA_REGS)) ||
	    (offset >= IXGBE_RSSRK_ALT(0) && offset < IXGBE_RSSRK_ALT(IXGBE_RSSRK_REGS))) {
		model_fail(m,
			   "RSS register written at 0x%05x, the 82599 map's own address: use "
			   "MRQC 0x05818, RETA 0x05c00, RSSRK 0x05c80, which every MAC of the "
			   "family decodes (ixgbe_regs.h)",
			   offset);
		return;
	}
	if (offset >= IXGBE_ERETA(0) && offset < IXGBE_ERETA(IXGBE_ERETA_REGS) &&
	    m->mac_type != MODEL_X550) {
		model_fail(m, "ERETA written on device 0x%04x: only the X550 has it", m->device_id);
		return;
	}
	if ((q = rx_queue_reg(offset, &which)) >= 0) {
		write_rx_queue_reg(m, q, which, value);
		return;
	}
	if ((q = tx_queue_reg(offset, &which)) >= 0) {
		write_tx_queue_reg(m, q, which, value);
		return;
	}
	*reg(m, offset) = value;
}

static bool access_ok(struct ixgbe_model *m, int bar, uint32_t offset, unsigned width)
{
	if (bar != 0 || width != 4 || offset % 4 != 0 || offset >= BAR0_SIZE) {
		model_fail(m, "bad register access: BAR%d offset 0x%x width %u", bar, offset,
			   width);
		return false;
	}
	return true;
}

static uint32_t hook_read(void *ctx, int bar, uint32_t offset, unsigned width)
{
	struct ixgbe_model *m = ctx;
	if (!access_ok(m, bar, offset, width))
		return 0xffffffffu;
	uint32_t value = model_read(m, offset);
	trace_access(m, offset, value, false);
	return value;
}

static void hook_write(void *ctx, int bar, uint32_t offset, uint32_t value, unsigned width)
{
	struct ixgbe_model *m = ctx;
	if (!access_ok(m, bar, offset, width))
		return;
	trace_access(m, offset, value, true);
	model_write(m, offset, value);
}

static const struct pci_bar_hook model_hook = {
    .read = hook_read,
    .write = hook_write,
};

void ixgbe_model_pci_device(struct ixgbe_model *m, const char *addr, struct pci_device *pci)
{
	memset(pci, 0, sizeof(*pci));
	snprintf(pci->addr, sizeof(pci->addr), "%s", addr);
	pci->vendor_id = 0x8086;
	pci->device_id = m->device_id;
	pci->class_code = 0x020000; /* Ethernet controller */
	pci->numa_node = -1;
	pci->hook = &model_hook;
	pci->hook_ctx = m;
}

void ixgbe_model_set_tx_handler(struct ixgbe_model *m, ixgbe_model_tx_fn fn, void *ctx)
{
	m->tx_fn = fn;
	m->tx_ctx = ctx;
}

void ixgbe_model_hold_tx(struct ixgbe_model *m, bool hold)
{
	m->hold_tx = hold;
	if (!hold) {
		for (int q = 0; q < MODEL_QUEUES; q++)
			tx_process(m, q);
	}
}

const char *ixgbe_model_error(const struct ixgbe_model *m)
{
	return m->failed ? m->error : NULL;
}

void ixgbe_model_clear_error(struct ixgbe_model *m)
{
	m->failed = false;
	m->error[0] = '\0';
}

uint32_t ixgbe_model_peek(const struct ixgbe_model *m, uint32_t offset)
{
	if (offset == IXGBE_GORCL)
		return (uint32_t)m->gorc;
	if (offset == IXGBE_GORCH)
		return (uint32_t)(m->gorc >> 32);
	if (offset == IXGBE_GOTCL)
		return (uint32_t)m->gotc;
	if (offset == IXGBE_GOTCH)
		return (uint32_t)(m->gotc >> 32);
	return offset < BAR0_SIZE ? m->regs[offset / 4] : 0xffffffffu;
}

const struct ixgbe_model_access *ixgbe_model_trace(const struct ixgbe_model *m, size_t *count)
{
	*count = m->trace_len;
	return m->trace;
}

/* ---- Receive, 7.1 ---- */

uint32_t ixgbe_model_toeplitz(const uint8_t key[40], const uint8_t *input, size_t len)
{
	/* 7.1.2.8.1: for each input bit set, from the most significant bit of the first byte
	 * on, XOR in the 32 key bits starting at that bit's position. */
	uint32_t result = 0;
	uint32_t window =
	    (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			if (input[i] & (1u << b))
				result ^= window;
			size_t next_bit =
			    32 + i * 8 + (size_t)(7 - b); /* key bit entering window */
			uint32_t bit =
			    next_bit < 320 ? (key[next_bit / 8] >> (7 - next_bit % 8)) & 1 : 0;
			window = window << 1 | bit;
		}
	}
	return result;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RSS hash and type of a frame (7.1.2.8): the fields MRQC enables, hashed with the key in
 * RSSRK. Returns the RSS type (7.1.6.2), IXGBE_RSS_TYPE_NONE if nothing applies. */
static unsigned rss_hash(struct ixgbe_model *m, const uint8_t *frame, uint32_t len, uint32_t *hash)
{
	uint32_t mrqc = *reg(m, IXGBE_MRQC);
	uint8_t key[40];
	for (int i = 0; i < 40; i++)
		key[i] = (uint8_t)(*reg(m, IXGBE_RSSRK(i / 4)) >> (8 * (i % 4)));
	uint32_t l3 = 14;
	if (len >= 18 && be16(frame + 12) == 0x8100) /* an 802.1Q tag is skipped */
		l3 = 18;
	if (len < l3 + 20)
		return IXGBE_RSS_TYPE_NONE;
	uint16_t ethertype = be16(frame + l3 - 2);
	uint8_t input[36];
	const uint8_t *ip = frame + l3;
	uint8_t proto;
	size_t addr_len, l4;
	bool v4 = ethertype == 0x0800 && (ip[0] >> 4) == 4;
	bool v6 = ethertype == 0x86dd && (ip[0] >> 4) == 6 && len >= l3 + 40;
	if (v4) {
		proto = ip[9];
		addr_len = 4;
		memcpy(input, ip + 12, 8);
		l4 = l3 + (ip[0] & 0xf) * 4u;
		if (be16(ip + 6) & 0x3fff) /* a fragment (MF or offset): no ports */
			proto = 0;
	} else if (v6) {
		proto = ip[6]; /* extension headers are not parsed: no ports then */
		addr_len = 16;
		memcpy(input, ip + 8, 32);
		l4 = l3 + 40;
	} else {
		return IXGBE_RSS_TYPE_NONE;
	}
	size_t n = 2 * addr_len;
	bool ports = len >= l4 + 4;
	if (ports)
		memcpy(input + n, frame + l4, 4);
	unsigned type = IXGBE_RSS_TYPE_NONE;
	if (v4 && proto == 6 && ports && (mrqc & IXGBE_MRQC_TCP_IPV4))
		type = IXGBE_RSS_TYPE_TCP_IPV4;
	else if (v4 && proto == 17 && ports && (mrqc & IXGBE_MRQC_UDP_IPV4))
		type = IXGBE_RSS_TYPE_UDP_IPV4;
	else if (v6 && proto == 6 && ports && (mrqc & IXGBE_MRQC_TCP_IPV6))
		type = IXGBE_RSS_TYPE_TCP_IPV6;
	else if (v6 && proto == 17 && ports && (mrqc & IXGBE_MRQC_UDP_IPV6))
		type = IXGBE_RSS_TYPE_UDP_IPV6;
	if (type != IXGBE_RSS_TYPE_NONE) {
		n += 4;
	} else if (v4 && (mrqc & IXGBE_MRQC_IPV4)) {
		type = IXGBE_RSS_TYPE_IPV4;
	} else if (v6 && (mrqc & IXGBE_MRQC_IPV6)) {
		type = IXGBE_RSS_TYPE_IPV6;
	} else {
		return IXGBE_RSS_TYPE_NONE;
	}
	*hash = ixgbe_model_toeplitz(key, input, n);
	return type;
}

/* L2 filtering, 7.1.1: exact unicast matches in RAL/RAH, broadcast with BAM, promiscuous
 * modes. The multicast table (MTA) is not modelled: multicast passes only with MPE. */
static bool l2_accept(struct ixgbe_model *m, const uint8_t *dst)
{
	uint32_t fctrl = *reg(m, IXGBE_FCTRL);
	static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (memcmp(dst, broadcast, 6) == 0)
		return fctrl & IXGBE_FCTRL_BAM;
	if (dst[0] & 1)
		return fctrl & IXGBE_FCTRL_MPE;
	if (fctrl & IXGBE_FCTRL_UPE)
		return true;
	uint32_t ral =
	    dst[0] | (uint32_t)dst[1] << 8 | (uint32_t)dst[2] << 16 | (uint32_t)dst[3] << 24;
	uint32_t rah = dst[4] | (uint32_t)dst[5] << 8;
	for (int i = 0; i < 128; i++) {
		uint32_t h = *reg(m, IXGBE_RAH(i));
		if ((h & IXGBE_RAH_AV) && (h & 0xffff) == rah && *reg(m, IXGBE_RAL(i)) == ral)
			return true;
	}
	return false;
}

int ixgbe_model_receive(struct ixgbe_model *m, const uint8_t *frame, uint32_t len, unsigned flags)
{
	if (m->in_reset || !(*reg(m, IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN) ||
	    !(*reg(m, IXGBE_LINKS) & IXGBE_LINKS_UP))
		return IXGBE_MODEL_RX_OFF;
	/* The MAC: FCS and length checks (8.2.3.23 counters). */
	if (flags & IXGBE_MODEL_RX_BAD_FCS) {
		*reg(m, IXGBE_CRCERRS) += 1;
		return IXGBE_MODEL_RX_ERROR;
	}
	bool tagged = len >= 14 && be16(frame + 12) == 0x8100;
	uint32_t max_len = IXGBE_MAX_FRAME_NO_JUMBO - IXGBE_FCS_LEN + (tagged ? 4 : 0);
	if (*reg(m, IXGBE_HLREG0) & IXGBE_HLREG0_JUMBOEN)
		max_len = (*reg(m, IXGBE_MAXFRS) >> 16) - IXGBE_FCS_LEN + (tagged ? 4 : 0);
	if (len < 64 - IXGBE_FCS_LEN) {
		*reg(m, IXGBE_RUC) += 1;
		return IXGBE_MODEL_RX_ERROR;
	}
	if (len > max_len) {
		*reg(m, IXGBE_ROC) += 1;
		return IXGBE_MODEL_RX_ERROR;
	}
	if (!l2_accept(m, frame))
		return IXGBE_MODEL_RX_FILTERED;
	*reg(m, IXGBE_GPRC) += 1;
	m->gorc += len + IXGBE_FCS_LEN;

	/* Queue: RSS through the redirection table (7.1.2.8), else queue 0. */
	uint32_t hash = 0;
	unsigned rss_type = IXGBE_RSS_TYPE_NONE;
	int q = 0;
	if ((*reg(m, IXGBE_MRQC) & IXGBE_MRQC_MRQE_MASK) == IXGBE_MRQC_MRQE_RSS) {
		rss_type = rss_hash(m, frame, len, &hash);
		if (rss_type != IXGBE_RSS_TYPE_NONE) {
			/* 82599/X540: 7 hash bits index 128 entries of 4 bits; X550: 9 bits, 512
			 * entries of 6 bits, 128..511 in ERETA (ixgbe_regs.h). */
			bool x550 = m->mac_type == MODEL_X550;
			unsigned entry =
			    hash & ((x550 ? IXGBE_X550_RETA_ENTRIES : IXGBE_RETA_ENTRIES) - 1);
			uint32_t r = entry < IXGBE_RETA_ENTRIES
					 ? *reg(m, IXGBE_RETA(entry / 4))
					 : *reg(m, IXGBE_ERETA(entry / 4 - IXGBE_RETA_REGS));
			q = (int)((r >> (8 * (entry % 4))) & (x550 ? 0x3f : 0xf));
		}
	}
	if (q >= MODEL_QUEUES || !m->rx_enabled[q])
		return IXGBE_MODEL_RX_QUEUE_OFF;

	/* A free descriptor is one between head and tail (8.2.3.8.4-5). */
	uint32_t size = *reg(m, IXGBE_RDLEN(q)) / 16;
	uint32_t head = *reg(m, IXGBE_RDH(q));
	if (head == *reg(m, IXGBE_RDT(q))) {
		if (*reg(m, IXGBE_SRRCTL(q)) & IXGBE_SRRCTL_DROP_EN)
			*reg(m, IXGBE_QPRDC(q)) += 1;
		else
			*reg(m, IXGBE_MPC(0)) += 1; /* the packet buffer overflows (simplified) */
		return IXGBE_MODEL_RX_MISSED;
	}
	uint32_t srrctl = *reg(m, IXGBE_SRRCTL(q));
	if ((srrctl & IXGBE_SRRCTL_DESCTYPE_MASK) != IXGBE_SRRCTL_DESCTYPE_ADV_ONE) {
		model_fail(m, "rx queue %d: only advanced one-buffer descriptors are modelled", q);
		return IXGBE_MODEL_RX_ERROR;
	}
	uint32_t buf_size = (srrctl & IXGBE_SRRCTL_BSIZEPKT_MASK) * IXGBE_SRRCTL_BSIZEPKT_UNIT;
	if (len > buf_size) {
		model_fail(m,
			   "rx queue %d: %u-byte frame, %u-byte buffers: frames over several "
			   "descriptors are not modelled",
			   q, len, buf_size);
		return IXGBE_MODEL_RX_ERROR;
	}
	uint64_t base = ring_base(m, IXGBE_RDBAL(q), IXGBE_RDBAH(q));
	union ixgbe_adv_rx_desc *desc =
	    model_dma(m, base + head * 16ull, sizeof(*desc), "rx descriptor");
	if (!desc)
		return IXGBE_MODEL_RX_ERROR;
	uint8_t *buf = model_dma(m, desc->read.pkt_addr, len, "rx buffer");
	if (!buf)
		return IXGBE_MODEL_RX_ERROR;
	memcpy(buf, frame, len);
	/* Write-back, 7.1.6.2: everything first, the status word with DD last. */
	desc->wb.pkt_info = (uint16_t)rss_type;
	desc->wb.hdr_info = 0;
	desc->wb.rss_hash = hash;
	desc->wb.length = (uint16_t)len;
	desc->wb.vlan = 0;
	__atomic_store_n(&desc->wb.status_error, IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP,
			 __ATOMIC_RELEASE);
	*reg(m, IXGBE_RDH(q)) = (head + 1) % size;
	*reg(m, 0x01030 + 0x40 * (uint32_t)q) += 1; /* QPRC */
	return q;
}
