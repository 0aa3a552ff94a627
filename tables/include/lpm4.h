/*
 * lpm4.h: IPv4 longest-prefix match for the dataplane, with single adds/deletes and bulk
 * replacement by the control thread, published to readers through RCU (rcu.h).
 *
 * Shape (a Poptrie-style multibit trie whose first node lives in the dir entry itself, so that an
 * answer of /24 or shorter takes two dependent loads; docs/tables.md has the full story):
 *
 *   addr: | 19 bits: dir index | 5 bits: level 1 | 6 bits: level 2 | 2 bits (+4 zero): level 3 |
 *
 *   dir[addr >> 13]: 2^19 entries of 64 bits (4 MiB), one per /19
 *     63               32 31                0
 *    +-------------------+-------------------+
 *    | leaf index        | 0                 |  the whole /19 has one answer: the leaf of its
 *    +-------------------+-------------------+  next hop (pool[nh] == nh, see below)
 *    | block index - 1   | leafvec (32 bits) |  level-1 node: the /19's block in the pool
 *    +-------------------+-------------------+
 *      leafvec bit v (v = addr bits 19..23): a new run of equal leaves starts at slot v.
 *
 *   pool (uint32_t units, base lpm4.pool, never moves):
 *     | next-hop leaves: pool[nh] = nh, pool[2^24] = LPM4_NH_NONE | blocks ...                  |
 *     block, one per /19 that needs one: | L1 leaves | child node | its leaves | grandchild ... |
 *     leaf:        a next hop, or LPM4_CHILD_BIT | pool index of a child node
 *     child node:  | leafvec lo | leafvec hi | leaf | leaf | ... |   (8-byte aligned)
 *
 *   both kinds:  x = pool[(entry >> 32) + popcount(leafvec & bits 0..v)]   (load 2; leafvec 0
 *                                                                           gives rank 0)
 *   if x is a child reference: node = pool + (x & ~LPM4_CHILD_BIT), v = the next 6 address bits,
 *                x = node[1 + popcount(node leafvec & bits 0..v)]   (at most two more levels)
 *
 * Leaf compression: a node stores one leaf per run of equal answers, so a /19 whose 32 /24s
 * share few next hops stores few leaves; a child slot is always a run of its own.
 *
 * Publication: a block is written completely, then its dir entry is stored with release order;
 * lookups load the entry with acquire order and see either the old block or the whole new one.
 * A next-hop leaf is written once, before the first entry that points at it. Old blocks are freed
 * only after a grace period. A bulk replace builds a whole new dir and swaps lpm4.dir the same
 * way. The pool never moves (lpm4_arena.h), so lpm4.pool is constant. The route set the control
 * thread edits is private to lpm4.c.
 *
 * Threads: lookups from any RCU reader thread (registered, online, reporting rcu_quiescent()
 * between batches, never in the middle of one). Everything else from one control thread at a
 * time (the caller serialises writers).
 */
#ifndef IXYD_LPM4_H
#define IXYD_LPM4_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nexthop.h"

#define LPM4_NH_NONE	 UINT32_MAX /* lookup result when no route matches */
#define LPM4_DIR_BITS	 19
#define LPM4_L1_BITS	 5 /* the level-1 node, inside the dir entry: /20 .. /24 */
#define LPM4_STRIDE_BITS 6 /* nodes below it: /25 .. /30, then /31 .. /32 */
#define LPM4_CHILD_BIT	 0x80000000u
#define LPM4_BATCH_MAX	 64 /* batch lookups process addresses in chunks of this many */

/* Next-hop indices are below 2^24 (nexthop_table_create() allows at most 2^24 entries), so a leaf
 * with the top bit set other than LPM4_NH_NONE (-1 as int32) is a child reference: child
 * references are exactly the int32 values below -1. */
#define LPM4_NH_LIMIT (1u << 24)
static_assert(LPM4_NH_LIMIT <= LPM4_CHILD_BIT, "next hops never look like children");

/* The part of the table lookups read; the route set and reclamation state are private. */
struct lpm4 {
	uint64_t *dir; /* RCU-published: load with acquire, never cache across rcu_quiescent() */
	const uint32_t *pool; /* subtree blocks; constant from lpm4_create() to lpm4_free() */
};

/* One route for bulk replacement. */
struct lpm4_route {
	uint32_t prefix; /* host byte order, host bits zero */
	uint8_t len;	 /* 0..32 */
	uint32_t nh;	 /* an allocated next-hop index */
};

/* Is leaf value x a child reference? Internal to the lookups below. */
static inline bool lpm4_is_child_(uint32_t x)
{
	return (int32_t)x < -1;
}

/* Index of the leaf for slot v in a node: base + popcount(leafvec & bits 0..v). v = 63 wraps
 * (2 << 63) to zero and the mask to all ones, on purpose. Internal. */
static inline uint32_t lpm4_rank_(uint64_t leafvec, unsigned v)
{
	return (uint32_t)__builtin_popcountll(leafvec & ((2ull << v) - 1));
}

/* Finish a lookup whose level-1 leaf x is a child reference. Internal. */
static inline uint32_t lpm4_descend_(const uint32_t *pool, uint32_t x, uint32_t addr)
{
	uint64_t key = (uint64_t)addr << 32; /* bits beyond 32 read as zero at the last level */
	unsigned shift = 64 - LPM4_DIR_BITS - LPM4_L1_BITS - LPM4_STRIDE_BITS;
	do {
		const uint32_t *node = pool + (x & ~LPM4_CHILD_BIT);
		uint64_t leafvec = (uint64_t)node[0] | (uint64_t)node[1] << 32;
		x = node[1 + lpm4_rank_(leafvec, (unsigned)(key >> shift) & 63)];
		shift -= LPM4_STRIDE_BITS; /* at most two levels: the builder guarantees it */
	} while (lpm4_is_child_(x));
	return x;
}

