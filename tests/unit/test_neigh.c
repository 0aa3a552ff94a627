/*
 * test_neigh: neighbour states driven by a test clock: incomplete with queued packets, resolution
 * releasing them in order, reachable -> stale -> gone, retransmissions and giving up, the queue
 * limit, capacity, flush by interface; keys of both families, the same address on two interfaces
 * being two entries, probes and walks that name the interface; and a reader thread looking up
 * addresses of both families while the control thread churns (answers are only ever "none",
 * "incomplete" or the one MAC ever used for a key, and never a hit on another interface).
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

/* 2001:db8::n */
static struct ip_addr v6(uint16_t n)
{
	uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(n >> 8), [15] = (uint8_t)n};
	return ip_addr_v6(b);
}

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
	bool req;
	void *rel[8];
	unsigned n_rel, queued;
	struct neigh_res res;
	struct neigh_key probes[4];
	const struct ip_addr a = ip_addr_v4(0x0a000001), b = ip_addr_v4(0x0a000002),
			     c = ip_addr_v4(0x0a000003), d = ip_addr_v4(0x0a000004);
	const struct ip_addr *A = &a, *B = &b, *C = &c, *D = &d;
	const iface_id_t I = 7; /* the interface of A..D unless said otherwise */

	CHECK(t != NULL);
	CHECK_EQ(neigh_lookup(t, I, A, mac), -ENOENT);
	/* Incomplete: the first packet creates the entry and asks for a request. */
	CHECK_EQ(neigh_resolve(t, I, A, PKT(1), 0, &req), -EAGAIN);
	CHECK(req);
	CHECK_EQ(neigh_lookup(t, I, A, mac), -EAGAIN);
	CHECK_EQ(neigh_resolve(t, I, A, PKT(2), 10, &req), -EAGAIN);
	CHECK(!req);
	CHECK_EQ(neigh_resolve(t, I, A, PKT(3), 20, &req), -EAGAIN); /* queue of 2: drops 1 */
	CHECK_EQ(freed[1], 1);
	CHECK_EQ(neigh_get(t, I, A, &res, &queued), 0);
	CHECK(res.state == NEIGH_INCOMPLETE && queued == 2);
	/* Retransmission after retrans_ms. */
	CHECK_EQ(neigh_tick(t, 50, probes, 4), 0);
	CHECK_EQ(neigh_tick(t, 100, probes, 4), 1);
	CHECK(probes[0].iface == I && ip_addr_equal(&probes[0].ip, A));
	/* The reply resolves it and releases the queue, oldest first. */
	CHECK_EQ(neigh_update(t, I, A, m1, 150, rel, 8, &n_rel), 0);
	CHECK_EQ(n_rel, 2);
	CHECK(rel[0] == PKT(2) && rel[1] == PKT(3));
	CHECK_EQ(neigh_lookup(t, I, A, mac), 0);
	CHECK(memcmp(mac, m1, 6) == 0);
	CHECK_EQ(neigh_lookup4(t, I, a.v4, mac), 0);
	CHECK(memcmp(mac, m1, 6) == 0);
	CHECK_EQ(neigh_lookup4(t, I + 1, a.v4, mac), -ENOENT);	/* the key includes the interface */
	CHECK_EQ(neigh_resolve(t, I, A, PKT(4), 160, &req), 0); /* usable: not taken */
	/* Reachable -> stale after reachable_ms, still usable; a confirmation makes it reachable.
	 */
	neigh_tick(t, 1149, probes, 4);
	CHECK(neigh_get(t, I, A, &res, &queued) == 0 && res.state == NEIGH_REACHABLE);
	neigh_tick(t, 1150, probes, 4);
	CHECK(neigh_get(t, I, A, &res, &queued) == 0 && res.state == NEIGH_STALE);
	CHECK_EQ(neigh_lookup(t, I, A, mac), 0);
	CHECK_EQ(neigh_update(t, I, A, m2, 2000, rel, 8, &n_rel), 0); /* moved */
	CHECK(neigh_get(t, I, A, &res, &queued) == 0 && res.state == NEIGH_REACHABLE);
	CHECK(neigh_lookup(t, I, A, mac) == 0 && memcmp(mac, m2, 6) == 0);
	CHECK(neigh_lookup4(t, I, a.v4, mac) == 0 && memcmp(mac, m2, 6) == 0);
	neigh_tick(t, 3000, probes, 4);
	CHECK(neigh_get(t, I, A, &res, &queued) == 0 && res.state == NEIGH_STALE);
	neigh_tick(t, 6999, probes, 4);
	CHECK_EQ(neigh_get(t, I, A, &res, &queued), 0);
	neigh_tick(t, 7000, probes, 4); /* stale_ms after the last confirmation */
	CHECK_EQ(neigh_get(t, I, A, &res, &queued), -ENOENT);

	/* Giving up: max_probes requests unanswered, the queue is dropped. */
	CHECK_EQ(neigh_resolve(t, I, B, PKT(10), 10000, &req), -EAGAIN);
	CHECK_EQ(neigh_tick(t, 10100, probes, 4), 1); /* request 2 */
	CHECK_EQ(neigh_tick(t, 10200, probes, 4), 1); /* request 3 */
	CHECK_EQ(neigh_tick(t, 10300, probes, 4), 0); /* gives up */
	CHECK_EQ(neigh_get(t, I, B, &res, &queued), -ENOENT);
	CHECK_EQ(freed[10], 1);

	/* Capacity 3, and flush by interface. */
	CHECK_EQ(neigh_update(t, 1, A, m1, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, 2, B, m1, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, 1, C, m2, 20000, rel, 8, &n_rel), 0);
	CHECK_EQ(neigh_update(t, 1, D, m2, 20000, rel, 8, &n_rel), -ENOSPC);
	CHECK_EQ(neigh_resolve(t, I, D, PKT(11), 20000, &req), -ENOSPC);
	CHECK_EQ(freed[11], 0); /* not taken */
	CHECK_EQ(neigh_flush_iface(t, 1), 2);
	CHECK_EQ(neigh_get(t, 1, A, &res, &queued), -ENOENT);
	CHECK_EQ(neigh_get(t, 1, C, &res, &queued), -ENOENT);
	CHECK_EQ(neigh_delete(t, 1, B), -ENOENT); /* B is on interface 2 */
	CHECK_EQ(neigh_delete(t, 2, B), 0);
	CHECK_EQ(neigh_delete(t, 2, B), -ENOENT);

	/* Free drops what is still queued. */
	CHECK_EQ(neigh_resolve(t, I, D, PKT(12), 30000, &req), -EAGAIN);
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

