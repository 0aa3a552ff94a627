/*
 * icmp.c: the ICMP messages the router itself sends: echo replies (RFC 792) and errors (Time
 * Exceeded, Destination Unreachable) under the rules of RFC 1812 4.3.2.
 */
#include <string.h>
#include <time.h>

#include "dp_internal.h"

/* RFC 1812 4.3.2.3: quote as much of the offending datagram as fits in 576 bytes. */
#define ICMP_ERROR_MAX_IP_LEN 576
/* RFC 1812 4.3.2.5: errors other than Source Quench SHOULD carry precedence 6 (internetwork
 * control), i.e. TOS 0xc0. */
#define ICMP_ERROR_TOS 0xc0

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* RFC 1812 4.3.2.8: a token bucket per ctx; a token per error, refilled at icmp_rate_per_s up
 * to icmp_burst. Only called when an error is about to be built, so the clock read is rare. */
static bool icmp_rate_ok(struct dp_ctx *ctx)
{
	const struct dataplane *dp = ctx->dp;
	struct dp_token_bucket *tb = &ctx->icmp_bucket;
	uint64_t now = now_ns();
	if (dp->params.icmp_rate_per_s == 0)
		return false;
	uint64_t ns_per_token = 1000000000ull / dp->params.icmp_rate_per_s;
	if (tb->last_ns == 0) { /* first use: a full bucket of the burst configured by now */
		tb->last_ns = now;
		tb->tokens = dp->params.icmp_burst;
	}
	uint64_t earned = (now - tb->last_ns) / ns_per_token;
	if (earned) {
		tb->tokens = (uint32_t)MIN((uint64_t)dp->params.icmp_burst, tb->tokens + earned);
		tb->last_ns += earned * ns_per_token;
	}
	if (tb->tokens == 0)
		return false;
	tb->tokens--;
	return true;
}

/* Our source address for an error about a packet that came in on port: an address of that
 * interface (RFC 1812 4.3.2.4: one of the addresses of the interface the error leaves by, which
 * is where the offending packet came from on a symmetric path), else any of ours. */
static bool icmp_error_src(const struct dataplane *dp, port_id_t port, uint32_t *src)
{
	const struct iface *ifc = dp_iface(dp, dp->ports[port].iface);
	for (uint16_t i = 0; i < ifc->n_addrs; i++) {
		if (ifc->addrs[i].pfx.addr.family == AF_INET) {
			*src = ifc->addrs[i].pfx.addr.v4;
			return true;
		}
	}
	if (dp->n_local4) {
		*src = dp->local4[0];
		return true;
	}
	return false;
}

struct pkt_buf *dp_icmp_error(struct dp_ctx *ctx, const struct pkt_buf *orig, uint8_t type,
			      uint8_t code)
{
	const struct dataplane *dp = ctx->dp;
	const struct ipv4_hdr *oip = pkt_ipv4(orig);
	unsigned ohl = ipv4_hdr_len(oip);
	unsigned ototal = ntohs(oip->total_len_be);
	uint32_t osrc = ntohl(oip->src_be);
	uint32_t odst = ntohl(oip->dst_be);

	/* 1. RFC 1812 4.3.2.7: no error about an ICMP error, about a non-initial fragment, about
	 * a datagram to a broadcast or multicast address or received as a link-layer broadcast,
	 * or about one whose source does not name a single host. */
	if (oip->proto == IPV4_PROTO_ICMP && (ntohs(oip->frag_be) & IPV4_FRAG_OFFSET) == 0) {
		if (ototal < ohl + 1)
			return NULL; /* cannot tell what it is: stay silent */
		if (icmp_type_is_error(pkt_data(orig)[orig->l2_len + ohl]))
			return NULL;
	}
	if ((ntohs(oip->frag_be) & IPV4_FRAG_OFFSET) != 0)
		return NULL;
	if (odst == 0xffffffffu || (odst >> 28) == 0xe || eth_is_multicast(pkt_data(orig)))
		return NULL;
	if (osrc == 0 || osrc == 0xffffffffu || (osrc >> 28) >= 0xe || (osrc >> 24) == 127)
		return NULL;
	/* 2. RFC 1812 4.3.2.8: rate limit. */
	uint32_t src;
	if (!icmp_error_src(dp, orig->rx_port, &src) || !icmp_rate_ok(ctx))
		return NULL;
	struct pkt_buf *b = pkt_buf_alloc(ctx->pool);
	if (!b) {
		ctr_drop(ctx, orig->rx_port, DP_DROP_NO_BUFFER);
		return NULL;
	}
	/* 3. IPv4 header, then the ICMP header, then the quote (RFC 792: the original header and
	 * at least 64 bits of data; RFC 1812 4.3.2.3: up to 576 bytes in all). */
	unsigned quote = MIN(ototal, ICMP_ERROR_MAX_IP_LEN - IPV4_MIN_HDR_LEN - ICMP_HDR_LEN);
	unsigned total = IPV4_MIN_HDR_LEN + ICMP_HDR_LEN + quote;
	pkt_reset(b, ETH_HDR_LEN + total);
	b->l2_len = ETH_HDR_LEN;
	struct eth_hdr *eth = pkt_eth(b);
	memset(eth, 0, sizeof(*eth));
	eth->type_be = htons(ETHERTYPE_IPV4);
	struct ipv4_hdr *ip = pkt_ipv4(b);
	*ip = (struct ipv4_hdr){
	    .ver_ihl = IPV4_VERSION << 4 | IPV4_MIN_HDR_LEN / 4,
	    .tos = ICMP_ERROR_TOS,
	    .total_len_be = htons((uint16_t)total),
	    .id_be = htons(ctx->ip_id++),
	    .ttl = IPV4_DEFAULT_TTL,
	    .proto = IPV4_PROTO_ICMP,
	    .src_be = htonl(src),
	    .dst_be = oip->src_be,
	};
	ip->csum_be = inet_csum_be(ip, IPV4_MIN_HDR_LEN);
	struct icmp_hdr *icmp = (struct icmp_hdr *)(ip + 1);
	*icmp = (struct icmp_hdr){.type = type, .code = code};
	memcpy(icmp + 1, oip, quote);
	icmp->csum_be = inet_csum_be(icmp, ICMP_HDR_LEN + quote);
	b->rx_port = orig->rx_port;
	return b;
}

