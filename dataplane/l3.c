/*
 * l3.c: IPv4 routing and ARP for frames addressed to one of our interfaces.
 *
 * A batch goes through these steps:
 *   1. ARP (RFC 826): answer requests for our addresses in place, tell the control thread what
 *      we learnt.
 *   2. IPv4 validation (RFC 1812 5.2.2), then: addressed to us -> echo reply (RFC 792); to a
 *      broadcast/multicast/martian address -> drop; TTL <= 1 -> Time Exceeded (RFC 1812 5.3.1);
 *      otherwise -> the forward list.
 *   3. Route the forward list: one batched LPM lookup, next hop, neighbour; rewrite and queue
 *      for tx, or hand to the control thread to resolve. No route -> Destination Unreachable.
 *   4. Route what we originated in steps 2-3 (echo replies, ICMP errors) the same way, without
 *      TTL decrement and without ever answering them with another error.
 */
#include <string.h>

#include "dp_internal.h"
#include "log.h"

#define IPV4_LIMITED_BCAST   0xffffffffu
#define IPV4_IS_MULTICAST(a) (((a) >> 28) == 0xe) /* 224.0.0.0/4, RFC 5771 */
#define IPV4_IS_LOOPBACK(a)  (((a) >> 24) == 127) /* 127.0.0.0/8, RFC 1122 3.2.1.3 */
#define IPV4_IS_THIS_NET(a)  (((a) >> 24) == 0)	  /* 0.0.0.0/8, RFC 1122 3.2.1.3 */
#define IPV4_IS_CLASS_E(a)   (((a) >> 28) == 0xf) /* 240.0.0.0/4, RFC 1112 4 */

/*
 * A frame L3 does not take. Counted as a NOT_FOR_US drop, except a multicast or broadcast
 * frame on a bridge port: the bridge has flooded it already and passed up a copy for us too
 * (rx.c), so the frame was delivered and only our copy ends here.
 */
static void l3_not_for_us(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b)
{
	if (ctx->dp->ports[in_port].bridged && eth_is_multicast(pkt_eth(b)->dst))
		dp_consume1(ctx, b);
	else
		dp_drop1(ctx, in_port, DP_DROP_NOT_FOR_US, b);
}

