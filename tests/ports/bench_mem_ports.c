/*
 * bench_mem_ports: frames per second from a pcap port (replaying FILE) into a null port, one
 * thread, batches of 32, touching each frame's first cache line as a forwarder would. A figure
 * for docs, never pass/fail on time. Exit 77 when FILE is absent.
 * Usage: bench_mem_ports FILE [SECONDS]
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"
#include "ports_test.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [SECONDS]\n", argv[0]);
		return 2;
	}
	if (access(argv[1], R_OK) != 0) {
		printf("SKIP: %s not found\n", argv[1]);
		return 77;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	if (memory_configure(MEMORY_IOVA_VA, false) != 0)
		return 1;
	struct ixy_device *src = pcap_port_open(argv[1], NULL);
	struct ixy_device *dst = null_port_open("sink", NULL);
	if (!src || !dst)
		return 1;
	struct pkt_buf *bufs[32];
	uint64_t frames = 0;
	double t0 = now_s(), t;
	do {
		for (int round = 0; round < 1024; round++) {
			uint32_t n = ixy_rx_batch(src, 0, bufs, 32);
			for (uint32_t i = 0; i < n; i++)
				pkt_data(bufs[i])[0] ^= 0; /* read and write the first line */
			uint32_t sent = ixy_tx_batch(dst, 0, bufs, n);
			if (sent < n)
				pkt_buf_free_batch(bufs + sent, n - sent);
			frames += n;
		}
		t = now_s();
	} while (t - t0 < seconds);
	struct ixy_stats st;
	ixy_read_stats(dst, &st);
	printf("pcap -> null: %.2f Mpps, %.2f Gbit/s (%llu frames in %.2f s, batch 32, 1 thread)\n",
	       (double)frames / (t - t0) / 1e6, (double)st.tx_bytes * 8 / (t - t0) / 1e9,
	       (unsigned long long)frames, t - t0);
	port_close(src);
	port_close(dst);
	return 0;
}
