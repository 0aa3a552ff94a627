/*
 * mempool.h: pools of fixed-size packet buffers in DMA memory, and the accessors every user of a
 * packet buffer goes through to find its frame.
 *
 * Layout of one buffer (buf_size bytes, default 2048, never crossing a huge page boundary):
 *
 *   0          64       80                128                                       buf_size
 *   +----------+--------+-----------------+-----------------------------------------+
 *   | metadata | driver | headroom        | frame as received, at PKT_BUF_DATA_OFF  |
 *   +----------+--------+-----------------+-----------------------------------------+
 *                       ^ PKT_BUF_MIN_DATA_OFF: pkt_push() never moves the start below it,
 *                         so a driver's header (PKT_BUF_DRIVER_ROOM bytes) always fits
 *
 * The frame starts data_off bytes after the buffer's first byte (the struct itself) and is len
 * bytes long: pkt_data() and pkt_data_iova() give its first byte, never assume it is at 128.
 * Drivers receive every frame at the default offset, PKT_BUF_DATA_OFF (128, so a received frame
 * is cache-line aligned), and reset data_off on each buffer they hand out (pkt_reset()): a
 * buffer from the pool carries whatever offset its last user left. pkt_push() and pkt_pull()
 * move the start into and out of the headroom without touching the frame's bytes, for tags such
 * as 802.1Q (IEEE 802.1Q 9.3: 4 bytes each): from the default offset two tags fit with room to
 * spare (48 bytes), and whatever is pushed, PKT_BUF_DRIVER_ROOM bytes stay free before the
 * frame for a driver's per-packet header (the virtio-net header, 10 or 12 bytes, VirtIO 1.1
 * 5.1.6.1), so header and frame are contiguous. On tx a driver sends from the current offset.
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
 * mempool_create/free are control-path calls. The inline accessors below touch only the buffer
 * they are given: any thread that owns it may call them.
 */
#ifndef IXYD_MEMPOOL_H
#define IXYD_MEMPOOL_H

#include <stdint.h>

#include "compiler.h"

#define PKT_BUF_META_SIZE    64
#define PKT_BUF_DEFAULT_SIZE 2048
/* Largest buf_size: every offset into a buffer, one past its end included, fits data_off. */
#define PKT_BUF_MAX_SIZE (1u << 15)
/* Bytes below the start that pkt_push() never takes: a driver's header always fits there. */
#define PKT_BUF_DRIVER_ROOM  16
#define PKT_BUF_MIN_DATA_OFF (PKT_BUF_META_SIZE + PKT_BUF_DRIVER_ROOM)
/* Where drivers receive: two cache lines in, behind the driver's room and 48 bytes of headroom. */
#define PKT_BUF_DATA_OFF 128
#define PKT_BUF_HEADROOM (PKT_BUF_DATA_OFF - PKT_BUF_MIN_DATA_OFF) /* what pkt_push() may take */

struct mempool;

struct pkt_buf {
	uint64_t buf_iova;    /* bus address of the buffer's byte 0 (this struct); fixed */
	struct mempool *pool; /* pool the buffer returns to when freed */
	uint32_t pool_index;  /* index of the buffer in its pool */
	uint32_t len;	      /* frame length in bytes, without FCS */
	uint32_t rss_hash;    /* receive hash if the driver provides one, else 0 */
	uint16_t rx_port;     /* free for the caller: the dataplane records the ingress port */
	uint16_t rx_queue;
	uint16_t data_off; /* the frame's first byte, in bytes from byte 0; see pkt_data() */
	/* Free for the caller, drivers neither read nor set them: the dataplane's classification
	 * (dataplane/rx.c) records the L2 header length (14, or 18 with an 802.1Q tag) and, for
	 * a tagged frame only (l2_len 18: untagged ones keep a stale value, one store less per
	 * packet), the tag's TCI (IEEE 802.1Q 9.6, host order). */
	uint16_t vlan_tci;
	uint8_t l2_len;
	uint8_t reserved[PKT_BUF_META_SIZE - 37];
	/* The rest of the buffer: driver room, headroom, frame. Reach the frame with pkt_data();
	 * declared so the compiler knows the bytes go on past the metadata. */
	uint8_t room[] __cache_aligned;
};
static_assert(sizeof(struct pkt_buf) == PKT_BUF_META_SIZE, "pkt_buf metadata is one cache line");
static_assert(offsetof(struct pkt_buf, l2_len) == 36, "metadata fields are packed as listed");
static_assert(offsetof(struct pkt_buf, room) == PKT_BUF_META_SIZE, "room[] follows the metadata");
static_assert(PKT_BUF_DATA_OFF % CACHE_LINE_SIZE == 0, "received frames start cache-aligned");
static_assert(PKT_BUF_HEADROOM >= 2 * 4, "two 4-byte 802.1Q tags fit in the headroom");
static_assert(PKT_BUF_DRIVER_ROOM >= 12, "the largest virtio-net header (12 bytes) fits");
static_assert(PKT_BUF_MAX_SIZE <= UINT16_MAX, "every offset in a buffer fits data_off");

