/* lpm4.c: see lpm4.h for the lookup structure and docs/tables.md for the design. */
#include "lpm4.h"

#include <arpa/inet.h>
#include <emmintrin.h> /* SSE2: build_node() run detection, lpm4_lookup_batch() counting */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compiler.h"
#include "ipaddr.h"
#include "log.h"
#include "lpm4_arena.h"
#include "rcu.h"

#define DIR_SLOTS     (1u << LPM4_DIR_BITS)
#define SLOT_SHIFT    (32 - LPM4_DIR_BITS) /* addr >> SLOT_SHIFT = dir index */
#define SHORT_MAX_LEN LPM4_DIR_BITS /* routes up to /19 live in dir, longer ones in subtrees */
#define LEN_NONE      0xffu	    /* slot_best_len: no covering short route */
/* The dir entry of a /19 with no route: leafvec 0, index of the no-route leaf. */
#define ENTRY_NONE ((uint64_t)ARENA_NH_LIMIT << 32)
#define L1_OFF	   LPM4_DIR_BITS	   /* first address bit of the level-1 node */
#define L2_OFF	   (L1_OFF + LPM4_L1_BITS) /* ... of level 2 (24); level 3 starts at 30 */

/* Worst case for one /19 block, in 4-byte units: 32 level-1 leaves; 32 children of a 2-unit
 * leafvec and 64 leaves; under each child 64 grandchildren (bits 30-31 padded to 6 bits, so at
 * most 4 runs) of 2 + 4 units. */
#define L3_MAX_UNITS	(2u + 4u)
#define L2_MAX_UNITS	(2u + 64u + 64u * L3_MAX_UNITS)
#define MAX_BLOCK_UNITS (32u + 32u * L2_MAX_UNITS)
static_assert(MAX_BLOCK_UNITS <= ARENA_MAX_UNITS, "the arena serves every block");
static_assert(L2_OFF + 2 * LPM4_STRIDE_BITS >= 32, "three levels below the dir cover /32");
static_assert(ARENA_NH_LIMIT == LPM4_NH_LIMIT, "every next hop has its leaf in the arena");
#define MAX_CHILD_REFS (32u + 32u * 64u) /* child slots in one block: level 1, then level 2 */

/* One route longer than /19, kept in its /19 slot's array. */
struct route {
	uint32_t prefix;
	uint32_t nh;
	uint8_t len;
};

/* The routes under one /19, sorted by (prefix, len): nested prefixes then come shortest first,
 * and the routes under any child node are one contiguous run. */
struct slot_routes {
	uint32_t count;
	uint32_t cap;
	uint32_t block_units; /* size of the published block in pool units (0 if none) */
	uint16_t block_nodes;
	uint16_t block_leaves;
	struct route r[];
};

/* The authoritative route set plus what was derived from it. Readers never see this. */
struct lpm4_ctl {
	uint64_t *dir;		    /* the dir these routes are published in */
	struct slot_routes **slots; /* [DIR_SLOTS]: routes longer than /19, or NULL */
	uint32_t *short_nh;	    /* routes /0../19, direct-indexed: short_nh[short_index()] */
	uint32_t *slot_best_nh;	    /* [DIR_SLOTS]: longest short route covering the slot */
	uint8_t *slot_best_len;	    /* [DIR_SLOTS]: its length, LEN_NONE if none */
	size_t routes;
	size_t subtrees, nodes, leaves, slot_bytes;
};

/* Scratch space for building one block before it is copied into the pool. */
struct builder {
	uint32_t *u;	/* MAX_BLOCK_UNITS */
	uint32_t n;	/* units used */
	uint32_t nodes; /* level-1 node included */
	uint32_t leaves;
	uint32_t n_refs;
	uint16_t ref_at[MAX_CHILD_REFS]; /* where child references are, to relocate them */
};

struct lpm4_impl {
	struct lpm4 pub;
	struct nexthop_table *nht;
	struct lpm4_ctl *ctl;
	struct builder b;
	struct lpm4_arena arena; /* every block; pub.pool is its base */
	struct rcu_retire_list retire;
};

static struct lpm4_impl *impl_of(const struct lpm4 *lpm)
{
	return container_of((struct lpm4 *)lpm, struct lpm4_impl, pub);
}

static uint32_t prefix_mask(unsigned len)
{
	return len ? ~0u << (32 - len) : 0; /* len 0 would shift by 32: undefined */
}

/* short_nh holds the 2^len possible /len prefixes of each length 0..19 back to back. */
static size_t short_index(uint32_t prefix, unsigned len)
{
	return ((size_t)1 << len) - 1 + (len ? prefix >> (32 - len) : 0);
}
#define SHORT_ENTRIES ((size_t)2 << SHORT_MAX_LEN) /* sum of 2^len for len 0..19, plus one */

static int check_prefix(uint32_t prefix, uint8_t len)
{
	if (len > 32 || (prefix & ~prefix_mask(len)))
		return -EINVAL;
	return 0;
}

/* ---- building one block -------------------------------------------------------------------- */

/* The slot index of prefix in a node of 2^bits slots whose stride starts at address bit off
 * (bits past 32 read as zero: the last level is padded). */
static unsigned slot_of(uint32_t prefix, unsigned off, unsigned bits)
{
	return (unsigned)((((uint64_t)prefix << 32) >> (64 - bits - off)) & ((1u << bits) - 1));
}

