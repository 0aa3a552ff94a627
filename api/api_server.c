/*
 * api_server.c: the HTTP side of the REST API on libmicrohttpd. Each request goes through:
 *   1. on the first call (headers read, no body yet): endpoint and method (404, 405 with Allow),
 *      Content-Type for bodies (415), Content-Length against the endpoint's limit (413), all
 *      answered before a byte of the body is read;
 *   2. body chunks: appended while they fit the limit and the budget shared by all connections;
 *      past the limit the request becomes a 413, past the budget a 503, and the rest of the body
 *      is discarded unread into memory;
 *   3. the last call: the handler runs (api_handlers.c) and its response goes out.
 * libmicrohttpd runs a pool of API_THREADS threads on epoll with a connection limit and an idle
 * timeout; a slow or hostile client holds one connection slot, never a worker.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_internal.h"
#include "log.h"

/* One request's state between libmicrohttpd's calls. */
struct conn {
	int endpoint;
	unsigned method;
	char param[API_PARAM_MAX];
	size_t limit; /* the endpoint's body limit */
	char *body;
	size_t len, cap; /* cap: bytes reserved from the budget */
	unsigned error;	 /* 413 or 503 decided while receiving; 0: none */
	bool answered;	 /* a response was queued on the first call */
};

static void budget_release(struct api *api, struct conn *cx)
{
	/* Relaxed: the budget is a count, nothing is published through it. */
	__atomic_sub_fetch(&api->body_bytes, cx->cap, __ATOMIC_RELAXED);
	free(cx->body);
	cx->body = NULL;
	cx->len = cx->cap = 0;
}

