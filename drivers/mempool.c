/*
 * mempool.c: fixed-size packet buffers in DMA memory, handed out from a stack of free indices,
 * with a small lock-free cache per thread in front of it. See mempool.h for the buffer layout and
 * the threading rules.
 *
 * Where a free buffer can be:
 *   - on the shared stack (free_stack[0 .. free_top), under the pool's lock), or
 *   - in one thread's cache for this pool (caches[slot], touched only by the thread owning slot).
 * A thread gets a slot the first time it allocates or frees (slot_of_this_thread()); the slot is
 * given back, and every cache it holds emptied onto the stacks, when the thread exits (the
 * destructor of a pthread key). Threads beyond MEMPOOL_MAX_THREADS, and pools too small to
 * spare a cache, use the stack directly. A cache is refilled and emptied half a cache at a time,
 * so a thread that allocates and frees a batch per loop takes the lock about once every
 * cache_cap / (2 * batch) loops.
 *
 * A pool freed while buffers are out is released by whoever brings the last one back to the
 * stack. Buffers in other threads' caches count as out (their owners may be using the cache
 * right now, and nobody else may touch it): a thread that frees into a dying pool empties its own
 * cache for that pool onto the stack, and so does every thread when it exits.
 */
#include "mempool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "memory.h"

/* Threads that may hold a cache at once, process-wide. */
#define MEMPOOL_MAX_THREADS 32
/* Largest cache per thread and pool, in buffers. A pool's own is at most num_bufs / (2 *
 * MEMPOOL_MAX_THREADS), so all caches together never park more than half of a pool: a cache
 * is emptied only when it overflows or its thread exits, and a thread that stopped freeing into
 * a pool (its traffic went elsewhere) must not be able to starve the pool's receiver for good.
 * Pools whose share would be under MEMPOOL_CACHE_MIN have none (mempool_create()). In the
 * common case, one thread allocating and freeing the same batch size in turn, a cache of twice
 * the batch never touches the lock. */
#define MEMPOOL_CACHE_MAX 256
#define MEMPOOL_CACHE_MIN 16

struct mempool_cache {
	/* Buffers bufs[0 .. n). Only the owning thread writes n; mempool_free_count() reads it
	 * from anywhere, so both sides use relaxed atomics: a statistic, never torn. */
	uint32_t n;
	struct pkt_buf *bufs[MEMPOOL_CACHE_MAX];
} __cache_aligned;

struct mempool {
	/* The free stack: free_stack[0 .. free_top) are indices of buffers on it. It is guarded
	 * by lock; a spinlock because every critical section is a short copy of at most half a
	 * cache of indices. */
	pthread_spinlock_t lock;
	uint32_t free_top;
	uint32_t *free_stack;
	/* Set by mempool_free() while buffers are still out (in a caller's hands, in another
	 * device's tx ring, in another thread's cache); written under lock, read without it on
	 * the free path (see pkt_buf_free_batch()). */
	bool dying;
	/* Set under lock by the one caller that decides to destroy the pool. */
	bool released;
	uint32_t num_bufs;
	uint32_t buf_size;
	uint32_t cache_cap; /* buffers per thread cache; 0: no caches */
	struct dma_region mem;
	struct mempool *reg_prev, *reg_next; /* in the registry, under registry_lock */
	struct mempool_cache caches[MEMPOOL_MAX_THREADS];
};

/* Every live pool, so that a thread exiting can empty its caches into each. Taken on the control
 * path only: pool creation and destruction, thread start and exit. Never held while waiting for
 * a pool's lock to be released by a thread that might take registry_lock next: pool locks are
 * always innermost. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mempool *registry;
static uint32_t slots_used; /* bit i: cache slot i belongs to a live thread; under registry_lock */

/* This thread's cache slot: -1 not yet asked for, -2 none left (use the stack), else the slot. */
static __thread int this_slot = -1;
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;

static inline struct pkt_buf *buf_at(const struct mempool *pool, uint32_t index)
{
	return (struct pkt_buf *)((uint8_t *)pool->mem.virt + (size_t)index * pool->buf_size);
}

static void registry_add(struct mempool *pool)
{
	pthread_mutex_lock(&registry_lock);
	pool->reg_next = registry;
	if (registry)
		registry->reg_prev = pool;
	registry = pool;
	pthread_mutex_unlock(&registry_lock);
}

/* Under registry_lock. */
static void registry_remove_locked(struct mempool *pool)
{
	if (pool->reg_prev)
		pool->reg_prev->reg_next = pool->reg_next;
	else
		registry = pool->reg_next;
	if (pool->reg_next)
		pool->reg_next->reg_prev = pool->reg_prev;
}

