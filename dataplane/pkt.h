/*
 * pkt.h: wire formats the dataplane parses and builds (Ethernet, ARP, IPv4, ICMP) and the
 * Internet checksum.
 *
 * Every header is declared exactly as it sits on the wire, multi-byte fields in network byte
 * order (the names of such fields say so: _be), and its size is static_asserted, so a header can
 * be read by casting a pointer into the frame (pkt_data()). A received frame starts 64-byte
 * aligned, but the IPv4 header then starts at offset 14 (18 behind an 802.1Q tag) and a frame
 * whose start was moved (pkt_push()) has any alignment, so the structs are packed and the
 * compiler emits unaligned-safe loads.
 *
 * Header only: all helpers are static inline and usable from any thread.
 */
#ifndef IXYD_PKT_H
#define IXYD_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"

#define ETH_ALEN	  6
#define ETH_HDR_LEN	  14
#define ETH_MIN_FRAME_LEN 60	 /* IEEE 802.3 clause 3.2.8: 64 bytes minimum, minus the FCS */
#define ETH_MAX_FRAME_LEN 1514	 /* 1500-byte payload (RFC 894) + header, no FCS, no VLAN tag */
#define ETHERTYPE_IPV4	  0x0800 /* RFC 894 */
#define ETHERTYPE_ARP	  0x0806 /* RFC 826 */
#define ETHERTYPE_VLAN	  0x8100 /* IEEE 802.1Q 9.5: the tag protocol identifier */

/* Ethernet II header (RFC 894). */
struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type_be;
} __packed;
static_assert(sizeof(struct eth_hdr) == ETH_HDR_LEN, "Ethernet header is 14 bytes");

/* Ethernet header with one 802.1Q tag (IEEE 802.1Q 9.3: the tag, TPID then TCI, sits between
 * the source address and the EtherType of the untagged frame). */
#define ETH_VLAN_HDR_LEN 18
#define VLAN_VID_MASK	 0x0fff /* IEEE 802.1Q 9.6: the VID is the TCI's low 12 bits */
struct eth_vlan_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t tpid_be; /* ETHERTYPE_VLAN */
	uint16_t tci_be;  /* PCP (3 bits), DEI (1), VID (12): IEEE 802.1Q 9.6 */
	uint16_t type_be; /* the EtherType of what the tag carries */
} __packed;
static_assert(sizeof(struct eth_vlan_hdr) == ETH_VLAN_HDR_LEN, "tagged header is 18 bytes");

/* ARP for IPv4 over Ethernet (RFC 826, "Packet format"; hardware type 1 from RFC 5342/IANA). */
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST	   1
#define ARP_OP_REPLY	   2
struct arp_hdr {
	uint16_t htype_be; /* ar$hrd */
	uint16_t ptype_be; /* ar$pro: ETHERTYPE_IPV4 */
	uint8_t hlen;	   /* ar$hln: 6 */
	uint8_t plen;	   /* ar$pln: 4 */
	uint16_t op_be;	   /* ar$op */
	uint8_t sha[ETH_ALEN];
	uint32_t spa_be;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa_be;
} __packed;
static_assert(sizeof(struct arp_hdr) == 28, "ARP for IPv4 over Ethernet is 28 bytes");

/* IPv4 header without options (RFC 791 section 3.1). */
#define IPV4_VERSION	 4
#define IPV4_MIN_HDR_LEN 20
#define IPV4_PROTO_ICMP	 1
#define IPV4_PROTO_TCP	 6	/* RFC 793 */
#define IPV4_PROTO_UDP	 17	/* RFC 768 */
#define IPV4_FLAG_MF	 0x2000 /* RFC 791 3.1: more fragments */
#define IPV4_FRAG_OFFSET 0x1fff /* RFC 791 3.1: fragment offset in 8-byte units */
#define IPV4_DEFAULT_TTL 64	/* RFC 1700 / IANA recommended default */
struct ipv4_hdr {
	uint8_t ver_ihl; /* version << 4 | IHL (header length in 32-bit words) */
	uint8_t tos;
	uint16_t total_len_be;
	uint16_t id_be;
	uint16_t frag_be; /* flags << 13 | fragment offset */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum_be;
	uint32_t src_be;
	uint32_t dst_be;
} __packed;
static_assert(sizeof(struct ipv4_hdr) == IPV4_MIN_HDR_LEN, "IPv4 header is 20 bytes");
static_assert(offsetof(struct ipv4_hdr, ttl) == 8, "TTL and protocol share the 5th word");

/* ICMP header (RFC 792): type, code, checksum, then 4 bytes whose meaning depends on the type. */
#define ICMP_ECHO_REPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_UNREACH_NET   0 /* RFC 792 / RFC 1812 5.2.7.1: code 0, net unreachable */
#define ICMP_UNREACH_HOST  1 /* RFC 792 / RFC 1812 5.2.7.1: code 1, host unreachable */
#define ICMP_REDIRECT	   5
#define ICMP_ECHO_REQUEST  8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_EXC_TTL	   0 /* RFC 792: code 0, time to live exceeded in transit */
#define ICMP_PARAM_PROBLEM 12
#define ICMP_HDR_LEN	   8
struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t csum_be;
	uint16_t id_be;	 /* echo: identifier; errors: unused (zero) */
	uint16_t seq_be; /* echo: sequence number; errors: unused (zero) */
} __packed;
static_assert(sizeof(struct icmp_hdr) == ICMP_HDR_LEN, "ICMP header is 8 bytes");

