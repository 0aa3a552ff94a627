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
    [DP_DROP_BAD_HEADER] = "bad_header",   [DP_DROP_TTL_EXPIRED] = "ttl_expired",
    [DP_DROP_NO_ROUTE] = "no_route",	   [DP_DROP_ARP_UNRESOLVED] = "arp_unresolved",
    [DP_DROP_NO_BUFFER] = "no_buffer",	   [DP_DROP_TX_FULL] = "tx_full",
    [DP_DROP_NOT_FOR_US] = "not_for_us",   [DP_DROP_BLACKHOLE] = "blackhole",
    [DP_DROP_UNREACHABLE] = "unreachable", [DP_DROP_NO_HOST] = "no_host",
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
	dp->params = (struct dp_params){.icmp_rate_per_s = DP_ICMP_DEFAULT_RATE_PER_S,
					.icmp_burst = DP_ICMP_DEFAULT_BURST,
					.idle_sleep_us = 50};
	dp->ifaces = iface_table_create();
	if (!dp->ifaces) {
		free(dp);
		errno = ENOMEM;
		return NULL;
	}
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
	iface_table_free(dp->ifaces);
	free(dp);
}

void dp_set_params(struct dataplane *dp, const struct dp_params *p)
{
	dp->params = *p;
}

void dp_get_params(const struct dataplane *dp, struct dp_params *p)
{
	*p = dp->params;
}

int dp_add_port(struct dataplane *dp, const char *name, struct ixy_device *dev)
{
	if (dp->running || dp->n_ports >= DP_MAX_PORTS || !name ||
	    strlen(name) >= sizeof(dp->ports[0].name) || !dev || dp->n_bridges > 0)
		return -EINVAL; /* bridges take iface slots after the ports: add ports first */
	port_id_t id = dp->n_ports;
	struct dp_port *port = &dp->ports[id];
	memset(port, 0, sizeof(*port));
	if (ixy_get_mac(dev, port->mac) != 0)
		return -EIO;
	struct iface desc = {
	    .kind = IFACE_KIND_PORT, .parent = IFACE_ID_NONE, .port = id, .bridge = DP_BRIDGE_NONE};
	snprintf(desc.name, sizeof(desc.name), "%s", name);
	memcpy(desc.mac, port->mac, ETH_ALEN);
	int ifc = iface_table_add(dp->ifaces, &desc);
	if (ifc < 0)
		return ifc;
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->dev = dev;
	port->iface = port->own_iface = (iface_id_t)ifc;
	memcpy(port->l3_mac, port->mac, ETH_ALEN);
	port->bridge = DP_BRIDGE_NONE;
	port->n_rxq = dev->rx_queues ? dev->rx_queues : 1;
	port->n_txq = dev->tx_queues ? dev->tx_queues : 1;
	for (unsigned q = 0; q < IXY_MAX_QUEUES; q++)
		pthread_spin_init(&port->txq_lock[q], PTHREAD_PROCESS_PRIVATE);
	dp->n_ports++;
	return id;
}

int dp_add_bridge(struct dataplane *dp, const char *name, const port_id_t *ports, uint16_t n)
{
	if (dp->running || n == 0 || n > DP_MAX_PORTS || dp->n_bridges >= DP_MAX_BRIDGES || !name ||
	    strlen(name) >= IFACE_NAME_MAX)
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
		if (dp_iface(dp, dp->ports[ports[i]].own_iface)->n_addrs)
			return -EBUSY;
	uint16_t bridge = dp->n_bridges;
	struct iface desc = {.kind = IFACE_KIND_BRIDGE,
			     .parent = IFACE_ID_NONE,
			     .port = PORT_ID_NONE,
			     .bridge = bridge};
	snprintf(desc.name, sizeof(desc.name), "%s", name);
	memcpy(desc.mac, dp->ports[ports[0]].mac, ETH_ALEN);
	for (uint16_t i = 0; i < n; i++) {
		int err = ixy_set_promisc(dp->ports[ports[i]].dev, true);
		if (err)
			return err;
	}
	int id = iface_table_add(dp->ifaces, &desc);
	if (id < 0)
		return id;
	struct dp_bridge *br = &dp->bridges[bridge];
	br->iface = (iface_id_t)id;
	br->n_ports = n;
	for (uint16_t i = 0; i < n; i++) {
		br->ports[i] = ports[i];
		dp->ports[ports[i]].bridged = true;
		dp->ports[ports[i]].bridge = bridge;
		dp->ports[ports[i]].iface = (iface_id_t)id;
		memcpy(dp->ports[ports[i]].l3_mac, desc.mac, ETH_ALEN);
	}
	dp->n_bridges++;
	return id;
}

/* A port interface whose port went into a bridge (it keeps its entry, unused). */
static bool iface_is_bridged_port(const struct dataplane *dp, iface_id_t id)
{
	const struct iface *ifc = dp_iface(dp, id);
	return ifc && ifc->kind == IFACE_KIND_PORT && dp->ports[ifc->port].bridged;
}

static void filter_add(struct dataplane *dp, uint32_t ip)
{
	unsigned bit = dp_special_dst_bit(ip);
	dp->special_dst_filter[bit / 64] |= 1ull << (bit % 64);
}

