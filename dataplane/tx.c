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

void dp_drop1(struct dp_ctx *ctx, port_id_t port, enum dp_drop_reason reason, struct pkt_buf *b)
{
	ctr_drop(ctx, port, reason);
	dp_consume1(ctx, b);
}

void dp_drop(struct dp_ctx *ctx, port_id_t port, enum dp_drop_reason reason, struct pkt_buf **bufs,
	     uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dp_drop1(ctx, port, reason, bufs[i]);
}

void dp_tx_flush_port(struct dp_ctx *ctx, port_id_t port)
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

void dp_flood(struct dp_ctx *ctx, uint16_t bridge, port_id_t skip_port, port_id_t count_port,
	      struct pkt_buf *b, bool keep_original)
{
	const struct dp_bridge *br = &ctx->dp->bridges[bridge];
	port_id_t targets[DP_MAX_PORTS];
	uint16_t n = 0;
	for (uint16_t i = 0; i < br->n_ports; i++)
		if (br->ports[i] != skip_port) /* never back out of the ingress port */
			targets[n++] = br->ports[i];
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

/* The port frames of an untagged interface leave by; for a bridge the one mac was learnt on,
 * or PORT_ID_NONE (flood). */
static port_id_t iface_egress_port(const struct dataplane *dp, const struct iface *ifc,
				   const uint8_t mac[ETH_ALEN])
{
	port_id_t port;
	if (ifc->kind == IFACE_KIND_PORT)
		return ifc->port;
	if (ifc->kind == IFACE_KIND_BRIDGE && dp_mac_lookup(dp, ifc->bridge, mac, &port))
		return port;
	return PORT_ID_NONE;
}

void dp_output_eth(struct dp_ctx *ctx, iface_id_t iface, const uint8_t mac[ETH_ALEN],
		   struct pkt_buf *b)
{
	const struct dataplane *dp = ctx->dp;
	const struct iface *ifc = dp_iface(dp, iface);
	if (unlikely(ifc->encap.tpid != 0)) {
		/* VLAN interfaces do not transmit until tags can be pushed (the VLAN work);
		 * nothing routes to one before then, as no configuration creates one. */
		dp_drop1(ctx, b->rx_port, DP_DROP_NOT_FOR_US, b);
		return;
	}
	struct eth_hdr *eth = pkt_eth(b);
	memcpy(eth->dst, mac, ETH_ALEN);
	memcpy(eth->src, ifc->mac, ETH_ALEN);
	eth->type_be = htons(ETHERTYPE_IPV4);
	/* Routed into a bridge: the port the neighbour's MAC was learnt on, else every port. A
	 * routed packet may go back out of the port it came in on. */
	port_id_t port = iface_egress_port(dp, ifc, mac);
	if (port != PORT_ID_NONE)
		dp_tx_enqueue(ctx, port, b);
	else
		dp_flood(ctx, ifc->bridge, PORT_ID_NONE, b->rx_port, b, false);
}

void dp_send_resolved(struct dp_ctx *ctx, iface_id_t iface, const uint8_t mac[ETH_ALEN],
		      struct pkt_buf **bufs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dp_output_eth(ctx, iface, mac, bufs[i]);
}

/* The port a frame built for ifc is counted on when it cannot be sent: its port, or its
 * bridge's first one. */
static port_id_t iface_count_port(const struct dataplane *dp, const struct iface *ifc)
{
	return ifc->kind == IFACE_KIND_BRIDGE ? dp->bridges[ifc->bridge].ports[0] : ifc->port;
}

/*
 * The sender address of our ARP request for ip on ifc: our address in ip's subnet, or, for a
 * destination of an on-link route outside our subnets (`ip route add P dev IFACE`), the
 * interface's first IPv4 address, as Linux does (arp_announce 0). RFC 826 asks nothing more of
 * ar$spa than that it is ours; the answer comes back to it. False if ifc has no IPv4 address.
 */
static bool arp_source(const struct dataplane *dp, const struct iface *ifc, iface_id_t iface,
		       uint32_t ip, uint32_t *src)
{
	if (dp_iface_on_link4(dp, iface, ip, src))
		return true;
	for (uint16_t i = 0; i < ifc->n_addrs; i++) {
		if (ifc->addrs[i].pfx.addr.family == AF_INET) {
			*src = ifc->addrs[i].pfx.addr.v4;
			return true;
		}
	}
	return false;
}

static int send_arp_request(struct dp_ctx *ctx, iface_id_t iface, uint32_t ip)
{
	struct dataplane *dp = ctx->dp;
	const struct iface *ifc = dp_iface(dp, iface);
	uint32_t src;
	if (!ifc || ifc->encap.tpid != 0 || !arp_source(dp, ifc, iface, ip, &src))
		return -EADDRNOTAVAIL;
	port_id_t count_port = iface_count_port(dp, ifc);
	struct pkt_buf *b = pkt_buf_alloc(ctx->pool);
	if (!b) {
		ctr_drop(ctx, count_port, DP_DROP_NO_BUFFER);
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
	b->rx_port = count_port;
	if (ifc->kind == IFACE_KIND_BRIDGE)
		dp_flood(ctx, ifc->bridge, PORT_ID_NONE, count_port, b, false);
	else
		dp_tx_enqueue(ctx, ifc->port, b);
	return 0;
}

int dp_send_solicit(struct dp_ctx *ctx, iface_id_t iface, const struct ip_addr *ip)
{
	if (ip->family == AF_INET)
		return send_arp_request(ctx, iface, ip->v4);
	return -EAFNOSUPPORT; /* IPv6 Neighbor Discovery (RFC 4861 7.2.2) comes with IPv6 */
}