static void arp_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b)
{
	struct dataplane *dp = ctx->dp;
	iface_id_t iface = dp->ports[in_port].iface;
	const struct iface *ifc = dp_iface(dp, iface);
	struct eth_hdr *eth = pkt_eth(b);
	struct arp_hdr *arp = (struct arp_hdr *)(eth + 1);

	/* 1. Only Ethernet/IPv4 ARP (RFC 826: check ar$hrd, ar$pro and the lengths). */
	if (b->len < ETH_HDR_LEN + sizeof(*arp) || arp->htype_be != htons(ARP_HTYPE_ETHERNET) ||
	    arp->ptype_be != htons(ETHERTYPE_IPV4) || arp->hlen != ETH_ALEN || arp->plen != 4 ||
	    eth_is_multicast(arp->sha)) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return;
	}
	uint16_t op = ntohs(arp->op_be);
	uint32_t spa = ntohl(arp->spa_be);
	uint32_t tpa = ntohl(arp->tpa_be);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return;
	}
	bool target_us = false;
	for (uint16_t i = 0; i < ifc->n_addrs; i++)
		target_us |=
		    ifc->addrs[i].pfx.addr.family == AF_INET && ifc->addrs[i].pfx.addr.v4 == tpa;
	/* Somebody else claiming one of our addresses (an address conflict, or a spoof meant to
	 * divert what we send there): learn nothing from it, answer nothing. Our own requests
	 * coming back (a bridge loop) are just not for us. */
	if (spa != 0 && dp_is_local_ip(dp, spa)) {
		if (!eth_addr_equal(arp->sha, ifc->mac)) {
			char who[IP_ADDR_STRLEN];
			struct ip_addr claimed = ip_addr_v4(spa);
			ip_addr_format(&claimed, who);
			LOG_WARN_RL("arp",
				    "port %u: %02x:%02x:%02x:%02x:%02x:%02x claims our address %s",
				    in_port, arp->sha[0], arp->sha[1], arp->sha[2], arp->sha[3],
				    arp->sha[4], arp->sha[5], who);
		}
		l3_not_for_us(ctx, in_port, b);
		return;
	}

	/* 2. RFC 826 "Packet Reception": update the sender's entry if we have one, create it if
	 * the packet was for us. The control thread owns the table; it applies both rules, and
	 * creates entries only for senders in our subnets on this iface (DP_CTL_F_ON_LINK):
	 * others are neighbours only if we asked for them (an on-link route's destination,
	 * whose incomplete entry the answer updates). A sender of 0.0.0.0 is an address probe
	 * (RFC 5227 2.1.1) and teaches nothing. */
	uint8_t known_mac[ETH_ALEN];
	bool known = dp_neigh_lookup(dp, iface, spa, known_mac);
	if (spa != 0 && (target_us || (known && !eth_addr_equal(known_mac, arp->sha)))) {
		bool on_link = dp_iface_on_link4(dp, iface, spa, NULL);
		struct dp_ctl_msg msg = {.type = DP_CTL_LEARN,
					 .flags = (uint8_t)((target_us ? DP_CTL_F_TARGET_US : 0) |
							    (on_link ? DP_CTL_F_ON_LINK : 0)),
					 .iface = iface,
					 .in_port = in_port,
					 .ip = ip_addr_v4(spa)};
		memcpy(msg.mac, arp->sha, ETH_ALEN);
		if (ctx->id < dp->n_workers && !spsc_ring_push(&ctx->to_ctl, &msg))
			LOG_WARN_RL("arp", "request ring of worker %u full: ARP learning lost",
				    ctx->id);
	}
	if (op != ARP_OP_REQUEST || !target_us) {
		if (target_us)
			dp_consume1(ctx, b);
		else
			l3_not_for_us(ctx, in_port, b);
		return;
	}
	/* 3. RFC 826: swap sender and target, put in our hardware address, opcode reply, and
	 * send it back out where the request came from, to the requester's ar$sha (a unicast
	 * address, checked above), not to the frame's source. */
	memcpy(arp->tha, arp->sha, ETH_ALEN);
	arp->tpa_be = arp->spa_be;
	memcpy(arp->sha, ifc->mac, ETH_ALEN);
	arp->spa_be = htonl(tpa);
	arp->op_be = htons(ARP_OP_REPLY);
	memcpy(eth->dst, arp->tha, ETH_ALEN);
	memcpy(eth->src, ifc->mac, ETH_ALEN);
	dp_tx_enqueue(ctx, in_port, b);
}

/*
 * RFC 1812 5.2.2: a packet is passed on only if the link layer length holds at least a minimal
 * header, the checksum is right, the version is 4, the header length is at least 5 words and the
 * total length is at least the header length (and, of course, no more than the frame holds).
 * Trims Ethernet padding so b->len is the IP datagram plus the L2 header (b->l2_len).
 */
static bool ipv4_valid(struct pkt_buf *b)
{
	if (unlikely(b->len < (uint32_t)b->l2_len + IPV4_MIN_HDR_LEN))
		return false;
	const struct ipv4_hdr *ip = pkt_ipv4(b);
	unsigned total = ntohs(ip->total_len_be);
	if (likely(ip->ver_ihl == (IPV4_VERSION << 4 | IPV4_MIN_HDR_LEN / 4))) {
		/* Version 4 without options, nearly every packet: one compare covers version and
		 * header length, and the checksum is the unrolled 20-byte sum. */
		if (unlikely(total < IPV4_MIN_HDR_LEN || total > b->len - b->l2_len ||
			     !ipv4_hdr20_csum_ok(ip)))
			return false;
	} else {
		unsigned hdr_len = ipv4_hdr_len(ip);
		if ((ip->ver_ihl >> 4) != IPV4_VERSION || hdr_len < IPV4_MIN_HDR_LEN ||
		    total < hdr_len || total > b->len - b->l2_len)
			return false;
		/* RFC 1071: a correct header sums to -0. IHL >= 6 means the header holds more
		 * than the frame's first 20 bytes, but total >= hdr_len and total fits the frame,
		 * so every byte summed lies inside it. */
		if (inet_sum(ip, hdr_len, 0) != 0xffff)
			return false;
	}
	b->len = b->l2_len + total;
	return true;
}

/*
 * True if the forwarding fast path may take a valid packet from src to dst (host order) with
 * its link-layer destination eth_dst and TTL ttl: ipv4_input()'s slow path would reach its last
 * step ("forward") for it. That is: neither address has a first octet that is 0 (this net), 127
 * (loopback) or 224 and up (multicast, class E, limited broadcast); dst is none of our addresses
 * nor a directed broadcast of our subnets, and neither is src; the frame was not link-layer
 * multicast; TTL > 1.
 * Anything else takes the slow path, which applies the RFC 1812 checks in their order.
 */
