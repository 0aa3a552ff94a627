/*
 * lpm-bench: build an IPv4 LPM table from a route file, time lookups, builds and single updates,
 * and optionally check every lookup against a brute-force reference. docs/benchmarks.md records
 * the figures; tests/perf/lpm-vs-dpdk.sh compares them with DPDK's dpdk-test-fib on the same file.
 *
 * lpm-bench --routes FILE [--lookups N] [--random-pct P] [--batch B] [--seed S] [--verify]
 *
 * Lookup addresses: P% uniformly random, the rest inside a random route (random host bits), the
 * mix dpdk-test-fib -r P uses. The last line of output is the summary the scripts parse:
 *   lpm-bench: <cycles>/lookup <M> Mlookups/s <MiB> MiB build <ms> ms add <cycles>/route del
 * <cycles>/route Exit status: 0, 1 on a verification mismatch, 2 on bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "compiler.h"
#include "lpm4.h"
#include "lpm4_ref.h"
#include "nexthop.h"

/* A gateway next hop: IPv4 gateway gw (host order) out of interface iface. */
static int add_gw4(struct nexthop_table *nht, uint32_t gw, iface_id_t iface, uint32_t *idx)
{
	struct nexthop_key k = {.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v4(gw)};
	return nexthop_add(nht, &k, idx);
}

