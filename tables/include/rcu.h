/*
 * rcu.h: read-copy-update for the tables, QSBR flavour (quiescent-state-based reclamation).
 *
 * Dataplane workers read lookup tables without locks or atomic read-modify-writes. The control
 * thread builds new state beside the old, publishes it with one release store, and frees the old
 * state only after every registered worker has reported a quiescent state, i.e. passed a point in
 * its poll loop where it holds no pointer into any table. One report per poll loop
 * (rcu_quiescent()) is the whole read-side cost.
 *
 * This wraps liburcu's QSBR flavour (urcu-qsbr). Our names avoid liburcu's own macro names
 * (rcu_thread_online, ...) so both can coexist in one translation unit.
 *
 * ThreadSanitizer cannot see the ordering liburcu establishes (its grace-period machinery is
 * uninstrumented and uses fences and membarrier, which TSan does not model). Under
 * -fsanitize=thread the wrappers therefore also tell TSan about the edge QSBR guarantees: every
 * quiescent report and going offline is a release, the end of every grace period an acquire, both
 * on one private token. That is exactly the QSBR contract (everything a reader did before its
 * report happens before the memory is freed), so TSan still reports real races elsewhere.
 *
 * Threads: the rcu_reader_* calls and rcu_quiescent() are made by a reader thread about itself.
 * rcu_synchronize() and the retire list are for writers (any registered-offline or unregistered
 * thread); calling rcu_synchronize() from an online reader would wait for itself, so the wrapper
 * takes the caller offline for the wait if it is online.
 */
#ifndef IXYD_RCU_H
#define IXYD_RCU_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Register the calling thread as a reader. It starts online: from now on it must call
 * rcu_quiescent() regularly (or go offline), or writers calling rcu_synchronize() wait forever.
 * Must be paired with rcu_reader_unregister() before the thread exits.
 */
void rcu_reader_register(void);
/* Unregister the calling reader thread (it may be online or offline). */
void rcu_reader_unregister(void);

/*
 * Report a quiescent state: the calling reader holds no pointer obtained from an RCU-protected
 * table. Call once per poll loop. Cheap (a few loads and a store, no atomic RMW, no fence on x86).
 */
void rcu_quiescent(void);

/*
 * Take the calling reader offline (e.g. before blocking or sleeping): writers stop waiting for it.
 * While offline it must not touch RCU-protected data. rcu_reader_online() brings it back.
 */
void rcu_reader_offline(void);
void rcu_reader_online(void);

/*
 * Wait until every registered reader has passed a quiescent state or been offline since the
 * call started. Memory unpublished before the call may be freed afterwards. Blocks; writers only.
 */
void rcu_synchronize(void);

/*
 * A writer's batch of memory waiting for a grace period. The writer appends what it unpublished
 * with rcu_retire() and frees the batch with rcu_retire_flush() (one grace period for the whole
 * batch, so a stream of small updates does not pay one grace period each).
 * A list belongs to one writer; it needs no locking of its own.
 */
typedef void rcu_free_fn(void *ctx, void *ptr, size_t size_bytes);

struct rcu_retired {
	void *ptr;
	size_t size_bytes;
	rcu_free_fn *free_fn; /* NULL: free(ptr) */
	void *ctx;
};

struct rcu_retire_list {
	struct rcu_retired *items;
	size_t count;
	size_t cap;
	size_t bytes; /* sum of size_bytes queued, to decide when to flush */
};

#define RCU_RETIRE_LIST_INIT                                                                       \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/*
 * Queue ptr (NULL is ignored) to be released after a grace period by free_fn(ctx, ptr,
 * size_bytes), or by free(ptr) if free_fn is NULL. Cannot fail: if the list cannot grow, the call
 * waits for a grace period and releases everything queued plus ptr at once (slow, never a leak,
 * never early). Writers only.
 */
void rcu_retire(struct rcu_retire_list *list, void *ptr, size_t size_bytes, rcu_free_fn *free_fn,
		void *ctx);

/* Bytes queued and not yet freed. */
static inline size_t rcu_retire_pending_bytes(const struct rcu_retire_list *list)
{
	return list->bytes;
}

/* Wait for one grace period (if anything is queued) and release everything queued. Writers only. */
void rcu_retire_flush(struct rcu_retire_list *list);

/*
 * Release everything queued without waiting, and the list's own array. Only for teardown when no
 * reader can hold any of the pointers any more (the caller guarantees it).
 */
void rcu_retire_destroy(struct rcu_retire_list *list);

#endif
