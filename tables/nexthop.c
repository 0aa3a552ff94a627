/* nexthop.c: see nexthop.h. */
#include "nexthop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "rcu.h"

#define NONE UINT32_MAX /* end of a hash chain, no group slot */

/*
 * Private state. Every referenced entry is in the dedup hash (chained through chain[]); an
 * entry whose last reference went leaves the hash at once (it can no longer be found or held)
 * and waits in retired[] for a grace period, then goes to free_stack[]. A group slot (its row
 * of pub.members) follows its group's entry: freed with it, at reclaim.
 */
struct nexthop_table_impl {
	struct nexthop_table pub;
	uint32_t *refcnt;     /* per index; 0 = free or retired */
	uint32_t *free_stack; /* indices ready for reuse */
	uint32_t free_count;
	uint32_t *retired; /* indices whose last reference went, waiting for a grace period */
	uint32_t retired_count;
	uint32_t high_water; /* indices [0, high_water) have been handed out at least once */
	uint32_t *bucket;    /* dedup hash heads (n_buckets, a power of two), NONE if empty */
	uint32_t bucket_mask;
	uint32_t *chain;      /* per index: the next index in its bucket, or NONE */
	uint32_t *group_free; /* group slots ready for reuse */
	uint32_t group_free_count;
	uint32_t group_high_water;
};

static struct nexthop_table_impl *impl_of(const struct nexthop_table *t)
{
	return container_of((struct nexthop_table *)t, struct nexthop_table_impl, pub);
}

struct nexthop_table *nexthop_table_create(uint32_t capacity, uint32_t group_capacity)
{
	if (capacity == 0 || capacity > NEXTHOP_INDEX_MAX || group_capacity > capacity) {
		errno = EINVAL;
		return NULL;
	}
	struct nexthop_table_impl *t = calloc(1, sizeof(*t));
	if (!t)
		goto err;
	/* Buckets: one per entry up to 64 Ki, then longer chains (the writer's side only). */
	uint32_t n_buckets = 16;
	while (n_buckets < capacity && n_buckets < (1u << 16))
		n_buckets *= 2;
	t->pub.capacity = capacity;
	t->pub.group_capacity = group_capacity;
	t->pub.entries = calloc(capacity, sizeof(*t->pub.entries));
	t->refcnt = calloc(capacity, sizeof(*t->refcnt));
	t->free_stack = calloc(capacity, sizeof(*t->free_stack));
	t->retired = calloc(capacity, sizeof(*t->retired));
	t->chain = calloc(capacity, sizeof(*t->chain));
	t->bucket = malloc(n_buckets * sizeof(*t->bucket));
	/* One spare so that calloc(0) (no groups) is never NULL. */
	t->pub.members = calloc(group_capacity + 1, sizeof(*t->pub.members));
	t->group_free = calloc(group_capacity + 1, sizeof(*t->group_free));
	if (!t->pub.entries || !t->refcnt || !t->free_stack || !t->retired || !t->chain ||
	    !t->bucket || !t->pub.members || !t->group_free)
		goto err_arrays;
	memset(t->bucket, 0xff, n_buckets * sizeof(*t->bucket)); /* NONE */
	t->bucket_mask = n_buckets - 1;
	return &t->pub;

err_arrays:
	nexthop_table_free(&t->pub);
err:
	errno = ENOMEM;
	return NULL;
}

void nexthop_table_free(struct nexthop_table *pub)
{
	if (!pub)
		return;
	struct nexthop_table_impl *t = impl_of(pub);
	free(t->group_free);
	free(t->pub.members);
	free(t->bucket);
	free(t->chain);
	free(t->retired);
	free(t->free_stack);
	free(t->refcnt);
	free(t->pub.entries);
	free(t);
}

static bool is_allocated(const struct nexthop_table_impl *t, uint32_t index)
{
	return index < t->high_water && t->refcnt[index] > 0;
}

/* FNV-1a over bytes: the dedup hash is the writer's only, so simple and good enough. */
static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* The hash of an entry as stored: kind, family, iface and gateway, or a group's member set. */
static uint32_t entry_hash(const struct nexthop_table *pub, const struct nexthop *nh)
{
	uint32_t h = hash_bytes(2166136261u, &nh->kind, 1);
	if (nh->kind == NEXTHOP_GROUP)
		return hash_bytes(h, pub->members[nh->group], nh->n_members * sizeof(uint32_t));
	h = hash_bytes(h, &nh->family, 1);
	h = hash_bytes(h, &nh->iface, sizeof(nh->iface));
	return hash_bytes(h, &nh->gw, sizeof(nh->gw));
}

