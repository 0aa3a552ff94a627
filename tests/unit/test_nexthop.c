/*
 * test_nexthop: the next-hop table. Every refusal of create, nexthop_add and nexthop_add_group;
 * deduplication by key for both families and every kind; groups identified by their member set
 * (order and duplicates do not matter, one member collapses to itself, at most 16); the
 * references a group holds on its members until its index is reclaimed, and members and groups
 * reused only after reclaim; nexthop_group_pick: stable per hash, inside the set, and even over
 * uniform random hashes for n = 2..16 (seeded, the seed printed).
 */
#include <errno.h>
#include <string.h>

#include "nexthop.h"
#include "test_util.h"

static struct nexthop_key gw4(uint32_t v4, iface_id_t iface)
{
	return (struct nexthop_key){.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v4(v4)};
}

/* 2001:db8::n */
static struct nexthop_key gw6(uint16_t n, iface_id_t iface)
{
	uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(n >> 8), [15] = (uint8_t)n};
	return (struct nexthop_key){.kind = NEXTHOP_GATEWAY, .iface = iface, .gw = ip_addr_v6(b)};
}

static struct nexthop_key kind_key(uint8_t kind, uint8_t family, iface_id_t iface)
{
	return (struct nexthop_key){.kind = kind, .family = family, .iface = iface};
}

static uint32_t add(struct nexthop_table *t, struct nexthop_key k)
{
	uint32_t i = UINT32_MAX;
	int err = nexthop_add(t, &k, &i);
	if (err < 0) {
		fprintf(stderr, "nexthop_add failed: %d\n", err);
		test_failures++;
	}
	return i;
}

static int add_err(struct nexthop_table *t, struct nexthop_key k)
{
	uint32_t i;
	return nexthop_add(t, &k, &i);
}

