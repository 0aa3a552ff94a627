/*
 * bench_af_packet: AF_PACKET throughput over a veth pair. Opens af_packet:TX_IF in the current
 * network namespace and af_packet:RX_IF in namespace RX_NS (sockets keep the namespace they
 * were made in, so one process can hold both), then sends 60-byte frames as fast as TX_IF takes
 * them from one thread while another receives on RX_IF. Prints tx and rx frames/s; a figure,
 * never pass/fail. Run by af_packet_bench.sh. Usage: bench_af_packet TX_IF RX_NS RX_IF [SECONDS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"
#include "ports_test.h"

static volatile int stop;
static uint64_t rx_frames;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *rx_loop(void *arg)
{
	struct ixy_device *dev = arg;
	struct pkt_buf *bufs[32];
	uint64_t n = 0;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint32_t got = ixy_rx_batch(dev, 0, bufs, 32);
		pkt_buf_free_batch(bufs, got);
		n += got;
	}
	__atomic_store_n(&rx_frames, n, __ATOMIC_RELAXED); /* read after pthread_join */
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s TX_IF RX_NS RX_IF [SECONDS]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 4 ? atof(argv[4]) : 3.0;
	if (memory_configure(MEMORY_IOVA_VA, false) != 0)
		return 1;
	struct ixy_device *tx = af_packet_open(argv[1], NULL);
	char path[256];
	snprintf(path, sizeof(path), "/run/netns/%s", argv[2]);
	int ns = open(path, O_RDONLY);
	if (!tx || ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
		perror("open tx port or enter the rx namespace");
		return 1;
	}
	close(ns);
	struct ixy_device *rx = af_packet_open(argv[3], NULL);
	struct mempool *pool = mempool_create(4096, 0);
	if (!rx || !pool)
		return 1;
	uint8_t dst[6], src[6];
	ixy_get_mac(rx, dst);
	ixy_get_mac(tx, src);

	pthread_t thread;
	pthread_create(&thread, NULL, rx_loop, rx);
	struct pkt_buf *bufs[32];
	uint64_t sent = 0;
	double t0 = now_s(), t;
	do {
		for (int round = 0; round < 256; round++) {
			uint32_t n = pkt_buf_alloc_batch(pool, bufs, 32);
			for (uint32_t i = 0; i < n; i++) {
				pkt_reset(bufs[i], 60);
				pattern_frame(pkt_data(bufs[i]), 60, (uint32_t)(sent + i), dst,
					      src);
			}
			uint32_t took = ixy_tx_batch(tx, 0, bufs, n);
			pkt_buf_free_batch(bufs + took, n - took);
			sent += took;
		}
		t = now_s();
	} while (t - t0 < seconds);
	struct timespec settle = {0, 100 * 1000 * 1000};
	nanosleep(&settle, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	struct ixy_stats st;
	ixy_read_stats(rx, &st);
	printf("af_packet veth, 60-byte frames, batch 32: tx %.3f Mpps, rx %.3f Mpps "
	       "(%llu sent, %llu received, %llu dropped by the rx ring)\n",
	       (double)sent / (t - t0) / 1e6, (double)rx_frames / (t - t0) / 1e6,
	       (unsigned long long)sent, (unsigned long long)rx_frames,
	       (unsigned long long)st.rx_dropped);
	port_close(rx);
	port_close(tx);
	mempool_free(pool);
	return 0;
}
