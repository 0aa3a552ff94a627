/*
 * dataplane.h: ixyd's packet path: ports, bridges, L3 interfaces, per-thread contexts that
 * switch and route batches of packets, and the worker threads that poll the ports.
 *
 * Objects:
 *   port     an opened device (drivers/device.h) with its MAC; belongs to at most one bridge
 *   iface    an L3 interface: a port outside any bridge, or a bridge; carries IPv4 addresses
 *            and a MAC (a bridge takes its first port's MAC). Next hops (tables/nexthop.h) name
 *            an iface in nexthop.port_id.
 *   ctx      one per packet-handling thread: every worker, plus one for the control thread.
 *            A ctx owns one tx queue on each port (worker w uses tx queue w, the control thread
 *            tx queue n_workers), its buffer pool for packets it builds or copies, its counters
 *            and, for workers, the ring of requests to the control thread. So no tx queue is used
 *            by two threads, unless a device has fewer tx queues than threads; then the sharers
 *            take a per-queue spinlock (dp_port.txq_lock).
 *
 * Set-up (dataplane_create, dp_add_port, dp_add_bridge, dp_iface_add_addr, dp_set_tables) is
 * single-threaded, before dp_start(). After dp_start() the configuration is read-only; tables
 * change only through the control thread (control/), published with RCU.
 *
 * Packet ownership: dp_process_rx() takes the buffers it is given; each one is sent, handed to
 * the control thread (held for ARP resolution), or freed and counted as a drop.
 */
#ifndef IXYD_DATAPLANE_H
#define IXYD_DATAPLANE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "lpm4.h"
#include "mac_table.h"
#include "neigh.h"
#include "mempool.h"
#include "nexthop.h"
#include "pkt.h"
#include "spsc_ring.h"

#define DP_MAX_PORTS	 32
#define DP_MAX_BRIDGES	 16
#define DP_MAX_IFACES	 (DP_MAX_PORTS + DP_MAX_BRIDGES)
#define DP_MAX_WORKERS	 15
#define DP_MAX_CTX	 (DP_MAX_WORKERS + 1) /* workers + the control thread */
#define DP_MAX_ADDRS	 8		      /* IPv4 addresses per iface */
#define DP_MAX_RXQ	 64		      /* (port, queue) pairs per worker */
#define DP_RX_BATCH	 32
#define DP_TX_BATCH	 64
#define DP_CTL_RING_SIZE 1024 /* requests a worker can have outstanding to the control thread */
#define DP_IFACE_NONE	 UINT16_MAX
#define DP_CTX_POOL_BUFS 2048 /* buffers per ctx for built and copied packets */

/* Why a packet was dropped. Every drop is attributed to a port: the ingress port, except
 * DP_DROP_TX_FULL (the egress port). */
enum dp_drop_reason {
	/* runt, truncated or malformed header, bad checksum (RFC 1812 5.2.2) */
	DP_DROP_BAD_HEADER = 0,
	DP_DROP_TTL_EXPIRED,	/* TTL <= 1 on a packet to forward (RFC 1812 5.3.1) */
	DP_DROP_NO_ROUTE,	/* no route to the destination */
	DP_DROP_ARP_UNRESOLVED, /* next hop did not resolve, or too many packets held for it */
	DP_DROP_NO_BUFFER,	/* no buffer for a copy or a reply */
	DP_DROP_TX_FULL,	/* the egress tx queue did not take the frame */
	DP_DROP_NOT_FOR_US,	/* unicast to another MAC on a routed port, filtered by a bridge,
				   local traffic we do not serve, unsupported ethertype */
	DP_DROP_MAX
};
extern const char *const dp_drop_reason_names[DP_DROP_MAX];

/* Counters of one port as seen by one ctx. Each ctx writes only its own blocks, with relaxed
 * atomic stores; readers sum the blocks of all ctxs with relaxed loads (dp_read_port_counters).
 * No ordering between counters is promised: a reader may see rx_packets updated before
 * rx_bytes. One block per cache line pair so two writers never share a line. */
struct dp_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t drops[DP_DROP_MAX];
} __cache_aligned;
static_assert(sizeof(struct dp_counters) % CACHE_LINE_SIZE == 0, "counter blocks own their lines");

struct dp_addr {
	uint32_t ip;   /* host byte order */
	uint8_t len;   /* prefix length of the connected subnet */
	uint32_t mask; /* host byte order, derived from len */
};

struct dp_iface {
	char name[32];
	uint8_t mac[ETH_ALEN];
	bool is_bridge;
	uint16_t n_addrs;
	struct dp_addr addrs[DP_MAX_ADDRS];
	uint16_t n_ports; /* member ports: 1 for a port iface */
	uint16_t ports[DP_MAX_PORTS];
	uint16_t bridge_id; /* index into the MAC table set for a bridge, else DP_IFACE_NONE */
};

