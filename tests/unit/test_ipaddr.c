/*
 * test_ipaddr: common/ipaddr.c. Parsing against fixed accept/reject lists and, for IPv4 and
 * IPv6 addresses, against inet_pton(3) as the independent reference; the RFC 5952 text form on
 * the RFC's own examples and, for random addresses rich in zero fields, on its rules checked
 * field by field (lower case, no leading zeros, "::" exactly on the first longest run of two or
 * more zero fields) plus inet_pton reading the text back; prefixes with every flag; ordering,
 * containment and masking against bit-by-bit references.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "test_util.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64*: enough to spread test inputs; the seed is printed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static int parse_str(const char *s, struct ip_addr *a)
{
	return ip_addr_parse(s, strlen(s), a);
}

/* Accept and reject lists; whatever inet_pton says must agree (for IPv4 glibc's inet_pton also
 * refuses leading zeros, RFC 6943 3.1.1). */
static void test_parse_addr(void)
{
	static const char *const v4[] = {
	    "0.0.0.0",	  "255.255.255.255", "10.1.2.3", "1.2.3",     "1.2.3.4.5", "256.1.1.1",
	    "01.2.3.4",	  "1.2.3.04",	     "1.2.3.00", "1..2.3",    "1.2.3.4 ",  " 1.2.3.4",
	    "",		  ".1.2.3",	     "1.2.3.",	 "a.b.c.d",   "1.2.3.-4",  "1.2.3.4/8",
	    "1234.1.1.1", "0x1.2.3.4",	     "1.2.3.1e", "999.0.0.0", "0.0.0.0.",  "1.2.3.4\n"};
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct ip_addr a = {0};
		struct in_addr ref;
		int ok_ref = inet_pton(AF_INET, v4[i], &ref) == 1;
		int ok = parse_str(v4[i], &a) == 0;
		if (ok != ok_ref)
			fprintf(stderr, "ipv4 \"%s\": ours %d, inet_pton %d\n", v4[i], ok, ok_ref);
		CHECK_EQ(ok, ok_ref);
		if (ok && ok_ref) {
			CHECK_EQ(a.family, AF_INET);
			CHECK_EQ(a.v4, ntohl(ref.s_addr));
		}
	}
	static const char *const v6[] = {"::",
					 "::1",
					 "1::",
					 "2001:db8::1",
					 "2001:DB8::1",
					 "fe80::1%eth0",
					 "1:2:3:4:5:6:7:8",
					 "1:2:3:4:5:6:7:8:9",
					 "1:2:3:4:5:6:7",
					 ":::",
					 "1::2::3",
					 "12345::",
					 "::ffff:1.2.3.4",
					 "::ffff:01.2.3.4",
					 "::1.2.3.4",
					 "1:2:3:4:5:6:1.2.3.4",
					 "1:2:3:4:5:6:7:1.2.3.4",
					 "0001:0002::",
					 "g::",
					 ":1::",
					 "1::2:",
					 "::ffff:1.2.3",
					 " ::1",
					 "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
					 "0000:0000:0000:0000:0000:ffff:255.255.255.255"};
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		struct ip_addr a = {0};
		uint8_t ref[16];
		int ok_ref = inet_pton(AF_INET6, v6[i], ref) == 1;
		int ok = parse_str(v6[i], &a) == 0;
		if (ok != ok_ref)
			fprintf(stderr, "ipv6 \"%s\": ours %d, inet_pton %d\n", v6[i], ok, ok_ref);
		CHECK_EQ(ok, ok_ref);
		if (ok && ok_ref) {
			CHECK_EQ(a.family, AF_INET6);
			CHECK(memcmp(a.v6, ref, 16) == 0);
		}
	}
	/* The length bounds the input: no NUL needed, nothing read past it, an embedded NUL
	 * refused. */
	struct ip_addr a;
	CHECK_EQ(ip_addr_parse("10.0.0.1junk", 8, &a), 0);
	CHECK_EQ(a.v4, 0x0a000001);
	CHECK_EQ(ip_addr_parse("::1x", 3, &a), 0);
	CHECK_EQ(ip_addr_parse("::1\0", 4, &a), -EINVAL);
	CHECK_EQ(ip_addr_parse("1.2.3.4\0", 8, &a), -EINVAL);
	/* One family only. */
	CHECK_EQ(ip_addr_parse_family("1.2.3.4", 7, AF_INET6, &a), -EINVAL);
	CHECK_EQ(ip_addr_parse_family("::1", 3, AF_INET, &a), -EINVAL);
	CHECK_EQ(ip_addr_parse_family("::1", 3, AF_INET6, &a), 0);
	CHECK_EQ(ip_addr_parse_family("1.2.3.4", 7, 0, &a), -EINVAL);
	/* A failed parse leaves *out alone. */
	a = ip_addr_v4(7);
	CHECK_EQ(parse_str("1.2.3.256", &a), -EINVAL);
	CHECK(a.family == AF_INET && a.v4 == 7);
}

