/* mac_table.c: see mac_table.h for the design and the safety argument. */
#include "mac_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

#define SLOTS 7

struct mac_bucket {
	uint32_t seq; /* seqlock: odd while a writer holds the bucket */
	uint32_t pad_;
	uint64_t key[SLOTS];   /* MAC << 16 | bridge; 0 = empty */
	uint64_t value[SLOTS]; /* port | last_seen_s << 32 */
	uint64_t pad2_;
} __cache_aligned;
static_assert(sizeof(struct mac_bucket) == 2 * CACHE_LINE_SIZE, "keys in line 1, values in 2");

struct mac_table {
	struct mac_bucket *buckets;
	uint32_t mask; /* buckets - 1 */
	uint32_t capacity;
	uint32_t ageing_s; /* relaxed: read by the ager only */
	/* Counters, updated with relaxed atomic adds: only rare events touch them. Each on its own
	 * line would be nicer under a learning storm; entries is the only one on a hot-ish path. */
	uint64_t entries __cache_aligned;
	uint64_t learned __cache_aligned;
	uint64_t moves;
	uint64_t refused_full;
	uint64_t aged;
	uint64_t flushed;
};

#define VALUE(port, now) ((uint64_t)(port) | (uint64_t)(now) << 32)
#define VALUE_PORT(v)	 ((uint16_t)(v))
#define VALUE_TIME(v)	 ((uint32_t)((v) >> 32))

static uint64_t mac_key(const uint8_t mac[6], uint16_t bridge)
{
	uint64_t m = 0;
	for (int i = 0; i < 6; i++)
		m = m << 8 | mac[i];
	return m << 16 | bridge;
}

static uint32_t key_hash(uint64_t key)
{
#ifdef __SSE4_2__
	/* crc32 is linear: structured keys (sequential MACs) map to structured values. The
	 * multiply spreads them before we take bits for two bucket indices. */
	return (uint32_t)__builtin_ia32_crc32di(0x9e3779b9u, key) * 0x9e3779b1u;
#else
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (uint32_t)key;
#endif
}

/* The two candidate buckets; different whenever the table has two or more buckets. */
static void buckets_of(const struct mac_table *t, uint64_t key, uint32_t *b1, uint32_t *b2)
{
	uint32_t h = key_hash(key);
	*b1 = (h >> 16) & t->mask;
	*b2 = (*b1 ^ (h | 1)) & t->mask;
}

struct mac_table *mac_table_create(const struct mac_table_config *cfg)
{
	if (cfg->capacity == 0 || cfg->capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	struct mac_table *t = aligned_alloc(CACHE_LINE_SIZE, sizeof(*t));
	if (!t)
		goto err;
	memset(t, 0, sizeof(*t));
	/* Room for the capacity at ~60% of the slots: two-choice buckets of 7 rarely overflow. */
	uint32_t n = 2;
	while ((uint64_t)n * SLOTS * 3 < (uint64_t)cfg->capacity * 5)
		n *= 2;
	t->buckets = aligned_alloc(CACHE_LINE_SIZE, n * sizeof(*t->buckets));
	if (!t->buckets)
		goto err_t;
	memset(t->buckets, 0, n * sizeof(*t->buckets));
	t->mask = n - 1;
	t->capacity = cfg->capacity;
	t->ageing_s = cfg->ageing_s ? cfg->ageing_s : MAC_TABLE_DEFAULT_AGEING_S;
	return t;

err_t:
	free(t);
err:
	errno = ENOMEM;
	return NULL;
}

void mac_table_free(struct mac_table *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t);
}

/* ---- the seqlock ---------------------------------------------------------------------------- */

static void bucket_lock(struct mac_bucket *b)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
		/* Acquire on success: our reads of the slots come after the previous writer's
		 * release in bucket_unlock(). */
		if (!(s & 1) && __atomic_compare_exchange_n(&b->seq, &s, s + 1, true,
							    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		__builtin_ia32_pause();
	}
	/* No fence here: every slot store under the lock is a release store (slot_store()), which
	 * orders this odd seq before it. */
}

