/*
 * test_ixgbe_rxtx: 100,000 frames of every size from 60 to 1518 bytes (without FCS; those over
 * 1514 carry an 802.1Q tag, which the MAC allows 4 bytes more for) go out of the driver's tx
 * ring, through the model's wire looped back, into the rx ring: the rings (512 descriptors)
 * wrap about 200 times. Every frame arrives once, in order, with its length and bytes intact;
 * the counters agree; the caller's pool and the driver's rx pool end where they started.
 * Frames are sent from three offsets (the default, 8 bytes pushed into the headroom, 7 bytes
 * pulled: unaligned); every received buffer has its offset moved before it goes back to the
 * rx pool, and must come back at the default offset when it is received into again.
 */
#include "ixgbe_regs.h"
#include "ixgbe_test.h"

#define FRAMES	 100000
#define BATCH	 32
#define MIN_SIZE 60
#define MAX_SIZE 1518
#define RING	 512

struct loopback {
	struct ixgbe_model *model;
	uint32_t wire_frames;
	uint32_t wire_bad;
	uint64_t wire_bytes;
};

/* The wire: every frame sent comes back in, after checking it is the one we expected. */
static void on_tx(void *ctx, uint16_t queue, const uint8_t *frame, uint32_t len)
{
	struct loopback *lb = ctx;
	uint32_t seq = lb->wire_frames++;
	uint8_t want[MAX_SIZE];
	uint32_t want_len = MIN_SIZE + seq % (MAX_SIZE - MIN_SIZE + 1);
	test_frame(want, want_len, test_mac, seq);
	if (queue != 0 || len != want_len || memcmp(frame, want, len) != 0)
		lb->wire_bad++;
	lb->wire_bytes += len;
	if (ixgbe_model_receive(lb->model, frame, len, 0) != 0)
		lb->wire_bad++;
}

int main(void)
{
	test_memory_setup();
	struct loopback lb = {.model = test_model(0x10fb, NULL)};
	ixgbe_model_set_tx_handler(lb.model, on_tx, &lb);
	struct ixy_device_config cfg = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct ixy_device *dev = test_open(lb.model, "model:rxtx", &cfg);
	struct mempool *pool = mempool_create(1024, 2048);
	CHECK(dev != NULL && pool != NULL);
	if (!dev || !pool)
		return check_report("test_ixgbe_rxtx");

	uint32_t sent = 0, received = 0, bad = 0;
	uint64_t bytes = 0;
	struct mempool *rx_pool = NULL;
	while (received < FRAMES) {
		struct pkt_buf *bufs[BATCH];
		uint32_t n = MIN(BATCH, FRAMES - sent);
		n = pkt_buf_alloc_batch(pool, bufs, n);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t seq = sent + i;
			uint32_t len = MIN_SIZE + seq % (MAX_SIZE - MIN_SIZE + 1);
			if (seq % 3 == 0) {
				pkt_reset(bufs[i], len);
			} else if (seq % 3 == 1) {
				pkt_reset(bufs[i], len - 8);
				CHECK(pkt_push(bufs[i], 8) != NULL);
			} else {
				pkt_reset(bufs[i], len + 7);
				CHECK(pkt_pull(bufs[i], 7) != NULL);
			}
			test_frame(pkt_data(bufs[i]), bufs[i]->len, test_mac, seq);
		}
		uint32_t accepted = ixy_tx_batch(dev, 0, bufs, n);
		pkt_buf_free_batch(bufs + accepted, n - accepted);
		sent += accepted;

		uint32_t got = ixy_rx_batch(dev, 0, bufs, BATCH);
		for (uint32_t i = 0; i < got; i++) {
			uint32_t seq = received + i;
			uint32_t want_len = MIN_SIZE + seq % (MAX_SIZE - MIN_SIZE + 1);
			uint8_t want[MAX_SIZE];
			test_frame(want, want_len, test_mac, seq);
			if (bufs[i]->len != want_len || bufs[i]->data_off != PKT_BUF_DATA_OFF ||
			    memcmp(pkt_data(bufs[i]), want, want_len) != 0)
				bad++;
			bytes += bufs[i]->len;
			if (seq % 2) /* a stale offset for the next frame received into it */
				pkt_push(bufs[i], 4);
			else
				pkt_pull(bufs[i], 10);
			if (!rx_pool)
				rx_pool = bufs[i]->pool;
		}
		pkt_buf_free_batch(bufs, got);
		received += got;
		if (got == 0 && accepted == 0) {
			fprintf(stderr, "no progress after %u sent, %u received\n", sent, received);
			break; /* stuck: the checks below fail */
		}
	}
	CHECK_EQ(sent, FRAMES);
	CHECK_EQ(received, FRAMES);
	CHECK_EQ(bad, 0);
	CHECK_EQ(lb.wire_frames, FRAMES);
	CHECK_EQ(lb.wire_bad, 0);

	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.tx_packets, FRAMES);
	CHECK_EQ(st.rx_packets, FRAMES);
	CHECK_EQ(st.tx_bytes, lb.wire_bytes);
	CHECK_EQ(st.rx_bytes, bytes);
	CHECK_EQ(st.rx_dropped + st.rx_crc_errors + st.rx_length_errors, 0);

	/* Everything sent is reclaimed on request; every buffer is back. */
	ixy_tx_batch(dev, 0, NULL, 0);
	CHECK_EQ(mempool_free_count(pool), 1024);
	/* At rest the driver keeps RING - 1 buffers posted in its rx ring (one descriptor
	 * stays empty, RDH == RDT meaning none); the rest of its pool must be free. */
	ixy_rx_batch(dev, 0, NULL, 0);
	CHECK(rx_pool != NULL);
	if (rx_pool)
		CHECK_EQ(mempool_free_count(rx_pool), mempool_size(rx_pool) - (RING - 1));
	ixy_device_close(dev);
	mempool_free(pool);
	CHECK_MODEL_OK(lb.model);
	ixgbe_model_free(lb.model);
	return check_report("test_ixgbe_rxtx");
}
