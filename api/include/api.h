/*
 * api.h: ixyd's REST API (docs/api.md): an HTTP server (libmicrohttpd) with JSON in and out
 * (jansson) under /api/v1, Prometheus metrics at /metrics, and the state (a snapshot and a
 * journal) that makes changes made through it survive a restart.
 *
 * The server's threads never touch a worker or a packet: reads go through control.h's queries
 * and the dataplane's relaxed counter reads, every change through control.h's calls, which take
 * the control lock and publish to the workers with RCU. Requests are bounded: body sizes are
 * checked while receiving (the Content-Length before any byte is read), the bytes buffered by
 * all connections together have a budget, connections have a limit and an idle timeout.
 *
 * Threads: api_create/start/free from the program's main thread, after control_start().
 */
#ifndef IXYD_API_H
#define IXYD_API_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"

#define API_DEFAULT_LISTEN "127.0.0.1:8080"

struct api_state;

struct api_config {
	const char *listen; /* "HOST:PORT" (api_parse_listen); NULL or "": API_DEFAULT_LISTEN */
	struct api_state *state; /* where changes are saved (api_state_open); NULL: not saved.
				  * Borrowed: close it after api_free(). */
};

struct api;

/* Check cfg and set up (nothing listens yet). NULL with errno EINVAL (bad listen) or ENOMEM. */
struct api *api_create(struct control *ctl, const struct api_config *cfg);
/* Listen and serve. 0 or -errno (-EADDRINUSE, ...). */
int api_start(struct api *api);
/* Stop serving (waits for requests in progress) and free. NULL is a no-op. */
void api_free(struct api *api);

/*
 * Open the saved state at path (docs/api.md, "Persistence"): apply the snapshot at path (routes
 * replace the current set; static neighbours and port settings are applied), then replay the
 * journals path.journal.GEN that follow it, and keep the last one open for appending. What
 * ixyd does at start-up after the configuration. Nothing there yet is not an error. A torn last
 * record (a crash while it was written) is dropped and logged; a corrupt record in the middle
 * stops the replay there (logged, the journal kept as .corrupt, a new snapshot written of what
 * was applied). Removes a temporary file left by an interrupted snapshot.
 * compact_min_bytes: the journal is compacted into a new snapshot in the background once it is
 * larger than this and than the snapshot (0: 1 MiB).
 * Returns the state, or NULL with errno and err (errlen bytes) naming the file, the field or
 * record, and the reason (EINVAL: something does not apply or parse). Main thread, before
 * api_start().
 */
struct api_state *api_state_open(struct control *ctl, const char *path, uint64_t compact_min_bytes,
				 char *err, size_t errlen);
/* Stop compacting (one in progress finishes) and close. After api_free(). NULL is a no-op. */
void api_state_close(struct api_state *st);

#endif
