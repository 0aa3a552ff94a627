/*
 * test_neigh: neighbour states driven by a test clock: incomplete with queued packets, resolution
 * releasing them in order, reachable -> stale -> gone, retransmissions and giving up, the queue
 * limit, capacity, flush by port; and a reader thread looking up while the control thread churns
 * (answers are only ever "none", "incomplete" or the one MAC ever used for an address).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "neigh.h"
#include "rcu.h"
#include "test_util.h"

static int freed[64];

static void free_pkt(void *ctx, void *pkt)
{
	(void)ctx;
	freed[(uintptr_t)pkt]++;
}

#define PKT(n) ((void *)(uintptr_t)(n))

static void test_states(void)
{
	struct neigh_table *t = neigh_table_create(&(struct neigh_config){.capacity = 3,
									  .reachable_ms = 1000,
									  .stale_ms = 5000,
									  .retrans_ms = 100,
									  .max_probes = 3,
									  .queue_len = 2,
									  .free_pkt = free_pkt});
	uint8_t mac[6], m1[6] = {2, 0, 0, 0, 0, 1}, m2[6] = {2, 0, 0, 0, 0, 2};
	uint16_t port;
	bool req;
	void *rel[8];
	unsigned n_rel, queued;
	struct neigh_res res;
	uint32_t probes[4];
	const uint32_t A = 0x0a000001, B = 0x0a000002, C = 0x0a000003, D = 0x0a000004;

	CHECK(t != NULL);
	CHECK_EQ(neigh_lookup(t, A, mac, &port), -ENOENT);
	/* Incomplete: the first packet creates the entry and asks for a request. */
	CHECK_EQ(neigh_resolve(t, A, PKT(1), 0, &req), -EAGAIN);
	CHECK(req);
	CHECK_EQ(neigh_lookup(t, A, mac, &port), -EAGAIN);
	CHECK_EQ(neigh_resolve(t, A, PKT(2), 10, &req), -EAGAIN);
	CHECK(!req);
	CHECK_EQ(neigh_resolve(t, A, PKT(3), 20, &req), -EAGAIN); /* queue of 2: drops 1 */
	CHECK_EQ(freed[1], 1);
	CHECK_EQ(neigh_get(t, A, &res, &queued), 0);
	CHECK(res.state == NEIGH_INCOMPLETE && queued == 2);
	/* Retransmission after retrans_ms. */
	CHECK_EQ(neigh_tick(t, 50, probes, 4), 0);
	CHECK_EQ(neigh_tick(t, 100, probes, 4), 1);
	CHECK_EQ(probes[0], A);
	/* The reply resolves it and releases the queue, oldest first. */
	CHECK_EQ(neigh_update(t, A, m1, 4, 150, rel, 8, &n_rel), 0);
	CHECK_EQ(n_rel, 2);
	CHECK(rel[0] == PKT(2) && rel[1] == PKT(3));
	CHECK_EQ(neigh_lookup(t, A, mac, &port), 0);
	CHECK(memcmp(mac, m1, 6) == 0 && port == 4);
	CHECK_EQ(neigh_resolve(t, A, PKT(4), 160, &req), 0); /* usable: not taken */
	/* Reachable -> stale after reachable_ms, still usable; a confirmation makes it reachable.
	 */
	neigh_tick(t, 1149, probes, 4);
	CHECK(neigh_get(t, A, &res, &queued) == 0 && res.state == NEIGH_REACHABLE);
	neigh_tick(t, 1150, probes, 4);
	CHECK(neigh_get(t, A, &res, &queued) == 0 && res.state == NEIGH_STALE);
	CHECK_EQ(neigh_lookup(t, A, mac, &port), 0);
	CHECK_EQ(neigh_update(t, A, m2, 5, 2000, rel, 8, &n_rel), 0); /* moved */
	CHECK(neigh_get(t, A, &res, &queued) == 0 && res.state == NEIGH_REACHABLE);
	CHECK(neigh_lookup(t, A, mac, &port) == 0 && memcmp(mac, m2, 6) == 0 && port == 5);
	neigh_tick(t, 3000, probes, 4);
	CHECK(neigh_get(t, A, &res, &queued) == 0 && res.state == NEIGH_STALE);
	neigh_tick(t, 6999, probes, 4);
	CHECK_EQ(neigh_get(t, A, &res, &queued), 0);
	neigh_tick(t, 7000, probes, 4); /* stale_ms after the last confirmation */
	CHECK_EQ(neigh_get(t, A, &res, &queued), -ENOENT);

	/* Giving up: max_probes requests unanswered, the queue is dropped. */
	CHECK_EQ(neigh_resolve(t, B, PKT(10), 10000, &req), -EAGAIN);
	CHECK_EQ(neigh_tick(t, 10100, probes, 4), 1); /* request 2 */
	CHECK_EQ(neigh_tick(t, 10200, probes, 4), 1); /* request 3 */
	CHECK_EQ(neigh_tick(t, 10300, probes, 4), 0); /* gives up */
	CHECK_EQ(neigh_get(t, B, &res, &queued), -ENOENT);
	CHECK_EQ(freed[10], 1);

	/* Capacity 3, and flush by port. */
	CHECK_EQ(neigh_update(t, A, m1, 1, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, B, m1, 2, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, C, m2, 1, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, D, m2, 1, 20000, rel, 8, &n_rel), -ENOSPC);
	CHECK_EQ(neigh_resolve(t, D, PKT(11), 20000, &req), -ENOSPC);
	CHECK_EQ(freed[11], 0); /* not taken */
	CHECK_EQ(neigh_flush_port(t, 1), 2);
	CHECK_EQ(neigh_delete(t, B), 0);
	CHECK_EQ(neigh_delete(t, B), -ENOENT);

	/* Free drops what is still queued. */
	CHECK_EQ(neigh_resolve(t, D, PKT(12), 30000, &req), -EAGAIN);
	struct neigh_stats st;
	neigh_get_stats(t, &st);
	CHECK_EQ(st.resolved, 1);
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.refused_full, 2);
	CHECK_EQ(st.entries, 1);
	neigh_table_free(t);
	CHECK_EQ(freed[12], 1);
	neigh_table_free(NULL);
	CHECK(neigh_table_create(&(struct neigh_config){.capacity = 1}) == NULL); /* no free_pkt */
}

