/*
 * test_lpm4: the IPv4 LPM against a brute-force reference on synthetic route sets: bad input,
 * hand-made nesting cases, random incremental adds/deletes (checked after every batch of updates
 * and against a rebuild from scratch), bulk replacement, and next-hop reference counting.
 * The full Internet table is exercised by test_lpm4_full.
 */
#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "lpm4.h"
#include "lpm4_ref.h"
#include "nexthop.h"
#include "test_util.h"

#define N_NH 64

/* A gateway next hop: IPv4 gateway gw (host order) out of interface iface. */
static int add_gw4(struct nexthop_table *nht, uint32_t gw, iface_id_t iface, uint32_t *idx)
{
	struct nexthop_key k = {.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v4(gw)};
	return nexthop_add(nht, &k, idx);
}

static struct nexthop_table *make_nht(void)
{
	struct nexthop_table *nht = nexthop_table_create(N_NH, 0);
	for (uint32_t i = 0; nht && i < N_NH; i++) {
		uint32_t idx;
		if (add_gw4(nht, 0x0a000001u + i, (iface_id_t)i, &idx) < 0 || idx != i)
			return NULL;
	}
	return nht;
}

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

/* Addresses worth checking for a route set: its edges, inside, and just outside. */
static size_t probe_addrs(const struct lpm4_route *r, size_t n, uint32_t *out, size_t cap,
			  uint64_t *st)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 <= cap; i++) {
		uint32_t host = r[i].len == 0 ? ~0u : r[i].len == 32 ? 0 : ~0u >> r[i].len;
		out[k++] = r[i].prefix;
		out[k++] = r[i].prefix | host;
		out[k++] = r[i].prefix - 1;
		out[k++] = (r[i].prefix | host) + 1;
		out[k++] = ref_addr_in(r[i].prefix, r[i].len, st);
	}
	while (k < cap)
		out[k++] = ref_rand32(st);
	return k;
}

/* Compare single and batch lookups with the reference. Returns mismatches. */
static size_t compare(const struct lpm4 *lpm, const struct lpm4_ref *ref, const uint32_t *a,
		      size_t n, const char *what)
{
	uint32_t nh[LPM4_BATCH_MAX * 2 + 3];
	size_t bad = 0;
	for (size_t i = 0; i < n; i += ARRAY_SIZE(nh)) {
		unsigned m = (unsigned)(n - i < ARRAY_SIZE(nh) ? n - i : ARRAY_SIZE(nh));
		unsigned found = lpm4_lookup_batch(lpm, a + i, nh, m), want_found = 0;
		for (unsigned j = 0; j < m; j++) {
			uint32_t want = lpm4_ref_lookup(ref, a[i + j]);
			want_found += want != LPM4_NH_NONE;
			uint32_t single = lpm4_lookup(lpm, a[i + j]);
			if ((nh[j] != want || single != want) && bad++ < 5)
				fprintf(stderr, "%s: %08x -> batch %u single %u, reference %u\n",
					what, a[i + j], nh[j], single, want);
		}
		if (found != want_found && bad++ < 5)
			fprintf(stderr, "%s: batch found %u, want %u\n", what, found, want_found);
	}
	return bad;
}