static inline bool ipv4_fast_forward(const struct dataplane *dp, uint32_t src, uint32_t dst,
				     const uint8_t *eth_dst, uint8_t ttl)
{
	uint32_t s8 = src >> 24, d8 = dst >> 24;
	/* s8 - 1 < 223 <=> 1 <= s8 <= 223 (unsigned wrap for 0). */
	bool odd = (s8 - 1 >= 223) | (d8 - 1 >= 223) | (s8 == 127) | (d8 == 127) |
		   eth_is_multicast(eth_dst) | (ttl <= 1);
	/* Our addresses and subnet broadcasts: a filter bit, the same work however many we have.
	 * A false positive (about 1 in 64 with 4 addresses) only costs the slow path. */
	unsigned bit = dp_special_dst_bit(dst);
	odd |= (dp->special_dst_filter[bit / 64] >> (bit % 64)) & 1;
	/* The same addresses as source: ours, or a subnet's broadcast (RFC 1812 5.3.7). */
	bit = dp_special_dst_bit(src);
	odd |= (dp->special_dst_filter[bit / 64] >> (bit % 64)) & 1;
	return !odd;
}

/* Destinations a router never forwards to (RFC 1812 5.3.7 and 4.2.2.11: martians). */
static bool ipv4_martian_dst(uint32_t dst)
{
	return IPV4_IS_THIS_NET(dst) || IPV4_IS_LOOPBACK(dst) || IPV4_IS_CLASS_E(dst);
}

/* A directed broadcast to one of our connected subnets (RFC 1812 5.3.5.2: not forwarded by
 * default; we do not accept it locally either). */
static bool ipv4_subnet_bcast(const struct dataplane *dp, uint32_t dst)
{
	return iface_table_is_subnet_broadcast4(dp->ifaces, dst);
}

/* A source that names no single remote host, whether the packet is for us or to be forwarded
 * (RFC 1812 5.3.7, RFC 1122 3.2.1.3): this network (0/8), loopback, multicast, class E and the
 * limited broadcast; one of our own addresses (we did not send it); a broadcast address of one
 * of our subnets. */
static bool ipv4_bad_source(const struct dataplane *dp, uint32_t src)
{
	return IPV4_IS_THIS_NET(src) || IPV4_IS_LOOPBACK(src) || IPV4_IS_MULTICAST(src) ||
	       IPV4_IS_CLASS_E(src) || dp_is_local_ip(dp, src) || ipv4_subnet_bcast(dp, src);
}

/*
 * The per-ctx neighbour resolution cache (struct dp_res_cache): direct-mapped by next-hop
 * address, emptied by every dp_ctx_flush().
 *
 * Why a copy may be reused: the neighbour table publishes each resolution with a release store
 * and frees a replaced one only after a grace period (tables/neigh.h), i.e. after every worker
 * reported a quiescent state. A worker between two such reports may therefore keep using a
 * resolution it read, old or new, for as long as it likes within that section: that is what
 * holding the pointer would give it. The cache holds a copy (never torn: it was copied from a
 * complete resolution, after neigh_lookup()'s acquire load) and lives only until the ctx's next
 * dp_ctx_flush(), which the worker calls right before rcu_quiescent(). So once a writer's grace
 * period has ended, no worker forwards with the resolution it replaced, exactly as without the
 * cache; the window in which an old MAC may still be used is unchanged (one poll loop).
 * Only routed (non-bridge) ifaces are cached: a bridge picks the port per packet from the MAC
 * table, which this very worker may update while it learns. Unresolved addresses are not cached
 * (each such packet still goes to the control thread). Ifaces and ports are immutable once the
 * workers run, so the source MAC and egress port may be cached with the neighbour's MAC.
 */
static inline unsigned res_cache_slot(uint32_t ip)
{
	/* Multiplicative hash (2^32 / golden ratio): the top bits index the cache. */
	return (ip * 0x9e3779b1u) >> (32 - __builtin_ctz(DP_RES_CACHE_SIZE));
}

static inline const struct dp_res_entry *res_cache_find(const struct dp_ctx *ctx, iface_id_t iface,
							uint32_t ip)
{
	unsigned slot = res_cache_slot(ip);
	const struct dp_res_entry *e = &ctx->res.entry[slot];
	if (((ctx->res.valid >> slot) & 1) && e->ip == ip && e->iface == iface)
		return e;
	return NULL;
}

