/*
 * test_ixgbe_exhaustion: running out is handled, and nothing leaks.
 *  - full tx ring: with the wire stalled, tx accepts exactly ring size - 1 frames and then
 *    none (a prefix each time, the rest stays with the caller); once the wire moves, every
 *    frame goes out, and the caller's pool gets every buffer back;
 *  - exhausted rx pool: the caller keeps every received buffer; the driver hands out the whole
 *    pool and nothing more, frames meanwhile are counted as dropped; once the buffers come
 *    back, the ring fills again and receives, and the pool's free count is what it was.
 */
#include "ixgbe_regs.h"
#include "ixgbe_test.h"

#define RING 64
#define POOL 256

static uint32_t wire_frames;
static void on_tx(void *ctx, uint16_t queue, const uint8_t *frame, uint32_t len)
{
	(void)ctx, (void)queue, (void)frame, (void)len;
	wire_frames++;
}

static void test_full_tx_ring(void)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	ixgbe_model_set_tx_handler(m, on_tx, NULL);
	struct ixy_device_config cfg = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct ixy_device *dev = test_open(m, "model:txfull", &cfg);
	struct mempool *pool = mempool_create(POOL, 2048);
	CHECK(dev && pool);
	if (!dev || !pool)
		return;
	wire_frames = 0;
	ixgbe_model_hold_tx(m, true);
	uint32_t accepted = 0, calls = 0;
	for (;;) {
		struct pkt_buf *bufs[10];
		uint32_t n = pkt_buf_alloc_batch(pool, bufs, 10);
		for (uint32_t i = 0; i < n; i++) {
			pkt_reset(bufs[i], 60);
			test_frame(pkt_data(bufs[i]), 60, test_mac, accepted + i);
		}
		uint32_t took = ixy_tx_batch(dev, 0, bufs, n);
		pkt_buf_free_batch(bufs + took, n - took); /* the rest is still ours */
		accepted += took;
		calls++;
		if (took == 0)
			break;
		CHECK(calls < 100);
	}
	CHECK_EQ(accepted, RING - 1);
	CHECK_EQ(wire_frames, 0);
	CHECK_EQ(mempool_free_count(pool), POOL - (RING - 1));
	ixgbe_model_hold_tx(m, false);
	CHECK_EQ(wire_frames, RING - 1);
	ixy_tx_batch(dev, 0, NULL, 0); /* reclaim everything sent */
	CHECK_EQ(mempool_free_count(pool), POOL);
	/* And the ring works on afterwards. */
	for (int round = 0; round < 10; round++) {
		struct pkt_buf *bufs[50];
		uint32_t n = pkt_buf_alloc_batch(pool, bufs, 50);
		for (uint32_t i = 0; i < n; i++)
			pkt_reset(bufs[i], 100);
		uint32_t took = ixy_tx_batch(dev, 0, bufs, n);
		CHECK_EQ(took, n);
		pkt_buf_free_batch(bufs + took, n - took);
	}
	CHECK_EQ(wire_frames, RING - 1 + 500);
	ixy_tx_batch(dev, 0, NULL, 0);
	CHECK_EQ(mempool_free_count(pool), POOL);
	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.tx_packets, RING - 1 + 500);
	ixy_device_close(dev);
	mempool_free(pool);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_exhausted_rx_pool(void)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device_config cfg = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct ixy_device *dev = test_open(m, "model:rxpool", &cfg);
	CHECK(dev != NULL);
	if (!dev)
		return;
	uint8_t f[60];
	test_frame(f, sizeof(f), test_mac, 0);

	static struct pkt_buf *held[4 * POOL];
	uint32_t n_held = 0, missed = 0, delivered = 0;
	struct mempool *rx_pool = NULL;
	uint32_t pool_size = 0;
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 16; i++) {
			int r = ixgbe_model_receive(m, f, sizeof(f), 0);
			if (r == IXGBE_MODEL_RX_MISSED)
				missed++;
			else
				CHECK_EQ(r, 0);
			delivered += r == 0;
		}
		uint32_t got = ixy_rx_batch(dev, 0, held + n_held, 16);
		if (got && !rx_pool) {
			rx_pool = held[0]->pool;
			pool_size = mempool_size(rx_pool);
		}
		n_held += got;
		CHECK(n_held <= ARRAY_SIZE(held) - 16);
	}
	CHECK(rx_pool != NULL);
	if (!rx_pool)
		return;
	/* At rest the driver keeps RING - 1 buffers posted (one descriptor stays empty, RDH ==
	 * RDT meaning none); the rest of its pool is free. */
	const uint32_t start_free = pool_size - (RING - 1);
	/* The driver handed out its whole pool and has nothing posted; the rest was dropped. */
	CHECK_EQ(n_held, pool_size);
	CHECK_EQ(delivered, n_held);
	CHECK_EQ(mempool_free_count(rx_pool), 0);
	CHECK(missed > 0);
	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.rx_dropped, missed);

	/* Buffers come back: the ring refills on the next poll and receives again. */
	pkt_buf_free_batch(held, n_held);
	n_held = 0;
	CHECK_EQ(ixy_rx_batch(dev, 0, held, 16), 0);
	CHECK_EQ(mempool_free_count(rx_pool), start_free);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(ixgbe_model_receive(m, f, sizeof(f), 0), 0);
	uint32_t got = ixy_rx_batch(dev, 0, held, 16);
	CHECK_EQ(got, 10);
	pkt_buf_free_batch(held, got);
	ixy_rx_batch(dev, 0, held, 0);
	CHECK_EQ(mempool_free_count(rx_pool), start_free);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

int main(void)
{
	test_memory_setup();
	test_full_tx_ring();
	test_exhausted_rx_pool();
	return check_report("test_ixgbe_exhaustion");
}
