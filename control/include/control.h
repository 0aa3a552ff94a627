/*
 * control.h: the control thread. It owns every table the dataplane reads (routes in lpm4, next
 * hops, neighbours, MAC ageing), applies changes to them, and serves the workers' requests:
 * resolving next hops by ARP (holding a few packets per neighbour meanwhile, RFC 1122 2.3.2.2)
 * and learning from the ARP the workers saw (RFC 826).
 *
 * Threads: control_create/start/stop/free from the program's main thread. Every other call may
 * be made from any thread at any time (the REST API's threads do). Two locks keep the tables'
 * single-writer rules (lpm4.h, nexthop.h, neigh.h):
 *   - the route lock: the RIB, lpm4 and the next-hop table. Route writers hold it, grace
 *     periods included (a full-table replace waits for one).
 *   - the neighbour lock: the neighbour table and the control ctx (dp_control_ctx()), with which
 *     the control side sends ARP requests and held packets, so that ctx never shares a tx
 *     queue with a worker or with another caller.
 * Resolution (the control thread answering the workers' requests) takes only the neighbour
 * lock, so it never waits behind a route replace. A caller needing both takes the route lock
 * first. The MAC table needs no lock of ours (mac_table.h); promiscuous changes take the
 * neighbour lock (control_set_promisc()).
 */
#ifndef IXYD_CONTROL_H
#define IXYD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "iface.h"
#include "ipaddr.h"
#include "mac_table.h"

struct control;

/* ---- Routes: owners, kinds, next hops -------------------------------------------------------
 * A route is a prefix of either family with an owner, a precedence and a kind. Every writer
 * is an owner and replaces or flushes only its own routes; for each prefix the route with the
 * lowest precedence is selected (ties: the lower owner number), like a router's administrative
 * distance: a static route beats one learnt by BGP. */
enum control_route_owner {
	CONTROL_OWNER_CONNECTED = 0, /* an interface address's subnet, and our own addresses */
	CONTROL_OWNER_CONFIG = 1,    /* the daemon's configuration file */
	CONTROL_OWNER_API = 2,	     /* the REST API (and the state file that keeps its changes) */
	CONTROL_OWNER_KERNEL = 3,    /* mirrored from a kernel routing table (netlink) */
	CONTROL_OWNER_FPM = 4,	     /* FRR's zebra through the FPM protocol */
	CONTROL_ROUTE_OWNERS
};
/* Default precedences (lower wins): connected 0, config and API 1 (static routes, Cisco and
 * FRR's distance 1), FPM 20 (zebra already chose; eBGP's distance), kernel 30. */
extern const uint8_t control_owner_precedence[CONTROL_ROUTE_OWNERS];
/* "connected", "config", "api", "kernel", "fpm"; control_owner_parse: the index or -EINVAL. */
const char *control_owner_name(uint8_t owner);
int control_owner_parse(const char *name);

enum control_route_kind {
	CONTROL_ROUTE_UNICAST = 1,     /* forward: via 1..16 next hops (ECMP for more than one) */
	CONTROL_ROUTE_BLACKHOLE = 2,   /* drop silently */
	CONTROL_ROUTE_UNREACHABLE = 3, /* drop, ICMP destination unreachable (host) */
	CONTROL_ROUTE_LOCAL = 4,       /* deliver to the router itself */
	CONTROL_ROUTE_PUNT = 5,	       /* hand to the control plane (host) unchanged */
};
/* "unicast", "blackhole", "unreachable", "local", "punt"; parse: the kind or -EINVAL. */
const char *control_route_kind_name(uint8_t kind);
int control_route_kind_parse(const char *name);

#define CONTROL_ROUTE_PATHS_MAX 16 /* next hops of one ECMP route (NEXTHOP_GROUP_MAX) */

/* One next hop of a unicast route: a gateway, an interface, or both. A gateway without an
 * interface takes the interface whose connected subnet holds it; an interface without a gateway
 * makes the prefix on-link there (like `ip route add PREFIX dev IFACE`). */
struct control_path {
	struct ip_addr gw; /* family 0: none */
	iface_id_t iface;  /* IFACE_ID_NONE: from the gateway */
};

/* A route as writers give it. paths points to n_paths next hops (unicast only), owned by the
 * caller: bulk calls take arrays of routes whose paths point into one array of paths. */
struct control_route {
	struct ip_prefix prefix; /* canonical: no host bits */
	uint8_t kind;		 /* enum control_route_kind; 0 means unicast */
	uint8_t precedence;	 /* 0: the owner's default */
	uint8_t n_paths;
	const struct control_path *paths;
};

