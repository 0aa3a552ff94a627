/*
 * ixy-pktgen: send numbered UDP/IPv4 frames as fast as a port takes them (docs/tools.md).
 *
 * Every buffer of the pool is written once with the whole frame at start-up; buffers keep their
 * content when they come back to the pool, so per frame only the sequence number changes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "mempool.h"
#include "tool.h"

#define PKTGEN_BATCH	 32
#define PKTGEN_POOL_BUFS 1024 /* tx ring plus a batch, with room to spare: one huge page */
#define PKTGEN_MIN_SIZE	 60   /* the Ethernet minimum without FCS */
#define PKTGEN_MAX_SIZE	 1514 /* 1500-byte MTU plus the Ethernet header */

/* Frame layout (offsets in bytes). */
#define ETH_HDR_LEN 14
#define IP_HDR_LEN  20
#define UDP_HDR_LEN 8
#define OFF_IP	    ETH_HDR_LEN
#define OFF_UDP	    (OFF_IP + IP_HDR_LEN)
#define OFF_PAYLOAD (OFF_UDP + UDP_HDR_LEN)
#define OFF_SEQ	    (OFF_PAYLOAD + 4) /* after the "IXYG" magic */
static_assert(OFF_SEQ + 8 <= PKTGEN_MIN_SIZE, "magic and sequence fit the smallest frame");

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Internet checksum of an IPv4 header (RFC 791 3.1, computed as RFC 1071 describes). */
static uint16_t ipv4_checksum(const uint8_t *hdr, unsigned len)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < len; i += 2)
		sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The frame of docs/tools.md with sequence number 0; size bytes, without FCS. */
static void build_frame(uint8_t *f, uint32_t size, const uint8_t dst[ETHER_ADDR_LEN],
			const uint8_t src[ETHER_ADDR_LEN])
{
	memset(f, 0, size);
	memcpy(f, dst, ETHER_ADDR_LEN);
	memcpy(f + 6, src, ETHER_ADDR_LEN);
	put_be16(f + 12, 0x0800); /* IPv4 */

	/* IPv4 header (RFC 791 3.1): version 4 and 5 words of header, total length, TTL 64,
	 * protocol 17 (UDP), addresses, then the header checksum over all of it. */
	uint8_t *ip = f + OFF_IP;
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(size - ETH_HDR_LEN));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (const uint8_t[]){10, 0, 0, 1}, 4);
	memcpy(ip + 16, (const uint8_t[]){10, 0, 0, 2}, 4);
	put_be16(ip + 10, ipv4_checksum(ip, IP_HDR_LEN));

	uint8_t *udp = f + OFF_UDP; /* RFC 768 */
	put_be16(udp + 0, 42);
	put_be16(udp + 2, 1234);
	put_be16(udp + 4, (uint16_t)(size - OFF_UDP)); /* length; checksum 0 = none */

	memcpy(f + OFF_PAYLOAD, "IXYG", 4);
}

/* Write the frame into every buffer of the pool once. */
static int prefill_pool(struct mempool *pool, const uint8_t *frame, uint32_t size)
{
	static struct pkt_buf *all[PKTGEN_POOL_BUFS];
	uint32_t n = pkt_buf_alloc_batch(pool, all, PKTGEN_POOL_BUFS);
	for (uint32_t i = 0; i < n; i++) {
		pkt_reset(all[i], (uint32_t)size);
		memcpy(pkt_data(all[i]), frame, size);
	}
	pkt_buf_free_batch(all, n);
	return n == PKTGEN_POOL_BUFS ? 0 : -1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ixy-pktgen [--seconds N] [--count N] [--size BYTES] [--dst-mac MAC] "
		     "[--force] PCI\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"seconds", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'c'},
	    {"size", required_argument, NULL, 'z'},
	    {"dst-mac", required_argument, NULL, 'd'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t seconds = 0, count = 0, size = PKTGEN_MIN_SIZE;
	uint8_t dst_mac[ETHER_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	bool force = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (tool_parse_u64(optarg, 1, UINT32_MAX, &seconds)) {
				fprintf(stderr, "ixy-pktgen: --seconds wants a positive number\n");
				return 2;
			}
			break;
		case 'c':
			if (tool_parse_u64(optarg, 1, UINT64_MAX, &count)) {
				fprintf(stderr, "ixy-pktgen: --count wants a positive number\n");
				return 2;
			}
			break;
		case 'z':
			if (tool_parse_u64(optarg, PKTGEN_MIN_SIZE, PKTGEN_MAX_SIZE, &size)) {
				fprintf(stderr, "ixy-pktgen: --size wants %d..%d\n",
					PKTGEN_MIN_SIZE, PKTGEN_MAX_SIZE);
				return 2;
			}
			break;
		case 'd':
			if (tool_parse_mac(optarg, dst_mac)) {
				fprintf(stderr, "ixy-pktgen: --dst-mac wants aa:bb:cc:dd:ee:ff\n");
				return 2;
			}
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];

	int rc = 1;
	struct mempool *pool = NULL;
	struct tool_port port = {.dev = tool_open_device("ixy-pktgen", name, force)};
	if (!port.dev)
		goto out;
	pool = mempool_create(PKTGEN_POOL_BUFS, 0);
	if (!pool) {
		fprintf(stderr, "ixy-pktgen: cannot create a packet buffer pool: %s\n",
			strerror(errno));
		goto out;
	}
	uint8_t src_mac[ETHER_ADDR_LEN];
	ixy_get_mac(port.dev, src_mac);
	static uint8_t frame[PKTGEN_MAX_SIZE];
	build_frame(frame, (uint32_t)size, dst_mac, src_mac);
	if (prefill_pool(pool, frame, (uint32_t)size)) {
		fprintf(stderr, "ixy-pktgen: packet buffer pool came up short\n");
		goto out;
	}

	struct tool_loop loop;
	tool_loop_init(&loop, &port, 1, seconds);
	printf("ixy-pktgen: sending on %s\n", name);
	uint64_t seq = 0;
	struct pkt_buf *bufs[PKTGEN_BATCH];
	while (tool_loop_continue(&loop)) {
		/* Whatever arrives is counted by the driver and dropped here. */
		uint32_t rx = ixy_rx_batch(port.dev, 0, bufs, PKTGEN_BATCH);
		if (rx)
			pkt_buf_free_batch(bufs, rx);

		uint32_t want = PKTGEN_BATCH;
		if (count && count - seq < want)
			want = (uint32_t)(count - seq);
		uint32_t n = pkt_buf_alloc_batch(pool, bufs, want);
		for (uint32_t i = 0; i < n; i++) {
			pkt_reset(bufs[i],
				  (uint32_t)size); /* the frame written by the fill above */
			put_be64(pkt_data(bufs[i]) + OFF_SEQ, seq + i);
		}
		uint32_t sent = ixy_tx_batch(port.dev, 0, bufs, n);
		/* Sequence numbers count accepted frames only: the rest are renumbered next time.
		 */
		seq += sent;
		if (sent < n)
			pkt_buf_free_batch(bufs + sent, n - sent);
		if (count && seq == count)
			tool_loop_stop(&loop);
	}
	tool_drain_tx(&port, 1, 20);
	tool_print_final_stats(&port);
	rc = 0;
out:
	/* The device first: its tx ring may still hold buffers of our pool. */
	ixy_device_close(port.dev);
	mempool_free(pool);
	return rc;
}
