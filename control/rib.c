/*
 * rib.c: the routing information base (rib.h).
 *
 * Layout, chosen for a full Internet table of both families (~1M IPv4 + ~160k IPv6 prefixes):
 *
 *   nodes   one struct rib_node (44 bytes) per prefix: the key and every owner's candidate. Nodes
 *           live in fixed-size chunks of RIB_CHUNK_NODES, named by a 32-bit index (chunk number,
 *           position); chunks are never moved, so growing the node store copies nothing but the
 *           small chunk pointer array. Removed nodes go on a free list (linked through nh[0]) and
 *           are reused first, so the store stays as large as the most prefixes ever held.
 *   hash    open addressing with linear probing: slots of {node index, 32-bit hash}, a power of
 *           two of them, at most 3/4 full. The stored hash lets a probe skip nodes whose hash
 *           differs without touching them, and lets growth and deletion find an entry's home slot
 *           without reading the node. Deletion shifts the following entries back (no tombstones),
 *           so probe sequences stay as short as if the deleted key had never been there. Growth
 *           doubles the slots in one rehash of the stored hashes (~10 ms at 1M prefixes).
 *
 *   +-------+-------+-----+          chunks[c] -> [node 0][node 1]...[node RIB_CHUNK_NODES-1]
 *   | slot  | slot  | ... |  ----->  node index = c * RIB_CHUNK_NODES + position
 *   +-------+-------+-----+
 *
 * The selected candidate is not stored: with RIB_OWNERS candidates per node, finding it is a scan
 * of a few bytes, and nothing can get out of step.
 *
 * Invariants: a node is in use (family != 0) exactly when it is in the hash, and then it has at
 * least one candidate (a node whose last candidate goes is removed at once). stale bits are set
 * only for owners that have a candidate.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nexthop.h"
#include "rib.h"

#define RIB_CHUNK_SHIFT	  12
#define RIB_CHUNK_NODES	  (1u << RIB_CHUNK_SHIFT) /* 4096 nodes, 176 KiB per chunk */
#define RIB_NODE_NONE	  UINT32_MAX
#define RIB_HASH_MIN_BITS 4

struct rib_node {
	union {
		uint32_t v4; /* AF_INET: host byte order, host bits zero */
		uint8_t v6[16];
	} addr;
	uint32_t
	    nh[RIB_OWNERS]; /* RIB_NH_NONE: no candidate; free node: nh[0] links the free list */
	uint8_t precedence[RIB_OWNERS];
	uint8_t family; /* AF_INET, AF_INET6; 0: free */
	uint8_t len;
	uint8_t stale; /* bit owner: marked by rib_mark_owner() and not set since */
};
static_assert(RIB_OWNERS <= 8, "stale is a bit mask of owners");
static_assert(sizeof(struct rib_node) <= 48, "a node per prefix: keep a full table small");

struct rib_slot {
	uint32_t node; /* RIB_NODE_NONE: empty */
	uint32_t hash;
};

struct rib {
	struct nexthop_table *nht;

	struct rib_node **chunks;
	uint32_t n_chunks, chunks_cap;
	uint32_t next_unused; /* nodes below this index have been handed out at least once */
	uint32_t free_head;   /* free list of removed nodes, RIB_NODE_NONE: empty */

	struct rib_slot *slots;
	unsigned hash_bits; /* 1 << hash_bits slots */
	uint32_t used;	    /* prefixes (slots in use) */

	size_t count[2];		   /* prefixes per family: [0] IPv4, [1] IPv6 */
	size_t owner_count[RIB_OWNERS][2]; /* candidates per owner and family */
};

/* A prefix as the RIB keys it: validated, with the address in the node's form. */
struct rib_key {
	uint8_t family, len;
	union {
		uint32_t v4;
		uint8_t v6[16];
	} addr;
};

#ifdef RIB_FAULT_INJECTION
/* Test hooks (test_rib.c): when >= 0, the allocation that finds it at 0 fails; the hash is
 * and-ed with the mask (fewer bits: more collisions, longer probe runs). */