static void check_format(const char *in, const char *want)
{
	struct ip_addr a;
	char buf[IP_ADDR_STRLEN];
	CHECK_EQ(parse_str(in, &a), 0);
	size_t n = ip_addr_format(&a, buf);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "format \"%s\": \"%s\", want \"%s\"\n", in, buf, want);
	CHECK(strcmp(buf, want) == 0);
	CHECK_EQ(n, strlen(want));
}

/* RFC 5952 section 4 (and its examples), section 5 for IPv4-mapped addresses. */
static void test_format_examples(void)
{
	check_format("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"); /* 4.1, 4.2.1 */
	check_format("2001:DB8::1", "2001:db8::1");				/* 4.3 */
	check_format("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");		/* 4.2.3: first */
	check_format("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");			/* 4.2.3: longest */
	check_format("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* 4.2.2: one zero */
	check_format("2001:db8::0001", "2001:db8::1");
	check_format("::", "::");
	check_format("::1", "::1");
	check_format("1::", "1::");
	check_format("1:0:0:0:0:0:0:0", "1::");
	check_format("0:0:0:0:0:0:0:1", "::1");
	check_format("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0");
	check_format("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1");
	check_format("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_format("::ffff:1.2.3.4", "::ffff:1.2.3.4"); /* 5: IPv4-mapped */
	check_format("::ffff:0:0", "::ffff:0.0.0.0");
	/* Not IPv4-mapped: plain hex (glibc's inet_ntop writes "::2.0.0.0" and "::1.2.3.4"). */
	check_format("::200:0", "::200:0");
	check_format("::1.2.3.4", "::102:304");
	check_format("::fffe:1.2.3.4", "::fffe:102:304");
	check_format("1::ffff:1.2.3.4", "1::ffff:102:304");
	check_format("0.0.0.0", "0.0.0.0");
	check_format("255.255.255.255", "255.255.255.255");
	check_format("10.0.100.9", "10.0.100.9");
	char buf[IP_ADDR_STRLEN];
	struct ip_addr none = {0};
	CHECK_EQ(ip_addr_format(&none, buf), 1);
	CHECK(strcmp(buf, "-") == 0);
}

/* RFC 5952's rules checked on the text itself, field by field. */
static void check_rfc5952(const uint8_t v6[16], const char *text)
{
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)v6[2 * i] << 8 | v6[2 * i + 1];
	/* The run "::" must stand for: first longest run of two or more zero fields. */
	int best = -1, best_len = 1;
	for (int i = 0; i < 8; i++) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
	}
	bool mapped = best == 0 && best_len == 5 && w[5] == 0xffff;
	/* Build the expected field list independently of the formatter's loop. */
	char want[IP_ADDR_STRLEN * 2] = "";
	for (int i = 0; i < (mapped ? 6 : 8); i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				strcat(want, "::");
			continue;
		}
		size_t n = strlen(want);
		if (n > 0 && want[n - 1] != ':')
			strcat(want, ":");
		snprintf(want + strlen(want), 8, "%x", w[i]);
	}
	if (mapped)
		snprintf(want + strlen(want), 20, ":%u.%u.%u.%u", v6[12], v6[13], v6[14], v6[15]);
	if (strcmp(text, want) != 0)
		fprintf(stderr, "rfc5952: \"%s\", want \"%s\"\n", text, want);
	CHECK(strcmp(text, want) == 0);
	for (const char *c = text; *c; c++)
		CHECK(!isupper((unsigned char)*c));
	uint8_t back[16];
	CHECK(inet_pton(AF_INET6, text, back) == 1 && memcmp(back, v6, 16) == 0);
}

