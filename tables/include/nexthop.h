/*
 * nexthop.h: the next-hop table, shared by both address families. A route (lpm4 today, lpm6
 * next) resolves to a small index (below 2^24, what lpm4 stores); the index names one entry
 * here, which says what to do with the packet:
 *   gateway      send to the gateway (either family: an IPv4 route may have an IPv6 gateway,
 *                RFC 8950) out of an interface; the neighbour table resolves it
 *   connected    the destination is on the interface's subnet: resolve the destination itself
 *   local        the destination is one of our addresses: deliver it to the router
 *   blackhole    drop without an answer (counted)
 *   unreachable  drop and answer ICMP destination unreachable
 *   punt         hand to the host (the control plane) unchanged
 *   group        multipath (ECMP): one of 2..16 member next hops, chosen per flow by a hash
 * Entries are deduplicated and reference counted: routes share them (one reference per route
 * using it, one per group member, plus what the control plane holds).
 *
 * Concurrency: one writer (the control side) adds, holds and puts; dataplane workers read
 * entries with nexthop_get() for indices they obtained from a route lookup, inside their RCU
 * read side (between two rcu_quiescent() reports). An entry is written before any route can
 * publish its index and never modified while referenced; an index whose last reference is
 * dropped is reused only after a grace period (nexthop_table_reclaim()), so a reader holding a
 * stale index still reads the old, consistent entry (and a group's old members).
 */
#ifndef IXYD_NEXTHOP_H
#define IXYD_NEXTHOP_H

#include <assert.h>
#include <stdint.h>

#include "iface.h"
#include "ipaddr.h"

#define NEXTHOP_GROUP_MAX 16	     /* members of one multipath group */
#define NEXTHOP_INDEX_MAX (1u << 24) /* indices are below this (lpm4's next-hop field) */

enum nexthop_kind {
	NEXTHOP_GATEWAY = 1,
	NEXTHOP_CONNECTED = 2,
	NEXTHOP_LOCAL = 3,
	NEXTHOP_BLACKHOLE = 4,
	NEXTHOP_UNREACHABLE = 5,
	NEXTHOP_PUNT = 6,
	NEXTHOP_GROUP = 7,
};

/*
 * One entry as readers see it. 32 bytes, two to a cache line; the IPv4 fast path reads kind,
 * iface and gw.v4 from one line.
 */
struct nexthop {
	uint8_t kind;	    /* enum nexthop_kind; 0: unused */
	uint8_t family;	    /* gateway: the gateway's family; group: its members' family if they
			       share one, else 0; others: the family of the routes using it
			       (AF_INET / AF_INET6), 0 if shared by both */
	iface_id_t iface;   /* gateway, connected: the interface; local: its interface or
			       IFACE_ID_NONE (a local route); else IFACE_ID_NONE */
	uint16_t n_members; /* group: 2..NEXTHOP_GROUP_MAX */
	uint16_t reserved;
	uint32_t group; /* group: index of its member list in nexthop_table.members */
	union {
		uint32_t v4;	/* gateway of family AF_INET, host order */
		uint8_t v6[16]; /* gateway of family AF_INET6, network order */
	} gw;
	uint32_t pad;
};
static_assert(sizeof(struct nexthop) == 32, "next-hop entries are two per cache line");

/* What identifies a single (non-group) next hop: the arguments of nexthop_add(). */
struct nexthop_key {
	uint8_t kind;	   /* not NEXTHOP_GROUP */
	uint8_t family;	   /* as in struct nexthop (gateway: 0 or the gateway's family) */
	iface_id_t iface;  /* gateway, connected, local; else IFACE_ID_NONE */
	struct ip_addr gw; /* gateway only (its family is the key's family) */
};

/* The part of the table readers see; the rest is private to nexthop.c. */
struct nexthop_table {
	struct nexthop *entries;		/* capacity entries, never reallocated */
	uint32_t (*members)[NEXTHOP_GROUP_MAX]; /* group member lists, group_capacity of them */
	uint32_t capacity;
	uint32_t group_capacity;
};

