/*
 * neigh.h: the neighbour table (ARP cache for IPv4, RFC 826; neighbour cache for IPv6, RFC 4861
 * 5.1): (interface, next-hop address) -> MAC, with the states of RFC 1122 section 2.3.2.1
 * reduced to three (incomplete, reachable, stale), ageing, a capacity and a small queue of
 * packets per unresolved address. Entries are keyed by interface and address together: the
 * same address may be a neighbour on two interfaces (link-local IPv6 addresses always are,
 * RFC 4291 2.5.6; VLAN interfaces may reuse subnets).
 *
 * Ownership: the control thread owns the table and is the only writer. Workers only read: a
 * chained hash whose chains and per-entry resolutions are RCU-published (release stores, retired
 * through rcu.h), so a lookup never blocks and never sees a half-written MAC. A worker that finds
 * no usable entry hands the packet to the control thread (over whatever channel the dataplane
 * uses); the control thread calls neigh_resolve(), which queues it and says when to send an ARP
 * request. Packets are opaque pointers: the table frees the ones it drops through the configured
 * callback and hands resolved ones back, so it needs nothing from drivers.
 *
 * Timers run on a caller-supplied clock in milliseconds (now_ms), so tests drive time:
 *   incomplete -> (reply)                    reachable
 *   incomplete -> (max_probes unanswered)    deleted, queue dropped
 *   reachable  -> (reachable_ms unconfirmed) stale (still used for forwarding)
 *   stale      -> (stale_ms unconfirmed)     deleted
 *   any        -> (neigh_update)             reachable, queue released to the caller
 *   any        -> (neigh_set_static)         static: never ages, ARP does not change it; only
 *                                            neigh_delete() (or another neigh_set_static) does
 */
#ifndef IXYD_NEIGH_H
#define IXYD_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "iface.h"
#include "ipaddr.h"

enum neigh_state {
	NEIGH_INCOMPLETE = 1, /* request sent, no answer yet: packets wait in the queue */
	NEIGH_REACHABLE = 2,  /* confirmed within reachable_ms */
	NEIGH_STALE = 3,      /* not confirmed lately; still used, removed after stale_ms */
	NEIGH_STATIC = 4,     /* set by hand (neigh_set_static): used, never aged or relearnt */
};

/* What workers read; immutable once published (a change publishes a new one). */
struct neigh_res {
	uint8_t mac[6];
	uint8_t state; /* enum neigh_state */
};

/* An entry's key. */
struct neigh_key {
	iface_id_t iface;
	struct ip_addr ip;
};

typedef void neigh_free_pkt_fn(void *ctx, void *pkt);

struct neigh_config {
	uint32_t capacity;	     /* entries, 1 .. 2^22 */
	uint32_t reachable_ms;	     /* 0 = 30000 */
	uint32_t stale_ms;	     /* 0 = 60000, counted from the last confirmation */
	uint32_t retrans_ms;	     /* 0 = 1000 between requests */
	uint32_t max_probes;	     /* 0 = 3 requests before giving up */
	uint32_t queue_len;	     /* 0 = 4 packets per unresolved address (1 .. 64) */
	neigh_free_pkt_fn *free_pkt; /* frees a packet the table drops (required) */
	void *free_ctx;
};

struct neigh_stats {
	uint64_t entries;
	uint64_t resolved;     /* incomplete -> reachable */
	uint64_t failed;       /* incomplete entries given up */
	uint64_t queue_drops;  /* packets dropped: queue full, failure, delete, free */
	uint64_t refused_full; /* new entries refused: capacity */
};

struct neigh_table;

/* Create a table. NULL with errno EINVAL (bad sizes, no free_pkt) or ENOMEM. Control thread. */
struct neigh_table *neigh_table_create(const struct neigh_config *cfg);
/* Free the table and drop every queued packet. NULL is a no-op. No reader may use it any more. */
void neigh_table_free(struct neigh_table *t);

/*
 * Worker lookup of ip on iface. Returns 0 with mac for a reachable or stale entry, -EAGAIN for
 * an incomplete one, -ENOENT if there is none. Any RCU reader thread.
 */
int neigh_lookup(const struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		 uint8_t mac[6]);
/* The same for an IPv4 address (host order) without building a struct ip_addr: the hot path. */
int neigh_lookup4(const struct neigh_table *t, iface_id_t iface, uint32_t ip, uint8_t mac[6]);

/*
 * Control thread: a packet for ip needs resolution.
 *   0        the entry is usable: pkt is not taken (send it with neigh_lookup()'s answer)
 *   -EAGAIN  pkt is queued (the table owns it now; the oldest queued one may have been dropped).
 *            *send_request tells whether to send an ARP request now (a new entry).
 *   -ENOSPC  table full: pkt not taken, counted in refused_full
 *   -ENOMEM  pkt not taken
 *   -EINVAL  ip has no family (neither AF_INET nor AF_INET6): pkt not taken
 */
int neigh_resolve(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip, void *pkt,
		  uint64_t now_ms, bool *send_request);

/*
 * Control thread: ip is at mac on iface (an ARP reply, or a request from ip). Creates the entry
 * if needed, makes it reachable, and moves up to max_released queued packets into released (the
 * caller owns and sends them; any beyond max_released are dropped). *n_released says how many.
 * Returns 0, -ENOSPC (new entry, table full), -ENOMEM or -EINVAL (ip of no family).
 */
int neigh_update(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		 const uint8_t mac[6], uint64_t now_ms, void **released, unsigned max_released,
		 unsigned *n_released);

/*
 * Control thread: make ip on iface a static entry at mac: used like a reachable one, never
 * aged, never changed by neigh_update(). Releases what was queued as neigh_update() does.
 * Returns 0, -ENOSPC (new entry, table full), -ENOMEM or -EINVAL (ip of no family).
 */
int neigh_set_static(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		     const uint8_t mac[6], void **released, unsigned max_released,
		     unsigned *n_released);

/*
 * Control thread: run the timers at now_ms. Writes up to max_probes entries that need another
 * request (ARP, or an NS for IPv6) into probes and returns how many. Waits for a grace period if it
 * removed anything (to free the memory), so call it from the control loop, not a worker.
 */
unsigned neigh_tick(struct neigh_table *t, uint64_t now_ms, struct neigh_key *probes,
		    unsigned max_probes);

/* Control thread: remove ip on iface (dropping its queue). 0 or -ENOENT. */
int neigh_delete(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip);

/* Control thread: remove every entry on iface, incomplete ones included (their queues are
 * dropped), e.g. at link down. Returns how many. */
unsigned neigh_flush_iface(struct neigh_table *t, iface_id_t iface);

/* Control thread: the entry's state and how many packets wait. 0 or -ENOENT. */
int neigh_get(const struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
	      struct neigh_res *res, unsigned *queued);

/*
 * Control thread: call fn for every entry (incomplete ones included) in no particular order; a
 * non-zero return stops the walk and is returned. fn must not change the table.
 */
int neigh_walk(const struct neigh_table *t,
	       int (*fn)(void *arg, const struct neigh_key *key, const struct neigh_res *res,
			 unsigned queued),
	       void *arg);

void neigh_get_stats(const struct neigh_table *t, struct neigh_stats *st);

#endif
