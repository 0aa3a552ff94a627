/*
 * test_rib: the routing information base (control/rib.c), white-box (rib.h is private to
 * control/): selection by precedence then owner with the before/after next hops it reports, both
 * families and equal bits of different lengths as different prefixes, mark/sweep replacement
 * (the callback exactly for prefixes whose selection changed), counts, walk, next-hop references
 * dropped exactly once, the -ENOMEM paths (allocation failures injected), and a randomized run
 * against a brute-force model of every (prefix, owner) candidate.
 *
 * usage: test_rib [OPS]   (TEST_SEED=N replays a run)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nexthop.h"
#include "rib.h"
#include "test_util.h"

/* rib.c built with RIB_FAULT_INJECTION */
extern long rib_fault_countdown;
extern uint32_t rib_hash_mask;

#define N_NH 64

/* A table with n distinct next hops (IPv4 gateways on interface 0), indices in idx[], each
 * holding one base reference of the test's. */
static struct nexthop_table *make_nexthops(uint32_t n, uint32_t *idx)
{
	struct nexthop_table *t = nexthop_table_create(n + 1, 0);
	for (uint32_t i = 0; t && i < n; i++) {
		struct nexthop_key key = {.kind = NEXTHOP_GATEWAY,
					  .family = AF_INET,
					  .iface = 0,
					  .gw = ip_addr_v4(0x0a000001 + i)};
		if (nexthop_add(t, &key, &idx[i]) != 0)
			return NULL;
	}
	return t;
}

static struct nexthop_table *nht;
static uint32_t nh[N_NH];

/* A reference for the RIB to take over. */
static uint32_t ref(unsigned i)
{
	CHECK_EQ(nexthop_hold(nht, nh[i]), 0);
	return nh[i];
}

static uint32_t refs(unsigned i)
{
	return nexthop_refcount(nht, nh[i]) - 1; /* minus the base reference */
}

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;
	if (ip_prefix_parse(s, strlen(s), 0, &p, NULL) != 0)
		abort();
	return p;
}

static int set(struct rib *rib, const char *p, uint8_t owner, uint8_t prec, unsigned nhi,
	       uint32_t *before, uint32_t *after)
{
	struct ip_prefix pp = pfx(p);
	return rib_set(rib, &pp, owner, prec, ref(nhi), before, after);
}

static int del(struct rib *rib, const char *p, uint8_t owner, uint32_t *before, uint32_t *after)
{
	struct ip_prefix pp = pfx(p);
	return rib_delete(rib, &pp, owner, before, after);
}

static uint32_t selected(struct rib *rib, const char *p, uint8_t *owner)
{
	struct ip_prefix pp = pfx(p);
	uint32_t n = RIB_NH_NONE;
	if (rib_selected(rib, &pp, &n, owner) != 0)
		return RIB_NH_NONE;
	return n;
}