static void test_bad_input(struct nexthop_table *nht)
{
	struct lpm4 *lpm = lpm4_create(nht);
	uint32_t nh;
	CHECK(lpm != NULL);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 33, 1), -EINVAL);    /* length 33 */
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 1), 24, 1), -EINVAL);    /* host bits set */
	CHECK_EQ(lpm4_add(lpm, ip(10, 128, 0, 0), 8, 1), -EINVAL);   /* host bits set, short */
	CHECK_EQ(lpm4_add(lpm, ip(1, 0, 0, 0), 0, 1), -EINVAL);	     /* /0 with bits */
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 24, N_NH), -ENOENT); /* unknown next hop */
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 24, LPM4_NH_NONE), -ENOENT);
	CHECK_EQ(lpm4_delete(lpm, ip(10, 0, 0, 0), 24), -ENOENT); /* not there */
	CHECK_EQ(lpm4_delete(lpm, ip(10, 0, 0, 0), 40), -EINVAL);
	CHECK_EQ(lpm4_get(lpm, ip(10, 0, 0, 0), 24, &nh), -ENOENT);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 24, 3), 0);
	struct lpm4_route bad[] = {{ip(11, 0, 0, 0), 8, 1}, {ip(12, 0, 0, 0), 33, 1}};
	CHECK_EQ(lpm4_replace_all(lpm, bad, 2), -EINVAL);
	bad[1] = (struct lpm4_route){ip(12, 0, 0, 0), 8, 999};
	CHECK_EQ(lpm4_replace_all(lpm, bad, 2), -ENOENT);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 0, 9)), 3); /* failed replacements changed nothing */
	CHECK_EQ(lpm4_lookup(lpm, ip(11, 0, 0, 9)), LPM4_NH_NONE);

	uint32_t p;
	uint8_t l;
	CHECK_EQ(lpm4_parse_prefix("10.1.2.0/24", &p, &l), 0);
	CHECK(p == ip(10, 1, 2, 0) && l == 24);
	CHECK_EQ(lpm4_parse_prefix("10.1.2.3", &p, &l), 0);
	CHECK_EQ(l, 32);
	CHECK_EQ(lpm4_parse_prefix("10.1.2.0/33", &p, &l), -EINVAL);
	CHECK_EQ(lpm4_parse_prefix("10.1.2/24", &p, &l), -EINVAL);
	CHECK_EQ(lpm4_parse_prefix("10.1.2.0/", &p, &l), -EINVAL);
	CHECK_EQ(lpm4_parse_prefix("10.1.2.0/2x", &p, &l), -EINVAL);
	lpm4_free(lpm);
	lpm4_free(NULL);
	nexthop_table_free(NULL);
}

static void test_nesting(struct nexthop_table *nht)
{
	struct lpm4 *lpm = lpm4_create(nht);
	CHECK_EQ(lpm4_lookup(lpm, ip(1, 2, 3, 4)), LPM4_NH_NONE);
	CHECK_EQ(lpm4_add(lpm, 0, 0, 1), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 8, 2), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 0, 0), 18, 3), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 1, 0), 24, 4), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 1, 128), 25, 5), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 1, 130), 32, 6), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 1, 131), 32, 7), 0);
	CHECK_EQ(lpm4_lookup(lpm, ip(9, 255, 255, 255)), 1);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 0, 0)), 2);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 0, 1)), 3);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 127, 255, 255)), 2); /* just past the /18 */
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 63, 255)), 3);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 127)), 4);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 129)), 5);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 130)), 6);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 131)), 7);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 132)), 5);
	CHECK_EQ(lpm4_add(lpm, ip(10, 64, 1, 130), 32, 8), 0); /* replace */
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 130)), 8);
	CHECK_EQ(lpm4_delete(lpm, ip(10, 64, 0, 0), 18), 0); /* short route under a subtree */
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 0, 1)), 2);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 1)), 4);
	CHECK_EQ(lpm4_delete(lpm, ip(10, 64, 1, 0), 24), 0);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 1)), 2);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 64, 1, 200)), 5);
	CHECK_EQ(lpm4_delete(lpm, 0, 0), 0);
	CHECK_EQ(lpm4_lookup(lpm, ip(9, 0, 0, 1)), LPM4_NH_NONE);
	CHECK_EQ(lpm4_add(lpm, ip(255, 255, 255, 255), 32, 9), 0);
	CHECK_EQ(lpm4_lookup(lpm, ip(255, 255, 255, 255)), 9);
	CHECK_EQ(lpm4_lookup(lpm, ip(255, 255, 255, 254)), LPM4_NH_NONE);
	struct lpm4_stats st;
	lpm4_get_stats(lpm, &st);
	CHECK_EQ(st.routes, 5);
	lpm4_free(lpm);
}

/*
 * The edges of the layout (lpm4.h): a /19 dir slot whose level-1 node uses slots 0 and 31, child
 * references in the last slot at every level (slot index 31, then 63 and 63: the rank masks wrap
 * there), a /19 block that collapses back to a plain dir entry when its routes stop making a
 * difference, and neighbouring /19s. Checked by single and batch lookups against the reference.
 */
