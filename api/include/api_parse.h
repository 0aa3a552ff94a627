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
#include "iface.h"
#include "ipaddr.h"

/* Addresses and prefixes are parsed and formatted by common/include/ipaddr.h. */

/* "aa:bb:cc:dd:ee:ff" (hex, either case). 0 or -EINVAL. */
int api_parse_mac(const char *s, uint8_t mac[6]);

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

/* A parsed route list: routes[i].paths point into paths. */
struct api_route_set {
	struct control_route *routes;
	struct control_path *paths;
	size_t n;
};
/* Free both arrays and empty the set. */
void api_route_set_free(struct api_route_set *set);

/*
 * Parse a route list: a JSON array of route objects (or, with API_ROUTES_ALLOW_SINGLE, one such
 * object). A route object is
 *   {"prefix": "10.9.0.0/16", "via": "10.2.0.2"}             the common form
 *   {"prefix": P, "via": ADDR, "iface": NAME}                 a gateway on a named interface
 *   {"prefix": P, "iface": NAME}                              on-link on that interface
 *   {"prefix": P, "nexthops": [{"via": A, "iface": N}, ...]}  ECMP over 1..16 next hops
 *   {"prefix": P, "type": "blackhole"|"unreachable"|"local"|"punt"}    no next hop
 * with an optional "precedence" (1..255; lower wins over other owners' routes) and "type":
 * "unicast" (the default). Prefixes and gateways of either family (ipaddr.h's text rules).
 * Interface names are looked up in ift (NULL: none is known). Unknown keys, missing keys, a bad
 * prefix or address are errors; what the control plane checks (gateways on a connected subnet)
 * is left to it. A hand-written scanner takes the common form (no escapes in strings) in one
 * pass; anything else goes through jansson, which also words the syntax errors. On success 0
 * with *out (api_route_set_free() it) and *was_single: the body was one object. On error
 * -EINVAL and *err, or -ENOMEM.
 */
int api_parse_routes(const char *buf, size_t len, unsigned flags, const struct iface_table *ift,
		     struct api_route_set *out, bool *was_single, struct api_parse_error *err);

/*
 * Format r as a route object api_parse_routes() reads back to the same route: the common form
 * {"prefix":P,"via":A} where that says it all, else with "iface", "nexthops", "type" and
 * "precedence" as needed (interface names from ift, escaped as JSON strings). Writes at most cap
 * bytes, NUL included, and returns the length, or 0 (and an empty string) if it did not fit.
 * API_ROUTE_TEXT_MAX always fits: interface names need no escapes (iface_name_valid()), and 16
 * IPv6 next hops on 31-character names take under 1,700 bytes.
 */
#define API_ROUTE_TEXT_MAX 2048
size_t api_format_route(char *buf, size_t cap, const struct control_route *r,
			const struct iface_table *ift);

/*
 * Find the end of the JSON value starting at buf[pos] (after white space): strings with their
 * escapes, nested arrays and objects, scalars. Returns the index just past it, or SIZE_MAX if
 * the text ends first or is not a value. Checks brackets and quotes only: the slice is meant
 * for a real parser.
 */
size_t api_json_skip_value(const char *buf, size_t len, size_t pos);

#endif
