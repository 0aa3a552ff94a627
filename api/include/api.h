/*
 * api.h: ixyd's REST API (docs/api.md): an HTTP server (libmicrohttpd) with JSON in and out
 * (jansson) under /api/v1, Prometheus metrics at /metrics, and the state file that makes changes
 * made through it survive a restart.
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

#include "control.h"

#define API_DEFAULT_LISTEN "127.0.0.1:8080"

struct api_config {
	const char *listen;	/* "HOST:PORT" (api_parse_listen); NULL or "": API_DEFAULT_LISTEN */
	const char *state_file; /* where changes are saved; NULL: not saved */
};

struct api;

/* Check cfg and set up (nothing listens yet). NULL with errno EINVAL (bad listen) or ENOMEM. */
struct api *api_create(struct control *ctl, const struct api_config *cfg);
/* Listen and serve. 0 or -errno (-EADDRINUSE, ...). */
int api_start(struct api *api);
/* Stop serving (waits for requests in progress) and free. NULL is a no-op. */
void api_free(struct api *api);

/*
 * Apply the state file at path to ctl (routes replace the current set; static neighbours and
 * port settings are applied): what ixyd does at start-up after the configuration. A missing file
 * is not an error (nothing saved yet). Removes a temporary file left by an interrupted save.
 * Returns 0, or -EINVAL with err (errlen bytes) naming the file, the field and the reason, or
 * -errno of reading. Main thread, before api_start().
 */
int api_state_load(struct control *ctl, const char *path, char *err, size_t errlen);

/*
 * Write the current routes (those not connected), static neighbours and promiscuous settings to
 * path atomically: a temporary file in the same directory, fsync, rename over path, fsync of the
 * directory. A crash at any moment leaves the old file or the new one. 0 or -errno. Any thread,
 * one at a time per path (the API serialises its own calls).
 */
int api_state_save(struct control *ctl, const char *path);

#endif