int dp_iface_add_addr(struct dataplane *dp, iface_id_t iface, const struct ip_prefix *a)
{
	if (dp->running || iface_is_bridged_port(dp, iface))
		return -EINVAL; /* addresses of a bridged port belong on its bridge */
	if (a->addr.family == AF_INET && dp->n_local4 >= DP_MAX_LOCAL4)
		return -ENOSPC;
	int err = iface_table_add_addr(dp->ifaces, iface, a);
	if (err)
		return err;
	if (a->addr.family == AF_INET) {
		uint32_t ip = a->addr.v4;
		dp->local4[dp->n_local4++] = ip;
		filter_add(dp, ip);
		if (a->len < 31) /* /31 and /32 have no broadcast address (RFC 3021 2.1) */
			filter_add(dp, ip | (UINT32_MAX >> a->len));
	}
	return 0;
}

int dp_find_iface(const struct dataplane *dp, const char *name)
{
	int id = iface_table_find(dp->ifaces, name);
	if (id >= 0 && iface_is_bridged_port(dp, (iface_id_t)id))
		return -ENOENT;
	return id;
}

int dp_find_port(const struct dataplane *dp, const char *name)
{
	for (uint16_t i = 0; i < dp->n_ports; i++)
		if (strcmp(dp->ports[i].name, name) == 0)
			return i;
	return -ENOENT;
}

const struct iface_table *dp_ifaces(const struct dataplane *dp)
{
	return dp->ifaces;
}

iface_id_t dp_port_iface(const struct dataplane *dp, port_id_t port)
{
	return port < dp->n_ports ? dp->ports[port].iface : IFACE_ID_NONE;
}

iface_id_t dp_bridge_iface(const struct dataplane *dp, uint16_t bridge)
{
	return bridge < dp->n_bridges ? dp->bridges[bridge].iface : IFACE_ID_NONE;
}

uint16_t dp_port_count(const struct dataplane *dp)
{
	return dp->n_ports;
}

uint16_t dp_worker_count(const struct dataplane *dp)
{
	return dp->n_workers;
}

int dp_port_info(const struct dataplane *dp, port_id_t port, struct dp_port_info *info)
{
	if (port >= dp->n_ports)
		return -ENOENT;
	const struct dp_port *p = &dp->ports[port];
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", p->name);
	memcpy(info->mac, p->mac, ETH_ALEN);
	info->iface = p->iface;
	info->bridged = p->bridged;
	info->bridge = p->bridge;
	info->rx_queues = p->n_rxq;
	info->tx_queues = p->n_txq;
	info->driver = p->dev->ops->driver_name;
	info->device = p->dev->name;
	info->numa_node = p->dev->numa_node;
	return 0;
}

int dp_port_device_stats(const struct dataplane *dp, port_id_t port, struct dp_device_stats *st)
{
	if (port >= dp->n_ports)
		return -ENOENT;
	struct ixy_device *dev = dp->ports[port].dev;
	struct ixy_stats ds = {0};
	struct ixy_link link = {0};
	ixy_read_stats(dev, &ds); /* both any thread (device.h) */
	int err = ixy_get_link(dev, &link);
	*st = (struct dp_device_stats){.rx_packets = ds.rx_packets,
				       .rx_bytes = ds.rx_bytes,
				       .tx_packets = ds.tx_packets,
				       .tx_bytes = ds.tx_bytes,
				       .rx_dropped = ds.rx_dropped,
				       .rx_crc_errors = ds.rx_crc_errors,
				       .rx_length_errors = ds.rx_length_errors,
				       .link_up = err == 0 && link.up,
				       .speed_mbps = err == 0 ? link.speed_mbps : 0};
	return 0;
}

bool dp_port_promisc(const struct dataplane *dp, port_id_t port)
{
	return port < dp->n_ports && dp->ports[port].dev->promisc;
}

int dp_port_set_promisc(struct dataplane *dp, port_id_t port, bool on)
{
	if (port >= dp->n_ports)
		return -ENOENT;
	if (dp->ports[port].bridged && !on)
		return -EBUSY; /* a bridge must see every frame to switch */
	/* set_promisc is a control-path call (device.h); workers keep polling the port
	 * meanwhile, which drivers allow. */
	return ixy_set_promisc(dp->ports[port].dev, on);
}

void dp_set_tables(struct dataplane *dp, const struct dp_tables *tables)
{
	dp->tables = *tables;
}

struct dp_ctx *dp_worker_ctx(struct dataplane *dp, uint16_t w)
{
	return w < dp->n_workers ? dp->ctx[w] : NULL;
}

struct dp_ctx *dp_control_ctx(struct dataplane *dp)
{
	return dp->ctx[dp->n_workers];
}

bool dp_ctl_pop(struct dataplane *dp, uint16_t w, struct dp_ctl_msg *msg)
{
	return spsc_ring_pop(&dp->ctx[w]->to_ctl, msg);
}

port_id_t dp_buf_rx_port(const struct pkt_buf *b)
{
	return b->rx_port;
}

bool dp_iface_on_link4(const struct dataplane *dp, iface_id_t iface, uint32_t ip, uint32_t *src)
{
	struct ip_addr a = ip_addr_v4(ip), s;
	if (!iface_table_on_link(dp->ifaces, iface, &a, &s))
		return false;
	if (src)
		*src = s.v4;
	return true;
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

void dp_read_port_counters(const struct dataplane *dp, port_id_t port, struct dp_counters *out)
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
