/*
 * dp_tables.h: the dataplane's calls into the tables it reads, in one place: the neighbour table
 * (tables/neigh.h) and the MAC learning table (tables/mac_table.h). Both are written elsewhere
 * too (neighbours only by the control thread; MAC stations by every worker as it learns); these
 * wrappers hold the dataplane's conventions (iface ids as the tables' port ids, the ctx's coarse
 * clock) so the packet path reads as plain lookups.
 *
 * Threads: lookups from any RCU reader thread or the control thread; dp_mac_learn from the ctx's
 * owner.
 */
#ifndef IXYD_DP_TABLES_H
#define IXYD_DP_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "iface.h"
#include "pkt.h"

struct dataplane;
struct dp_ctx;

/* True and *mac if ip (IPv4, host order) has a usable (reachable or stale) neighbour entry on
 * iface, the egress the route chose. */
bool dp_neigh_lookup(const struct dataplane *dp, iface_id_t iface, uint32_t ip,
		     uint8_t mac[ETH_ALEN]);
/* True and *port if mac was learnt on bridge. */
bool dp_mac_lookup(const struct dataplane *dp, uint16_t bridge, const uint8_t mac[ETH_ALEN],
		   port_id_t *port);
/* Learn mac on port of bridge (a full table learns nothing: frames to it are flooded). */
void dp_mac_learn(struct dp_ctx *ctx, uint16_t bridge, const uint8_t mac[ETH_ALEN], port_id_t port);

#endif