static bool entry_equal(const struct nexthop_table *pub, const struct nexthop *a,
			const struct nexthop *b, const uint32_t *b_members)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == NEXTHOP_GROUP)
		return a->n_members == b->n_members && memcmp(pub->members[a->group], b_members,
							      a->n_members * sizeof(uint32_t)) == 0;
	return a->family == b->family && a->iface == b->iface &&
	       memcmp(&a->gw, &b->gw, sizeof(a->gw)) == 0;
}

/* The referenced entry equal to want (members: want's member list for a group), or NONE. */
static uint32_t hash_find(const struct nexthop_table_impl *t, const struct nexthop *want,
			  const uint32_t *members, uint32_t h)
{
	for (uint32_t i = t->bucket[h & t->bucket_mask]; i != NONE; i = t->chain[i])
		if (entry_equal(&t->pub, &t->pub.entries[i], want, members))
			return i;
	return NONE;
}

static void hash_insert(struct nexthop_table_impl *t, uint32_t index, uint32_t h)
{
	uint32_t *head = &t->bucket[h & t->bucket_mask];
	t->chain[index] = *head;
	*head = index;
}

static void hash_remove(struct nexthop_table_impl *t, uint32_t index)
{
	uint32_t *link = &t->bucket[entry_hash(&t->pub, &t->pub.entries[index]) & t->bucket_mask];
	while (*link != index) {
		assert(*link != NONE); /* every referenced entry is in the hash */
		link = &t->chain[*link];
	}
	*link = t->chain[index];
}

/* A fresh index, or NONE if the table is full (retired ones included). */
static uint32_t alloc_index(struct nexthop_table_impl *t)
{
	if (t->free_count > 0)
		return t->free_stack[--t->free_count];
	if (t->high_water < t->pub.capacity)
		return t->high_water++;
	return NONE;
}

/* Check key and build the entry it describes. 0 or -EINVAL. */
static int entry_of_key(const struct nexthop_key *key, struct nexthop *nh)
{
	*nh = (struct nexthop){.kind = key->kind, .family = key->family, .iface = key->iface};
	bool has_iface = key->iface != IFACE_ID_NONE;
	switch (key->kind) {
	case NEXTHOP_GATEWAY:
		if (!has_iface || ip_family_bits(key->gw.family) == 0 ||
		    ip_addr_is_unspecified(&key->gw))
			return -EINVAL;
		if (key->family != 0 && key->family != key->gw.family)
			return -EINVAL;
		nh->family = key->gw.family;
		if (key->gw.family == AF_INET)
			nh->gw.v4 = key->gw.v4;
		else
			memcpy(nh->gw.v6, key->gw.v6, 16);
		return 0;
	case NEXTHOP_CONNECTED:
		if (!has_iface)
			return -EINVAL;
		break;
	case NEXTHOP_LOCAL: /* a local address of an interface, or of none (a local route) */
		break;
	case NEXTHOP_BLACKHOLE:
	case NEXTHOP_UNREACHABLE:
	case NEXTHOP_PUNT:
		if (has_iface)
			return -EINVAL;
		break;
	default: /* 0, NEXTHOP_GROUP (nexthop_add_group()), unknown */
		return -EINVAL;
	}
	if (key->gw.family != 0) /* a gateway address on a kind without one */
		return -EINVAL;
	if (key->family != 0 && ip_family_bits(key->family) == 0)
		return -EINVAL;
	return 0;
}

