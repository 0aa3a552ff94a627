/*
 * rib.h: the routing information base: every route every owner asked for, of both families,
 * and which of them is selected for forwarding. Private to control/.
 *
 * A route is (prefix, owner) -> {next-hop index, precedence}. Owners are the writers (config,
 * API, kernel mirror, FPM, connected subnets): each owner has at most one route per prefix, and
 * replaces or flushes only its own. Per prefix the candidate with the lowest precedence is
 * selected (ties: the lower owner number); the caller installs the selected next hop in the
 * family's LPM table (lpm4, later lpm6). This is the administrative distance of other routers.
 *
 * Next hops are indices of the control's nexthop_table: the RIB holds one reference per
 * candidate it stores (the caller's reference passes to the RIB on rib_set()), and drops it with
 * nexthop_put() when the candidate is replaced or removed.
 *
 * Threads: one writer at a time (the control's route lock); no reader runs concurrently with a
 * writer (listing takes the same lock). Workers never read the RIB.
 *
 * Sizes: one 44-byte node per prefix plus 8-16 bytes of hash slots (rib.c), about 64 bytes per
 * prefix: a full IPv4 table (~1M prefixes) is ~60 MB. Set, delete and get are O(1).
 *
 * Errors common to the calls taking a prefix: -EINVAL for a prefix that is not canonical (host
 * bits set, length too long, family neither AF_INET nor AF_INET6) or an owner >= RIB_OWNERS.
 */
#ifndef IXYD_RIB_H
#define IXYD_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"

/* Owners are numbered 0 .. RIB_OWNERS-1 (control.h: enum control_route_owner; control.c checks
 * that the counts agree). */
#define RIB_OWNERS 5

struct nexthop_table;
struct rib;

#define RIB_NH_NONE UINT32_MAX

/* One owner's candidate for a prefix. */
struct rib_candidate {
	uint32_t nh;	    /* next-hop index; RIB_NH_NONE: this owner has no route here */
	uint8_t precedence; /* lower wins */
};

/* Create an empty RIB whose candidates hold references in nht (NULL: the RIB drops no
 * references, for tests and benchmarks). NULL with errno ENOMEM. */
struct rib *rib_create(struct nexthop_table *nht);
/* Drop every candidate's reference and free. NULL is a no-op. */
void rib_free(struct rib *rib);

/*
 * Set owner's route for prefix p (canonical: no host bits; the caller checked) to nh with
 * precedence. The RIB takes over the caller's reference on nh; the candidate it replaces (if any)
 * has its reference dropped. *sel_before / *sel_after (either may be NULL) get the selected next
 * hop before and after the change (RIB_NH_NONE: none), so the caller knows whether to touch the
 * LPM. 0, -EINVAL (also for nh RIB_NH_NONE) or -ENOMEM (only when p is new); on an error nothing
 * changed and the caller keeps its reference.
 */
int rib_set(struct rib *rib, const struct ip_prefix *p, uint8_t owner, uint8_t precedence,
	    uint32_t nh, uint32_t *sel_before, uint32_t *sel_after);

/*
 * Remove owner's route for p. 0 with *sel_before / *sel_after as rib_set(), or -ENOENT (owner has
 * no route for p).
 */
int rib_delete(struct rib *rib, const struct ip_prefix *p, uint8_t owner, uint32_t *sel_before,
	       uint32_t *sel_after);

/* owner's candidate for p: 0 and *c, or -ENOENT. */
int rib_get(const struct rib *rib, const struct ip_prefix *p, uint8_t owner,
	    struct rib_candidate *c);

/* Every owner's candidate for p, indexed by owner (nh RIB_NH_NONE where an owner has none), and
 * the selected owner in *selected. 0, or -ENOENT (no route for p at all). */
int rib_get_all(const struct rib *rib, const struct ip_prefix *p,
		struct rib_candidate cands[RIB_OWNERS], uint8_t *selected);

/* The selected next hop for p: 0 and *nh (and *owner, may be NULL), or -ENOENT. */
int rib_selected(const struct rib *rib, const struct ip_prefix *p, uint32_t *nh, uint8_t *owner);

/*
 * Replacing all of one owner's routes in two steps, without ever holding two copies:
 *   rib_mark_owner(rib, owner)   marks every current candidate of owner as stale
 *   rib_set(...) for each new route (a set candidate is no longer stale)
 *   rib_sweep_owner(rib, owner)  removes the candidates still stale, returning how many
 * Between mark and sweep nothing else may change owner's routes. rib_sweep_owner() calls
 * changed(arg, prefix, sel_after) (changed may be NULL) for every prefix whose selected next hop
 * it changed, after the change: changed may read the RIB but not change it. O(prefixes) each.
 */
void rib_mark_owner(struct rib *rib, uint8_t owner);
size_t rib_sweep_owner(struct rib *rib, uint8_t owner,
		       void (*changed)(void *arg, const struct ip_prefix *p, uint32_t sel_after),
		       void *arg);

/* Prefixes with at least one route (of family, or 0 for both), and owner's routes (of family).
 * O(1). */
size_t rib_count(const struct rib *rib, uint8_t family);
size_t rib_count_owner(const struct rib *rib, uint8_t owner, uint8_t family);

/*
 * Call fn for every prefix of family (AF_INET, AF_INET6, or 0 for both) in no particular order,
 * with the candidates as rib_get_all() gives them; a non-zero return stops the walk and is
 * returned. fn must not change the RIB.
 */
int rib_walk(const struct rib *rib, uint8_t family,
	     int (*fn)(void *arg, const struct ip_prefix *p,
		       const struct rib_candidate cands[RIB_OWNERS], uint8_t selected),
	     void *arg);

/* Bytes the RIB has allocated (nodes, hash, bookkeeping), for statistics. */
size_t rib_memory_bytes(const struct rib *rib);

#endif