static void test_create(void)
{
	errno = 0;
	CHECK(nexthop_table_create(0, 0) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(nexthop_table_create(NEXTHOP_INDEX_MAX + 1, 0) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(nexthop_table_create(4, 5) == NULL && errno == EINVAL);
	struct nexthop_table *t = nexthop_table_create(4, 4);
	CHECK(t && t->capacity == 4 && t->group_capacity == 4 && nexthop_table_used(t) == 0);
	nexthop_table_free(t);
	t = nexthop_table_create(1, 0);
	CHECK(t != NULL);
	nexthop_table_free(t);
	nexthop_table_free(NULL);
}

static void test_keys(void)
{
	struct nexthop_table *t = nexthop_table_create(64, 0);
	const iface_id_t NO = IFACE_ID_NONE;

	/* Refusals. */
	CHECK_EQ(add_err(t, kind_key(0, 0, NO)), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_GROUP, 0, NO)), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(8, 0, NO)), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_GATEWAY, AF_INET, 1)), -EINVAL); /* no address */
	CHECK_EQ(add_err(t, gw4(0, 1)), -EINVAL);			      /* unspecified */
	CHECK_EQ(add_err(t, gw4(0x0a000001, NO)), -EINVAL);		      /* no interface */
	struct nexthop_key k = gw4(0x0a000001, 1);
	k.family = AF_INET6; /* family other than the gateway's */
	CHECK_EQ(add_err(t, k), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_CONNECTED, AF_INET, NO)), -EINVAL);
	/* A local next hop may name no interface (a local route): accepted. */
	uint32_t local_none = add(t, kind_key(NEXTHOP_LOCAL, AF_INET6, NO));
	CHECK(nexthop_get(t, local_none)->iface == IFACE_ID_NONE);
	CHECK_EQ(nexthop_put(t, local_none), 0);
	nexthop_table_reclaim(t); /* the retired index no longer counts as used */
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_BLACKHOLE, 0, 0)), -EINVAL); /* 0 is an interface */
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_UNREACHABLE, 0, 3)), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_PUNT, 0, 3)), -EINVAL);
	CHECK_EQ(add_err(t, kind_key(NEXTHOP_BLACKHOLE, 99, NO)), -EINVAL);
	k = kind_key(NEXTHOP_CONNECTED, AF_INET, 1);
	k.gw = ip_addr_v4(0x0a000001); /* a gateway on a kind without one */
	CHECK_EQ(add_err(t, k), -EINVAL);
	CHECK_EQ(nexthop_table_used(t), 0);

	/* Gateways of both families: one entry per key. */
	uint32_t a = add(t, gw4(0x0a000001, 1));
	CHECK_EQ(add(t, gw4(0x0a000001, 1)), a);
	k = gw4(0x0a000001, 1);
	k.family = AF_INET; /* the family spelt out is the same key */
	CHECK_EQ(add(t, k), a);
	CHECK_EQ(nexthop_refcount(t, a), 3);
	uint32_t b = add(t, gw4(0x0a000001, 2)); /* other interface */
	uint32_t c = add(t, gw4(0x0a000002, 1)); /* other gateway */
	uint32_t d = add(t, gw6(1, 1));
	CHECK_EQ(add(t, gw6(1, 1)), d);
	uint32_t e = add(t, gw6(2, 1));
	uint32_t f = add(t, gw6(1, 2));
	/* An IPv4 gateway whose bits equal the first word of an IPv6 one is another key. */
	struct nexthop_key k6 = gw6(0, 1);
	uint32_t g = add(t, gw4(0x20010db8, 1)), h = add(t, k6);
	uint32_t all[] = {a, b, c, d, e, f, g, h};
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = i + 1; j < 8; j++)
			CHECK(all[i] != all[j]);
	const struct nexthop *nh = nexthop_get(t, a);
	CHECK(nh->kind == NEXTHOP_GATEWAY && nh->family == AF_INET && nh->iface == 1);
	CHECK_EQ(nh->gw.v4, 0x0a000001);
	nh = nexthop_get(t, f);
	CHECK(nh->kind == NEXTHOP_GATEWAY && nh->family == AF_INET6 && nh->iface == 2);
	CHECK(memcmp(nh->gw.v6, gw6(1, 0).gw.v6, 16) == 0);

	/* The other kinds: by (kind, family, interface). */
	uint32_t c4 = add(t, kind_key(NEXTHOP_CONNECTED, AF_INET, 1));
	CHECK_EQ(add(t, kind_key(NEXTHOP_CONNECTED, AF_INET, 1)), c4);
	uint32_t c6 = add(t, kind_key(NEXTHOP_CONNECTED, AF_INET6, 1));
	uint32_t c4b = add(t, kind_key(NEXTHOP_CONNECTED, AF_INET, 2));
	uint32_t l4 = add(t, kind_key(NEXTHOP_LOCAL, AF_INET, 1));
	uint32_t bh = add(t, kind_key(NEXTHOP_BLACKHOLE, 0, NO));
	CHECK_EQ(add(t, kind_key(NEXTHOP_BLACKHOLE, 0, NO)), bh);
	uint32_t bh6 = add(t, kind_key(NEXTHOP_BLACKHOLE, AF_INET6, NO));
	uint32_t un = add(t, kind_key(NEXTHOP_UNREACHABLE, 0, NO));
	uint32_t pu = add(t, kind_key(NEXTHOP_PUNT, AF_INET, NO));
	uint32_t kinds[] = {c4, c6, c4b, l4, bh, bh6, un, pu, a};
	for (unsigned i = 0; i < 9; i++)
		for (unsigned j = i + 1; j < 9; j++)
			CHECK(kinds[i] != kinds[j]);
	nh = nexthop_get(t, l4);
	CHECK(nh->kind == NEXTHOP_LOCAL && nh->family == AF_INET && nh->iface == 1);
	nh = nexthop_get(t, bh6);
	CHECK(nh->kind == NEXTHOP_BLACKHOLE && nh->family == AF_INET6 && nh->iface == NO);
	CHECK_EQ(nexthop_get(t, un)->kind, NEXTHOP_UNREACHABLE);
	CHECK_EQ(nexthop_get(t, pu)->kind, NEXTHOP_PUNT);
	CHECK_EQ(nexthop_table_used(t), 16);

	/* A key whose entry is retired is a new entry, not the retired one revived. */
	CHECK_EQ(nexthop_put(t, c), 0);
	CHECK_EQ(nexthop_refcount(t, c), 0);
	CHECK_EQ(nexthop_hold(t, c), -ENOENT);
	CHECK_EQ(nexthop_put(t, c), -ENOENT);
	uint32_t c2 = add(t, gw4(0x0a000002, 1));
	CHECK(c2 != c);
	CHECK_EQ(nexthop_table_used(t), 17); /* c counts until reclaim */
	nexthop_table_reclaim(t);
	CHECK_EQ(nexthop_table_used(t), 16);
	CHECK_EQ(nexthop_get(t, c)->kind, 0);
	CHECK_EQ(nexthop_refcount(t, 1000), 0);
	CHECK_EQ(nexthop_hold(t, 64), -ENOENT);
	nexthop_table_free(t);

	const char *names[] = {"?",	      "gateway", "connected", "local", "blackhole",
			       "unreachable", "punt",	 "group",     "?"};
	for (unsigned i = 0; i < 9; i++)
		CHECK(strcmp(nexthop_kind_name((uint8_t)i), names[i]) == 0);
	CHECK(strcmp(nexthop_kind_name(255), "?") == 0);
}

