/*
 * test_ixgbe_init: bringing the driver up on the model.
 *  - the register accesses follow the datasheet's order (4.6.3 steps 1-8, 4.6.7, 4.6.8):
 *    interrupts masked, global reset, EEPROM auto-read done seen, DMA init done seen, link
 *    set up, statistics read, rx ring base/length, SRRCTL, RXDCTL enable read back, RDT,
 *    tx ring, thresholds, DMATXCTL.TE, TXDCTL enable read back, then RXCTRL.RXEN;
 *  - link up at 10 Gbit/s; the MAC read back is the model's EEPROM address;
 *  - one and four queues: each ring enabled in the model with RDT = ring size - 1;
 *  - an X540 ID brings the link up without AUTOC (copper PHY); a port without cable opens with
 *    the link down; bad configurations are refused with EINVAL.
 */
#include <errno.h>

#include "ixgbe_regs.h"
#include "ixgbe_test.h"

/* Index of the first access matching (offset, write, value & mask == want) at or after from,
 * or SIZE_MAX. */
static size_t find(const struct ixgbe_model_access *t, size_t n, size_t from, uint32_t offset,
		   bool write, uint32_t mask, uint32_t want)
{
	for (size_t i = from; i < n; i++) {
		if (t[i].offset == offset && t[i].write == write && (t[i].value & mask) == want)
			return i;
	}
	return SIZE_MAX;
}