bool dp_icmp_echo_reply(struct pkt_buf *b, enum dp_drop_reason *why)
{
	struct ipv4_hdr *ip = pkt_ipv4(b);
	unsigned hl = ipv4_hdr_len(ip);
	unsigned total = ntohs(ip->total_len_be);
	*why = DP_DROP_NOT_FOR_US;
	/* 1. Only unfragmented ICMP: we do not reassemble. */
	if (ip->proto != IPV4_PROTO_ICMP ||
	    (ntohs(ip->frag_be) & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET)))
		return false;
	unsigned icmp_len = total - hl;
	if (icmp_len < ICMP_HDR_LEN) {
		*why = DP_DROP_BAD_HEADER;
		return false;
	}
	uint8_t *icmp_bytes = (uint8_t *)ip + hl;
	/* 2. RFC 792: the checksum covers the whole ICMP message. */
	if (inet_sum(icmp_bytes, icmp_len, 0) != 0xffff) {
		*why = DP_DROP_BAD_HEADER;
		return false;
	}
	if (icmp_bytes[0] != ICMP_ECHO_REQUEST || icmp_bytes[1] != 0)
		return false;
	/* 3. Options are not echoed: move the message up behind a plain 20-byte header. */
	if (hl > IPV4_MIN_HDR_LEN)
		memmove((uint8_t *)ip + IPV4_MIN_HDR_LEN, icmp_bytes, icmp_len);
	struct icmp_hdr *icmp = (struct icmp_hdr *)(ip + 1);
	/* 4. RFC 792: swap the addresses, type 0; identifier, sequence and data unchanged.
	 * Only the type/code word changes, so patch the checksum (RFC 1624 eqn. 3). */
	icmp->type = ICMP_ECHO_REPLY;
	icmp->csum_be =
	    inet_csum_update_be(icmp->csum_be, ICMP_ECHO_REQUEST << 8, ICMP_ECHO_REPLY << 8);
	uint32_t src_be = ip->src_be;
	ip->src_be = ip->dst_be;
	ip->dst_be = src_be;
	ip->ver_ihl = IPV4_VERSION << 4 | IPV4_MIN_HDR_LEN / 4;
	ip->total_len_be = htons((uint16_t)(IPV4_MIN_HDR_LEN + icmp_len));
	ip->frag_be = 0;
	ip->ttl = IPV4_DEFAULT_TTL;
	ip->csum_be = 0;
	ip->csum_be = inet_csum_be(ip, IPV4_MIN_HDR_LEN);
	b->len = b->l2_len + IPV4_MIN_HDR_LEN + icmp_len;
	return true;
}
