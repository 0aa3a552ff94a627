/*
 * tx.c: the output side of a ctx: per-port tx batches, flooding on bridges, Ethernet rewrite,
 * and batched freeing of dropped buffers.
 */
#include <errno.h>
#include <string.h>

#include "dp_internal.h"

static void garbage_flush(struct dp_ctx *ctx)
{
	pkt_buf_free_batch(ctx->garbage, ctx->n_garbage);
	ctx->n_garbage = 0;
}

void dp_consume1(struct dp_ctx *ctx, struct pkt_buf *b)
{
	if (ctx->n_garbage == DP_TX_BATCH)
		garbage_flush(ctx);
	ctx->garbage[ctx->n_garbage++] = b;
}

void dp_drop1(struct dp_ctx *ctx, uint16_t port, enum dp_drop_reason reason, struct pkt_buf *b)
{
	ctr_drop(ctx, port, reason);
	dp_consume1(ctx, b);
}

void dp_drop(struct dp_ctx *ctx, uint16_t port, enum dp_drop_reason reason, struct pkt_buf **bufs,
	     uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dp_drop1(ctx, port, reason, bufs[i]);
}

void dp_tx_flush_port(struct dp_ctx *ctx, uint16_t port)
{
	struct dataplane *dp = ctx->dp;
	uint32_t n = ctx->tx[port].n;
	struct pkt_buf **bufs = ctx->tx[port].bufs;
	if (n == 0)
		return;
	/* Lengths first: buffers the driver accepts are no longer ours to read. */
	uint32_t len[DP_TX_BATCH];
	for (uint32_t i = 0; i < n; i++)
		len[i] = bufs[i]->len;

	uint16_t q = ctx->txq[port];
	pthread_spinlock_t *lock = &dp->ports[port].txq_lock[q];
	if (ctx->txq_shared[port])
		pthread_spin_lock(lock);
	uint32_t sent = ixy_tx_batch(dp->ports[port].dev, q, bufs, n);
	if (ctx->txq_shared[port])
		pthread_spin_unlock(lock);

	uint64_t bytes = 0;
	for (uint32_t i = 0; i < sent; i++)
		bytes += len[i];
	struct dp_counters *k = &ctx->counters[port];
	ctr_add(&k->tx_packets, sent);
	ctr_add(&k->tx_bytes, bytes);
	if (sent < n) {
		ctr_add(&k->drops[DP_DROP_TX_FULL], n - sent);
		pkt_buf_free_batch(bufs + sent, n - sent);
	}
	ctx->tx[port].n = 0;
}

void dp_ctx_flush(struct dp_ctx *ctx)
{
	for (uint16_t p = 0; p < ctx->dp->n_ports; p++)
		dp_tx_flush_port(ctx, p);
	garbage_flush(ctx);
	/* Forget the neighbour resolutions of this round: a worker flushes right before it
	 * reports a quiescent state (worker.c), so nothing it copied out of the neighbour table
	 * outlives its RCU read-side section (l3.c, res_cache_find). */
	ctx->res.valid = 0;
}

void dp_flood(struct dp_ctx *ctx, uint16_t br, uint16_t skip_port, uint16_t count_port,
	      struct pkt_buf *b, bool keep_original)
{
	const struct dp_iface *ifc = &ctx->dp->ifaces[br];
	uint16_t targets[DP_MAX_PORTS];
	uint16_t n = 0;
	for (uint16_t i = 0; i < ifc->n_ports; i++)
		if (ifc->ports[i] != skip_port) /* never back out of the ingress port */
			targets[n++] = ifc->ports[i];
	if (n == 0) {
		if (!keep_original)
			dp_drop1(ctx, count_port, DP_DROP_NOT_FOR_US, b);
		return;
	}
	uint16_t n_copies = keep_original ? n : n - 1;
	for (uint16_t i = 0; i < n_copies; i++) {
		struct pkt_buf *c = pkt_buf_alloc(ctx->pool);
		if (!c) {
			ctr_drop(ctx, count_port, DP_DROP_NO_BUFFER);
			continue;
		}
		pkt_reset(c, b->len);
		memcpy(pkt_data(c), pkt_data(b), b->len);
		c->rx_port = b->rx_port;
		c->l2_len = b->l2_len;
		c->vlan_tci = b->vlan_tci;
		dp_tx_enqueue(ctx, targets[i], c);
	}
	if (!keep_original)
		dp_tx_enqueue(ctx, targets[n - 1], b);
}