/*
 * Longest-prefix match of one address (host byte order). Returns its next-hop index, or
 * LPM4_NH_NONE. Any RCU reader thread, or the control thread. For the control plane and slow
 * paths; the dataplane uses lpm4_lookup_batch().
 */
static inline uint32_t lpm4_lookup(const struct lpm4 *lpm, uint32_t addr)
{
	/* Acquire pairs with the release stores in lpm4.c (lpm4_replace_all() for lpm4.dir,
	 * set_dir_entry() for one /19): the dir and the block behind an entry are complete. */
	const uint64_t *dir = __atomic_load_n(&lpm->dir, __ATOMIC_ACQUIRE);
	uint64_t entry = __atomic_load_n(&dir[addr >> (32 - LPM4_DIR_BITS)], __ATOMIC_ACQUIRE);
	unsigned v = (addr >> (32 - LPM4_DIR_BITS - LPM4_L1_BITS)) & ((1u << LPM4_L1_BITS) - 1);
	uint32_t x = lpm->pool[(uint32_t)(entry >> 32) + lpm4_rank_((uint32_t)entry, v)];
	if (__builtin_expect(!lpm4_is_child_(x), 1))
		return x;
	return lpm4_descend_(lpm->pool, x, addr);
}

/*
 * Look up n addresses (host byte order), prefetching across the batch. nh[i] receives the next
 * hop of addrs[i] or LPM4_NH_NONE. Returns how many had a route. Any RCU reader thread.
 */
unsigned lpm4_lookup_batch(const struct lpm4 *lpm, const uint32_t *addrs, uint32_t *nh, unsigned n);

/*
 * Create an empty table whose routes point into nht (which must outlive the table). Returns NULL
 * with errno ENOMEM. Control thread.
 */
struct lpm4 *lpm4_create(struct nexthop_table *nht);

/*
 * Free the table and drop the next-hop references its routes held. NULL is a no-op. No reader may
 * still use it (the caller has unpublished it and waited for a grace period, or never shared it).
 */
void lpm4_free(struct lpm4 *lpm);

/*
 * Add prefix/len -> nh, or change the next hop of an existing prefix/len. The table takes its own
 * reference on nh (and drops the one on a replaced next hop). Readers see the change atomically per
 * /19 (or per covered /19 for shorter prefixes). Returns 0 or:
 *   -EINVAL  len > 32, or host bits set in prefix
 *   -ENOENT  nh is not an allocated next-hop index
 *   -ENOMEM  out of memory; the table is unchanged for lookups
 * Control thread.
 */
int lpm4_add(struct lpm4 *lpm, uint32_t prefix, uint8_t len, uint32_t nh);

/*
 * Delete prefix/len; lookups fall back to the next shorter covering route. Returns 0 or
 * -EINVAL (bad prefix, as for lpm4_add), -ENOENT (no such route), -ENOMEM (the route is kept).
 * Control thread.
 */
int lpm4_delete(struct lpm4 *lpm, uint32_t prefix, uint8_t len);

/*
 * Replace the whole route set with routes[0..n) (a later duplicate prefix/len wins). Builds a new
 * table beside the old one and publishes it with one pointer swap. Validates everything first:
 * on -EINVAL / -ENOENT (as for lpm4_add) or -ENOMEM nothing changes. Control thread.
 */
int lpm4_replace_all(struct lpm4 *lpm, const struct lpm4_route *routes, size_t n);

/* Exact-match query: 0 and *nh, or -ENOENT / -EINVAL. Control thread. */
int lpm4_get(const struct lpm4 *lpm, uint32_t prefix, uint8_t len, uint32_t *nh);

/*
 * Called by lpm4_walk() for one route; a non-zero return stops the walk and is returned by it.
 */
typedef int lpm4_walk_fn(void *arg, uint32_t prefix, uint8_t len, uint32_t nh);

/*
 * Call fn for every route in ascending (prefix, len) order, passing over the first skip routes
 * (whole /19 slots at a time, so paging deep into a full table stays cheap: one pass over the
 * 2^19 slots). Returns 0 after the last route, or fn's first non-zero return. fn must not change
 * the table. Control thread (the route set is the writer's private state).
 */
int lpm4_walk(const struct lpm4 *lpm, size_t skip, lpm4_walk_fn *fn, void *arg);

/*
 * Wait for a grace period and free memory that updates unpublished. Updates also do this by
 * themselves once enough is pending (LPM4_RETIRE_FLUSH_BYTES). Control thread.
 */
void lpm4_sync(struct lpm4 *lpm);
#define LPM4_RETIRE_FLUSH_BYTES (4u << 20)

struct lpm4_stats {
	size_t routes;
	size_t subtrees; /* /19 slots with a block */
	size_t nodes;
	size_t leaves;
	size_t lookup_bytes;  /* what lookups touch: dir + subtree blocks, with malloc overhead */
	size_t control_bytes; /* the authoritative route set and bookkeeping */
	size_t pending_bytes; /* unpublished, waiting for a grace period */
};

/* Fill *st. Control thread. */
void lpm4_get_stats(const struct lpm4 *lpm, struct lpm4_stats *st);

/*
 * Parse "a.b.c.d/len" (len 0..32; a missing "/len" means /32). Does not check host bits (lpm4_add
 * does). Returns 0, or -EINVAL. Any thread.
 */
int lpm4_parse_prefix(const char *s, uint32_t *prefix, uint8_t *len);

#endif
