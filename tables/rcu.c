/* rcu.c: see rcu.h. A thin wrapper over liburcu QSBR plus a writer-side retire list. */
#include "rcu.h"

#include <stdlib.h>

#include <urcu/urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_TSAN 1
#endif
#endif

#ifdef RCU_TSAN
/* TSan runtime annotations (sanitizer/tsan_interface.h); declared here to avoid the header. */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* The token the QSBR happens-before edge is recorded on: readers release, grace periods acquire.
 * TSan's release joins clocks, so many readers releasing on one token is what we want. */
static char tsan_qsbr_token;
#define TSAN_RELEASE() __tsan_release(&tsan_qsbr_token)
#define TSAN_ACQUIRE() __tsan_acquire(&tsan_qsbr_token)
#else
#define TSAN_RELEASE() ((void)0)
#define TSAN_ACQUIRE() ((void)0)
#endif

void rcu_reader_register(void)
{
	urcu_qsbr_register_thread();
}

void rcu_reader_unregister(void)
{
	TSAN_RELEASE();
	urcu_qsbr_unregister_thread();
}

void rcu_quiescent(void)
{
	/* Before the report: all our reads of table memory happen before any later free. */
	TSAN_RELEASE();
	urcu_qsbr_quiescent_state();
}

void rcu_reader_offline(void)
{
	TSAN_RELEASE();
	urcu_qsbr_thread_offline();
}

void rcu_reader_online(void)
{
	urcu_qsbr_thread_online();
}

void rcu_synchronize(void)
{
	/* liburcu's synchronize takes an online QSBR caller offline for the wait itself. */
	urcu_qsbr_synchronize_rcu();
	TSAN_ACQUIRE();
}

static void release(const struct rcu_retired *r)
{
	if (r->free_fn)
		r->free_fn(r->ctx, r->ptr, r->size_bytes);
	else
		free(r->ptr);
}

static void release_all(struct rcu_retire_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		release(&list->items[i]);
	list->count = 0;
	list->bytes = 0;
}

void rcu_retire(struct rcu_retire_list *list, void *ptr, size_t size_bytes, rcu_free_fn *free_fn,
		void *ctx)
{
	struct rcu_retired r = {ptr, size_bytes, free_fn, ctx};
	if (!ptr)
		return;
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		struct rcu_retired *items = realloc(list->items, cap * sizeof(*items));
		if (!items) {
			/* Fall back to a synchronous grace period: slow, never wrong. */
			rcu_synchronize();
			release_all(list);
			release(&r);
			return;
		}
		list->items = items;
		list->cap = cap;
	}
	list->items[list->count++] = r;
	list->bytes += size_bytes;
}

void rcu_retire_flush(struct rcu_retire_list *list)
{
	if (list->count == 0)
		return;
	rcu_synchronize();
	release_all(list);
}

void rcu_retire_destroy(struct rcu_retire_list *list)
{
	release_all(list);
	free(list->items);
	list->items = NULL;
	list->cap = 0;
}
