/*
 * dp_internal.h: helpers shared by the dataplane's .c files; not part of its interface.
 * Everything here runs on the thread that owns the ctx it is given.
 */
#ifndef IXYD_DP_INTERNAL_H
#define IXYD_DP_INTERNAL_H

#include "dataplane.h"
#include "dp_tables.h"

/* Add v to a counter of our own ctx. Single writer: a relaxed load and store (no RMW needed);
 * relaxed because readers (dp_read_port_counters) only want each value whole, not ordered. */
static inline void ctr_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline void ctr_drop(struct dp_ctx *ctx, uint16_t port, enum dp_drop_reason reason)
{
	ctr_add(&ctx->counters[port].drops[reason], 1);
}

/* Drop one buffer: count it on port and free it with the ctx's next batched free. */
void dp_drop1(struct dp_ctx *ctx, uint16_t port, enum dp_drop_reason reason, struct pkt_buf *b);
/* Free a buffer we consumed (an ARP addressed to us, ...) without counting a drop. */
void dp_consume1(struct dp_ctx *ctx, struct pkt_buf *b);

/* Send what port's tx batch of this ctx holds (tx.c). */
void dp_tx_flush_port(struct dp_ctx *ctx, uint16_t port);

/* Queue b for port's tx queue of this ctx (sent by the next flush). Takes ownership. Inline:
 * it runs once per forwarded packet. */
static inline void dp_tx_enqueue(struct dp_ctx *ctx, uint16_t port, struct pkt_buf *b)
{
	if (unlikely(ctx->tx[port].n == DP_TX_BATCH))
		dp_tx_flush_port(ctx, port);
	ctx->tx[port].bufs[ctx->tx[port].n++] = b;
}
/*
 * Send b to every port of bridge iface br except skip_port (DP_IFACE_NONE: none): copies for all
 * targets but the last, which gets b itself; with keep_original every target gets a copy and the
 * caller keeps b. Without keep_original the call owns b. Copies that find no buffer are counted
 * as DP_DROP_NO_BUFFER on count_port.
 */
void dp_flood(struct dp_ctx *ctx, uint16_t br, uint16_t skip_port, uint16_t count_port,
	      struct pkt_buf *b, bool keep_original);
/* Address an IPv4 frame to mac from iface's MAC and queue it on the right port of iface. */
void dp_output_eth(struct dp_ctx *ctx, uint16_t iface, const uint8_t mac[ETH_ALEN],
		   struct pkt_buf *b);

/* L3: frames addressed to an iface's MAC (or broadcast) that arrived on in_port. Owns bufs. */
void dp_l3_input(struct dp_ctx *ctx, uint16_t in_port, struct pkt_buf **bufs, uint32_t n);

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
	for (uint16_t i = 0; i < dp->n_local; i++)
		if (dp->local_ips[i] == ip)
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
