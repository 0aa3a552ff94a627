/*
 * fuzz_ipaddr: common/ipaddr.c on arbitrary text. The first byte chooses the prefix flags, the
 * rest is the text. Properties, each an abort() when broken:
 *   - ip_addr_parse() accepts exactly what inet_pton(3) accepts (for text without NUL: glibc
 *     refuses IPv4 leading zeros too), with the same value; the family-specific parser agrees;
 *   - format(parse(x)) parses back to the same address, and formats to the same text again;
 *   - ip_prefix_parse(x, flags): a length within the family, no host bits unless
 *     IP_PREFIX_KEEP_HOST_BITS, the prefix contains its own address and its masked form;
 *     format(parse(x)) parses back (flags KEEP_HOST_BITS only) to the same prefix.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static void check_addr(const char *s, size_t len)
{
	struct ip_addr a;
	int err = ip_addr_parse(s, len, &a);
	char text[64];
	if (len < sizeof(text) && !memchr(s, '\0', len)) {
		memcpy(text, s, len);
		text[len] = '\0';
		uint8_t ref[16];
		int family = memchr(s, ':', len) ? AF_INET6 : AF_INET;
		bool ok_ref = inet_pton(family, text, ref) == 1;
		REQUIRE(ok_ref == (err == 0));
		if (ok_ref && family == AF_INET) {
			uint32_t v;
			memcpy(&v, ref, 4);
			REQUIRE(a.family == AF_INET && a.v4 == ntohl(v));
		} else if (ok_ref) {
			REQUIRE(a.family == AF_INET6 && memcmp(a.v6, ref, 16) == 0);
		}
	}
	if (err)
		return;
	struct ip_addr b;
	REQUIRE(ip_addr_parse_family(s, len, a.family, &b) == 0 && ip_addr_equal(&a, &b));
	char buf[IP_ADDR_STRLEN], buf2[IP_ADDR_STRLEN];
	size_t n = ip_addr_format(&a, buf);
	REQUIRE(n == strlen(buf) && n < IP_ADDR_STRLEN);
	REQUIRE(ip_addr_parse(buf, n, &b) == 0 && ip_addr_equal(&a, &b) &&
		ip_addr_cmp(&a, &b) == 0);
	REQUIRE(ip_addr_format(&b, buf2) == n && strcmp(buf, buf2) == 0);
}

static void check_prefix(const char *s, size_t len, unsigned flags)
{
	struct ip_prefix p;
	const char *why = NULL;
	if (ip_prefix_parse(s, len, flags, &p, &why) != 0) {
		REQUIRE(why != NULL);
		return;
	}
	unsigned bits = ip_family_bits(p.addr.family);
	REQUIRE(bits != 0 && p.len <= bits);
	if (!(flags & IP_PREFIX_KEEP_HOST_BITS))
		REQUIRE(!ip_prefix_has_host_bits(&p));
	REQUIRE(ip_prefix_contains(&p, &p.addr));
	struct ip_addr m = ip_addr_masked(&p.addr, p.len);
	REQUIRE(ip_prefix_contains(&p, &m));
	struct ip_prefix pm = {.addr = m, .len = p.len};
	REQUIRE(!ip_prefix_has_host_bits(&pm) && ip_prefix_equal(&p, &pm));
	char buf[IP_PREFIX_STRLEN];
	size_t n = ip_prefix_format(&p, buf);
	REQUIRE(n == strlen(buf) && n < IP_PREFIX_STRLEN);
	struct ip_prefix q;
	REQUIRE(ip_prefix_parse(buf, n, IP_PREFIX_KEEP_HOST_BITS, &q, NULL) == 0);
	REQUIRE(q.len == p.len && ip_addr_equal(&q.addr, &p.addr) && ip_prefix_cmp(&p, &q) == 0);
	/* The canonical text needs no flag unless host bits are kept. */
	if (!ip_prefix_has_host_bits(&p))
		REQUIRE(ip_prefix_parse(buf, n, 0, &q, NULL) == 0 && ip_prefix_equal(&p, &q));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags =
	    data[0] & (IP_PREFIX_KEEP_HOST_BITS | IP_PREFIX_PATH_FORM | IP_PREFIX_ADDR_IS_HOST);
	/* A copy of exactly the text, so ASan catches a read past its end. */
	size_t len = size - 1;
	char *s = malloc(len ? len : 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, len);
	check_addr(s, len);
	check_prefix(s, len, flags);
	free(s);
	return 0;
}