static void test_layout_edges(struct nexthop_table *nht, uint64_t *st)
{
	const struct lpm4_route r[] = {
	    {ip(10, 0, 0, 0), 19, 1},	      {ip(10, 0, 0, 0), 24, 2},
	    {ip(10, 0, 31, 0), 24, 3},	      {ip(10, 0, 31, 252), 30, 4},
	    {ip(10, 0, 31, 255), 32, 5},      {ip(10, 0, 31, 254), 31, 6},
	    {ip(10, 0, 0, 0), 25, 7},	      {ip(10, 0, 0, 0), 32, 8},
	    {ip(10, 0, 32, 0), 20, 9},	      {ip(10, 0, 63, 255), 32, 10},
	    {ip(10, 0, 16, 0), 20, 11},	      {ip(10, 0, 8, 0), 21, 12},
	    {ip(255, 255, 255, 255), 32, 13},
	};
	struct lpm4 *lpm = lpm4_create(nht);
	struct lpm4_ref *ref = lpm4_ref_create(ARRAY_SIZE(r));
	uint32_t probes[ARRAY_SIZE(r) * 5 + 64];
	size_t n_probes = probe_addrs(r, ARRAY_SIZE(r), probes, ARRAY_SIZE(probes), st);
	size_t bad = 0;
	CHECK(lpm != NULL && ref != NULL);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		CHECK_EQ(lpm4_add(lpm, r[i].prefix, r[i].len, r[i].nh), 0);
		lpm4_ref_add(ref, r[i].prefix, r[i].len, r[i].nh);
		bad += compare(lpm, ref, probes, n_probes, "edges, adding");
	}
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 31, 255)), 5);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 31, 254)), 6);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 31, 253)), 4);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 31, 251)), 3);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 0, 0)), 8);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 0, 1)), 7);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 0, 128)), 2);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 1, 0)), 1);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 47, 254)), 9);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 63, 255)), 10);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 63, 254)), LPM4_NH_NONE);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		CHECK_EQ(lpm4_delete(lpm, r[i].prefix, r[i].len), 0);
		lpm4_ref_delete(ref, r[i].prefix, r[i].len);
		bad += compare(lpm, ref, probes, n_probes, "edges, deleting");
	}
	/* A /24 with the next hop of its covering /19 changes no answer: no block is kept. */
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 19, 1), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 5, 0), 24, 1), 0);
	struct lpm4_stats s;
	lpm4_get_stats(lpm, &s);
	CHECK_EQ(s.subtrees, 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 5, 0), 24, 2), 0);
	lpm4_get_stats(lpm, &s);
	CHECK_EQ(s.subtrees, 1);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 5, 9)), 2);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 5, 0), 24, 1), 0);
	lpm4_get_stats(lpm, &s);
	CHECK_EQ(s.subtrees, 0);
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 0, 5, 9)), 1);
	CHECK_EQ(bad, 0);
	lpm4_ref_free(ref);
	lpm4_free(lpm);
}

/* A random route set shaped like a real table: mostly /16../24, some short and long ones,
 * clustered in a few /8s so that routes nest and share subtrees. */
static struct lpm4_route random_route(uint64_t *st)
{
	static const uint8_t lens[] = {0,  1,  7,  8,  12, 16, 16, 17, 18, 18, 19, 20, 21, 22, 22,
				       23, 23, 24, 24, 24, 24, 24, 25, 26, 28, 30, 31, 32, 32};
	uint8_t len = lens[ref_rand32(st) % sizeof(lens)];
	uint32_t a = (ref_rand32(st) % 4 + 10) << 24 | (ref_rand32(st) & 0x03ffffffu);
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (struct lpm4_route){a & mask, len, 1 + ref_rand32(st) % (N_NH - 1)};
}

