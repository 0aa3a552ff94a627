/*
 * lpm4_arena.h (private to lpm4.c): where lpm4's subtree blocks live.
 *
 * Blocks are small (a node and a few dozen leaves, ~100 bytes) and many (~65,000 for a full table).
 * From malloc they would be scattered over the heap with a 16-byte header each; lookups touching
 * random blocks would then miss the TLB as often as the cache. The arena packs them into 2 MiB
 * chunks backed by transparent huge pages (MADV_HUGEPAGE, advisory) with per-size free lists:
 * one TLB entry covers 2 MiB of blocks and there is no per-block header.
 *
 * Sizes are rounded up to ARENA_ALIGN bytes; blocks above ARENA_MAX_CLASS_BYTES (rare: huge
 * subtrees) come from malloc. Free blocks keep their chunk (no return to the OS until
 * lpm4_arena_destroy()). One owner thread (the lpm4 writer); no locking.
 */
#ifndef IXYD_LPM4_ARENA_H
#define IXYD_LPM4_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN 16
#define ARENA_MAX_CLASS_BYTES 4096
#define ARENA_CHUNK_BYTES (2u << 20)

struct lpm4_arena {
	void *free_list[ARENA_MAX_CLASS_BYTES / ARENA_ALIGN + 1]; /* by size / ARENA_ALIGN */
	char *bump;          /* next unused byte of the current chunk */
	char *bump_end;
	void **chunks;       /* every chunk, for destroy */
	size_t n_chunks;
	size_t cap_chunks;
	size_t large_bytes;  /* bytes in malloc'd large blocks */
};

/* Allocate bytes (> 0). NULL on ENOMEM. */
void *lpm4_arena_alloc(struct lpm4_arena *a, size_t bytes);
/* Free a block of the size it was allocated with. NULL is a no-op. */
void lpm4_arena_free(struct lpm4_arena *a, void *p, size_t bytes);
/* Bytes the arena holds from the system (chunks plus large blocks). */
size_t lpm4_arena_footprint(const struct lpm4_arena *a);
/* Release every chunk. Large blocks must have been freed by the owner already. */
void lpm4_arena_destroy(struct lpm4_arena *a);

#endif
