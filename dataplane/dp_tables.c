/* dp_tables.c: see dp_tables.h. */
#include "dp_tables.h"

#include <time.h>

#include "dp_internal.h"
#include "mac_table.h"
#include "neigh.h"

uint32_t dp_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

bool dp_neigh_lookup(const struct dataplane *dp, iface_id_t iface, uint32_t ip,
		     uint8_t mac[ETH_ALEN])
{
	return dp->tables.neigh && neigh_lookup4(dp->tables.neigh, iface, ip, mac) == 0;
}

bool dp_mac_lookup(const struct dataplane *dp, uint16_t bridge, const uint8_t mac[ETH_ALEN],
		   port_id_t *port)
{
	return dp->tables.mac && mac_table_lookup(dp->tables.mac, mac, bridge, port) == 0;
}

void dp_mac_learn(struct dp_ctx *ctx, uint16_t bridge, const uint8_t mac[ETH_ALEN], port_id_t port)
{
	if (ctx->dp->tables.mac)
		(void)mac_table_learn(ctx->dp->tables.mac, mac, bridge, port, ctx->now_s);
}
