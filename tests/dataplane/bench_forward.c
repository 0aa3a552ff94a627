/*
 * bench_forward.c: ixyd's forwarding rate per worker on memory-backed ports, with a full
 * Internet table loaded (issue 5, part 9; tests/perf/fwd-vs-l3fwd.sh runs it beside DPDK's l3fwd).
 *
 *   bench_forward [--pcap FILE] [--serve] TABLE [SECONDS] [WORKERS]
 *
 * p0 = "pcap:" replaying 64-byte UDP frames in a loop (to p0's MAC 02:00:00:00:00:01), p1 =
 * "null:" counting and dropping. Every prefix of TABLE ("a.b.c.d/len" lines, plain or .xz) routes
 * via 100.64.0.2 on p1, whose MAC is set by hand (no ARP on a null port). The whole dataplane runs
 * as in ixyd: workers (no idle sleep), the control thread, RCU.
 *
 * Without --pcap the capture is generated: destinations are random hosts of random prefixes of
 * the table (seed printed). --pcap FILE replays FILE instead; its frames must be addressed to p0's
 * MAC and avoid 100.64.0.0/30 and 198.18.0.0/30 (tests/perf/fwd-traffic.py writes such a file).
 *
 * Timed mode (default): one line per second for SECONDS, then a summary line.
 * --serve: after loading, print "bench_forward: ready" and run until SIGINT/SIGTERM; each SIGUSR1
 * prints "bench_forward: sample NS TX RX" (CLOCK_MONOTONIC ns, p1 tx packets, p0 rx packets), so
 * a script can measure windows of its choice, pausing the process with SIGSTOP in between.
 *
 * Never fails on time, only when nothing is forwarded.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
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

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The prefixes of a table of "a.b.c.d/len" lines (xz-compressed when the name ends in .xz). */
static struct control_route *load_table(const char *path, size_t *n_out)
{
	bool xz = has_suffix(path, ".xz");
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
	FILE *f = xz ? popen(cmd, "r") : fopen(path, "r");
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
		r[n++] = (struct control_route){.prefix = ip_prefix_v4(prefix, len)};
	}
	int close_rc = xz ? pclose(f) : fclose(f);
	if (close_rc != 0 || n == 0) {
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
		uint8_t len = rt->prefix.len;
		uint32_t host = len == 32 ? 0 : ((uint32_t)rand() & (UINT32_MAX >> len));
		uint32_t dst = rt->prefix.addr.v4 | host;
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

#define P0_IP	     0xc6120001u /* 198.18.0.1/30 */
#define P1_IP	     0x64400001u /* 100.64.0.1/30 */
#define GW_IP	     0x64400002u /* 100.64.0.2, behind p1 */
#define GW_REFRESH_S 5		 /* under the neighbour's 30 s reachable time */

static const uint8_t P0_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t GW_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

struct bench_opts {
	const char *table;
	const char *pcap; /* NULL: generate one */
	int seconds;
	int n_workers;
	bool serve;
};

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {{"pcap", required_argument, NULL, 'p'},
						 {"serve", no_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	*o = (struct bench_opts){.seconds = 5, .n_workers = 1};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p')
			o->pcap = optarg;
		else if (c == 's')
			o->serve = true;
		else
			return -EINVAL;
	}
	if (optind >= argc || argc - optind > 3)
		return -EINVAL;
	o->table = argv[optind];
	if (argc - optind > 1)
		o->seconds = atoi(argv[optind + 1]);
	if (argc - optind > 2)
		o->n_workers = atoi(argv[optind + 2]);
	if (o->seconds < 1 || o->n_workers < 1 || o->n_workers > DP_MAX_WORKERS)
		return -EINVAL;
	return 0;
}

/*
 * The neighbour set by hand ages like a learnt one (reachable 30 s, then stale, then deleted), and
 * a null port cannot answer ARP: confirm it again every GW_REFRESH_S seconds, and on every sample
 * in --serve mode (the process may have been stopped for longer than the neighbour lives).
 */
static int refresh_gateway(struct control *ctl)
{
	struct ip_addr gw = ip_addr_v4(GW_IP);
	return control_set_neighbour(ctl, &gw, GW_MAC);
}

static void print_sample(struct dataplane *dp)
{
	struct dp_counters in, out;
	uint64_t t = now_ns();
	dp_read_port_counters(dp, 1, &out);
	dp_read_port_counters(dp, 0, &in);
	printf("bench_forward: sample %llu %llu %llu\n", (unsigned long long)t,
	       (unsigned long long)out.tx_packets, (unsigned long long)in.rx_packets);
	fflush(stdout);
}

/* Timed mode: one rate line per second; returns the mean over the run in Mpps. */
static double run_timed(struct dataplane *dp, struct control *ctl, int seconds)
{
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
		if ((s + 1) % GW_REFRESH_S == 0)
			(void)refresh_gateway(ctl);
	}
	return (double)(k1.tx_packets - k0.tx_packets) * 1e3 / (double)(prev - start);
}

