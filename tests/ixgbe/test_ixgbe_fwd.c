/*
 * test_ixgbe_fwd: ixy-fwd's forwarding step (tools/ixy-fwd/fwd.h, the code ixy-fwd runs)
 * between two model NICs, in both directions at once. Frames arriving at port A must leave
 * port B unchanged and in order, and the other way round; nothing is dropped; all buffers
 * return to their pools, and neither model saw misuse.
 */
#include "fwd.h"
#include "ixgbe_regs.h"
#include "ixgbe_test.h"

#define FRAMES 20000
#define BATCH  32
#define RING   512

struct wire {
	uint32_t frames; /* frames that left this port */
	uint32_t bad;	 /* ... that were not the next expected one */
	uint32_t seq_base;
};

static void on_tx(void *ctx, uint16_t queue, const uint8_t *frame, uint32_t len)
{
	struct wire *w = ctx;
	uint32_t seq = w->seq_base + w->frames++;
	uint8_t want[1514];
	uint32_t want_len = 60 + seq % 1455;
	test_frame(want, want_len, test_mac, seq);
	if (queue != 0 || len != want_len || memcmp(frame, want, len) != 0)
		w->bad++;
}

int main(void)
{
	test_memory_setup();
	static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x82, 0x5a};
	struct ixgbe_model *ma = test_model(0x10fb, test_mac), *mb = test_model(0x10fb, mac_b);
	/* Frames into A are numbered from 0, frames into B from 1000000. */
	struct wire out_a = {.seq_base = 1000000}, out_b = {.seq_base = 0};
	ixgbe_model_set_tx_handler(ma, on_tx, &out_a);
	ixgbe_model_set_tx_handler(mb, on_tx, &out_b);
	struct ixy_device_config cfg = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct ixy_device *a = test_open(ma, "model:a", &cfg);
	struct ixy_device *b = test_open(mb, "model:b", &cfg);
	CHECK(a && b);
	if (!a || !b)
		return check_report("test_ixgbe_fwd");
	ixy_set_promisc(a, true);
	ixy_set_promisc(b, true);

	uint64_t dropped = 0;
	uint32_t in = 0, forwarded_ab = 0, forwarded_ba = 0;
	struct pkt_buf *bufs[BATCH];
	/* Each device's rx pool, from the first buffer it hands out (pool is fixed for the
	 * buffer's life, so reading it after the buffer went on is fine). */
	struct mempool *pool_a = NULL, *pool_b = NULL;
	while (in < FRAMES || forwarded_ab < FRAMES || forwarded_ba < FRAMES) {
		for (int i = 0; i < 24 && in < FRAMES; i++, in++) {
			uint8_t f[1514];
			uint32_t len = 60 + in % 1455;
			test_frame(f, len, test_mac, in);
			CHECK_EQ(ixgbe_model_receive(ma, f, len, 0), 0);
			uint32_t seq_b = 1000000 + in;
			len = 60 + seq_b % 1455;
			test_frame(f, len, test_mac, seq_b);
			CHECK_EQ(ixgbe_model_receive(mb, f, len, 0), 0);
		}
		uint32_t ab = fwd_forward_batch(a, 0, b, 0, bufs, BATCH, &dropped);
		if (ab && !pool_a)
			pool_a = bufs[0]->pool;
		uint32_t ba = fwd_forward_batch(b, 0, a, 0, bufs, BATCH, &dropped);
		if (ba && !pool_b)
			pool_b = bufs[0]->pool;
		forwarded_ab += ab;
		forwarded_ba += ba;
		if (in == FRAMES && ab == 0 && ba == 0)
			break;
	}
	CHECK_EQ(forwarded_ab, FRAMES);
	CHECK_EQ(forwarded_ba, FRAMES);
	CHECK_EQ(dropped, 0);
	CHECK_EQ(out_b.frames, FRAMES);
	CHECK_EQ(out_b.bad, 0);
	CHECK_EQ(out_a.frames, FRAMES);
	CHECK_EQ(out_a.bad, 0);
	struct ixy_stats sa, sb;
	ixy_read_stats(a, &sa);
	ixy_read_stats(b, &sb);
	CHECK_EQ(sa.rx_packets, FRAMES);
	CHECK_EQ(sa.tx_packets, FRAMES);
	CHECK_EQ(sb.rx_packets, FRAMES);
	CHECK_EQ(sb.tx_packets, FRAMES);
	CHECK_EQ(sa.rx_bytes, sb.tx_bytes);
	CHECK_EQ(sb.rx_bytes, sa.tx_bytes);
	/* Each tx ring holds the other port's buffers until reclaimed: reclaim both before
	 * closing, so neither device frees into a pool already gone. */
	ixy_tx_batch(a, 0, NULL, 0);
	ixy_tx_batch(b, 0, NULL, 0);
	/* Every buffer is back: each pool is free but for the RING - 1 buffers its driver keeps
	 * posted in the rx ring (one descriptor stays empty). All the work ran on this thread,
	 * so the counts are exact (mempool_free_count() counts this thread's cache as free). */
	CHECK(pool_a != NULL && pool_b != NULL && pool_a != pool_b);
	if (pool_a && pool_b) {
		CHECK_EQ(mempool_free_count(pool_a), mempool_size(pool_a) - (RING - 1));
		CHECK_EQ(mempool_free_count(pool_b), mempool_size(pool_b) - (RING - 1));
	}
	ixy_device_close(a);
	ixy_device_close(b);
	CHECK_MODEL_OK(ma);
	CHECK_MODEL_OK(mb);
	ixgbe_model_free(ma);
	ixgbe_model_free(mb);
	return check_report("test_ixgbe_fwd");
}