void dp_output_eth(struct dp_ctx *ctx, uint16_t iface, const uint8_t mac[ETH_ALEN],
		   struct pkt_buf *b)
{
	const struct dataplane *dp = ctx->dp;
	const struct dp_iface *ifc = &dp->ifaces[iface];
	struct eth_hdr *eth = pkt_eth(b);
	memcpy(eth->dst, mac, ETH_ALEN);
	memcpy(eth->src, ifc->mac, ETH_ALEN);
	eth->type_be = htons(ETHERTYPE_IPV4);
	if (!ifc->is_bridge) {
		dp_tx_enqueue(ctx, ifc->ports[0], b);
		return;
	}
	/* Routed into a bridge: the port the neighbour's MAC was learnt on, else every port. A
	 * routed packet may go back out of the port it came in on. */
	uint16_t port;
	if (dp_mac_lookup(dp, ifc->bridge_id, mac, &port))
		dp_tx_enqueue(ctx, port, b);
	else
		dp_flood(ctx, iface, DP_IFACE_NONE, b->rx_port, b, false);
}

void dp_send_resolved(struct dp_ctx *ctx, uint16_t iface, const uint8_t mac[ETH_ALEN],
		      struct pkt_buf **bufs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dp_output_eth(ctx, iface, mac, bufs[i]);
}

int dp_send_arp_request(struct dp_ctx *ctx, uint16_t iface, uint32_t ip)
{
	struct dataplane *dp = ctx->dp;
	const struct dp_iface *ifc = &dp->ifaces[iface];
	uint32_t src;
	if (!dp_iface_on_link(dp, iface, ip, &src))
		return -EADDRNOTAVAIL;
	struct pkt_buf *b = pkt_buf_alloc(ctx->pool);
	if (!b) {
		ctr_drop(ctx, ifc->ports[0], DP_DROP_NO_BUFFER);
		return -ENOBUFS;
	}
	/* RFC 826, "Packet Generation": who-has ip, tell src; target hardware address unknown
	 * (zero), sent to the broadcast address. Padded to the Ethernet minimum. */
	pkt_reset(b, ETH_MIN_FRAME_LEN);
	memset(pkt_data(b), 0, ETH_MIN_FRAME_LEN);
	struct eth_hdr *eth = pkt_eth(b);
	memset(eth->dst, 0xff, ETH_ALEN);
	memcpy(eth->src, ifc->mac, ETH_ALEN);
	eth->type_be = htons(ETHERTYPE_ARP);
	struct arp_hdr *arp = (struct arp_hdr *)(eth + 1);
	arp->htype_be = htons(ARP_HTYPE_ETHERNET);
	arp->ptype_be = htons(ETHERTYPE_IPV4);
	arp->hlen = ETH_ALEN;
	arp->plen = 4;
	arp->op_be = htons(ARP_OP_REQUEST);
	memcpy(arp->sha, ifc->mac, ETH_ALEN);
	arp->spa_be = htonl(src);
	arp->tpa_be = htonl(ip);
	b->rx_port = ifc->ports[0];
	if (ifc->is_bridge)
		dp_flood(ctx, iface, DP_IFACE_NONE, ifc->ports[0], b, false);
	else
		dp_tx_enqueue(ctx, ifc->ports[0], b);
	return 0;
}
