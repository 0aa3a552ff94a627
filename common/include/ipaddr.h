/*
 * ipaddr.h: family-tagged IP addresses and prefixes, with the one parser and formatter every
 * layer above uses (control, API, configuration, state journal, neighbour keys, logs).
 *
 * An address is IPv4 or IPv6, told apart by family (AF_INET / AF_INET6, the values netlink and
 * the socket API use). IPv4 is kept as a 32-bit integer in host byte order, because lpm4 and
 * the IPv4 fast path work on that; IPv6 as its 16 bytes in network order (RFC 4291 2.2), the
 * order lpm6 and the wire use. The hot path keeps its own per-family forms and converts at the
 * edges (ip_addr_v4(), .v4).
 *
 * A prefix is an address plus a length (0..32 or 0..128). A canonical prefix has no host bits
 * set (RFC 4632 3.1: the bits past the length are zero); the parser rejects any other unless
 * asked to keep them (addresses of interfaces, "10.0.0.1/24").
 *
 * Text forms: IPv4 exactly "a.b.c.d", decimal parts 0..255 without leading zeros (RFC 6943
 * 3.1.1: leading zeros are read as octal by some parsers, so they are refused); IPv6 as
 * inet_pton(3) accepts it (RFC 4291 2.2, with an embedded dotted quad), formatted in the
 * canonical form of RFC 5952 4 (lower case, the longest zero run compressed, a single zero
 * field not compressed; IPv4-mapped addresses with a dotted quad, RFC 5952 5). Prefixes
 * "ADDR/LEN", LEN decimal without leading zeros.
 *
 * Threads: every function is reentrant and keeps no state.
 */
#ifndef IXYD_IPADDR_H
#define IXYD_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define IP_ADDR_STRLEN	 46 /* INET6_ADDRSTRLEN: the longest text form plus its NUL */
#define IP_PREFIX_STRLEN (IP_ADDR_STRLEN + 4)

struct ip_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 (AF_UNSPEC): no address */
	union {
		uint32_t v4;	/* AF_INET: host byte order */
		uint8_t v6[16]; /* AF_INET6: network byte order */
	};
};

struct ip_prefix {
	struct ip_addr addr;
	uint8_t len; /* 0..32 (IPv4) or 0..128 (IPv6) */
};

static inline struct ip_addr ip_addr_v4(uint32_t v4)
{
	struct ip_addr a = {.family = AF_INET};
	a.v4 = v4;
	return a;
}

static inline struct ip_addr ip_addr_v6(const uint8_t v6[16])
{
	struct ip_addr a = {.family = AF_INET6};
	memcpy(a.v6, v6, 16);
	return a;
}

static inline struct ip_prefix ip_prefix_v4(uint32_t v4, uint8_t len)
{
	return (struct ip_prefix){.addr = ip_addr_v4(v4), .len = len};
}

/* 32, 128, or 0 for a family that is neither. */
static inline unsigned ip_family_bits(uint8_t family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static inline bool ip_addr_is_v4(const struct ip_addr *a)
{
	return a->family == AF_INET;
}

/* Equal family and bits (two addresses of no family are equal). */
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* A total order: IPv4 before IPv6, then by value as unsigned numbers. <0, 0, >0. */
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);
/* The unspecified address (0.0.0.0, ::) of either family, or no address at all. */
bool ip_addr_is_unspecified(const struct ip_addr *a);

/* The address with every bit past len cleared (len larger than the family's: unchanged). */
struct ip_addr ip_addr_masked(const struct ip_addr *a, unsigned len);
/* True if p has bits set past its length (not canonical). */
bool ip_prefix_has_host_bits(const struct ip_prefix *p);
/* True if a lies inside p (same family, equal in the first p->len bits). */
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* Equal family, length and (masked) bits. */
bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);
/* Order by address (ip_addr_cmp), then by length. */
int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b);

/* Parse an address of either family from s[0..len) (no NUL needed). 0, or -EINVAL. */
int ip_addr_parse(const char *s, size_t len, struct ip_addr *out);
/* The same, of one family only (AF_INET or AF_INET6): -EINVAL for the other. */
int ip_addr_parse_family(const char *s, size_t len, uint8_t family, struct ip_addr *out);

#define IP_PREFIX_KEEP_HOST_BITS 0x1 /* accept "10.0.0.1/24" (an interface address) */
#define IP_PREFIX_PATH_FORM	 0x2 /* also accept '_' for '/' ("10.0.0.0_8": a URL segment) */
#define IP_PREFIX_ADDR_IS_HOST	 0x4 /* an address without "/len" is a host prefix (/32, /128) */

/*
 * Parse "ADDR/LEN" from s[0..len). flags: IP_PREFIX_*. 0, or -EINVAL with *why (may be NULL)
 * naming the reason, a static string: "not an address/length prefix", "prefix length above
 * 32" (or 128), "host bits set".
 */
int ip_prefix_parse(const char *s, size_t len, unsigned flags, struct ip_prefix *out,
		    const char **why);

/* Format into buf (IP_ADDR_STRLEN bytes); returns the length. No family: "-". */
size_t ip_addr_format(const struct ip_addr *a, char *buf);
/* "ADDR/LEN" into buf (IP_PREFIX_STRLEN bytes); returns the length. */
size_t ip_prefix_format(const struct ip_prefix *p, char *buf);

/* The family's name for messages and JSON: "ipv4", "ipv6", or "none". */
const char *ip_family_name(uint8_t family);

#endif
