/*
 * test_lpm4_full: the IPv4 LPM on the full Internet table (../shared/data), against the
 * brute-force reference: millions of lookups (random addresses and addresses inside routes) with
 * zero mismatches, for a bulk build and for a table built by single adds in random order and then
 * thinned by deletes in random order. Skips (77) when the data is absent.
 *
 * usage: test_lpm4_full ROUTE_FILE [LOOKUPS]
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lpm4.h"
#include "lpm4_ref.h"
#include "nexthop.h"
#include "test_util.h"

/* A gateway next hop: IPv4 gateway gw (host order) out of interface iface. */
static int add_gw4(struct nexthop_table *nht, uint32_t gw, iface_id_t iface, uint32_t *idx)
{
	struct nexthop_key k = {.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v4(gw)};
	return nexthop_add(nht, &k, idx);
}

static size_t check_all(const struct lpm4 *lpm, const struct lpm4_ref *ref, const uint32_t *a,
			size_t n, const char *what)
{
	uint32_t nh[LPM4_BATCH_MAX];
	size_t bad = 0;
	for (size_t i = 0; i < n; i += LPM4_BATCH_MAX) {
		unsigned m = (unsigned)(n - i < LPM4_BATCH_MAX ? n - i : LPM4_BATCH_MAX);
		lpm4_lookup_batch(lpm, a + i, nh, m);
		for (unsigned j = 0; j < m; j++) {
			uint32_t want = lpm4_ref_lookup(ref, a[i + j]);
			uint32_t single = (j & 7) == 0 ? lpm4_lookup(lpm, a[i + j]) : nh[j];
			if ((nh[j] != want || single != want) && bad++ < 10)
				fprintf(stderr, "%s: %08x -> %u (single %u), reference %u\n", what,
					a[i + j], nh[j], single, want);
		}
	}
	printf("%s: %zu lookups, %zu mismatches\n", what, n, bad);
	return bad;
}

int main(int argc, char **argv)
{
	struct lpm4_route *r = NULL;
	size_t n = 0, n_lookups = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000000;
	uint32_t max_nh;

	if (argc < 2) {
		fprintf(stderr, "usage: test_lpm4_full ROUTE_FILE [LOOKUPS]\n");
		return 2;
	}
	if (access(argv[1], R_OK) != 0) {
		printf("test_lpm4_full: SKIP: %s not found (the shared test data is absent)\n",
		       argv[1]);
		return TEST_SKIP;
	}
	uint64_t st = test_seed("test_lpm4_full");
	int err = route_file_read(argv[1], &r, &n, &max_nh);
	if (err < 0) {
		fprintf(stderr, "cannot read %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	struct nexthop_table *nht = nexthop_table_create(max_nh + 1, 0);
	for (uint32_t i = 0; nht && i <= max_nh; i++) {
		uint32_t idx;
		CHECK(add_gw4(nht, 0x0a000000u + i, 0, &idx) == 0 && idx == i);
	}
	struct lpm4 *bulk = lpm4_create(nht), *inc = lpm4_create(nht);
	struct lpm4_ref *ref = lpm4_ref_create(n);
	uint32_t *a = malloc(n_lookups * sizeof(*a));
	size_t *order = malloc(n * sizeof(*order));
	if (!nht || !bulk || !inc || !ref || !a || !order) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		lpm4_ref_add(ref, r[i].prefix, r[i].len, r[i].nh);
	/* Half random addresses, half inside a random route. */
	for (size_t i = 0; i < n_lookups; i++) {
		const struct lpm4_route *rt = &r[ref_rand64(&st) % n];
		a[i] = i & 1 ? ref_rand32(&st) : ref_addr_in(rt->prefix, rt->len, &st);
	}

	/* 1. Bulk build. */
	CHECK_EQ(lpm4_replace_all(bulk, r, n), 0);
	struct lpm4_stats s;
	lpm4_get_stats(bulk, &s);
	printf("bulk: %zu routes, lookup memory %.2f MiB\n", s.routes, s.lookup_bytes / 1048576.0);
	CHECK_EQ(check_all(bulk, ref, a, n_lookups, "bulk"), 0);

	/* 2. Single adds in random order. */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = ref_rand64(&st) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(lpm4_add(inc, r[order[i]].prefix, r[order[i]].len, r[order[i]].nh), 0);
	CHECK_EQ(check_all(inc, ref, a, n_lookups, "incremental adds"), 0);
	struct lpm4_stats si;
	lpm4_get_stats(inc, &si);
	CHECK_EQ(si.nodes, s.nodes); /* the same route set gives the same trie */
	CHECK_EQ(si.leaves, s.leaves);

	/* 3. Delete a random half (in the shuffled order), compare with the reference and with a
	 * bulk rebuild of the survivors. */
	size_t kept = 0;
	struct lpm4_route *survivors = malloc(n * sizeof(*survivors));
	CHECK(survivors != NULL);
	for (size_t i = 0; survivors && i < n; i++) {
		const struct lpm4_route *rt = &r[order[i]];
		if (i % 2 == 0) {
			CHECK_EQ(lpm4_delete(inc, rt->prefix, rt->len), 0);
			lpm4_ref_delete(ref, rt->prefix, rt->len);
		} else {
			survivors[kept++] = *rt;
		}
	}
	CHECK_EQ(check_all(inc, ref, a, n_lookups / 2, "after deletes"), 0);
	CHECK_EQ(lpm4_replace_all(bulk, survivors, kept), 0);
	free(survivors);
	size_t diff = 0;
	for (size_t i = 0; i < n_lookups; i++)
		diff += lpm4_lookup(bulk, a[i]) != lpm4_lookup(inc, a[i]);
	printf("rebuild vs incremental: %zu differences\n", diff);
	CHECK_EQ(diff, 0);

	lpm4_free(inc);
	lpm4_free(bulk);
	nexthop_table_free(nht);
	lpm4_ref_free(ref);
	free(order);
	free(a);
	free(r);
	return test_result("test_lpm4_full");
}