static int walk_collect(void *arg, const struct neigh_key *key, const struct neigh_res *res,
			unsigned queued)
{
	struct neigh_key *seen = arg; /* seen[0].iface counts, keys from seen[1] on */
	(void)res;
	(void)queued;
	if (seen[0].iface < 8)
		seen[1 + seen[0].iface] = *key;
	seen[0].iface++;
	return 0;
}

static bool key_in(const struct neigh_key *keys, unsigned n, iface_id_t iface,
		   const struct ip_addr *ip)
{
	for (unsigned i = 0; i < n; i++)
		if (keys[i].iface == iface && ip_addr_equal(&keys[i].ip, ip))
			return true;
	return false;
}

/*
 * Keys: IPv6 addresses, one address on two interfaces (two entries with their own MACs,
 * queues and lifetimes), an IPv4 address and its IPv4-mapped IPv6 form being different keys,
 * probes and walks naming interface and family, and addresses of no family refused.
 */
static void test_keys(void)
{
	struct neigh_table *t = neigh_table_create(&(struct neigh_config){
	    .capacity = 8, .retrans_ms = 100, .max_probes = 3, .free_pkt = free_pkt});
	uint8_t mac[6], m1[6] = {2, 0, 0, 0, 1, 1}, m2[6] = {2, 0, 0, 0, 2, 2};
	bool req;
	void *rel[4];
	unsigned n_rel, queued;
	struct neigh_res res;
	const struct ip_addr g6 = v6(1), ll = v6(0x99);
	uint8_t mapped_b[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};
	const struct ip_addr v4 = ip_addr_v4(0x0a000001), mapped = ip_addr_v6(mapped_b);

	CHECK(t != NULL);
	/* IPv6: resolve, queue, resolve, look up. */
	CHECK_EQ(neigh_resolve(t, 1, &g6, PKT(20), 0, &req), -EAGAIN);
	CHECK(req);
	CHECK_EQ(neigh_lookup(t, 1, &g6, mac), -EAGAIN);
	CHECK_EQ(neigh_update(t, 1, &g6, m1, 10, rel, 4, &n_rel), 0);
	CHECK(n_rel == 1 && rel[0] == PKT(20));
	CHECK(neigh_lookup(t, 1, &g6, mac) == 0 && memcmp(mac, m1, 6) == 0);
	struct ip_addr g6b = v6(2);
	CHECK_EQ(neigh_lookup(t, 1, &g6b, mac), -ENOENT);

	/* One address on interfaces 1 and 2: two entries. */
	CHECK_EQ(neigh_update(t, 1, &ll, m1, 10, rel, 4, &n_rel), 0);
	CHECK_EQ(neigh_resolve(t, 2, &ll, PKT(21), 10, &req), -EAGAIN);
	CHECK(req); /* not answered by interface 1's entry */
	CHECK_EQ(neigh_lookup(t, 2, &ll, mac), -EAGAIN);
	CHECK(neigh_lookup(t, 1, &ll, mac) == 0 && memcmp(mac, m1, 6) == 0);
	CHECK_EQ(neigh_update(t, 2, &ll, m2, 20, rel, 4, &n_rel), 0);
	CHECK(n_rel == 1 && rel[0] == PKT(21));
	CHECK(neigh_lookup(t, 1, &ll, mac) == 0 && memcmp(mac, m1, 6) == 0);
	CHECK(neigh_lookup(t, 2, &ll, mac) == 0 && memcmp(mac, m2, 6) == 0);
	CHECK_EQ(neigh_lookup(t, 3, &ll, mac), -ENOENT);

	/* 10.0.0.1 and ::ffff:10.0.0.1 on one interface: two entries. */
	CHECK_EQ(neigh_update(t, 1, &v4, m1, 20, rel, 4, &n_rel), 0);
	CHECK_EQ(neigh_lookup(t, 1, &mapped, mac), -ENOENT);
	CHECK_EQ(neigh_update(t, 1, &mapped, m2, 20, rel, 4, &n_rel), 0);
	CHECK(neigh_lookup4(t, 1, v4.v4, mac) == 0 && memcmp(mac, m1, 6) == 0);
	CHECK(neigh_lookup(t, 1, &v4, mac) == 0 && memcmp(mac, m1, 6) == 0);
	CHECK(neigh_lookup(t, 1, &mapped, mac) == 0 && memcmp(mac, m2, 6) == 0);
	struct neigh_stats st;
	neigh_get_stats(t, &st);
	CHECK_EQ(st.entries, 5);

	/* The walk names every key. */
	struct neigh_key seen[9] = {0};
	CHECK_EQ(neigh_walk(t, walk_collect, seen), 0);
	CHECK_EQ(seen[0].iface, 5);
	CHECK(key_in(seen + 1, 5, 1, &g6) && key_in(seen + 1, 5, 1, &ll));
	CHECK(key_in(seen + 1, 5, 2, &ll) && key_in(seen + 1, 5, 1, &v4));
	CHECK(key_in(seen + 1, 5, 1, &mapped) && !key_in(seen + 1, 5, 2, &g6));

	/* Probes name interface and address of either family. */
	const struct ip_addr p4 = ip_addr_v4(0xc0000201), p6 = v6(0x55);
	CHECK_EQ(neigh_resolve(t, 4, &p4, PKT(22), 1000, &req), -EAGAIN);
	CHECK_EQ(neigh_resolve(t, 5, &p6, PKT(23), 1000, &req), -EAGAIN);
	struct neigh_key probes[4];
	CHECK_EQ(neigh_tick(t, 1100, probes, 4), 2);
	CHECK(key_in(probes, 2, 4, &p4) && key_in(probes, 2, 5, &p6));

	/* Delete and flush touch only their interface; flush takes incomplete entries too. */
	CHECK_EQ(neigh_delete(t, 2, &ll), 0);
	CHECK(neigh_lookup(t, 1, &ll, mac) == 0 && memcmp(mac, m1, 6) == 0);
	CHECK_EQ(neigh_get(t, 5, &p6, &res, &queued), 0);
	CHECK(res.state == NEIGH_INCOMPLETE && queued == 1);
	CHECK_EQ(neigh_flush_iface(t, 5), 1);
	CHECK_EQ(freed[23], 1);
	CHECK_EQ(neigh_flush_iface(t, 1), 4);
	CHECK_EQ(neigh_lookup(t, 1, &g6, mac), -ENOENT);
	CHECK_EQ(neigh_lookup4(t, 1, v4.v4, mac), -ENOENT);
	CHECK_EQ(neigh_get(t, 4, &p4, &res, &queued), 0);

	/* No family: nothing to find, nothing to create. */
	const struct ip_addr none = {0};
	CHECK_EQ(neigh_lookup(t, 1, &none, mac), -ENOENT);
	CHECK_EQ(neigh_resolve(t, 1, &none, PKT(24), 2000, &req), -EINVAL);
	CHECK_EQ(freed[24], 0);
	CHECK_EQ(neigh_update(t, 1, &none, m1, 2000, rel, 4, &n_rel), -EINVAL);
	CHECK_EQ(neigh_set_static(t, 1, &none, m1, rel, 4, &n_rel), -EINVAL);
	CHECK_EQ(neigh_delete(t, 1, &none), -ENOENT);
	neigh_get_stats(t, &st);
	CHECK_EQ(st.entries, 1);
	neigh_table_free(t);
	CHECK_EQ(freed[22], 1);
}