static void destroy_locked(struct mempool *pool)
{
	registry_remove_locked(pool);
	pthread_spin_destroy(&pool->lock);
	dma_free(&pool->mem);
	free(pool->free_stack);
	free(pool);
}

static void mempool_destroy(struct mempool *pool)
{
	pthread_mutex_lock(&registry_lock);
	destroy_locked(pool);
	pthread_mutex_unlock(&registry_lock);
}

/* Under pool->lock: true for exactly one caller, once the pool is dying and every buffer is
 * back on the stack; that caller destroys the pool after dropping the lock. After
 * mempool_free() nobody allocates, so the stack cannot shrink again. */
static bool claim_release(struct mempool *pool)
{
	if (!pool->dying || pool->released || pool->free_top != pool->num_bufs)
		return false;
	pool->released = true;
	return true;
}

/* Under pool->lock: move n buffers onto the stack. */
static void stack_push(struct mempool *pool, struct pkt_buf *const *bufs, uint32_t n)
{
	uint32_t top = pool->free_top;
	/* More frees than buffers means a double free, a bug of the caller. Debug builds stop
	 * here; release builds drop the excess rather than write past the stack. */
	assert(top + n <= pool->num_bufs);
	if (unlikely(top + n > pool->num_bufs)) {
		LOG_ERR_RL("mempool", "double free: %u buffers returned to a pool with room for %u",
			   n, pool->num_bufs - top);
		n = pool->num_bufs - top;
	}
	for (uint32_t i = 0; i < n; i++)
		pool->free_stack[top++] = bufs[i]->pool_index;
	/* Pairs with the relaxed load in mempool_free_count(); the lock orders everything else. */
	__atomic_store_n(&pool->free_top, top, __ATOMIC_RELAXED);
}

/* Under pool->lock: take up to n buffers off the stack; returns how many. */
static uint32_t stack_pop(struct mempool *pool, struct pkt_buf **bufs, uint32_t n)
{
	uint32_t top = pool->free_top;
	uint32_t take = MIN(n, top);
	for (uint32_t i = 0; i < take; i++)
		bufs[i] = buf_at(pool, pool->free_stack[--top]);
	__atomic_store_n(&pool->free_top, top, __ATOMIC_RELAXED);
	return take;
}

/* Empty one cache onto the stack. The caller owns the cache (it is its thread's, or the thread
 * is exiting) and holds pool->lock. */
static void cache_drain_locked(struct mempool *pool, struct mempool_cache *c)
{
	uint32_t n = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
	/* The cache's count drops before the stack's rises, so mempool_free_count() may read
	 * low for a moment, never more than the pool holds. */
	__atomic_store_n(&c->n, 0, __ATOMIC_RELAXED);
	stack_push(pool, c->bufs, n);
}

/* pthread key destructor: the thread owning slot (value - 1) is exiting. */
static void slot_release(void *value)
{
	unsigned slot = (unsigned)(uintptr_t)value - 1;
	pthread_mutex_lock(&registry_lock);
	struct mempool *next;
	for (struct mempool *pool = registry; pool; pool = next) {
		next = pool->reg_next;
		struct mempool_cache *c = &pool->caches[slot];
		if (__atomic_load_n(&c->n, __ATOMIC_RELAXED) == 0)
			continue;
		pthread_spin_lock(&pool->lock);
		cache_drain_locked(pool, c);
		bool release = claim_release(pool);
		pthread_spin_unlock(&pool->lock);
		if (release)
			destroy_locked(pool);
	}
	slots_used &= ~(1u << slot);
	pthread_mutex_unlock(&registry_lock);
	/* Frees later in this thread's exit (other keys' destructors) use the stacks. */
	this_slot = -2;
}

static void slot_key_create(void)
{
	/* Without the key no thread gets a slot (slot_assign() checks), so a failure here only
	 * costs speed. */
	if (pthread_key_create(&slot_key, slot_release) != 0)
		slot_key = (pthread_key_t)-1;
}