static int stop_reader;
static unsigned long reader_passes; /* over all 64 addresses; atomic */

static void *reader(void *arg)
{
	struct neigh_table *t = arg;
	unsigned long bad = 0;
	rcu_reader_register();
	while (!__atomic_load_n(&stop_reader, __ATOMIC_RELAXED)) {
		for (uint32_t ip = 1; ip <= 64; ip++) {
			uint8_t mac[6];
			uint16_t port;
			int r = neigh_lookup(t, ip, mac, &port);
			/* The control thread only ever gives ip the MAC 02:00:00:00:00:ip on port
			 * ip. */
			if (r == 0 && (mac[5] != ip || mac[0] != 2 || port != ip))
				bad++;
			else if (r != 0 && r != -ENOENT && r != -EAGAIN)
				bad++;
		}
		__atomic_add_fetch(&reader_passes, 1, __ATOMIC_RELAXED);
		rcu_quiescent();
	}
	rcu_reader_unregister();
	return (void *)bad;
}

static void test_concurrent_readers(void)
{
	struct neigh_table *t = neigh_table_create(&(struct neigh_config){
	    .capacity = 64, .reachable_ms = 3, .stale_ms = 7, .free_pkt = free_pkt});
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, reader, t), 0);
	/* The writer must not finish before the reader even starts: wait for its first pass. */
	while (__atomic_load_n(&reader_passes, __ATOMIC_RELAXED) == 0)
		sched_yield();
	unsigned long passes_before = __atomic_load_n(&reader_passes, __ATOMIC_RELAXED);
	for (uint64_t now = 0; now < 3000; now++) {
		uint32_t ip = 1 + (uint32_t)(now * 7 % 64);
		uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)ip};
		void *rel[4];
		unsigned n_rel;
		bool req;
		if (now % 3 == 0) {
			/* Capacity 64 for 64 addresses: usable (0) or queued (-EAGAIN), never
			 * refused. */
			int r = neigh_resolve(t, ip, PKT(0), now, &req);
			CHECK(r == 0 || r == -EAGAIN);
		} else {
			CHECK_EQ(neigh_update(t, ip, mac, (uint16_t)ip, now, rel, 4, &n_rel), 0);
		}
		uint32_t probes[64];
		if (now % 5 == 0)
			neigh_tick(t, now, probes, 64); /* ages, deletes, waits for the reader */
	}
	/* The ticks' grace periods wait for the reader's next pass, so it overlapped the writes. */
	CHECK(__atomic_load_n(&reader_passes, __ATOMIC_RELAXED) > passes_before);
	__atomic_store_n(&stop_reader, 1, __ATOMIC_RELAXED);
	void *bad;
	pthread_join(th, &bad);
	CHECK_EQ((uintptr_t)bad, 0);
	neigh_table_free(t);
}

int main(void)
{
	test_states();
	test_concurrent_readers();
	return test_result("test_neigh");
}
