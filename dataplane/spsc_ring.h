/*
 * spsc_ring.h: a bounded single-producer single-consumer ring of fixed-size messages.
 *
 * Workers hand requests to the control thread through one of these each (a worker is the only
 * producer of its ring, the control thread the only consumer), so neither side ever takes a lock
 * or does an atomic read-modify-write.
 *
 *   head: next slot the consumer reads   (written by the consumer only)
 *   tail: next slot the producer writes  (written by the producer only)
 *   invariant: 0 <= tail - head <= size  (free-running 32-bit counters; size a power of two, so
 *              the unsigned difference stays right across wrap-around)
 *
 * Header only; the ring is embedded in its owner's struct with a caller-provided slot array.
 */
#ifndef IXYD_SPSC_RING_H
#define IXYD_SPSC_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"

struct spsc_ring {
	/* Producer and consumer indices on their own cache lines: each is written by one side
	 * and only read by the other. */
	uint32_t tail __cache_aligned;
	uint32_t head __cache_aligned;
	uint32_t mask;	     /* size - 1 */
	uint32_t elem_bytes; /* size of one message */
	uint8_t *slots;	     /* size * elem_bytes bytes */
};

/* Set up a ring over slots (size * elem_bytes bytes). size must be a power of two. */
static inline void spsc_ring_init(struct spsc_ring *r, void *slots, uint32_t size,
				  uint32_t elem_bytes)
{
	assert(size && !(size & (size - 1)));
	r->tail = 0;
	r->head = 0;
	r->mask = size - 1;
	r->elem_bytes = elem_bytes;
	r->slots = slots;
}

/* Producer only: copy one message in. Returns false (and copies nothing) when the ring is full. */
static inline bool spsc_ring_push(struct spsc_ring *r, const void *msg)
{
	uint32_t tail = r->tail; /* only we write tail */
	/* Acquire pairs with the consumer's release store of head in spsc_ring_pop(): once we
	 * see a slot freed, the consumer has finished reading it, so overwriting it is safe. */
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	if (tail - head > r->mask)
		return false;
	memcpy(r->slots + (size_t)(tail & r->mask) * r->elem_bytes, msg, r->elem_bytes);
	/* Release pairs with the consumer's acquire load of tail: the message bytes written above
	 * are visible before the consumer can see the slot as filled. */
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer only: copy the oldest message out. Returns false when the ring is empty. */
static inline bool spsc_ring_pop(struct spsc_ring *r, void *msg)
{
	uint32_t head = r->head; /* only we write head */
	/* Acquire pairs with the producer's release store of tail in spsc_ring_push(). */
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (tail == head)
		return false;
	memcpy(msg, r->slots + (size_t)(head & r->mask) * r->elem_bytes, r->elem_bytes);
	/* Release pairs with the producer's acquire load of head: our read of the slot is done
	 * before the producer may reuse it. */
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

#endif
