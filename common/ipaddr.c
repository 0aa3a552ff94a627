/* ipaddr.c: see ipaddr.h. */
#include "ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	if (a->family == AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : b->family == AF_INET ? 1 : a->family - b->family;
	if (a->family == AF_INET)
		return a->v4 < b->v4 ? -1 : a->v4 > b->v4;
	if (a->family == AF_INET6)
		return memcmp(a->v6, b->v6, 16); /* network order: bytes compare as the number */
	return 0;
}

bool ip_addr_is_unspecified(const struct ip_addr *a)
{
	static const uint8_t zero[16];
	if (a->family == AF_INET)
		return a->v4 == 0;
	if (a->family == AF_INET6)
		return memcmp(a->v6, zero, 16) == 0;
	return true;
}

struct ip_addr ip_addr_masked(const struct ip_addr *a, unsigned len)
{
	struct ip_addr m = *a;
	if (len >= ip_family_bits(a->family))
		return m;
	if (a->family == AF_INET) {
		m.v4 =
		    len ? a->v4 & (UINT32_MAX << (32 - len)) : 0; /* a shift by 32 is undefined */
	} else {
		unsigned byte = len / 8, bits = len % 8;
		if (bits)
			m.v6[byte++] &= (uint8_t)(0xff << (8 - bits));
		memset(m.v6 + byte, 0, 16 - byte);
	}
	return m;
}

bool ip_prefix_has_host_bits(const struct ip_prefix *p)
{
	/* IPv4, nearly every prefix a full table holds: one shift, no copy. */
	if (p->addr.family == AF_INET)
		return p->len < 32 && (p->addr.v4 & (UINT32_MAX >> p->len)) != 0;
	struct ip_addr m = ip_addr_masked(&p->addr, p->len);
	return !ip_addr_equal(&m, &p->addr);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	if (a->family != p->addr.family)
		return false;
	struct ip_addr ma = ip_addr_masked(a, p->len), mp = ip_addr_masked(&p->addr, p->len);
	return ip_addr_equal(&ma, &mp);
}

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->len != b->len)
		return false;
	struct ip_addr ma = ip_addr_masked(&a->addr, a->len), mb = ip_addr_masked(&b->addr, b->len);
	return ip_addr_equal(&ma, &mb);
}

int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b)
{
	int c = ip_addr_cmp(&a->addr, &b->addr);
	return c ? c : a->len - b->len;
}

/* Exactly "a.b.c.d", parts 0..255 without leading zeros. */
static int parse_v4(const char *s, size_t len, uint32_t *ip)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
		size_t start = i;
		unsigned n = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == start || n > 255 || (i - start > 1 && s[start] == '0'))
			return -EINVAL; /* empty, too big, or a leading zero (octal in inet_aton) */
		v = v << 8 | n;
	}
	if (i != len)
		return -EINVAL;
	*ip = v;
	return 0;
}

static int parse_v6(const char *s, size_t len, uint8_t v6[16])
{
	char buf[IP_ADDR_STRLEN];
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, v6) == 1 ? 0 : -EINVAL;
}

int ip_addr_parse_family(const char *s, size_t len, uint8_t family, struct ip_addr *out)
{
	if (family == AF_INET) {
		uint32_t v4;
		if (parse_v4(s, len, &v4) != 0)
			return -EINVAL;
		*out = ip_addr_v4(v4);
		return 0;
	}
	struct ip_addr a = {.family = family};
	if (family != AF_INET6 || parse_v6(s, len, a.v6) != 0)
		return -EINVAL;
	*out = a;
	return 0;
}

int ip_addr_parse(const char *s, size_t len, struct ip_addr *out)
{
	/* A colon is what only IPv6 text has (RFC 4291 2.2), and every IPv6 text has one among
	 * its first five characters (a group is at most four hex digits), so those are all that
	 * needs looking at. */
	bool v6 = false;
	for (size_t i = 0; i < len && i < 5; i++)
		v6 |= s[i] == ':';
	return ip_addr_parse_family(s, len, v6 ? AF_INET6 : AF_INET, out);
}

