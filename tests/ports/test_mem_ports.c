/*
 * test_mem_ports: the memory-backed ports, without root or huge pages.
 *  - null: rx gives nothing; tx takes everything, frees it (pool back to full) and counts
 *    packets and bytes exactly; MAC is locally administered unicast and can be set;
 *  - pcap: a file written here with known frames replays them in order, in a loop, with exact
 *    counters; microsecond and nanosecond files in either byte order and FCS-carrying files
 *    read the same;
 *    frames too long for a buffer are skipped; every rx queue replays the whole file;
 *  - bad files are refused with a clear errno: missing, too short, bad magic, wrong version,
 *    link type not Ethernet, a corrupt length, a truncated record, no frame at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "memory.h"
#include "ports_test.h"

#define NUM_FRAMES 6
static const uint32_t frame_lens[NUM_FRAMES] = {60, 14, 61, 100, 1514, 1000};
static uint8_t *frames[NUM_FRAMES];
static const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0xd5};
static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x5c};
static char tmpdir[] = "/tmp/ixyd-ports-XXXXXX";

static void make_frames(void)
{
	for (uint32_t i = 0; i < NUM_FRAMES; i++) {
		frames[i] = malloc(frame_lens[i]);
		pattern_frame(frames[i], frame_lens[i], i, dst_mac, src_mac);
	}
}

static const char *tmp_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void test_null_port(void)
{
	struct ixy_device *dev = null_port_open("sink", NULL);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK(strcmp(dev->ops->driver_name, "null") == 0);
	CHECK_EQ(dev->rx_queues, 1);
	struct mempool *pool = mempool_create(256, 0);
	CHECK(pool != NULL);
	struct pkt_buf *bufs[64];
	CHECK_EQ(ixy_rx_batch(dev, 0, bufs, 64), 0);

	uint64_t bytes = 0;
	uint32_t got = pkt_buf_alloc_batch(pool, bufs, 64);
	CHECK_EQ(got, 64);
	for (uint32_t i = 0; i < got; i++) {
		pkt_reset(bufs[i], 60 + i);
		bytes += 60 + i;
	}
	CHECK_EQ(ixy_tx_batch(dev, 0, bufs, got), 64);
	CHECK_EQ(mempool_free_count(pool), 256); /* tx freed every buffer */
	CHECK_EQ(ixy_tx_batch(dev, 0, bufs, 0), 0);

	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.tx_packets, 64);
	CHECK_EQ(st.tx_bytes, bytes);
	CHECK_EQ(st.rx_packets, 0);
	CHECK_EQ(st.rx_bytes, 0);

	struct ixy_link link;
	CHECK_EQ(ixy_get_link(dev, &link), 0);
	CHECK(link.up);
	uint8_t mac[6], mac2[6];
	CHECK_EQ(ixy_get_mac(dev, mac), 0);
	CHECK_EQ(mac[0] & 0x03, 0x02); /* locally administered, unicast */
	static const uint8_t new_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	CHECK_EQ(ixy_set_mac(dev, new_mac), 0);
	CHECK_EQ(ixy_get_mac(dev, mac2), 0);
	CHECK(memcmp(mac2, new_mac, 6) == 0);
	CHECK_EQ(ixy_set_promisc(dev, true), 0);
	CHECK(dev->promisc);
	port_close(dev);
	mempool_free(pool);

	/* Two ports get different MACs. */
	struct ixy_device *a = null_port_open("a", NULL), *b = null_port_open("b", NULL);
	CHECK(a && b);
	if (a && b) {
		CHECK_EQ(ixy_get_mac(a, mac), 0);
		CHECK_EQ(ixy_get_mac(b, mac2), 0);
		CHECK(memcmp(mac, mac2, 6) != 0);
	}
	port_close(a);
	port_close(b);

	errno = 0;
	CHECK(null_port_open("", NULL) == NULL && errno == EINVAL);
	struct ixy_device_config too_many = {.rx_queues = IXY_MAX_QUEUES + 1};
	errno = 0;
	CHECK(null_port_open("x", &too_many) == NULL && errno == EINVAL);
}

/* Receive `count` frames from queue in batches of `batch` and check they replay the file in
 * order starting at frame `first`. Returns the bytes received. */
