/*
 * test_mac_table: learning, lookups, station moves, bridges kept apart, capacity refusals,
 * ageing with a test-driven clock, flushes; then workers learning and looking up concurrently
 * (meaningful under ThreadSanitizer as well) with the entry count checked at the end.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mac_table.h"
#include "test_util.h"

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void test_basics(void)
{
	struct mac_table *t = mac_table_create(&(struct mac_table_config){.capacity = 4});
	struct mac_table_stats st;
	uint8_t a[6], b[6];
	uint16_t port;
	mac_of(1, a);
	mac_of(2, b);
	CHECK(t != NULL);
	CHECK_EQ(mac_table_lookup(t, a, 1, &port), -ENOENT);
	CHECK_EQ(mac_table_learn(t, a, 1, 3, 1000), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_learn(t, a, 1, 3, 1000), MAC_LEARN_KNOWN);
	CHECK_EQ(mac_table_learn(t, a, 1, 3, 1001), MAC_LEARN_KNOWN);
	CHECK_EQ(mac_table_lookup(t, a, 1, &port), 0);
	CHECK_EQ(port, 3);
	CHECK_EQ(mac_table_lookup(t, a, 2, &port), -ENOENT); /* other bridge */
	CHECK_EQ(mac_table_learn(t, a, 1, 5, 1002), MAC_LEARN_MOVED);
	CHECK_EQ(mac_table_lookup(t, a, 1, &port), 0);
	CHECK_EQ(port, 5);
	CHECK_EQ(mac_table_learn(t, a, 2, 7, 1002), MAC_LEARN_NEW); /* same MAC, bridge 2 */

	uint8_t bad[6] = {0x01, 0x00, 0x5e, 0, 0, 1}, zero[6] = {0};
	CHECK_EQ(mac_table_learn(t, bad, 1, 1, 1000), -EINVAL);
	CHECK_EQ(mac_table_learn(t, zero, 1, 1, 1000), -EINVAL);

	/* Capacity 4: two more fit, the fifth is refused and counted; known ones still learn. */
	CHECK_EQ(mac_table_learn(t, b, 1, 1, 1002), MAC_LEARN_NEW);
	uint8_t c[6], d[6];
	mac_of(3, c);
	mac_of(4, d);
	CHECK_EQ(mac_table_learn(t, c, 1, 1, 1002), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_learn(t, d, 1, 1, 1002), -ENOSPC);
	CHECK_EQ(mac_table_learn(t, d, 1, 1, 1003), -ENOSPC);
	CHECK_EQ(mac_table_learn(t, b, 1, 2, 1003), MAC_LEARN_MOVED);
	mac_table_get_stats(t, &st);
	CHECK_EQ(st.entries, 4);
	CHECK_EQ(st.learned, 4);
	CHECK_EQ(st.moves, 2);
	CHECK_EQ(st.refused_full, 2);

	/* Batch lookup. */
	const uint8_t *macs[3] = {a, b, d};
	uint16_t bridges[3] = {1, 1, 1}, ports[3];
	CHECK_EQ(mac_table_lookup_batch(t, macs, bridges, ports, 3), 2);
	CHECK(ports[0] == 5 && ports[1] == 2 && ports[2] == MAC_PORT_NONE);

	/* Ageing, default 300 s: a was last seen at 1002, c at 1002, b at 1003. */
	CHECK_EQ(mac_table_age(t, 1302), 0);			      /* exactly 300 s: not yet */
	CHECK_EQ(mac_table_learn(t, c, 1, 1, 1250), MAC_LEARN_KNOWN); /* refreshed */
	CHECK_EQ(mac_table_age(t, 1303), 2);			      /* a on bridges 1 and 2 */
	CHECK_EQ(mac_table_lookup(t, a, 1, &port), -ENOENT);
	CHECK_EQ(mac_table_lookup(t, b, 1, &port), 0);
	CHECK_EQ(mac_table_age(t, 1304), 1); /* b */
	CHECK_EQ(mac_table_lookup(t, c, 1, &port), 0);
	mac_table_set_ageing(t, 10);
	CHECK_EQ(mac_table_age(t, 1260), 0);
	CHECK_EQ(mac_table_age(t, 1261), 1); /* c, with the new ageing time */
	CHECK_EQ(mac_table_age(t, 5), 0);    /* a clock behind the stations ages nothing */
	mac_table_get_stats(t, &st);
	CHECK_EQ(st.entries, 0);
	CHECK_EQ(st.aged, 4);

	/* Room again after ageing; flushes per port and all. */
	CHECK_EQ(mac_table_learn(t, a, 1, 1, 2000), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_learn(t, b, 1, 2, 2000), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_learn(t, c, 1, 2, 2000), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_learn(t, d, 1, 3, 2000), MAC_LEARN_NEW);
	CHECK_EQ(mac_table_flush_port(t, 2), 2);
	CHECK_EQ(mac_table_lookup(t, b, 1, &port), -ENOENT);
	CHECK_EQ(mac_table_lookup(t, a, 1, &port), 0);
	CHECK_EQ(mac_table_flush(t), 2);
	mac_table_get_stats(t, &st);
	CHECK_EQ(st.entries, 0);
	CHECK_EQ(st.flushed, 4);
	mac_table_free(t);
	mac_table_free(NULL);
	CHECK(mac_table_create(&(struct mac_table_config){.capacity = 0}) == NULL &&
	      errno == EINVAL);
}

