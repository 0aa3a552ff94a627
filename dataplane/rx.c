/*
 * rx.c: the first stage of a worker's batch: count, sanity-check the Ethernet frame, switch on
 * bridge ports (learn, forward, flood), classify what is addressed to us (the L2 header's length
 * and VLAN tag, recorded in the buffer) and pass it on to L3 (l3.c).
 */
#include <string.h>

#include "dp_internal.h"
#include "log.h"

/* Largest frame we accept: a full 1500-byte payload plus an 802.1Q tag (IEEE 802.1Q 9.3). */
#define DP_MAX_RX_FRAME_LEN (ETH_MAX_FRAME_LEN + 4)

/*
 * Switch one frame on a bridge port. Returns true if the frame is for the bridge's own L3
 * interface (the caller keeps it then), false if it was consumed: forwarded, flooded or dropped.
 */
static bool l2_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b)
{
	const struct dataplane *dp = ctx->dp;
	const struct dp_port *port = &dp->ports[in_port];
	const uint16_t bridge = port->bridge;
	const struct eth_hdr *eth = pkt_eth(b);

	/* 1. A multicast source address is invalid (IEEE 802-2014 8.2): nothing to learn, drop. */
	if (unlikely(eth_is_multicast(eth->src))) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return false;
	}
	/* 2. Learn where the source lives, unless it is our own address echoed back. */
	if (likely(!eth_addr_equal(eth->src, port->l3_mac)))
		dp_mac_learn(ctx, bridge, eth->src, in_port);
	/* 3. Ours: up to L3. */
	if (eth_addr_equal(eth->dst, port->l3_mac))
		return true;
	/* 4. Broadcast goes to every other port and to us (ARP); other multicast only to the
	 * other ports (we run no multicast protocols). */
	if (eth_is_multicast(eth->dst)) {
		bool bcast = eth_is_broadcast(eth->dst);
		dp_flood(ctx, bridge, in_port, in_port, b, bcast);
		return bcast;
	}
	/* 5. Known unicast: to its port, unless that is where it came from (then the
	 * destination already saw it on its own segment). Unknown unicast: flood. */
	port_id_t out_port;
	if (dp_mac_lookup(dp, bridge, eth->dst, &out_port)) {
		if (out_port == in_port)
			dp_drop1(ctx, in_port, DP_DROP_NOT_FOR_US, b);
		else
			dp_tx_enqueue(ctx, out_port, b);
	} else {
		dp_flood(ctx, bridge, in_port, in_port, b, false);
	}
	return false;
}

/* The low-addressed 6 bytes of a 64-bit word loaded from memory. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ETH_ADDR_WORD_MASK 0x0000ffffffffffffull
#else
#define ETH_ADDR_WORD_MASK 0xffffffffffff0000ull
#endif

/* The 6-byte MAC at p as the low-addressed 6 bytes of a 64-bit word, the other 2 zero: two
 * addresses are equal if their words are. Reads 8 bytes: callers make sure 8 are there. */
static inline uint64_t eth_addr_word(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w & ETH_ADDR_WORD_MASK;
}

/*
 * A tagged frame addressed to us (our MAC or broadcast) on in_port. This is the one place where
 * (in_port, VID) is to name a VLAN interface; the frame will then join the L3 batch like an
 * untagged one, its header 18 bytes long. No interface has a VLAN yet, so the frame is not for
 * us and is counted as L3 counted it before (l3.c, l3_not_for_us()): a NOT_FOR_US drop, except
 * a multicast copy on a bridge port, which the flood has already delivered.
 */
static void vlan_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b)
{
	const struct eth_vlan_hdr *eth = (const struct eth_vlan_hdr *)pkt_data(b);
	if (unlikely(b->len < ETH_VLAN_HDR_LEN)) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b); /* a tag cut short */
		return;
	}
	b->l2_len = ETH_VLAN_HDR_LEN;
	b->vlan_tci = ntohs(eth->tci_be);
	/* VLAN interfaces: look up (in_port, b->vlan_tci & VLAN_VID_MASK) here. */
	if (ctx->dp->ports[in_port].bridged && eth_is_multicast(eth->dst))
		dp_consume1(ctx, b);
	else
		dp_drop1(ctx, in_port, DP_DROP_NOT_FOR_US, b);
}