/*
 * Create a table with room for capacity next hops (1 .. NEXTHOP_INDEX_MAX), of which up to
 * group_capacity (0 .. capacity) may be groups. NULL with errno EINVAL or ENOMEM.
 */
struct nexthop_table *nexthop_table_create(uint32_t capacity, uint32_t group_capacity);

/* Free the table; NULL is a no-op. No reader may use it any more. */
void nexthop_table_free(struct nexthop_table *t);

/*
 * Find the single next hop key or allocate it, and take one reference for the caller (release
 * it with nexthop_put()). On success stores the index in *index and returns 0. Errors: -EINVAL
 * (kind 0, a group or unknown kind, a gateway without an address (no family, or unspecified)
 * or interface, or with a family other than 0 or the gateway's; connected without an
 * interface; an interface on blackhole, unreachable or punt (IFACE_ID_NONE, not 0, means none);
 * a gateway address on any kind but gateway; an unknown family), -ENOSPC when the table is full
 * (retired indices count until nexthop_table_reclaim()). Writer only.
 */
int nexthop_add(struct nexthop_table *t, const struct nexthop_key *key, uint32_t *index);

/*
 * Find or allocate the multipath group of members[0..n) (indices of single next hops of kind
 * gateway or connected, each held by the caller; order and duplicates do not matter: the set
 * is what identifies the group, duplicates count once). n == 1 after removing duplicates gives
 * that member itself (one more reference on it). Takes one reference for the caller; the group
 * holds its own reference on each member until it is reclaimed. 0 and *index, or -EINVAL (n 0
 * or over NEXTHOP_GROUP_MAX, a member not allocated or not of a forwarding kind), -ENOSPC (no
 * free index, or group_capacity groups allocated, retired ones included). members[] of the
 * group are kept sorted by index. Writer only.
 */
int nexthop_add_group(struct nexthop_table *t, const uint32_t *members, unsigned n,
		      uint32_t *index);

/* Take one more reference on an allocated index: 0, or -ENOENT if the index is not allocated. */
int nexthop_hold(struct nexthop_table *t, uint32_t index);

/*
 * Drop one reference. At zero the index is retired: lookups may still return it until the
 * publishing grace period ends, so it becomes reusable only after nexthop_table_reclaim() (a
 * group drops its members' references then). Returns 0 or -ENOENT. Writer only.
 */
int nexthop_put(struct nexthop_table *t, uint32_t index);

/* References held on index (0 if not allocated). Writer. */
uint32_t nexthop_refcount(const struct nexthop_table *t, uint32_t index);
/* Entries in use: referenced or retired and not yet reclaimed (groups included); what counts
 * against capacity. Writer. */
uint32_t nexthop_table_used(const struct nexthop_table *t);

/*
 * Make retired indices reusable. Waits for a grace period first (rcu_synchronize()) if any index
 * is retired. Writer only.
 */
void nexthop_table_reclaim(struct nexthop_table *t);

/*
 * The entry for index, for readers: index must come from a lookup in the current read-side
 * section (any index a route lookup returned other than its "none"). No checks in the hot path.
 */
static inline const struct nexthop *nexthop_get(const struct nexthop_table *t, uint32_t index)
{
	return &t->entries[index];
}

/*
 * The member of group g that carries a flow of hash flow_hash: member (flow_hash * n) >> 32,
 * which spreads uniform 32-bit hashes evenly over n members without a division (the multiply
 * maps [0, 2^32) onto [0, n) in n equal ranges). The same flow always takes the same member
 * while the group is unchanged. Readers.
 */
static inline uint32_t nexthop_group_pick(const struct nexthop_table *t, const struct nexthop *g,
					  uint32_t flow_hash)
{
	uint32_t slot = (uint32_t)(((uint64_t)flow_hash * g->n_members) >> 32);
	return t->members[g->group][slot];
}

/* The kind's name ("gateway", "connected", "local", "blackhole", "unreachable", "punt",
 * "group"), or "?". */
const char *nexthop_kind_name(uint8_t kind);

#endif
