/*
 * dataplane.c: building the dataplane (ports, bridges, addresses, contexts), assigning queues,
 * counters. The packet path is in rx.c (switching and routing) and tx.c (output); the threads in
 * worker.c.
 */
#include "dataplane.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_internal.h"
#include "log.h"

const char *const dp_drop_reason_names[DP_DROP_MAX] = {
    [DP_DROP_BAD_HEADER] = "bad_header", [DP_DROP_TTL_EXPIRED] = "ttl_expired",
    [DP_DROP_NO_ROUTE] = "no_route",	 [DP_DROP_ARP_UNRESOLVED] = "arp_unresolved",
    [DP_DROP_NO_BUFFER] = "no_buffer",	 [DP_DROP_TX_FULL] = "tx_full",
    [DP_DROP_NOT_FOR_US] = "not_for_us",
};

#define DP_ICMP_DEFAULT_RATE_PER_S 100 /* per ctx; RFC 1812 4.3.2.8 leaves the figure to us */
#define DP_ICMP_DEFAULT_BURST	   20

static void ctx_free(struct dp_ctx *ctx)
{
	if (!ctx)
		return;
	for (uint16_t p = 0; p < DP_MAX_PORTS; p++) {
		pkt_buf_free_batch(ctx->tx[p].bufs, ctx->tx[p].n);
		ctx->tx[p].n = 0;
	}
	/* Dropped buffers waiting for their batched free (a ctx not flushed since). */
	pkt_buf_free_batch(ctx->garbage, ctx->n_garbage);
	ctx->n_garbage = 0;
	/* Requests still in the ring may carry held buffers. Only called once no thread produces
	 * or consumes any more. */
	struct dp_ctl_msg msg;
	while (spsc_ring_pop(&ctx->to_ctl, &msg))
		if (msg.buf)
			pkt_buf_free(msg.buf);
	mempool_free(ctx->pool);
	free(ctx);
}

static struct dp_ctx *ctx_create(struct dataplane *dp, uint16_t id)
{
	struct dp_ctx *ctx =
	    aligned_alloc(CACHE_LINE_SIZE, ALIGN_UP(sizeof(*ctx), CACHE_LINE_SIZE));
	if (!ctx)
		return NULL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->dp = dp;
	ctx->id = id;
	ctx->core = -1;
	spsc_ring_init(&ctx->to_ctl, ctx->ctl_slots, DP_CTL_RING_SIZE, sizeof(struct dp_ctl_msg));
	ctx->pool = mempool_create(DP_CTX_POOL_BUFS, 0);
	if (!ctx->pool) {
		int err = errno;
		free(ctx);
		errno = err;
		return NULL;
	}
	return ctx;
}

struct dataplane *dataplane_create(uint16_t n_workers)
{
	if (n_workers == 0 || n_workers > DP_MAX_WORKERS) {
		errno = EINVAL;
		return NULL;
	}
	struct dataplane *dp = calloc(1, sizeof(*dp));
	if (!dp) {
		errno = ENOMEM;
		return NULL;
	}
	dp->n_workers = n_workers;
	dp->icmp_rate_per_s = DP_ICMP_DEFAULT_RATE_PER_S;
	dp->icmp_burst = DP_ICMP_DEFAULT_BURST;
	dp->idle_sleep_us = 50;
	for (uint16_t i = 0; i <= n_workers; i++) {
		dp->ctx[i] = ctx_create(dp, i);
		if (!dp->ctx[i]) {
			int err = errno;
			LOG_ERR("dataplane", "cannot create the packet pool of context %u: %s", i,
				strerror(err));
			dataplane_free(dp);
			errno = err;
			return NULL;
		}
	}
	return dp;
}

void dataplane_free(struct dataplane *dp)
{
	if (!dp)
		return;
	dp_stop(dp);
	for (uint16_t i = 0; i < DP_MAX_CTX; i++)
		ctx_free(dp->ctx[i]);
	for (uint16_t p = 0; p < dp->n_ports; p++)
		for (unsigned q = 0; q < IXY_MAX_QUEUES; q++)
			pthread_spin_destroy(&dp->ports[p].txq_lock[q]);
	free(dp);
}