/*
 * Build a node of 2^bits slots for the routes r[0..n) (sorted by prefix, len) whose stride starts
 * at address bit off, where addresses no route covers resolve to def. Its leaves go to
 * b->u[b->n...], its children after them; returns its leafvec (the caller stores it: in the dir
 * entry for level 1, in front of the leaves below that).
 *
 * Painting in sorted order leaves each slot with its longest match: all routes covering a point
 * are nested, and nested routes sort shortest first. Routes that cover the whole node (possible
 * below level 1) sort first and are already def. Recursion depth is at most three.
 */
static uint64_t build_node(struct builder *b, const struct route *r, size_t n, unsigned off,
			   unsigned bits, uint32_t def)
{
	unsigned slots = 1u << bits;
	uint32_t pad_val[1 + 64]; /* val[-1] exists for the vector compare in step 2 */
	uint32_t *val = pad_val + 1;
	uint64_t internal = 0;

	/* 1. Paint routes that end in this node, note slots that need a child. */
	__m128i fill = _mm_set1_epi32((int)def);
	for (unsigned v = 0; v < slots; v += 4)
		_mm_storeu_si128((__m128i *)(val + v), fill);
	for (size_t i = 0; i < n; i++) {
		if (r[i].len <= off)
			continue;
		unsigned v = slot_of(r[i].prefix, off, bits);
		if (r[i].len <= off + bits) {
			unsigned cnt = 1u << (off + bits - r[i].len);
			for (unsigned k = 0; k < cnt; k++)
				val[v + k] = r[i].nh;
		} else {
			internal |= 1ull << v;
		}
	}

	/* 2. One leaf per run of equal values; a child slot is a run of its own (its leaf is
	 * filled in step 3). Run starts: val[v] != val[v - 1], four slots per compare (val[-1] is
	 * compared but its bit is forced on: slot 0 always starts a run). */
	pad_val[0] = 0;
	uint64_t leafvec = 1 | internal | internal << 1;
	for (unsigned v = 0; v < slots; v += 4) {
		__m128i cur = _mm_loadu_si128((const __m128i *)(val + v));
		__m128i prev = _mm_loadu_si128((const __m128i *)(val + v - 1));
		unsigned same =
		    (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(cur, prev)));
		leafvec |= (uint64_t)(~same & 15u) << v;
	}
	if (slots < 64)
		leafvec &= (1ull << slots) - 1; /* internal << 1 may have set bit slots */
	uint32_t first = b->n, at = b->n;
	for (uint64_t w = leafvec; w; w &= w - 1)
		b->u[at++] = val[__builtin_ctzll(w)];
	b->leaves += at - first;
	b->nodes++;
	b->n = ALIGN_UP(at, 2u); /* child nodes start with a 64-bit leafvec */
	if (b->n != at)
		b->u[at] = 0; /* padding: defined bytes, so equal route sets give equal blocks */
	if (!internal)
		return leafvec;

	/* 3. Children, in slot order: | leafvec lo | leafvec hi | leaves ... |. Their routes are
	 * contiguous runs of r. */
	for (size_t i = 0; i < n;) {
		unsigned v = slot_of(r[i].prefix, off, bits);
		size_t j = i + 1;
		while (j < n && slot_of(r[j].prefix, off, bits) == v)
			j++;
		if (internal & (1ull << v)) {
			uint32_t node = b->n;
			b->n += 2;
			uint64_t lv =
			    build_node(b, r + i, j - i, off + bits, LPM4_STRIDE_BITS, val[v]);
			b->u[node] = (uint32_t)lv;
			b->u[node + 1] = (uint32_t)(lv >> 32);
			uint32_t at_ref = first + lpm4_rank_(leafvec, v) - 1;
			b->u[at_ref] =
			    LPM4_CHILD_BIT | node; /* block offset: build_block() relocates */
			b->ref_at[b->n_refs++] = (uint16_t)at_ref;
		}
		i = j;
	}
	return leafvec;
}

/* What a slot will publish: a dir entry, and for a block its pool index, size and counts. */
struct slot_update {
	uint64_t entry;
	uint32_t idx; /* 0: no block (the entry points at a next-hop leaf) */
	uint32_t units;
	uint32_t nodes;
	uint32_t leaves;
};

/* The dir entry of a /19 whose answer is nh everywhere: leafvec 0 and the index of nh's leaf
 * (so the lookup's rank is 0 and its second load reads nh). 0, or -ENOMEM. */
static int leaf_entry(struct lpm4_arena *arena, uint32_t nh, struct slot_update *u)
{
	uint32_t idx;
	if (lpm4_arena_nh_leaf(arena, nh, &idx) < 0)
		return -ENOMEM;
	*u = (struct slot_update){.entry = (uint64_t)idx << 32};
	return 0;
}

/* Build what one /19 publishes for its routes sr[0..count) under the covering next hop def:
 * a block in the pool, or a next-hop leaf entry when the whole /19 turns out to have one
 * answer. 0, or -ENOMEM. */
static int build_block(struct builder *b, struct lpm4_arena *arena, const struct slot_routes *sr,
		       uint32_t def, struct slot_update *u)
{
	b->n = b->nodes = b->leaves = b->n_refs = 0;
	uint64_t leafvec = build_node(b, sr->r, sr->count, L1_OFF, LPM4_L1_BITS, def);
	if (leafvec == 1 && !lpm4_is_child_(b->u[0])) /* one run, no child: no block needed */
		return leaf_entry(arena, b->u[0], u);
	uint32_t idx = lpm4_arena_alloc(arena, b->n);
	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->n_refs; i++)
		b->u[b->ref_at[i]] += idx; /* block offset -> pool index; the top bit stays */
	memcpy(arena->base + idx, b->u, b->n * sizeof(uint32_t));
	/* Stored minus one: the lookup adds popcount(leafvec & bits 0..v), which is >= 1. */
	*u = (struct slot_update){.entry = ((uint64_t)(idx - 1) << 32) | leafvec,
				  .idx = idx,
				  .units = b->n,
				  .nodes = b->nodes,
				  .leaves = b->leaves};
	return 0;
}