/* Make room for want more bytes (plus the terminating NUL). false: over the budget or ENOMEM. */
static bool body_reserve(struct api *api, struct conn *cx, size_t want)
{
	if (cx->len + want + 1 <= cx->cap)
		return true;
	size_t cap = cx->cap ? cx->cap : 16384;
	while (cap < cx->len + want + 1)
		cap *= 2;
	if (cap > cx->limit + 1)
		cap = cx->limit + 1;
	size_t more = cap - cx->cap;
	/* Relaxed: see budget_release(). */
	if (__atomic_add_fetch(&api->body_bytes, more, __ATOMIC_RELAXED) > API_BODY_BUDGET) {
		__atomic_sub_fetch(&api->body_bytes, more, __ATOMIC_RELAXED);
		return false;
	}
	char *b = realloc(cx->body, cap);
	if (!b) {
		__atomic_sub_fetch(&api->body_bytes, more, __ATOMIC_RELAXED);
		return false;
	}
	cx->body = b;
	cx->cap = cap;
	return true;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct api_response *rs)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(rs->body);
		return MHD_NO;
	}
	rs->body = NULL; /* the response owns it now */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				rs->content_type ? rs->content_type : "application/json");
	if (rs->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
	enum MHD_Result ret = MHD_queue_response(c, rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct api *api, struct MHD_Connection *c, unsigned status,
				  const char *error, const char *detail, const char *allow)
{
	struct api_response rs = {0};
	api_reply_error(&rs, status, error, "%s", detail);
	if (allow)
		snprintf(rs.allow, sizeof(rs.allow), "%s", allow);
	__atomic_add_fetch(&api->errors_total, 1, __ATOMIC_RELAXED); /* a counter */
	return send_response(c, &rs);
}

static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	if (!ct || strncasecmp(ct, json, sizeof(json) - 1) != 0)
		return false;
	char next = ct[sizeof(json) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

static const char *query_value(void *arg, const char *key)
{
	return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

/* Step 1 of the file comment. Returns MHD_YES to go on reading, or the result of queueing an
 * early answer (cx->error set so later calls discard). */
static enum MHD_Result first_call(struct api *api, struct MHD_Connection *c, struct conn *cx,
				  const char *url, const char *method)
{
	const struct api_endpoint *ep = NULL;
	char allow[64];
	__atomic_add_fetch(&api->requests_total, 1, __ATOMIC_RELAXED); /* a counter */
	unsigned st = api_match(api_endpoints, api_n_endpoints, method, url, &ep, cx->param, allow,
				sizeof(allow));
	if (st == 404) {
		cx->error = 404;
		return send_error(api, c, 404, "not found", url, NULL);
	}
	if (st == 405) {
		cx->error = 405;
		char detail[128];
		snprintf(detail, sizeof(detail), "%.16s is not allowed here; allowed: %s", method,
			 allow);
		return send_error(api, c, 405, "method not allowed", detail, allow);
	}
	cx->endpoint = ep->id;
	cx->method = api_method_bit(method);
	cx->limit = api_body_limit(ep->id, cx->method);
	if (cx->method & (API_POST | API_PUT | API_PATCH)) {
		const char *ct =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!is_json_type(ct)) {
			cx->error = 415;
			return send_error(api, c, 415, "unsupported media type",
					  "send Content-Type: application/json", NULL);
		}
	}
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (*end == '\0' && n > cx->limit) {
			char detail[96];
			snprintf(detail, sizeof(detail), "the limit here is %zu bytes", cx->limit);
			cx->error = 413;
			return send_error(api, c, 413, "body too large", detail, NULL);
		}
		if (*end == '\0' && n > 0 && !body_reserve(api, cx, (size_t)n))
			cx->error = 503; /* answered once the body is through */
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct conn *cx = *con_cls;
	(void)version;
	if (!cx) {
		cx = calloc(1, sizeof(*cx));
		if (!cx)
			return MHD_NO; /* libmicrohttpd closes the connection */
		*con_cls = cx;
		enum MHD_Result r = first_call(api, c, cx, url, method);
		cx->answered = cx->error && cx->error != 503;
		return r;
	}
	if (cx->answered) {
		*upload_data_size = 0; /* answered already: libmicrohttpd closes after sending */
		return MHD_YES;
	}
	/* Step 2: a chunk of the body. */
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (cx->error)
			return MHD_YES;
		if (cx->len + n > cx->limit) {
			budget_release(api, cx);
			cx->error = 413;
			return MHD_YES;
		}
		if (!body_reserve(api, cx, n)) {
			budget_release(api, cx);
			cx->error = 503;
			return MHD_YES;
		}
		memcpy(cx->body + cx->len, upload_data, n);
		cx->len += n;
		return MHD_YES;
	}
	/* Step 3. */
	if (cx->error == 413) {
		char detail[96];
		snprintf(detail, sizeof(detail), "the limit here is %zu bytes", cx->limit);
		return send_error(api, c, 413, "body too large", detail, NULL);
	}
	if (cx->error == 503)
		return send_error(api, c, 503, "busy",
				  "too many request bodies in flight; try again", NULL);
	struct api_request rq = {.method = cx->method,
				 .query = query_value,
				 .query_arg = c,
				 .body = cx->body ? cx->body : "",
				 .body_len = cx->len};
	memcpy(rq.param, cx->param, sizeof(rq.param));
	if (cx->body)
		cx->body[cx->len] = '\0'; /* body_reserve() kept room for it */
	struct api_response rs = {0};
	api_handle(api, cx->endpoint, &rq, &rs);
	if (rs.status >= 400)
		__atomic_add_fetch(&api->errors_total, 1, __ATOMIC_RELAXED); /* a counter */
	budget_release(api, cx); /* the handler is done with the body */
	return send_response(c, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	struct conn *cx = *con_cls;
	(void)c;
	(void)toe;
	if (!cx)
		return;
	budget_release(api, cx);
	free(cx);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	LOG_WARN_RL("api", "libmicrohttpd: %s", msg); /* a client can trigger these */
}

struct api *api_create(struct control *ctl, const struct api_config *cfg)
{
	const char *listen =
	    cfg && cfg->listen && cfg->listen[0] ? cfg->listen : API_DEFAULT_LISTEN;
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (strlen(listen) >= sizeof(((struct api *)0)->listen) ||
	    api_parse_listen(listen, &ss, &sslen) != 0) {
		errno = EINVAL;
		return NULL;
	}
	struct api *api = calloc(1, sizeof(*api));
	if (!api)
		goto err;
	api->ctl = ctl;
	snprintf(api->listen, sizeof(api->listen), "%s", listen);
	api->state = cfg ? cfg->state : NULL;
	pthread_mutex_init(&api->change_lock, NULL);
	int e = api_state_start(api->state, &api->change_lock);
	if (e == 0)
		return api;
	pthread_mutex_destroy(&api->change_lock);
	free(api);
	errno = -e;
	return NULL;
err:
	errno = ENOMEM;
	return NULL;
}

/* Our own listening socket, so a failure has its real errno (EADDRINUSE, EADDRNOTAVAIL). */
static int open_listener(const char *addr, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int one = 1, err;
	if (api_parse_listen(addr, &ss, &sslen) != 0)
		return -EINVAL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 512) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

int api_start(struct api *api)
{
	int fd = -1;
	int err = open_listener(api->listen, &fd);
	if (err)
		return err;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	api->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, api, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)API_CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
	    MHD_OPTION_END);
	if (!api->mhd) {
		close(fd);
		return -EIO;
	}
	LOG_INFO("api", "listening on %s", api->listen);
	return 0;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	if (api->mhd)
		MHD_stop_daemon(api->mhd); /* joins its threads; closes the listening socket */
	api_state_stop(api->state);	   /* its thread takes change_lock */
	pthread_mutex_destroy(&api->change_lock);
	free(api);
}