int dp_add_port(struct dataplane *dp, const char *name, struct ixy_device *dev)
{
	if (dp->running || dp->n_ports >= DP_MAX_PORTS || !name ||
	    strlen(name) >= sizeof(dp->ports[0].name) || !dev || dp->n_bridges > 0)
		return -EINVAL; /* bridges take iface slots after the ports: add ports first */
	uint16_t id = dp->n_ports;
	struct dp_port *port = &dp->ports[id];
	memset(port, 0, sizeof(*port));
	if (ixy_get_mac(dev, port->mac) != 0)
		return -EIO;
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->dev = dev;
	port->iface = id;
	port->n_rxq = dev->rx_queues ? dev->rx_queues : 1;
	port->n_txq = dev->tx_queues ? dev->tx_queues : 1;
	for (unsigned q = 0; q < IXY_MAX_QUEUES; q++)
		pthread_spin_init(&port->txq_lock[q], PTHREAD_PROCESS_PRIVATE);

	struct dp_iface *ifc = &dp->ifaces[id];
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	memcpy(ifc->mac, port->mac, ETH_ALEN);
	ifc->n_ports = 1;
	ifc->ports[0] = id;
	ifc->bridge_id = DP_IFACE_NONE;
	dp->n_ports++;
	dp->n_ifaces = dp->n_ports;
	return id;
}

int dp_add_bridge(struct dataplane *dp, const char *name, const uint16_t *ports, uint16_t n)
{
	if (dp->running || n == 0 || n > DP_MAX_PORTS || dp->n_bridges >= DP_MAX_BRIDGES || !name ||
	    strlen(name) >= sizeof(dp->ifaces[0].name))
		return -EINVAL;
	for (uint16_t i = 0; i < n; i++) {
		if (ports[i] >= dp->n_ports)
			return -EINVAL;
		if (dp->ports[ports[i]].bridged)
			return -EBUSY;
		for (uint16_t j = 0; j < i; j++)
			if (ports[j] == ports[i])
				return -EINVAL;
	}
	/* A bridge port's own iface must be unused: it carries no addresses of its own. */
	for (uint16_t i = 0; i < n; i++)
		if (dp->ifaces[ports[i]].n_addrs)
			return -EBUSY;
	for (uint16_t i = 0; i < n; i++) {
		int err = ixy_set_promisc(dp->ports[ports[i]].dev, true);
		if (err)
			return err;
	}
	uint16_t id = dp->n_ifaces;
	struct dp_iface *br = &dp->ifaces[id];
	memset(br, 0, sizeof(*br));
	snprintf(br->name, sizeof(br->name), "%s", name);
	memcpy(br->mac, dp->ports[ports[0]].mac, ETH_ALEN);
	br->is_bridge = true;
	br->bridge_id = dp->n_bridges;
	br->n_ports = n;
	for (uint16_t i = 0; i < n; i++) {
		br->ports[i] = ports[i];
		dp->ports[ports[i]].bridged = true;
		dp->ports[ports[i]].iface = id;
		dp->ifaces[ports[i]].n_ports = 0; /* the port's own iface is now unused */
	}
	dp->n_bridges++;
	dp->n_ifaces++;
	return id;
}

int dp_iface_add_addr(struct dataplane *dp, uint16_t iface, uint32_t ip, uint8_t len)
{
	if (dp->running || iface >= dp->n_ifaces || len == 0 || len > 32)
		return -EINVAL;
	struct dp_iface *ifc = &dp->ifaces[iface];
	if (!ifc->is_bridge && dp->ports[iface].bridged)
		return -EINVAL; /* addresses of a bridged port belong on its bridge */
	if (ifc->n_addrs >= DP_MAX_ADDRS)
		return -ENOSPC;
	uint32_t mask = len == 32 ? UINT32_MAX : ~(UINT32_MAX >> len);
	ifc->addrs[ifc->n_addrs++] = (struct dp_addr){.ip = ip, .len = len, .mask = mask};
	dp->local_ips[dp->n_local++] = ip;
	unsigned bit = dp_special_dst_bit(ip);
	dp->special_dst_filter[bit / 64] |= 1ull << (bit % 64);
	if (len < 31) { /* /31 and /32 have no broadcast address (RFC 3021) */
		bit = dp_special_dst_bit(ip | ~mask);
		dp->special_dst_filter[bit / 64] |= 1ull << (bit % 64);
	}
	return 0;
}

