/* lpm4_arena.c: see lpm4_arena.h. */
#include "lpm4_arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compiler.h"

static int add_chunk(struct lpm4_arena *a)
{
	if (a->n_chunks == a->cap_chunks) {
		size_t cap = a->cap_chunks ? a->cap_chunks * 2 : 8;
		void **chunks = realloc(a->chunks, cap * sizeof(*chunks));
		if (!chunks)
			return -1;
		a->chunks = chunks;
		a->cap_chunks = cap;
	}
	char *c = aligned_alloc(ARENA_CHUNK_BYTES, ARENA_CHUNK_BYTES);
	if (!c)
		return -1;
	(void)madvise(c, ARENA_CHUNK_BYTES, MADV_HUGEPAGE); /* advisory */
	a->chunks[a->n_chunks++] = c;
	a->bump = c;
	a->bump_end = c + ARENA_CHUNK_BYTES;
	return 0;
}

void *lpm4_arena_alloc(struct lpm4_arena *a, size_t bytes)
{
	size_t size = ALIGN_UP(bytes, (size_t)ARENA_ALIGN);
	if (size > ARENA_MAX_CLASS_BYTES) {
		void *p = malloc(size);
		if (p)
			a->large_bytes += size;
		return p;
	}
	void **head = &a->free_list[size / ARENA_ALIGN];
	if (*head) {
		void *p = *head;
		memcpy(head, p, sizeof(void *)); /* next pointer kept in the free block itself */
		return p;
	}
	if ((size_t)(a->bump_end - a->bump) < size && add_chunk(a) < 0)
		return NULL;
	void *p = a->bump;
	a->bump += size;
	return p;
}

void lpm4_arena_free(struct lpm4_arena *a, void *p, size_t bytes)
{
	size_t size = ALIGN_UP(bytes, (size_t)ARENA_ALIGN);
	if (!p)
		return;
	if (size > ARENA_MAX_CLASS_BYTES) {
		a->large_bytes -= size;
		free(p);
		return;
	}
	void **head = &a->free_list[size / ARENA_ALIGN];
	memcpy(p, head, sizeof(void *));
	*head = p;
}

size_t lpm4_arena_footprint(const struct lpm4_arena *a)
{
	return a->n_chunks * ARENA_CHUNK_BYTES + a->large_bytes;
}

void lpm4_arena_destroy(struct lpm4_arena *a)
{
	for (size_t i = 0; i < a->n_chunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
	memset(a, 0, sizeof(*a));
}