static int slot_assign(void)
{
	pthread_once(&slot_key_once, slot_key_create);
	int slot = -2;
	pthread_mutex_lock(&registry_lock);
	if (slot_key != (pthread_key_t)-1 && ~slots_used != 0) {
		int free_slot = __builtin_ctz(~slots_used);
		/* The destructor runs only for a non-NULL value, hence slot + 1. */
		if (pthread_setspecific(slot_key, (void *)(uintptr_t)(free_slot + 1)) == 0) {
			slots_used |= 1u << free_slot;
			slot = free_slot;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (slot < 0)
		LOG_DEBUG("mempool", "no buffer cache for this thread: %d threads have one",
			  MEMPOOL_MAX_THREADS);
	this_slot = slot;
	return slot;
}
static_assert(MEMPOOL_MAX_THREADS <= 32, "slots_used is a 32-bit mask");
static_assert(PKT_BUF_MAX_SIZE <= HUGE_PAGE_SIZE, "a buffer never spans two huge pages");

/* This thread's cache in pool, or NULL if it has none. */
static inline struct mempool_cache *cache_of_this_thread(struct mempool *pool)
{
	if (unlikely(pool->cache_cap == 0))
		return NULL;
	int slot = this_slot;
	if (unlikely(slot == -1))
		slot = slot_assign();
	return likely(slot >= 0) ? &pool->caches[slot] : NULL;
}

struct mempool *mempool_create(uint32_t num_bufs, uint32_t buf_size)
{
	if (buf_size == 0)
		buf_size = PKT_BUF_DEFAULT_SIZE;
	/* A power of two divides the 2 MiB page, so no buffer straddles two huge pages whose
	 * physical addresses need not be adjacent. */
	if (num_bufs == 0 || buf_size < 256 || buf_size > PKT_BUF_MAX_SIZE ||
	    (buf_size & (buf_size - 1))) {
		LOG_ERR("mempool", "bad pool geometry: %u buffers of %u bytes", num_bufs, buf_size);
		errno = EINVAL;
		return NULL;
	}
	struct mempool *pool = aligned_alloc(CACHE_LINE_SIZE, sizeof(*pool));
	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
	memset(pool, 0, sizeof(*pool));
	int err = -ENOMEM;
	pool->free_stack = calloc(num_bufs, sizeof(*pool->free_stack));
	if (!pool->free_stack)
		goto err_pool;
	err = dma_alloc((size_t)num_bufs * buf_size, false, &pool->mem);
	if (err)
		goto err_stack;
	err = -pthread_spin_init(&pool->lock, PTHREAD_PROCESS_PRIVATE);
	if (err)
		goto err_mem;
	pool->num_bufs = num_bufs;
	pool->buf_size = buf_size;
	pool->cache_cap = MIN(num_bufs / (2 * MEMPOOL_MAX_THREADS), (uint32_t)MEMPOOL_CACHE_MAX);
	if (pool->cache_cap < MEMPOOL_CACHE_MIN)
		pool->cache_cap = 0;

	/* Each buffer's bus address is fixed now, once; memory_virt_to_iova() looks up the
	 * page recorded at allocation, and no buffer crosses a huge page (see above). */
	for (uint32_t i = 0; i < num_bufs; i++) {
		struct pkt_buf *buf = buf_at(pool, i);
		uint64_t iova = memory_virt_to_iova(buf);
		if (iova == 0) {
			err = -errno;
			goto err_lock;
		}
		buf->buf_iova = iova;
		buf->pool = pool;
		buf->pool_index = i;
		pkt_reset(buf, 0);
		pool->free_stack[i] = i;
	}
	pool->free_top = num_bufs;
	registry_add(pool);
	return pool;

err_lock:
	pthread_spin_destroy(&pool->lock);
err_mem:
	dma_free(&pool->mem);
err_stack:
	free(pool->free_stack);
err_pool:
	free(pool);
	errno = -err;
	return NULL;
}

void mempool_free(struct mempool *pool)
{
	if (!pool)
		return;
	struct mempool_cache *c = cache_of_this_thread(pool);
	pthread_spin_lock(&pool->lock);
	if (c)
		cache_drain_locked(pool, c);
	__atomic_store_n(&pool->dying, true, __ATOMIC_RELAXED);
	bool release = claim_release(pool);
	pthread_spin_unlock(&pool->lock);
	if (release)
		mempool_destroy(pool);
	/* Otherwise the free (or thread exit) that brings the last buffer home destroys it. */
}

uint32_t mempool_data_capacity(const struct mempool *pool)
{
	return pool->buf_size - PKT_BUF_DATA_OFF;
}

uint32_t mempool_free_count(const struct mempool *pool)
{
	/* A statistic: relaxed reads without the lock may be momentarily stale, never torn. */
	uint32_t n = __atomic_load_n(&pool->free_top, __ATOMIC_RELAXED);
	if (pool->cache_cap)
		for (unsigned i = 0; i < MEMPOOL_MAX_THREADS; i++)
			n += __atomic_load_n(&pool->caches[i].n, __ATOMIC_RELAXED);
	return n;
}

uint32_t mempool_size(const struct mempool *pool)
{
	return pool->num_bufs;
}

/* Take up to n buffers from this thread's cache c, the most recently freed first (their lines
 * are likeliest still in the CPU's cache); returns how many. */
static inline uint32_t cache_pop(struct mempool_cache *c, struct pkt_buf **bufs, uint32_t n)
{
	uint32_t cn = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
	uint32_t got = MIN(n, cn);
	memcpy(bufs, c->bufs + cn - got, got * sizeof(*bufs));
	__atomic_store_n(&c->n, cn - got, __ATOMIC_RELAXED);
	return got;
}

uint32_t pkt_buf_alloc_batch(struct mempool *pool, struct pkt_buf **bufs, uint32_t n)
{
	struct mempool_cache *c = cache_of_this_thread(pool);
	if (unlikely(!c || n > pool->cache_cap)) {
		/* No cache, or a batch bigger than it: straight from the stack (after what the
		 * cache holds, so a small pool is never short while our own cache has buffers). */
		uint32_t got = c ? cache_pop(c, bufs, n) : 0;
		pthread_spin_lock(&pool->lock);
		got += stack_pop(pool, bufs + got, n - got);
		pthread_spin_unlock(&pool->lock);
		return got;
	}
	uint32_t cn = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
	if (unlikely(cn < n)) {
		/* Refill to half a cache above what this batch needs (n <= cache_cap, so the
		 * target holds the batch and fits the cache). */
		uint32_t want = MIN(pool->cache_cap, pool->cache_cap / 2 + n) - cn;
		pthread_spin_lock(&pool->lock);
		cn += stack_pop(pool, c->bufs + cn, want);
		pthread_spin_unlock(&pool->lock);
		__atomic_store_n(&c->n, cn, __ATOMIC_RELAXED);
	}
	return cache_pop(c, bufs, n);
}

struct pkt_buf *pkt_buf_alloc(struct mempool *pool)
{
	struct pkt_buf *buf;
	return pkt_buf_alloc_batch(pool, &buf, 1) ? buf : NULL;
}

/* Return a run of buffers that all belong to pool. */
static void free_run(struct mempool *pool, struct pkt_buf **bufs, uint32_t n)
{
	struct mempool_cache *c = cache_of_this_thread(pool);
	/* dying is written under the lock by mempool_free(); reading it without the lock may see
	 * it late, and then these buffers wait in our cache until our next free into this pool
	 * or our exit, which both empty the cache of a dying pool. */
	bool dying = __atomic_load_n(&pool->dying, __ATOMIC_RELAXED);
	if (likely(c && !dying && n <= pool->cache_cap)) {
		uint32_t cn = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
		if (unlikely(cn + n > pool->cache_cap)) {
			/* Full: the older half goes to the stack, the hotter half stays. */
			uint32_t out = cn + n - pool->cache_cap / 2;
			out = MIN(out, cn);
			/* Count first, as in cache_drain_locked(). bufs[0 .. out) stay ours to
			 * read: only this thread touches its cache. */
			__atomic_store_n(&c->n, cn - out, __ATOMIC_RELAXED);
			pthread_spin_lock(&pool->lock);
			stack_push(pool, c->bufs, out);
			pthread_spin_unlock(&pool->lock);
			memmove(c->bufs, c->bufs + out, (cn - out) * sizeof(*c->bufs));
			cn -= out;
		}
		memcpy(c->bufs + cn, bufs, n * sizeof(*bufs));
		__atomic_store_n(&c->n, cn + n, __ATOMIC_RELAXED);
		return;
	}
	pthread_spin_lock(&pool->lock);
	stack_push(pool, bufs, n);
	if (c && dying)
		cache_drain_locked(pool, c);
	bool release = claim_release(pool);
	pthread_spin_unlock(&pool->lock);
	if (release)
		mempool_destroy(pool);
}

void pkt_buf_free_batch(struct pkt_buf **bufs, uint32_t n)
{
	uint32_t start = 0;
	while (start < n) {
		struct mempool *pool = bufs[start]->pool;
		uint32_t end = start + 1;
		while (end < n && bufs[end]->pool == pool)
			end++;
		free_run(pool, bufs + start, end - start);
		start = end;
	}
}

void pkt_buf_free(struct pkt_buf *buf)
{
	pkt_buf_free_batch(&buf, 1);
}
