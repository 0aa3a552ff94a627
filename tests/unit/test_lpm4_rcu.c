/*
 * test_lpm4_rcu: readers running while the control thread updates the table only ever see the old
 * or the new next hop of an address, never anything else, and memory is not reused while they
 * might still read it. Run it under ThreadSanitizer too (IXYD_SANITIZE=thread): that build checks
 * the publication and reclamation orders, the plain build and ASan the answers.
 *
 * Address groups and what a reader may see for each:
 *   A  10.1.k.1     /24 routes whose next hop flips 2 <-> 3 (in-place replace)    {2, 3}
 *   B  10.2.k.129   /25 routes added (nh 5) and deleted under a fixed /16 (nh 4)  {4, 5}
 *   C  20.x.200.9  a /12 (64 slots) flipping 6 <-> 7, rebuilding every subtree  {6, 7}
 *   D  20.k.1.1     /24 routes (nh 2) under that /12: never change               {2}
 *   E  30.k.0.1     no route ever                                                 {none}
 * Every few rounds the writer also replaces the whole table with replace_all() using the same
 * answers (so the sets above still hold), and it syncs often so freed blocks are reused quickly.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "lpm4.h"
#include "lpm4_ref.h"
#include "nexthop.h"
#include "rcu.h"
#include "test_util.h"

/* A gateway next hop: IPv4 gateway gw (host order) out of interface iface. */
static int add_gw4(struct nexthop_table *nht, uint32_t gw, iface_id_t iface, uint32_t *idx)
{
	struct nexthop_key k = {.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v4(gw)};
	return nexthop_add(nht, &k, idx);
}

#define N_PER_GROUP 48
#define N_GROUPS    5
#define N_ADDR	    (N_PER_GROUP * N_GROUPS)
#define N_READERS   2
#define BIT_NONE    (1u << 31)
#define MIN_ROUNDS  300
#define MIN_PASSES  100 /* per reader, while the writer runs */
#define HANG_GUARD  90	/* seconds: only a stuck thread gets there (ctest's limit is 120) */

static uint32_t addr[N_ADDR];
static uint32_t allowed[N_ADDR]; /* bit nh set if nh is allowed; BIT_NONE for no route */
static int stop;		 /* set by the writer; relaxed is enough, it only ends a loop */

struct reader_result {
	uint64_t lookups;
	uint64_t violations;
	uint64_t passes; /* over the whole table; atomic: the writer watches it */
};

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

static void *reader(void *arg)
{
	struct lpm4 *lpm = ((void **)arg)[0];
	struct reader_result *res = ((void **)arg)[1];
	uint32_t nh[N_ADDR];

	rcu_reader_register();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		lpm4_lookup_batch(lpm, addr, nh, N_ADDR);
		for (unsigned i = 0; i < N_ADDR; i += 7) /* and the single lookup too */
			nh[i] = lpm4_lookup(lpm, addr[i]);
		for (unsigned i = 0; i < N_ADDR; i++) {
			uint32_t bit = nh[i] == LPM4_NH_NONE ? BIT_NONE
				       : nh[i] < 31	     ? 1u << nh[i]
							     : 0;
			if (!(allowed[i] & bit) && res->violations++ < 5)
				fprintf(stderr, "reader: %08x -> %u, not allowed\n", addr[i],
					nh[i]);
		}
		res->lookups += N_ADDR;
		__atomic_store_n(&res->passes, res->passes + 1, __ATOMIC_RELAXED);
		rcu_quiescent(); /* one report per "poll loop" */
	}
	rcu_reader_offline();
	rcu_reader_unregister();
	return NULL;
}

/* The writer's route set, for replace_all(); flip chooses group A's and C's next hops. */
static size_t route_set(struct lpm4_route *r, const bool *b_present, int flip_a, int flip_c)
{
	size_t n = 0;
	r[n++] = (struct lpm4_route){ip(10, 2, 0, 0), 16, 4};
	r[n++] = (struct lpm4_route){ip(20, 0, 0, 0), 12, (uint32_t)(6 + flip_c)};
	for (unsigned k = 0; k < N_PER_GROUP; k++) {
		r[n++] = (struct lpm4_route){ip(10, 1, k, 0), 24, (uint32_t)(2 + flip_a)};
		if (b_present[k])
			r[n++] = (struct lpm4_route){ip(10, 2, k, 128), 25, 5};
		r[n++] = (struct lpm4_route){ip(20, k / 3, 1 + (k % 3) * 64, 0), 24, 2};
	}
	return n;
}