/*
 * Store one slot word under the bucket lock. Release: a reader whose acquire load in
 * bucket_read() sees this value also sees the odd seq stored before it, so its second seq load
 * differs and it retries. (A release fence after taking the lock would do the same for all
 * stores at once, but ThreadSanitizer does not model fences; on x86 both are plain stores.)
 */
static void slot_store(uint64_t *word, uint64_t v)
{
	__atomic_store_n(word, v, __ATOMIC_RELEASE);
}

static void bucket_unlock(struct mac_bucket *b)
{
	/* Release: all our slot stores happen before the new even seq; pairs with the acquire
	 * load that starts bucket_read() and with the CAS in bucket_lock(). */
	__atomic_store_n(&b->seq, __atomic_load_n(&b->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/*
 * Read key's value from one bucket without writing anything. Returns true and *value if found.
 * Retries while a writer holds the bucket or one ran in between.
 */
static bool bucket_read(const struct mac_bucket *b, uint64_t key, uint64_t *value)
{
	for (;;) {
		/* Acquire pairs with bucket_unlock(): we see at least that writer's stores. */
		uint32_t s1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
		bool found = false;
		uint64_t v = 0;
		if (s1 & 1) {
			__builtin_ia32_pause();
			continue;
		}
		/* Acquire slot loads: they pair with slot_store() (see there), and keep the second
		 * seq load below from being performed before them. */
		for (int i = 0; i < SLOTS; i++) {
			if (__atomic_load_n(&b->key[i], __ATOMIC_ACQUIRE) == key) {
				v = __atomic_load_n(&b->value[i], __ATOMIC_ACQUIRE);
				found = true;
				break;
			}
		}
		if (__atomic_load_n(&b->seq, __ATOMIC_RELAXED) == s1) {
			*value = v;
			return found;
		}
	}
}

static bool table_read(const struct mac_table *t, uint64_t key, uint64_t *value)
{
	uint32_t b1, b2;
	buckets_of(t, key, &b1, &b2);
	return bucket_read(&t->buckets[b1], key, value) || bucket_read(&t->buckets[b2], key, value);
}

/* Under the bucket lock: the slot holding key, or -1. Plain-order atomics: we own the bucket. */
static int slot_find(const struct mac_bucket *b, uint64_t key)
{
	for (int i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&b->key[i], __ATOMIC_RELAXED) == key)
			return i;
	return -1;
}

static int free_slots(const struct mac_bucket *b)
{
	int n = 0;
	for (int i = 0; i < SLOTS; i++)
		n += __atomic_load_n(&b->key[i], __ATOMIC_RELAXED) == 0;
	return n;
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED); /* a counter: no ordering needed */
}

/* ---- learn and look up ---------------------------------------------------------------------- */

int mac_table_learn(struct mac_table *t, const uint8_t mac[6], uint16_t bridge, uint16_t port,
		    uint32_t now_s)
{
	uint64_t key = mac_key(mac, bridge), v;
	uint64_t want = VALUE(port, now_s);

	if ((mac[0] & 1) || (key >> 16) == 0) /* group address, or 00:00:00:00:00:00 */
		return -EINVAL;
	/* 1. The common case writes nothing. */
	if (table_read(t, key, &v) && v == want)
		return MAC_LEARN_KNOWN;

	/* 2. Take both candidate buckets, lower index first (no deadlock, no double insert). */
	uint32_t i1, i2;
	buckets_of(t, key, &i1, &i2);
	struct mac_bucket *lo = &t->buckets[MIN(i1, i2)], *hi = &t->buckets[MAX(i1, i2)];
	bucket_lock(lo);
	if (hi != lo)
		bucket_lock(hi);

	int ret;
	struct mac_bucket *b = lo;
	int slot = slot_find(lo, key);
	if (slot < 0 && hi != lo) {
		b = hi;
		slot = slot_find(hi, key);
	}
	if (slot >= 0) {
		/* 3a. Known: refresh the time, or move it. */
		uint64_t old = __atomic_load_n(&b->value[slot], __ATOMIC_RELAXED);
		ret = VALUE_PORT(old) == port ? MAC_LEARN_KNOWN : MAC_LEARN_MOVED;
		slot_store(&b->value[slot], want);
		if (ret == MAC_LEARN_MOVED)
			stat_add(&t->moves, 1);
		goto unlock;
	}
	/* 3b. New: reserve capacity, then a free slot in the emptier bucket. */
	if (__atomic_add_fetch(&t->entries, 1, __ATOMIC_RELAXED) > t->capacity) {
		__atomic_sub_fetch(&t->entries, 1, __ATOMIC_RELAXED);
		ret = -ENOSPC;
		goto refused;
	}
	b = hi != lo && free_slots(hi) > free_slots(lo) ? hi : lo; /* the emptier one */
	slot = slot_find(b, 0);
	if (slot < 0) {
		__atomic_sub_fetch(&t->entries, 1, __ATOMIC_RELAXED);
		ret = -ENOSPC;
		goto refused;
	}
	slot_store(&b->value[slot], want);
	slot_store(&b->key[slot], key);
	stat_add(&t->learned, 1);
	ret = MAC_LEARN_NEW;
	goto unlock;

refused:
	stat_add(&t->refused_full, 1);
unlock:
	if (hi != lo)
		bucket_unlock(hi);
	bucket_unlock(lo);
	return ret;
}

int mac_table_lookup(const struct mac_table *t, const uint8_t mac[6], uint16_t bridge,
		     uint16_t *port)
{
	uint64_t v;
	if (!table_read(t, mac_key(mac, bridge), &v))
		return -ENOENT;
	*port = VALUE_PORT(v);
	return 0;
}

unsigned mac_table_lookup_batch(const struct mac_table *t, const uint8_t *const macs[],
				const uint16_t bridges[], uint16_t ports[], unsigned n)
{
	uint64_t key[64];
	unsigned found = 0;
	for (unsigned base = 0; base < n; base += 64) {
		unsigned m = MIN(64u, n - base);
		/* 1. Hash everything and start loading the first-choice buckets. */
		for (unsigned i = 0; i < m; i++) {
			uint32_t b1, b2;
			key[i] = mac_key(macs[base + i], bridges[base + i]);
			buckets_of(t, key[i], &b1, &b2);
			__builtin_prefetch(&t->buckets[b1]);
		}
		/* 2. Read. */
		for (unsigned i = 0; i < m; i++) {
			uint64_t v;
			bool hit = table_read(t, key[i], &v);
			ports[base + i] = hit ? VALUE_PORT(v) : MAC_PORT_NONE;
			found += hit;
		}
	}
	return found;
}

/* ---- removal ----------------------------------------------------------------------------------
 */

enum sweep_kind { SWEEP_AGE, SWEEP_ALL, SWEEP_PORT };

static unsigned sweep(struct mac_table *t, enum sweep_kind kind, uint32_t now_s, uint16_t port)
{
	uint32_t ageing = __atomic_load_n(&t->ageing_s, __ATOMIC_RELAXED);
	unsigned removed = 0;
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct mac_bucket *b = &t->buckets[i];
		bool any = false;
		/* Racy peek to skip empty buckets without writing to them. */
		for (int s = 0; s < SLOTS && !any; s++)
			any = __atomic_load_n(&b->key[s], __ATOMIC_RELAXED) != 0;
		if (!any)
			continue;
		bucket_lock(b);
		for (int s = 0; s < SLOTS; s++) {
			if (__atomic_load_n(&b->key[s], __ATOMIC_RELAXED) == 0)
				continue;
			uint64_t v = __atomic_load_n(&b->value[s], __ATOMIC_RELAXED);
			bool gone = kind == SWEEP_ALL ||
				    (kind == SWEEP_PORT && VALUE_PORT(v) == port) ||
				    (kind == SWEEP_AGE && now_s - VALUE_TIME(v) > ageing &&
				     (int32_t)(now_s - VALUE_TIME(v)) > 0);
			if (gone) {
				slot_store(&b->key[s], 0);
				slot_store(&b->value[s], 0);
				removed++;
			}
		}
		bucket_unlock(b);
	}
	__atomic_sub_fetch(&t->entries, removed, __ATOMIC_RELAXED);
	stat_add(kind == SWEEP_AGE ? &t->aged : &t->flushed, removed);
	return removed;
}

