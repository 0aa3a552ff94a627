/*
 * test_util.h: the little the unit tests need: checks that count failures instead of aborting
 * (so one run reports every broken case), a printed and replayable seed, and the ctest skip code.
 */
#ifndef IXYD_TEST_UTIL_H
#define IXYD_TEST_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TEST_SKIP 77 /* ctest SKIP_RETURN_CODE */

static int test_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_failures++;                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			test_failures++;                                                           \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n",          \
				__FILE__, __LINE__, #a, #b, a_, b_);                               \
		}                                                                                  \
	} while (0)

/* The seed for this run: $TEST_SEED if set (to replay a failure), else from the clock. */
static inline uint64_t test_seed(const char *test_name)
{
	const char *env = getenv("TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (seed == 0)
		seed = 1;
	printf("%s: seed %" PRIu64 " (replay with TEST_SEED=%" PRIu64 ")\n", test_name, seed, seed);
	return seed;
}

static inline int test_result(const char *test_name)
{
	if (test_failures) {
		printf("%s: FAILED (%d checks)\n", test_name, test_failures);
		return 1;
	}
	printf("%s: ok\n", test_name);
	return 0;
}

#endif
