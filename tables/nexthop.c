/* nexthop.c: see nexthop.h. */
#include "nexthop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "compiler.h"
#include "rcu.h"

struct nexthop_table_impl {
	struct nexthop_table pub;
	uint32_t *refcnt;     /* per index; 0 = free or retired */
	uint32_t *free_stack; /* indices ready for reuse */
	uint32_t free_count;
	uint32_t *retired; /* indices whose last reference went, waiting for a grace period */
	uint32_t retired_count;
	uint32_t high_water; /* indices [0, high_water) have been handed out at least once */
};

static struct nexthop_table_impl *impl_of(const struct nexthop_table *t)
{
	return container_of((struct nexthop_table *)t, struct nexthop_table_impl, pub);
}

struct nexthop_table *nexthop_table_create(uint32_t capacity)
{
	if (capacity == 0 || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	struct nexthop_table_impl *t = calloc(1, sizeof(*t));
	if (!t)
		goto err;
	t->pub.capacity = capacity;
	t->pub.entries = calloc(capacity, sizeof(*t->pub.entries));
	t->refcnt = calloc(capacity, sizeof(*t->refcnt));
	t->free_stack = calloc(capacity, sizeof(*t->free_stack));
	t->retired = calloc(capacity, sizeof(*t->retired));
	if (!t->pub.entries || !t->refcnt || !t->free_stack || !t->retired)
		goto err_arrays;
	return &t->pub;

err_arrays:
	nexthop_table_free(&t->pub);
err:
	errno = ENOMEM;
	return NULL;
}

void nexthop_table_free(struct nexthop_table *pub)
{
	if (!pub)
		return;
	struct nexthop_table_impl *t = impl_of(pub);
	free(t->retired);
	free(t->free_stack);
	free(t->refcnt);
	free(t->pub.entries);
	free(t);
}

static bool is_allocated(const struct nexthop_table_impl *t, uint32_t index)
{
	return index < t->high_water && t->refcnt[index] > 0;
}

int nexthop_add(struct nexthop_table *pub, uint32_t gw_ip, uint16_t port_id, uint32_t *index)
{
	struct nexthop_table_impl *t = impl_of(pub);

	/* Linear search: next hops number in the hundreds or thousands, and this is control plane.
	 */
	for (uint32_t i = 0; i < t->high_water; i++) {
		const struct nexthop *nh = &pub->entries[i];
		if (t->refcnt[i] > 0 && nh->gw_ip == gw_ip && nh->port_id == port_id) {
			t->refcnt[i]++;
			*index = i;
			return 0;
		}
	}

	uint32_t i;
	if (t->free_count > 0)
		i = t->free_stack[--t->free_count];
	else if (t->high_water < pub->capacity)
		i = t->high_water++;
	else
		return -ENOSPC;

	/* Plain stores: no reader can reach index i until a route carrying it is published with a
	 * release store (lpm4), which orders these before it. */
	pub->entries[i] =
	    (struct nexthop){.gw_ip = gw_ip, .port_id = port_id, .flags = NEXTHOP_F_USED};
	t->refcnt[i] = 1;
	*index = i;
	return 0;
}

int nexthop_hold(struct nexthop_table *pub, uint32_t index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (!is_allocated(t, index))
		return -ENOENT;
	t->refcnt[index]++;
	return 0;
}

int nexthop_put(struct nexthop_table *pub, uint32_t index)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (!is_allocated(t, index))
		return -ENOENT;
	if (--t->refcnt[index] == 0)
		t->retired[t->retired_count++] = index; /* entry content stays until reuse */
	return 0;
}

uint32_t nexthop_refcount(const struct nexthop_table *pub, uint32_t index)
{
	const struct nexthop_table_impl *t = impl_of(pub);
	return is_allocated(t, index) ? t->refcnt[index] : 0;
}

void nexthop_table_reclaim(struct nexthop_table *pub)
{
	struct nexthop_table_impl *t = impl_of(pub);
	if (t->retired_count == 0)
		return;
	rcu_synchronize();
	for (uint32_t i = 0; i < t->retired_count; i++) {
		uint32_t index = t->retired[i];
		if (t->refcnt[index] == 0) { /* not revived by nexthop_add meanwhile */
			t->pub.entries[index].flags = 0;
			t->free_stack[t->free_count++] = index;
		}
	}
	t->retired_count = 0;
}