static void test_format_random(void)
{
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t v6[16];
		uint64_t r = rng_next(), zeros = rng_next();
		for (int i = 0; i < 8; i++) {
			/* Each field zero with probability 1/2, else random (sometimes small). */
			unsigned f = (unsigned)(r >> (8 * i)) & 0xff;
			if (zeros >> i & 1)
				f = 0;
			else if (zeros >> (8 + i) & 1)
				f = (unsigned)(rng_next() & 0xffff);
			v6[2 * i] = (uint8_t)(f >> 8);
			v6[2 * i + 1] = (uint8_t)f;
		}
		if ((zeros >> 20 & 15) == 0) { /* now and then IPv4-mapped */
			memset(v6, 0, 10);
			v6[10] = v6[11] = 0xff;
		}
		struct ip_addr a = ip_addr_v6(v6), back;
		char buf[IP_ADDR_STRLEN];
		size_t n = ip_addr_format(&a, buf);
		CHECK_EQ(n, strlen(buf));
		check_rfc5952(v6, buf);
		CHECK_EQ(ip_addr_parse(buf, n, &back), 0);
		CHECK(ip_addr_equal(&a, &back));
		if (test_failures > 20)
			return;
	}
	for (int iter = 0; iter < 100000; iter++) {
		struct ip_addr a = ip_addr_v4((uint32_t)rng_next()), back;
		char buf[IP_ADDR_STRLEN], ref[INET_ADDRSTRLEN];
		struct in_addr in = {.s_addr = htonl(a.v4)};
		size_t n = ip_addr_format(&a, buf);
		inet_ntop(AF_INET, &in, ref, sizeof(ref));
		CHECK(strcmp(buf, ref) == 0);
		CHECK_EQ(ip_addr_parse(buf, n, &back), 0);
		CHECK(ip_addr_equal(&a, &back));
		if (test_failures > 20)
			return;
	}
}

static int prefix_str(const char *s, unsigned flags, struct ip_prefix *p, const char **why)
{
	return ip_prefix_parse(s, strlen(s), flags, p, why);
}

static void check_prefix_ok(const char *s, unsigned flags, const char *want)
{
	struct ip_prefix p;
	const char *why = NULL;
	char buf[IP_PREFIX_STRLEN];
	int err = prefix_str(s, flags, &p, &why);
	if (err)
		fprintf(stderr, "prefix \"%s\" flags %u: %s\n", s, flags, why);
	CHECK_EQ(err, 0);
	if (err)
		return;
	ip_prefix_format(&p, buf);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "prefix \"%s\": \"%s\", want \"%s\"\n", s, buf, want);
	CHECK(strcmp(buf, want) == 0);
}

static void check_prefix_bad(const char *s, unsigned flags, const char *reason)
{
	struct ip_prefix p = ip_prefix_v4(77, 7);
	const char *why = NULL;
	CHECK_EQ(prefix_str(s, flags, &p, &why), -EINVAL);
	if (!why || strcmp(why, reason) != 0)
		fprintf(stderr, "prefix \"%s\" flags %u: \"%s\", want \"%s\"\n", s, flags,
			why ? why : "(none)", reason);
	CHECK(why && strcmp(why, reason) == 0);
	CHECK(p.addr.v4 == 77 && p.len == 7);		   /* untouched */
	CHECK_EQ(prefix_str(s, flags, &p, NULL), -EINVAL); /* why may be NULL */
}