/* The block behind a published dir entry, or 0 for a next-hop leaf entry. */
static uint32_t entry_block(uint64_t entry)
{
	return (uint32_t)entry ? (uint32_t)(entry >> 32) + 1 : 0;
}

/* ---- control state ------------------------------------------------------------------------- */

static uint64_t *dir_alloc(void)
{
	size_t bytes = DIR_SLOTS * sizeof(uint64_t);
	uint64_t *dir = aligned_alloc(2u << 20, bytes);
	if (!dir)
		return NULL;
	/* 4 MiB, 2 MiB aligned: two huge pages if THP is in madvise mode, saving ~1000 TLB
	 * entries on random lookups. Advisory: failure is harmless. */
	(void)madvise(dir, bytes, MADV_HUGEPAGE);
	return dir;
}

static void ctl_free(struct lpm4_ctl *c)
{
	if (!c)
		return;
	if (c->slots)
		for (uint32_t s = 0; s < DIR_SLOTS; s++)
			free(c->slots[s]);
	free(c->slot_best_len);
	free(c->slot_best_nh);
	free(c->short_nh);
	free(c->slots);
	free(c);
}

/* A control state with no routes and no dir; the caller allocates and fills the dir. */
static struct lpm4_ctl *ctl_create(void)
{
	struct lpm4_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slots = calloc(DIR_SLOTS, sizeof(*c->slots));
	c->short_nh = malloc(SHORT_ENTRIES * sizeof(*c->short_nh));
	c->slot_best_nh = malloc(DIR_SLOTS * sizeof(*c->slot_best_nh));
	c->slot_best_len = malloc(DIR_SLOTS * sizeof(*c->slot_best_len));
	if (!c->slots || !c->short_nh || !c->slot_best_nh || !c->slot_best_len) {
		ctl_free(c);
		return NULL;
	}
	memset(c->short_nh, 0xff, SHORT_ENTRIES * sizeof(*c->short_nh)); /* LPM4_NH_NONE */
	memset(c->slot_best_nh, 0xff, DIR_SLOTS * sizeof(*c->slot_best_nh));
	memset(c->slot_best_len, LEN_NONE, DIR_SLOTS * sizeof(*c->slot_best_len));
	return c;
}

/* Drop the next-hop reference of every route in c. */
static void ctl_put_nexthops(struct lpm4_ctl *c, struct nexthop_table *nht)
{
	for (size_t i = 0; i < SHORT_ENTRIES; i++)
		if (c->short_nh[i] != LPM4_NH_NONE)
			nexthop_put(nht, c->short_nh[i]);
	for (uint32_t s = 0; s < DIR_SLOTS; s++) {
		const struct slot_routes *sr = c->slots[s];
		for (uint32_t i = 0; sr && i < sr->count; i++)
			nexthop_put(nht, sr->r[i].nh);
	}
}

/* rcu_retire() callback: ptr is a block's first unit in the pool. */
static void arena_free_cb(void *ctx, void *ptr, size_t bytes)
{
	struct lpm4_arena *a = ctx;
	lpm4_arena_free(a, (uint32_t)((uint32_t *)ptr - a->base),
			(uint32_t)(bytes / sizeof(uint32_t)));
}

static void retire_block(struct lpm4_impl *l, uint32_t idx, uint32_t units)
{
	rcu_retire(&l->retire, l->arena.base + idx, units * sizeof(uint32_t), arena_free_cb,
		   &l->arena);
}

static void set_dir_entry(uint64_t *dir, uint32_t slot, uint64_t entry)
{
	/* Release pairs with the acquire loads of dir entries in lpm4_lookup() and
	 * lpm4_lookup_batch(): the block's contents, written by build_block() before this store,
	 * are visible to any reader that sees the new entry. */
	__atomic_store_n(&dir[slot], entry, __ATOMIC_RELEASE);
}

/*
 * Prepare what lookups should see for one slot from c's current routes, without publishing it.
 * Returns 0 or -ENOMEM (nothing to undo then). Every prepared update is either committed with
 * slot_commit() or dropped with slot_abort(), so multi-slot changes publish all or nothing.
 */
static int slot_prepare(struct lpm4_impl *l, uint32_t slot, struct slot_update *u)
{
	const struct lpm4_ctl *c = l->ctl;
	const struct slot_routes *sr = c->slots[slot];

	if (sr && sr->count > 0)
		return build_block(&l->b, &l->arena, sr, c->slot_best_nh[slot], u);
	return leaf_entry(&l->arena, c->slot_best_nh[slot], u);
}

static void slot_abort(struct lpm4_impl *l, const struct slot_update *u)
{
	lpm4_arena_free(&l->arena, u->idx, u->units);
}