static void res_cache_fill(struct dp_ctx *ctx, iface_id_t iface, uint32_t ip,
			   const uint8_t mac[ETH_ALEN])
{
	const struct iface *ifc = dp_iface(ctx->dp, iface);
	if (ifc->kind != IFACE_KIND_PORT)
		return; /* bridges pick the port per packet; VLANs push a tag */
	unsigned slot = res_cache_slot(ip);
	struct dp_res_entry *e = &ctx->res.entry[slot];
	e->ip = ip;
	e->iface = iface;
	e->port = ifc->port;
	memcpy(e->eth, mac, ETH_ALEN);
	memcpy(e->eth + ETH_ALEN, ifc->mac, ETH_ALEN);
	ctx->res.valid |= 1ull << slot;
}

/*
 * The flow hash that picks a multipath member (RFC 2992 4: hash the flow so that its packets
 * stay on one path). The NIC's receive hash when the driver gave one (Toeplitz over the same
 * fields), else a CRC32-C of source, destination, protocol and, for the first fragment of TCP and
 * UDP, the ports. Only packets routed by a group pay for it.
 */
static uint32_t ipv4_flow_hash(const struct pkt_buf *b, const struct ipv4_hdr *ip)
{
	if (b->rss_hash)
		return b->rss_hash;
	uint64_t h = __builtin_ia32_crc32di(0, (uint64_t)ip->src_be << 32 | ip->dst_be);
	uint32_t ports = 0;
	unsigned hl = ipv4_hdr_len(ip);
	if ((ip->proto == IPV4_PROTO_TCP || ip->proto == IPV4_PROTO_UDP) &&
	    (ntohs(ip->frag_be) & IPV4_FRAG_OFFSET) == 0 && b->len >= ETH_HDR_LEN + hl + 4)
		memcpy(&ports, (const uint8_t *)ip + hl, 4); /* source and destination port */
	h = __builtin_ia32_crc32di(h, (uint64_t)ports << 8 | ip->proto);
	/* CRC is linear; a multiply spreads its bits over the top, which nexthop_group_pick()
	 * uses. */
	return (uint32_t)h * 0x9e3779b1u;
}

/* Hand b to the control thread for the host (a punt route, local traffic we do not serve). */
static void punt(struct dp_ctx *ctx, struct pkt_buf *b)
{
	struct dp_ctl_msg msg = {.type = DP_CTL_PUNT,
				 .iface = ctx->dp->ports[b->rx_port].iface,
				 .in_port = b->rx_port,
				 .buf = b};
	if (ctx->id >= ctx->dp->n_workers || !spsc_ring_push(&ctx->to_ctl, &msg))
		dp_drop1(ctx, b->rx_port, DP_DROP_NO_HOST, b);
}

/*
 * A next hop that is not a plain IPv4 gateway or connected subnet (nexthop.h): a group is
 * resolved to its member for this flow and returned; every other kind consumes b here (a
 * drop, an ICMP error into errs, a reply into errs, a punt) and NULL is returned.
 */
static const struct nexthop *special_nexthop(struct dp_ctx *ctx, struct pkt_buf *b,
					     const struct nexthop *hop, bool forwarding,
					     struct pkt_buf **errs, uint32_t *n_errs)
{
	const struct nexthop_table *nht = ctx->dp->tables.nht;
	enum dp_drop_reason why = DP_DROP_NO_ROUTE;
	struct pkt_buf *e;
	switch (hop->kind) {
	case NEXTHOP_GROUP:
		hop =
		    nexthop_get(nht, nexthop_group_pick(nht, hop, ipv4_flow_hash(b, pkt_ipv4(b))));
		if (hop->kind == NEXTHOP_CONNECTED ||
		    (hop->kind == NEXTHOP_GATEWAY && hop->family == AF_INET))
			return hop;
		break; /* members are forwarding kinds (nexthop_add_group): not reached */
	case NEXTHOP_BLACKHOLE:
		why = DP_DROP_BLACKHOLE;
		break;
	case NEXTHOP_UNREACHABLE:
		/* Like Linux's unreachable routes: host unreachable (RFC 1812 5.2.7.1). */
		why = DP_DROP_UNREACHABLE;
		if (forwarding && (e = dp_icmp_error(ctx, b, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST)))
			errs[(*n_errs)++] = e;
		break;
	case NEXTHOP_LOCAL:
		/* An address of a local route is ours: answer echo requests (RFC 1812 4.3.3.6),
		 * hand the rest to the host. Our own replies never come back here. */
		if (forwarding && dp_icmp_echo_reply(b, &why)) {
			errs[(*n_errs)++] = b;
			return NULL;
		}
		if (forwarding) {
			punt(ctx, b);
			return NULL;
		}
		break;
	case NEXTHOP_PUNT:
		punt(ctx, b);
		return NULL;
	default: /* an IPv4 route via an IPv6 gateway (RFC 8950): not forwarded yet */
		break;
	}
	dp_drop1(ctx, b->rx_port, why, b);
	return NULL;
}