struct dp_port {
	char name[32];
	struct ixy_device *dev;
	uint8_t mac[ETH_ALEN];
	uint16_t iface; /* the iface this port belongs to (itself, or its bridge) */
	bool bridged;	/* member of a bridge: switch, learn, run promiscuous */
	uint16_t n_rxq; /* rx queues polled */
	uint16_t n_txq; /* tx queues the device has */
	pthread_spinlock_t txq_lock[IXY_MAX_QUEUES]; /* only taken when a queue is shared */
};

/* A request from a worker to the control thread (through the worker's ring). */
enum dp_ctl_msg_type {
	DP_CTL_LEARN = 1, /* ARP told us ip is at mac on iface */
	DP_CTL_RESOLVE,	  /* buf waits for ip on iface to resolve; the control thread owns it now */
};
struct dp_ctl_msg {
	uint8_t type; /* enum dp_ctl_msg_type */
	uint8_t mac[ETH_ALEN];
	uint8_t flags; /* DP_CTL_F_* */
	uint16_t iface;
	uint16_t in_port; /* LEARN: the port the ARP came in on */
	uint32_t ip;	  /* host byte order */
	struct pkt_buf *buf;
};
/* LEARN: the ARP was addressed to us (RFC 826: create the entry). */
#define DP_CTL_F_TARGET_US 0x1

/* Token bucket for ICMP errors (RFC 1812 4.3.2.8), one per ctx so no thread shares it. */
struct dp_token_bucket {
	uint64_t last_ns;
	uint32_t tokens;
};

struct dataplane;

/*
 * The neighbour resolutions one ctx used since its last dp_ctx_flush(), ready to write into a
 * frame: routing a batch to a few next hops then costs one table lookup per next hop, not one
 * per packet (l3.c says why reusing them is safe). Private to the ctx's thread: no atomics.
 */
