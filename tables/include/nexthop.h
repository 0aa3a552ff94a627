/*
 * nexthop.h: the IPv4 next-hop table. Routes (lpm4) resolve to a 32-bit next-hop index; the
 * index names a {gateway, egress port} pair here, and the neighbour table resolves the gateway to
 * a MAC address. Routes share next hops: entries are reference counted, one reference per route
 * (plus whatever the control plane holds).
 *
 * Concurrency: one writer (the control thread) allocates, holds and puts; dataplane workers read
 * entries with nexthop_get() for indices they obtained from an lpm4 lookup, inside their RCU read
 * side (between two rcu_quiescent() reports). An entry is written before any route can publish
 * its index and is never modified while referenced; an index whose last reference is dropped is
 * reused only after a grace period (nexthop_table_reclaim()), so a reader holding a stale index
 * still reads the old, consistent entry.
 */
#ifndef IXYD_NEXTHOP_H
#define IXYD_NEXTHOP_H

#include <assert.h>
#include <stdint.h>

/* A gateway of 0.0.0.0 means "directly connected": resolve the packet's own destination. */
struct nexthop {
	uint32_t gw_ip;	  /* IPv4 gateway, host byte order */
	uint16_t port_id; /* egress port */
	uint16_t flags;	  /* NEXTHOP_F_* */
};
static_assert(sizeof(struct nexthop) == 8, "nexthop entries are packed 8 per cache line");

#define NEXTHOP_F_USED 0x1u /* allocated (referenced, or waiting for reclaim) */

/* The part of the table readers see; the rest is private to nexthop.c. */
struct nexthop_table {
	struct nexthop *entries; /* capacity entries, never reallocated */
	uint32_t capacity;
};

/*
 * Create a table with room for capacity next hops (1 .. 2^24). Returns NULL with errno EINVAL or
 * ENOMEM. Control thread.
 */
struct nexthop_table *nexthop_table_create(uint32_t capacity);

/* Free the table; NULL is a no-op. No reader may use it any more. */
void nexthop_table_free(struct nexthop_table *t);

/*
 * Find the next hop {gw_ip, port_id} or allocate it, and take one reference for the caller
 * (release it with nexthop_put()). On success stores the index in *index and returns 0.
 * Errors: -ENOSPC when the table is full (retired indices count until nexthop_table_reclaim()).
 * Control thread only.
 */
int nexthop_add(struct nexthop_table *t, uint32_t gw_ip, uint16_t port_id, uint32_t *index);

/* Take one more reference on an allocated index: 0, or -ENOENT if the index is not allocated. */
int nexthop_hold(struct nexthop_table *t, uint32_t index);

/*
 * Drop one reference. At zero the index is retired: lookups may still return it until the
 * publishing grace period ends, so it becomes reusable only after nexthop_table_reclaim().
 * Returns 0 or -ENOENT (index not allocated). Control thread only.
 */
int nexthop_put(struct nexthop_table *t, uint32_t index);

/* References held on index (0 if not allocated). Control thread. */
uint32_t nexthop_refcount(const struct nexthop_table *t, uint32_t index);

/*
 * Make retired indices reusable. Waits for a grace period first (rcu_synchronize()) if any index
 * is retired. Control thread only.
 */
void nexthop_table_reclaim(struct nexthop_table *t);

/*
 * The entry for index, for readers: index must come from a lookup in the current read-side
 * section (any index an lpm4 lookup returned other than LPM4_NH_NONE). No checks in the hot path.
 */
static inline const struct nexthop *nexthop_get(const struct nexthop_table *t, uint32_t index)
{
	return &t->entries[index];
}

#endif
