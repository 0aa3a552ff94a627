/*
 * test_ixgbe_model: the model itself, before any driver test relies on it.
 *  - its Toeplitz hash reproduces the published RSS verification values (Microsoft's RSS
 *    specification, "Verifying the RSS Hash Calculation", also 82599 datasheet 7.1.2.8.1);
 *  - it catches misuse loudly: a register touched during reset, a ring enabled before its
 *    base and length are set, a tail beyond the ring, DMA outside memory the driver
 *    allocated.
 */
#include <string.h>

#include "ixgbe_regs.h"
#include "ixgbe_test.h"
#include "pci.h"

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct rss_vector {
	uint8_t dst[4];
	uint16_t dst_port;
	uint8_t src[4];
	uint16_t src_port;
	uint32_t hash_ip;
	uint32_t hash_tcp;
};

static const struct rss_vector vectors[] = {
    {{161, 142, 100, 80}, 1766, {66, 9, 149, 187}, 2794, 0x323e8fc2, 0x51ccc178},
    {{65, 69, 140, 83}, 4739, {199, 92, 111, 2}, 14230, 0xd718262a, 0xc626b0ea},
    {{12, 22, 207, 184}, 38024, {24, 19, 198, 95}, 12898, 0xd2d0a5de, 0x5c2b394a},
    {{209, 142, 163, 6}, 2217, {38, 27, 205, 30}, 48228, 0x82989176, 0xafc7327f},
    {{202, 188, 127, 2}, 1303, {153, 39, 163, 191}, 44251, 0x5d1809c5, 0x10e828a2},
};

static void test_toeplitz_vectors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		const struct rss_vector *v = &vectors[i];
		/* Input order: source address, destination address, source port, dest port. */
		uint8_t in[12];
		memcpy(in, v->src, 4);
		memcpy(in + 4, v->dst, 4);
		in[8] = (uint8_t)(v->src_port >> 8), in[9] = (uint8_t)v->src_port;
		in[10] = (uint8_t)(v->dst_port >> 8), in[11] = (uint8_t)v->dst_port;
		CHECK_EQ(ixgbe_model_toeplitz(ms_key, in, 8), v->hash_ip);
		CHECK_EQ(ixgbe_model_toeplitz(ms_key, in, 12), v->hash_tcp);
	}
}

static void expect_error(struct ixgbe_model *m, const char *substring)
{
	const char *err = ixgbe_model_error(m);
	CHECK(err != NULL);
	if (err && !strstr(err, substring)) {
		fprintf(stderr, "expected a misuse about \"%s\", got \"%s\"\n", substring, err);
		check_failures++;
	}
	ixgbe_model_clear_error(m);
}

/* Enable receive as the datasheet orders it (CRC strip agreeing with HLREG0, the security
 * block paused around RXEN: 4.6.7) and bring the link up. */
