/*
 * dataplane.h: ixyd's packet path: ports, bridges, L3 interfaces, per-thread contexts that
 * switch and route batches of packets, and the worker threads that poll the ports.
 *
 * Objects:
 *   port     an opened device (drivers/device.h) with its MAC; belongs to at most one bridge.
 *            Named by port_id_t.
 *   iface    an L3 interface, an entry of the interface table (tables/iface.h): a port outside
 *            any bridge, a bridge, or a VLAN on either; carries addresses of both families, a
 *            MAC (a bridge takes its first port's MAC) and an MTU. Named by iface_id_t; next
 *            hops (tables/nexthop.h) and neighbours (tables/neigh.h) name interfaces, never
 *            ports.
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
 *
 * What this header shows: functions and the plain value types they exchange. The dataplane's
 * own structs (ports, bridges, contexts) are private to dataplane/ (dp_internal.h), so the
 * layers above (control/, api/, tools/) reach ports, interfaces, counters and device stats only
 * through these calls, and nothing above can come to depend on a layout the hot path may change.
 */
#ifndef IXYD_DATAPLANE_H
#define IXYD_DATAPLANE_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "iface.h"
#include "ipaddr.h"

struct dataplane;
struct dp_ctx;
struct ixy_device;
struct pkt_buf;
struct lpm4;
struct nexthop_table;
struct neigh_table;
struct mac_table;

#define DP_MAX_PORTS	 IFACE_PORTS_MAX
#define DP_MAX_BRIDGES	 16
#define DP_MAX_WORKERS	 15
#define DP_MAX_CTX	 (DP_MAX_WORKERS + 1) /* workers + the control thread */
#define DP_RX_BATCH	 32
#define DP_TX_BATCH	 64
#define DP_CTL_RING_SIZE 1024 /* requests a worker can have outstanding to the control thread */
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
	DP_DROP_BLACKHOLE,	/* a blackhole route */
	DP_DROP_UNREACHABLE,	/* an unreachable route (answered with ICMP) */
	DP_DROP_NO_HOST,	/* a punt route or local traffic for the host, and no host
				   interface takes it (they come with the routing-daemon work) */
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
} __attribute__((aligned(64)));
static_assert(sizeof(struct dp_counters) % 64 == 0, "counter blocks own their cache lines");

/* Run-time parameters (dp_set_params): set-up only. */
struct dp_params {
	uint32_t icmp_rate_per_s; /* ICMP errors per second per ctx (RFC 1812 4.3.2.8); 0: none */
	uint32_t icmp_burst;	  /* tokens the bucket holds */
	uint32_t idle_sleep_us;	  /* workers sleep this long after many empty loops; 0: spin */
};

/* A request from a worker to the control thread (through the worker's ring). */
enum dp_ctl_msg_type {
	DP_CTL_LEARN = 1, /* ARP (later ND) told us ip is at mac on iface */
	DP_CTL_RESOLVE,	  /* buf waits for ip on iface to resolve; the control thread owns it now */
	DP_CTL_PUNT,	  /* buf is for the host (a punt route or local traffic we do not serve);
			     the control thread owns it now */
};
struct dp_ctl_msg {
	uint8_t type;  /* enum dp_ctl_msg_type */
	uint8_t flags; /* DP_CTL_F_* */
	uint8_t mac[6];
	iface_id_t iface;
	port_id_t in_port; /* LEARN: the port the ARP came in on */
	struct ip_addr ip;
	struct pkt_buf *buf;
};
/* LEARN: the ARP was addressed to us (RFC 826: create the entry). */
#define DP_CTL_F_TARGET_US 0x1
/* LEARN: the sender lies in a connected subnet of the interface (without it, only an entry
 * that exists, one we asked for, is updated). */
#define DP_CTL_F_ON_LINK 0x2

/* Lookup tables the dataplane reads. The control thread owns and writes them; dp_set_tables()
 * hands the dataplane pointers that stay valid until dataplane_free(). */
