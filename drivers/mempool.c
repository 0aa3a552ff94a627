/*
 * mempool.c: fixed-size packet buffers in DMA memory, handed out from a stack of free indices.
 * See mempool.h for the buffer layout and the threading rules.
 */
#include "mempool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "memory.h"

struct mempool {
	/* The free stack: free_stack[0 .. free_top) are indices of buffers in the pool. It is
	 * guarded by lock; a spinlock because every critical section is a short copy of at
	 * most one batch of indices. */
	pthread_spinlock_t lock;
	uint32_t free_top;
	uint32_t *free_stack;
	/* Set by mempool_free() while buffers are still out (in a caller's hands or another
	 * device's tx ring): the last buffer to come back releases the pool. Under lock. */
	bool dying;
	uint32_t num_bufs;
	uint32_t buf_size;
	struct dma_region mem;
};

static inline struct pkt_buf *buf_at(const struct mempool *pool, uint32_t index)
{
	return (struct pkt_buf *)((uint8_t *)pool->mem.virt + (size_t)index * pool->buf_size);
}

struct mempool *mempool_create(uint32_t num_bufs, uint32_t buf_size)
{
	if (buf_size == 0)
		buf_size = PKT_BUF_DEFAULT_SIZE;
	/* A power of two divides the 2 MiB page, so no buffer straddles two huge pages whose
	 * physical addresses need not be adjacent. */
	if (num_bufs == 0 || buf_size < 256 || buf_size > HUGE_PAGE_SIZE ||
	    (buf_size & (buf_size - 1))) {
		LOG_ERR("mempool", "bad pool geometry: %u buffers of %u bytes", num_bufs, buf_size);
		errno = EINVAL;
		return NULL;
	}
	struct mempool *pool = calloc(1, sizeof(*pool));
	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
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

	/* Each buffer's bus address is fixed now, once; memory_virt_to_iova() looks up the
	 * page recorded at allocation, and no buffer crosses a huge page (see above). */
	for (uint32_t i = 0; i < num_bufs; i++) {
		struct pkt_buf *buf = buf_at(pool, i);
		uint64_t iova = memory_virt_to_iova(buf->data);
		if (iova == 0) {
			err = -errno;
			goto err_lock;
		}
		buf->data_iova = iova;
		buf->pool = pool;
		buf->pool_index = i;
		buf->len = 0;
		pool->free_stack[i] = i;
	}
	pool->free_top = num_bufs;
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

static void mempool_destroy(struct mempool *pool)
{
	pthread_spin_destroy(&pool->lock);
	dma_free(&pool->mem);
	free(pool->free_stack);
	free(pool);
}

void mempool_free(struct mempool *pool)
{
	if (!pool)
		return;
	pthread_spin_lock(&pool->lock);
	bool all_home = pool->free_top == pool->num_bufs;
	pool->dying = !all_home;
	pthread_spin_unlock(&pool->lock);
	if (all_home)
		mempool_destroy(pool);
	/* Otherwise free_run() destroys it when the last buffer comes back. */
}

uint32_t mempool_data_capacity(const struct mempool *pool)
{
	return pool->buf_size - (uint32_t)offsetof(struct pkt_buf, data);
}

uint32_t mempool_free_count(const struct mempool *pool)
{
	/* A statistic: a relaxed read without the lock may be momentarily stale, never torn. */
	return __atomic_load_n(&pool->free_top, __ATOMIC_RELAXED);
}

uint32_t mempool_size(const struct mempool *pool)
{
	return pool->num_bufs;
}

uint32_t pkt_buf_alloc_batch(struct mempool *pool, struct pkt_buf **bufs, uint32_t n)
{
	pthread_spin_lock(&pool->lock);
	uint32_t take = MIN(n, pool->free_top);
	uint32_t top = pool->free_top;
	for (uint32_t i = 0; i < take; i++)
		bufs[i] = buf_at(pool, pool->free_stack[--top]);
	/* Pairs with the relaxed load in mempool_free_count(); the lock orders everything else. */
	__atomic_store_n(&pool->free_top, top, __ATOMIC_RELAXED);
	pthread_spin_unlock(&pool->lock);
	for (uint32_t i = 0; i < take; i++)
		bufs[i]->len = 0;
	return take;
}

struct pkt_buf *pkt_buf_alloc(struct mempool *pool)
{
	struct pkt_buf *buf;
	return pkt_buf_alloc_batch(pool, &buf, 1) ? buf : NULL;
}

/* Return a run of buffers that all belong to pool. */
static void free_run(struct mempool *pool, struct pkt_buf **bufs, uint32_t n)
{
	pthread_spin_lock(&pool->lock);
	uint32_t top = pool->free_top;
	/* More frees than buffers means a double free: an invariant of the callers. */
	assert(top + n <= pool->num_bufs);
	for (uint32_t i = 0; i < n; i++)
		pool->free_stack[top++] = bufs[i]->pool_index;
	__atomic_store_n(&pool->free_top, top, __ATOMIC_RELAXED);
	/* Only the free that brings the last buffer home sees this true, and after
	 * mempool_free() nobody allocates, so exactly one thread destroys the pool. */
	bool release = pool->dying && top == pool->num_bufs;
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