static void test_selection(void)
{
	struct rib *rib = rib_create(nht);
	uint32_t b, a;
	uint8_t o;
	CHECK(rib != NULL);

	CHECK_EQ(set(rib, "10.0.0.0/8", 2, 10, 0, &b, &a), 0);
	CHECK_EQ(b, RIB_NH_NONE);
	CHECK_EQ(a, nh[0]);
	CHECK_EQ(set(rib, "10.0.0.0/8", 1, 20, 1, &b, &a), 0); /* worse: no change */
	CHECK_EQ(b, nh[0]);
	CHECK_EQ(a, nh[0]);
	CHECK_EQ(set(rib, "10.0.0.0/8", 3, 5, 2, &b, &a), 0); /* better */
	CHECK_EQ(b, nh[0]);
	CHECK_EQ(a, nh[2]);
	CHECK_EQ(set(rib, "10.0.0.0/8", 4, 5, 3, &b, &a), 0); /* tie, higher owner: loses */
	CHECK_EQ(a, nh[2]);
	CHECK_EQ(set(rib, "10.0.0.0/8", 0, 5, 4, &b, &a), 0); /* tie, lower owner: wins */
	CHECK_EQ(b, nh[2]);
	CHECK_EQ(a, nh[4]);
	CHECK_EQ(selected(rib, "10.0.0.0/8", &o), nh[4]);
	CHECK_EQ(o, 0);
	CHECK_EQ(rib_count(rib, 0), 1);
	CHECK_EQ(rib_count_owner(rib, 3, AF_INET), 1);

	struct rib_candidate c[RIB_OWNERS], one;
	struct ip_prefix p = pfx("10.0.0.0/8");
	CHECK_EQ(rib_get_all(rib, &p, c, &o), 0);
	CHECK_EQ(o, 0);
	CHECK(c[0].nh == nh[4] && c[0].precedence == 5 && c[1].nh == nh[1] &&
	      c[1].precedence == 20 && c[2].nh == nh[0] && c[3].nh == nh[2] && c[4].nh == nh[3]);
	CHECK_EQ(rib_get(rib, &p, 1, &one), 0);
	CHECK(one.nh == nh[1] && one.precedence == 20);

	/* Replacing owner 0's route drops the old reference once, keeps the new. */
	CHECK_EQ(refs(4), 1);
	CHECK_EQ(set(rib, "10.0.0.0/8", 0, 50, 5, &b, &a), 0); /* now worst: owner 3 wins again */
	CHECK_EQ(b, nh[4]);
	CHECK_EQ(a, nh[2]);
	CHECK_EQ(refs(4), 0);
	CHECK_EQ(refs(5), 1);
	CHECK_EQ(set(rib, "10.0.0.0/8", 0, 50, 5, &b, &a), 0); /* the same again: same refs */
	CHECK_EQ(refs(5), 1);
	CHECK_EQ(b, a);
	CHECK_EQ(rib_count_owner(rib, 0, 0), 1);

	/* Deletes walk the selection back down, the last one removes the prefix. */
	CHECK_EQ(del(rib, "10.0.0.0/8", 3, &b, &a), 0);
	CHECK_EQ(b, nh[2]);
	CHECK_EQ(a, nh[3]); /* owner 4, precedence 5 */
	CHECK_EQ(refs(2), 0);
	CHECK_EQ(del(rib, "10.0.0.0/8", 3, &b, &a), -ENOENT);
	CHECK_EQ(del(rib, "10.0.0.0/8", 1, &b, &a), 0);
	CHECK_EQ(b, a);
	CHECK_EQ(del(rib, "10.0.0.0/8", 4, &b, &a), 0);
	CHECK_EQ(a, nh[0]);
	CHECK_EQ(del(rib, "10.0.0.0/8", 2, &b, &a), 0);
	CHECK_EQ(a, nh[5]);
	CHECK_EQ(del(rib, "10.0.0.0/8", 0, NULL, &a), 0);
	CHECK_EQ(a, RIB_NH_NONE);
	CHECK_EQ(rib_count(rib, 0), 0);
	CHECK_EQ(rib_get_all(rib, &p, c, &o), -ENOENT);
	CHECK_EQ(rib_selected(rib, &p, &a, NULL), -ENOENT);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(refs(i), 0);

	/* Malformed arguments change nothing and keep the caller's reference. */
	struct ip_prefix bad = ip_prefix_v4(0x0a000001, 24), fam = {.len = 0};
	uint32_t r = ref(0);
	CHECK_EQ(rib_set(rib, &bad, 0, 0, r, NULL, NULL), -EINVAL);
	bad.len = 33;
	CHECK_EQ(rib_set(rib, &bad, 0, 0, r, NULL, NULL), -EINVAL);
	CHECK_EQ(rib_set(rib, &fam, 0, 0, r, NULL, NULL), -EINVAL);
	CHECK_EQ(rib_set(rib, &p, RIB_OWNERS, 0, r, NULL, NULL), -EINVAL);
	CHECK_EQ(rib_set(rib, &p, 0, 0, RIB_NH_NONE, NULL, NULL), -EINVAL);
	struct ip_prefix bad6 = pfx("2001:db8::/32");
	bad6.addr.v6[5] = 1;
	CHECK_EQ(rib_set(rib, &bad6, 0, 0, r, NULL, NULL), -EINVAL);
	CHECK_EQ(rib_delete(rib, &bad6, 0, NULL, NULL), -EINVAL);
	CHECK_EQ(rib_count(rib, 0), 0);
	CHECK_EQ(refs(0), 1);
	nexthop_put(nht, r);
	rib_free(rib);
}