static int add_group(struct nexthop_table *t, const uint32_t *m, unsigned n, uint32_t *index)
{
	*index = UINT32_MAX;
	return nexthop_add_group(t, m, n, index);
}

static void test_groups(void)
{
	struct nexthop_table *t = nexthop_table_create(40, 3);
	uint32_t m[NEXTHOP_GROUP_MAX + 1], g, g2, x;
	for (unsigned i = 0; i < NEXTHOP_GROUP_MAX; i++)
		m[i] = add(t, i % 2 ? gw6((uint16_t)(i + 1), 1) : gw4(0x0a000001 + i, 1));
	m[NEXTHOP_GROUP_MAX] = m[0];
	uint32_t conn = add(t, kind_key(NEXTHOP_CONNECTED, AF_INET, 2));
	uint32_t loc = add(t, kind_key(NEXTHOP_LOCAL, AF_INET, 2));
	uint32_t bh = add(t, kind_key(NEXTHOP_BLACKHOLE, 0, IFACE_ID_NONE));

	/* Refusals. */
	CHECK_EQ(add_group(t, m, 0, &g), -EINVAL);
	CHECK_EQ(add_group(t, m, NEXTHOP_GROUP_MAX + 1, &g), -EINVAL);
	uint32_t bad[] = {m[0], 39}; /* 39: never allocated */
	CHECK_EQ(add_group(t, bad, 2, &g), -EINVAL);
	bad[1] = loc;
	CHECK_EQ(add_group(t, bad, 2, &g), -EINVAL);
	bad[1] = bh;
	CHECK_EQ(add_group(t, bad, 2, &g), -EINVAL);
	CHECK_EQ(nexthop_refcount(t, m[0]), 1); /* refusals take nothing */

	/* The set identifies the group: order and duplicates do not matter. */
	uint32_t s1[] = {m[0], m[2], conn}, s2[] = {conn, m[0], m[2], m[0], conn};
	CHECK_EQ(add_group(t, s1, 3, &g), 0);
	CHECK_EQ(add_group(t, s2, 5, &g2), 0);
	CHECK_EQ(g, g2);
	const struct nexthop *nh = nexthop_get(t, g);
	CHECK(nh->kind == NEXTHOP_GROUP && nh->n_members == 3 && nh->iface == IFACE_ID_NONE);
	CHECK_EQ(nh->family, AF_INET); /* both gateways and the connected one are IPv4 */
	const uint32_t *row = t->members[nh->group];
	CHECK(row[0] < row[1] && row[1] < row[2]); /* kept sorted */
	CHECK_EQ(nexthop_refcount(t, g), 2);
	CHECK_EQ(nexthop_refcount(t, m[0]), 2); /* the caller's and the group's */
	CHECK_EQ(nexthop_refcount(t, conn), 2);
	uint32_t s3[] = {m[0], m[2]}; /* a subset is another group */
	CHECK_EQ(add_group(t, s3, 2, &g2), 0);
	CHECK(g2 != g);
	CHECK_EQ(nexthop_refcount(t, m[0]), 3);
	/* Mixed families (an IPv4 route via an IPv6 gateway may share a group with IPv4 ones). */
	uint32_t mixed[] = {m[0], m[1]};
	CHECK_EQ(add_group(t, mixed, 2, &x), 0);
	CHECK_EQ(nexthop_get(t, x)->family, 0);
	CHECK_EQ(nexthop_put(t, x), 0);

	/* One member after removing duplicates: that member, one more reference. */
	uint32_t one[] = {m[3], m[3], m[3]};
	CHECK_EQ(add_group(t, one, 3, &x), 0);
	CHECK_EQ(x, m[3]);
	CHECK_EQ(nexthop_refcount(t, m[3]), 2);
	CHECK_EQ(add_group(t, &m[4], 1, &x), 0);
	CHECK_EQ(x, m[4]);
	CHECK_EQ(nexthop_put(t, m[3]), 0);
	CHECK_EQ(nexthop_put(t, m[4]), 0);

	/* A group is not a member. */
	uint32_t nested[] = {g, m[5]};
	CHECK_EQ(add_group(t, nested, 2, &x), -EINVAL);

	/* 16 members; 16 with a duplicate among 17 is still too many arguments. */
	uint32_t g16;
	CHECK_EQ(add_group(t, m, NEXTHOP_GROUP_MAX, &g16), -ENOSPC); /* 3 groups: x retired */
	nexthop_table_reclaim(t);
	CHECK_EQ(add_group(t, m, NEXTHOP_GROUP_MAX, &g16), 0);
	CHECK_EQ(nexthop_get(t, g16)->n_members, NEXTHOP_GROUP_MAX);
	CHECK_EQ(nexthop_get(t, g16)->family, 0);
	for (unsigned i = 0; i < NEXTHOP_GROUP_MAX; i++)
		CHECK_EQ(t->members[nexthop_get(t, g16)->group][i], m[i]); /* allocated in order */

	/* Group capacity 3 (g, g2, g16): the fourth is refused, nothing taken. */
	uint32_t s4[] = {m[5], m[6]};
	CHECK_EQ(add_group(t, s4, 2, &x), -ENOSPC);
	CHECK_EQ(nexthop_refcount(t, m[5]), 2); /* the caller's and g16's */

	/* Dropping a group: its members keep its references until the index is reclaimed. */
	CHECK_EQ(nexthop_put(t, g), 0);
	CHECK_EQ(nexthop_put(t, g), 0);
	CHECK_EQ(nexthop_refcount(t, g), 0);
	CHECK_EQ(nexthop_hold(t, g), -ENOENT);
	CHECK_EQ(nexthop_refcount(t, conn), 2);
	CHECK_EQ(nexthop_refcount(t, m[2]), 4);	    /* caller, g, g2, g16 */
	CHECK_EQ(add_group(t, s4, 2, &x), -ENOSPC); /* g's slot is not free yet */
	nh = nexthop_get(t, g); /* a reader with the stale index still sees the whole group */
	CHECK(nh->kind == NEXTHOP_GROUP && nh->n_members == 3);
	for (unsigned i = 0; i < 3; i++)
		CHECK(nexthop_refcount(t, t->members[nh->group][i]) > 0);
	uint32_t used = nexthop_table_used(t);
	nexthop_table_reclaim(t);
	CHECK_EQ(nexthop_table_used(t), used - 1);
	CHECK_EQ(nexthop_refcount(t, conn), 1);
	CHECK_EQ(nexthop_refcount(t, m[2]), 3);
	CHECK_EQ(nexthop_refcount(t, m[0]), 3); /* caller, g2, g16 */
	CHECK_EQ(add_group(t, s4, 2, &x), 0);	/* the slot is free again */
	CHECK_EQ(x, g);				/* and g's index, reused before never-used ones */
	CHECK_EQ(nexthop_put(t, x), 0);
	nexthop_table_reclaim(t);
	nexthop_table_free(t);
}

