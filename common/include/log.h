/*
 * log.h: levelled, per-subsystem logging to stderr (and syslog when asked).
 *
 * Every message names a level and a subsystem: LOG_WARN("virtio", "queue %u too small", n).
 * Anything a packet or a request can trigger must use LOG_*_RL (rate-limited: at most
 * LOG_RL_BURST messages per second per call site). Per-packet debug logging uses
 * LOG_PKT_DEBUG, which compiles away unless IXYD_PKT_DEBUG is defined.
 *
 * Thread safety: all functions may be called from any thread.
 */
#ifndef IXYD_LOG_H
#define IXYD_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Messages above this level are dropped. Default LOG_LEVEL_INFO; IXYD_LOG=debug overrides. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Also send messages to syslog(3) with the given ident (NULL: stderr only). */
void log_use_syslog(const char *ident);

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Per-call-site rate limit state; LOG_*_RL declares one statically at each use. */
struct log_ratelimit {
	uint64_t window_start_ns;
	uint32_t printed;
	uint32_t suppressed;
};
#define LOG_RL_BURST 10
/* Returns true if the caller may print now; counts the suppressed messages otherwise. */
bool log_ratelimit_ok(struct log_ratelimit *rl);

#define LOG_ERR(subsys, ...)   log_msg(LOG_LEVEL_ERR, subsys, __VA_ARGS__)
#define LOG_WARN(subsys, ...)  log_msg(LOG_LEVEL_WARN, subsys, __VA_ARGS__)
#define LOG_INFO(subsys, ...)  log_msg(LOG_LEVEL_INFO, subsys, __VA_ARGS__)
#define LOG_DEBUG(subsys, ...) log_msg(LOG_LEVEL_DEBUG, subsys, __VA_ARGS__)

#define LOG_RL_(level, subsys, ...)                                                                \
	do {                                                                                       \
		static struct log_ratelimit log_rl_;                                               \
		if (log_ratelimit_ok(&log_rl_))                                                    \
			log_msg(level, subsys, __VA_ARGS__);                                       \
	} while (0)
#define LOG_ERR_RL(subsys, ...)	 LOG_RL_(LOG_LEVEL_ERR, subsys, __VA_ARGS__)
#define LOG_WARN_RL(subsys, ...) LOG_RL_(LOG_LEVEL_WARN, subsys, __VA_ARGS__)
#define LOG_INFO_RL(subsys, ...) LOG_RL_(LOG_LEVEL_INFO, subsys, __VA_ARGS__)

#ifdef IXYD_PKT_DEBUG
#define LOG_PKT_DEBUG(subsys, ...) LOG_RL_(LOG_LEVEL_DEBUG, subsys, __VA_ARGS__)
#else
#define LOG_PKT_DEBUG(subsys, ...)                                                                 \
	do {                                                                                       \
	} while (0)
#endif

#endif