static void test_keys(void)
{
	static const char *const pfx[] = {
	    "0.0.0.0/0",	   "10.0.0.0/8",    "10.0.0.0/16",   "10.0.0.0/32",
	    "10.0.0.0/7",	   "::/0",	    "a00::/8",	     "::a00:0/104",
	    "::ffff:10.0.0.0/104", "2001:db8::/32", "2001:db8::/48", "2001:db8::/128",
	};
	size_t n = sizeof(pfx) / sizeof(pfx[0]), n4 = 5;
	struct rib *rib = rib_create(nht);
	CHECK(rib != NULL);
	for (size_t i = 0; i < n; i++) {
		uint32_t b;
		CHECK_EQ(set(rib, pfx[i], 1, 0, (unsigned)i, &b, NULL), 0);
		CHECK_EQ(b, RIB_NH_NONE); /* new every time: no two are the same prefix */
	}
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(selected(rib, pfx[i], NULL), nh[i]);
	CHECK_EQ(rib_count(rib, 0), n);
	CHECK_EQ(rib_count(rib, AF_INET), n4);
	CHECK_EQ(rib_count(rib, AF_INET6), n - n4);
	CHECK_EQ(rib_count_owner(rib, 1, AF_INET6), n - n4);
	CHECK_EQ(rib_count_owner(rib, 0, 0), 0);
	CHECK_EQ(del(rib, "10.0.0.0/16", 1, NULL, NULL), 0);
	CHECK_EQ(selected(rib, "10.0.0.0/16", NULL), RIB_NH_NONE);
	CHECK_EQ(selected(rib, "10.0.0.0/8", NULL), nh[1]);
	CHECK_EQ(selected(rib, "10.0.0.0/32", NULL), nh[3]);
	CHECK_EQ(del(rib, "a00::/8", 1, NULL, NULL), 0);
	CHECK_EQ(selected(rib, "10.0.0.0/8", NULL), nh[1]);
	CHECK_EQ(rib_count(rib, AF_INET), n4 - 1);
	CHECK_EQ(rib_count(rib, AF_INET6), n - n4 - 1);
	rib_free(rib);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(refs((unsigned)i), 0); /* rib_free dropped each exactly once */
}

struct changes {
	struct ip_prefix p[16];
	uint32_t after[16];
	unsigned n;
};

static void record_change(void *arg, const struct ip_prefix *p, uint32_t after)
{
	struct changes *c = arg;
	if (c->n < 16) {
		c->p[c->n] = *p;
		c->after[c->n] = after;
	}
	c->n++;
}

/* The change recorded for prefix s: its sel_after, or RIB_NH_NONE - 1 if none. */
static uint32_t change_for(const struct changes *c, const char *s)
{
	struct ip_prefix p = pfx(s);
	for (unsigned i = 0; i < c->n && i < 16; i++)
		if (ip_prefix_equal(&c->p[i], &p))
			return c->after[i];
	return RIB_NH_NONE - 1;
}