static uint64_t expect_replay(struct ixy_device *dev, uint16_t queue, uint32_t first,
			      uint32_t count, uint32_t batch, uint32_t fcs_strip)
{
	struct pkt_buf *bufs[64];
	uint64_t bytes = 0;
	uint32_t seen = 0;
	while (seen < count) {
		uint32_t want = count - seen < batch ? count - seen : batch;
		uint32_t got = ixy_rx_batch(dev, queue, bufs, want);
		CHECK_EQ(got, want);
		if (got == 0)
			return bytes;
		for (uint32_t i = 0; i < got; i++, seen++) {
			uint32_t f = (first + seen) % NUM_FRAMES;
			uint32_t len = frame_lens[f] - fcs_strip;
			CHECK_EQ(bufs[i]->len, len);
			CHECK(bufs[i]->len == len &&
			      memcmp(pkt_data(bufs[i]), frames[f], len) == 0);
			/* Received at the default offset, whatever the buffer's last user left:
			 * move it before the buffer goes back to the pool and is received into
			 * again. */
			CHECK_EQ(bufs[i]->data_off, PKT_BUF_DATA_OFF);
			bytes += bufs[i]->len;
			if (seen % 2)
				CHECK(pkt_push(bufs[i], 8) != NULL);
			else
				CHECK(pkt_pull(bufs[i], 1) != NULL);
		}
		pkt_buf_free_batch(bufs, got);
	}
	return bytes;
}

static void test_pcap_replay(const char *what, const struct pcap_writer_opts *o)
{
	printf("pcap replay: %s\n", what);
	const char *path = tmp_path("known.pcap");
	CHECK_EQ(pcap_write(path, o, frames, frame_lens, NUM_FRAMES), 0);
	struct ixy_device *dev = pcap_port_open(path, NULL);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK(strcmp(dev->ops->driver_name, "pcap") == 0);
	CHECK(strcmp(dev->name, "known.pcap") == 0);
	/* Three and a half rounds in batches of 5: not a divisor of the 6 frames, so each of the
	 * three wraps falls inside a batch (frames 5|6, 11|12, 17|18), and the last batch is short.
	 */
	uint32_t count = NUM_FRAMES * 3 + 3;
	uint64_t bytes = expect_replay(dev, 0, 0, count, 5, 0);
	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.rx_packets, count);
	CHECK_EQ(st.rx_bytes, bytes);
	port_close(dev);
}

static void test_pcap_fcs(void)
{
	/* LinkType with P set and FCS len 2 (16-bit words) = 4 bytes of FCS per record. */
	struct pcap_writer_opts o = {
	    .magic = 0xa1b2c3d4, .linktype = 1 | 1u << 26 | 2u << 28, .fcs_bytes = 4};
	const char *path = tmp_path("fcs.pcap");
	CHECK_EQ(pcap_write(path, &o, frames, frame_lens, NUM_FRAMES), 0);
	struct ixy_device *dev = pcap_port_open(path, NULL);
	CHECK(dev != NULL);
	if (dev)
		expect_replay(dev, 0, 0, NUM_FRAMES, 32, 0); /* the FCS is gone */
	port_close(dev);
}

static void test_pcap_queues_and_long_frames(void)
{
	/* A 4000-byte frame does not fit a 2048-byte buffer: skipped; the rest replay. */
	uint8_t *with_long[NUM_FRAMES + 1];
	uint32_t lens[NUM_FRAMES + 1];
	uint8_t *big = calloc(1, 4000);
	with_long[0] = big;
	lens[0] = 4000;
	for (int i = 0; i < NUM_FRAMES; i++) {
		with_long[i + 1] = frames[i];
		lens[i + 1] = frame_lens[i];
	}
	struct pcap_writer_opts o = {.magic = 0xa1b2c3d4, .linktype = 1};
	const char *path = tmp_path("long.pcap");
	CHECK_EQ(pcap_write(path, &o, with_long, lens, NUM_FRAMES + 1), 0);
	struct ixy_device_config cfg = {.rx_queues = 2, .tx_queues = 3};
	struct ixy_device *dev = pcap_port_open(path, &cfg);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->rx_queues, 2);
		CHECK_EQ(dev->tx_queues, 3);
		expect_replay(dev, 0, 0, 2, 2, 0);
		expect_replay(dev, 1, 0, NUM_FRAMES + 1, 3, 0); /* own cursor, from the start */
		expect_replay(dev, 0, 2, 3, 3, 0);
		/* tx on the last queue frees and counts. */
		struct mempool *pool = mempool_create(64, 0);
		struct pkt_buf *bufs[8];
		CHECK_EQ(pkt_buf_alloc_batch(pool, bufs, 8), 8);
		for (int i = 0; i < 8; i++)
			pkt_reset(bufs[i], 100);
		CHECK_EQ(ixy_tx_batch(dev, 2, bufs, 8), 8);
		CHECK_EQ(mempool_free_count(pool), 64);
		struct ixy_stats st;
		ixy_read_stats(dev, &st);
		CHECK_EQ(st.rx_packets, 2 + NUM_FRAMES + 1 + 3);
		CHECK_EQ(st.tx_packets, 8);
		CHECK_EQ(st.tx_bytes, 800);
		mempool_free(pool);
	}
	port_close(dev);
	free(big);
}

