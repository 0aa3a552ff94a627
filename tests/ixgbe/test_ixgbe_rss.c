/*
 * test_ixgbe_rss: RSS spreads flows over four receive queues as the datasheet's hash says.
 * Random UDP and TCP flows over IPv4 (seed printed; IXGBE_TEST_SEED=N repeats a run) arrive
 * at the model; each frame must come out of the queue the reference predicts: the Toeplitz
 * hash (checked against published vectors in test_ixgbe_model) of the flow with the RSS
 * specification's key, its 7 low bits indexing a round-robin redirection table (7.1.2.8).
 * Every buffer carries that hash, every flow stays on one queue, and each queue gets its
 * share (20-30% of 4000 flows).
 * Run on an 82599 and on an X550, whose table has 512 entries indexed by 9 hash bits (RETA
 * and ERETA): a driver that fills only RETA sends three quarters of the X550's flows to
 * queue 0, and the spread check fails.
 */
#include <time.h>

#include "ixgbe_regs.h"
#include "ixgbe_test.h"

#define FLOWS  4000
#define QUEUES 4

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* RSS on a model of device_id whose redirection table has table_entries entries. */
static void test_rss(uint16_t device_id, unsigned table_entries)
{
	printf("device 0x%04x, %u-entry table\n", device_id, table_entries);
	struct ixgbe_model *m = test_model(device_id, NULL);
	struct ixy_device_config cfg = {.rx_queues = QUEUES, .tx_queues = 1};
	struct ixy_device *dev = test_open(m, "model:rss", &cfg);
	CHECK(dev != NULL);
	if (!dev) {
		ixgbe_model_free(m);
		return;
	}

	unsigned per_queue[QUEUES] = {0};
	for (unsigned flow = 0; flow < FLOWS; flow++) {
		uint8_t f[128];
		test_frame(f, sizeof(f), test_mac, flow);
		bool tcp = rnd() & 1;
		uint8_t *ip = f + 14, *l4 = f + 34;
		ip[9] = tcp ? 6 : 17;
		uint32_t src = rnd(), dst = rnd(), ports = rnd();
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		memcpy(l4, &ports, 4);
		/* Reference: hash over src, dst, sport, dport (7.1.2.8.1). */
		uint8_t in[12];
		memcpy(in, ip + 12, 8);
		memcpy(in + 8, l4, 4);
		uint32_t hash = ixgbe_model_toeplitz(ms_key, in, 12);
		unsigned want_q = (hash & (table_entries - 1)) % QUEUES;
		/* The same flow twice: both copies on the same queue. */
		for (int copy = 0; copy < 2; copy++) {
			CHECK_EQ(ixgbe_model_receive(m, f, sizeof(f), 0), want_q);
			struct pkt_buf *bufs[4];
			unsigned got_total = 0;
			for (uint16_t q = 0; q < QUEUES; q++) {
				uint32_t got = ixy_rx_batch(dev, q, bufs, 4);
				got_total += got;
				if (copy == 0)
					per_queue[q] += got; /* where it arrived, not want_q */
				for (uint32_t i = 0; i < got; i++) {
					CHECK_EQ(q, want_q);
					CHECK_EQ(bufs[i]->rx_queue, q);
					CHECK_EQ(bufs[i]->rss_hash, hash);
					CHECK_EQ(bufs[i]->len, sizeof(f));
					CHECK(memcmp(pkt_data(bufs[i]), f, sizeof(f)) == 0);
				}
				pkt_buf_free_batch(bufs, got);
			}
			CHECK_EQ(got_total, 1);
		}
	}
	for (unsigned q = 0; q < QUEUES; q++) {
		printf("queue %u: %u flows\n", q, per_queue[q]);
		CHECK(per_queue[q] >= FLOWS / 5 && per_queue[q] <= FLOWS * 3 / 10);
	}
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

int main(void)
{
	test_memory_setup();
	const char *env = getenv("IXGBE_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	printf("test_ixgbe_rss: seed %llu\n", (unsigned long long)seed);
	rng_state = seed * 2654435761u + 1;
	test_rss(0x10fb, IXGBE_RETA_ENTRIES);	   /* 82599 */
	test_rss(0x1563, IXGBE_X550_RETA_ENTRIES); /* X550 */
	return check_report("test_ixgbe_rss");
}
