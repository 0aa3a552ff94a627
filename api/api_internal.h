/*
 * api_internal.h: what the server (api_server.c) shares with the handlers (api_handlers.c,
 * api_metrics.c). A handler sees a parsed request and fills a response; it knows nothing of
 * libmicrohttpd.
 */
#ifndef IXYD_API_INTERNAL_H
#define IXYD_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "api_parse.h"
#include "api_state.h"

#define API_BODY_MAX	    (64u << 10)	 /* bytes, for every body but route lists */
#define API_ROUTES_BODY_MAX (128u << 20) /* route lists: a full table is about 41 MB */
#define API_BODY_BUDGET	    (256u << 20) /* bytes buffered by all connections together */
#define API_CONN_LIMIT	    1024	 /* concurrent connections */
#define API_CONN_TIMEOUT_S  10		 /* idle connections are closed after this */
#define API_THREADS	    4		 /* libmicrohttpd's thread pool */

struct api {
	struct control *ctl;
	char listen[64];
	struct api_state *state; /* borrowed; NULL: changes are not saved */
	struct MHD_Daemon *mhd;
	/* Serialises changes with the journal record that follows each one, so the records
	 * follow the order the changes were made in; the compaction takes it for its switch.
	 * Taken before the control lock (control.h calls), never while holding it. */
	pthread_mutex_t change_lock;
	size_t body_bytes; /* buffered request bytes: atomic, relaxed (a budget, no ordering) */
	uint64_t requests_total; /* relaxed atomic counters, for /metrics */
	uint64_t errors_total;
};

struct api_request {
	unsigned method; /* API_* bit */
	char param[API_PARAM_MAX];
	const char *(*query)(void *arg, const char *key); /* a query-string value, or NULL */
	void *query_arg;
	const char *body; /* NUL-terminated (body[body_len] == 0) */
	size_t body_len;
};

struct api_response {
	unsigned status;
	char *body; /* malloc'd */
	size_t len;
	const char *content_type;
	char allow[64]; /* for 405 */
};

/* Fill rs with o (reference stolen) as JSON. */
void api_reply_json(struct api_response *rs, unsigned status, json_t *o);
/* Fill rs with the error body {"error": error, "detail": ...}. */
__attribute__((format(printf, 4, 5))) void api_reply_error(struct api_response *rs, unsigned status,
							   const char *error,
							   const char *detail_fmt, ...);

/* The endpoint ids of api_endpoints[]. */
enum api_endpoint_id {
	EP_HEALTH,
	EP_PORTS,
	EP_PORT,
	EP_PORT_STATS,
	EP_ROUTES,
	EP_ROUTE,
	EP_FIB,
	EP_MAC_TABLE,
	EP_NEIGHBORS,
	EP_METRICS,
};
extern const struct api_endpoint api_endpoints[];
extern const size_t api_n_endpoints;

/* The largest body the endpoint accepts. */
size_t api_body_limit(int endpoint_id, unsigned method);

/* Run the handler of endpoint ep. */
void api_handle(struct api *api, int endpoint_id, struct api_request *rq, struct api_response *rs);
/* GET /metrics (api_metrics.c). */
void api_handle_metrics(struct api *api, struct api_request *rq, struct api_response *rs);

#endif