/* Publish a prepared slot and retire what it replaces. Cannot fail. */
static void slot_commit(struct lpm4_impl *l, uint32_t slot, const struct slot_update *u)
{
	struct lpm4_ctl *c = l->ctl;
	struct slot_routes *sr = c->slots[slot];
	uint32_t old = entry_block(c->dir[slot]);

	set_dir_entry(c->dir, slot, u->entry);
	if (old) {
		/* A slot with a block always has its slot_routes: it is freed only when empty,
		 * after its block was replaced by a leaf. */
		c->subtrees--;
		c->nodes -= sr->block_nodes;
		c->leaves -= sr->block_leaves;
		retire_block(l, old, sr->block_units);
	}
	if (u->idx) {
		c->subtrees++;
		c->nodes += u->nodes;
		c->leaves += u->leaves;
	}
	if (sr) {
		sr->block_units = u->units;
		sr->block_nodes = (uint16_t)u->nodes;
		sr->block_leaves = (uint16_t)u->leaves;
		if (sr->count == 0) {
			c->slot_bytes -= sizeof(*sr) + sr->cap * sizeof(sr->r[0]);
			free(sr);
			c->slots[slot] = NULL;
		}
	}
	if (rcu_retire_pending_bytes(&l->retire) >= LPM4_RETIRE_FLUSH_BYTES)
		rcu_retire_flush(&l->retire);
}

/* ---- create / free ------------------------------------------------------------------------- */

struct lpm4 *lpm4_create(struct nexthop_table *nht)
{
	struct lpm4_impl *l = calloc(1, sizeof(*l));
	if (!l)
		goto err;
	l->nht = nht;
	l->retire = (struct rcu_retire_list)RCU_RETIRE_LIST_INIT;
	l->b.u = malloc(MAX_BLOCK_UNITS * sizeof(*l->b.u));
	if (!l->b.u || lpm4_arena_init(&l->arena) < 0)
		goto err_free;
	l->ctl = ctl_create();
	if (!l->ctl)
		goto err_free;
	l->ctl->dir = dir_alloc();
	if (!l->ctl->dir)
		goto err_free;
	for (uint32_t s = 0; s < DIR_SLOTS; s++)
		l->ctl->dir[s] = ENTRY_NONE; /* its leaf is ready from lpm4_arena_init() */
	l->pub.dir = l->ctl->dir;	     /* not shared yet: plain stores are enough */
	l->pub.pool = l->arena.base;
	return &l->pub;

err_free:
	lpm4_free(&l->pub);
err:
	errno = ENOMEM;
	return NULL;
}

/* Free (not retire) every block published in c's dir, and the dir. */
static void dir_free_now(struct lpm4_impl *l, struct lpm4_ctl *c)
{
	if (!c->dir)
		return;
	for (uint32_t s = 0; s < DIR_SLOTS; s++) {
		uint32_t idx = entry_block(c->dir[s]);
		if (idx)
			lpm4_arena_free(&l->arena, idx, c->slots[s]->block_units);
	}
	free(c->dir);
	c->dir = NULL;
}

void lpm4_free(struct lpm4 *lpm)
{
	if (!lpm)
		return;
	struct lpm4_impl *l = impl_of(lpm);
	if (l->ctl) {
		ctl_put_nexthops(l->ctl, l->nht);
		dir_free_now(l, l->ctl);
		ctl_free(l->ctl);
	}
	rcu_retire_destroy(&l->retire); /* no readers any more: the caller guarantees it */
	lpm4_arena_destroy(&l->arena);
	free(l->b.u);
	free(l);
}

void lpm4_sync(struct lpm4 *lpm)
{
	rcu_retire_flush(&impl_of(lpm)->retire);
}

/* ---- single updates ------------------------------------------------------------------------ */

static uint64_t route_key(uint32_t prefix, uint8_t len)
{
	return ((uint64_t)prefix << 8) | len;
}