static inline bool eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1; /* IEEE 802-2014 8.2: the I/G bit; broadcast is a multicast address */
}

static inline bool eth_is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static inline bool eth_addr_equal(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ETH_ALEN) == 0;
}

static inline unsigned ipv4_hdr_len(const struct ipv4_hdr *ip)
{
	return (unsigned)(ip->ver_ihl & 0xf) * 4;
}

/* True for an ICMP message type that reports an error (RFC 1812 4.3.2.7 / RFC 792). Unknown
 * types count as errors: RFC 1812 4.3.2.7 only lets us answer the informational ones. */
static inline bool icmp_type_is_error(uint8_t type)
{
	return type != ICMP_ECHO_REPLY && type != ICMP_ECHO_REQUEST && type != 13 && type != 14;
}

/*
 * One's complement sum of len bytes (RFC 1071 section 4.1: add 16-bit words in network order,
 * fold the carries, a trailing odd byte padded with zero), added to sum. Not yet complemented.
 */
static inline uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	while (len >= 2) {
		acc += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

/*
 * True if the option-less 20-byte IPv4 header at ip sums to -0 (RFC 1071 section 4.1: a correct
 * header, checksum field included, sums to 0xffff). The hot-path form of inet_sum(ip, 20, 0):
 * five 32-bit adds instead of ten 16-bit ones, two of them in parallel, no loop. Why the result
 * is the same:
 *   - RFC 1071 2.(C): one's complement addition may be done on wider words and folded at the
 *     end ("parallel summation"): the end-around carries of the 32-bit sum fold into the
 *     16-bit one.
 *   - RFC 1071 2.(B): the sum is byte-order independent: adding the words as loaded (host
 *     order) gives the byte-swapped sum, and 0xffff swapped is 0xffff, so the comparison needs
 *     no swap.
 * Five 32-bit words sum to less than 2^35; the first fold leaves less than 2^32 + 8, the second
 * fits 32 bits; the two 16-bit folds then end as inet_sum's do (a nonzero sum never folds to
 * 0x0000, and an all-zero header, which sums to 0, fails here as there).
 */
static inline bool ipv4_hdr20_csum_ok(const struct ipv4_hdr *ip)
{
	/* ip is only 2-byte aligned: memcpy makes the loads safe. One memcpy per word, not one
	 * of all 20 bytes: the latter compiles to a vector copy onto the stack and five reloads,
	 * a store-forwarding round trip on every packet. */
	const uint8_t *p = (const uint8_t *)ip;
	uint32_t w0, w1, w2, w3, w4;
	memcpy(&w0, p, 4);
	memcpy(&w1, p + 4, 4);
	memcpy(&w2, p + 8, 4);
	memcpy(&w3, p + 12, 4);
	memcpy(&w4, p + 16, 4);
	uint64_t sum = ((uint64_t)w0 + w1) + ((uint64_t)w2 + w3) + w4;
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	uint32_t s32 = (uint32_t)sum;
	s32 = (s32 & 0xffff) + (s32 >> 16);
	s32 = (s32 & 0xffff) + (s32 >> 16);
	return s32 == 0xffff;
}
static_assert(sizeof(struct ipv4_hdr) == 5 * sizeof(uint32_t), "the header is five words");

/* The Internet checksum of data in network byte order, ready to store (RFC 1071). */
static inline uint16_t inet_csum_be(const void *data, size_t len)
{
	return htons((uint16_t)~inet_sum(data, len, 0));
}

/*
 * Update a checksum in place after one 16-bit word changed from old_word to new_word (both in
 * host order): RFC 1624 section 3, eqn. 3, HC' = ~(~HC + ~m + m'). RFC 1141's older form
 * (eqn. 2) can disagree with a full recomputation about the representation of zero (RFC 1624
 * section 4); eqn. 3 agrees with it.
 */
static inline uint16_t inet_csum_update_be(uint16_t csum_be, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~ntohs(csum_be);
	sum += (uint16_t)~old_word;
	sum += new_word;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * Decrement the TTL (at least 1) and patch the header checksum incrementally (RFC 1812 5.3.1,
 * RFC 1624 eqn. 3). The changed word m = TTL << 8 | protocol drops by exactly 0x100, so the
 * ~m + m' of eqn. 3 is the constant 0xffff - m + (m - 0x100) = 0xfeff whatever m is: the same
 * arithmetic as inet_csum_update_be(), without reading the word.
 */
static inline void ipv4_dec_ttl(struct ipv4_hdr *ip)
{
	ip->ttl--;
	uint32_t sum = (uint16_t)~ntohs(ip->csum_be);
	sum += 0xfeff;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->csum_be = htons((uint16_t)~sum);
}

#endif