/*
 * Route n packets whose IPv4 header is valid; addrs[i] is the destination of bufs[i] in host
 * order. forwarding: packets from elsewhere (decrement TTL; no route -> Destination Unreachable
 * into errs). Otherwise packets we originated (no TTL change, never an error about them). Takes
 * ownership of bufs.
 */
static void route_batch(struct dp_ctx *ctx, struct pkt_buf **bufs, const uint32_t *addrs,
			uint32_t n, bool forwarding, struct pkt_buf **errs, uint32_t *n_errs)
{
	struct dataplane *dp = ctx->dp;
	uint32_t nh[DP_RX_BATCH];

	/* 1. One batched lookup for the whole batch (RCU read side: we are between two
	 * rcu_quiescent() reports of our thread, and hold nothing across them). */
	lpm4_lookup_batch(dp->tables.lpm, addrs, nh, n);

	for (uint32_t i = 0; i < n; i++) {
		struct pkt_buf *b = bufs[i];
		struct eth_hdr *eth = pkt_eth(b); /* before the TTL store, which may alias b */
		struct ipv4_hdr *ip = pkt_ipv4(b);
		/* 2. No route: Destination Unreachable, net unreachable (RFC 1812 5.2.7.1). The
		 * error quotes the header as it arrived, so it is built before the TTL changes. */
		if (nh[i] == LPM4_NH_NONE) {
			if (forwarding) {
				struct pkt_buf *e =
				    dp_icmp_error(ctx, b, ICMP_DEST_UNREACH, ICMP_UNREACH_NET);
				if (e)
					errs[(*n_errs)++] = e;
			}
			dp_drop1(ctx, b->rx_port, DP_DROP_NO_ROUTE, b);
			continue;
		}
		/* 3. Next hop: the gateway, or the destination itself on a connected subnet.
		 * Anything else (multipath, blackhole, unreachable, local, punt) takes
		 * special_nexthop(); a group comes back as its member for this flow. */
		const struct nexthop *hop = nexthop_get(dp->tables.nht, nh[i]);
		if (unlikely(hop->kind != NEXTHOP_CONNECTED &&
			     (hop->kind != NEXTHOP_GATEWAY || hop->family != AF_INET))) {
			hop = special_nexthop(ctx, b, hop, forwarding, errs, n_errs);
			if (!hop)
				continue;
		}
		uint32_t target = hop->kind == NEXTHOP_GATEWAY ? hop->gw.v4 : addrs[i];
		iface_id_t oif = hop->iface;
		/* 4. RFC 1812 5.3.1: decrement TTL by one when forwarding; the checksum is patched
		 * incrementally (RFC 1624 eqn. 3). Options and fragments pass unchanged. */
		if (forwarding)
			ipv4_dec_ttl(ip);
		/* 5. Neighbour: rewrite and send, or let the control thread resolve and hold it.
		 * Usually the resolution was already used in this round (res_cache_find). The
		 * frame's EtherType is IPv4 already: everything routed here arrived as IPv4 or
		 * was built as such (icmp.c), so only the two addresses are written. */
		const struct dp_res_entry *r = res_cache_find(ctx, oif, target);
		if (likely(r)) {
			assert(eth->type_be == htons(ETHERTYPE_IPV4));
			memcpy(eth, r->eth, sizeof(r->eth));
			dp_tx_enqueue(ctx, r->port, b);
			continue;
		}
		uint8_t mac[ETH_ALEN];
		if (likely(dp_neigh_lookup(dp, oif, target, mac))) {
			res_cache_fill(ctx, oif, target, mac);
			dp_output_eth(ctx, oif, mac, b);
			continue;
		}
		struct dp_ctl_msg msg = {
		    .type = DP_CTL_RESOLVE, .iface = oif, .ip = ip_addr_v4(target), .buf = b};
		if (ctx->id >= dp->n_workers || !spsc_ring_push(&ctx->to_ctl, &msg))
			dp_drop1(ctx, b->rx_port, DP_DROP_ARP_UNRESOLVED, b);
	}
}