int nexthop_add(struct nexthop_table *pub, const struct nexthop_key *key, uint32_t *index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	struct nexthop nh;
	int err = entry_of_key(key, &nh);
	if (err < 0)
		return err;
	uint32_t h = entry_hash(pub, &nh);
	uint32_t i = hash_find(t, &nh, NULL, h);
	if (i != NONE) {
		t->refcnt[i]++;
		*index = i;
		return 0;
	}
	i = alloc_index(t);
	if (i == NONE)
		return -ENOSPC;
	/* Plain stores: no reader can reach index i until a route carrying it is published with a
	 * release store (lpm4), which orders these before it. */
	pub->entries[i] = nh;
	t->refcnt[i] = 1;
	hash_insert(t, i, h);
	*index = i;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int nexthop_add_group(struct nexthop_table *pub, const uint32_t *members, unsigned n,
		      uint32_t *index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (n == 0 || n > NEXTHOP_GROUP_MAX)
		return -EINVAL;
	/* The set identifies the group: sorted, duplicates once. */
	uint32_t set[NEXTHOP_GROUP_MAX];
	memcpy(set, members, n * sizeof(*set));
	qsort(set, n, sizeof(*set), cmp_u32);
	unsigned m = 0;
	for (unsigned k = 0; k < n; k++)
		if (m == 0 || set[m - 1] != set[k])
			set[m++] = set[k];
	uint8_t family = 0;
	for (unsigned k = 0; k < m; k++) {
		if (!is_allocated(t, set[k]))
			return -EINVAL;
		const struct nexthop *e = &pub->entries[set[k]];
		if (e->kind != NEXTHOP_GATEWAY && e->kind != NEXTHOP_CONNECTED)
			return -EINVAL;
		family = k == 0 || e->family == family ? e->family : 0;
	}
	if (m == 1) { /* a group of one is that next hop */
		t->refcnt[set[0]]++;
		*index = set[0];
		return 0;
	}

	struct nexthop nh = {.kind = NEXTHOP_GROUP,
			     .family = family,
			     .iface = IFACE_ID_NONE,
			     .n_members = (uint16_t)m};
	uint32_t h = hash_bytes(hash_bytes(2166136261u, &nh.kind, 1), set, m * sizeof(*set));
	uint32_t i = hash_find(t, &nh, set, h);
	if (i != NONE) {
		t->refcnt[i]++;
		*index = i;
		return 0;
	}
	if (t->group_free_count == 0 && t->group_high_water == pub->group_capacity)
		return -ENOSPC;
	i = alloc_index(t);
	if (i == NONE)
		return -ENOSPC;
	nh.group =
	    t->group_free_count > 0 ? t->group_free[--t->group_free_count] : t->group_high_water++;
	/* Plain stores, published like nexthop_add()'s by the route that carries index i. */
	memcpy(pub->members[nh.group], set, m * sizeof(*set));
	pub->entries[i] = nh;
	for (unsigned k = 0; k < m; k++)
		t->refcnt[set[k]]++; /* the group's own references, dropped at reclaim */
	t->refcnt[i] = 1;
	hash_insert(t, i, h);
	*index = i;
	return 0;
}

int nexthop_hold(struct nexthop_table *pub, uint32_t index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (!is_allocated(t, index))
		return -ENOENT;
	t->refcnt[index]++;
	return 0;
}

int nexthop_put(struct nexthop_table *pub, uint32_t index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (!is_allocated(t, index))
		return -ENOENT;
	if (--t->refcnt[index] == 0) {
		/* Entry content (and a group's members) stays until reuse; it can no longer be
		 * found, so it is never referenced again before reclaim. */
		hash_remove(t, index);
		t->retired[t->retired_count++] = index;
	}
	return 0;
}

uint32_t nexthop_refcount(const struct nexthop_table *pub, uint32_t index)
{
	const struct nexthop_table_impl *t = impl_of(pub);
	return is_allocated(t, index) ? t->refcnt[index] : 0;
}

uint32_t nexthop_table_used(const struct nexthop_table *pub)
{
	const struct nexthop_table_impl *t = impl_of(pub);
	return t->high_water - t->free_count;
}

void nexthop_table_reclaim(struct nexthop_table *pub)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (t->retired_count == 0)
		return;
	rcu_synchronize();
	/* Members a group releases here may reach zero and retire: a reader may have taken their
	 * index from a route after the grace period began, so they wait for the next one. They
	 * are appended past n and moved to the front below. */
	uint32_t n = t->retired_count;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t index = t->retired[k];
		struct nexthop *nh = &t->pub.entries[index];
		assert(t->refcnt[index] == 0); /* nothing can revive a retired index */
		if (nh->kind == NEXTHOP_GROUP) {
			for (unsigned m = 0; m < nh->n_members; m++)
				(void)nexthop_put(pub, t->pub.members[nh->group][m]);
			t->group_free[t->group_free_count++] = nh->group;
		}
		nh->kind = 0;
		t->free_stack[t->free_count++] = index;
	}
	memmove(t->retired, t->retired + n, (t->retired_count - n) * sizeof(*t->retired));
	t->retired_count -= n;
}

const char *nexthop_kind_name(uint8_t kind)
{
	switch (kind) {
	case NEXTHOP_GATEWAY:
		return "gateway";
	case NEXTHOP_CONNECTED:
		return "connected";
	case NEXTHOP_LOCAL:
		return "local";
	case NEXTHOP_BLACKHOLE:
		return "blackhole";
	case NEXTHOP_UNREACHABLE:
		return "unreachable";
	case NEXTHOP_PUNT:
		return "punt";
	case NEXTHOP_GROUP:
		return "group";
	default:
		return "?";
	}
}
