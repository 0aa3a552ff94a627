/*
 * dp_internal.h: helpers shared by the dataplane's .c files; not part of its interface.
 * Everything here runs on the thread that owns the ctx it is given.
 */
#ifndef IXYD_DP_INTERNAL_H
#define IXYD_DP_INTERNAL_H

#include <pthread.h>

#include "compiler.h"
#include "dataplane.h"
#include "device.h"
#include "dp_tables.h"
#include "iface.h"
#include "lpm4.h"
#include "mempool.h"
#include "nexthop.h"
#include "pkt.h"
#include "spsc_ring.h"

#define DP_MAX_RXQ     64		      /* (port, queue) pairs per worker */
#define DP_MAX_LOCAL4  (IFACE_MAX_ADDRS * 64) /* IPv4 addresses of all interfaces */
#define DP_BRIDGE_NONE UINT16_MAX

struct dp_port {
	char name[IFACE_NAME_MAX];
	struct ixy_device *dev;
	uint8_t mac[ETH_ALEN];
	iface_id_t iface;     /* the interface this port belongs to (its own, or its bridge's) */
	iface_id_t own_iface; /* its own port interface (unused while bridged) */
	uint8_t l3_mac[ETH_ALEN]; /* the MAC of its interface: its own, or its bridge's */
	uint16_t bridge;	  /* its bridge, or DP_BRIDGE_NONE */
	bool bridged;		  /* member of a bridge: switch, learn, run promiscuous */
	uint16_t n_rxq;		  /* rx queues polled */
	uint16_t n_txq;		  /* tx queues the device has */
	pthread_spinlock_t txq_lock[IXY_MAX_QUEUES]; /* only taken when a queue is shared */
};

struct dp_bridge {
	iface_id_t iface;
	uint16_t n_ports;
	port_id_t ports[DP_MAX_PORTS];
};

/* Token bucket for ICMP errors (RFC 1812 4.3.2.8), one per ctx so no thread shares it. */
struct dp_token_bucket {
	uint64_t last_ns;
	uint32_t tokens;
};

/*
 * The neighbour resolutions one ctx used since its last dp_ctx_flush(), ready to write into a
 * frame: routing a batch to a few next hops then costs one table lookup per next hop, not one
 * per packet (l3.c says why reusing them is safe). Private to the ctx's thread: no atomics.
 */
#define DP_RES_CACHE_SIZE 64 /* entries: a power of two, one bit each in valid */
struct dp_res_cache {
	uint64_t valid; /* bit i: entry[i] was filled since the last dp_ctx_flush() */
	struct dp_res_entry {
		uint32_t ip;	  /* next-hop address, host order */
		iface_id_t iface; /* egress iface (never a bridge) */
		port_id_t port;	  /* its port */
		uint8_t
		    eth[2 * ETH_ALEN]; /* destination MAC (the neighbour's), source MAC (ours) */
	} entry[DP_RES_CACHE_SIZE];
};
static_assert(DP_RES_CACHE_SIZE <= 64 && (DP_RES_CACHE_SIZE & (DP_RES_CACHE_SIZE - 1)) == 0,
	      "one bit of valid per entry, indexed by a hash mask");

struct dp_ctx {
	struct dataplane *dp;
	uint16_t id; /* ctx index: workers 0 .. n_workers-1, control thread n_workers */
	int core;    /* worker: the core it is pinned to; -1 for the control thread */
	struct mempool *pool;
	uint16_t n_rxq;
	struct {
		port_id_t port;
		uint16_t queue;
	} rxq[DP_MAX_RXQ];
	uint16_t txq[DP_MAX_PORTS];    /* tx queue this ctx uses on each port */
	bool txq_shared[DP_MAX_PORTS]; /* that queue is shared: take dp_port.txq_lock */
	struct {
		uint32_t n;
		struct pkt_buf *bufs[DP_TX_BATCH];
	} tx[DP_MAX_PORTS]; /* frames waiting for the next tx_batch per port */
	struct dp_counters counters[DP_MAX_PORTS];
	struct dp_res_cache res;
	struct dp_token_bucket icmp_bucket;
	uint32_t now_s;	    /* coarse clock, refreshed once per poll loop */
	uint16_t ip_id;	    /* identification of the next datagram we originate */
	uint32_t n_garbage; /* dropped buffers waiting for one batched free */
	struct pkt_buf *garbage[DP_TX_BATCH];
	struct spsc_ring to_ctl; /* workers only: requests to the control thread */
	struct dp_ctl_msg ctl_slots[DP_CTL_RING_SIZE];
	pthread_t thread;
	bool thread_started;
};

