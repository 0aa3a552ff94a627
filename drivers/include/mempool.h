/*
 * mempool.h: pools of fixed-size packet buffers in DMA memory.
 *
 * Layout of one buffer (buf_size bytes, default 2048, never crossing a huge page boundary):
 *
 *   0          64                  128                                     buf_size
 *   +----------+-------------------+----------------------------------------+
 *   | metadata | headroom          | data: the frame, starting at data[0]   |
 *   +----------+-------------------+----------------------------------------+
 *                         ^ drivers put their per-packet headers right before data[0]
 *                           (virtio-net header: data - 10), so header and frame are contiguous.
 *
 * Ownership: a buffer belongs to whoever holds the pointer. rx hands buffers to the caller; tx
 * takes the buffers it accepted and returns them to their pool once the device is done;
 * buffers tx did not accept stay with the caller.
 *
 * Thread safety: alloc and free may be called from several threads on the same pool at once
 * (a packet received on one thread may be freed on another). Each thread keeps a small cache of
 * free buffers per pool (1/64 of the pool, at most 256; none for pools under 1024 buffers), so
 * most calls take no lock; refilling or emptying the cache takes the pool's lock once per half a
 * cache. Buffers parked in one thread's cache are not available to the others: a pool may look
 * empty to one thread while others' caches hold some, but never more than half of the pool.
 * A thread's caches go back to the pools when it exits. Use the batch calls on the hot path.
 * mempool_create/free are control-path calls.
 */
#ifndef IXYD_MEMPOOL_H
#define IXYD_MEMPOOL_H

#include <stdint.h>

#include "compiler.h"

#define PKT_BUF_META_SIZE    64
#define PKT_BUF_HEADROOM     64
#define PKT_BUF_DEFAULT_SIZE 2048

struct mempool;

struct pkt_buf {
	uint64_t data_iova;   /* bus address of data[0]; fixed for the life of the buffer */
	struct mempool *pool; /* pool the buffer returns to when freed */
	uint32_t pool_index;  /* index of the buffer in its pool */
	uint32_t len;	      /* frame length in bytes, without FCS */
	uint32_t rss_hash;    /* receive hash if the driver provides one, else 0 */
	uint16_t rx_port;     /* free for the caller: the dataplane records the ingress port */
	uint16_t rx_queue;
	uint8_t reserved[PKT_BUF_META_SIZE - 32];
	uint8_t headroom[PKT_BUF_HEADROOM];
	uint8_t data[] __attribute__((aligned(64)));
};
static_assert(sizeof(struct pkt_buf) == PKT_BUF_META_SIZE + PKT_BUF_HEADROOM,
	      "pkt_buf metadata + headroom must stay two cache lines");
static_assert(offsetof(struct pkt_buf, data) == 128, "data[] starts at byte 128");

/*
 * Create a pool of num_bufs buffers of buf_size bytes each (0: PKT_BUF_DEFAULT_SIZE), in DMA
 * memory. buf_size must be a power of two between 256 and HUGE_PAGE_SIZE so that no buffer
 * crosses a huge page. Returns the pool, or NULL with errno (EINVAL, ENOMEM, see dma_alloc()).
 */
struct mempool *mempool_create(uint32_t num_bufs, uint32_t buf_size);
/*
 * Release the pool. If buffers are still out (held by a caller, or sitting in another device's
 * tx ring), the memory is released when the last of them is freed, so a device may be closed
 * while its received packets are still being sent elsewhere. A buffer another thread frees
 * while this call runs may wait in that thread's cache until that thread frees into this pool
 * again or exits. No allocation may follow this call. NULL is ignored.
 */
void mempool_free(struct mempool *pool);

/* Capacity of data[] in bytes for buffers of this pool. */
uint32_t mempool_data_capacity(const struct mempool *pool);
/* Buffers currently in the pool (not handed out); a snapshot, for tests and statistics. */
uint32_t mempool_free_count(const struct mempool *pool);
uint32_t mempool_size(const struct mempool *pool);

/* Take up to n buffers; returns how many were taken (fewer when the pool runs low). Their
 * metadata other than data_iova, pool and pool_index is what the last user left: len and the
 * rest are the caller's to set. */
uint32_t pkt_buf_alloc_batch(struct mempool *pool, struct pkt_buf **bufs, uint32_t n);
/* One buffer, or NULL when the pool is empty. */
struct pkt_buf *pkt_buf_alloc(struct mempool *pool);
/* Return n buffers to their pools (they may come from different pools). */
void pkt_buf_free_batch(struct pkt_buf **bufs, uint32_t n);
void pkt_buf_free(struct pkt_buf *buf);

#endif