struct dp_tables {
	struct lpm4 *lpm;
	struct nexthop_table *nht;
	struct neigh_table *neigh; /* tables/neigh.h: written by the control thread only */
	struct mac_table *mac;	   /* tables/mac_table.h: workers learn into it directly */
};

/* What the layers above see of a port. */
struct dp_port_info {
	char name[IFACE_NAME_MAX];
	uint8_t mac[6];
	iface_id_t iface; /* its interface: its own, or its bridge's */
	bool bridged;
	uint16_t bridge; /* its bridge's index when bridged */
	uint16_t rx_queues, tx_queues;
	const char *driver; /* static strings of the driver and the device */
	const char *device;
	int numa_node; /* -1: unknown */
};

/* A port's device-level view: what the NIC (or kernel, for AF_PACKET) counted and its link. */
struct dp_device_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_dropped;	   /* lost for lack of a receive buffer */
	uint64_t rx_crc_errors;	   /* bad FCS */
	uint64_t rx_length_errors; /* too short or too long */
	bool link_up;
	uint32_t speed_mbps; /* 0: down or unknown */
};

/*
 * Create an empty dataplane for n_workers worker threads (1 .. DP_MAX_WORKERS) plus the control
 * thread's ctx, with an empty interface table. Allocates one buffer pool per ctx (DMA memory:
 * call memory_configure() first if huge pages are not wanted). Returns NULL with errno EINVAL or
 * ENOMEM. Control path.
 */
struct dataplane *dataplane_create(uint16_t n_workers);
/* Stop the workers if running, return every held buffer, free the pools and the interface
 * table. Devices are never touched: their owner closes them BEFORE this call (after
 * dp_stop()), because tx rings may still hold buffers from the ctx pools freed here. NULL is a
 * no-op. */
void dataplane_free(struct dataplane *dp);

/* Set or read the run-time parameters. Set-up only (before dp_start()). */
void dp_set_params(struct dataplane *dp, const struct dp_params *p);
void dp_get_params(const struct dataplane *dp, struct dp_params *p);

/*
 * Add an opened device as a port named name, reading its MAC. The port gets an interface of
 * its own (kind port, same name and MAC), unless dp_add_bridge() takes it into a bridge later.
 * Returns the port id (>= 0), or -EINVAL (too many ports, bad name, bridges already added),
 * -EIO (no MAC), -errno of the interface table. Set-up only.
 */
int dp_add_port(struct dataplane *dp, const char *name, struct ixy_device *dev);
/*
 * Make a bridge of ports[0..n) (each in no other bridge, with no addresses on its own
 * interface) with an interface named name. The bridge takes the MAC of its first port; its
 * ports are put in promiscuous mode. Returns the bridge's interface id or -EINVAL / -EBUSY (a
 * port is already bridged or has addresses) / -errno from set_promisc. Set-up only.
 */
int dp_add_bridge(struct dataplane *dp, const char *name, const port_id_t *ports, uint16_t n);
/*
 * Add address a (host bits kept: 10.0.0.1/24) to interface iface; the interface table checks
 * it (iface_table_add_addr()). IPv4 addresses also enter the fast path's "is it ours" filter.
 * 0, -EINVAL (a bridged port's own interface, and what the table refuses), -EEXIST, -ENOSPC.
 * Set-up only.
 */
int dp_iface_add_addr(struct dataplane *dp, iface_id_t iface, const struct ip_prefix *a);
/* Index of the interface or port named name, or -ENOENT. A bridged port's own interface is not
 * found by name (its name is the port's). Any thread. */
int dp_find_iface(const struct dataplane *dp, const char *name);
int dp_find_port(const struct dataplane *dp, const char *name);
/* The interface table (tables/iface.h): read-only once the dataplane runs. Any thread. */
const struct iface_table *dp_ifaces(const struct dataplane *dp);
/* The interface of port (its own, or its bridge's). */
iface_id_t dp_port_iface(const struct dataplane *dp, port_id_t port);
/* The interface of bridge (an index of dp_port_info.bridge), or IFACE_ID_NONE. */
iface_id_t dp_bridge_iface(const struct dataplane *dp, uint16_t bridge);

