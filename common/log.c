/* log.c: see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Read on every message from any thread, written rarely: relaxed is enough, a message
 * filtered with a stale level is harmless. */
static int current_level = -1;
static bool use_syslog;

static enum log_level level_from_env(void)
{
	const char *env = getenv("IXYD_LOG");
	if (env) {
		for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (strcasecmp(env, level_names[i]) == 0)
				return (enum log_level)i;
	}
	return LOG_LEVEL_INFO;
}

void log_set_level(enum log_level level)
{
	__atomic_store_n(&current_level, (int)level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
	int level = __atomic_load_n(&current_level, __ATOMIC_RELAXED);
	if (level < 0) {
		level = (int)level_from_env();
		__atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
	}
	return (enum log_level)level;
}

void log_use_syslog(const char *ident)
{
	if (ident) {
		openlog(ident, LOG_PID, LOG_DAEMON);
		use_syslog = true;
	} else {
		use_syslog = false;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	if ((int)level > (int)log_get_level())
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	/* One fprintf per message keeps lines from different threads whole (stdio locks). */
	fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s [%s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, level_names[level], subsys, text);
	if (use_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "[%s] %s", subsys, text);
	}
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	/* The state is per call site and may be touched by several threads at once; a lost
	 * update only lets one message more or less through, so plain accesses under a
	 * mutex would buy nothing. We still use relaxed atomics to keep TSan quiet and the
	 * accesses untorn. */
	uint64_t now = now_ns();
	uint64_t start = __atomic_load_n(&rl->window_start_ns, __ATOMIC_RELAXED);
	if (now - start >= 1000000000ull) {
		uint32_t suppressed = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&rl->window_start_ns, now, __ATOMIC_RELAXED);
		__atomic_store_n(&rl->printed, 0, __ATOMIC_RELAXED);
		if (suppressed)
			log_msg(LOG_LEVEL_WARN, "log", "%u messages suppressed by rate limit",
				suppressed);
	}
	if (__atomic_fetch_add(&rl->printed, 1, __ATOMIC_RELAXED) < LOG_RL_BURST)
		return true;
	__atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
	return false;
}