int main(void)
{
	uint64_t st = test_seed("test_lpm4_rcu");
	struct nexthop_table *nht = nexthop_table_create(8, 0);
	for (uint32_t i = 0; nht && i < 8; i++) {
		uint32_t idx;
		CHECK(add_gw4(nht, 0x0a000000u + i, 0, &idx) == 0 && idx == i);
	}
	struct lpm4 *lpm = nht ? lpm4_create(nht) : NULL;
	if (!lpm) {
		fprintf(stderr, "cannot create tables\n");
		return 1;
	}
	for (unsigned k = 0; k < N_PER_GROUP; k++) {
		addr[k] = ip(10, 1, k, 1);
		allowed[k] = 1u << 2 | 1u << 3;
		addr[N_PER_GROUP + k] = ip(10, 2, k, 129);
		allowed[N_PER_GROUP + k] = 1u << 4 | 1u << 5;
		addr[2 * N_PER_GROUP + k] = ip(20, k % 16, 200 + k / 16, 9);
		allowed[2 * N_PER_GROUP + k] = 1u << 6 | 1u << 7;
		addr[3 * N_PER_GROUP + k] = ip(20, k / 3, 1 + (k % 3) * 64, 1);
		allowed[3 * N_PER_GROUP + k] = 1u << 2;
		addr[4 * N_PER_GROUP + k] = ip(30, k, 0, 1);
		allowed[4 * N_PER_GROUP + k] = BIT_NONE;
	}
	static struct lpm4_route routes[3 * N_PER_GROUP + 2];
	bool b_present[N_PER_GROUP] = {0};
	int flip_a = 0, flip_c = 0;
	CHECK_EQ(lpm4_replace_all(lpm, routes, route_set(routes, b_present, 0, 0)), 0);

	pthread_t th[N_READERS];
	struct reader_result res[N_READERS] = {{0}};
	void *args[N_READERS][2];
	for (int i = 0; i < N_READERS; i++) {
		args[i][0] = lpm;
		args[i][1] = &res[i];
		if (pthread_create(&th[i], NULL, reader, args[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}

	/* Writer: rounds of updates until both MIN_ROUNDS rounds are done and every reader has
	 * made MIN_PASSES passes since the writer started (so they overlap the updates), however
	 * long that takes (TSan is slow). Only a stuck thread hits the hang guard, and the
	 * checks below then say which. */
	uint64_t passes_at_start[N_READERS];
	for (int i = 0; i < N_READERS; i++)
		passes_at_start[i] = __atomic_load_n(&res[i].passes, __ATOMIC_RELAXED);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned rounds = 0;
	for (;; rounds++) {
		bool readers_done = true;
		for (int i = 0; i < N_READERS; i++)
			readers_done &= __atomic_load_n(&res[i].passes, __ATOMIC_RELAXED) -
					    passes_at_start[i] >=
					MIN_PASSES;
		if (rounds >= MIN_ROUNDS && readers_done)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > HANG_GUARD) {
			fprintf(stderr, "hang guard: stopping after %d s\n", HANG_GUARD);
			break;
		}
		unsigned k = ref_rand32(&st);
		switch (rounds % 4) {
		case 0: /* A: flip one /24's next hop, then all of them */
			flip_a ^= 1;
			for (unsigned j = 0; j < N_PER_GROUP; j++)
				CHECK_EQ(lpm4_add(lpm, ip(10, 1, j, 0), 24, (uint32_t)(2 + flip_a)),
					 0);
			break;
		case 1: /* B: add or delete a /25 */
			k %= N_PER_GROUP;
			if (b_present[k])
				CHECK_EQ(lpm4_delete(lpm, ip(10, 2, k, 128), 25), 0);
			else
				CHECK_EQ(lpm4_add(lpm, ip(10, 2, k, 128), 25, 5), 0);
			b_present[k] = !b_present[k];
			break;
		case 2: /* C: flip the /12 over the D subtrees */
			flip_c ^= 1;
			CHECK_EQ(lpm4_add(lpm, ip(20, 0, 0, 0), 12, (uint32_t)(6 + flip_c)), 0);
			break;
		case 3: /* everything at once, now and then */
			if (rounds % 16 == 3)
				CHECK_EQ(
				    lpm4_replace_all(lpm, routes,
						     route_set(routes, b_present, flip_a, flip_c)),
				    0);
			break;
		}
		if (rounds % 8 == 0)
			lpm4_sync(lpm); /* free and reuse blocks readers have just stopped using */
	}
	uint64_t passes_at_end[N_READERS];
	for (int i = 0; i < N_READERS; i++)
		passes_at_end[i] = __atomic_load_n(&res[i].passes, __ATOMIC_RELAXED);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	uint64_t lookups = 0, violations = 0;
	for (int i = 0; i < N_READERS; i++) {
		pthread_join(th[i], NULL);
		lookups += res[i].lookups;
		violations += res[i].violations;
	}
	printf("test_lpm4_rcu: %u update rounds, %llu lookups by %d readers, %llu violations\n",
	       rounds, (unsigned long long)lookups, N_READERS, (unsigned long long)violations);
	CHECK_EQ(violations, 0);
	CHECK(rounds >= MIN_ROUNDS);
	for (int i = 0; i < N_READERS; i++) {
		printf("reader %d: %llu passes during the updates\n", i,
		       (unsigned long long)(passes_at_end[i] - passes_at_start[i]));
		CHECK(passes_at_end[i] - passes_at_start[i] >= MIN_PASSES);
	}
	lpm4_free(lpm);
	nexthop_table_free(nht);
	return test_result("test_lpm4_rcu");
}