/* A table filled to its capacity takes every station (the two-choice buckets do not overflow
 * first). */
static void test_fill(void)
{
	enum { CAP = 20000 };
	struct mac_table *t = mac_table_create(&(struct mac_table_config){.capacity = CAP});
	uint8_t m[6];
	unsigned ok = 0;
	for (uint32_t i = 0; i < CAP; i++) {
		mac_of(i * 2654435761u, m);
		ok += mac_table_learn(t, m, (uint16_t)(i % 3), (uint16_t)(i % 48), 1) ==
		      MAC_LEARN_NEW;
	}
	CHECK_EQ(ok, CAP);
	mac_of(0xdeadbeef, m);
	CHECK_EQ(mac_table_learn(t, m, 0, 0, 1), -ENOSPC);
	unsigned found = 0;
	for (uint32_t i = 0; i < CAP; i++) {
		uint16_t port;
		mac_of(i * 2654435761u, m);
		found += mac_table_lookup(t, m, (uint16_t)(i % 3), &port) == 0 && port == i % 48;
	}
	CHECK_EQ(found, CAP);
	mac_table_free(t);
}

#define N_WORKERS 2
#define N_SHARED  512  /* stations every worker sees (and moves between ports) */
#define N_OWN	  4096 /* stations per worker */

struct worker {
	struct mac_table *t;
	int id;
	unsigned bad;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint8_t m[6];
	for (int round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < N_OWN; i++) {
			mac_of(0x100000u * (uint32_t)(w->id + 1) + i, m);
			int r = mac_table_learn(w->t, m, 1, (uint16_t)w->id, (uint32_t)round);
			w->bad += r < 0;
			uint16_t port;
			w->bad += mac_table_lookup(w->t, m, 1, &port) != 0 || port != w->id;
		}
		for (uint32_t i = 0; i < N_SHARED; i++) {
			mac_of(i, m);
			w->bad += mac_table_learn(w->t, m, 1, (uint16_t)(10 + w->id),
						  (uint32_t)round) < 0;
			uint16_t port;
			/* Either worker's port: never anything else, never missing. */
			w->bad += mac_table_lookup(w->t, m, 1, &port) != 0 || port < 10 ||
				  port >= 10 + N_WORKERS;
		}
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct mac_table *t =
	    mac_table_create(&(struct mac_table_config){.capacity = N_WORKERS * N_OWN + N_SHARED});
	pthread_t th[N_WORKERS];
	struct worker w[N_WORKERS];
	for (int i = 0; i < N_WORKERS; i++) {
		w[i] = (struct worker){t, i, 0};
		CHECK_EQ(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	/* Meanwhile the control thread ages with a clock that never expires anything. */
	for (int i = 0; i < 50; i++)
		CHECK_EQ(mac_table_age(t, 0), 0);
	for (int i = 0; i < N_WORKERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(w[i].bad, 0);
	}
	struct mac_table_stats st;
	mac_table_get_stats(t, &st);
	CHECK_EQ(st.entries, N_WORKERS * N_OWN + N_SHARED);
	CHECK_EQ(st.learned, N_WORKERS * N_OWN + N_SHARED); /* no station inserted twice */
	CHECK_EQ(st.refused_full, 0);
	printf("concurrent: %llu entries, %llu moves\n", (unsigned long long)st.entries,
	       (unsigned long long)st.moves);
	CHECK_EQ(mac_table_age(t, 19 + 301), N_WORKERS * N_OWN + N_SHARED);
	mac_table_free(t);
}

int main(void)
{
	test_basics();
	test_fill();
	test_concurrent();
	return test_result("test_mac_table");
}