struct options {
	const char *routes;
	size_t lookups;
	unsigned random_pct;
	unsigned batch;
	uint64_t seed;
	bool verify;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lpm-bench --routes FILE [--lookups N] [--random-pct P] [--batch B]\n"
		   "                 [--seed S] [--verify]\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {{"routes", required_argument, NULL, 'f'},
						 {"lookups", required_argument, NULL, 'n'},
						 {"random-pct", required_argument, NULL, 'r'},
						 {"batch", required_argument, NULL, 'b'},
						 {"seed", required_argument, NULL, 's'},
						 {"verify", no_argument, NULL, 'v'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int c;
	char *end;

	*o = (struct options){.lookups = 10000000,
			      .random_pct = 50,
			      .batch = 64,
			      .seed = (uint64_t)time(NULL) * 2654435761u + 1};
	while ((c = getopt_long(argc, argv, "f:n:r:b:s:vh", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'f':
			o->routes = optarg;
			break;
		case 'n':
			o->lookups = strtoull(optarg, &end, 0);
			if (errno || *end || o->lookups == 0)
				return -EINVAL;
			break;
		case 'r':
			o->random_pct = (unsigned)strtoul(optarg, &end, 0);
			if (errno || *end || o->random_pct > 100)
				return -EINVAL;
			break;
		case 'b':
			o->batch = (unsigned)strtoul(optarg, &end, 0);
			if (errno || *end || o->batch == 0 || o->batch > 4096)
				return -EINVAL;
			break;
		case 's':
			o->seed = strtoull(optarg, &end, 0);
			if (errno || *end || o->seed == 0)
				return -EINVAL;
			break;
		case 'v':
			o->verify = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return o->routes && optind == argc ? 0 : -EINVAL;
}

/* Next hops 0..max_nh, allocated in order so that index == the file's next-hop number. */
static struct nexthop_table *make_nexthops(uint32_t max_nh)
{
	struct nexthop_table *nht = nexthop_table_create(max_nh + 1, 0);
	if (!nht)
		return NULL;
	for (uint32_t i = 0; i <= max_nh; i++) {
		uint32_t idx;
		if (add_gw4(nht, 0x0a000000u + i, (iface_id_t)(i % 4), &idx) < 0 || idx != i) {
			nexthop_table_free(nht);
			errno = ENOMEM;
			return NULL;
		}
	}
	return nht;
}

static uint32_t *make_addrs(const struct options *o, const struct lpm4_route *r, size_t nr)
{
	uint32_t *a = malloc(o->lookups * sizeof(*a));
	uint64_t st = o->seed;
	if (!a)
		return NULL;
	for (size_t i = 0; i < o->lookups; i++) {
		if (nr == 0 || ref_rand32(&st) % 100 < o->random_pct) {
			a[i] = ref_rand32(&st);
		} else {
			const struct lpm4_route *rt = &r[ref_rand64(&st) % nr];
			a[i] = ref_addr_in(rt->prefix, rt->len, &st);
		}
	}
	return a;
}

/* Compare results with the reference; prints the first few mismatches. Returns the count. */
static size_t verify(const char *what, const struct lpm4_ref *ref, const uint32_t *addrs,
		     const uint32_t *nh, size_t n)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t want = lpm4_ref_lookup(ref, addrs[i]);
		if (want != nh[i] && bad++ < 10)
			fprintf(stderr, "lpm-bench: %s mismatch: %u.%u.%u.%u -> %u, reference %u\n",
				what, addrs[i] >> 24, (addrs[i] >> 16) & 255, (addrs[i] >> 8) & 255,
				addrs[i] & 255, nh[i], want);
	}
	printf("verify %s: %zu lookups, %zu mismatches\n", what, n, bad);
	return bad;
}

int main(int argc, char **argv)
{
	struct options o;
	struct lpm4_route *routes = NULL;
	struct nexthop_table *nht = NULL;
	struct lpm4 *lpm = NULL, *inc = NULL;
	struct lpm4_ref *ref = NULL;
	uint32_t *addrs = NULL, *nh = NULL;
	size_t nr = 0, bad = 0;
	uint32_t max_nh;
	int err, rc = 2;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	err = route_file_read(o.routes, &routes, &nr, &max_nh);
	if (err < 0) {
		fprintf(stderr, "lpm-bench: cannot read %s: %s\n", o.routes, strerror(-err));
		return 2;
	}
	printf("routes %zu from %s, lookups %zu, random %u%%, batch %u, seed %llu\n", nr, o.routes,
	       o.lookups, o.random_pct, o.batch, (unsigned long long)o.seed);
	if (max_nh >= (1u << 24)) {
		fprintf(stderr, "lpm-bench: next hop %u too large (max %u)\n", max_nh,
			(1u << 24) - 1);
		goto out;
	}
	nht = make_nexthops(max_nh);
	lpm = nht ? lpm4_create(nht) : NULL;
	inc = nht ? lpm4_create(nht) : NULL;
	addrs = make_addrs(&o, routes, nr);
	nh = malloc(o.lookups * sizeof(*nh));
	if (!lpm || !inc || !addrs || !nh) {
		fprintf(stderr, "lpm-bench: out of memory\n");
		goto out;
	}

	/* 1. Bulk build. */
	double t0 = now_s();
	err = lpm4_replace_all(lpm, routes, nr);
	double build_ms = (now_s() - t0) * 1e3;
	if (err < 0) {
		fprintf(stderr, "lpm-bench: build failed: %s\n", strerror(-err));
		goto out;
	}
	struct lpm4_stats st;
	lpm4_get_stats(lpm, &st);
	printf("table: %zu routes, %zu subtrees, %zu nodes, %zu leaves, lookup memory %.2f MiB "
	       "(%.2f bytes/route), control memory %.2f MiB\n",
	       st.routes, st.subtrees, st.nodes, st.leaves, st.lookup_bytes / 1048576.0,
	       (double)st.lookup_bytes / (double)(st.routes ? st.routes : 1),
	       st.control_bytes / 1048576.0);
	double lookup_mib = (double)st.lookup_bytes / 1048576.0;

	/* 2. Batch lookups: results of the whole run (kept for --verify, untimed), then the timed
	 * pass into one batch-sized buffer, as a dataplane (and dpdk-test-fib) uses them. */
	for (size_t i = 0; i < o.lookups; i += o.batch)
		lpm4_lookup_batch(lpm, addrs + i, nh + i, (unsigned)MIN(o.batch, o.lookups - i));
	uint32_t batch_nh[4096];
	unsigned found = 0;
	double t1 = now_s();
	uint64_t c1 = __rdtsc();
	for (size_t i = 0; i < o.lookups; i += o.batch)
		found += lpm4_lookup_batch(lpm, addrs + i, batch_nh,
					   (unsigned)MIN(o.batch, o.lookups - i));
	uint64_t lookup_cycles = __rdtsc() - c1;
	double lookup_s = now_s() - t1;
	printf("batch lookups: %u of %zu had a route\n", found, o.lookups);

	/* 3. Single lookups, for the control plane's figure. */
	uint64_t c2 = __rdtsc();
	uint32_t sink = 0;
	size_t n_single = MIN(o.lookups, (size_t)1000000);
	for (size_t i = 0; i < n_single; i++)
		sink += lpm4_lookup(lpm, addrs[i]);
	uint64_t single_cycles = __rdtsc() - c2;
	printf("single lookups: %.1f cycles/lookup (checksum %u)\n",
	       (double)single_cycles / (double)n_single, sink);

	if (o.verify) {
		ref = lpm4_ref_create(nr);
		if (!ref) {
			fprintf(stderr, "lpm-bench: out of memory\n");
			goto out;
		}
		for (size_t i = 0; i < nr; i++)
			lpm4_ref_add(ref, routes[i].prefix, routes[i].len, routes[i].nh);
		bad += verify("batch", ref, addrs, nh, o.lookups);
		for (size_t i = 0; i < n_single; i++)
			nh[i] = lpm4_lookup(lpm, addrs[i]);
		bad += verify("single", ref, addrs, nh, n_single);
	}

	/* 4. Single adds of every route into an empty table, then single deletes of all. */
	uint64_t c3 = __rdtsc();
	for (size_t i = 0; i < nr; i++) {
		err = lpm4_add(inc, routes[i].prefix, routes[i].len, routes[i].nh);
		if (err < 0) {
			fprintf(stderr, "lpm-bench: add #%zu failed: %s\n", i, strerror(-err));
			goto out;
		}
	}
	uint64_t add_cycles = __rdtsc() - c3;
	if (o.verify) {
		lpm4_lookup_batch(inc, addrs, nh, (unsigned)MIN(o.lookups, (size_t)1 << 31));
		bad += verify("incremental", ref, addrs, nh, o.lookups);
	}
	uint64_t c4 = __rdtsc();
	for (size_t i = 0; i < nr; i++) {
		err = lpm4_delete(inc, routes[i].prefix, routes[i].len);
		if (err < 0 && err != -ENOENT) { /* -ENOENT: a duplicate line, already deleted */
			fprintf(stderr, "lpm-bench: delete #%zu failed: %s\n", i, strerror(-err));
			goto out;
		}
	}
	uint64_t del_cycles = __rdtsc() - c4;
	lpm4_get_stats(inc, &st);
	if (o.verify && st.routes != 0) {
		fprintf(stderr, "lpm-bench: %zu routes left after deleting all\n", st.routes);
		bad++;
	}

	double div = nr ? (double)nr : 1.0;
	printf("lpm-bench: %.1f/lookup %.1f Mlookups/s %.2f MiB build %.0f ms add %.0f/route "
	       "del %.0f/route\n",
	       (double)lookup_cycles / (double)o.lookups, (double)o.lookups / lookup_s / 1e6,
	       lookup_mib, build_ms, (double)add_cycles / div, (double)del_cycles / div);
	rc = bad ? 1 : 0;
out:
	lpm4_ref_free(ref);
	free(nh);
	free(addrs);
	lpm4_free(inc);
	lpm4_free(lpm);
	nexthop_table_free(nht);
	free(routes);
	return rc;
}
