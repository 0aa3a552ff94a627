/*
 * dp_tables.h: the dataplane's view of the neighbour (IPv4 -> MAC) and MAC learning tables.
 *
 * MAC learning uses tables/mac_table.h. The neighbour table here is INTERIM: tables/ is getting
 * its own (with the pending-packet queue); until it lands, this small lock-free table stands in,
 * and this header is the only place the dataplane touches it, so the switch is local. It is a
 * fixed-capacity open-addressing hash whose keys, once inserted, are never removed (an entry is
 * invalidated instead), so a reader never sees a slot change key under it and needs no retry.
 *
 * Neighbour table: written only by the control thread (dp_neigh_set / dp_neigh_invalidate),
 * read by any thread (dp_neigh_lookup).
 */
#ifndef IXYD_DP_TABLES_H
#define IXYD_DP_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

struct dp_neigh_table;
struct dataplane;
struct dp_ctx;

/* Create a neighbour table of capacity entries (a power of two >= 16). NULL + errno EINVAL or
 * ENOMEM. Control path. */
struct dp_neigh_table *dp_neigh_table_create(uint32_t capacity);
void dp_neigh_table_free(struct dp_neigh_table *t);
/* Set ip on iface to mac. 0, or -ENOSPC when the table is full. Control thread only. */
int dp_neigh_set(struct dp_neigh_table *t, uint16_t iface, uint32_t ip, const uint8_t mac[ETH_ALEN]);
/* Forget ip on iface (lookups miss from now on). Control thread only. */
void dp_neigh_invalidate(struct dp_neigh_table *t, uint16_t iface, uint32_t ip);
/* Look ip up on iface; true and *mac if resolved. Any thread. */
bool dp_neigh_table_lookup(const struct dp_neigh_table *t, uint16_t iface, uint32_t ip,
			   uint8_t mac[ETH_ALEN]);

/* Coarse monotonic seconds, the clock the MAC table ages by. */
uint32_t dp_now_s(void);

/* The dataplane's calls, in one place. */
bool dp_neigh_lookup(const struct dataplane *dp, uint16_t iface, uint32_t ip, uint8_t mac[ETH_ALEN]);
bool dp_mac_lookup(const struct dataplane *dp, uint16_t bridge, const uint8_t mac[ETH_ALEN],
		   uint16_t *port);
void dp_mac_learn(struct dp_ctx *ctx, uint16_t bridge, const uint8_t mac[ETH_ALEN], uint16_t port);

#endif