struct control_config {
	uint32_t
	    max_routes_nexthops; /* next-hop table capacity; 0: 4096 (a quarter may be groups) */
	uint32_t neigh_capacity; /* neighbour entries; 0: 4096 */
	uint32_t mac_capacity;	 /* MAC entries, all bridges together; 0: 16384 */
	uint32_t mac_max_age_s;	 /* 0: 300 (IEEE 802.1D 7.9.2 default ageing time) */
};

/*
 * Create the tables, hand them to dp (dp_set_tables) and add a connected route (gateway 0) for
 * every address of every iface of dp. dp must be fully configured (ports, bridges, addresses)
 * and not started. Returns NULL with errno (ENOMEM, EINVAL, EEXIST for two ifaces claiming the
 * same subnet).
 */
struct control *control_create(struct dataplane *dp, const struct control_config *cfg);
/* Stop the control thread if running and free the tables. Call after the dataplane's workers
 * have stopped (dp_stop()) and before dataplane_free(). NULL is a no-op. */
void control_free(struct control *ctl);

/* Start the control thread. 0 or -errno. */
int control_start(struct control *ctl);
/* Stop and join it; held packets are dropped. Safe to call twice. */
void control_stop(struct control *ctl);

/*
 * Set owner's route r (replacing owner's route for the same prefix, if any; other owners'
 * routes for it stay, and the lowest precedence is selected). A unicast route's paths are
 * checked: a gateway must lie in a connected subnet (of its interface, when one is named) and
 * must not be one of our addresses; 2..16 paths make an ECMP group. Returns 0 or -EINVAL (host
 * bits, bad kind, no paths for unicast, paths on another kind, a gateway of ours, an IPv4 route
 * via an IPv6 gateway), -ENETUNREACH (gateway on no connected subnet), -ENODEV (no such
 * interface), -EPERM (owner connected: only interface addresses make those), -EAFNOSUPPORT (IPv6
 * routes: the IPv6 forwarding table comes with IPv6 routing), -ENOSPC (next-hop table full),
 * -ENOMEM. Any thread.
 */
int control_route_set(struct control *ctl, uint8_t owner, const struct control_route *r);
/* Delete owner's route for p: 0, -ENOENT, -EPERM (owner connected). Any thread. */
int control_route_delete(struct control *ctl, uint8_t owner, const struct ip_prefix *p);

/*
 * Add routes[0..n) for owner as one change: everything is checked first (as
 * control_route_set(), plus: owner has no route for the prefix yet, no prefix twice in routes)
 * and nothing changes on error; *bad (may be NULL) gets the index of the offending route.
 * 0 or -EEXIST, or the errors of control_route_set(). Any thread.
 */
int control_routes_add(struct control *ctl, uint8_t owner, const struct control_route *routes,
		       size_t n, size_t *bad);
/*
 * Replace every route of owner with routes[0..n) in one publication (a bulk load: a full
 * Internet table in one go; a later duplicate prefix wins). Other owners' routes stay.
 * Everything is checked first, and nothing changes when a check fails (errors and *bad as
 * control_routes_add(), without -EEXIST). Should applying fail after that (-ENOSPC: next-hop
 * table full, -ENOMEM), the routes applied so far are owner's new set, the rest are gone, and
 * the failure is logged. Any thread.
 */
int control_routes_replace(struct control *ctl, uint8_t owner, const struct control_route *routes,
			   size_t n, size_t *bad);
/* Remove every route of owner; returns how many (or -EPERM for owner connected). Any thread. */
long control_routes_flush(struct control *ctl, uint8_t owner);

/*
 * Record that ip is at mac on the interface whose connected subnet holds it, as an ARP reply
 * would (the entry then ages like a learnt one), and send what was held for it. For tests and
 * benchmarks whose ports cannot answer ARP. 0 or -ENETUNREACH (ip on no connected subnet),
 * -ENOSPC, -ENOMEM. Any thread.
 */
int control_set_neighbour(struct control *ctl, const struct ip_addr *ip, const uint8_t mac[6]);

/* ---- Queries and changes for the REST API (control_api.c) ------------------------------------
 * Every call takes the lock of what it reads or writes (routes, or neighbours), so any thread
 * may call any of them at any time; none touches a worker. */

/* A route as the control plane lists it: one owner's candidate for a prefix. */
struct control_route_info {
	struct ip_prefix prefix;
	uint8_t owner;	    /* enum control_route_owner */
	uint8_t kind;	    /* enum control_route_kind */
	uint8_t precedence; /* the effective one */
	bool selected;	    /* the candidate forwarding uses for this prefix */
	uint8_t n_paths;    /* unicast */
	struct control_path paths[CONTROL_ROUTE_PATHS_MAX]; /* interfaces resolved */
};

/*
 * List routes in ascending prefix order. With owner < CONTROL_ROUTE_OWNERS, that owner's routes
 * (selected or not); with owner -1, every prefix's selected route. Skips the first offset
 * matches, copies up to max into out, returns how many were copied; *total gets the number of
 * matches. Any thread.
 */
