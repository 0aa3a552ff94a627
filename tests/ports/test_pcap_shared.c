/*
 * test_pcap_shared: the pcap port replays ../shared/data/pcap/mixed-edge-cases.pcap (179
 * Ethernet frames, see its README) frame for frame as tcpdump reads it, then starts over.
 * The reference is tcpdump's own hex dump (`tcpdump -r FILE -nn -xx`); without tcpdump only
 * the count and the wrap are checked. Exit 77 (skipped) when the file is absent.
 * Usage: test_pcap_shared PCAP_FILE
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "memory.h"
#include "ports_test.h"

#define EXPECTED_FRAMES 179
#define MAX_FRAME	2048

struct ref_frame {
	uint32_t len;
	uint8_t data[MAX_FRAME];
};

/* Parse tcpdump -xx output: a line per packet not starting with a tab, then lines
 * "\t0x0010:  0800 4500 ..." of hex. Returns the number of frames read, or -1 without
 * tcpdump. */
static int read_reference(const char *path, struct ref_frame *ref, int max)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "tcpdump -r '%s' -nn -xx 2>/dev/null", path);
	if (system("command -v tcpdump >/dev/null 2>&1") != 0)
		return -1;
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[1024];
	int n = -1;
	while (fgets(line, sizeof(line), p)) {
		if (line[0] != '\t') {
			if (++n >= max)
				break;
			ref[n].len = 0;
			continue;
		}
		if (n < 0)
			continue;
		char *s = strchr(line, ':');
		if (!s)
			continue;
		for (s++; *s; s++) {
			if (*s == ' ' || *s == '\n')
				continue;
			unsigned v;
			if (sscanf(s, "%2x", &v) != 1)
				break;
			if (ref[n].len < MAX_FRAME)
				ref[n].data[ref[n].len++] = (uint8_t)v;
			s++;
		}
	}
	pclose(p);
	return n + 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PCAP_FILE\n", argv[0]);
		return 2;
	}
	if (access(argv[1], R_OK) != 0) {
		printf("SKIP: %s not found (shared test data is not checked out beside the "
		       "project)\n",
		       argv[1]);
		return 77;
	}
	CHECK_EQ(memory_configure(MEMORY_IOVA_VA, false), 0);
	struct ixy_device *dev = pcap_port_open(argv[1], NULL);
	CHECK(dev != NULL);
	if (!dev)
		return check_report("test_pcap_shared");

	static struct ref_frame ref[EXPECTED_FRAMES + 1];
	int nref = read_reference(argv[1], ref, EXPECTED_FRAMES + 1);
	if (nref < 0)
		printf("tcpdump not found: checking count and wrap only\n");
	else
		CHECK_EQ(nref, EXPECTED_FRAMES);

	/* One round and one frame more, in batches of 32. */
	struct pkt_buf *bufs[32];
	uint32_t seen = 0, mismatches = 0, first_len = 0;
	uint8_t first[MAX_FRAME];
	while (seen < EXPECTED_FRAMES + 1) {
		uint32_t want = MIN(32u, EXPECTED_FRAMES + 1 - seen);
		uint32_t got = ixy_rx_batch(dev, 0, bufs, want);
		CHECK_EQ(got, want);
		if (got == 0)
			break;
		for (uint32_t i = 0; i < got; i++, seen++) {
			if (seen == 0) {
				first_len = bufs[i]->len;
				memcpy(first, pkt_data(bufs[i]), first_len);
			}
			if (seen == EXPECTED_FRAMES) { /* wrapped: frame 0 again */
				CHECK_EQ(bufs[i]->len, first_len);
				CHECK(memcmp(pkt_data(bufs[i]), first, first_len) == 0);
			} else if (nref == EXPECTED_FRAMES &&
				   (bufs[i]->len != ref[seen].len ||
				    memcmp(pkt_data(bufs[i]), ref[seen].data, ref[seen].len) !=
					0)) {
				if (mismatches++ < 5)
					fprintf(stderr,
						"frame %u: %u bytes, tcpdump shows %u or "
						"other bytes\n",
						seen, bufs[i]->len, ref[seen].len);
			}
		}
		pkt_buf_free_batch(bufs, got);
	}
	CHECK_EQ(mismatches, 0);
	struct ixy_stats st;
	ixy_read_stats(dev, &st);
	CHECK_EQ(st.rx_packets, EXPECTED_FRAMES + 1);
	printf("replayed %u frames of %s, %s\n", seen, argv[1],
	       nref == EXPECTED_FRAMES ? "identical to tcpdump's reading" : "count only");
	port_close(dev);
	return check_report("test_pcap_shared");
}