static void test_prefix_parse(void)
{
	const char *bad = "not an address/length prefix", *host = "host bits set";
	const char *long4 = "prefix length above 32", *long6 = "prefix length above 128";
	check_prefix_ok("10.0.0.0/8", 0, "10.0.0.0/8");
	check_prefix_ok("0.0.0.0/0", 0, "0.0.0.0/0");
	check_prefix_ok("1.2.3.4/32", 0, "1.2.3.4/32");
	check_prefix_ok("2001:db8::/32", 0, "2001:db8::/32");
	check_prefix_ok("::/0", 0, "::/0");
	check_prefix_ok("::1/128", 0, "::1/128");
	check_prefix_ok("2001:DB8:0:0::/64", 0, "2001:db8::/64");
	/* Lengths: leading zeros, too long (also by far), not decimal, missing. */
	check_prefix_bad("10.0.0.0/08", 0, bad);
	check_prefix_bad("10.0.0.0/00", 0, bad);
	check_prefix_bad("10.0.0.0/33", 0, long4);
	check_prefix_bad("10.0.0.0/100", 0, long4);
	check_prefix_bad("10.0.0.0/1000", 0, long4);
	check_prefix_bad("10.0.0.0/99999999999999999999", 0, long4);
	check_prefix_bad("::/129", 0, long6);
	check_prefix_bad("::/1280", 0, long6);
	check_prefix_bad("10.0.0.0/", 0, bad);
	check_prefix_bad("10.0.0.0/a", 0, bad);
	check_prefix_bad("10.0.0.0/-1", 0, bad);
	check_prefix_bad("10.0.0.0/+8", 0, bad);
	check_prefix_bad("10.0.0.0/8/", 0, bad);
	check_prefix_bad("10.0.0.0/8 ", 0, bad);
	check_prefix_bad("/8", 0, bad);
	check_prefix_bad("", 0, bad);
	check_prefix_bad("10.0.0/8", 0, bad);
	check_prefix_bad("010.0.0.0/8", 0, bad);
	check_prefix_bad("10.0.0.0", 0, bad);
	check_prefix_bad("::", 0, bad);
	/* Host bits (RFC 4632 3.1), and the flag that keeps them. */
	check_prefix_bad("10.0.0.1/8", 0, host);
	check_prefix_bad("10.128.0.0/8", 0, host);
	check_prefix_bad("2001:db8::1/64", 0, host);
	check_prefix_bad("2001:db8:0:0:8000::/64", 0, host);
	check_prefix_bad("0.0.0.1/0", 0, host);
	check_prefix_ok("10.0.0.1/24", IP_PREFIX_KEEP_HOST_BITS, "10.0.0.1/24");
	check_prefix_ok("2001:db8::1/64", IP_PREFIX_KEEP_HOST_BITS, "2001:db8::1/64");
	check_prefix_bad("10.0.0.1/33", IP_PREFIX_KEEP_HOST_BITS, long4);
	/* Path form: '_' for '/', '/' still taken; without the flag '_' is garbage. */
	check_prefix_ok("10.0.0.0_8", IP_PREFIX_PATH_FORM, "10.0.0.0/8");
	check_prefix_ok("10.0.0.0/8", IP_PREFIX_PATH_FORM, "10.0.0.0/8");
	check_prefix_ok("2001:db8::_32", IP_PREFIX_PATH_FORM, "2001:db8::/32");
	check_prefix_bad("10.0.0.0_8", 0, bad);
	check_prefix_bad("10.0.0.0_33", IP_PREFIX_PATH_FORM, long4);
	check_prefix_bad("10.0.0.0_8_", IP_PREFIX_PATH_FORM, bad);
	check_prefix_bad("10.0.0.1_8", IP_PREFIX_PATH_FORM, host);
	/* A bare address as a host prefix. */
	check_prefix_ok("10.0.0.1", IP_PREFIX_ADDR_IS_HOST, "10.0.0.1/32");
	check_prefix_ok("::1", IP_PREFIX_ADDR_IS_HOST, "::1/128");
	check_prefix_ok("10.0.0.0/8", IP_PREFIX_ADDR_IS_HOST, "10.0.0.0/8");
	check_prefix_bad("10.0.0.256", IP_PREFIX_ADDR_IS_HOST, bad);
	/* All flags together. */
	unsigned all = IP_PREFIX_KEEP_HOST_BITS | IP_PREFIX_PATH_FORM | IP_PREFIX_ADDR_IS_HOST;
	check_prefix_ok("10.1.2.3_16", all, "10.1.2.3/16");
	check_prefix_ok("10.1.2.3", all, "10.1.2.3/32");
	check_prefix_bad("10.1.2.3_", all, bad);
	/* The length bounds the input. */
	struct ip_prefix p;
	CHECK_EQ(ip_prefix_parse("10.0.0.0/8x", 10, 0, &p, NULL), 0);
	CHECK_EQ(p.len, 8);
	CHECK_EQ(ip_prefix_parse("10.0.0.0/8\0", 11, 0, &p, NULL), -EINVAL);
}

/* Bit i (0 = most significant) of a, the reference the masking tests compare against. */
static unsigned bit_of(const struct ip_addr *a, unsigned i)
{
	if (a->family == AF_INET)
		return a->v4 >> (31 - i) & 1;
	return a->v6[i / 8] >> (7 - i % 8) & 1;
}

static struct ip_addr random_addr(void)
{
	if (rng_next() & 1)
		return ip_addr_v4((uint32_t)rng_next());
	uint8_t v6[16];
	for (int i = 0; i < 16; i++)
		v6[i] = (uint8_t)rng_next();
	return ip_addr_v6(v6);
}