static void test_init_sequence(void)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device *dev = test_open(m, "model:init", NULL);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK_MODEL_OK(m);
	size_t n;
	const struct ixgbe_model_access *t = ixgbe_model_trace(m, &n);
	struct step {
		const char *what;
		uint32_t offset;
		bool write;
		uint32_t mask, want;
	} steps[] = {
	    {"4.6.3 step 1: EIMC masks all", IXGBE_EIMC, true, ~0u, IXGBE_EIMC_ALL},
	    {"step 2: CTRL.RST", IXGBE_CTRL, true, IXGBE_CTRL_RST, IXGBE_CTRL_RST},
	    {"step 2: reset done seen", IXGBE_CTRL, false, IXGBE_CTRL_RST, 0},
	    {"step 3: EEC.Auto_RD seen", IXGBE_EEC, false, IXGBE_EEC_AUTO_RD, IXGBE_EEC_AUTO_RD},
	    {"step 4: DMAIDONE seen", IXGBE_RDRXCTL, false, IXGBE_RDRXCTL_DMAIDONE,
	     IXGBE_RDRXCTL_DMAIDONE},
	    {"step 5: AUTOC restart AN", IXGBE_AUTOC, true, IXGBE_AUTOC_RESTART_AN,
	     IXGBE_AUTOC_RESTART_AN},
	    {"step 6: statistics read", IXGBE_GPRC, false, 0, 0},
	    {"4.6.7 step 3: RDBAL", IXGBE_RDBAL(0), true, 0, 0},
	    {"4.6.7 step 4: RDLEN", IXGBE_RDLEN(0), true, ~0u, 512 * 16},
	    {"4.6.7 step 5: SRRCTL", IXGBE_SRRCTL(0), true, IXGBE_SRRCTL_DESCTYPE_MASK,
	     IXGBE_SRRCTL_DESCTYPE_ADV_ONE},
	    {"4.6.7 step 8: RXDCTL.ENABLE", IXGBE_RXDCTL(0), true, IXGBE_RXDCTL_ENABLE,
	     IXGBE_RXDCTL_ENABLE},
	    {"4.6.7 step 9: enable read back", IXGBE_RXDCTL(0), false, IXGBE_RXDCTL_ENABLE,
	     IXGBE_RXDCTL_ENABLE},
	    {"4.6.7 step 10: RDT", IXGBE_RDT(0), true, ~0u, 511},
	    {"4.6.8 step 2: TDBAL", IXGBE_TDBAL(0), true, 0, 0},
	    {"4.6.8 step 3: TDLEN", IXGBE_TDLEN(0), true, ~0u, 512 * 16},
	    {"4.6.8 step 4: TXDCTL thresholds", IXGBE_TXDCTL(0), true, IXGBE_TXDCTL_ENABLE, 0},
	    {"4.6.8 step 6: DMATXCTL.TE", IXGBE_DMATXCTL, true, IXGBE_DMATXCTL_TE,
	     IXGBE_DMATXCTL_TE},
	    {"4.6.8 step 7: TXDCTL.ENABLE", IXGBE_TXDCTL(0), true, IXGBE_TXDCTL_ENABLE,
	     IXGBE_TXDCTL_ENABLE},
	    {"4.6.8 step 7: enable read back", IXGBE_TXDCTL(0), false, IXGBE_TXDCTL_ENABLE,
	     IXGBE_TXDCTL_ENABLE},
	    {"4.6.7 step 11: RXCTRL.RXEN", IXGBE_RXCTRL, true, IXGBE_RXCTRL_RXEN,
	     IXGBE_RXCTRL_RXEN},
	};
	size_t at = 0;
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		size_t found =
		    find(t, n, at, steps[i].offset, steps[i].write, steps[i].mask, steps[i].want);
		if (found == SIZE_MAX) {
			fprintf(stderr, "init order: \"%s\" missing or out of order\n",
				steps[i].what);
			check_failures++;
			continue;
		}
		at = found + 1;
	}
	/* Nothing but CTRL polls between the reset and its completion (the model would also
	 * have flagged it). */
	size_t rst = find(t, n, 0, IXGBE_CTRL, true, IXGBE_CTRL_RST, IXGBE_CTRL_RST);
	size_t done = find(t, n, rst, IXGBE_CTRL, false, IXGBE_CTRL_RST, 0);
	for (size_t i = rst + 1; i < done && i < n; i++)
		CHECK_EQ(t[i].offset, IXGBE_CTRL);
	/* The SFP+ link mode: 10 GbE serial (4.6.4, 8.2.3.22.19). */
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_AUTOC) & IXGBE_AUTOC_LMS_MASK,
		 IXGBE_AUTOC_LMS_10G_SERIAL);
	/* Descriptor ring addresses are DMA memory. */
	uint64_t rdba = ixgbe_model_peek(m, IXGBE_RDBAL(0)) |
			(uint64_t)ixgbe_model_peek(m, IXGBE_RDBAH(0)) << 32;
	CHECK(memory_iova_to_virt(rdba, 512 * 16) != NULL);

	struct ixy_link link;
	CHECK_EQ(ixy_get_link(dev, &link), 0);
	CHECK(link.up);
	CHECK_EQ(link.speed_mbps, 10000);
	uint8_t mac[6];
	CHECK_EQ(ixy_get_mac(dev, mac), 0);
	CHECK(memcmp(mac, test_mac, 6) == 0);
	CHECK(strcmp(dev->ops->driver_name, "ixgbe") == 0);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_queues(uint16_t queues)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device_config cfg = {
	    .rx_queues = queues, .tx_queues = queues, .rx_ring_size = 256, .tx_ring_size = 128};
	struct ixy_device *dev = test_open(m, "model:queues", &cfg);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK_EQ(dev->rx_queues, queues);
	CHECK_EQ(dev->tx_queues, queues);
	for (uint16_t q = 0; q < 16; q++) {
		bool used = q < queues;
		CHECK_EQ(!!(ixgbe_model_peek(m, IXGBE_RXDCTL(q)) & IXGBE_RXDCTL_ENABLE), used);
		CHECK_EQ(!!(ixgbe_model_peek(m, IXGBE_TXDCTL(q)) & IXGBE_TXDCTL_ENABLE), used);
		CHECK_EQ(ixgbe_model_peek(m, IXGBE_RDT(q)), used ? 255 : 0);
		CHECK_EQ(ixgbe_model_peek(m, IXGBE_RDLEN(q)), used ? 256 * 16 : 0);
		CHECK_EQ(ixgbe_model_peek(m, IXGBE_TDLEN(q)), used ? 128 * 16 : 0);
	}
	/* The redirection table uses exactly the configured queues. */
	bool seen[16] = {0};
	for (unsigned i = 0; i < IXGBE_RETA_REGS; i++) {
		uint32_t reta = ixgbe_model_peek(m, IXGBE_RETA(i));
		for (unsigned b = 0; b < 4; b++)
			seen[(reta >> (8 * b)) & 0xf] = true;
	}
	for (uint16_t q = 0; q < 16; q++)
		CHECK_EQ(seen[q], q < queues);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_x540_and_no_link(void)
{
	struct ixgbe_model *m = test_model(0x1528, NULL);
	struct ixy_device *dev = test_open(m, "model:x540", NULL);
	CHECK(dev != NULL);
	size_t n;
	const struct ixgbe_model_access *t = ixgbe_model_trace(m, &n);
	CHECK_EQ(find(t, n, 0, IXGBE_AUTOC, true, 0, 0), SIZE_MAX);
	struct ixy_link link = {0};
	if (dev)
		ixy_get_link(dev, &link);
	CHECK(link.up);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);

	struct ixgbe_model_config cfg = {.device_id = 0x10fb, .no_link = true};
	m = ixgbe_model_create(&cfg);
	dev = test_open(m, "model:nolink", NULL);
	CHECK(dev != NULL); /* a port without cable still opens */
	link.up = true;
	if (dev)
		ixy_get_link(dev, &link);
	CHECK(!link.up);
	CHECK_EQ(link.speed_mbps, 0);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_bad_config(void)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device_config bad[] = {
	    {.rx_queues = 17},	  {.tx_queues = 17},	  {.rx_ring_size = 100},
	    {.tx_ring_size = 32}, {.rx_ring_size = 8192},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		CHECK(test_open(m, "model:bad", &bad[i]) == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

int main(void)
{
	test_memory_setup();
	test_init_sequence();
	test_queues(1);
	test_queues(4);
	test_x540_and_no_link();
	test_bad_config();
	return check_report("test_ixgbe_init");
}
