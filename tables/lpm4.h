/*
 * lpm4.h: IPv4 longest-prefix match for the dataplane, with single adds/deletes and bulk
 * replacement by the control thread, published to readers through RCU (rcu.h).
 *
 * Shape (a Poptrie-style multibit trie; docs/tables.md has the full story and a picture):
 *
 *   dir[addr >> 14]         2^18 entries of 64 bits (2 MiB): direct pointing on the top 18 bits.
 *     bit 0 = 1: a leaf, next hop = entry >> 1 (LPM4_NH_NONE: no route)
 *     bit 0 = 0: a pointer to the immutable subtree block for that /18
 *
 *   subtree block           [node 0 (root), node 1, ...][leaf 0, leaf 1, ...]   (one malloc)
 *     each node consumes 6 address bits (bits 18-23, 24-29, 30-31 padded with zeros, so at most
 *     three levels). For the 6-bit value v:
 *       vector bit v set:  descend to node child_base + popcount(vector & bits 0..v)
 *       otherwise:         next hop = leaf[leaf_base + popcount(leafvec & bits 0..v)]
 *     leafvec marks where a run of equal leaves starts (leaf compression), so a node whose 64
 *     slots hold one next hop stores one leaf. Bases are stored minus one to save the -1.
 *
 * Publication: a block is written completely, then its dir entry is stored with release order;
 * lookups load the entry with acquire order and see either the old block or the whole new one.
 * Old blocks are freed only after a grace period. A bulk replace builds a whole new dir and swaps
 * lpm4.dir the same way. The route set the control thread edits is private to lpm4.c.
 *
 * Threads: lookups from any RCU reader thread (registered, online, reporting rcu_quiescent()
 * between batches, never in the middle of one). Everything else from one control thread at a
 * time (the caller serialises writers).
 */
#ifndef IXYD_LPM4_H
#define IXYD_LPM4_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "nexthop.h"

#define LPM4_NH_NONE UINT32_MAX /* lookup result when no route matches */
#define LPM4_DIR_BITS 18
#define LPM4_STRIDE_BITS 6
#define LPM4_BATCH_MAX 64 /* batch lookups process addresses in chunks of this many */

struct lpm4_node {
	uint64_t vector;     /* bit v: slot v is a child node */
	uint64_t leafvec;    /* bit v: a new run of leaves starts at slot v */
	uint32_t child_base; /* index of the first child node in the block, minus one */
	uint32_t leaf_base;  /* index of the first leaf (in uint32 units from the block start) - 1 */
};
static_assert(sizeof(struct lpm4_node) == 24, "node layout is part of the lookup's cache budget");

/* The part of the table lookups read; the route set and reclamation state are private. */
struct lpm4 {
	uint64_t *dir; /* RCU-published: load with acquire, never cache across rcu_quiescent() */
};

/* One route for bulk replacement. */
struct lpm4_route {
	uint32_t prefix; /* host byte order, host bits zero */
	uint8_t len;     /* 0..32 */
	uint32_t nh;     /* an allocated next-hop index */
};

/* Resolve a loaded dir entry for addr. Internal to the lookups below. */
static inline uint32_t lpm4_resolve_(uint64_t entry, uint32_t addr)
{
	if (entry & 1)
		return (uint32_t)(entry >> 1);
	const struct lpm4_node *blk = (const struct lpm4_node *)(uintptr_t)entry;
	const struct lpm4_node *node = blk;
	uint64_t key = (uint64_t)addr << 32; /* bits beyond 32 read as zero at the last level */
	unsigned shift = 64 - LPM4_DIR_BITS - LPM4_STRIDE_BITS;
	for (;;) {
		unsigned v = (unsigned)(key >> shift) & 63;
		uint64_t upto = (2ull << v) - 1; /* bits 0..v; v = 63 wraps to all ones, on purpose */
		if (node->vector & (1ull << v)) {
			node = blk + (uint32_t)(node->child_base +
						(uint32_t)__builtin_popcountll(node->vector & upto));
			shift -= LPM4_STRIDE_BITS; /* at most three levels: the builder guarantees it */
		} else {
			return ((const uint32_t *)blk)[(uint32_t)(node->leaf_base +
					(uint32_t)__builtin_popcountll(node->leafvec & upto))];
		}
	}
}

/*
 * Longest-prefix match of one address (host byte order). Returns its next-hop index, or
 * LPM4_NH_NONE. Any RCU reader thread, or the control thread. For the control plane and slow
 * paths; the dataplane uses lpm4_lookup_batch().
 */
static inline uint32_t lpm4_lookup(const struct lpm4 *lpm, uint32_t addr)
{
	/* Acquire pairs with the release stores in lpm4.c (publish_dir for a bulk replace,
	 * set_dir_entry for one /18): the dir and the block behind an entry are complete. */
	const uint64_t *dir = __atomic_load_n(&lpm->dir, __ATOMIC_ACQUIRE);
	uint64_t entry = __atomic_load_n(&dir[addr >> (32 - LPM4_DIR_BITS)], __ATOMIC_ACQUIRE);
	return lpm4_resolve_(entry, addr);
}

/*
 * Look up n addresses (host byte order), prefetching across the batch. nh[i] receives the next
 * hop of addrs[i] or LPM4_NH_NONE. Returns how many had a route. Any RCU reader thread.
 */
unsigned lpm4_lookup_batch(const struct lpm4 *lpm, const uint32_t *addrs, uint32_t *nh,
			   unsigned n);

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
 * /18 (or per covered /18 for shorter prefixes). Returns 0 or:
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
 * (whole /18 slots at a time, so paging deep into a full table stays cheap: one pass over the
 * 2^18 slots). Returns 0 after the last route, or fn's first non-zero return. fn must not change
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
	size_t subtrees;      /* /18 slots with a subtree block */
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