long rib_fault_countdown = -1;
uint32_t rib_hash_mask = UINT32_MAX;
#define RIB_HASH_MASK rib_hash_mask
static bool rib_fault(void)
{
	return rib_fault_countdown >= 0 && rib_fault_countdown-- == 0;
}
#else
#define RIB_HASH_MASK UINT32_MAX
static inline bool rib_fault(void)
{
	return false;
}
#endif

static void *rib_alloc(size_t bytes)
{
	return rib_fault() ? NULL : malloc(bytes);
}

static void *rib_realloc(void *p, size_t bytes)
{
	return rib_fault() ? NULL : realloc(p, bytes);
}

static unsigned fam_idx(uint8_t family)
{
	return family == AF_INET6;
}

static struct rib_node *node_at(const struct rib *rib, uint32_t i)
{
	return &rib->chunks[i >> RIB_CHUNK_SHIFT][i & (RIB_CHUNK_NODES - 1)];
}

/* 0, or -EINVAL for a family other than IPv4/IPv6, a length too long or host bits set. */
static int key_from_prefix(const struct ip_prefix *p, struct rib_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = p->addr.family;
	k->len = p->len;
	if (p->addr.family == AF_INET) {
		if (p->len > 32)
			return -EINVAL;
		uint32_t host = p->len == 0 ? ~0u : p->len == 32 ? 0 : ~0u >> p->len;
		if (p->addr.v4 & host)
			return -EINVAL;
		k->addr.v4 = p->addr.v4;
		return 0;
	}
	if (p->addr.family == AF_INET6) {
		if (p->len > 128)
			return -EINVAL;
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = p->len >= 8 * (i + 1) ? 8
					: p->len > 8 * i      ? p->len - 8 * i
							      : 0;
			uint8_t host = (uint8_t)(0xffu >> keep);
			if (p->addr.v6[i] & host)
				return -EINVAL;
		}
		memcpy(k->addr.v6, p->addr.v6, 16);
		return 0;
	}
	return -EINVAL;
}

static struct ip_prefix node_prefix(const struct rib_node *n)
{
	if (n->family == AF_INET)
		return ip_prefix_v4(n->addr.v4, n->len);
	return (struct ip_prefix){.addr = ip_addr_v6(n->addr.v6), .len = n->len};
}

/* The splitmix64 finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * The slot index is the hash's top bits, so the hash must spread into them. IPv4: one
 * multiplication by 2^64/phi (Fibonacci hashing) of address and length; its high half depends on
 * every input bit. IPv6: all 16 bytes and the length through mix64 (prefixes share long runs of
 * zero bits, a single multiply would not separate them well).
 */
static uint32_t key_hash(const struct rib_key *k)
{
	uint64_t h;
	if (k->family == AF_INET) {
		h = ((uint64_t)k->addr.v4 << 8 | k->len) * 0x9e3779b97f4a7c15ULL;
	} else {
		uint64_t w0, w1;
		memcpy(&w0, k->addr.v6, 8);
		memcpy(&w1, k->addr.v6 + 8, 8);
		h = mix64(w0 ^ mix64(w1 ^ ((uint64_t)k->len << 56)));
	}
	return (uint32_t)(h >> 32) & RIB_HASH_MASK;
}

static bool node_matches(const struct rib_node *n, const struct rib_key *k)
{
	if (n->family != k->family || n->len != k->len)
		return false;
	if (k->family == AF_INET)
		return n->addr.v4 == k->addr.v4;
	return memcmp(n->addr.v6, k->addr.v6, 16) == 0;
}

static uint32_t home_slot(const struct rib *rib, uint32_t hash)
{
	return hash >> (32 - rib->hash_bits);
}