static void test_mark_sweep(void)
{
	struct rib *rib = rib_create(nht);
	struct changes ch = {.n = 0};
	CHECK(rib != NULL);
	/* Owner 2's old set: A B C D E; owner 0 better on B; owner 3 worse on D. */
	CHECK_EQ(set(rib, "192.0.2.0/24", 2, 10, 1, NULL, NULL), 0);	/* A: kept, same */
	CHECK_EQ(set(rib, "198.51.100.0/24", 2, 10, 2, NULL, NULL), 0); /* B: removed, hidden */
	CHECK_EQ(set(rib, "198.51.100.0/24", 0, 1, 3, NULL, NULL), 0);
	CHECK_EQ(set(rib, "203.0.113.0/24", 2, 10, 4, NULL, NULL), 0); /* C: removed */
	CHECK_EQ(set(rib, "2001:db8::/32", 2, 10, 5, NULL, NULL), 0);  /* D: removed, falls back */
	CHECK_EQ(set(rib, "2001:db8::/32", 3, 20, 6, NULL, NULL), 0);
	CHECK_EQ(set(rib, "2001:db8:1::/48", 2, 10, 7, NULL, NULL), 0); /* E: replaced */
	CHECK_EQ(set(rib, "10.9.0.0/16", 1, 10, 8, NULL, NULL), 0);	/* another owner's */
	CHECK_EQ(rib_count_owner(rib, 2, 0), 5);

	rib_mark_owner(rib, 2);
	uint32_t b, a;
	CHECK_EQ(set(rib, "192.0.2.0/24", 2, 10, 1, &b, &a), 0);
	CHECK_EQ(b, a);
	CHECK_EQ(set(rib, "2001:db8:1::/48", 2, 10, 9, &b, &a), 0);
	CHECK_EQ(a, nh[9]);
	CHECK_EQ(set(rib, "100.64.0.0/10", 2, 10, 10, &b, &a), 0); /* new */
	CHECK_EQ(refs(1), 1);
	CHECK_EQ(refs(7), 0);
	CHECK_EQ(rib_sweep_owner(rib, 2, record_change, &ch), 3); /* B, C, D */
	CHECK_EQ(ch.n, 2);					  /* C, D: B stays owner 0's */
	CHECK_EQ(change_for(&ch, "203.0.113.0/24"), RIB_NH_NONE);
	CHECK_EQ(change_for(&ch, "2001:db8::/32"), nh[6]);
	CHECK_EQ(rib_count_owner(rib, 2, 0), 3);
	CHECK_EQ(rib_count_owner(rib, 2, AF_INET6), 1);
	CHECK_EQ(rib_count(rib, 0), 6);
	CHECK_EQ(selected(rib, "203.0.113.0/24", NULL), RIB_NH_NONE);
	CHECK_EQ(selected(rib, "198.51.100.0/24", NULL), nh[3]);
	for (unsigned i = 2; i <= 5; i++)
		CHECK_EQ(refs(i), i == 3);
	/* A second sweep without a mark removes nothing. */
	ch.n = 0;
	CHECK_EQ(rib_sweep_owner(rib, 2, record_change, &ch), 0);
	CHECK_EQ(ch.n, 0);
	/* Mark then sweep with nothing re-set flushes the owner. */
	rib_mark_owner(rib, 2);
	CHECK_EQ(rib_sweep_owner(rib, 2, NULL, NULL), 3);
	CHECK_EQ(rib_count_owner(rib, 2, 0), 0);
	CHECK_EQ(rib_count(rib, 0), 3);
	rib_free(rib);
	for (unsigned i = 0; i <= 10; i++)
		CHECK_EQ(refs(i), 0);
}

struct walk_acc {
	size_t n, v4, v6, stop_at;
	uint32_t nh_sum;
};

static int walk_fn(void *arg, const struct ip_prefix *p, const struct rib_candidate c[RIB_OWNERS],
		   uint8_t sel)
{
	struct walk_acc *w = arg;
	w->n++;
	w->v4 += p->addr.family == AF_INET;
	w->v6 += p->addr.family == AF_INET6;
	w->nh_sum += c[sel].nh;
	return w->n == w->stop_at ? 42 : 0;
}

