/*
 * test_ixgbe_control: the control path against the model's filters and counters.
 *  - promiscuous: a frame to another station is filtered with it off and received with it on
 *    (FCTRL.UPE/MPE), multicast likewise; off again filters again;
 *  - MAC set: get_mac returns the new address, RAL/RAH[0] hold it valid, frames to it are
 *    received and frames to the old one filtered;
 *  - counters: good rx/tx packets and bytes (without FCS), missed, CRC-error and length-error
 *    frames, each exactly; they accumulate across reads while the registers clear on read.
 */
#include "ixgbe_regs.h"
#include "ixgbe_test.h"

#define RING 64

/* Deliver one frame to dst; returns how many frames the driver then received (0 or 1). */
static uint32_t deliver(struct ixgbe_model *m, struct ixy_device *dev, const uint8_t dst[6])
{
	uint8_t f[80];
	test_frame(f, sizeof(f), dst, 1);
	ixgbe_model_receive(m, f, sizeof(f), 0);
	struct pkt_buf *bufs[4];
	uint32_t got = ixy_rx_batch(dev, 0, bufs, 4);
	pkt_buf_free_batch(bufs, got);
	return got;
}

static void test_promisc_and_mac(struct ixgbe_model *m, struct ixy_device *dev)
{
	static const uint8_t other[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CHECK(!dev->promisc);
	CHECK_EQ(deliver(m, dev, test_mac), 1);
	CHECK_EQ(deliver(m, dev, bcast), 1);
	CHECK_EQ(deliver(m, dev, other), 0);
	CHECK_EQ(deliver(m, dev, mcast), 0);
	CHECK_EQ(ixy_set_promisc(dev, true), 0);
	CHECK(dev->promisc);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_FCTRL) & (IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE),
		 IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	CHECK_EQ(deliver(m, dev, other), 1);
	CHECK_EQ(deliver(m, dev, mcast), 1);
	CHECK_EQ(ixy_set_promisc(dev, false), 0);
	CHECK(!dev->promisc);
	CHECK_EQ(deliver(m, dev, other), 0);
	CHECK_EQ(deliver(m, dev, mcast), 0);
	CHECK_EQ(deliver(m, dev, test_mac), 1);

	CHECK_EQ(ixy_set_mac(dev, other), 0);
	uint8_t mac[6];
	CHECK_EQ(ixy_get_mac(dev, mac), 0);
	CHECK(memcmp(mac, other, 6) == 0);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_RAL(0)), 0x33221102);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_RAH(0)), 0x5544 | IXGBE_RAH_AV);
	CHECK_EQ(deliver(m, dev, other), 1);
	CHECK_EQ(deliver(m, dev, test_mac), 0);
	CHECK(ixy_set_mac(dev, mcast) < 0); /* a group address is refused */
	CHECK_EQ(ixy_set_mac(dev, test_mac), 0);
	CHECK_EQ(deliver(m, dev, test_mac), 1);
}

static void test_counters(struct ixgbe_model *m, struct ixy_device *dev)
{
	struct ixy_stats base, st;
	ixy_read_stats(dev, &base);
	struct mempool *pool = mempool_create(64, 2048);
	/* 10 good frames of 100 bytes in, 7 of 200 out. */
	uint8_t f[1600];
	test_frame(f, 100, test_mac, 0);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 100, 0), 0);
	struct pkt_buf *bufs[16];
	uint32_t got = ixy_rx_batch(dev, 0, bufs, 16);
	CHECK_EQ(got, 10);
	pkt_buf_free_batch(bufs, got);
	uint32_t n = pkt_buf_alloc_batch(pool, bufs, 7);
	for (uint32_t i = 0; i < n; i++) {
		pkt_reset(bufs[i], 200);
		test_frame(pkt_data(bufs[i]), 200, test_mac, i);
	}
	CHECK_EQ(ixy_tx_batch(dev, 0, bufs, n), 7);
	/* 3 with a bad FCS, 2 runts, 1 giant (1600 > 1514 untagged). */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 100, IXGBE_MODEL_RX_BAD_FCS),
			 IXGBE_MODEL_RX_ERROR);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 50, 0), IXGBE_MODEL_RX_ERROR);
	test_frame(f, 1600, test_mac, 0);
	f[12] = 0x08, f[13] = 0x00; /* untagged */
	CHECK_EQ(ixgbe_model_receive(m, f, 1600, 0), IXGBE_MODEL_RX_ERROR);
	/* Fill the ring (RING - 1 posted), then 5 more are missed. */
	test_frame(f, 100, test_mac, 0);
	for (int i = 0; i < RING - 1; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 100, 0), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 100, 0), IXGBE_MODEL_RX_MISSED);

	ixy_read_stats(dev, &st);
	/* The model counts a missed frame as received by the MAC too (docs/ixgbe.md). */
	CHECK_EQ(st.rx_packets - base.rx_packets, 10 + RING - 1 + 5);
	CHECK_EQ(st.rx_bytes - base.rx_bytes, 100 * (10 + RING - 1 + 5));
	CHECK_EQ(st.tx_packets - base.tx_packets, 7);
	CHECK_EQ(st.tx_bytes - base.tx_bytes, 7 * 200);
	CHECK_EQ(st.rx_dropped - base.rx_dropped, 5);
	CHECK_EQ(st.rx_crc_errors - base.rx_crc_errors, 3);
	CHECK_EQ(st.rx_length_errors - base.rx_length_errors, 3);
	/* The hardware counters were cleared by that read ... */
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_GPRC), 0);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_CRCERRS), 0);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_GORCL), 0);
	/* ... and the driver's totals neither grow nor shrink on another read, */
	struct ixy_stats again;
	ixy_read_stats(dev, &again);
	CHECK(memcmp(&again, &st, sizeof(st)) == 0);
	/* but keep accumulating with new traffic. */
	got = ixy_rx_batch(dev, 0, bufs, 16);
	while (got) {
		pkt_buf_free_batch(bufs, got);
		got = ixy_rx_batch(dev, 0, bufs, 16);
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, 100, 0), 0);
	ixgbe_model_receive(m, f, 100, IXGBE_MODEL_RX_BAD_FCS);
	ixy_read_stats(dev, &again);
	CHECK_EQ(again.rx_packets, st.rx_packets + 4);
	CHECK_EQ(again.rx_bytes, st.rx_bytes + 400);
	CHECK_EQ(again.rx_crc_errors, st.rx_crc_errors + 1);
	got = ixy_rx_batch(dev, 0, bufs, 16);
	pkt_buf_free_batch(bufs, got);
	ixy_tx_batch(dev, 0, NULL, 0);
	CHECK_EQ(mempool_free_count(pool), 64);
	mempool_free(pool);
}

int main(void)
{
	test_memory_setup();
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device_config cfg = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct ixy_device *dev = test_open(m, "model:control", &cfg);
	CHECK(dev != NULL);
	if (dev) {
		test_promisc_and_mac(m, dev);
		test_counters(m, dev);
		ixy_device_close(dev);
	}
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
	return check_report("test_ixgbe_control");
}