/* Index of prefix/len in sr, or where it would be inserted; *found says which. */
static uint32_t slot_find(const struct slot_routes *sr, uint32_t prefix, uint8_t len, bool *found)
{
	uint64_t key = route_key(prefix, len);
	uint32_t lo = 0, hi = sr ? sr->count : 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (route_key(sr->r[mid].prefix, sr->r[mid].len) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = sr && lo < sr->count && sr->r[lo].prefix == prefix && sr->r[lo].len == len;
	return lo;
}

/* Make room for one more route in slot s. 0 or -ENOMEM. */
static int slot_reserve(struct lpm4_ctl *c, uint32_t s)
{
	struct slot_routes *sr = c->slots[s];
	if (sr && sr->count < sr->cap)
		return 0;
	uint32_t cap = sr ? sr->cap * 2 : 4;
	struct slot_routes *n = realloc(sr, sizeof(*n) + cap * sizeof(n->r[0]));
	if (!n)
		return -ENOMEM;
	if (!sr)
		*n = (struct slot_routes){0};
	c->slot_bytes += (cap - n->cap) * sizeof(n->r[0]) + (sr ? 0 : sizeof(*n));
	n->cap = cap;
	c->slots[s] = n;
	return 0;
}

/* Add or change a route longer than /19: it lives in exactly one slot. */
static int add_long(struct lpm4_impl *l, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct lpm4_ctl *c = l->ctl;
	uint32_t s = prefix >> SLOT_SHIFT;
	struct slot_update u;
	bool found;
	uint32_t pos = slot_find(c->slots[s], prefix, len, &found);

	if (found) {
		struct slot_routes *sr = c->slots[s];
		uint32_t old_nh = sr->r[pos].nh;
		sr->r[pos].nh = nh;
		if (slot_prepare(l, s, &u) < 0) {
			sr->r[pos].nh = old_nh;
			return -ENOMEM;
		}
		slot_commit(l, s, &u);
		nexthop_put(l->nht, old_nh);
		return 0;
	}
	if (slot_reserve(c, s) < 0)
		return -ENOMEM;
	struct slot_routes *sr = c->slots[s];
	memmove(&sr->r[pos + 1], &sr->r[pos], (sr->count - pos) * sizeof(sr->r[0]));
	sr->r[pos] = (struct route){.prefix = prefix, .nh = nh, .len = len};
	sr->count++;
	if (slot_prepare(l, s, &u) < 0) {
		sr->count--;
		memmove(&sr->r[pos], &sr->r[pos + 1], (sr->count - pos) * sizeof(sr->r[0]));
		return -ENOMEM;
	}
	slot_commit(l, s, &u);
	c->routes++;
	return 0;
}

static int delete_long(struct lpm4_impl *l, uint32_t prefix, uint8_t len)
{
	struct lpm4_ctl *c = l->ctl;
	uint32_t s = prefix >> SLOT_SHIFT;
	struct slot_routes *sr = c->slots[s];
	struct slot_update u;
	bool found;
	uint32_t pos = slot_find(sr, prefix, len, &found);

	if (!found)
		return -ENOENT;
	struct route gone = sr->r[pos];
	sr->count--;
	memmove(&sr->r[pos], &sr->r[pos + 1], (sr->count - pos) * sizeof(sr->r[0]));
	if (slot_prepare(l, s, &u) < 0) {
		memmove(&sr->r[pos + 1], &sr->r[pos], (sr->count - pos) * sizeof(sr->r[0]));
		sr->r[pos] = gone;
		sr->count++;
		return -ENOMEM;
	}
	slot_commit(l, s, &u); /* may free sr */
	c->routes--;
	nexthop_put(l->nht, gone.nh);
	return 0;
}

/*
 * A route of /19 or shorter changes the covering short route of the slots [first, first+count)
 * whose current best has length best_len_max or less. Set their best to (nh, len), rebuild them
 * and publish all of them, or none on -ENOMEM (the caller's short_nh change is then undone by the
 * caller). match_exact: only slots whose best length is exactly best_len_max (for deletes).
 */
struct short_change {
	uint32_t slot;
	uint32_t old_nh;
	uint8_t old_len;
};

static int short_apply(struct lpm4_impl *l, uint32_t first, uint32_t count, uint8_t best_len_max,
		       bool match_exact, uint32_t nh, uint8_t len)
{
	struct lpm4_ctl *c = l->ctl;
	struct short_change stack_chg[8];
	struct slot_update stack_upd[8];
	struct short_change *chg = stack_chg;
	struct slot_update *upd = stack_upd;
	uint32_t n = 0;
	int err = 0;

	if (count > ARRAY_SIZE(stack_chg)) {
		chg = malloc(count * sizeof(*chg));
		upd = malloc(count * sizeof(*upd));
		if (!chg || !upd) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* 1. Change the covering route of the affected slots (control state only). */
	for (uint32_t s = first; s < first + count; s++) {
		uint8_t cur = c->slot_best_len[s];
		bool hit =
		    match_exact ? cur == best_len_max : cur == LEN_NONE || cur <= best_len_max;
		if (!hit)
			continue;
		chg[n++] = (struct short_change){s, c->slot_best_nh[s], cur};
		c->slot_best_nh[s] = nh;
		c->slot_best_len[s] = len;
	}
	/* 2. Build every new subtree before publishing any. */
	for (uint32_t i = 0; i < n; i++) {
		if (slot_prepare(l, chg[i].slot, &upd[i]) < 0) {
			for (uint32_t k = 0; k < i; k++)
				slot_abort(l, &upd[k]);
			for (uint32_t k = 0; k < n; k++) {
				c->slot_best_nh[chg[k].slot] = chg[k].old_nh;
				c->slot_best_len[chg[k].slot] = chg[k].old_len;
			}
			err = -ENOMEM;
			goto out;
		}
	}
	/* 3. Publish: each slot switches atomically, the route as a whole slot by slot (a reader
	 * never sees a half-built slot; across slots it may briefly see old and new routes). */
	for (uint32_t i = 0; i < n; i++)
		slot_commit(l, chg[i].slot, &upd[i]);
out:
	if (chg != stack_chg) {
		free(chg);
		free(upd);
	}
	return err;
}

static int add_short(struct lpm4_impl *l, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct lpm4_ctl *c = l->ctl;
	size_t si = short_index(prefix, len);
	uint32_t old_nh = c->short_nh[si];

	c->short_nh[si] = nh;
	int err =
	    short_apply(l, prefix >> SLOT_SHIFT, 1u << (SHORT_MAX_LEN - len), len, false, nh, len);
	if (err < 0) {
		c->short_nh[si] = old_nh;
		return err;
	}
	if (old_nh != LPM4_NH_NONE)
		nexthop_put(l->nht, old_nh);
	else
		c->routes++;
	return 0;
}

static int delete_short(struct lpm4_impl *l, uint32_t prefix, uint8_t len)
{
	struct lpm4_ctl *c = l->ctl;
	size_t si = short_index(prefix, len);
	uint32_t old_nh = c->short_nh[si];
	uint32_t repl_nh = LPM4_NH_NONE;
	uint8_t repl_len = LEN_NONE;

	if (old_nh == LPM4_NH_NONE)
		return -ENOENT;
	/* The slots this route was best for fall back to the longest shorter route covering it;
	 * that route covers all of them alike. */
	for (int l2 = len - 1; l2 >= 0; l2--) {
		uint32_t nh =
		    c->short_nh[short_index(prefix & prefix_mask((unsigned)l2), (unsigned)l2)];
		if (nh != LPM4_NH_NONE) {
			repl_nh = nh;
			repl_len = (uint8_t)l2;
			break;
		}
	}
	c->short_nh[si] = LPM4_NH_NONE;
	int err = short_apply(l, prefix >> SLOT_SHIFT, 1u << (SHORT_MAX_LEN - len), len, true,
			      repl_nh, repl_len);
	if (err < 0) {
		c->short_nh[si] = old_nh;
		return err;
	}
	c->routes--;
	nexthop_put(l->nht, old_nh);
	return 0;
}

int lpm4_add(struct lpm4 *lpm, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct lpm4_impl *l = impl_of(lpm);
	int err = check_prefix(prefix, len);
	if (err < 0)
		return err;
	/* Hold first: validates nh and keeps it alive whatever happens to the old route. */
	err = nexthop_hold(l->nht, nh);
	if (err < 0)
		return -ENOENT;
	err = len > SHORT_MAX_LEN ? add_long(l, prefix, len, nh) : add_short(l, prefix, len, nh);
	if (err < 0)
		nexthop_put(l->nht, nh);
	return err;
}

int lpm4_delete(struct lpm4 *lpm, uint32_t prefix, uint8_t len)
{
	struct lpm4_impl *l = impl_of(lpm);
	int err = check_prefix(prefix, len);
	if (err < 0)
		return err;
	return len > SHORT_MAX_LEN ? delete_long(l, prefix, len) : delete_short(l, prefix, len);
}

int lpm4_get(const struct lpm4 *lpm, uint32_t prefix, uint8_t len, uint32_t *nh)
{
	const struct lpm4_ctl *c = impl_of(lpm)->ctl;
	int err = check_prefix(prefix, len);
	if (err < 0)
		return err;
	if (len <= SHORT_MAX_LEN) {
		uint32_t v = c->short_nh[short_index(prefix, len)];
		if (v == LPM4_NH_NONE)
			return -ENOENT;
		*nh = v;
		return 0;
	}
	const struct slot_routes *sr = c->slots[prefix >> SLOT_SHIFT];
	bool found;
	uint32_t pos = slot_find(sr, prefix, len, &found);
	if (!found)
		return -ENOENT;
	*nh = sr->r[pos].nh;
	return 0;
}

/*
 * The walk visits the /19 slots in order. Within slot s every route sorts after the routes of
 * earlier slots: first the short routes (/0../19) whose prefix is the slot's first address, by
 * length (a /len prefix starts at slot s only if the low 19 - len bits of s are zero), then the
 * slot's long routes, already sorted by (prefix, len) and all with longer lengths.
 */
static unsigned short_routes_at(const struct lpm4_ctl *c, uint32_t s, uint8_t *lens)
{
	unsigned n = 0;
	for (unsigned len = 0; len <= SHORT_MAX_LEN; len++) {
		uint32_t low = SHORT_MAX_LEN - len; /* bits of s a /len prefix leaves zero */
		if (s & ((1u << low) - 1))
			continue;
		if (c->short_nh[short_index(s << SLOT_SHIFT, len)] != LPM4_NH_NONE)
			lens[n++] = (uint8_t)len;
	}
	return n;
}

int lpm4_walk(const struct lpm4 *lpm, size_t skip, lpm4_walk_fn *fn, void *arg)
{
	const struct lpm4_ctl *c = impl_of(lpm)->ctl;
	if (skip >= c->routes)
		return 0;
	for (uint32_t s = 0; s < DIR_SLOTS; s++) {
		uint8_t lens[SHORT_MAX_LEN + 1];
		unsigned n_short = short_routes_at(c, s, lens);
		const struct slot_routes *sr = c->slots[s];
		size_t n_long = sr ? sr->count : 0;
		if (skip >= n_short + n_long) { /* the whole slot lies before the page */
			skip -= n_short + n_long;
			continue;
		}
		for (unsigned i = 0; i < n_short; i++) {
			if (skip) {
				skip--;
				continue;
			}
			uint32_t prefix = s << SLOT_SHIFT;
			int rc =
			    fn(arg, prefix, lens[i], c->short_nh[short_index(prefix, lens[i])]);
			if (rc)
				return rc;
		}
		for (size_t i = skip; i < n_long; i++) {
			int rc = fn(arg, sr->r[i].prefix, sr->r[i].len, sr->r[i].nh);
			if (rc)
				return rc;
		}
		skip = 0; /* the page started in this slot */
	}
	return 0;
}

/* ---- bulk replacement ---------------------------------------------------------------------- */

/* Stable LSD radix sort of n routes by (prefix, len): by len, then the low and high prefix
 * halves. Stability keeps duplicates in input order, so "the later one wins" is one scan. */
static int sort_routes(struct route *r, size_t n)
{
	struct route *tmp = malloc(n * sizeof(*tmp));
	uint32_t *count = malloc(65536 * sizeof(*count));
	int err = -ENOMEM;
	if (!tmp || !count)
		goto out;
	for (int pass = 0; pass < 3; pass++) {
		memset(count, 0, 65536 * sizeof(*count));
		for (size_t i = 0; i < n; i++) {
			uint32_t d = pass == 0	 ? r[i].len
				     : pass == 1 ? r[i].prefix & 0xffff
						 : r[i].prefix >> 16;
			count[d]++;
		}
		uint32_t sum = 0;
		for (uint32_t d = 0; d < 65536; d++) {
			uint32_t k = count[d];
			count[d] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t d = pass == 0	 ? r[i].len
				     : pass == 1 ? r[i].prefix & 0xffff
						 : r[i].prefix >> 16;
			tmp[count[d]++] = r[i];
		}
		memcpy(r, tmp, n * sizeof(*r));
	}
	err = 0;
out:
	free(count);
	free(tmp);
	return err;
}

/* Fill a fresh control state and its dir from sorted, duplicate-free routes. 0 or -ENOMEM. */
static int ctl_fill(struct lpm4_impl *l, struct lpm4_ctl *c, const struct route *r, size_t n)
{
	/* 1. Routes: short ones direct-indexed, long ones into exact-size per-slot arrays. */
	for (size_t i = 0; i < n; i++) {
		if (r[i].len <= SHORT_MAX_LEN) {
			c->short_nh[short_index(r[i].prefix, r[i].len)] = r[i].nh;
			continue;
		}
		uint32_t s = r[i].prefix >> SLOT_SHIFT;
		size_t j = i;
		uint32_t cnt = 0;
		while (j < n && r[j].prefix >> SLOT_SHIFT == s) /* sorted: one run per slot */
			cnt += r[j++].len > SHORT_MAX_LEN;
		if (!c->slots[s]) {
			struct slot_routes *sr = malloc(sizeof(*sr) + cnt * sizeof(sr->r[0]));
			if (!sr)
				return -ENOMEM;
			*sr = (struct slot_routes){.cap = cnt};
			c->slots[s] = sr;
			c->slot_bytes += sizeof(*sr) + cnt * sizeof(sr->r[0]);
		}
		c->slots[s]->r[c->slots[s]->count++] = r[i];
	}
	c->routes = n;

	/* 2. The covering short route of every slot: paint by increasing length. */
	for (unsigned len = 0; len <= SHORT_MAX_LEN; len++) {
		uint32_t span = 1u << (SHORT_MAX_LEN - len);
		for (uint32_t p = 0; p < (1u << len); p++) {
			uint32_t nh = c->short_nh[((size_t)1 << len) - 1 + p];
			if (nh == LPM4_NH_NONE)
				continue;
			for (uint32_t s = p * span; s < (p + 1) * span; s++) {
				c->slot_best_nh[s] = nh;
				c->slot_best_len[s] = (uint8_t)len;
			}
		}
	}

	/* 3. The dir: leaves, or subtree blocks. */
	for (uint32_t s = 0; s < DIR_SLOTS; s++) {
		struct slot_routes *sr = c->slots[s];
		struct slot_update u;
		if (!sr) {
			if (leaf_entry(&l->arena, c->slot_best_nh[s], &u) < 0)
				return -ENOMEM;
			c->dir[s] = u.entry;
			continue;
		}
		if (build_block(&l->b, &l->arena, sr, c->slot_best_nh[s], &u) < 0)
			return -ENOMEM;
		c->dir[s] = u.entry;
		sr->block_units = u.units;
		sr->block_nodes = (uint16_t)u.nodes;
		sr->block_leaves = (uint16_t)u.leaves;
		if (u.idx) {
			c->subtrees++;
			c->nodes += u.nodes;
			c->leaves += u.leaves;
		}
	}
	return 0;
}

int lpm4_replace_all(struct lpm4 *lpm, const struct lpm4_route *routes, size_t n)
{
	struct lpm4_impl *l = impl_of(lpm);
	struct lpm4_ctl *c = NULL, *old = l->ctl;
	struct route *r = NULL;
	size_t kept = 0;
	int err;

	/* 1. Validate everything before touching anything. */
	for (size_t i = 0; i < n; i++) {
		err = check_prefix(routes[i].prefix, routes[i].len);
		if (err < 0)
			return err;
		if (nexthop_refcount(l->nht, routes[i].nh) == 0)
			return -ENOENT;
	}
	/* 2. Sort and drop earlier duplicates. */
	err = -ENOMEM;
	r = malloc((n ? n : 1) * sizeof(*r));
	if (!r)
		goto err;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct route){routes[i].prefix, routes[i].nh, routes[i].len};
	if (sort_routes(r, n) < 0)
		goto err;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && r[i + 1].prefix == r[i].prefix && r[i + 1].len == r[i].len)
			continue;
		r[kept++] = r[i];
	}
	/* 3. Build the new table beside the old one. */
	c = ctl_create();
	if (!c)
		goto err;
	c->dir = dir_alloc();
	if (!c->dir)
		goto err;
	for (uint32_t s = 0; s < DIR_SLOTS; s++)
		c->dir[s] = ENTRY_NONE; /* no blocks yet, for a clean unwind */
	if (ctl_fill(l, c, r, kept) < 0)
		goto err;
	for (size_t i = 0; i < kept; i++)
		nexthop_hold(l->nht, r[i].nh); /* validated in step 1: cannot fail */
	free(r);

	/* 4. Publish with one store. Release pairs with the acquire load of lpm4.dir in the
	 * lookups: everything ctl_fill() wrote is visible before the new dir is. */
	__atomic_store_n(&l->pub.dir, c->dir, __ATOMIC_RELEASE);
	l->ctl = c;

	/* 5. Retire the old dir and its blocks; the old route set is ours alone. */
	for (uint32_t s = 0; s < DIR_SLOTS; s++) {
		uint32_t idx = entry_block(old->dir[s]);
		if (idx)
			retire_block(l, idx, old->slots[s]->block_units);
	}
	rcu_retire(&l->retire, old->dir, DIR_SLOTS * sizeof(uint64_t), NULL, NULL);
	old->dir = NULL;
	ctl_put_nexthops(old, l->nht);
	ctl_free(old);
	if (rcu_retire_pending_bytes(&l->retire) >= LPM4_RETIRE_FLUSH_BYTES)
		rcu_retire_flush(&l->retire);
	return 0;