static void test_walk(void)
{
	struct rib *rib = rib_create(nht);
	uint32_t sum4 = 0, sum6 = 0;
	CHECK(rib != NULL);
	for (unsigned i = 0; i < 40; i++) {
		char s[64];
		if (i % 4 == 3) {
			snprintf(s, sizeof(s), "2001:db8:%x::/48", i);
			sum6 += nh[i % N_NH];
		} else {
			snprintf(s, sizeof(s), "10.%u.0.0/16", i);
			sum4 += nh[i % N_NH];
		}
		CHECK_EQ(set(rib, s, (uint8_t)(i % RIB_OWNERS), 1, i % N_NH, NULL, NULL), 0);
	}
	struct walk_acc w = {0};
	CHECK_EQ(rib_walk(rib, 0, walk_fn, &w), 0);
	CHECK(w.n == 40 && w.v4 == 30 && w.v6 == 10 && w.nh_sum == sum4 + sum6);
	w = (struct walk_acc){0};
	CHECK_EQ(rib_walk(rib, AF_INET6, walk_fn, &w), 0);
	CHECK(w.n == 10 && w.v6 == 10 && w.nh_sum == sum6);
	w = (struct walk_acc){.stop_at = 7};
	CHECK_EQ(rib_walk(rib, AF_INET, walk_fn, &w), 42);
	CHECK(w.n == 7 && w.v4 == 7);
	rib_free(rib);
}

/* Every allocation rib.c makes fails once in turn: the operation reports -ENOMEM, nothing changes,
 * the caller keeps its reference, and the next try succeeds. */
static void test_enomem(void)
{
	rib_fault_countdown = 0;
	errno = 0;
	CHECK(rib_create(nht) == NULL && errno == ENOMEM);
	rib_fault_countdown = -1;

	struct rib *rib = rib_create(nht);
	CHECK(rib != NULL);
	size_t done = 0, failures = 0;
	for (uint32_t i = 0; rib && i < 20000; i++) {
		struct ip_prefix p = ip_prefix_v4(i << 8, 24);
		uint32_t r = ref(i % N_NH);
		int err;
		/* Fail the first, then the second, ... allocation this set makes, until it makes
		 * none that fails. */
		for (long k = 0;; k++) {
			rib_fault_countdown = k;
			err = rib_set(rib, &p, 0, 0, r, NULL, NULL);
			bool injected = rib_fault_countdown < 0;
			rib_fault_countdown = -1;
			if (err != -ENOMEM || !injected)
				break;
			failures++;
			struct rib_candidate c;
			CHECK_EQ(rib_count(rib, 0), done);
			CHECK_EQ(rib_get(rib, &p, 0, &c), -ENOENT);
			CHECK_EQ(refs(i % N_NH), done / N_NH + (i % N_NH < done % N_NH) + 1);
		}
		CHECK_EQ(err, 0);
		done++;
	}
	/* Each allocation fails once: 11 doublings of the hash (16 -> 32768 slots for 20000 at
	 * 3/4), 5 chunks of 4096 nodes, the chunk pointer array once. */
	CHECK_EQ(failures, 11 + 5 + 1);
	CHECK_EQ(rib_count(rib, AF_INET), done);
	printf("test_enomem: %zu injected allocation failures\n", failures);
	rib_free(rib);
	for (unsigned i = 0; i < N_NH; i++)
		CHECK_EQ(refs(i), 0);
}

/* ---- randomized, against a brute-force model ---- */

struct model_cand {
	uint32_t nh; /* RIB_NH_NONE: none */
	uint8_t prec;
};

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static int prefix_qcmp(const void *a, const void *b)
{
	return ip_prefix_cmp(a, b);
}

