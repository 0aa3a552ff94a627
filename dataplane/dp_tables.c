/*
 * dp_tables.c: the interim neighbour table (see dp_tables.h for why it is here and the
 * threading rules), and the dataplane's calls into the MAC table.
 *
 * Neighbour slot: two 64-bit words.
 *   key  = 1 << 63 | iface << 32 | ip     (0: slot free; never changes once set)
 *   val  = 1 << 48 | mac                  (0: no valid MAC; rewritten on every change)
 */
#include "dp_tables.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "dataplane.h"
#include "dp_internal.h"

#define NEIGH_KEY_USED (1ull << 63)
#define NEIGH_VAL_VALID (1ull << 48)
#define MAX_PROBE 64 /* bound on the probe sequence: a lookup never walks a whole full table */

struct neigh_slot {
	uint64_t key;
	uint64_t val;
};

struct dp_neigh_table {
	uint32_t mask;
	struct neigh_slot *slots;
};

static inline uint32_t hash64(uint64_t x)
{
	/* Fibonacci hashing: multiply by 2^64 / golden ratio, keep the high bits. */
	return (uint32_t)((x * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline uint64_t mac_to_u64(const uint8_t mac[ETH_ALEN])
{
	uint64_t v = 0;
	for (int i = 0; i < ETH_ALEN; i++)
		v = v << 8 | mac[i];
	return v;
}

static inline void u64_to_mac(uint64_t v, uint8_t mac[ETH_ALEN])
{
	for (int i = ETH_ALEN - 1; i >= 0; i--) {
		mac[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint32_t dp_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

struct dp_neigh_table *dp_neigh_table_create(uint32_t capacity)
{
	if (capacity < 16 || (capacity & (capacity - 1))) {
		errno = EINVAL;
		return NULL;
	}
	struct dp_neigh_table *t = calloc(1, sizeof(*t));
	if (!t)
		goto err;
	t->slots = calloc(capacity, sizeof(*t->slots));
	if (!t->slots)
		goto err_t;
	t->mask = capacity - 1;
	return t;
err_t:
	free(t);
err:
	errno = ENOMEM;
	return NULL;
}

void dp_neigh_table_free(struct dp_neigh_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static struct neigh_slot *neigh_find(const struct dp_neigh_table *t, uint64_t key, bool claim)
{
	uint32_t h = hash64(key);
	for (uint32_t i = 0; i < MAX_PROBE && i <= t->mask; i++) {
		struct neigh_slot *s = &t->slots[(h + i) & t->mask];
		/* Acquire pairs with the release store of key in dp_neigh_set(): a reader that sees
		 * the key also sees the val written before it. */
		uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (k == key)
			return s;
		if (k == 0)
			return claim ? s : NULL;
	}
	return NULL;
}

int dp_neigh_set(struct dp_neigh_table *t, uint16_t iface, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	uint64_t key = NEIGH_KEY_USED | (uint64_t)iface << 32 | ip;
	struct neigh_slot *s = neigh_find(t, key, true);
	if (!s)
		return -ENOSPC;
	/* Release: a reader that loads this val (after the key) sees a whole value; for a new
	 * slot the val is stored before the key is published below. */
	__atomic_store_n(&s->val, NEIGH_VAL_VALID | mac_to_u64(mac), __ATOMIC_RELEASE);
	if (s->key != key)
		/* Release pairs with the acquire load in neigh_find(). */
		__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
	return 0;
}

void dp_neigh_invalidate(struct dp_neigh_table *t, uint16_t iface, uint32_t ip)
{
	struct neigh_slot *s = neigh_find(t, NEIGH_KEY_USED | (uint64_t)iface << 32 | ip, false);
	if (s)
		/* Relaxed: the value carries no other data with it. */
		__atomic_store_n(&s->val, 0, __ATOMIC_RELAXED);
}

bool dp_neigh_table_lookup(const struct dp_neigh_table *t, uint16_t iface, uint32_t ip,
			   uint8_t mac[ETH_ALEN])
{
	const struct neigh_slot *s = neigh_find(t, NEIGH_KEY_USED | (uint64_t)iface << 32 | ip, false);
	if (!s)
		return false;
	/* Acquire pairs with the release store of val in dp_neigh_set(). */
	uint64_t v = __atomic_load_n(&s->val, __ATOMIC_ACQUIRE);
	if (!(v & NEIGH_VAL_VALID))
		return false;
	u64_to_mac(v, mac);
	return true;
}

bool dp_neigh_lookup(const struct dataplane *dp, uint16_t iface, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	return dp->tables.neigh && dp_neigh_table_lookup(dp->tables.neigh, iface, ip, mac);
}

bool dp_mac_lookup(const struct dataplane *dp, uint16_t bridge, const uint8_t mac[ETH_ALEN],
		   uint16_t *port)
{
	return dp->tables.mac && mac_table_lookup(dp->tables.mac, mac, bridge, port) == 0;
}

void dp_mac_learn(struct dp_ctx *ctx, uint16_t bridge, const uint8_t mac[ETH_ALEN], uint16_t port)
{
	/* A refused station (table full) is simply not learnt: frames to it are flooded. */
	if (ctx->dp->tables.mac)
		(void)mac_table_learn(ctx->dp->tables.mac, mac, bridge, port, ctx->now_s);
}