/*
 * One address of each family on 64 interfaces in a table of 64 buckets: chains are shared, so
 * only the interface in the key tells the entries apart; each lookup finds its own MAC.
 */
static void test_same_address_many_ifaces(void)
{
	struct neigh_table *t =
	    neigh_table_create(&(struct neigh_config){.capacity = 64, .free_pkt = free_pkt});
	const struct ip_addr a4 = ip_addr_v4(0xc0a80001), a6 = v6(0xabc);
	void *rel[1];
	unsigned n_rel;
	CHECK(t != NULL);
	for (iface_id_t i = 0; i < 32; i++) {
		uint8_t m4[6] = {2, 4, 0, 0, 0, (uint8_t)i}, m6[6] = {2, 6, 0, 0, 0, (uint8_t)i};
		CHECK_EQ(neigh_update(t, i, &a4, m4, 0, rel, 1, &n_rel), 0);
		CHECK_EQ(neigh_update(t, i, &a6, m6, 0, rel, 1, &n_rel), 0);
	}
	for (iface_id_t i = 0; i < 32; i++) {
		uint8_t mac[6] = {0};
		CHECK_EQ(neigh_lookup4(t, i, a4.v4, mac), 0);
		CHECK(mac[1] == 4 && mac[5] == i);
		CHECK_EQ(neigh_lookup(t, i, &a6, mac), 0);
		CHECK(mac[1] == 6 && mac[5] == i);
	}
	CHECK_EQ(neigh_lookup4(t, 32, a4.v4, (uint8_t[6]){0}), -ENOENT);
	CHECK_EQ(neigh_lookup(t, 32, &a6, (uint8_t[6]){0}), -ENOENT);
	neigh_table_free(t);
}

