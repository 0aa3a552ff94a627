/*
 * api_parse.h: the REST API's request-side helpers that need neither a server nor a dataplane,
 * so unit tests reach them directly: addresses and prefixes (in bodies and in paths), paging,
 * the listen address, the endpoint table and its matching (404 / 405 with Allow), error bodies,
 * and the fast parser for route lists (a full Internet table is a 40 MB body).
 *
 * Threads: every function is reentrant; none keeps state.
 */
#ifndef IXYD_API_PARSE_H
#define IXYD_API_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control.h"

/* Dotted quad, exactly "a.b.c.d" with decimal parts 0..255 and no leading zeros, in s[0..len).
 * 0 and *ip (host order), or -EINVAL. */
int api_parse_ipv4(const char *s, size_t len, uint32_t *ip);

/*
 * A prefix "a.b.c.d/len" (in a body), or in a path also "a.b.c.d_len" (path_form). len 0..32,
 * no host bits. 0 and *prefix (host order) / *len, or -EINVAL with *why naming the reason (a
 * static string: "not a prefix a.b.c.d/len", "prefix length above 32", "host bits set").
 */
int api_parse_prefix(const char *s, size_t slen, bool path_form, uint32_t *prefix, uint8_t *len,
		     const char **why);

/* "aa:bb:cc:dd:ee:ff" (hex, either case). 0 or -EINVAL. */
int api_parse_mac(const char *s, uint8_t mac[6]);

/* Format ip (host order) as a dotted quad into buf (16 bytes); returns the length. */
size_t api_format_ipv4(uint32_t ip, char *buf);

#define API_PAGE_DEFAULT 1000
#define API_PAGE_MAX	 10000

/*
 * Paging parameters from the query string (NULL: absent): offset >= 0 (default 0), limit 1 ..
 * API_PAGE_MAX (default API_PAGE_DEFAULT), plain decimal. 0, or -EINVAL with *why.
 */
int api_parse_paging(const char *offset, const char *limit, size_t *off, size_t *lim,
		     const char **why);

/*
 * "HOST:PORT" with a numeric IPv4 host or a bracketed IPv6 one ("[::1]:8080"), port 1..65535,
 * into *ss / *sslen. 0 or -EINVAL.
 */
int api_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen);

/* ---- endpoints ------------------------------------------------------------------------------ */

enum api_method {
	API_GET = 1 << 0,
	API_POST = 1 << 1,
	API_PUT = 1 << 2,
	API_PATCH = 1 << 3,
	API_DELETE = 1 << 4,
};

/* The bit of an HTTP method name, or 0 for one we never serve. */
unsigned api_method_bit(const char *method);

/*
 * One endpoint: a path pattern whose segments are literal, "{}" (one segment, captured) or, last,
 * "{*}" (the rest of the path, at least one character, slashes included: a prefix decoded from
 * %2F), and the methods it serves. id is the caller's.
 */
struct api_endpoint {
	const char *pattern;
	unsigned methods; /* API_* bits */
	int id;
};

#define API_PARAM_MAX 128

/*
 * Find the endpoint for method and path. Returns 200 with *ep and the captured segment in
 * param (empty when the pattern has none); 404 when no pattern matches the path (or a captured
 * part is longer than API_PARAM_MAX - 1); 405 when a pattern matches but not the method, with
 * allow filled ("GET, PATCH").
 */
unsigned api_match(const struct api_endpoint *table, size_t n, const char *method, const char *path,
		   const struct api_endpoint **ep, char param[API_PARAM_MAX], char *allow,
		   size_t allow_len);

/* The JSON error body {"error": error, "detail": detail} (detail NULL: null), malloc'd, or NULL
 * on ENOMEM. */
char *api_error_body(const char *error, const char *detail);

/* ---- route lists ----------------------------------------------------------------------------- */

/* Where a route list failed to parse: message names the place ("routes[12].via: ..."). */
struct api_parse_error {
	char message[256];
	size_t index; /* the route concerned, or SIZE_MAX for the body as a whole */
};

#define API_ROUTES_ALLOW_SINGLE 0x1 /* a single route object is accepted as a list of one */

/*
 * Parse a route list: a JSON array of {"prefix": "a.b.c.d/len", "via": "a.b.c.d"} objects (or,
 * with API_ROUTES_ALLOW_SINGLE, one such object). Unknown keys, missing keys, a bad prefix or
 * address are errors. A hand-written scanner takes the common form (no escapes in strings) in
 * one pass with one growing array; anything else goes through jansson, which also words the
 * syntax errors. On success 0 with *out (malloc'd; NULL when *n is 0) and *n; *was_single says
 * the body was one object. On error -EINVAL and *err, or -ENOMEM.
 */
int api_parse_routes(const char *buf, size_t len, unsigned flags, struct control_route **out,
		     size_t *n, bool *was_single, struct api_parse_error *err);

/*
 * Find the end of the JSON value starting at buf[pos] (after white space): strings with their
 * escapes, nested arrays and objects, scalars. Returns the index just past it, or SIZE_MAX if
 * the text ends first or is not a value. Checks brackets and quotes only: the slice is meant
 * for a real parser.
 */
size_t api_json_skip_value(const char *buf, size_t len, size_t pos);

#endif