err:
	if (c) {
		dir_free_now(l, c);
		ctl_free(c);
	}
	free(r);
	return err;
}

/* ---- lookups and queries ------------------------------------------------------------------- */

/* The stage loops of lpm4_lookup_batch() do 6 to 17 instructions per address, of which three
 * are loop overhead; GCC does not unroll at -O2. */
#define UNROLL_4 _Pragma("GCC unroll 4")

/*
 * Batch lookup, in stages so that each stage's cache misses overlap across the chunk, with no
 * branch that depends on the mix of addresses:
 *   1. prefetch every dir entry;
 *   2. load the entries (load 1) and compute the index of each answer's leaf: in the /19's
 *      block, or for a /19 with one answer its next hop's leaf (leafvec 0: rank 0). Prefetch it;
 *   3. read the leaves (load 2). A child reference (a /25 or longer route under the slot;
 *      0.07% of lookups on the full table: a well-predicted branch) is finished by
 *      lpm4_descend_();
 *   4. count the answers, four at a time.
 */
unsigned lpm4_lookup_batch(const struct lpm4 *lpm, const uint32_t *addrs, uint32_t *nh, unsigned n)
{
	/* Acquire pairs with the release store in lpm4_replace_all(). */
	const uint64_t *dir = __atomic_load_n(&lpm->dir, __ATOMIC_ACQUIRE);
	const uint32_t *pool = lpm->pool;
	unsigned found = 0;

	while (n > 0) {
		unsigned m = n < LPM4_BATCH_MAX ? n : LPM4_BATCH_MAX;
		uint32_t leaf[LPM4_BATCH_MAX];

		/* 1. */
		UNROLL_4
		for (unsigned i = 0; i < m; i++)
			__builtin_prefetch(&dir[addrs[i] >> SLOT_SHIFT]);
		/* 2. Acquire pairs with set_dir_entry(): the block behind the entry is complete. */
		UNROLL_4
		for (unsigned i = 0; i < m; i++) {
			uint32_t a = addrs[i];
			uint64_t e = __atomic_load_n(&dir[a >> SLOT_SHIFT], __ATOMIC_ACQUIRE);
			/* popcount(leafvec & bits 0..v) as popcount(leafvec << (31 - v)), where
			 * 31 - v = ~a >> 8 & 31: fewer instructions than building the mask. */
			uint32_t rank = (uint32_t)__builtin_popcount(
			    (uint32_t)e << ((~a >> (32 - L2_OFF)) & ((1u << LPM4_L1_BITS) - 1)));
			leaf[i] = (uint32_t)(e >> 32) + rank;
			__builtin_prefetch(&pool[leaf[i]]);
		}
		/* 3. */
		UNROLL_4
		for (unsigned i = 0; i < m; i++) {
			uint32_t x = pool[leaf[i]];
			if (unlikely(lpm4_is_child_(x)))
				x = lpm4_descend_(pool, x, addrs[i]);
			nh[i] = x;
		}
		/* 4. Subtracting the all-ones compare result counts the misses per lane. */
		__m128i none = _mm_set1_epi32(-1), misses = _mm_setzero_si128();
		unsigned i = 0;
		for (; i + 4 <= m; i += 4) {
			__m128i v = _mm_loadu_si128((const __m128i *)(nh + i));
			misses = _mm_sub_epi32(misses, _mm_cmpeq_epi32(v, none));
		}
		misses = _mm_add_epi32(misses, _mm_shuffle_epi32(misses, 0x4e)); /* lanes 2,3,0,1 */
		misses = _mm_add_epi32(misses, _mm_shuffle_epi32(misses, 0xb1)); /* lanes 1,0,3,2 */
		found += m - (unsigned)_mm_cvtsi128_si32(misses);
		for (; i < m; i++)
			found -= nh[i] == LPM4_NH_NONE;
		addrs += m;
		nh += m;
		n -= m;
	}
	return found;
}

