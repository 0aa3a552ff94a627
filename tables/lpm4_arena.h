/*
 * lpm4_arena.h (private to lpm4.c): the pool lpm4's subtree blocks live in.
 *
 * Lookups name a block by a 32-bit index (in 4-byte units) from one base address, so that a dir
 * entry can hold a block index and the first node's bitmap in one 64-bit word that is published
 * with one atomic store. The arena is therefore one contiguous virtual reservation
 * (ARENA_RESERVE_BYTES of PROT_NONE: no memory, no commit charge) that is made readable and
 * writable from its start in 2 MiB steps as blocks need it. The base never moves: readers may
 * keep it for the whole life of the table.
 *
 *   base                                           committed                       reserved
 *   |  0  | blocks, free blocks ...  | (bump) unused |         PROT_NONE              |
 *
 * Each 2 MiB step is 2 MiB aligned and advised MADV_HUGEPAGE (advisory), so one TLB entry covers
 * 2 MiB of blocks. Sizes are rounded up to ARENA_GRAIN_UNITS (8 bytes: child nodes start with a
 * 64-bit bitmap); freed blocks go to exact-size free lists whose next index is kept in the free
 * block itself (no per-block header). Index 0 is never handed out, so 0 means "none".
 * One owner thread (the lpm4 writer); no locking.
 */
#ifndef IXYD_LPM4_ARENA_H
#define IXYD_LPM4_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define ARENA_GRAIN_UNITS 2u              /* allocation granule: 2 x 4 bytes */
#define ARENA_MAX_UNITS 16384u            /* largest block (lpm4.c asserts its worst case fits) */
#define ARENA_STEP_BYTES (2u << 20)       /* commit granule: one huge page */
#define ARENA_RESERVE_BYTES (1ull << 30)  /* address space per table: 2^28 units */

struct lpm4_arena {
	uint32_t *base;          /* 2 MiB aligned start of the reservation; NULL before init */
	void *map;               /* what mmap returned, for munmap */
	size_t map_bytes;
	size_t committed_units;  /* [0, committed_units) is read/write */
	size_t bump_units;       /* [bump_units, committed_units) was never handed out */
	size_t used_units;       /* handed out and not freed (rounded sizes) */
	uint32_t free_head[ARENA_MAX_UNITS / ARENA_GRAIN_UNITS + 1]; /* by size in granules; 0: empty */
};

/* Reserve the address space. 0, or -ENOMEM. */
int lpm4_arena_init(struct lpm4_arena *a);
/* Allocate units (1..ARENA_MAX_UNITS) 4-byte units, 8-byte aligned. Returns the index of the
 * first unit, or 0 when the reservation or the system is out of memory. */
uint32_t lpm4_arena_alloc(struct lpm4_arena *a, uint32_t units);
/* Free a block of the size it was allocated with. Index 0 is a no-op. */
void lpm4_arena_free(struct lpm4_arena *a, uint32_t idx, uint32_t units);
/* Bytes made usable (committed), whether in use or not. */
size_t lpm4_arena_footprint(const struct lpm4_arena *a);
/* Bytes handed out and not freed. */
size_t lpm4_arena_used_bytes(const struct lpm4_arena *a);
/* Release the reservation. A zeroed or destroyed arena is a no-op. */
void lpm4_arena_destroy(struct lpm4_arena *a);

#endif