uint16_t dp_port_count(const struct dataplane *dp);
uint16_t dp_worker_count(const struct dataplane *dp);
/* Fill *info for port. 0 or -ENOENT. Any thread. */
int dp_port_info(const struct dataplane *dp, port_id_t port, struct dp_port_info *info);
/* The device's own counters and link state. 0 or -ENOENT. Any thread (device.h). */
int dp_port_device_stats(const struct dataplane *dp, port_id_t port, struct dp_device_stats *st);
/* Whether the port receives promiscuously, and turning it on or off: 0, -ENOENT, -EBUSY (a
 * bridge port stays promiscuous), or the driver's -errno. Control path: the caller serialises
 * dp_port_set_promisc() calls and orders dp_port_promisc() after them (control.h does, under a
 * lock). */
bool dp_port_promisc(const struct dataplane *dp, port_id_t port);
int dp_port_set_promisc(struct dataplane *dp, port_id_t port, bool on);

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

/* Worker w's ctx (0 .. n_workers-1), for tests that drive it by hand; the control thread's ctx. */
struct dp_ctx *dp_worker_ctx(struct dataplane *dp, uint16_t w);
struct dp_ctx *dp_control_ctx(struct dataplane *dp);

/*
 * The per-batch entry point of a worker: switch or route n frames received on port in_port.
 * Takes ownership of every buffer. Frames to send are queued per egress port in the ctx and go
 * out at the latest with dp_ctx_flush(). Called only by the thread that owns ctx.
 */
void dp_process_rx(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf **bufs, uint32_t n);
/* Send every queued frame (tx_batch per port); frames the queue does not take are freed and
 * counted as DP_DROP_TX_FULL. Also empties the ctx's neighbour resolution cache, so a thread
 * that routes packets must call it before each rcu_quiescent() (workers do, once per loop).
 * Owner thread of ctx. */
void dp_ctx_flush(struct dp_ctx *ctx);

/* Coarse monotonic seconds, the clock the MAC table ages by (dp_tables.c). Any thread. */
uint32_t dp_now_s(void);

/*
 * Control thread side of neighbour resolution (the owner of dp_control_ctx()):
 * dp_send_solicit() asks for ip on iface: an ARP who-has for IPv4 (RFC 826) from the iface's
 * address in the same subnet; IPv6 Neighbor Discovery comes with IPv6 forwarding (-EAFNOSUPPORT
 * until then). dp_send_resolved() rewrites the link-layer header of bufs (held packets, TTL
 * already decremented) to mac and sends them out of iface (a bridge: to the port mac was learnt
 * on, else flooded). Both queue on the ctx; call dp_ctx_flush() after. They take ownership of
 * bufs. dp_send_solicit returns 0 or -ENOBUFS / -EADDRNOTAVAIL (no address in ip's subnet on
 * iface) / -EAFNOSUPPORT.
 */
int dp_send_solicit(struct dp_ctx *ctx, iface_id_t iface, const struct ip_addr *ip);
void dp_send_resolved(struct dp_ctx *ctx, iface_id_t iface, const uint8_t mac[6],
		      struct pkt_buf **bufs, uint32_t n);
/* Free n buffers a ctx owns and count them as drops of reason on port (ctx's owner thread). */
void dp_drop(struct dp_ctx *ctx, port_id_t port, enum dp_drop_reason reason, struct pkt_buf **bufs,
	     uint32_t n);
/* The ingress port a buffer was received on (recorded by dp_process_rx()). */
port_id_t dp_buf_rx_port(const struct pkt_buf *b);

/* Pop the next request of worker w's ring (control thread only). */
bool dp_ctl_pop(struct dataplane *dp, uint16_t w, struct dp_ctl_msg *msg);

/* Sum of every ctx's counters for port (relaxed loads; any thread). */
void dp_read_port_counters(const struct dataplane *dp, port_id_t port, struct dp_counters *out);
/* Sum over the ports of one ctx's counters: what worker (or, for n_workers, the control
 * thread) c did. Any thread. */
void dp_read_ctx_counters(const struct dataplane *dp, uint16_t c, struct dp_counters *out);

#endif