/* Key n of the concurrent test: IPv4 10.0.0.n for odd n, IPv6 2001:db8::n for even, on
 * interface n % 3 (so the two families and several interfaces share chains). */
#define RD_IFACE(n) ((iface_id_t)((n) % 3))
#define RD_ADDR(n)  ((n) % 2 ? ip_addr_v4(0x0a000000u + (n)) : v6(n))

static int stop_reader;
static unsigned long reader_passes; /* over all 64 addresses; atomic */

static void *reader(void *arg)
{
	struct neigh_table *t = arg;
	unsigned long bad = 0;
	rcu_reader_register();
	while (!__atomic_load_n(&stop_reader, __ATOMIC_RELAXED)) {
		for (uint16_t n = 1; n <= 64; n++) {
			uint8_t mac[6];
			iface_id_t iface = RD_IFACE(n);
			struct ip_addr ip = RD_ADDR(n);
			int r = n % 2 ? neigh_lookup4(t, iface, ip.v4, mac)
				      : neigh_lookup(t, iface, &ip, mac);
			/* The control thread only ever gives key n the MAC 02:00:00:00:iface:n. */
			if (r == 0 && (mac[5] != n || mac[4] != iface || mac[0] != 2))
				bad++;
			else if (r != 0 && r != -ENOENT && r != -EAGAIN)
				bad++;
			/* Never known on another interface. */
			if (neigh_lookup(t, (iface_id_t)(iface + 1), &ip, mac) != -ENOENT)
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
		uint16_t n = (uint16_t)(1 + now * 7 % 64);
		iface_id_t iface = RD_IFACE(n);
		struct ip_addr ip = RD_ADDR(n);
		uint8_t mac[6] = {2, 0, 0, 0, (uint8_t)iface, (uint8_t)n};
		void *rel[4];
		unsigned n_rel;
		bool req;
		if (now % 3 == 0) {
			/* Capacity 64 for 64 addresses: usable (0) or queued (-EAGAIN), never
			 * refused. */
			int r = neigh_resolve(t, iface, &ip, PKT(0), now, &req);
			CHECK(r == 0 || r == -EAGAIN);
		} else {
			CHECK_EQ(neigh_update(t, iface, &ip, mac, now, rel, 4, &n_rel), 0);
		}
		struct neigh_key probes[64];
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
	test_keys();
	test_same_address_many_ifaces();
	test_concurrent_readers();
	return test_result("test_neigh");
}