/* Write raw bytes as a file. */
static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

static void expect_refused(const char *what, const char *path, int want_errno)
{
	errno = 0;
	struct ixy_device *dev = pcap_port_open(path, NULL);
	if (dev || errno != want_errno)
		fprintf(stderr, "refusing %s: got %p errno %d, want errno %d\n", what, (void *)dev,
			errno, want_errno);
	CHECK(dev == NULL);
	CHECK_EQ(errno, want_errno);
	port_close(dev);
}

static void test_pcap_refused(void)
{
	expect_refused("a missing file", tmp_path("does-not-exist.pcap"), ENOENT);
	errno = 0;
	CHECK(pcap_port_open("", NULL) == NULL && errno == EINVAL);

	/* A good file to corrupt in different ways. */
	struct pcap_writer_opts o = {.magic = 0xa1b2c3d4, .linktype = 1};
	const char *good = tmp_path("good.pcap");
	CHECK_EQ(pcap_write(good, &o, frames, frame_lens, NUM_FRAMES), 0);
	FILE *f = fopen(good, "rb");
	uint8_t data[8192];
	size_t size = f ? fread(data, 1, sizeof(data), f) : 0;
	if (f)
		fclose(f);
	CHECK(size > 24 + 16 * NUM_FRAMES);
	uint8_t copy[8192];
	const char *bad = tmp_path("bad.pcap");

	write_bytes(bad, data, 10);
	expect_refused("a header cut short", bad, EINVAL);

	memcpy(copy, data, size);
	memcpy(copy, "\x0a\x0d\x0d\x0a", 4); /* pcapng's section header block */
	write_bytes(bad, copy, size);
	expect_refused("a bad magic (pcapng)", bad, EINVAL);

	memcpy(copy, data, size);
	copy[4] = 3; /* major version 3 */
	write_bytes(bad, copy, size);
	expect_refused("version 3", bad, EINVAL);

	memcpy(copy, data, size);
	copy[20] = 101; /* LINKTYPE_RAW: IP without Ethernet */
	write_bytes(bad, copy, size);
	expect_refused("link type 101", bad, ENOTSUP);

	memcpy(copy, data, size);
	memcpy(copy + 24 + 8, "\xff\xff\xff\x7f", 4); /* first record: captured 0x7fffffff */
	write_bytes(bad, copy, size);
	expect_refused("a corrupt captured length", bad, EINVAL);

	write_bytes(bad, data, size - 7); /* last record's data cut off */
	expect_refused("a truncated last record", bad, EINVAL);

	write_bytes(bad, data, size - frame_lens[NUM_FRAMES - 1] - 5); /* record header cut */
	expect_refused("a truncated record header", bad, EINVAL);

	write_bytes(bad, data, 24); /* header only */
	expect_refused("a file without frames", bad, EINVAL);
}

int main(void)
{
	CHECK_EQ(memory_configure(MEMORY_IOVA_VA, false), 0);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	make_frames();
	test_null_port();
	struct pcap_writer_opts native = {.magic = 0xa1b2c3d4, .linktype = 1};
	test_pcap_replay("microseconds, this host's byte order", &native);
	struct pcap_writer_opts swapped = {.magic = 0xa1b2c3d4, .swapped = 1, .linktype = 1};
	test_pcap_replay("microseconds, other byte order", &swapped);
	struct pcap_writer_opts nsec = {.magic = 0xa1b23c4d, .linktype = 1};
	test_pcap_replay("nanoseconds, this host's byte order", &nsec);
	struct pcap_writer_opts nsec_swapped = {.magic = 0xa1b23c4d, .swapped = 1, .linktype = 1};
	test_pcap_replay("nanoseconds, other byte order", &nsec_swapped);
	test_pcap_fcs();
	test_pcap_queues_and_long_frames();
	test_pcap_refused();
	for (int i = 0; i < NUM_FRAMES; i++)
		free(frames[i]);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_report("test_mem_ports");
}