/* --serve: answer SIGUSR1 with a sample until SIGINT/SIGTERM (all three blocked in every
 * thread, taken here with sigtimedwait). */
static void run_serve(struct dataplane *dp, struct control *ctl, const sigset_t *set)
{
	printf("bench_forward: ready\n");
	fflush(stdout);
	for (;;) {
		struct timespec tmo = {.tv_sec = GW_REFRESH_S};
		int sig = sigtimedwait(set, NULL, &tmo);
		if (sig == SIGINT || sig == SIGTERM)
			return;
		(void)refresh_gateway(ctl);
		if (sig == SIGUSR1)
			print_sample(dp);
	}
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: bench_forward [--pcap FILE] [--serve] TABLE[.xz] [SECONDS] "
				"[WORKERS]\n");
		return 2;
	}
	if (access(o.table, R_OK) != 0) {
		printf("bench_forward: %s not found: skipped\n", o.table);
		return 77;
	}
	int n_workers = o.n_workers;
	long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned seed = (unsigned)time(NULL);
	printf("bench_forward: %s %u, %d worker(s), %s, %ld cpus\n", o.pcap ? "capture" : "seed",
	       o.pcap ? 0 : seed, n_workers, o.serve ? "serving" : "timed", n_cpus);
	if (o.pcap)
		printf("bench_forward: replaying %s\n", o.pcap);
	memory_configure(MEMORY_IOVA_VA, false);

	/* Block the signals --serve waits for before any thread starts, so every thread inherits
	 * the mask and only sigtimedwait() in run_serve() takes them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (o.serve) {
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
	}
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	int rc = 1;
	size_t n_routes = 0;
	struct control_route *routes = load_table(o.table, &n_routes);
	if (!routes) {
		fprintf(stderr, "bench_forward: cannot read %s\n", o.table);
		return 1;
	}
	char pcap_path[] = "/tmp/bench_forward.XXXXXX";
	bool made_pcap = false;
	if (!o.pcap) {
		int fd = mkstemp(pcap_path);
		if (fd < 0 || write_pcap(pcap_path, P0_MAC, routes, n_routes, seed) != 0) {
			fprintf(stderr, "bench_forward: cannot write the capture\n");
			if (fd >= 0)
				close(fd);
			goto out_routes;
		}
		close(fd);
		made_pcap = true;
	}
	/* Routes whose prefix is the connected subnet of p0 or p1 would be refused: the capture
	 * avoids them too, since they route back to a connected port, but the table may hold
	 * them. Everything else goes via the one gateway. */
	static const struct control_path gw_path = {.gw = {.family = AF_INET, .v4 = GW_IP},
						    .iface = IFACE_ID_NONE};
	const struct ip_prefix conn0 = ip_prefix_v4(P0_IP & ~3u, 30),
			       conn1 = ip_prefix_v4(P1_IP & ~3u, 30);
	size_t kept = 0;
	for (size_t i = 0; i < n_routes; i++) {
		routes[i].n_paths = 1;
		routes[i].paths = &gw_path;
		if (!ip_prefix_equal(&routes[i].prefix, &conn0) &&
		    !ip_prefix_equal(&routes[i].prefix, &conn1))
			routes[kept++] = routes[i];
	}

	char name0[4200];
	snprintf(name0, sizeof(name0), "pcap:%s", o.pcap ? o.pcap : pcap_path);
	struct ixy_device_config dc = {.rx_queues = (uint16_t)n_workers,
				       .tx_queues = (uint16_t)(n_workers + 1)};
	struct ixy_device *p0 = ixy_device_open(name0, &dc);
	struct ixy_device *p1 = ixy_device_open("null:bench-out", &dc);
	struct dataplane *dp = NULL;
	struct control *ctl = NULL;
	if (!p0 || !p1 || ixy_set_mac(p0, P0_MAC) != 0) {
		fprintf(stderr, "bench_forward: cannot open the memory ports: %s\n",
			strerror(errno));
		goto out_devs;
	}
	dp = dataplane_create((uint16_t)n_workers);
	const struct ip_prefix a0 = ip_prefix_v4(P0_IP, 30), a1 = ip_prefix_v4(P1_IP, 30);
	if (!dp || dp_add_port(dp, "p0", p0) != 0 || dp_add_port(dp, "p1", p1) != 1 ||
	    dp_iface_add_addr(dp, dp_port_iface(dp, 0), &a0) != 0 ||
	    dp_iface_add_addr(dp, dp_port_iface(dp, 1), &a1) != 0)
		goto out_dp;
	struct dp_params params;
	dp_get_params(dp, &params);
	params.idle_sleep_us = 0;
	dp_set_params(dp, &params);
	ctl = control_create(dp, &(struct control_config){.max_routes_nexthops = 64});
	if (!ctl)
		goto out_dp;
	uint64_t t0 = now_ns();
	int err = control_routes_replace(ctl, CONTROL_OWNER_CONFIG, routes, kept, NULL);
	if (err) {
		fprintf(stderr, "bench_forward: loading the table: %s\n", strerror(-err));
		goto out_dp;
	}
	printf("bench_forward: %zu routes loaded in %.2f s\n", kept, (double)(now_ns() - t0) / 1e9);
	if (refresh_gateway(ctl) != 0)
		goto out_dp;

	int cores[DP_MAX_WORKERS];
	for (int w = 0; w < n_workers; w++)
		cores[w] =
		    (int)((w + 1) % n_cpus); /* leave core 0 to the control thread if we can */
	if (dp_start(dp, cores) != 0 || control_start(ctl) != 0)
		goto out_dp;

	double mpps = 0;
	if (o.serve)
		run_serve(dp, ctl, &set);
	else
		mpps = run_timed(dp, ctl, o.seconds);
	dp_stop(dp);
	control_stop(ctl);
	struct dp_counters in, out;
	dp_read_port_counters(dp, 0, &in);
	dp_read_port_counters(dp, 1, &out);
	if (!o.serve)
		printf("bench_forward: %d worker(s), %zu routes, 64-byte frames: %.3f Mpps (%.3f "
		       "Mpps per worker); ",
		       n_workers, kept, mpps, mpps / n_workers);
	else
		printf("bench_forward: %d worker(s), %zu routes, served; ", n_workers, kept);
	printf("p0 rx %llu, p1 tx %llu, drops no_route %llu bad_header %llu arp_unresolved %llu "
	       "not_for_us %llu\n",
	       (unsigned long long)in.rx_packets, (unsigned long long)out.tx_packets,
	       (unsigned long long)in.drops[DP_DROP_NO_ROUTE],
	       (unsigned long long)in.drops[DP_DROP_BAD_HEADER],
	       (unsigned long long)in.drops[DP_DROP_ARP_UNRESOLVED],
	       (unsigned long long)in.drops[DP_DROP_NOT_FOR_US]);
	rc = out.tx_packets > 0 ? 0 : 1;
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
	if (made_pcap)
		unlink(pcap_path);
out_routes:
	free(routes);
	return rc;
}