/* The frame's first byte. const only promises the metadata is not changed: the bytes are the
 * owner's to write. */
static inline uint8_t *pkt_data(const struct pkt_buf *b)
{
	/* b->room - PKT_BUF_META_SIZE + data_off, written so that it compiles to one add. */
	return (uint8_t *)b + b->data_off;
}

/* Bus address of the frame's first byte, for a tx descriptor. */
static inline uint64_t pkt_data_iova(const struct pkt_buf *b)
{
	return b->buf_iova + b->data_off;
}

/* Bus address where a driver has the device write a received frame: the default start,
 * whatever offset the buffer carries now (see pkt_reset()). */
static inline uint64_t pkt_rx_iova(const struct pkt_buf *b)
{
	return b->buf_iova + PKT_BUF_DATA_OFF;
}

/* Make b hold a frame of len bytes at the default offset: what drivers do to every buffer they
 * receive into (the device wrote at pkt_rx_iova()), and what a caller does before it builds a
 * frame in a freshly allocated buffer. */
static inline void pkt_reset(struct pkt_buf *b, uint32_t len)
{
	b->data_off = PKT_BUF_DATA_OFF;
	b->len = len;
}

/* Bytes pkt_push() may still take. */
static inline uint32_t pkt_headroom(const struct pkt_buf *b)
{
	return b->data_off > PKT_BUF_MIN_DATA_OFF ? (uint32_t)b->data_off - PKT_BUF_MIN_DATA_OFF
						  : 0;
}

/* Grow the frame by n bytes at its front (the frame's bytes stay where they are; the n new ones
 * are whatever the buffer held). Returns the new first byte, or NULL with b unchanged if that
 * would leave less than PKT_BUF_DRIVER_ROOM before it. */
static inline uint8_t *pkt_push(struct pkt_buf *b, uint32_t n)
{
	if (unlikely(n > pkt_headroom(b)))
		return NULL;
	b->data_off = (uint16_t)(b->data_off - n);
	b->len += n;
	return pkt_data(b);
}

/* Drop n bytes from the frame's front. Returns the new first byte, or NULL with b unchanged if
 * the frame is shorter than n. */
static inline uint8_t *pkt_pull(struct pkt_buf *b, uint32_t n)
{
	if (unlikely(n > b->len))
		return NULL;
	/* data_off + len never passes buf_size <= PKT_BUF_MAX_SIZE: the sum fits. */
	b->data_off = (uint16_t)(b->data_off + n);
	b->len -= n;
	return pkt_data(b);
}

/*
 * Create a pool of num_bufs buffers of buf_size bytes each (0: PKT_BUF_DEFAULT_SIZE), in DMA
 * memory. buf_size must be a power of two between 256 and PKT_BUF_MAX_SIZE (so no buffer
 * crosses a huge page, and every offset in one fits pkt_buf.data_off). Returns the pool, or NULL
 * with errno (EINVAL, ENOMEM, see dma_alloc()).
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

/* Largest frame a buffer of this pool holds at the default offset: buf_size - PKT_BUF_DATA_OFF. */
uint32_t mempool_data_capacity(const struct mempool *pool);
/* Buffers currently in the pool (not handed out); a snapshot, for tests and statistics. */
uint32_t mempool_free_count(const struct mempool *pool);
uint32_t mempool_size(const struct mempool *pool);

/* Take up to n buffers; returns how many were taken (fewer when the pool runs low). Their
 * metadata other than buf_iova, pool and pool_index is what the last user left: data_off, len
 * and the rest are the caller's to set (pkt_reset()). */
uint32_t pkt_buf_alloc_batch(struct mempool *pool, struct pkt_buf **bufs, uint32_t n);
/* One buffer, or NULL when the pool is empty. */
struct pkt_buf *pkt_buf_alloc(struct mempool *pool);
/* Return n buffers to their pools (they may come from different pools). */
void pkt_buf_free_batch(struct pkt_buf **bufs, uint32_t n);
void pkt_buf_free(struct pkt_buf *buf);

#endif
