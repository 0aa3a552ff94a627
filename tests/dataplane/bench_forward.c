/*
 * bench_forward.c: ixyd's forwarding rate per worker on memory-backed ports, with a full
 * Internet table loaded (issue 5, part 9, first half: the l3fwd comparison is not written yet).
 *
 *   bench_forward TABLE.txt.xz [SECONDS] [WORKERS]
 *
 * p0 = "pcap:" replaying 64-byte UDP frames in a loop (to p0's MAC, destinations drawn from the
 * table's prefixes: a random host of a random prefix, seed printed), p1 = "null:" counting and
 * dropping. Every prefix routes via 100.64.0.2 on p1, whose MAC is set by hand (no ARP on a null
 * port). The whole dataplane runs as in ixyd: workers (no idle sleep), the control thread, RCU.
 * Prints one line per second and a summary; never fails on time, only when nothing is forwarded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "dataplane.h"
#include "device.h"
#include "lpm4.h"
#include "memory.h"

#define BENCH_FRAMES	4096
#define BENCH_FRAME_LEN 60 /* 64 on the wire with the FCS */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static struct control_route *load_table(const char *path, size_t *n_out)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0;
	struct control_route *r = malloc(cap * sizeof(*r));
	char line[128];
	while (r && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		uint32_t prefix;
		uint8_t len;
		if (lpm4_parse_prefix(line, &prefix, &len) != 0)
			continue;
		if (n == cap) {
			struct control_route *bigger = realloc(r, 2 * cap * sizeof(*r));
			if (!bigger) {
				free(r);
				r = NULL;
				break;
			}
			r = bigger;
			cap *= 2;
		}
		r[n++] = (struct control_route){.prefix = prefix, .len = len};
	}
	if (pclose(f) != 0 || n == 0) {
		free(r);
		return NULL;
	}
	*n_out = n;
	return r;
}

