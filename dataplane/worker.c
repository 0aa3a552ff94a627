/*
 * worker.c: the worker threads. Each is pinned to its core, polls its (port, rx queue) pairs in
 * batches of DP_RX_BATCH, hands each batch to dp_process_rx(), flushes its tx queues, and
 * reports an RCU quiescent state once per loop (it holds no table pointer across loops).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "dp_internal.h"
#include "log.h"
#include "rcu.h"

#define DP_IDLE_LOOPS_BEFORE_SLEEP 1024

/* The NUMA node of the first port this worker polls that knows its node, or -1. */
static int worker_numa_node(const struct dp_ctx *ctx)
{
	for (uint16_t i = 0; i < ctx->n_rxq; i++) {
		int node = ctx->dp->ports[ctx->rxq[i].port].dev->numa_node;
		if (node >= 0)
			return node;
	}
	return -1;
}

static void worker_place(struct dp_ctx *ctx)
{
	int node = worker_numa_node(ctx);
	if (node < 0 || numa_available() < 0)
		return;
	/* Memory this thread allocates from now on comes from the NIC's node. The core was
	 * chosen by the configuration; say so if it sits on another node. */
	numa_set_preferred(node);
	if (ctx->core >= 0 && numa_node_of_cpu(ctx->core) != node)
		LOG_WARN("worker", "worker %u on core %d (node %d) polls a port on node %d",
			 ctx->id, ctx->core, numa_node_of_cpu(ctx->core), node);
}

static void *worker_main(void *arg)
{
	struct dp_ctx *ctx = arg;
	struct dataplane *dp = ctx->dp;
	struct pkt_buf *bufs[DP_RX_BATCH];
	unsigned idle_loops = 0;
	struct timespec idle_sleep = {.tv_nsec = (long)dp->params.idle_sleep_us * 1000};

	worker_place(ctx);
	rcu_reader_register();
	LOG_INFO("worker", "worker %u up on core %d, %u rx queue(s)", ctx->id, ctx->core,
		 ctx->n_rxq);
	/* Relaxed: stop carries no data with it; the join in dp_stop() orders everything else. */
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		uint32_t got = 0;
		ctx->now_s = dp_now_s();
		for (uint16_t i = 0; i < ctx->n_rxq; i++) {
			uint16_t port = ctx->rxq[i].port;
			uint32_t n =
			    ixy_rx_batch(dp->ports[port].dev, ctx->rxq[i].queue, bufs, DP_RX_BATCH);
			if (n) {
				dp_process_rx(ctx, port, bufs, n);
				got += n;
			}
		}
		dp_ctx_flush(ctx);
		rcu_quiescent();
		if (got) {
			idle_loops = 0;
		} else if (dp->params.idle_sleep_us && ++idle_loops >= DP_IDLE_LOOPS_BEFORE_SLEEP) {
			/* Nothing to do for a while: give the core back briefly. Offline so a
			 * writer's grace period does not wait for our sleep. */
			rcu_reader_offline();
			nanosleep(&idle_sleep, NULL);
			rcu_reader_online();
		}
	}
	dp_ctx_flush(ctx);
	rcu_reader_unregister();
	return NULL;
}

int dp_start(struct dataplane *dp, const int *cores)
{
	if (dp->running)
		return -EBUSY;
	int err = dp_assign_queues(dp);
	if (err)
		return err;
	__atomic_store_n(&dp->stop, false, __ATOMIC_RELAXED);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		struct dp_ctx *ctx = dp->ctx[w];
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		ctx->core = cores ? cores[w] : -1;
		if (ctx->core >= 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(ctx->core, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		err = -pthread_create(&ctx->thread, &attr, worker_main, ctx);
		pthread_attr_destroy(&attr);
		if (err) {
			LOG_ERR("worker", "cannot start worker %u on core %d: %s", w, ctx->core,
				strerror(-err));
			dp->running = true;
			dp_stop(dp);
			return err;
		}
		ctx->thread_started = true;
		char name[16];
		snprintf(name, sizeof(name), "ixyd-w%u", w);
		pthread_setname_np(ctx->thread, name);
	}
	dp->running = true;
	return 0;
}

void dp_stop(struct dataplane *dp)
{
	if (!dp->running)
		return;
	__atomic_store_n(&dp->stop, true, __ATOMIC_RELAXED);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		if (dp->ctx[w] && dp->ctx[w]->thread_started) {
			pthread_join(dp->ctx[w]->thread, NULL);
			dp->ctx[w]->thread_started = false;
		}
	}
	dp->running = false;
}