unsigned mac_table_age(struct mac_table *t, uint32_t now_s)
{
	return sweep(t, SWEEP_AGE, now_s, 0);
}

unsigned mac_table_flush(struct mac_table *t)
{
	return sweep(t, SWEEP_ALL, 0, 0);
}

unsigned mac_table_flush_port(struct mac_table *t, uint16_t port)
{
	return sweep(t, SWEEP_PORT, 0, port);
}

/* A consistent copy of a bucket's slots (see bucket_read() for why the retry makes it one). */
static void bucket_snapshot(const struct mac_bucket *b, uint64_t key[SLOTS], uint64_t value[SLOTS])
{
	for (;;) {
		/* Acquire pairs with bucket_unlock(), as in bucket_read(). */
		uint32_t s1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			__builtin_ia32_pause();
			continue;
		}
		/* Acquire slot loads pair with slot_store() and keep the second seq load after. */
		for (int i = 0; i < SLOTS; i++) {
			key[i] = __atomic_load_n(&b->key[i], __ATOMIC_ACQUIRE);
			value[i] = __atomic_load_n(&b->value[i], __ATOMIC_ACQUIRE);
		}
		if (__atomic_load_n(&b->seq, __ATOMIC_RELAXED) == s1)
			return;
	}
}

unsigned mac_table_walk(const struct mac_table *t,
			int (*fn)(void *arg, const struct mac_table_entry *e), void *arg)
{
	unsigned n = 0;
	for (uint32_t i = 0; i <= t->mask; i++) {
		uint64_t key[SLOTS], value[SLOTS];
		bucket_snapshot(&t->buckets[i], key, value);
		for (int s = 0; s < SLOTS; s++) {
			if (!key[s])
				continue;
			struct mac_table_entry e = {.bridge = (uint16_t)key[s],
						    .port = VALUE_PORT(value[s]),
						    .last_seen_s = VALUE_TIME(value[s])};
			for (int k = 0; k < 6; k++)
				e.mac[k] = (uint8_t)(key[s] >> (56 - 8 * k));
			n++;
			if (fn(arg, &e))
				return n;
		}
	}
	return n;
}

void mac_table_set_ageing(struct mac_table *t, uint32_t ageing_s)
{
	__atomic_store_n(&t->ageing_s, ageing_s ? ageing_s : MAC_TABLE_DEFAULT_AGEING_S,
			 __ATOMIC_RELAXED);
}

void mac_table_get_stats(const struct mac_table *t, struct mac_table_stats *st)
{
	*st = (struct mac_table_stats){
	    .entries = __atomic_load_n(&t->entries, __ATOMIC_RELAXED),
	    .learned = __atomic_load_n(&t->learned, __ATOMIC_RELAXED),
	    .moves = __atomic_load_n(&t->moves, __ATOMIC_RELAXED),
	    .refused_full = __atomic_load_n(&t->refused_full, __ATOMIC_RELAXED),
	    .aged = __atomic_load_n(&t->aged, __ATOMIC_RELAXED),
	    .flushed = __atomic_load_n(&t->flushed, __ATOMIC_RELAXED),
	};
}
