/*
 * lpm4_arena.h (private to lpm4.c): the pool lpm4's leaves and subtree blocks live in.
 *
 * Lookups name everything by a 32-bit index (in 4-byte units) from one base address, so that a
 * dir entry can hold an index and the first node's bitmap in one 64-bit word that is published
 * with one atomic store. The arena is therefore one contiguous virtual reservation
 * (ARENA_RESERVE_BYTES of PROT_NONE: no memory, no commit charge) made readable and writable
 * piece by piece as it is needed. The base never moves: readers may keep it for the table's life.
 *
 *   0                    2^24  ARENA_BLOCKS_START        committed             reserved
 *   | next-hop leaves     |NONE| pad | blocks, free blocks | (bump) | PROT_NONE     |
 *     unit nh holds nh,                 2 MiB steps, MADV_HUGEPAGE
 *     4 KiB pages made usable
 *     on first use
 *
 * Next-hop leaves: unit i holds the value i, and unit ARENA_NH_LIMIT holds UINT32_MAX, so that a
 * dir entry for a /19 with one answer can point at a leaf like any other entry (the lookup then
 * needs no branch and no select). A page is filled when it is made usable and never written
 * again, so readers never race with a writer there.
 *
 * Blocks: sizes are rounded up to ARENA_GRAIN_UNITS (8 bytes: child nodes start with a 64-bit
 * bitmap); freed blocks go to exact-size free lists whose next index is kept in the free block
 * itself (no per-block header). Index 0 is never a block, so 0 means "none".
 * One owner thread (the lpm4 writer); no locking.
 */
#ifndef IXYD_LPM4_ARENA_H
#define IXYD_LPM4_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define ARENA_GRAIN_UNITS   2u		 /* block allocation granule: 2 x 4 bytes */
#define ARENA_MAX_UNITS	    16384u	 /* largest block (lpm4.c asserts its worst case fits) */
#define ARENA_STEP_BYTES    (2u << 20)	 /* block commit granule: one huge page */
#define ARENA_PAGE_BYTES    4096u	 /* next-hop leaf commit granule */
#define ARENA_RESERVE_BYTES (1ull << 30) /* address space per table: 2^28 units */
#define ARENA_NH_LIMIT	    (1u << 24)	 /* next hops 0 .. 2^24 - 1 have a leaf; 2^24: none */
#define ARENA_NH_PAGES	    ((ARENA_NH_LIMIT + 1) * 4u / ARENA_PAGE_BYTES + 1)
/* First block unit: after the next-hop leaves, on a 2 MiB boundary. */
#define ARENA_BLOCKS_START                                                                         \
	(((ARENA_NH_LIMIT + 1) * 4ull + ARENA_STEP_BYTES - 1) / ARENA_STEP_BYTES *                 \
	 ARENA_STEP_BYTES / 4)

struct lpm4_arena {
	uint32_t *base; /* 2 MiB aligned start of the reservation; NULL before init */
	void *map;	/* what mmap returned, for munmap */
	size_t map_bytes;
	size_t committed_units; /* [ARENA_BLOCKS_START, committed_units) is read/write */
	size_t bump_units;	/* [bump_units, committed_units) was never handed out */
	size_t used_units;	/* blocks handed out and not freed (rounded sizes) */
	size_t nh_pages;	/* next-hop leaf pages made usable */
	/* Free lists by size in granules (0: empty), and a bit per next-hop leaf page made usable.
	 */
	uint32_t free_head[ARENA_MAX_UNITS / ARENA_GRAIN_UNITS + 1];
	uint64_t nh_page_ready[(ARENA_NH_PAGES + 63) / 64];
};

/* Reserve the address space and make the leaf of UINT32_MAX (no route) usable. 0, or -ENOMEM. */
int lpm4_arena_init(struct lpm4_arena *a);
/* Find the leaf holding nh (< ARENA_NH_LIMIT, or UINT32_MAX), making its page usable first if
 * needed: 0 and *idx, or -ENOMEM. */
int lpm4_arena_nh_leaf(struct lpm4_arena *a, uint32_t nh, uint32_t *idx);
/* Allocate units (1..ARENA_MAX_UNITS) 4-byte units, 8-byte aligned. Returns the index of the
 * first unit, or 0 when the reservation or the system is out of memory. */
uint32_t lpm4_arena_alloc(struct lpm4_arena *a, uint32_t units);
/* Free a block of the size it was allocated with. Index 0 is a no-op. */
void lpm4_arena_free(struct lpm4_arena *a, uint32_t idx, uint32_t units);
/* Bytes made usable (committed), whether in use or not. */
size_t lpm4_arena_footprint(const struct lpm4_arena *a);
/* Bytes of blocks handed out and not freed. */
size_t lpm4_arena_used_bytes(const struct lpm4_arena *a);
/* Release the reservation. A zeroed or destroyed arena is a no-op. */
void lpm4_arena_destroy(struct lpm4_arena *a);

#endif