static void test_random_updates(struct nexthop_table *nht, uint64_t *st)
{
	enum { N_ROUTES = 6000, N_PROBES = 40000 };
	struct lpm4 *lpm = lpm4_create(nht), *rebuilt = lpm4_create(nht);
	struct lpm4_ref *ref = lpm4_ref_create(N_ROUTES);
	struct lpm4_route *r = calloc(N_ROUTES, sizeof(*r));
	uint32_t *probes = calloc(N_PROBES, sizeof(*probes));
	bool *present = calloc(N_ROUTES, sizeof(*present));
	size_t bad = 0;

	/* Distinct prefixes, so that "present" is per index; rebuilt serves as the set. */
	for (size_t i = 0; i < N_ROUTES; i++) {
		uint32_t dummy;
		do
			r[i] = random_route(st);
		while (lpm4_get(rebuilt, r[i].prefix, r[i].len, &dummy) == 0);
		CHECK_EQ(lpm4_add(rebuilt, r[i].prefix, r[i].len, r[i].nh), 0);
	}
	size_t n_probes = probe_addrs(r, N_ROUTES, probes, N_PROBES, st);

	/* Adds and deletes in random order; checked every 500 operations. */
	for (int op = 1; op <= 20000; op++) {
		size_t i = ref_rand32(st) % N_ROUTES;
		if (!present[i] || ref_rand32(st) % 3 == 0) {
			int err = lpm4_add(lpm, r[i].prefix, r[i].len, r[i].nh);
			CHECK_EQ(err, 0);
			lpm4_ref_add(ref, r[i].prefix, r[i].len, r[i].nh);
			present[i] = true;
		} else {
			int err = lpm4_delete(lpm, r[i].prefix, r[i].len);
			CHECK_EQ(err, 0);
			lpm4_ref_delete(ref, r[i].prefix, r[i].len);
			present[i] = false;
		}
		if (op % 500 == 0)
			bad += compare(lpm, ref, probes, n_probes / 8, "incremental");
	}
	bad += compare(lpm, ref, probes, n_probes, "incremental");

	/* A rebuild from the surviving routes answers the same. */
	struct lpm4_route *alive = calloc(N_ROUTES, sizeof(*alive));
	size_t n_alive = 0;
	for (size_t i = 0; i < N_ROUTES; i++) {
		uint32_t nh;
		if (present[i] && lpm4_get(lpm, r[i].prefix, r[i].len, &nh) == 0)
			alive[n_alive++] = (struct lpm4_route){r[i].prefix, r[i].len, nh};
	}
	CHECK_EQ(lpm4_replace_all(rebuilt, alive, n_alive), 0);
	for (size_t i = 0; i < n_probes; i++) {
		if (lpm4_lookup(rebuilt, probes[i]) != lpm4_lookup(lpm, probes[i]) && bad++ < 5)
			fprintf(stderr, "rebuild differs at %08x\n", probes[i]);
	}
	bad += compare(rebuilt, ref, probes, n_probes, "rebuilt");
	struct lpm4_stats s1, s2;
	lpm4_get_stats(lpm, &s1);
	lpm4_get_stats(rebuilt, &s2);
	CHECK_EQ(s1.routes, s2.routes);
	CHECK_EQ(s1.nodes, s2.nodes); /* the same routes give the same trie */
	CHECK_EQ(s1.leaves, s2.leaves);

	/* Bulk replacement of a populated table, including duplicates (the later one wins). */
	for (size_t i = 0; i < N_ROUTES; i++) {
		lpm4_ref_delete(ref, r[i].prefix, r[i].len);
		if (i % 7 == 3)
			r[i] = r[i - 1];		   /* a duplicate... */
		r[i].nh = 1 + ref_rand32(st) % (N_NH - 1); /* ...with its own next hop */
	}
	for (size_t i = 0; i < N_ROUTES; i++)
		lpm4_ref_add(ref, r[i].prefix, r[i].len, r[i].nh);
	CHECK_EQ(lpm4_replace_all(lpm, r, N_ROUTES), 0);
	bad += compare(lpm, ref, probes, n_probes, "replaced");
	lpm4_sync(lpm);

	/* Delete everything: back to no routes, no subtrees. */
	for (size_t i = 0; i < N_ROUTES; i++)
		CHECK(lpm4_delete(lpm, r[i].prefix, r[i].len) == (i % 7 == 3 ? -ENOENT : 0));
	lpm4_get_stats(lpm, &s1);
	CHECK_EQ(s1.routes, 0);
	CHECK_EQ(s1.subtrees, 0);
	CHECK_EQ(lpm4_lookup(lpm, probes[0]), LPM4_NH_NONE);

	CHECK_EQ(bad, 0);
	free(alive);
	free(present);
	free(probes);
	free(r);
	lpm4_ref_free(ref);
	lpm4_free(rebuilt);
	lpm4_free(lpm);
}

/*
 * A /19 with one answer points its dir entry at a shared leaf per next hop, in pages made usable
 * on first use: next hops on both sides of page boundaries, as whole-/19 answers and inside
 * blocks, give the right answers.
 */
