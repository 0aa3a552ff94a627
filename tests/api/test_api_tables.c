/*
 * test_api_tables: the table queries the REST API added to tables/: lpm4_walk() (every route once,
 * in (prefix, len) order, any page start) against a sorted copy of what was added; mac_table_walk()
 * against the stations learnt (and mac_table_flush_port() removing exactly one port's);
 * neigh_set_static() (used, never aged, not changed by ARP, listed by neigh_walk()). Random
 * routes print their seed; TEST_SEED=N replays a run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "lpm4.h"
#include "mac_table.h"
#include "neigh.h"
#include "nexthop.h"

struct r {
	uint32_t prefix, nh;
	uint8_t len;
};

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return (uint32_t)(rng >> 11);
}

static int cmp(const void *a, const void *b)
{
	const struct r *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (int)x->len - (int)y->len;
}

/* Field by field: struct r has padding after len, whose bytes the compound literals that fill
 * both arrays leave unspecified, so memcmp could tell equal routes apart. */
static bool same_routes(const struct r *a, const struct r *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].prefix != b[i].prefix || a[i].len != b[i].len || a[i].nh != b[i].nh) {
			fprintf(stderr, "route %zu: got %08x/%u nh %u, want %08x/%u nh %u\n", i,
				a[i].prefix, a[i].len, a[i].nh, b[i].prefix, b[i].len, b[i].nh);
			return false;
		}
	return true;
}

struct collect {
	struct r *got;
	size_t n, max;
};

static int collect_one(void *arg, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct collect *c = arg;
	if (c->n == c->max)
		return 7; /* stop: returned by the walk */
	c->got[c->n++] = (struct r){prefix, nh, len};
	return 0;
}

static void test_lpm4_walk(void)
{
	enum { N = 20000 };
	struct nexthop_table *nht = nexthop_table_create(16, 0);
	struct lpm4 *lpm = lpm4_create(nht);
	struct r *ref = calloc(N, sizeof(*ref)), *got = calloc(N, sizeof(*got));
	uint32_t nh[4];
	CHECK(nht && lpm && ref && got);
	for (int i = 0; i < 4; i++) {
		struct nexthop_key k = {.kind = NEXTHOP_GATEWAY,
					.iface = 0,
					.gw = ip_addr_v4(0x0a000001 + (uint32_t)i)};
		CHECK_EQ(nexthop_add(nht, &k, &nh[i]), 0);
	}
	size_t n = 0;
	for (size_t i = 0; i < N; i++) {
		/* Lengths over the whole range, with nesting: short ones, /18 and /19 around the
		 * dir boundary, and clusters in few /8s so slots hold several. */
		uint8_t len = (uint8_t)(i % 5 == 0 ? rnd() % 19 : 16 + rnd() % 17);
		uint32_t addr = (rnd() % 4) << 24 | (rnd() & 0x00ffffff);
		uint32_t prefix = len ? addr & (UINT32_MAX << (32 - len)) : 0;
		uint32_t h = nh[rnd() % 4], old;
		if (lpm4_get(lpm, prefix, len, &old) == 0)
			continue;
		CHECK_EQ(lpm4_add(lpm, prefix, len, h), 0);
		ref[n++] = (struct r){prefix, h, len};
	}
	qsort(ref, n, sizeof(*ref), cmp);
	struct collect c = {.got = got, .max = N};
	CHECK_EQ(lpm4_walk(lpm, 0, collect_one, &c), 0);
	CHECK_EQ(c.n, n);
	CHECK(same_routes(got, ref, n));
	/* Pages: any start, any length, equal the slice of the reference. */
	for (int k = 0; k < 200; k++) {
		size_t skip = rnd() % (n + 10), len = 1 + rnd() % 300;
		struct collect p = {.got = got, .max = len};
		int rc = lpm4_walk(lpm, skip, collect_one, &p);
		size_t want = skip >= n ? 0 : (n - skip < len ? n - skip : len);
		CHECK_EQ(p.n, want);
		CHECK(rc == (skip + len < n ? 7 : 0) || (skip + len == n && rc == 0));
		CHECK(same_routes(got, ref + (skip < n ? skip : 0), want));
	}
	lpm4_free(lpm);
	nexthop_table_free(nht);
	free(ref);
	free(got);
}

static int mac_seen[256];
static int mac_collect(void *arg, const struct mac_table_entry *e)
{
	(void)arg;
	if (e->mac[0] == 2 && e->bridge == 1 && e->port == e->mac[5] % 4 && e->last_seen_s == 100)
		mac_seen[e->mac[5]]++;
	else
		mac_seen[0] = -1000; /* something we never learnt */
	return 0;
}