/* One IPv4 packet: validate and sort it into local replies, errors, the forward list (with its
 * destination in fwd_dst) or a drop. */
static void ipv4_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf *b,
		       struct pkt_buf **fwd, uint32_t *fwd_dst, uint32_t *n_fwd,
		       struct pkt_buf **local, uint32_t *n_local)
{
	struct dataplane *dp = ctx->dp;
	/* 1. RFC 1812 5.2.2 validation. */
	if (unlikely(!ipv4_valid(b))) {
		LOG_PKT_DEBUG("ipv4", "port %u: invalid IPv4 header", in_port);
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return;
	}
	struct ipv4_hdr *ip = pkt_ipv4(b);
	uint32_t src = ntohl(ip->src_be);
	uint32_t dst = ntohl(ip->dst_be);
	/* Fast path: a packet every step below would pass on to the forward list. */
	if (likely(ipv4_fast_forward(dp, src, dst, pkt_eth(b)->dst, ip->ttl))) {
		fwd_dst[*n_fwd] = dst;
		fwd[(*n_fwd)++] = b;
		return;
	}
	/* 2. A source that names no single remote host: nothing answers or forwards it. */
	if (ipv4_bad_source(dp, src)) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return;
	}
	/* 3. For us: only echo requests are served (RFC 1812 4.3.3.6: a router MUST answer). */
	if (dp_is_local_ip(dp, dst)) {
		enum dp_drop_reason why = DP_DROP_NOT_FOR_US;
		if (dp_icmp_echo_reply(b, &why))
			local[(*n_local)++] = b;
		else
			dp_drop1(ctx, in_port, why, b);
		return;
	}
	/* 4. Broadcast and multicast are not routed (RFC 1812 5.3.5, no multicast routing); nor
	 * are packets that came in a link-layer broadcast (RFC 1812 5.3.4) or martian
	 * destinations (5.3.7). */
	if (dst == IPV4_LIMITED_BCAST || IPV4_IS_MULTICAST(dst) || ipv4_subnet_bcast(dp, dst) ||
	    eth_is_multicast(pkt_eth(b)->dst)) {
		l3_not_for_us(ctx, in_port, b);
		return;
	}
	if (ipv4_martian_dst(dst)) {
		dp_drop1(ctx, in_port, DP_DROP_BAD_HEADER, b);
		return;
	}
	/* 5. TTL: a packet that would leave with TTL 0 dies here (RFC 1812 5.3.1) with Time
	 * Exceeded, code 0 (RFC 792). */
	if (ip->ttl <= 1) {
		struct pkt_buf *e = dp_icmp_error(ctx, b, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
		if (e)
			local[(*n_local)++] = e;
		dp_drop1(ctx, in_port, DP_DROP_TTL_EXPIRED, b);
		return;
	}
	fwd_dst[*n_fwd] = dst;
	fwd[(*n_fwd)++] = b;
}

void dp_l3_input(struct dp_ctx *ctx, port_id_t in_port, struct pkt_buf **bufs, uint32_t n)
{
	struct pkt_buf *fwd[DP_RX_BATCH];
	uint32_t dst[DP_RX_BATCH];	    /* of fwd, then of local */
	struct pkt_buf *local[DP_RX_BATCH]; /* at most one reply or error per input packet */
	uint32_t n_fwd = 0, n_local = 0;
	assert(n <= DP_RX_BATCH);

	for (uint32_t i = 0; i < n; i++) {
		struct pkt_buf *b = bufs[i];
		uint16_t type = ntohs(pkt_eth(b)->type_be);
		if (type == ETHERTYPE_IPV4)
			ipv4_input(ctx, in_port, b, fwd, dst, &n_fwd, local, &n_local);
		else if (type == ETHERTYPE_ARP)
			arp_input(ctx, in_port, b);
		else
			l3_not_for_us(ctx, in_port, b);
	}
	if (n_fwd)
		route_batch(ctx, fwd, dst, n_fwd, true, local, &n_local);
	if (n_local) {
		for (uint32_t i = 0; i < n_local; i++)
			dst[i] = ntohl(pkt_ipv4(local[i])->dst_be);
		route_batch(ctx, local, dst, n_local, false, NULL, NULL);
	}
}
