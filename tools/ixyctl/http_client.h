/*
 * http_client.h: the smallest HTTP/1.1 client ixyctl needs: one request per connection to a
 * plain-HTTP server given by a numeric address ("http://127.0.0.1:8080", "http://[::1]:8080"),
 * "Connection: close", the answer read to the end (Content-Length, chunked, or until close).
 *
 * Why not libcurl: ixyctl talks to one local daemon over plain HTTP; this is about 200 lines with
 * no TLS, redirects or proxies to configure away, and keeps the build free of another -dev package.
 *
 * Threads: reentrant.
 */
#ifndef IXYCTL_HTTP_CLIENT_H
#define IXYCTL_HTTP_CLIENT_H

#include <stddef.h>

struct http_response {
	int status;
	char *body; /* malloc'd, NUL-terminated */
	size_t len;
};

/*
 * Split base into host (without brackets) and port. 0, or -EINVAL for anything but
 * http://NUMERIC-HOST:PORT with an optional trailing slash.
 */
int http_parse_base(const char *base, char *host, size_t hostlen, unsigned *port);

/*
 * Send method path (with its query) to base, with body (NULL: none) as application/json, and
 * read the answer into *resp (free resp->body). timeout_ms bounds connecting and each read.
 * Returns 0 (any status), -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH ... (cannot connect),
 * -EPROTO (not an HTTP answer), -EINVAL (bad base), -ENOMEM.
 */
int http_request(const char *base, const char *method, const char *path, const char *body,
		 int timeout_ms, struct http_response *resp);

#endif
