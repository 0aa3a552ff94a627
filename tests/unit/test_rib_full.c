/*
 * test_rib_full: the RIB (control/rib.c) with the full Internet tables of ../shared/data, both
 * families in one RIB: every prefix found with its next hop, counts right after inserts, deletes
 * of half and a mark/sweep flush; prints the time per operation and the bytes per prefix (figures
 * only, never a failure on time). Skips (77) when the data is absent.
 *
 * usage: test_rib_full IPV4_FILE IPV6_FILE   ("PREFIX [...]" lines, read through xz -dc)
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rib.h"
#include "test_util.h"

struct table {
	struct ip_prefix *p;
	size_t n, cap;
};

/* Append the prefixes of path (a .xz file) to t. 0 or -errno. */
static int read_prefixes(const char *path, struct table *t)
{
	char cmd[4200], line[256];
	if (strchr(path, '\'') || strlen(path) > 4096)
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -errno;
	int err = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, " \t\r\n");
		if (len == 0 || line[0] == '#')
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 1 << 16;
			struct ip_prefix *p = realloc(t->p, cap * sizeof(*p));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			t->p = p;
			t->cap = cap;
		}
		const char *why = NULL;
		if (ip_prefix_parse(line, len, 0, &t->p[t->n], &why) != 0) {
			fprintf(stderr, "%s: bad prefix %.*s: %s\n", path, (int)len, line, why);
			err = -EINVAL;
			break;
		}
		t->n++;
	}
	if (pclose(f) != 0 && err == 0)
		err = -EIO;
	return err;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t nh_of(size_t i)
{
	return (uint32_t)(i % 251 + 1);
}

static void report(const char *what, size_t n, double t0)
{
	double dt = now_s() - t0;
	printf("  %-28s %8zu in %7.1f ms, %6.1f ns each\n", what, n, dt * 1e3,
	       dt * 1e9 / (double)n);
}

static void count_changes(void *arg, const struct ip_prefix *p, uint32_t after)
{
	(void)p;
	*(size_t *)arg += after == RIB_NH_NONE;
}

int main(int argc, char **argv)
{
	struct table t = {0};
	if (argc < 3) {
		fprintf(stderr, "usage: test_rib_full IPV4_FILE IPV6_FILE\n");
		return 2;
	}
	for (int i = 1; i < 3; i++) {
		if (access(argv[i], R_OK) != 0) {
			printf(
			    "test_rib_full: SKIP: %s not found (the shared test data is absent)\n",
			    argv[i]);
			return TEST_SKIP;
		}
		int err = read_prefixes(argv[i], &t);
		if (err < 0) {
			fprintf(stderr, "cannot read %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	struct rib *rib = rib_create(NULL); /* no next-hop table: the figures are the RIB's own */
	if (!rib) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	size_t n4 = 0, dup = 0;
	for (size_t i = 0; i < t.n; i++)
		n4 += t.p[i].addr.family == AF_INET;
	printf("test_rib_full: %zu IPv4 + %zu IPv6 prefixes\n", n4, t.n - n4);

	/* 1. Insert everything (the files' order: sorted, as a BGP full feed arrives). */
	double t0 = now_s(), worst = 0;
	for (size_t i = 0; i < t.n; i++) {
		uint32_t before;
		double t1 = now_s();
		CHECK_EQ(rib_set(rib, &t.p[i], 2, 20, nh_of(i), &before, NULL), 0);
		t1 = now_s() - t1;
		worst = t1 > worst ? t1 : worst;
		dup += before != RIB_NH_NONE; /* a file may list a prefix twice */
	}
	report("insert (timing each)", t.n, t0);
	printf("  slowest insert (the last hash doubling): %.1f ms\n", worst * 1e3);
	CHECK_EQ(rib_count(rib, 0), t.n - dup);
	CHECK_EQ(rib_count_owner(rib, 2, AF_INET6), rib_count(rib, AF_INET6));
	size_t bytes = rib_memory_bytes(rib);
	printf("  memory: %.1f MiB, %.1f bytes per prefix\n", bytes / 1048576.0,
	       (double)bytes / (double)rib_count(rib, 0));

	/* 2. Find every prefix. */
	t0 = now_s();
	size_t wrong = 0;
	for (size_t i = 0; i < t.n; i++) {
		uint32_t nh;
		if (rib_selected(rib, &t.p[i], &nh, NULL) != 0 || (dup == 0 && nh != nh_of(i)))
			wrong++;
	}
	report("lookup", t.n, t0);
	CHECK_EQ(wrong, 0);

	/* 3. A second owner on every other prefix, better: every one of them changes. */
	t0 = now_s();
	for (size_t i = 0; i < t.n; i += 2) {
		uint32_t after;
		CHECK_EQ(rib_set(rib, &t.p[i], 1, 1, 7, NULL, &after), 0);
		CHECK_EQ(after, 7);
	}
	report("second owner on half", (t.n + 1) / 2, t0);
	CHECK_EQ(bytes, rib_memory_bytes(rib)); /* no new prefix: no new memory */

	/* 4. Delete owner 2 from every other prefix (the rest of the table goes). */
	t0 = now_s();
	size_t deleted = 0;
	for (size_t i = 1; i < t.n; i += 2)
		deleted += rib_delete(rib, &t.p[i], 2, NULL, NULL) == 0;
	report("delete half", deleted, t0);
	/* What is left has owner 1's candidate: the prefixes listed at an even position. */
	CHECK_EQ(rib_count(rib, 0), rib_count_owner(rib, 1, 0));

	/* 5. Flush owner 1 by mark and sweep with nothing re-set. */
	size_t gone = 0, had = rib_count_owner(rib, 1, 0);
	t0 = now_s();
	rib_mark_owner(rib, 1);
	size_t swept = rib_sweep_owner(rib, 1, count_changes, &gone);
	report("mark+sweep one owner", swept, t0);
	CHECK_EQ(swept, had);
	CHECK_EQ(rib_count_owner(rib, 1, 0), 0);
	CHECK_EQ(rib_count(rib, 0), rib_count_owner(rib, 2, 0));
	printf("  sweep: %zu prefixes left without a route\n", gone);

	/* 6. Re-insert all (the free list refills the holes: no growth). */
	t0 = now_s();
	for (size_t i = 0; i < t.n; i++)
		CHECK_EQ(rib_set(rib, &t.p[i], 2, 20, nh_of(i), NULL, NULL), 0);
	report("re-insert", t.n, t0);
	CHECK_EQ(rib_count(rib, 0), t.n - dup);
	CHECK_EQ(bytes, rib_memory_bytes(rib));

	t0 = now_s();
	rib_free(rib);
	report("free", t.n, t0);
	free(t.p);
	return test_result("test_rib_full");
}