struct dataplane {
	uint16_t n_ports;
	uint16_t n_bridges;
	uint16_t n_workers;
	struct dp_port ports[DP_MAX_PORTS];
	struct dp_bridge bridges[DP_MAX_BRIDGES];
	struct iface_table *ifaces; /* owned: created with the dataplane */
	struct dp_tables tables;
	struct dp_ctx *ctx[DP_MAX_CTX];
	uint16_t n_local4; /* every IPv4 address of every iface, for the "is it ours" check */
	uint32_t local4[DP_MAX_LOCAL4];
	/* A one-hash Bloom filter of the addresses the forwarding fast path must leave to the
	 * slow path (l3.c), as destination or as source: every local address and every directed
	 * broadcast of a connected subnet (RFC 1812 5.3.5.2). Bit dp_special_dst_bit(ip) is set
	 * for each. */
	uint64_t special_dst_filter[4];
	struct dp_params params;
	bool stop;    /* set by dp_stop(); read by the workers */
	bool running; /* workers started */
};

/* The bit of dataplane.special_dst_filter for ip (host order): the top 8 bits of a
 * multiplicative hash (Knuth's 2^32 / golden ratio), so neighbouring addresses spread out. */
static inline unsigned dp_special_dst_bit(uint32_t ip)
{
	return (ip * 0x9e3779b1u) >> 24;
}

/* The interface entry id (any id the table handed out). */
static inline const struct iface *dp_iface(const struct dataplane *dp, iface_id_t id)
{
	return iface_table_get(dp->ifaces, id);
}

/* True if ip (host order) lies in a connected IPv4 subnet of iface; *src gets our address. */
bool dp_iface_on_link4(const struct dataplane *dp, iface_id_t iface, uint32_t ip, uint32_t *src);

/* Add v to a counter of our own ctx. Single writer: a relaxed load and store (no RMW needed);
 * relaxed because readers (dp_read_port_counters) only want each value whole, not ordered. */
static inline void ctr_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline void ctr_drop(struct dp_ctx *ctx, port_id_t port, enum dp_drop_reason reason)
{
	ctr_add(&ctx->counters[port].drops[reason], 1);
}

/* Drop one buffer: count it on port and free it with the ctx's next batched free. */
void dp_drop1(struct dp_ctx *ctx, port_id_t port, enum dp_drop_reason reason, struct pkt_buf *b);
/* Free a buffer we consumed (an ARP addressed to us, ...) without counting a drop. */
void dp_consume1(struct dp_ctx *ctx, struct pkt_buf *b);

/* Send what port's tx batch of this ctx holds (tx.c). */
void dp_tx_flush_port(struct dp_ctx *ctx, port_id_t port);

/* Queue b for port's tx queue of this ctx (sent by the next flush). Takes ownership. Inline:
 * it runs once per forwarded packet. */
static inline void dp_tx_enqueue(struct dp_ctx *ctx, port_id_t port, struct pkt_buf *b)
{
	if (unlikely(ctx->tx[port].n == DP_TX_BATCH))
		dp_tx_flush_port(ctx, port);
	ctx->tx[port].bufs[ctx->tx[port].n++] = b;
}
/*
 * Send b to every port of bridge (a dataplane bridge index) except skip_port (PORT_ID_NONE:
 * none): copies for all targets but the last, which gets b itself; with keep_original every
 * target gets a copy and the caller keeps b. Without keep_original the call owns b. Copies that
 * find no buffer are counted as DP_DROP_NO_BUFFER on count_port.
 */
void dp_flood(struct dp_ctx *ctx, uint16_t bridge, port_id_t skip_port, port_id_t count_port,
	      struct pkt_buf *b, bool keep_original);
/* Address an IPv4 frame to mac from iface's MAC and queue it on the right port of iface. */
void dp_output_eth(struct dp_ctx *ctx, iface_id_t iface, const uint8_t mac[ETH_ALEN],
		   struct pkt_buf *b);

/* L3: frames addressed to an iface's MAC (or broadcast) that arrived on in_port. Owns bufs. */
void dp_l3_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf **bufs, uint32_t n);

/*
 * Build an ICMP error about the IPv4 packet in orig (RFC 792, RFC 1812 4.3.2), unless RFC 1812
 * 4.3.2.7 forbids one or the rate limit (4.3.2.8) says no. Returns the new packet (its IPv4
 * header complete, Ethernet header to be filled on output) or NULL. orig stays with the caller.
 */
struct pkt_buf *dp_icmp_error(struct dp_ctx *ctx, const struct pkt_buf *orig, uint8_t type,
			      uint8_t code);
/* Turn an ICMP echo request to us in b into the echo reply (RFC 792), in place. Returns true if
 * b now holds a reply to route; false if b was not a request we answer (b untouched, the reason
 * in *why). */
bool dp_icmp_echo_reply(struct pkt_buf *b, enum dp_drop_reason *why);

static inline bool dp_is_local_ip(const struct dataplane *dp, uint32_t ip)
{
	for (uint16_t i = 0; i < dp->n_local4; i++)
		if (dp->local4[i] == ip)
			return true;
	return false;
}

/* The L3 header: after the L2 header whose length rx.c recorded (b->l2_len). */
static inline struct ipv4_hdr *pkt_ipv4(const struct pkt_buf *b)
{
	return (struct ipv4_hdr *)(pkt_data(b) + b->l2_len);
}

static inline struct eth_hdr *pkt_eth(const struct pkt_buf *b)
{
	return (struct eth_hdr *)pkt_data(b);
}

#endif