int ip_prefix_parse(const char *s, size_t slen, unsigned flags, struct ip_prefix *out,
		    const char **why)
{
	static const char *const bad = "not an address/length prefix";
	const char *reason = bad;
	size_t sep = 0;
	while (sep < slen && s[sep] != '/' && !((flags & IP_PREFIX_PATH_FORM) && s[sep] == '_'))
		sep++;
	struct ip_prefix p;
	if (ip_addr_parse(s, sep, &p.addr) != 0)
		goto bad;
	unsigned max = ip_family_bits(p.addr.family), l = 0;
	if (sep == slen) {
		if (!(flags & IP_PREFIX_ADDR_IS_HOST))
			goto bad;
		l = max;
	} else {
		size_t i = sep + 1, digits = slen - i;
		if (digits == 0 || (digits > 1 && s[i] == '0'))
			goto bad;
		for (; i < slen; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			if (l <= max) /* stop growing once too long: no overflow, still "above" */
				l = l * 10 + (unsigned)(s[i] - '0');
		}
		if (l > max) {
			reason = max == 32 ? "prefix length above 32" : "prefix length above 128";
			goto bad;
		}
	}
	p.len = (uint8_t)l;
	if (!(flags & IP_PREFIX_KEEP_HOST_BITS) && ip_prefix_has_host_bits(&p)) {
		reason = "host bits set"; /* RFC 4632 3.1 */
		goto bad;
	}
	*out = p;
	return 0;
bad:
	if (why)
		*why = reason;
	return -EINVAL;
}

/*
 * RFC 5952 section 4: fields in lower-case hex without leading zeros (4.1, 4.3); the longest run
 * of two or more zero fields as "::", the first of equally long runs (4.2.1 - 4.2.3); and
 * section 5: IPv4-mapped addresses (::ffff:0:0/96, RFC 4291 2.5.5.2) end in a dotted quad. Not
 * glibc's inet_ntop, which also writes any ::/96 address as the deprecated IPv4-compatible
 * form (::a.b.c.d, RFC 4291 2.5.5.1), e.g. ::2.0.0.0 for ::200:0.
 */
static size_t format_v6(const uint8_t v6[16], char *buf)
{
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)v6[2 * i] << 8 | v6[2 * i + 1];
	int best = -1, best_len = 1; /* a run must beat 1: a lone zero field stays "0" */
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	bool mapped = best == 0 && best_len == 5 && w[5] == 0xffff;
	int fields = mapped ? 6 : 8;
	size_t n = 0;
	for (int i = 0; i < fields; i++) {
		if (i == best) {
			buf[n++] = ':';
			buf[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			buf[n++] = ':';
		n += (size_t)snprintf(buf + n, IP_ADDR_STRLEN - n, "%x", w[i]);
	}
	if (mapped)
		n += (size_t)snprintf(buf + n, IP_ADDR_STRLEN - n, ":%u.%u.%u.%u", v6[12], v6[13],
				      v6[14], v6[15]);
	buf[n] = '\0'; /* a trailing "::" wrote none */
	return n;
}

size_t ip_addr_format(const struct ip_addr *a, char *buf)
{
	if (a->family == AF_INET) {
		uint32_t ip = a->v4;
		size_t n = 0;
		for (int part = 3; part >= 0; part--) {
			unsigned b = (ip >> (8 * part)) & 255;
			if (b >= 100)
				buf[n++] = (char)('0' + b / 100);
			if (b >= 10)
				buf[n++] = (char)('0' + b / 10 % 10);
			buf[n++] = (char)('0' + b % 10);
			if (part)
				buf[n++] = '.';
		}
		buf[n] = '\0';
		return n;
	}
	if (a->family == AF_INET6)
		return format_v6(a->v6, buf);
	buf[0] = '-';
	buf[1] = '\0';
	return 1;
}

size_t ip_prefix_format(const struct ip_prefix *p, char *buf)
{
	size_t n = ip_addr_format(&p->addr, buf);
	return n + (size_t)snprintf(buf + n, IP_PREFIX_STRLEN - n, "/%u", p->len);
}

const char *ip_family_name(uint8_t family)
{
	return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "none";
}