size_t control_list_routes(struct control *ctl, int owner, size_t offset,
			   struct control_route_info *out, size_t max, size_t *total);
/* owner's route for p (owner -1: the selected one): 0 and *out, or -ENOENT. */
int control_get_route(struct control *ctl, int owner, const struct ip_prefix *p,
		      struct control_route_info *out);
/* The candidates of other owners for the prefix of the selected route sel, into out[0..max):
 * returns how many. */
size_t control_route_alternatives(struct control *ctl, const struct ip_prefix *p,
				  struct control_route_info *out, size_t max);

/*
 * Every route of owner, as routes (*routes, malloc'd, NULL when *n is 0) whose paths point into
 * *paths (malloc'd). The caller frees both. 0 or -ENOMEM. For the state file.
 */
int control_export_routes(struct control *ctl, uint8_t owner, struct control_route **routes,
			  size_t *n, struct control_path **paths);

/* The answer of a forwarding lookup (control_fib_lookup). */
struct control_fib {
	struct control_route_info route; /* the longest matching route (selected) */
	struct ip_addr nexthop_ip;	 /* the gateway, or the destination when on-link */
	iface_id_t nexthop_iface;	 /* where it leaves (unicast) */
	uint8_t neigh_state;		 /* enum neigh_state of nexthop_ip; 0: no entry */
	uint8_t mac[6];			 /* valid when neigh_state is reachable, stale or static */
};

/*
 * Look dst up as a worker would (lpm4_lookup on the published table; a multipath route as a
 * packet whose flow hash is flow_hash would take it), then name the route that matched and the
 * next hop's neighbour entry. 0, -ENOENT (no route), -EAFNOSUPPORT (IPv6).
 */
int control_fib_lookup(struct control *ctl, const struct ip_addr *dst, uint32_t flow_hash,
		       struct control_fib *out);

/* A neighbour entry as listed. */
struct control_neigh_info {
	struct ip_addr ip;
	iface_id_t iface;
	uint8_t mac[6];	 /* meaningless while incomplete */
	uint8_t state;	 /* enum neigh_state */
	uint16_t queued; /* packets waiting for resolution */
};

/* Copy up to max neighbour entries (in no particular order) into out; returns how many there
 * are in all (more than max: call again with a larger array). */
size_t control_list_neighbours(struct control *ctl, struct control_neigh_info *out, size_t max);

/*
 * Make ip a static neighbour at mac on the interface whose connected subnet holds it: used at
 * once, never aged, not changed by ARP; packets held for it are sent. 0 or -ENETUNREACH (ip on
 * no connected subnet), -EINVAL (one of our addresses, or a group MAC), -ENOSPC, -ENOMEM.
 */
int control_set_static_neighbour(struct control *ctl, const struct ip_addr *ip,
				 const uint8_t mac[6]);

/* Copy up to max MAC stations into out; returns how many there are in all (see mac_table_walk
 * for how consistent the copy is). */
size_t control_list_mac(struct control *ctl, struct mac_table_entry *out, size_t max);
/* Forget the stations learnt on port (a port index), or all of them for port < 0. Returns how
 * many were removed. */
unsigned control_flush_mac(struct control *ctl, int port);

/* What the API shows of a port: the dataplane's view plus link and promiscuous state. */
struct control_port_info {
	struct dp_port_info dp;
	bool link_up;
	uint32_t speed_mbps;
	bool promisc;
};

/* Fill *info for port. 0 or -ENOENT. */
int control_port_info(struct control *ctl, port_id_t port, struct control_port_info *info);
/*
 * Turn promiscuous reception of port on or off. 0, -ENOENT, -EBUSY (a bridge port stays
 * promiscuous), or the driver's -errno.
 */
int control_set_promisc(struct control *ctl, port_id_t port, bool on);

struct control_table_sizes {
	size_t routes; /* prefixes with a route (connected ones included) */
	size_t routes_by_owner[CONTROL_ROUTE_OWNERS];
	size_t neighbours;
	size_t mac_entries;
	size_t nexthops;	  /* next-hop entries in use (groups included) */
	size_t nexthops_capacity; /* next-hop table capacity */
};
void control_table_sizes(struct control *ctl, struct control_table_sizes *out);

/* The dataplane the control owns the tables of (its ports and interfaces are immutable once
 * started; read it through dataplane.h's functions). */
struct dataplane *control_dataplane(const struct control *ctl);

/* Work one round by hand: drain the workers' rings, run due timers, flush the control ctx.
 * What the control thread does in its loop; for tests that run no thread. Any thread that is
 * not running the control thread concurrently. */
void control_poll(struct control *ctl);

#endif
