/* lpm4_arena.c: see lpm4_arena.h. */
#include "lpm4_arena.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "compiler.h"

#define UNIT_BYTES sizeof(uint32_t)

static_assert(ARENA_STEP_BYTES % UNIT_BYTES == 0, "steps hold whole units");
static_assert(ARENA_RESERVE_BYTES / UNIT_BYTES < (1ull << 31),
	      "indices fit 31 bits (lpm4 child references use the top bit)");
static_assert(ARENA_BLOCKS_START * UNIT_BYTES + ARENA_STEP_BYTES <= ARENA_RESERVE_BYTES,
	      "room for blocks after the next-hop leaves");

/* Make the page holding unit idx of the next-hop leaves usable and fill it. 0, or -ENOMEM. */
static int nh_page_ready(struct lpm4_arena *a, uint32_t idx)
{
	size_t page = idx * UNIT_BYTES / ARENA_PAGE_BYTES;
	uint64_t bit = 1ull << (page % 64);
	if (a->nh_page_ready[page / 64] & bit)
		return 0;
	size_t per_page = ARENA_PAGE_BYTES / UNIT_BYTES;
	uint32_t *p = a->base + page * per_page;
	if (mprotect(p, ARENA_PAGE_BYTES, PROT_READ | PROT_WRITE) < 0)
		return -ENOMEM;
	/* Filled before any dir entry can point here (the caller publishes after this returns),
	 * and never written again. */
	for (size_t i = 0; i < per_page; i++) {
		size_t unit = page * per_page + i;
		p[i] = unit < ARENA_NH_LIMIT	? (uint32_t)unit
		       : unit == ARENA_NH_LIMIT ? UINT32_MAX
						: 0;
	}
	a->nh_page_ready[page / 64] |= bit;
	a->nh_pages++;
	return 0;
}

int lpm4_arena_init(struct lpm4_arena *a)
{
	memset(a, 0, sizeof(*a));
	/* PROT_NONE and MAP_NORESERVE: address space only, no memory and no commit charge until
	 * a piece is made usable. One extra step of slack to align the base to 2 MiB. */
	size_t bytes = ARENA_RESERVE_BYTES + ARENA_STEP_BYTES;
	void *m = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	a->map = m;
	a->map_bytes = bytes;
	a->base = (uint32_t *)ALIGN_UP((uintptr_t)m, (uintptr_t)ARENA_STEP_BYTES);
	a->committed_units = a->bump_units = ARENA_BLOCKS_START;
	if (nh_page_ready(a, ARENA_NH_LIMIT) < 0) {
		lpm4_arena_destroy(a);
		return -ENOMEM;
	}
	return 0;
}

int lpm4_arena_nh_leaf(struct lpm4_arena *a, uint32_t nh, uint32_t *idx)
{
	uint32_t i = nh == UINT32_MAX ? ARENA_NH_LIMIT : nh;
	assert(i <= ARENA_NH_LIMIT);
	if (nh_page_ready(a, i) < 0)
		return -ENOMEM;
	*idx = i;
	return 0;
}

/* Make the next block step usable. 0, or -ENOMEM. */
static int grow(struct lpm4_arena *a)
{
	size_t step_units = ARENA_STEP_BYTES / UNIT_BYTES;
	if ((a->committed_units + step_units) * UNIT_BYTES > ARENA_RESERVE_BYTES)
		return -ENOMEM;
	uint32_t *p = a->base + a->committed_units;
	if (mprotect(p, ARENA_STEP_BYTES, PROT_READ | PROT_WRITE) < 0)
		return -ENOMEM;
	(void)madvise(p, ARENA_STEP_BYTES, MADV_HUGEPAGE); /* advisory: failure is harmless */
	a->committed_units += step_units;
	return 0;
}

uint32_t lpm4_arena_alloc(struct lpm4_arena *a, uint32_t units)
{
	assert(units > 0 && units <= ARENA_MAX_UNITS);
	uint32_t size = ALIGN_UP(units, ARENA_GRAIN_UNITS);
	uint32_t *head = &a->free_head[size / ARENA_GRAIN_UNITS];
	uint32_t idx = *head;
	if (idx) {
		*head = a->base[idx]; /* next free block of this size, kept in the block itself */
	} else {
		while (a->bump_units + size > a->committed_units)
			if (grow(a) < 0)
				return 0;
		idx = (uint32_t)a->bump_units;
		a->bump_units += size;
	}
	a->used_units += size;
	return idx;
}

void lpm4_arena_free(struct lpm4_arena *a, uint32_t idx, uint32_t units)
{
	if (!idx)
		return;
	uint32_t size = ALIGN_UP(units, ARENA_GRAIN_UNITS);
	uint32_t *head = &a->free_head[size / ARENA_GRAIN_UNITS];
	a->base[idx] = *head;
	*head = idx;
	a->used_units -= size;
}

size_t lpm4_arena_footprint(const struct lpm4_arena *a)
{
	return (a->committed_units - ARENA_BLOCKS_START) * UNIT_BYTES +
	       a->nh_pages * ARENA_PAGE_BYTES;
}

size_t lpm4_arena_used_bytes(const struct lpm4_arena *a)
{
	return a->used_units * UNIT_BYTES;
}

void lpm4_arena_destroy(struct lpm4_arena *a)
{
	if (a->map)
		munmap(a->map, a->map_bytes);
	memset(a, 0, sizeof(*a));
}
