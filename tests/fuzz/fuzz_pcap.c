/*
 * fuzz_pcap: the pcap reader behind "pcap:PATH" ports (drivers/mem_ports.c) on arbitrary files.
 * Each input is written to one memfd and opened through /proc/self/fd, in IOVA = virtual mode
 * (no huge pages, no root). A refused file must leave errno set and nothing allocated
 * (LeakSanitizer checks); an accepted one must replay frames: two rx batches give buffers of
 * 1..capacity bytes, all returned before the port is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "memory.h"
#include "mempool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	REQUIRE(memory_configure(MEMORY_IOVA_VA, false) == 0);
	log_set_level(LOG_LEVEL_ERR);
	fd = memfd_create("fuzz_pcap", 0);
	REQUIRE(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(ftruncate(fd, 0) == 0);
	REQUIRE(pwrite(fd, data, size, 0) == (ssize_t)size);
	errno = 0;
	struct ixy_device *dev = pcap_port_open(path, NULL);
	if (!dev) {
		REQUIRE(errno != 0);
		return 0;
	}
	struct pkt_buf *bufs[64];
	for (int round = 0; round < 2; round++) {
		uint32_t n = ixy_rx_batch(dev, 0, bufs, 64);
		REQUIRE(n > 0); /* an accepted file has a frame, replayed in a loop */
		for (uint32_t i = 0; i < n; i++) {
			REQUIRE(bufs[i]->len > 0 &&
				bufs[i]->len <= mempool_data_capacity(bufs[i]->pool));
			pkt_buf_free(bufs[i]);
		}
	}
	ixy_device_close(dev);
	return 0;
}