int dp_find_iface(const struct dataplane *dp, const char *name)
{
	for (uint16_t i = 0; i < dp->n_ifaces; i++)
		if (dp->ifaces[i].n_ports && strcmp(dp->ifaces[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int dp_find_port(const struct dataplane *dp, const char *name)
{
	for (uint16_t i = 0; i < dp->n_ports; i++)
		if (strcmp(dp->ports[i].name, name) == 0)
			return i;
	return -ENOENT;
}

void dp_set_tables(struct dataplane *dp, const struct dp_tables *tables)
{
	dp->tables = *tables;
}

bool dp_iface_on_link(const struct dataplane *dp, uint16_t iface, uint32_t ip, uint32_t *src)
{
	const struct dp_iface *ifc = &dp->ifaces[iface];
	for (uint16_t i = 0; i < ifc->n_addrs; i++) {
		if ((ip & ifc->addrs[i].mask) == (ifc->addrs[i].ip & ifc->addrs[i].mask)) {
			if (src)
				*src = ifc->addrs[i].ip;
			return true;
		}
	}
	return false;
}

int dp_assign_queues(struct dataplane *dp)
{
	uint16_t n_ctx = dp->n_workers + 1;
	for (uint16_t c = 0; c < n_ctx; c++)
		dp->ctx[c]->n_rxq = 0;
	/* (port, rx queue) pairs round robin over the workers, queue-major so that the queues of
	 * one multi-queue port land on different workers first. */
	unsigned next = 0;
	uint16_t max_q = 0;
	for (uint16_t p = 0; p < dp->n_ports; p++)
		max_q = MAX(max_q, dp->ports[p].n_rxq);
	for (uint16_t q = 0; q < max_q; q++) {
		for (uint16_t p = 0; p < dp->n_ports; p++) {
			if (q >= dp->ports[p].n_rxq)
				continue;
			struct dp_ctx *ctx = dp->ctx[next++ % dp->n_workers];
			if (ctx->n_rxq >= DP_MAX_RXQ)
				return -EINVAL;
			ctx->rxq[ctx->n_rxq].port = p;
			ctx->rxq[ctx->n_rxq].queue = q;
			ctx->n_rxq++;
		}
	}
	/* Tx queue c for ctx c; a device with fewer queues is shared modulo its count. */
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		uint16_t nq = dp->ports[p].n_txq;
		if (nq < n_ctx)
			LOG_WARN(
			    "dataplane",
			    "port %s has %u tx queue(s) for %u threads: sharing them under a lock",
			    dp->ports[p].name, nq, n_ctx);
		for (uint16_t c = 0; c < n_ctx; c++) {
			dp->ctx[c]->txq[p] = c % nq;
			dp->ctx[c]->txq_shared[p] = nq < n_ctx;
		}
	}
	return 0;
}

/* Add one counter block into out. Relaxed loads pair with the owner's relaxed stores (ctr_add):
 * each counter is read whole, and nothing needs ordering between counters. */
static void counters_add(struct dp_counters *out, const struct dp_counters *k)
{
	out->rx_packets += __atomic_load_n(&k->rx_packets, __ATOMIC_RELAXED);
	out->rx_bytes += __atomic_load_n(&k->rx_bytes, __ATOMIC_RELAXED);
	out->tx_packets += __atomic_load_n(&k->tx_packets, __ATOMIC_RELAXED);
	out->tx_bytes += __atomic_load_n(&k->tx_bytes, __ATOMIC_RELAXED);
	for (int r = 0; r < DP_DROP_MAX; r++)
		out->drops[r] += __atomic_load_n(&k->drops[r], __ATOMIC_RELAXED);
}

void dp_read_port_counters(const struct dataplane *dp, uint16_t port, struct dp_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t c = 0; c <= dp->n_workers; c++)
		counters_add(out, &dp->ctx[c]->counters[port]);
}

void dp_read_ctx_counters(const struct dataplane *dp, uint16_t c, struct dp_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t p = 0; p < dp->n_ports; p++)
		counters_add(out, &dp->ctx[c]->counters[p]);
}
