/* lpm4_ref.c: see lpm4_ref.h. */
#include "lpm4_ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing; key 0 marks an empty slot (real keys have bit 63 set). */
struct ref_entry {
	uint64_t key;
	uint32_t nh;
	uint32_t deleted;
};

struct lpm4_ref {
	struct ref_entry *e;
	size_t mask;
	size_t used;
	size_t capacity;
	uint32_t len_count[33]; /* routes per length, to skip lengths that have none */
};

static uint64_t ref_key(uint32_t prefix, uint8_t len)
{
	return (1ull << 63) | ((uint64_t)len << 32) | prefix;
}

static size_t ref_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key;
}

struct lpm4_ref *lpm4_ref_create(size_t capacity_routes)
{
	struct lpm4_ref *ref = calloc(1, sizeof(*ref));
	size_t slots = 16;
	while (slots < capacity_routes * 2)
		slots *= 2;
	if (!ref)
		return NULL;
	ref->e = calloc(slots, sizeof(*ref->e));
	if (!ref->e) {
		free(ref);
		return NULL;
	}
	ref->mask = slots - 1;
	ref->capacity = capacity_routes;
	return ref;
}

void lpm4_ref_free(struct lpm4_ref *ref)
{
	if (!ref)
		return;
	free(ref->e);
	free(ref);
}

static struct ref_entry *ref_find(const struct lpm4_ref *ref, uint64_t key)
{
	for (size_t i = ref_hash(key) & ref->mask;; i = (i + 1) & ref->mask) {
		if (ref->e[i].key == key || ref->e[i].key == 0)
			return &ref->e[i];
	}
}

int lpm4_ref_add(struct lpm4_ref *ref, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct ref_entry *e = ref_find(ref, ref_key(prefix, len));
	if (e->key == 0) {
		/* Deleted entries keep their key (a tombstone), so "used" bounds probe lengths. */
		if (ref->used >= ref->capacity)
			return -ENOSPC;
		e->key = ref_key(prefix, len);
		ref->used++;
	} else if (!e->deleted) {
		e->nh = nh;
		return 0;
	}
	e->nh = nh;
	e->deleted = 0;
	ref->len_count[len]++;
	return 0;
}

int lpm4_ref_delete(struct lpm4_ref *ref, uint32_t prefix, uint8_t len)
{
	struct ref_entry *e = ref_find(ref, ref_key(prefix, len));
	if (e->key == 0 || e->deleted)
		return -ENOENT;
	e->deleted = 1;
	ref->len_count[len]--;
	return 0;
}

uint32_t lpm4_ref_lookup(const struct lpm4_ref *ref, uint32_t addr)
{
	for (int len = 32; len >= 0; len--) {
		if (ref->len_count[len] == 0)
			continue;
		uint32_t mask = len ? ~0u << (32 - len) : 0;
		const struct ref_entry *e = ref_find(ref, ref_key(addr & mask, (uint8_t)len));
		if (e->key != 0 && !e->deleted)
			return e->nh;
	}
	return LPM4_NH_NONE;
}

int route_file_read(const char *path, struct lpm4_route **routes, size_t *n, uint32_t *max_nh)
{
	size_t plen = strlen(path), cap = 1024, count = 0, lineno = 0;
	bool xz = plen > 3 && strcmp(path + plen - 3, ".xz") == 0;
	struct lpm4_route *r = malloc(cap * sizeof(*r));
	char line[256];
	FILE *f = NULL;
	int err = 0;
	uint32_t max = 0;

	if (!r)
		return -ENOMEM;
	if (xz) {
		char cmd[4200];
		if (strchr(path, '\'') || plen > 4096) {
			err = -EINVAL;
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "r");
	}
	if (!f) {
		err = -errno;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save, *pfx, *nhs, *end;
		lineno++;
		pfx = strtok_r(line, " \t\r\n", &save);
		if (!pfx || pfx[0] == '#')
			continue;
		nhs = strtok_r(NULL, " \t\r\n", &save);
		struct lpm4_route rt;
		if (lpm4_parse_prefix(pfx, &rt.prefix, &rt.len) < 0) {
			fprintf(stderr, "%s:%zu: bad prefix '%s'\n", path, lineno, pfx);
			err = -EINVAL;
			goto out;
		}
		if (nhs) {
			unsigned long v = strtoul(nhs, &end, 0);
			if (*end != '\0' || v >= LPM4_NH_NONE) {
				fprintf(stderr, "%s:%zu: bad next hop '%s'\n", path, lineno, nhs);
				err = -EINVAL;
				goto out;
			}
			rt.nh = (uint32_t)v;
		} else {
			rt.nh = (uint32_t)(lineno % 251 + 1);
		}
		if (count == cap) {
			struct lpm4_route *bigger = realloc(r, 2 * cap * sizeof(*r));
			if (!bigger) {
				err = -ENOMEM;
				goto out;
			}
			r = bigger;
			cap *= 2;
		}
		r[count++] = rt;
		if (rt.nh > max)
			max = rt.nh;
	}
	if (ferror(f))
		err = -EIO;
out:
	if (f) {
		int st = xz ? pclose(f) : fclose(f);
		if (xz && st != 0 && err == 0) {
			fprintf(stderr, "%s: xz -dc failed (status %d)\n", path, st);
			err = -EIO;
		}
	}
	if (err < 0) {
		free(r);
		return err;
	}
	*routes = r;
	*n = count;
	*max_nh = max;
	return 0;
}