/* The slot holding k, or the empty slot where it would go; *node is RIB_NODE_NONE then. */
static uint32_t hash_find(const struct rib *rib, const struct rib_key *k, uint32_t hash,
			  uint32_t *node)
{
	uint32_t mask = (1u << rib->hash_bits) - 1;
	for (uint32_t i = home_slot(rib, hash);; i = (i + 1) & mask) {
		const struct rib_slot *s = &rib->slots[i];
		if (s->node == RIB_NODE_NONE ||
		    (s->hash == hash && node_matches(node_at(rib, s->node), k))) {
			*node = s->node;
			return i;
		}
	}
}

static struct rib_slot *hash_alloc(unsigned bits)
{
	struct rib_slot *s = rib_alloc(sizeof(*s) << bits);
	if (s)
		for (size_t i = 0; i < (size_t)1 << bits; i++)
			s[i].node = RIB_NODE_NONE;
	return s;
}

/* Double the slots: one pass moving every entry to its home in the new array. 0 or -ENOMEM. */
static int hash_grow(struct rib *rib)
{
	unsigned bits = rib->hash_bits + 1;
	if (bits > 31)
		return -ENOMEM;
	struct rib_slot *s = hash_alloc(bits), *old = rib->slots;
	if (!s)
		return -ENOMEM;
	uint32_t mask = (1u << bits) - 1;
	for (size_t i = 0; i < (size_t)1 << rib->hash_bits; i++) {
		if (old[i].node == RIB_NODE_NONE)
			continue;
		uint32_t j = old[i].hash >> (32 - bits);
		while (s[j].node != RIB_NODE_NONE)
			j = (j + 1) & mask;
		s[j] = old[i];
	}
	free(old);
	rib->slots = s;
	rib->hash_bits = bits;
	return 0;
}

/*
 * Empty slot i and shift back the entries after it that probed past it (Knuth 6.4 algorithm R):
 * an entry at j whose home is h may move to the hole at i when i lies on its probe path, i.e. the
 * distance h -> j is at least the distance i -> j (all modulo the table size).
 */
static void hash_remove_slot(struct rib *rib, uint32_t i)
{
	uint32_t mask = (1u << rib->hash_bits) - 1;
	for (uint32_t j = (i + 1) & mask; rib->slots[j].node != RIB_NODE_NONE; j = (j + 1) & mask) {
		uint32_t h = home_slot(rib, rib->slots[j].hash);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			rib->slots[i] = rib->slots[j];
			i = j;
		}
	}
	rib->slots[i].node = RIB_NODE_NONE;
}

/* A fresh node (from the free list, else the next unused one), or RIB_NODE_NONE when out of
 * memory. */
static uint32_t node_alloc(struct rib *rib)
{
	if (rib->free_head != RIB_NODE_NONE) {
		uint32_t i = rib->free_head;
		rib->free_head = node_at(rib, i)->nh[0];
		return i;
	}
	if (rib->next_unused == RIB_NODE_NONE)
		return RIB_NODE_NONE;
	if ((rib->next_unused >> RIB_CHUNK_SHIFT) == rib->n_chunks) {
		if (rib->n_chunks == rib->chunks_cap) {
			uint32_t cap = rib->chunks_cap ? 2 * rib->chunks_cap : 16;
			struct rib_node **c = rib_realloc(rib->chunks, cap * sizeof(*c));
			if (!c)
				return RIB_NODE_NONE;
			rib->chunks = c;
			rib->chunks_cap = cap;
		}
		struct rib_node *chunk = rib_alloc(RIB_CHUNK_NODES * sizeof(*chunk));
		if (!chunk)
			return RIB_NODE_NONE;
		rib->chunks[rib->n_chunks++] = chunk;
	}
	return rib->next_unused++;
}

static void node_free(struct rib *rib, uint32_t i)
{
	struct rib_node *n = node_at(rib, i);
	n->family = 0;
	n->nh[0] = rib->free_head;
	rib->free_head = i;
}

/* The selected owner (lowest precedence, then lowest owner), or RIB_OWNERS if none. */
static uint8_t node_selected(const struct rib_node *n)
{
	uint8_t best = RIB_OWNERS;
	for (uint8_t o = 0; o < RIB_OWNERS; o++)
		if (n->nh[o] != RIB_NH_NONE &&
		    (best == RIB_OWNERS || n->precedence[o] < n->precedence[best]))
			best = o;
	return best;
}