void lpm4_get_stats(const struct lpm4 *lpm, struct lpm4_stats *st)
{
	const struct lpm4_impl *l = impl_of(lpm);
	const struct lpm4_ctl *c = l->ctl;
	*st = (struct lpm4_stats){
	    .routes = c->routes,
	    .subtrees = c->subtrees,
	    .nodes = c->nodes,
	    .leaves = c->leaves,
	    .lookup_bytes = DIR_SLOTS * sizeof(uint64_t) + lpm4_arena_footprint(&l->arena),
	    .control_bytes = sizeof(*l) + sizeof(*c) +
			     DIR_SLOTS * (sizeof(*c->slots) + sizeof(*c->slot_best_nh) +
					  sizeof(*c->slot_best_len)) +
			     SHORT_ENTRIES * sizeof(*c->short_nh) + c->slot_bytes +
			     MAX_BLOCK_UNITS * sizeof(*l->b.u),
	    .pending_bytes = rcu_retire_pending_bytes(&l->retire),
	};
}

int lpm4_parse_prefix(const char *s, uint32_t *prefix, uint8_t *len)
{
	/* The project's one prefix parser (ipaddr.h), IPv4 only, host bits left to lpm4_add. */
	struct ip_prefix p;
	if (ip_prefix_parse(s, strlen(s), IP_PREFIX_KEEP_HOST_BITS | IP_PREFIX_ADDR_IS_HOST, &p,
			    NULL) != 0 ||
	    p.addr.family != AF_INET)
		return -EINVAL;
	*prefix = p.addr.v4;
	*len = p.len;
	return 0;
}