static void test_nexthop_leaves(void)
{
	const uint32_t cap = 5000, nhs[] = {0, 1, 1023, 1024, 2047, 2048, 4095, 4096, 4999};
	struct nexthop_table *nht = nexthop_table_create(cap, 0);
	CHECK(nht != NULL);
	for (uint32_t i = 0; nht && i < cap; i++) {
		uint32_t idx;
		CHECK_EQ(add_gw4(nht, 0x0a000000u + i, 0, &idx), 0);
	}
	struct lpm4 *lpm = lpm4_create(nht);
	CHECK(lpm != NULL);
	for (uint32_t k = 0; k < ARRAY_SIZE(nhs); k++) {
		CHECK_EQ(lpm4_add(lpm, ip(20, k, 0, 0), 16, nhs[k]), 0);  /* 8 whole /19s */
		CHECK_EQ(lpm4_add(lpm, ip(30, k, 64, 0), 24, nhs[k]), 0); /* inside a block */
		CHECK_EQ(lpm4_add(lpm, ip(30, k, 64, 77), 32, nhs[(k + 1) % ARRAY_SIZE(nhs)]), 0);
	}
	for (uint32_t k = 0; k < ARRAY_SIZE(nhs); k++) {
		uint32_t a[3] = {ip(20, k, 255, 1), ip(30, k, 64, 1), ip(30, k, 64, 77)}, got[3];
		uint32_t want[3] = {nhs[k], nhs[k], nhs[(k + 1) % ARRAY_SIZE(nhs)]};
		CHECK_EQ(lpm4_lookup_batch(lpm, a, got, 3), 3);
		for (int i = 0; i < 3; i++) {
			CHECK_EQ(got[i], want[i]);
			CHECK_EQ(lpm4_lookup(lpm, a[i]), want[i]);
		}
	}
	lpm4_free(lpm);
	nexthop_table_free(nht);
}

static void test_nexthop_refs(void)
{
	struct nexthop_table *nht = nexthop_table_create(4, 0);
	struct lpm4 *lpm = lpm4_create(nht);
	uint32_t a, b, c, d, e;
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 1), 0, &a), 0);
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 2), 1, &b), 0);
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 1), 0, &c), 0); /* the same next hop again */
	CHECK_EQ(a, c);
	CHECK_EQ(nexthop_refcount(nht, a), 2);
	CHECK_EQ(nexthop_get(nht, b)->kind, NEXTHOP_GATEWAY);
	CHECK_EQ(nexthop_get(nht, b)->family, AF_INET);
	CHECK_EQ(nexthop_get(nht, b)->gw.v4, ip(192, 0, 2, 2));
	CHECK_EQ(nexthop_get(nht, b)->iface, 1);
	CHECK_EQ(lpm4_add(lpm, ip(10, 0, 0, 0), 8, a), 0);
	CHECK_EQ(lpm4_add(lpm, ip(10, 1, 0, 0), 24, a), 0);
	CHECK_EQ(nexthop_refcount(nht, a), 4);
	CHECK_EQ(lpm4_add(lpm, ip(10, 1, 0, 0), 24, b), 0); /* moves the reference */
	CHECK_EQ(nexthop_refcount(nht, a), 3);
	CHECK_EQ(nexthop_refcount(nht, b), 2);
	CHECK_EQ(nexthop_put(nht, b), 0); /* the route still holds b */
	CHECK_EQ(lpm4_lookup(lpm, ip(10, 1, 0, 1)), b);
	CHECK_EQ(lpm4_delete(lpm, ip(10, 1, 0, 0), 24), 0);
	CHECK_EQ(nexthop_refcount(nht, b), 0); /* retired */
	CHECK_EQ(lpm4_add(lpm, ip(10, 1, 0, 0), 24, b), -ENOENT);
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 3), 2, &d), 0);
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 4), 3, &e), 0);
	CHECK(d != b && e != b); /* b is not reused before a grace period */
	uint32_t f;
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 5), 3, &f), -ENOSPC);
	nexthop_table_reclaim(nht);
	CHECK_EQ(add_gw4(nht, ip(192, 0, 2, 5), 3, &f), 0);
	CHECK_EQ(f, b);
	lpm4_free(lpm); /* drops the routes' references */
	CHECK_EQ(nexthop_refcount(nht, a), 2);
	CHECK_EQ(nexthop_put(nht, 3999), -ENOENT);
	nexthop_table_free(nht);
}

int main(void)
{
	uint64_t st = test_seed("test_lpm4");
	struct nexthop_table *nht = make_nht();
	if (!nht) {
		fprintf(stderr, "cannot create next-hop table\n");
		return 1;
	}
	test_bad_input(nht);
	test_nesting(nht);
	test_layout_edges(nht, &st);
	test_random_updates(nht, &st);
	test_nexthop_refs();
	test_nexthop_leaves();
	for (uint32_t i = 0; i < N_NH; i++)
		CHECK_EQ(nexthop_refcount(nht, i), 1); /* every table dropped its references */
	nexthop_table_free(nht);
	return test_result("test_lpm4");
}