static void rx_enable_link_up(const struct pci_bar *bar)
{
	pci_bar_write32(bar, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_DRV_LOAD);
	pci_bar_write32(bar, IXGBE_RDRXCTL, IXGBE_RDRXCTL_CRCSTRIP);
	pci_bar_write32(bar, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	pci_bar_write32(bar, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	pci_bar_write32(bar, IXGBE_SECRXCTRL, 0);
	pci_bar_write32(bar, IXGBE_AUTOC, IXGBE_AUTOC_RESTART_AN);
	while (!(pci_bar_read32(bar, IXGBE_LINKS) & IXGBE_LINKS_UP))
		;
}

/* Reset the model through its BAR and wait for the reset to finish, as a driver would: DMA
 * stopped first (master disable, 5.2.5.3.2). */
static void reset(const struct pci_bar *bar)
{
	pci_bar_write32(bar, IXGBE_CTRL, IXGBE_CTRL_MASTER_DISABLE);
	while (pci_bar_read32(bar, IXGBE_STATUS) & IXGBE_STATUS_MASTER_ENABLE)
		;
	pci_bar_write32(bar, IXGBE_CTRL, IXGBE_CTRL_RST);
	while (pci_bar_read32(bar, IXGBE_CTRL) & IXGBE_CTRL_RST)
		;
}

static void test_misuse(void)
{
	struct ixgbe_model *m = test_model(0, NULL);
	struct pci_device pci;
	struct pci_bar bar;
	ixgbe_model_pci_device(m, "model:0", &pci);
	CHECK_EQ(pci_map_bar(&pci, 0, &bar), 0);

	/* A register touched during reset. */
	pci_bar_write32(&bar, IXGBE_CTRL, IXGBE_CTRL_RST);
	(void)pci_bar_read32(&bar, IXGBE_STATUS);
	expect_error(m, "during reset");
	pci_bar_write32(&bar, IXGBE_EIMC, IXGBE_EIMC_ALL);
	expect_error(m, "during reset");
	while (pci_bar_read32(&bar, IXGBE_CTRL) & IXGBE_CTRL_RST)
		;
	CHECK_MODEL_OK(m);

	/* A ring enabled before its base and length are set; the enable bit does not latch. */
	pci_bar_write32(&bar, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	expect_error(m, "before its base and length");
	for (int i = 0; i < 5; i++)
		CHECK_EQ(pci_bar_read32(&bar, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE, 0);
	pci_bar_write32(&bar, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
	pci_bar_write32(&bar, IXGBE_TXDCTL(1), IXGBE_TXDCTL_ENABLE);
	expect_error(m, "before its base and length");

	/* A ring outside memory the driver allocated. */
	static union ixgbe_adv_rx_desc not_dma[64] __attribute__((aligned(128)));
	pci_bar_write32(&bar, IXGBE_RDBAL(0), (uint32_t)(uintptr_t)not_dma);
	pci_bar_write32(&bar, IXGBE_RDBAH(0), (uint32_t)((uintptr_t)not_dma >> 32));
	pci_bar_write32(&bar, IXGBE_RDLEN(0), sizeof(not_dma));
	pci_bar_write32(&bar, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	expect_error(m, "outside memory the driver allocated");

	/* A proper ring; then a tail beyond it. */
	reset(&bar);
	struct dma_region ring;
	CHECK_EQ(dma_alloc(64 * 16, true, &ring), 0);
	pci_bar_write32(&bar, IXGBE_RDBAL(0), (uint32_t)ring.iova);
	pci_bar_write32(&bar, IXGBE_RDBAH(0), (uint32_t)(ring.iova >> 32));
	pci_bar_write32(&bar, IXGBE_RDLEN(0), 64 * 16);
	pci_bar_write32(&bar, IXGBE_SRRCTL(0), IXGBE_SRRCTL_DESCTYPE_ADV_ONE | 2);
	pci_bar_write32(&bar, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	CHECK_MODEL_OK(m);
	pci_bar_write32(&bar, IXGBE_RDT(0), 1);
	expect_error(m, "before RXDCTL.ENABLE read back");
	while (!(pci_bar_read32(&bar, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE))
		;
	pci_bar_write32(&bar, IXGBE_RDT(0), 64);
	expect_error(m, "beyond the ring");

	/* A buffer address outside driver memory, found when a frame arrives. */
	static uint8_t not_dma_buf[2048];
	union ixgbe_adv_rx_desc *desc = ring.virt;
	desc[0].read.pkt_addr = (uintptr_t)not_dma_buf;
	pci_bar_write32(&bar, IXGBE_RDT(0), 1);
	rx_enable_link_up(&bar);
	CHECK_MODEL_OK(m);
	uint8_t frame[64];
	test_frame(frame, sizeof(frame), test_mac, 1);
	CHECK(ixgbe_model_receive(m, frame, sizeof(frame), 0) < 0);
	expect_error(m, "outside memory the driver allocated");

	/* A reset while DMA is enabled, without master disable (5.2.5.3.2). */
	pci_bar_write32(&bar, IXGBE_CTRL, IXGBE_CTRL_RST);
	expect_error(m, "without master disable");
	while (pci_bar_read32(&bar, IXGBE_CTRL) & IXGBE_CTRL_RST)
		;

	/* Receive enabled with HLREG0.RXCRCSTRP and RDRXCTL.CRCStrip disagreeing (4.6.7). */
	reset(&bar);
	pci_bar_write32(&bar, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_DRV_LOAD);
	pci_bar_write32(&bar, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	pci_bar_write32(&bar, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	expect_error(m, "CRCStrip");

	/* Receive enabled before the driver took the port from firmware (DRV_LOAD). */
	reset(&bar);
	pci_bar_write32(&bar, IXGBE_CTRL_EXT, 0);
	pci_bar_write32(&bar, IXGBE_RDRXCTL, IXGBE_RDRXCTL_CRCSTRIP);
	pci_bar_write32(&bar, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	pci_bar_write32(&bar, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	expect_error(m, "DRV_LOAD");

	/* More receive packet buffer than the 82599 has (512 KB). */
	reset(&bar);
	pci_bar_write32(&bar, IXGBE_RXPBSIZE(1), 1u << IXGBE_PBSIZE_SHIFT);
	rx_enable_link_up(&bar);
	expect_error(m, "receive packet buffer");

	/* RSS registers at the 82599 map's own addresses, ERETA on a MAC without it. */
	reset(&bar);
	pci_bar_write32(&bar, IXGBE_MRQC_ALT, IXGBE_MRQC_MRQE_RSS);
	expect_error(m, "0x0ec80");
	pci_bar_write32(&bar, IXGBE_RETA_ALT(31), 0);
	expect_error(m, "0x0eb7c");
	pci_bar_write32(&bar, IXGBE_RSSRK_ALT(0), 0);
	expect_error(m, "0x0eb80");
	pci_bar_write32(&bar, IXGBE_ERETA(0), 0);
	expect_error(m, "only the X550");
	/* AUTOC is the 82599's; an X540 flags it. */
	struct ixgbe_model *x540 = test_model(0x1528, NULL);
	struct pci_device pci540;
	struct pci_bar bar540;
	ixgbe_model_pci_device(x540, "model:x540", &pci540);
	CHECK_EQ(pci_map_bar(&pci540, 0, &bar540), 0);
	pci_bar_write32(&bar540, IXGBE_AUTOC, IXGBE_AUTOC_RESTART_AN);
	expect_error(x540, "not an 82599");
	pci_unmap_bar(&bar540);
	ixgbe_model_free(x540);

	/* Statistics clear on read: a frame received properly counts once in GPRC, and the
	 * read that reports it clears it. */
	reset(&bar);
	struct dma_region buf;
	CHECK_EQ(dma_alloc(2048, true, &buf), 0);
	memset(ring.virt, 0, 64 * 16);
	desc[0].read.pkt_addr = buf.iova;
	pci_bar_write32(&bar, IXGBE_RDBAL(0), (uint32_t)ring.iova);
	pci_bar_write32(&bar, IXGBE_RDBAH(0), (uint32_t)(ring.iova >> 32));
	pci_bar_write32(&bar, IXGBE_RDLEN(0), 64 * 16);
	pci_bar_write32(&bar, IXGBE_SRRCTL(0), IXGBE_SRRCTL_DESCTYPE_ADV_ONE | 2);
	pci_bar_write32(&bar, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	while (!(pci_bar_read32(&bar, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE))
		;
	pci_bar_write32(&bar, IXGBE_RDT(0), 1);
	rx_enable_link_up(&bar);
	CHECK_EQ(ixgbe_model_receive(m, frame, sizeof(frame), 0), 0);
	CHECK_MODEL_OK(m);
	CHECK_EQ(pci_bar_read32(&bar, IXGBE_GPRC), 1);
	CHECK_EQ(pci_bar_read32(&bar, IXGBE_GPRC), 0);
	dma_free(&buf);
	dma_free(&ring);
	pci_unmap_bar(&bar);
	ixgbe_model_free(m);
}

int main(void)
{
	test_memory_setup();
	test_toeplitz_vectors();
	test_misuse();
	return check_report("test_ixgbe_model");
}