static uint32_t node_selected_nh(const struct rib_node *n)
{
	uint8_t o = node_selected(n);
	return o == RIB_OWNERS ? RIB_NH_NONE : n->nh[o];
}

static void put_ref(struct rib *rib, uint32_t nh)
{
	if (rib->nht)
		nexthop_put(rib->nht, nh);
}

static void set_sel(uint32_t *out, uint32_t v)
{
	if (out)
		*out = v;
}

struct rib *rib_create(struct nexthop_table *nht)
{
	struct rib *rib = calloc(1, sizeof(*rib));
	if (!rib)
		goto fail;
	rib->nht = nht;
	rib->free_head = RIB_NODE_NONE;
	rib->hash_bits = RIB_HASH_MIN_BITS;
	rib->slots = hash_alloc(rib->hash_bits);
	if (!rib->slots)
		goto fail_rib;
	return rib;

fail_rib:
	free(rib);
fail:
	errno = ENOMEM;
	return NULL;
}

void rib_free(struct rib *rib)
{
	if (!rib)
		return;
	for (uint32_t i = 0; i < rib->next_unused; i++) {
		struct rib_node *n = node_at(rib, i);
		if (n->family == 0)
			continue;
		for (unsigned o = 0; o < RIB_OWNERS; o++)
			if (n->nh[o] != RIB_NH_NONE)
				put_ref(rib, n->nh[o]);
	}
	for (uint32_t c = 0; c < rib->n_chunks; c++)
		free(rib->chunks[c]);
	free(rib->chunks);
	free(rib->slots);
	free(rib);
}

/* Insert a node for k at slot (found empty by hash_find()), growing the hash first if needed.
 * The node index, or RIB_NODE_NONE when out of memory (nothing changed then). */
static uint32_t node_insert(struct rib *rib, const struct rib_key *k, uint32_t hash, uint32_t slot)
{
	uint32_t size = 1u << rib->hash_bits;
	if (rib->used + 1 > size - size / 4) {
		if (hash_grow(rib) < 0)
			return RIB_NODE_NONE;
		uint32_t none;
		slot = hash_find(rib, k, hash, &none);
	}
	uint32_t i = node_alloc(rib);
	if (i == RIB_NODE_NONE)
		return RIB_NODE_NONE;
	struct rib_node *n = node_at(rib, i);
	memset(n, 0, sizeof(*n));
	memcpy(&n->addr, &k->addr, sizeof(n->addr));
	n->family = k->family;
	n->len = k->len;
	for (unsigned o = 0; o < RIB_OWNERS; o++)
		n->nh[o] = RIB_NH_NONE;
	rib->slots[slot] = (struct rib_slot){.node = i, .hash = hash};
	rib->used++;
	rib->count[fam_idx(k->family)]++;
	return i;
}

/* Remove node i (no candidates left) from the hash and the counts, and free it. */
static void node_remove(struct rib *rib, uint32_t i)
{
	struct rib_node *n = node_at(rib, i);
	struct rib_key k = {.family = n->family, .len = n->len};
	memcpy(&k.addr, &n->addr, sizeof(k.addr));
	uint32_t found, slot = hash_find(rib, &k, key_hash(&k), &found);
	assert(found == i);
	hash_remove_slot(rib, slot);
	rib->used--;
	rib->count[fam_idx(n->family)]--;
	node_free(rib, i);
}

