/*
 * compiler.h: small compiler helpers shared by every layer (branch hints, container_of,
 * cache-line alignment, array sizes). Header only; no state.
 */
#ifndef IXYD_COMPILER_H
#define IXYD_COMPILER_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Get the enclosing struct from a pointer to one of its members. */
#define container_of(ptr, type, member)                                                            \
	((type *)((char *)(1 ? (ptr) : &((type *)0)->member) - offsetof(type, member)))

#define CACHE_LINE_SIZE 64
#define __cache_aligned __attribute__((aligned(CACHE_LINE_SIZE)))
#define __packed	__attribute__((packed))
#define __unused	__attribute__((unused))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Round x up to a multiple of align (a power of two). */
#define ALIGN_UP(x, align) (((x) + ((align)-1)) & ~((__typeof__(x))(align)-1))

/* Compiler-only barrier: stops the compiler from reordering memory accesses across it. */
#define compiler_barrier() __asm__ volatile("" ::: "memory")

#endif