static void test_mac_walk(void)
{
	struct mac_table *t = mac_table_create(&(struct mac_table_config){.capacity = 1024});
	CHECK(t != NULL);
	for (int i = 1; i < 200; i++) {
		uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)i};
		CHECK_EQ(mac_table_learn(t, mac, 1, (uint16_t)(i % 4), 100), MAC_LEARN_NEW);
	}
	CHECK_EQ(mac_table_walk(t, mac_collect, NULL), 199);
	for (int i = 1; i < 200; i++)
		CHECK_EQ(mac_seen[i], 1);
	CHECK(mac_seen[0] == 0);
	CHECK_EQ(mac_table_flush_port(t, 3), 50);
	memset(mac_seen, 0, sizeof(mac_seen));
	CHECK_EQ(mac_table_walk(t, mac_collect, NULL), 149);
	/* Exactly port 3's stations are gone; every other one is still there, once. */
	for (int i = 1; i < 200; i++)
		CHECK_EQ(mac_seen[i], i % 4 == 3 ? 0 : 1);
	CHECK(mac_seen[0] == 0);
	mac_table_free(t);
}

static void free_pkt(void *ctx, void *pkt)
{
	(void)ctx;
	(void)pkt;
}

struct neigh_seen {
	int n;
	uint8_t state;
};

static int neigh_collect(void *arg, const struct neigh_key *key, const struct neigh_res *res,
			 unsigned queued)
{
	struct neigh_seen *s = arg;
	(void)queued;
	if (key->iface == 3 && key->ip.family == AF_INET && key->ip.v4 == 0x0a000002)
		s->state = res->state;
	s->n++;
	return 0;
}

static void test_neigh_static(void)
{
	struct neigh_table *t =
	    neigh_table_create(&(struct neigh_config){.capacity = 8, .free_pkt = free_pkt});
	const uint8_t m1[6] = {2, 0, 0, 0, 0, 1}, m2[6] = {2, 0, 0, 0, 0, 2};
	uint8_t mac[6];
	const struct ip_addr a2 = ip_addr_v4(0x0a000002), a3 = ip_addr_v4(0x0a000003);
	void *rel[4];
	unsigned n_rel;
	bool ask;
	CHECK(t != NULL);
	/* A packet waits for the address; making it static releases it. */
	CHECK_EQ(neigh_resolve(t, 3, &a2, (void *)1, 0, &ask), -EAGAIN);
	CHECK_EQ(neigh_set_static(t, 3, &a2, m1, rel, 4, &n_rel), 0);
	CHECK(n_rel == 1 && rel[0] == (void *)1);
	CHECK_EQ(neigh_lookup(t, 3, &a2, mac), 0);
	CHECK(memcmp(mac, m1, 6) == 0);
	/* ARP does not change it; time does not age it. */
	CHECK_EQ(neigh_update(t, 3, &a2, m2, 10, rel, 4, &n_rel), 0);
	CHECK_EQ(neigh_lookup(t, 3, &a2, mac), 0);
	CHECK(memcmp(mac, m1, 6) == 0);
	struct neigh_key probes[4];
	neigh_tick(t, 10ull * 3600 * 1000, probes, 4);
	CHECK_EQ(neigh_lookup(t, 3, &a2, mac), 0);
	/* A learnt entry beside it does age. */
	CHECK_EQ(neigh_update(t, 3, &a3, m2, 10ull * 3600 * 1000, rel, 4, &n_rel), 0);
	struct neigh_seen s = {0};
	CHECK_EQ(neigh_walk(t, neigh_collect, &s), 0);
	CHECK(s.n == 2 && s.state == NEIGH_STATIC);
	neigh_tick(t, 20ull * 3600 * 1000, probes, 4); /* reachable -> stale */
	neigh_tick(t, 30ull * 3600 * 1000, probes, 4); /* stale -> gone */
	s = (struct neigh_seen){0};
	neigh_walk(t, neigh_collect, &s);
	CHECK(s.n == 1 && s.state == NEIGH_STATIC);
	/* Deleting is the way out. */
	CHECK_EQ(neigh_delete(t, 3, &a2), 0);
	CHECK_EQ(neigh_lookup(t, 3, &a2, mac), -ENOENT);
	neigh_table_free(t);
}

int main(void)
{
	const char *env = getenv("TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u | 1;
	printf("test_api_tables: seed %llu (TEST_SEED=%llu replays)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	rng = seed ? seed : 1;
	test_lpm4_walk();
	test_mac_walk();
	test_neigh_static();
	return check_report("test_api_tables");
}