static void test_masking_and_containment(void)
{
	for (int iter = 0; iter < 20000; iter++) {
		struct ip_addr a = random_addr();
		unsigned bits = ip_family_bits(a.family);
		unsigned len =
		    (unsigned)(rng_next() % (bits + 2)); /* bits + 1: beyond, unchanged */
		struct ip_addr m = ip_addr_masked(&a, len);
		CHECK_EQ(m.family, a.family);
		for (unsigned i = 0; i < bits; i++)
			CHECK_EQ(bit_of(&m, i), i < len ? bit_of(&a, i) : 0);
		if (len > bits)
			continue;
		struct ip_prefix p = {.addr = a, .len = (uint8_t)len};
		bool host = false;
		for (unsigned i = len; i < bits; i++)
			host |= bit_of(&a, i);
		CHECK_EQ(ip_prefix_has_host_bits(&p), host);
		/* b: a with one bit flipped; inside p exactly when the bit is past len. */
		unsigned flip = (unsigned)(rng_next() % bits);
		struct ip_addr b = a;
		if (b.family == AF_INET)
			b.v4 ^= 1u << (31 - flip);
		else
			b.v6[flip / 8] ^= (uint8_t)(1u << (7 - flip % 8));
		CHECK_EQ(ip_prefix_contains(&p, &b), flip >= len);
		CHECK(ip_prefix_contains(&p, &a));
		struct ip_prefix q = {.addr = b, .len = (uint8_t)len};
		CHECK_EQ(ip_prefix_equal(&p, &q), flip >= len);
	}
	/* Other family: never contained, never equal, even for /0. */
	struct ip_addr v4 = ip_addr_v4(0);
	uint8_t zero[16] = {0};
	struct ip_addr v6 = ip_addr_v6(zero);
	struct ip_prefix all4 = {.addr = v4, .len = 0}, all6 = {.addr = v6, .len = 0};
	CHECK(!ip_prefix_contains(&all4, &v6));
	CHECK(!ip_prefix_contains(&all6, &v4));
	CHECK(ip_prefix_contains(&all4, &v4));
	CHECK(!ip_prefix_equal(&all4, &all6));
	CHECK(ip_addr_is_unspecified(&v4) && ip_addr_is_unspecified(&v6));
	struct ip_addr one = ip_addr_v4(1);
	CHECK(!ip_addr_is_unspecified(&one));
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* The reference order: family (IPv4 first), then bit by bit from the top. */
static int ref_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	for (unsigned i = 0; i < ip_family_bits(a->family); i++)
		if (bit_of(a, i) != bit_of(b, i))
			return bit_of(a, i) ? 1 : -1;
	return 0;
}

static void test_ordering(void)
{
	for (int iter = 0; iter < 20000; iter++) {
		struct ip_addr a = random_addr(), b = random_addr();
		if (rng_next() % 4 == 0) { /* often nearly equal: share all but the low bits */
			b = a;
			if (b.family == AF_INET)
				b.v4 ^= (uint32_t)rng_next() & 3;
			else
				b.v6[15] ^= (uint8_t)rng_next() & 3;
		}
		int c = ip_addr_cmp(&a, &b);
		CHECK_EQ(sign(c), ref_cmp(&a, &b));
		CHECK_EQ(sign(ip_addr_cmp(&b, &a)), -sign(c));
		CHECK_EQ(c == 0, ip_addr_equal(&a, &b));
		struct ip_prefix pa = {.addr = a, .len = 8}, pb = {.addr = a, .len = 9};
		CHECK(ip_prefix_cmp(&pa, &pb) < 0 && ip_prefix_cmp(&pb, &pa) > 0);
		CHECK_EQ(ip_prefix_cmp(&pa, &pa), 0);
	}
	struct ip_addr none = {0}, none2 = {0};
	CHECK(ip_addr_equal(&none, &none2));
	CHECK_EQ(ip_addr_cmp(&none, &none2), 0);
	CHECK(strcmp(ip_family_name(AF_INET), "ipv4") == 0);
	CHECK(strcmp(ip_family_name(AF_INET6), "ipv6") == 0);
	CHECK(strcmp(ip_family_name(0), "none") == 0);
}

int main(void)
{
	rng_state = test_seed("test_ipaddr");
	test_parse_addr();
	test_format_examples();
	test_format_random();
	test_prefix_parse();
	test_masking_and_containment();
	test_ordering();
	return test_result("test_ipaddr");
}