#define DP_RES_CACHE_SIZE 64 /* entries: a power of two, one bit each in valid */
struct dp_res_cache {
	uint64_t valid; /* bit i: entry[i] was filled since the last dp_ctx_flush() */
	struct dp_res_entry {
		uint32_t ip;	/* next-hop address, host order */
		uint16_t iface; /* egress iface (never a bridge) */
		uint16_t port;	/* its port */
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
		uint16_t port;
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

/* Lookup tables the dataplane reads. The control thread owns and writes them; dp_set_tables()
 * hands the dataplane pointers that stay valid until dataplane_free(). */
struct dp_tables {
	struct lpm4 *lpm;
	struct nexthop_table *nht;
	struct neigh_table *neigh; /* tables/neigh.h: written by the control thread only */
	struct mac_table *mac;	   /* tables/mac_table.h: workers learn into it directly */
};

struct dataplane {
	uint16_t n_ports;
	uint16_t n_ifaces;
	uint16_t n_bridges;
	uint16_t n_workers;
	struct dp_port ports[DP_MAX_PORTS];
	struct dp_iface ifaces[DP_MAX_IFACES];
	struct dp_tables tables;
	struct dp_ctx *ctx[DP_MAX_CTX];
	uint16_t n_local; /* every address of every iface, for the "is it ours" check */
	uint32_t local_ips[DP_MAX_IFACES * DP_MAX_ADDRS];
	/* A one-hash Bloom filter of the addresses the forwarding fast path must leave to the
	 * slow path (l3.c), as destination or as source: every local address and every directed
	 * broadcast of a connected subnet (RFC 1812 5.3.5.2). Bit dp_special_dst_bit(ip) is set
	 * for each. */
	uint64_t special_dst_filter[4];
	uint32_t icmp_rate_per_s; /* ICMP errors per second per ctx (RFC 1812 4.3.2.8) */
	uint32_t icmp_burst;
	uint32_t idle_sleep_us; /* workers sleep this long after many empty loops; 0: always spin */
	bool stop;		/* set by dp_stop(); read by the workers */
	bool running;		/* workers started */
};

/*
 * Create an empty dataplane for n_workers worker threads (1 .. DP_MAX_WORKERS) plus the control
 * thread's ctx. Allocates one buffer pool per ctx (DMA memory: call memory_configure() first if
 * huge pages are not wanted). Returns NULL with errno EINVAL or ENOMEM. Control path.
 */
struct dataplane *dataplane_create(uint16_t n_workers);
/* Stop the workers if running, return every held buffer, free the pools. Devices are never
 * touched: their owner closes them BEFORE this call (after dp_stop()), because tx rings may still
 * hold buffers from the ctx pools freed here. NULL is a no-op. */
void dataplane_free(struct dataplane *dp);

/*
 * Add an opened device as a port named name. Reads its MAC. The port becomes an iface of its own
 * (same index as the port) unless dp_add_bridge() takes it into a bridge later. Returns the port
 * index (>= 0), or -EINVAL (too many ports, bad name), -EIO (no MAC). Set-up only.
 */
int dp_add_port(struct dataplane *dp, const char *name, struct ixy_device *dev);
/*
 * Make a bridge iface of ports[0..n) (each in no other bridge). The bridge takes the MAC of its
 * first port; its ports are put in promiscuous mode. Returns the iface index or -EINVAL / -EBUSY
 * (a port is already bridged) / -errno from set_promisc. Set-up only.
 */
int dp_add_bridge(struct dataplane *dp, const char *name, const uint16_t *ports, uint16_t n);
/* Add address ip/len (host order, len 1..32) to an iface. -EINVAL, -ENOSPC. Set-up only. */
int dp_iface_add_addr(struct dataplane *dp, uint16_t iface, uint32_t ip, uint8_t len);
/* Index of the iface or port named name, or -ENOENT. */
int dp_find_iface(const struct dataplane *dp, const char *name);
int dp_find_port(const struct dataplane *dp, const char *name);
/* Give the dataplane the tables to read. Set-up only. */
void dp_set_tables(struct dataplane *dp, const struct dp_tables *tables);

/*
 * Assign (port, rx queue) pairs to workers round robin, tx queues to ctxs, then start the
 * workers, worker i pinned to cores[i] (cores may be NULL: no pinning). Returns 0 or -errno; on
 * error no worker runs. Control path.
 */
int dp_start(struct dataplane *dp, const int *cores);
/* Ask the workers to stop and join them. Safe to call twice. Control path. */
void dp_stop(struct dataplane *dp);

/*
 * Assign queues without starting threads (what dp_start() does first); lets tests drive the
 * contexts by hand with dp_process_rx(). Returns 0 or -EINVAL.
 */
int dp_assign_queues(struct dataplane *dp);

/*
 * The per-batch entry point of a worker: switch or route n frames received on port in_port.
 * Takes ownership of every buffer. Frames to send are queued per egress port in the ctx and go
 * out at the latest with dp_ctx_flush(). Called only by the thread that owns ctx.
 */
void dp_process_rx(struct dp_ctx *ctx, uint16_t in_port, struct pkt_buf **bufs, uint32_t n);
/* Send every queued frame (tx_batch per port); frames the queue does not take are freed and
 * counted as DP_DROP_TX_FULL. Also empties the ctx's neighbour resolution cache, so a thread
 * that routes packets must call it before each rcu_quiescent() (workers do, once per loop).
 * Owner thread of ctx. */
void dp_ctx_flush(struct dp_ctx *ctx);

/* The bit of dataplane.special_dst_filter for ip (host order): the top 8 bits of a
 * multiplicative hash (Knuth's 2^32 / golden ratio), so neighbouring addresses spread out. */
static inline unsigned dp_special_dst_bit(uint32_t ip)
{
	return (ip * 0x9e3779b1u) >> 24;
}

/* Coarse monotonic seconds, the clock the MAC table ages by (dp_tables.c). Any thread. */
uint32_t dp_now_s(void);

/* The control thread's ctx. */
static inline struct dp_ctx *dp_control_ctx(struct dataplane *dp)
{
	return dp->ctx[dp->n_workers];
}

/*
 * Control thread side of neighbour resolution (the owner of dp_control_ctx()):
 * dp_send_arp_request() sends who-has ip on iface (RFC 826) from the iface's address in the same
 * subnet; dp_send_resolved() rewrites the Ethernet header of bufs (held IPv4 packets, TTL already
 * decremented) to mac and sends them out of iface (a bridge: to the port mac was learnt on, else
 * flooded). Both queue on the control ctx; call dp_ctx_flush() after. They take ownership of bufs.
 * dp_send_arp_request returns 0 or -ENOBUFS / -EADDRNOTAVAIL (no address in ip's subnet).
 */
int dp_send_arp_request(struct dp_ctx *ctx, uint16_t iface, uint32_t ip);
void dp_send_resolved(struct dp_ctx *ctx, uint16_t iface, const uint8_t mac[ETH_ALEN],
		      struct pkt_buf **bufs, uint32_t n);
/* Free n buffers a ctx owns and count them as drops of reason on port (ctx's owner thread). */
void dp_drop(struct dp_ctx *ctx, uint16_t port, enum dp_drop_reason reason, struct pkt_buf **bufs,
	     uint32_t n);

/* True if ip (host order) lies in a connected subnet of iface; *src gets our address there. */
bool dp_iface_on_link(const struct dataplane *dp, uint16_t iface, uint32_t ip, uint32_t *src);

/* Pop the next request of worker w's ring (control thread only). */
static inline bool dp_ctl_pop(struct dataplane *dp, uint16_t w, struct dp_ctl_msg *msg)
{
	return spsc_ring_pop(&dp->ctx[w]->to_ctl, msg);
}

/* Sum of every ctx's counters for port (relaxed loads; any thread). */
void dp_read_port_counters(const struct dataplane *dp, uint16_t port, struct dp_counters *out);
/* Sum over the ports of one ctx's counters: what worker (or, for n_workers, the control
 * thread) c did. Any thread. */
void dp_read_ctx_counters(const struct dataplane *dp, uint16_t c, struct dp_counters *out);

#endif