int rib_set(struct rib *rib, const struct ip_prefix *p, uint8_t owner, uint8_t precedence,
	    uint32_t nh, uint32_t *sel_before, uint32_t *sel_after)
{
	struct rib_key k;
	int err = key_from_prefix(p, &k);
	if (err < 0)
		return err;
	if (owner >= RIB_OWNERS || nh == RIB_NH_NONE)
		return -EINVAL;

	uint32_t hash = key_hash(&k), i;
	uint32_t slot = hash_find(rib, &k, hash, &i);
	uint32_t before = RIB_NH_NONE;
	if (i == RIB_NODE_NONE) {
		i = node_insert(rib, &k, hash, slot);
		if (i == RIB_NODE_NONE)
			return -ENOMEM;
	} else {
		before = node_selected_nh(node_at(rib, i));
	}

	struct rib_node *n = node_at(rib, i);
	uint32_t old = n->nh[owner];
	if (old == RIB_NH_NONE)
		rib->owner_count[owner][fam_idx(k.family)]++;
	n->nh[owner] = nh;
	n->precedence[owner] = precedence;
	n->stale &= (uint8_t) ~(1u << owner);
	set_sel(sel_before, before);
	set_sel(sel_after, node_selected_nh(n));
	if (old != RIB_NH_NONE)
		put_ref(rib, old);
	return 0;
}

/* The node for p: its index, or RIB_NODE_NONE. -EINVAL in *err for a malformed prefix. */
static uint32_t lookup(const struct rib *rib, const struct ip_prefix *p, int *err)
{
	struct rib_key k;
	uint32_t i = RIB_NODE_NONE;
	*err = key_from_prefix(p, &k);
	if (*err == 0)
		hash_find(rib, &k, key_hash(&k), &i);
	return i;
}

/* Drop owner's candidate from node i, removing the node when it was the last. The selected next
 * hop after. */
static uint32_t drop_candidate(struct rib *rib, uint32_t i, uint8_t owner)
{
	struct rib_node *n = node_at(rib, i);
	uint32_t old = n->nh[owner];
	n->nh[owner] = RIB_NH_NONE;
	n->precedence[owner] = 0;
	n->stale &= (uint8_t) ~(1u << owner);
	rib->owner_count[owner][fam_idx(n->family)]--;
	uint32_t after = node_selected_nh(n);
	if (after == RIB_NH_NONE)
		node_remove(rib, i);
	put_ref(rib, old);
	return after;
}

/* The node of p: 0 and *i, or -EINVAL (not canonical) / -ENOENT. */
static int find_node(const struct rib *rib, const struct ip_prefix *p, uint32_t *i)
{
	int err;
	*i = lookup(rib, p, &err);
	return err < 0 ? err : *i == RIB_NODE_NONE ? -ENOENT : 0;
}

/* The node of p where owner has a candidate: 0 and *i, or -EINVAL / -ENOENT. */
static int find_candidate(const struct rib *rib, const struct ip_prefix *p, uint8_t owner,
			  uint32_t *i)
{
	int err = find_node(rib, p, i);
	if (err == -EINVAL || owner >= RIB_OWNERS)
		return -EINVAL;
	return err ? err : node_at(rib, *i)->nh[owner] == RIB_NH_NONE ? -ENOENT : 0;
}

int rib_delete(struct rib *rib, const struct ip_prefix *p, uint8_t owner, uint32_t *sel_before,
	       uint32_t *sel_after)
{
	uint32_t i;
	int err = find_candidate(rib, p, owner, &i);
	if (err)
		return err;
	set_sel(sel_before, node_selected_nh(node_at(rib, i)));
	set_sel(sel_after, drop_candidate(rib, i, owner));
	return 0;
}

int rib_get(const struct rib *rib, const struct ip_prefix *p, uint8_t owner,
	    struct rib_candidate *c)
{
	uint32_t i;
	int err = find_candidate(rib, p, owner, &i);
	if (err)
		return err;
	const struct rib_node *n = node_at(rib, i);
	*c = (struct rib_candidate){.nh = n->nh[owner], .precedence = n->precedence[owner]};
	return 0;
}

static void node_candidates(const struct rib_node *n, struct rib_candidate cands[RIB_OWNERS])
{
	for (unsigned o = 0; o < RIB_OWNERS; o++)
		cands[o] = (struct rib_candidate){.nh = n->nh[o], .precedence = n->precedence[o]};
}

