/*
 * dp_tables.h: the dataplane's view of the neighbour (IPv4 -> MAC) and MAC learning tables.
 *
 * INTERIM: tables/ is getting its own neighbour and MAC tables (with the pending-packet queue);
 * until they land, these two small lock-free tables stand in, and this header is the only place
 * the dataplane touches them, so the switch is local. Both are fixed-capacity open-addressing
 * hashes whose keys, once inserted, are never removed (an entry is invalidated instead), so a
 * reader never sees a slot change key under it and needs no retry loop.
 *
 * Neighbour table: written only by the control thread (dp_neigh_set / dp_neigh_invalidate),
 * read by any thread (dp_neigh_lookup).
 * MAC table: one per bridge; learnt by the workers themselves (several writers: a slot is
 * claimed with a CAS), looked up by any thread, aged by the control thread (dp_mac_age).
 */
#ifndef IXYD_DP_TABLES_H
#define IXYD_DP_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

struct dp_neigh_table;
struct dp_mac_table;
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

/* Create MAC tables for n_bridges bridges of capacity entries each (a power of two >= 16). */
struct dp_mac_table *dp_mac_table_create(uint16_t n_bridges, uint32_t capacity);
void dp_mac_table_free(struct dp_mac_table *t);
/* Record that mac lives on port in bridge (now_s: a coarse clock for ageing). Any thread; a
 * full table learns nothing more (lookups miss and frames are flooded). */
void dp_mac_table_learn(struct dp_mac_table *t, uint16_t bridge, const uint8_t mac[ETH_ALEN],
			uint16_t port, uint32_t now_s);
/* The port mac was learnt on in bridge; false if unknown or aged out. Any thread. */
bool dp_mac_table_lookup(const struct dp_mac_table *t, uint16_t bridge, const uint8_t mac[ETH_ALEN],
			 uint16_t *port);
/* Forget entries not seen for more than max_age_s. Returns how many aged out. Control thread. */
uint32_t dp_mac_age(struct dp_mac_table *t, uint32_t now_s, uint32_t max_age_s);
/* Forget everything learnt on port (link down, reconfiguration). Control thread. */
void dp_mac_flush_port(struct dp_mac_table *t, uint16_t port);
/* Coarse monotonic seconds, the clock the MAC table ages by. */
uint32_t dp_now_s(void);

/* The dataplane's calls, in one place. */
bool dp_neigh_lookup(const struct dataplane *dp, uint16_t iface, uint32_t ip, uint8_t mac[ETH_ALEN]);
bool dp_mac_lookup(const struct dataplane *dp, uint16_t bridge, const uint8_t mac[ETH_ALEN],
		   uint16_t *port);
void dp_mac_learn(struct dp_ctx *ctx, uint16_t bridge, const uint8_t mac[ETH_ALEN], uint16_t port);

#endif