/*
 * A frame addressed to one of our interfaces: record its L2 header (b->l2_len, and the tag's
 * TCI in b->vlan_tci) for L3, which finds its header at pkt_data(b) + l2_len, and add it to the
 * L3 batch. An 802.1Q tagged frame (IEEE 802.1Q 9.3) goes to vlan_input() instead.
 */
static inline void l2_classify(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b,
			       struct pkt_buf **l3, uint32_t *n_l3)
{
	if (likely(pkt_eth(b)->type_be != htons(ETHERTYPE_VLAN))) {
		b->l2_len =
		    ETH_HDR_LEN; /* vlan_tci is left as it was: only tagged frames have one */
		l3[(*n_l3)++] = b;
		return;
	}
	vlan_input(ctx, in_port, b);
}

static void process_chunk(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf **bufs, uint32_t n)
{
	const struct dataplane *dp = ctx->dp;
	const struct dp_port *port = &dp->ports[in_port];
	struct dp_counters *k = &ctx->counters[in_port];
	struct pkt_buf *l3[DP_RX_BATCH];
	uint32_t n_l3 = 0;
	/* Our MAC and the broadcast address as words, once per batch. */
	uint8_t mac8[8] = {0}, bcast8[8] = {0};
	memcpy(mac8, port->mac, ETH_ALEN);
	memset(bcast8, 0xff, ETH_ALEN);
	const uint64_t our_mac = eth_addr_word(mac8), bcast = eth_addr_word(bcast8);
	const bool bridged = port->bridged; /* read once: the calls below might alias it */

	uint64_t bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct pkt_buf *b = bufs[i];
		/* 1. Count what arrived (stored once after the loop), and remember the ingress
		 * port in the buffer. */
		bytes += b->len;
		b->rx_port = in_port;
		/* 2. Runts and giants are malformed whatever they carry; only a tagged frame
		 * may exceed the untagged maximum, by its 4-byte tag. */
		if (unlikely(b->len < ETH_HDR_LEN || b->len > DP_MAX_RX_FRAME_LEN ||
			     (b->len > ETH_MAX_FRAME_LEN &&
			      pkt_eth(b)->type_be != htons(ETHERTYPE_VLAN)))) {
			LOG_PKT_DEBUG("dataplane", "port %u: frame of %u bytes", in_port, b->len);
			dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
			continue;
		}
		/* 3. Bridge ports switch; a routed port takes frames to its MAC or broadcast
		 * (the frame holds at least 14 bytes: the 8-byte read stays inside it). */
		if (bridged) {
			if (l2_input(ctx, in_port, b))
				l2_classify(ctx, in_port, b, l3, &n_l3);
			continue;
		}
		uint64_t dst = eth_addr_word(pkt_eth(b)->dst);
		if (likely(dst == our_mac) || dst == bcast)
			l2_classify(ctx, in_port, b, l3, &n_l3);
		else
			dp_drop1(ctx, in_port, DP_DROP_NOT_FOR_US, b);
	}
	/* Relaxed counters promise no order among themselves (dataplane.h), so the drops above
	 * may be seen before these. */
	ctr_add(&k->rx_packets, n);
	ctr_add(&k->rx_bytes, bytes);
	/* 4. Everything for us, as one batch. */
	if (n_l3)
		dp_l3_input(ctx, in_port, l3, n_l3);
}

void dp_process_rx(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf **bufs, uint32_t n)
{
	while (n > 0) {
		uint32_t m = MIN(n, (uint32_t)DP_RX_BATCH);
		process_chunk(ctx, in_port, bufs, m);
		bufs += m;
		n -= m;
	}
}
