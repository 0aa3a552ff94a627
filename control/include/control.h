/*
 * control.h: the control thread. It owns every table the dataplane reads (routes in lpm4, next
 * hops, neighbours, MAC ageing), applies changes to them, and serves the workers' requests:
 * resolving next hops by ARP (holding a few packets per neighbour meanwhile, RFC 1122 2.3.2.2)
 * and learning from the ARP the workers saw (RFC 826).
 *
 * Threads: control_create/start/stop/free from the program's main thread. The route calls
 * (control_add_route, control_del_route, control_get_route) may be called from any thread at any
 * time (a later REST API will): they take the control lock that serialises every table writer,
 * as lpm4.h, nexthop.h and neigh.h require. Packets the control side sends go through the
 * dataplane's control ctx (dp_control_ctx()), used only under that lock, so it never shares a tx
 * queue with a worker or with another caller.
 */
#ifndef IXYD_CONTROL_H
#define IXYD_CONTROL_H

#include <stdint.h>

#include "dataplane.h"

struct control;

struct control_config {
	uint32_t max_routes_nexthops; /* next-hop table capacity; 0: 4096 */
	uint32_t neigh_capacity;      /* neighbour entries; 0: 4096 */
	uint32_t mac_capacity;	      /* MAC entries, all bridges together; 0: 16384 */
	uint32_t mac_max_age_s;	      /* 0: 300 (IEEE 802.1D 7.9.2 default ageing time) */
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
 * Route prefix/len (host order) via gateway gw (host order). The gateway must lie in a
 * connected subnet of some iface, which becomes the egress. Replaces an existing route for the
 * same prefix/len. Returns 0 or -EINVAL (len > 32, host bits set), -ENETUNREACH (gateway on no
 * connected subnet), -ENOSPC (next-hop table full), -ENOMEM. Any thread.
 */
int control_add_route(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t gw);
/* Delete the route prefix/len: 0, -EINVAL, -ENOENT, -EPERM (a connected route). Any thread. */
int control_del_route(struct control *ctl, uint32_t prefix, uint8_t len);
/* Look a route up exactly: 0 with *gw (0: connected) and *iface, or -ENOENT. Any thread. */
int control_get_route(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t *gw,
		      uint16_t *iface);

/* One route for control_replace_routes(). */
struct control_route {
	uint32_t prefix; /* host order, no host bits */
	uint8_t len;
	uint32_t gw; /* host order, in a connected subnet */
};

/*
 * Replace every configured route with routes[0..n) in one publication (a bulk load: a full
 * Internet table in one go; a later duplicate prefix/len wins). Connected routes stay. Everything
 * is checked first and nothing changes on error: -EINVAL (len > 32, host bits), -ENETUNREACH (a
 * gateway on no connected subnet), -EPERM (a connected subnet), -ENOSPC, -ENOMEM. Any thread.
 */
int control_replace_routes(struct control *ctl, const struct control_route *routes, size_t n);
/* The same, also rejecting a gateway that is one of our addresses (-EINVAL), and telling in *bad
 * (may be NULL) which route an error is about. */
int control_replace_routes_at(struct control *ctl, const struct control_route *routes, size_t n,
			      size_t *bad);

/*
 * Record that ip is at mac, as an ARP reply would (the entry then ages like a learnt one), and
 * send what was held for it. For tests and benchmarks whose ports cannot answer ARP. 0 or
 * -ENETUNREACH (ip on no connected subnet), -ENOSPC, -ENOMEM. Any thread.
 */
int control_set_neighbour(struct control *ctl, uint32_t ip, const uint8_t mac[ETH_ALEN]);

/* ---- Queries and changes for the REST API (control_api.c) ------------------------------------
 * Every call takes the control lock for as long as it reads or writes the tables, so any thread
 * may call any of them at any time; none touches a worker. */

/* A route as the control plane lists it. */
struct control_route_info {
	uint32_t prefix; /* host order */
	uint8_t len;
	bool connected; /* from an iface address: gw is 0 */
	uint32_t gw;	/* host order */
	uint16_t iface; /* the egress iface (dataplane.h) */
};

/*
 * Copy the routes (connected ones included) in ascending (prefix, len) order, starting with the
 * offset-th, into out[0..max). Returns how many were copied; *total gets the number of routes.
 */
size_t control_list_routes(struct control *ctl, size_t offset, struct control_route_info *out,
			   size_t max, size_t *total);

/*
 * Every route that is not connected, in (prefix, len) order, as a malloc'd array the caller
 * frees (*out is NULL when *n is 0). 0 or -ENOMEM.
 */
int control_export_routes(struct control *ctl, struct control_route **out, size_t *n);

/*
 * Add routes[0..n) as one change: everything is checked first (prefix, gateway, no route for the
 * same prefix/len already, no duplicate in routes) and nothing changes on error. *bad (may be
 * NULL) gets the index of the offending route. 0 or -EINVAL (len > 32, host bits, gateway is
 * one of our addresses), -ENETUNREACH (gateway on no connected subnet), -EEXIST (the prefix
 * already has a route, or appears twice), -EPERM (a connected subnet), -ENOSPC, -ENOMEM.
 */
int control_add_routes(struct control *ctl, const struct control_route *routes, size_t n,
		       size_t *bad);

/* The answer of a forwarding lookup (control_fib_lookup). */
struct control_fib {
	struct control_route_info route; /* the longest matching route */
	uint32_t nexthop_ip;		 /* the gateway, or the destination for a connected route */
	uint8_t neigh_state;		 /* enum neigh_state of nexthop_ip; 0: no entry */
	uint8_t mac[ETH_ALEN];		 /* valid when neigh_state is reachable, stale or static */
};

/*
 * Look dst (host order) up as a worker would (lpm4_lookup on the published table), then name the
 * route that matched and the next hop's neighbour entry. 0, or -ENOENT (no route).
 */
int control_fib_lookup(struct control *ctl, uint32_t dst, struct control_fib *out);

/* A neighbour entry as listed. */
struct control_neigh_info {
	uint32_t ip; /* host order */
	uint8_t mac[ETH_ALEN];
	uint16_t iface;	 /* meaningless while incomplete */
	uint8_t state;	 /* enum neigh_state */
	uint16_t queued; /* packets waiting for resolution */
};

/* Copy up to max neighbour entries (in no particular order) into out; returns how many there
 * are in all (more than max: call again with a larger array). */
size_t control_list_neighbours(struct control *ctl, struct control_neigh_info *out, size_t max);

/*
 * Make ip a static neighbour at mac: used at once, never aged, not changed by ARP; packets held
 * for it are sent. 0 or -ENETUNREACH (ip on no connected subnet), -EINVAL (one of our addresses,
 * or a group MAC), -ENOSPC, -ENOMEM.
 */
int control_set_static_neighbour(struct control *ctl, uint32_t ip, const uint8_t mac[ETH_ALEN]);

/* Copy up to max MAC stations into out; returns how many there are in all (see mac_table_walk
 * for how consistent the copy is). */
size_t control_list_mac(struct control *ctl, struct mac_table_entry *out, size_t max);
/* Forget the stations learnt on port (a port index), or all of them for port < 0. Returns how
 * many were removed. */
unsigned control_flush_mac(struct control *ctl, int port);

/* What the API shows of a port. */
struct control_port_info {
	uint8_t mac[ETH_ALEN];
	bool link_up;
	uint32_t speed_mbps;
	bool promisc;
	bool bridged;
	uint16_t iface; /* its iface: itself, or its bridge */
	uint16_t rx_queues, tx_queues;
	const char *driver; /* static strings of the driver and the device */
	const char *device;
};

/* Fill *info for port (an index < dp->n_ports). 0 or -ENOENT. */
int control_port_info(struct control *ctl, uint16_t port, struct control_port_info *info);
/*
 * Turn promiscuous reception of port on or off. 0, -ENOENT, -EBUSY (a bridge port stays
 * promiscuous), or the driver's -errno.
 */
int control_set_promisc(struct control *ctl, uint16_t port, bool on);

struct control_table_sizes {
	size_t routes; /* connected ones included */
	size_t neighbours;
	size_t mac_entries;
	size_t routes_capacity_nexthops; /* next-hop table capacity */
};
void control_table_sizes(struct control *ctl, struct control_table_sizes *out);

/* The dataplane the control owns the tables of (its ports and ifaces are immutable once
 * started; counters are read with dp_read_port_counters()). */
const struct dataplane *control_dataplane(const struct control *ctl);

/* Work one round by hand: drain the workers' rings, run due timers, flush the control ctx.
 * What the control thread does in its loop; for tests that run no thread. Any thread that is
 * not running the control thread concurrently. */
void control_poll(struct control *ctl);

#endif