/* A member whose last reference is its group's: retired at the group's reclaim, reusable only
 * at the next one (a reader may have taken its index from a route in the meantime). */
static void test_member_reclaim(void)
{
	struct nexthop_table *t = nexthop_table_create(4, 1);
	uint32_t a = add(t, gw4(0x0a000001, 1)), b = add(t, gw6(1, 1)), g, x, y;
	uint32_t s[] = {a, b};
	CHECK_EQ(add_group(t, s, 2, &g), 0);
	CHECK_EQ(nexthop_put(t, a), 0); /* the caller lets go: only the group holds a */
	CHECK_EQ(nexthop_refcount(t, a), 1);
	CHECK_EQ(nexthop_put(t, g), 0);
	CHECK_EQ(nexthop_refcount(t, a), 1); /* still held by the retired group */
	CHECK_EQ(nexthop_get(t, a)->kind, NEXTHOP_GATEWAY);
	nexthop_table_reclaim(t); /* g goes, a is retired */
	CHECK_EQ(nexthop_refcount(t, a), 0);
	CHECK_EQ(nexthop_refcount(t, b), 1);
	CHECK_EQ(nexthop_get(t, a)->kind, NEXTHOP_GATEWAY); /* content kept for stale readers */
	CHECK_EQ(nexthop_table_used(t), 2);		    /* a and b */
	x = add(t, gw4(0x0a000009, 1));			    /* takes g's index */
	CHECK_EQ(x, g);
	y = add(t, gw4(0x0a00000a, 1)); /* the last never-used index */
	CHECK(y != a && y != b && y != g);
	CHECK_EQ(add_err(t, gw4(0x0a00000b, 1)), -ENOSPC); /* a is not reusable yet */
	nexthop_table_reclaim(t);
	CHECK_EQ(add(t, gw4(0x0a00000b, 1)), a);
	nexthop_table_free(t);
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_pick(uint64_t seed)
{
	struct nexthop_table *t = nexthop_table_create(64, 16);
	uint32_t m[NEXTHOP_GROUP_MAX];
	for (unsigned i = 0; i < NEXTHOP_GROUP_MAX; i++)
		m[i] = add(t, gw4(0x0a000001 + i, (iface_id_t)i));
	const unsigned N = 400000;
	uint64_t st = seed;
	for (unsigned n = 2; n <= NEXTHOP_GROUP_MAX; n++) {
		uint32_t g, count[NEXTHOP_GROUP_MAX] = {0};
		CHECK_EQ(add_group(t, m, n, &g), 0);
		const struct nexthop *nh = nexthop_get(t, g);
		/* The ends of the hash range go to the first and the last member. */
		CHECK_EQ(nexthop_group_pick(t, nh, 0), m[0]);
		CHECK_EQ(nexthop_group_pick(t, nh, UINT32_MAX), m[n - 1]);
		for (unsigned i = 0; i < N; i++) {
			uint32_t h = (uint32_t)(xorshift64(&st) >> 32);
			uint32_t p = nexthop_group_pick(t, nh, h);
			if (p != nexthop_group_pick(t, nh, h)) /* same hash, same member */
				test_failures++;
			if (p < m[0] || p > m[n - 1]) { /* m[] are consecutive indices */
				test_failures++;
				continue;
			}
			count[p - m[0]]++;
		}
		/* Even within 3 %: N / n >= 25000 per member, one standard deviation < 1 %. */
		for (unsigned k = 0; k < n; k++) {
			double want = (double)N / n, dev = (count[k] - want) / want;
			if (dev > 0.03 || dev < -0.03) {
				fprintf(stderr, "n=%u member %u: %u picks, %.1f %% off even\n", n,
					k, count[k], dev * 100);
				test_failures++;
			}
		}
	}
	nexthop_table_free(t);
}

int main(void)
{
	uint64_t seed = test_seed("test_nexthop");
	test_create();
	test_keys();
	test_groups();
	test_member_reclaim();
	test_pick(seed);
	return test_result("test_nexthop");
}