/* n distinct canonical prefixes, both families, many sharing bits at different lengths. */
static size_t make_prefixes(struct ip_prefix *p, size_t n)
{
	size_t k = 0;
	while (k < n) {
		struct ip_addr a;
		if (rnd() % 4 == 0) {
			uint8_t b[16];
			for (unsigned i = 0; i < 16; i++)
				b[i] = (uint8_t)rnd();
			b[0] = rnd() % 2 ? 0x20 : b[0]; /* some cluster */
			a = ip_addr_v6(b);
		} else {
			a = ip_addr_v4((uint32_t)rnd());
		}
		/* A prefix, then relatives that a sloppy key comparison would confuse with it: the
		 * same bits longer, and the same length with one bit past the first half flipped.
		 */
		unsigned bits = ip_family_bits(a.family), len = (unsigned)(rnd() % (bits + 1));
		a = ip_addr_masked(&a, len);
		p[k++] = (struct ip_prefix){.addr = a, .len = (uint8_t)len};
		for (unsigned j = rnd() % 3; j > 0 && k < n; j--) {
			unsigned len2 = len + (unsigned)(rnd() % (bits - len + 1));
			struct ip_addr a2 = a;
			if (rnd() % 2 && len2 > 0) {
				unsigned bit = len2 / 2 + (unsigned)(rnd() % (len2 - len2 / 2));
				if (a2.family == AF_INET)
					a2.v4 ^= 0x80000000u >> bit;
				else
					a2.v6[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			}
			p[k++] = (struct ip_prefix){.addr = a2, .len = (uint8_t)len2};
		}
	}
	qsort(p, n, sizeof(*p), prefix_qcmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || !ip_prefix_equal(&p[u - 1], &p[i]))
			p[u++] = p[i];
	/* Shuffle back so neighbours in the index are not neighbours in address. */
	for (size_t i = u - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		struct ip_prefix t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	return u;
}

static uint32_t model_sel(const struct model_cand *m, uint8_t *owner)
{
	int best = -1;
	for (int o = 0; o < RIB_OWNERS; o++)
		if (m[o].nh != RIB_NH_NONE && (best < 0 || m[o].prec < m[best].prec))
			best = o;
	if (owner)
		*owner = (uint8_t)(best < 0 ? RIB_OWNERS : best);
	return best < 0 ? RIB_NH_NONE : m[best].nh;
}

struct model {
	struct ip_prefix *p;
	struct model_cand (*c)[RIB_OWNERS];
	size_t n;
	uint32_t nh_refs[N_NH];
	size_t count[2], owner_count[RIB_OWNERS][2];
	unsigned char *walked;
	size_t bad;
};

static int nh_slot(uint32_t v)
{
	for (int i = 0; i < N_NH; i++)
		if (nh[i] == v)
			return i;
	return -1;
}

static int model_walk_fn(void *arg, const struct ip_prefix *p,
			 const struct rib_candidate c[RIB_OWNERS], uint8_t sel)
{
	struct model *m = arg;
	struct ip_prefix *hit = bsearch(p, m->p, m->n, sizeof(*p), prefix_qcmp);
	size_t i = hit ? (size_t)(hit - m->p) : 0;
	uint8_t msel;
	if (!hit || m->walked[i]++ || model_sel(m->c[i], &msel) == RIB_NH_NONE || msel != sel) {
		m->bad++;
		return 0;
	}
	for (unsigned o = 0; o < RIB_OWNERS; o++)
		if (c[o].nh != m->c[i][o].nh ||
		    (c[o].nh != RIB_NH_NONE && c[o].precedence != m->c[i][o].prec))
			m->bad++;
	return 0;
}

/* The whole RIB against the model: walk, counts, references. */
static void model_check(struct rib *rib, struct model *m, const char *when)
{
	size_t bad0 = m->bad, live = 0;
	memset(m->walked, 0, m->n);
	CHECK_EQ(rib_walk(rib, 0, model_walk_fn, m), 0);
	for (size_t i = 0; i < m->n; i++) {
		bool in = model_sel(m->c[i], NULL) != RIB_NH_NONE;
		live += in;
		if (in != (m->walked[i] == 1))
			m->bad++;
	}
	CHECK_EQ(rib_count(rib, 0), live);
	for (unsigned f = 0; f < 2; f++) {
		uint8_t fam = f ? AF_INET6 : AF_INET;
		CHECK_EQ(rib_count(rib, fam), m->count[f]);
		for (uint8_t o = 0; o < RIB_OWNERS; o++)
			CHECK_EQ(rib_count_owner(rib, o, fam), m->owner_count[o][f]);
	}
	for (unsigned i = 0; i < N_NH; i++)
		CHECK_EQ(refs(i), m->nh_refs[i]);
	CHECK_EQ(m->bad, bad0);
	printf("  %s: %zu prefixes, %zu bytes allocated\n", when, live, rib_memory_bytes(rib));
}

/* Apply a candidate change to the model, keeping counts. */
static void model_put(struct model *m, size_t i, uint8_t o, uint32_t v, uint8_t prec)
{
	unsigned f = m->p[i].addr.family == AF_INET6;
	bool had_any = model_sel(m->c[i], NULL) != RIB_NH_NONE;
	if (m->c[i][o].nh != RIB_NH_NONE) {
		m->nh_refs[nh_slot(m->c[i][o].nh)]--;
		m->owner_count[o][f]--;
	}
	m->c[i][o] = (struct model_cand){.nh = v, .prec = prec};
	if (v != RIB_NH_NONE) {
		m->nh_refs[nh_slot(v)]++;
		m->owner_count[o][f]++;
	}
	bool has_any = model_sel(m->c[i], NULL) != RIB_NH_NONE;
	m->count[f] += has_any - had_any;
}

struct sweep_check {
	struct model *m;
	unsigned char *expect; /* per prefix: 1 = a change is due, 2 = reported */
	size_t bad;
};

static void sweep_changed(void *arg, const struct ip_prefix *p, uint32_t after)
{
	struct sweep_check *s = arg;
	struct ip_prefix *hit = bsearch(p, s->m->p, s->m->n, sizeof(*p), prefix_qcmp);
	size_t i = hit ? (size_t)(hit - s->m->p) : 0;
	if (!hit || s->expect[i] != 1 || model_sel(s->m->c[i], NULL) != after)
		s->bad++;
	else
		s->expect[i] = 2;
}

/*
 * Replace all of owner o's routes as a full resync does: mark, re-set a random eighth of the
 * prefixes, sweep. The sweep must remove exactly the candidates not re-set and report exactly
 * the prefixes whose selected next hop that changed, with the new one.
 */
static void replace_owner(struct rib *rib, struct model *m, uint8_t o, unsigned char *expect)
{
	struct sweep_check sc = {.m = m, .expect = expect};
	uint32_t *sel = malloc(m->n * sizeof(*sel));
	size_t n_stale = 0;
	if (!sel) {
		CHECK(!"out of memory");
		return;
	}
	rib_mark_owner(rib, o);
	for (size_t k = 0; k < m->n; k++)
		expect[k] = m->c[k][o].nh != RIB_NH_NONE; /* 1: stale for now */
	for (size_t k = 0; k < m->n / 8; k++) {
		size_t j = rnd() % m->n;
		unsigned v = (unsigned)(rnd() % N_NH);
		uint8_t pr = (uint8_t)(rnd() % 4);
		CHECK_EQ(rib_set(rib, &m->p[j], o, pr, ref(v), NULL, NULL), 0);
		model_put(m, j, o, nh[v], pr);
		expect[j] = 0;
	}
	for (size_t k = 0; k < m->n; k++) {
		sel[k] = model_sel(m->c[k], NULL);
		if (expect[k]) {
			n_stale++;
			model_put(m, k, o, RIB_NH_NONE, 0);
		}
		expect[k] = model_sel(m->c[k], NULL) != sel[k]; /* 1: a change is due */
	}
	CHECK_EQ(rib_sweep_owner(rib, o, sweep_changed, &sc), n_stale);
	for (size_t k = 0; k < m->n; k++)
		if (expect[k] == 1)
			sc.bad++; /* due but not reported */
	CHECK_EQ(sc.bad, 0);
	free(sel);
}

/* ops random operations over ops/4 random prefixes, the RIB's hash and-ed with hash_mask. */
static void test_random(const char *name, size_t ops, uint32_t hash_mask)
{
	rng = test_seed(name) ^ ops; /* runs started in the same second differ */
	rib_hash_mask = hash_mask;
	struct model m = {0};
	size_t want = ops / 4;
	m.p = malloc(want * sizeof(*m.p));
	m.c = malloc(want * sizeof(*m.c));
	m.walked = malloc(want);
	unsigned char *expect = malloc(want);
	struct rib *rib = rib_create(nht);
	if (!m.p || !m.c || !m.walked || !expect || !rib) {
		CHECK(!"out of memory");
		return;
	}
	m.n = make_prefixes(m.p, want);
	/* Sorted for bsearch from the walk; operations pick prefixes at random anyway. */
	qsort(m.p, m.n, sizeof(*m.p), prefix_qcmp);
	for (size_t i = 0; i < m.n; i++)
		for (unsigned o = 0; o < RIB_OWNERS; o++)
			m.c[i][o].nh = RIB_NH_NONE;
	printf("%s: %zu prefixes, %zu operations\n", name, m.n, ops);

	/* Three phases: mostly sets (growth), mostly deletes (shrinking, backward shifts), then
	 * mixed (free-list reuse). Precedence from a small range so ties are common. */
	for (size_t op = 0; op < ops; op++) {
		unsigned phase = (unsigned)(op * 3 / ops), r = (unsigned)(rnd() % 100);
		unsigned set_pct = phase == 0 ? 75 : phase == 1 ? 20 : 50;
		size_t i = rnd() % m.n;
		uint8_t o = (uint8_t)(rnd() % RIB_OWNERS), prec = (uint8_t)(rnd() % 4);
		uint32_t b = 1, a = 1, want_b = model_sel(m.c[i], NULL);
		if (op > 0 && op % (ops / 6) == 0)
			model_check(rib, &m,
				    phase == 0	 ? "growing"
				    : phase == 1 ? "shrinking"
						 : "mixed");
		if (op % (ops / 20) == ops / 40) {
			replace_owner(rib, &m, o, expect);
			continue;
		}
		if (r < set_pct) {
			unsigned v = (unsigned)(rnd() % N_NH);
			CHECK_EQ(rib_set(rib, &m.p[i], o, prec, ref(v), &b, &a), 0);
			model_put(&m, i, o, nh[v], prec);
		} else {
			/* Mostly deletes of existing candidates: look a little further for one. */
			for (unsigned k = 0; k < 64 && m.c[i][o].nh == RIB_NH_NONE; k++) {
				i = (i + 1) % m.n;
				o = (uint8_t)(rnd() % RIB_OWNERS);
			}
			want_b = model_sel(m.c[i], NULL);
			bool had = m.c[i][o].nh != RIB_NH_NONE;
			int err = rib_delete(rib, &m.p[i], o, &b, &a);
			CHECK_EQ(err, had ? 0 : -ENOENT);
			if (!had)
				continue;
			model_put(&m, i, o, RIB_NH_NONE, 0);
		}
		CHECK_EQ(b, want_b);
		CHECK_EQ(a, model_sel(m.c[i], NULL));
		uint32_t got;
		uint8_t go, mo;
		uint32_t ms = model_sel(m.c[i], &mo);
		int err = rib_selected(rib, &m.p[i], &got, &go);
		CHECK(ms == RIB_NH_NONE ? err == -ENOENT : err == 0 && got == ms && go == mo);
		if (test_failures > 20)
			break;
	}
	model_check(rib, &m, "end");
	rib_free(rib);
	for (unsigned i = 0; i < N_NH; i++)
		CHECK_EQ(refs(i), 0);
	free(expect);
	free(m.walked);
	free(m.c);
	free(m.p);
	rib_hash_mask = UINT32_MAX;
}

int main(int argc, char **argv)
{
	size_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	nht = make_nexthops(N_NH, nh);
	if (!nht) {
		fprintf(stderr, "cannot create the next-hop table\n");
		return 1;
	}
	test_selection();
	test_keys();
	test_mark_sweep();
	test_walk();
	test_enomem();
	test_random("test_rib random", ops, UINT32_MAX);
	/* 16 hash values for ~4000 prefixes: long probe runs that wrap around the table's end.
	 * Then one hash value for all: every lookup compares keys, so a key comparison that
	 * confuses two prefixes (same bits, other length; same length, other bits) is caught. */
	test_random("test_rib random, 16 hash values", ops / 10, 0xf0000000);
	test_random("test_rib random, one hash value", ops / 20, 0);
	nexthop_table_free(nht);
	return test_result("test_rib");
}