/* A classic pcap file (pcap-savefile(5)) of BENCH_FRAMES UDP frames to dst_mac. */
static int write_pcap(const char *path, const uint8_t dst_mac[6], const struct control_route *r,
		      size_t n_routes, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1}; /* v2.4, Ethernet */
	fwrite(hdr, sizeof(hdr), 1, f);
	srand(seed);
	for (int i = 0; i < BENCH_FRAMES; i++) {
		const struct control_route *rt = &r[(size_t)rand() % n_routes];
		uint32_t host = rt->len == 32 ? 0 : ((uint32_t)rand() & (UINT32_MAX >> rt->len));
		uint32_t dst = rt->prefix | host;
		uint8_t fr[BENCH_FRAME_LEN] = {0};
		memcpy(fr, dst_mac, 6);
		uint8_t src_mac[6] = {0x02, 0, 0, 0, 0x10, 0x01};
		memcpy(fr + 6, src_mac, 6);
		fr[12] = 0x08;
		uint8_t *ip = fr + 14;
		ip[0] = 0x45;
		ip[3] = 46; /* total length: 60 - 14 */
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 198, ip[13] = 18, ip[14] = (uint8_t)(i >> 8), ip[15] = (uint8_t)i;
		ip[16] = (uint8_t)(dst >> 24), ip[17] = (uint8_t)(dst >> 16);
		ip[18] = (uint8_t)(dst >> 8), ip[19] = (uint8_t)dst;
		uint16_t c = csum16(ip, 20);
		ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
		ip[20] = 0x30, ip[21] = 0x39, ip[22] = 0x00, ip[23] = 0x09, ip[25] = 26; /* UDP */
		uint32_t rec[4] = {0, (uint32_t)i, BENCH_FRAME_LEN, BENCH_FRAME_LEN};
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(fr, sizeof(fr), 1, f);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_forward TABLE.txt.xz [SECONDS] [WORKERS]\n");
		return 2;
	}
	if (access(argv[1], R_OK) != 0) {
		printf("bench_forward: %s not found: skipped\n", argv[1]);
		return 77;
	}
	int seconds = argc > 2 ? atoi(argv[2]) : 5;
	int n_workers = argc > 3 ? atoi(argv[3]) : 1;
	long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (seconds < 1 || n_workers < 1 || n_workers > DP_MAX_WORKERS) {
		fprintf(stderr, "bench_forward: bad seconds or workers\n");
		return 2;
	}
	unsigned seed = (unsigned)time(NULL);
	printf("bench_forward: seed %u, %d worker(s), %d s, %ld cpus\n", seed, n_workers, seconds,
	       n_cpus);
	memory_configure(MEMORY_IOVA_VA, false);

	int rc = 1;
	size_t n_routes = 0;
	struct control_route *routes = load_table(argv[1], &n_routes);
	if (!routes) {
		fprintf(stderr, "bench_forward: cannot read %s\n", argv[1]);
		return 1;
	}
	const uint8_t p0_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	char pcap_path[] = "/tmp/bench_forward.XXXXXX";
	int fd = mkstemp(pcap_path);
	if (fd < 0 || write_pcap(pcap_path, p0_mac, routes, n_routes, seed) != 0) {
		fprintf(stderr, "bench_forward: cannot write the capture\n");
		goto out_routes;
	}
	close(fd);
	/* Routes whose prefix is the connected subnet of p0 or p1 would be refused: the capture
	 * avoids them too, since they route back to a connected port, but the table may hold
	 * them. Everything else goes via the one gateway. */
	size_t kept = 0;
	for (size_t i = 0; i < n_routes; i++) {
		routes[i].gw = 0x64400002u; /* 100.64.0.2 */
		if (!(routes[i].len == 30 && routes[i].prefix == 0x64400000u) &&
		    !(routes[i].len == 30 && routes[i].prefix == 0xc6120000u))
			routes[kept++] = routes[i];
	}

	char name0[64];
	snprintf(name0, sizeof(name0), "pcap:%s", pcap_path);
	struct ixy_device_config dc = {.rx_queues = (uint16_t)n_workers,
				       .tx_queues = (uint16_t)(n_workers + 1)};
	struct ixy_device *p0 = ixy_device_open(name0, &dc);
	struct ixy_device *p1 = ixy_device_open("null:bench-out", &dc);
	struct dataplane *dp = NULL;
	struct control *ctl = NULL;
	if (!p0 || !p1 || ixy_set_mac(p0, p0_mac) != 0) {
		fprintf(stderr, "bench_forward: cannot open the memory ports: %s\n",
			strerror(errno));
		goto out_devs;
	}
	dp = dataplane_create((uint16_t)n_workers);
	if (!dp || dp_add_port(dp, "p0", p0) != 0 || dp_add_port(dp, "p1", p1) != 1 ||
	    dp_iface_add_addr(dp, 0, 0xc6120001u, 30) != 0 || /* 198.18.0.1/30 */
	    dp_iface_add_addr(dp, 1, 0x64400001u, 30) != 0)   /* 100.64.0.1/30 */
		goto out_dp;
	dp->idle_sleep_us = 0;
	ctl = control_create(dp, &(struct control_config){.max_routes_nexthops = 64});
	if (!ctl)
		goto out_dp;
	uint64_t t0 = now_ns();
	int err = control_replace_routes(ctl, routes, kept);
	if (err) {
		fprintf(stderr, "bench_forward: loading the table: %s\n", strerror(-err));
		goto out_dp;
	}
	printf("bench_forward: %zu routes loaded in %.2f s\n", kept, (double)(now_ns() - t0) / 1e9);
	const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
	if (control_set_neighbour(ctl, 0x64400002u, gw_mac) != 0)
		goto out_dp;

	int cores[DP_MAX_WORKERS];
	for (int w = 0; w < n_workers; w++)
		cores[w] =
		    (int)((w + 1) % n_cpus); /* leave core 0 to the control thread if we can */
	if (dp_start(dp, cores) != 0 || control_start(ctl) != 0)
		goto out_dp;

	struct dp_counters k0, k1, kp;
	dp_read_port_counters(dp, 1, &k0);
	kp = k0;
	uint64_t start = now_ns(), prev = start;
	for (int s = 0; s < seconds; s++) {
		sleep(1);
		uint64_t t = now_ns();
		dp_read_port_counters(dp, 1, &k1);
		printf("bench_forward: %.3f Mpps\n",
		       (double)(k1.tx_packets - kp.tx_packets) * 1e3 / (double)(t - prev));
		kp = k1;
		prev = t;
	}
	double mpps = (double)(k1.tx_packets - k0.tx_packets) * 1e3 / (double)(prev - start);
	dp_stop(dp);
	control_stop(ctl);
	struct dp_counters in;
	dp_read_port_counters(dp, 0, &in);
	printf("bench_forward: %d worker(s), %zu routes, 64-byte frames: %.3f Mpps (%.3f Mpps per "
	       "worker); p0 rx %llu, p1 tx %llu, drops no_route %llu bad_header %llu\n",
	       n_workers, kept, mpps, mpps / n_workers, (unsigned long long)in.rx_packets,
	       (unsigned long long)k1.tx_packets, (unsigned long long)in.drops[DP_DROP_NO_ROUTE],
	       (unsigned long long)in.drops[DP_DROP_BAD_HEADER]);
	rc = k1.tx_packets > k0.tx_packets ? 0 : 1;
out_dp:
	if (rc)
		fprintf(stderr, "bench_forward: set-up failed or nothing was forwarded\n");
	if (dp)
		dp_stop(dp);
	control_free(ctl);
out_devs:
	ixy_device_close(p0);
	ixy_device_close(p1);
	dataplane_free(dp);
	unlink(pcap_path);
out_routes:
	free(routes);
	return rc;
}
