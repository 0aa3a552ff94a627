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

/*
 * Record that ip is at mac, as an ARP reply would (the entry then ages like a learnt one), and
 * send what was held for it. For tests and benchmarks whose ports cannot answer ARP. 0 or
 * -ENETUNREACH (ip on no connected subnet), -ENOSPC, -ENOMEM. Any thread.
 */
int control_set_neighbour(struct control *ctl, uint32_t ip, const uint8_t mac[ETH_ALEN]);

/* Work one round by hand: drain the workers' rings, run due timers, flush the control ctx.
 * What the control thread does in its loop; for tests that run no thread. Any thread that is
 * not running the control thread concurrently. */
void control_poll(struct control *ctl);

#endif
