/*
 * lpm4_ref.h: helpers the LPM tests and lpm-bench share, kept apart from the code under test.
 *
 *  - a brute-force longest-prefix-match reference: one hash set of (prefix, len) probed from /32
 *    down to /0. Nothing in common with lpm4's trie, so agreement means something; fast enough
 *    for millions of lookups on a full table.
 *  - a route file reader for "a.b.c.d/len [nexthop]" lines (the dpdk-test-fib -f format),
 *    reading .xz files through xz(1).
 *  - a small deterministic PRNG, so every random test prints and can replay its seed.
 */
#ifndef IXYD_LPM4_REF_H
#define IXYD_LPM4_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpm4.h"

struct lpm4_ref;

/* Create an empty reference. NULL + errno on failure. */
struct lpm4_ref *lpm4_ref_create(size_t capacity_routes);
void lpm4_ref_free(struct lpm4_ref *ref);
/* Set prefix/len -> nh (replacing). 0, or -ENOSPC when over capacity. */
int lpm4_ref_add(struct lpm4_ref *ref, uint32_t prefix, uint8_t len, uint32_t nh);
/* Remove prefix/len: 0 or -ENOENT. */
int lpm4_ref_delete(struct lpm4_ref *ref, uint32_t prefix, uint8_t len);
/* Longest match: next hop or LPM4_NH_NONE. */
uint32_t lpm4_ref_lookup(const struct lpm4_ref *ref, uint32_t addr);

/*
 * Read a route file. Lines "a.b.c.d/len" or "a.b.c.d/len nexthop"; empty lines and lines starting
 * with '#' are skipped. Routes without a next hop get synthetic ones: line number % 251 + 1 (the
 * shared data README's suggestion). A path ending in ".xz" is read through "xz -dc".
 * On success returns 0 and a malloc'd array in *routes (n in *n; *max_nh the largest next hop).
 * Errors: -errno from opening/reading, -EINVAL for a malformed line (reported on stderr with its
 * line number). Host bits are not checked here.
 */
int route_file_read(const char *path, struct lpm4_route **routes, size_t *n, uint32_t *max_nh);

/* xorshift64*: tiny, fast, deterministic. The state must not be zero. */
static inline uint64_t ref_rand64(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t ref_rand32(uint64_t *state)
{
	return (uint32_t)(ref_rand64(state) >> 32);
}

/* An address inside prefix/len, with random host bits. */
static inline uint32_t ref_addr_in(uint32_t prefix, uint8_t len, uint64_t *state)
{
	uint32_t host = len == 0 ? ~0u : len == 32 ? 0 : ~0u >> len;
	return prefix | (ref_rand32(state) & host);
}

#endif
