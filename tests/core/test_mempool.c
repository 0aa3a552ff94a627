/*
 * test_mempool: packet buffer pools and DMA memory in IOVA = virtual mode.
 *  - geometry: data[] at byte 128, bus address of data[] recorded, capacity;
 *  - memory_iova_to_virt() accepts ranges inside allocations and refuses the rest;
 *  - exhaustion: alloc returns fewer, then none; everything comes back;
 *  - two threads allocating and freeing each other's buffers keep the count exact and never
 *    hand out one buffer twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "memory.h"
#include "mempool.h"

#define POOL_BUFS 1024

static void test_geometry(void)
{
	struct mempool *pool = mempool_create(POOL_BUFS, 2048);
	CHECK(pool != NULL);
	if (!pool)
		return;
	CHECK_EQ(mempool_size(pool), POOL_BUFS);
	CHECK_EQ(mempool_free_count(pool), POOL_BUFS);
	CHECK_EQ(mempool_data_capacity(pool), 2048 - 128);
	struct pkt_buf *buf = pkt_buf_alloc(pool);
	CHECK(buf != NULL);
	CHECK_EQ((uintptr_t)buf->data - (uintptr_t)buf, 128);
	CHECK_EQ(buf->data_iova, (uintptr_t)buf->data); /* IOVA = VA mode */
	CHECK(buf->pool == pool);
	CHECK(memory_iova_to_virt(buf->data_iova, 1500) == buf->data);
	pkt_buf_free(buf);

	struct dma_region ring;
	CHECK_EQ(dma_alloc(4096, true, &ring), 0);
	CHECK(memory_iova_to_virt(ring.iova, ring.size_bytes) == ring.virt);
	CHECK(memory_iova_to_virt(ring.iova + ring.size_bytes - 8, 8) != NULL);
	CHECK(memory_iova_to_virt(ring.iova + ring.size_bytes - 8, 16) == NULL);
	CHECK(memory_iova_to_virt(12345, 4) == NULL);
	uint64_t ring_iova = ring.iova;
	dma_free(&ring);
	CHECK(ring.virt == NULL);
	CHECK(memory_iova_to_virt(ring_iova, 4) == NULL);
	dma_free(&ring); /* freeing twice is harmless */
	mempool_free(pool);
	mempool_free(NULL);
}

static void test_bad_geometry(void)
{
	errno = 0;
	CHECK(mempool_create(0, 2048) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mempool_create(16, 3000) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mempool_create(16, 128) == NULL && errno == EINVAL);
}

static void test_exhaustion(void)
{
	struct mempool *pool = mempool_create(100, 0);
	CHECK(pool != NULL);
	if (!pool)
		return;
	struct pkt_buf *bufs[128];
	CHECK_EQ(pkt_buf_alloc_batch(pool, bufs, 64), 64);
	CHECK_EQ(pkt_buf_alloc_batch(pool, bufs + 64, 64), 36);
	CHECK_EQ(mempool_free_count(pool), 0);
	CHECK(pkt_buf_alloc(pool) == NULL);
	/* All distinct. */
	for (int i = 0; i < 100; i++)
		for (int j = i + 1; j < 100; j++)
			CHECK(bufs[i] != bufs[j]);
	pkt_buf_free_batch(bufs, 100);
	CHECK_EQ(mempool_free_count(pool), 100);
	mempool_free(pool);
}

struct worker_arg {
	struct mempool *pools[2];
	unsigned seed;
	unsigned long long allocs;
};

/* Each thread takes batches from both pools, marks each buffer as taken (a second owner would
 * see the mark), and frees them in a mixed order, so frees cross pools and threads. */
static void *worker(void *p)
{
	struct worker_arg *arg = p;
	struct pkt_buf *held[64];
	for (int iter = 0; iter < 20000; iter++) {
		uint32_t n = (uint32_t)(rand_r(&arg->seed) % 32) + 1;
		uint32_t got = pkt_buf_alloc_batch(arg->pools[0], held, n);
		got += pkt_buf_alloc_batch(arg->pools[1], held + got, n);
		for (uint32_t i = 0; i < got; i++) {
			uint32_t *mark = (uint32_t *)held[i]->data;
			if (__atomic_exchange_n(mark, 1u, __ATOMIC_RELAXED) != 0)
				CHECK(!"buffer handed out twice");
		}
		for (uint32_t i = 0; i < got; i++)
			__atomic_store_n((uint32_t *)held[i]->data, 0u, __ATOMIC_RELAXED);
		/* Interleave the pools so one free_batch call sees runs of both. */
		for (uint32_t i = 0; i + 1 < got; i += 2) {
			struct pkt_buf *t = held[i];
			held[i] = held[got - 1 - i];
			held[got - 1 - i] = t;
		}
		pkt_buf_free_batch(held, got);
		arg->allocs += got;
	}
	return NULL;
}

static void test_threads(void)
{
	struct mempool *a = mempool_create(256, 0), *b = mempool_create(256, 0);
	CHECK(a && b);
	if (!a || !b)
		return;
	unsigned seed = (unsigned)time(NULL);
	printf("test_threads: seed %u\n", seed);
	struct worker_arg args[4];
	pthread_t threads[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct worker_arg){.pools = {a, b}, .seed = seed + (unsigned)i};
		CHECK_EQ(pthread_create(&threads[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	CHECK_EQ(mempool_free_count(a), 256);
	CHECK_EQ(mempool_free_count(b), 256);
	mempool_free(a);
	mempool_free(b);
}

/* A pool freed while buffers are out stays valid until the last one returns (ASan would flag a
 * use after free in free_run or on the buffers otherwise, and a leak if it never went away). */
static void test_deferred_free(void)
{
	struct mempool *pool = mempool_create(64, 0);
	CHECK(pool != NULL);
	if (!pool)
		return;
	struct pkt_buf *bufs[3];
	CHECK_EQ(pkt_buf_alloc_batch(pool, bufs, 3), 3);
	mempool_free(pool);
	/* The buffers are still ours: writing them must be fine. */
	for (int i = 0; i < 3; i++)
		memset(bufs[i]->data, 0xab, 64);
	pkt_buf_free(bufs[0]);
	CHECK(memory_iova_to_virt(bufs[1]->data_iova, 64) == bufs[1]->data);
	pkt_buf_free_batch(bufs + 1, 2); /* the last ones home: the pool goes now */
}

int main(void)
{
	/* Tests run without root or huge pages: IOVA = virtual, as with an IOMMU. */
	CHECK_EQ(memory_configure(MEMORY_IOVA_VA, false), 0);
	CHECK_EQ(memory_configure(MEMORY_IOVA_PA, false), -EINVAL);
	test_geometry();
	test_bad_geometry();
	test_exhaustion();
	test_threads();
	test_deferred_free();
	return check_report("test_mempool");
}