int rib_get_all(const struct rib *rib, const struct ip_prefix *p,
		struct rib_candidate cands[RIB_OWNERS], uint8_t *selected)
{
	uint32_t i;
	int err = find_node(rib, p, &i);
	if (err)
		return err;
	const struct rib_node *n = node_at(rib, i);
	node_candidates(n, cands);
	*selected = node_selected(n);
	return 0;
}

int rib_selected(const struct rib *rib, const struct ip_prefix *p, uint32_t *nh, uint8_t *owner)
{
	uint32_t i;
	int err = find_node(rib, p, &i);
	if (err)
		return err;
	const struct rib_node *n = node_at(rib, i);
	uint8_t o = node_selected(n);
	*nh = n->nh[o];
	if (owner)
		*owner = o;
	return 0;
}

void rib_mark_owner(struct rib *rib, uint8_t owner)
{
	if (owner >= RIB_OWNERS || rib->owner_count[owner][0] + rib->owner_count[owner][1] == 0)
		return;
	for (uint32_t i = 0; i < rib->next_unused; i++) {
		struct rib_node *n = node_at(rib, i);
		if (n->family != 0 && n->nh[owner] != RIB_NH_NONE)
			n->stale |= (uint8_t)(1u << owner);
	}
}

size_t rib_sweep_owner(struct rib *rib, uint8_t owner,
		       void (*changed)(void *arg, const struct ip_prefix *p, uint32_t sel_after),
		       void *arg)
{
	size_t removed = 0;
	if (owner >= RIB_OWNERS || rib->owner_count[owner][0] + rib->owner_count[owner][1] == 0)
		return 0;
	/* Walking the node store, not the hash: removing a node shifts hash slots but moves no
	 * node, so the walk sees every node once. */
	uint8_t bit = (uint8_t)(1u << owner);
	for (uint32_t i = 0; i < rib->next_unused; i++) {
		struct rib_node *n = node_at(rib, i);
		if (n->family == 0 || !(n->stale & bit))
			continue;
		struct ip_prefix p = node_prefix(n);
		uint32_t before = node_selected_nh(n);
		uint32_t after = drop_candidate(rib, i, owner);
		removed++;
		if (before != after && changed)
			changed(arg, &p, after);
	}
	return removed;
}

size_t rib_count(const struct rib *rib, uint8_t family)
{
	if (family == 0)
		return rib->count[0] + rib->count[1];
	if (family != AF_INET && family != AF_INET6)
		return 0;
	return rib->count[fam_idx(family)];
}

size_t rib_count_owner(const struct rib *rib, uint8_t owner, uint8_t family)
{
	if (owner >= RIB_OWNERS)
		return 0;
	if (family == 0)
		return rib->owner_count[owner][0] + rib->owner_count[owner][1];
	if (family != AF_INET && family != AF_INET6)
		return 0;
	return rib->owner_count[owner][fam_idx(family)];
}

int rib_walk(const struct rib *rib, uint8_t family,
	     int (*fn)(void *arg, const struct ip_prefix *p,
		       const struct rib_candidate cands[RIB_OWNERS], uint8_t selected),
	     void *arg)
{
	for (uint32_t i = 0; i < rib->next_unused; i++) {
		const struct rib_node *n = node_at(rib, i);
		if (n->family == 0 || (family != 0 && n->family != family))
			continue;
		struct rib_candidate cands[RIB_OWNERS];
		struct ip_prefix p = node_prefix(n);
		node_candidates(n, cands);
		int r = fn(arg, &p, cands, node_selected(n));
		if (r != 0)
			return r;
	}
	return 0;
}

size_t rib_memory_bytes(const struct rib *rib)
{
	return sizeof(*rib) + (size_t)rib->chunks_cap * sizeof(*rib->chunks) +
	       (size_t)rib->n_chunks * RIB_CHUNK_NODES * sizeof(struct rib_node) +
	       (sizeof(struct rib_slot) << rib->hash_bits);
}
