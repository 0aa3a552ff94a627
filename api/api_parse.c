/* api_parse.c: see api_parse.h. */
#define _GNU_SOURCE
#include "api_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[3 * i + 2] != ':' && i < 5)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	/* sscanf's %x takes a sign or "0x"; the fixed length and colon positions leave room
	 * only for two hex digits per byte, but check the characters themselves too. */
	for (size_t i = 0; i < 17; i++)
		if (i % 3 != 2 && !strchr("0123456789abcdefABCDEF", s[i]))
			return -EINVAL;
	return 0;
}

static int parse_size(const char *s, size_t max, size_t *out)
{
	size_t v = 0;
	if (!*s || strlen(s) > 12)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (size_t)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int api_parse_paging(const char *offset, const char *limit, size_t *off, size_t *lim,
		     const char **why)
{
	*off = 0;
	*lim = API_PAGE_DEFAULT;
	if (offset && parse_size(offset, (size_t)1 << 40, off) != 0) {
		*why = "offset must be a non-negative integer";
		return -EINVAL;
	}
	if (limit && (parse_size(limit, API_PAGE_MAX, lim) != 0 || *lim == 0)) {
		*why = "limit must be an integer from 1 to 10000";
		return -EINVAL;
	}
	return 0;
}

int api_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t port;
	if (!colon || parse_size(colon + 1, 65535, &port) != 0 || port == 0)
		return -EINVAL;
	size_t hlen = (size_t)(colon - s);
	memset(ss, 0, sizeof(*ss));
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (hlen - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct ip_addr ip;
	if (ip_addr_parse_family(s, hlen, AF_INET, &ip) != 0)
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(ip.v4);
	a4->sin_port = htons((uint16_t)port);
	*sslen = sizeof(*a4);
	return 0;
}

/* ---- endpoints ------------------------------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {{"GET", API_GET},
	       {"POST", API_POST},
	       {"PUT", API_PUT},
	       {"PATCH", API_PATCH},
	       {"DELETE", API_DELETE}};

unsigned api_method_bit(const char *method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

/* Does path match pattern? Captures "{}" or "{*}" into param. */
static bool path_matches(const char *pattern, const char *path, char param[API_PARAM_MAX])
{
	param[0] = '\0';
	while (*pattern) {
		if (strncmp(pattern, "{*}", 3) == 0) {
			size_t n = strlen(path);
			if (n == 0 || n >= API_PARAM_MAX)
				return false;
			memcpy(param, path, n + 1);
			return pattern[3] == '\0';
		}
		if (strncmp(pattern, "{}", 2) == 0) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= API_PARAM_MAX)
				return false;
			memcpy(param, path, n);
			param[n] = '\0';
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *path == '\0';
}

unsigned api_match(const struct api_endpoint *table, size_t n, const char *method, const char *path,
		   const struct api_endpoint **ep, char param[API_PARAM_MAX], char *allow,
		   size_t allow_len)
{
	unsigned bit = api_method_bit(method);
	const struct api_endpoint *found = NULL;
	for (size_t i = 0; i < n && !found; i++)
		if (path_matches(table[i].pattern, path, param))
			found = &table[i];
	if (!found)
		return 404;
	if (found->methods & bit) {
		*ep = found;
		return 200;
	}
	size_t used = 0;
	allow[0] = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (found->methods & methods[i].bit) {
			int w = snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "",
					 methods[i].name);
			if (w < 0 || (size_t)w >= allow_len - used)
				break;
			used += (size_t)w;
		}
	return 405;
}

char *api_error_body(const char *error, const char *detail)
{
	json_t *o = json_pack("{s:s, s:s?}", "error", error, "detail", detail);
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- route lists ------------------------------------------------------------------------------
 */

/* Routes and their paths grow in two arrays; routes[i].paths holds the index of its first path
 * until api_parse_routes() returns (the arrays may move while they grow). */
struct route_vec {
	struct control_route *r;
	struct control_path *p;
	size_t n, cap, n_paths, cap_paths;
};

static int vec_push(struct route_vec *v, const struct control_route *r,
		    const struct control_path *paths)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct control_route *nr = realloc(v->r, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		v->r = nr;
		v->cap = cap;
	}
	if (v->n_paths + r->n_paths > v->cap_paths) {
		size_t cap = v->cap_paths ? v->cap_paths * 2 : 1024;
		while (cap < v->n_paths + r->n_paths)
			cap *= 2;
		struct control_path *np = realloc(v->p, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		v->p = np;
		v->cap_paths = cap;
	}
	/* A route without next hops (blackhole, ...) may come before any path array exists:
	 * v->p is then NULL, and NULL + 0 or memcpy() to NULL is undefined even for no bytes. */
	if (r->n_paths)
		memcpy(v->p + v->n_paths, paths, r->n_paths * sizeof(*paths));
	v->r[v->n] = *r;
	v->r[v->n].paths = (const struct control_path *)(uintptr_t)v->n_paths;
	v->n_paths += r->n_paths;
	v->n++;
	return 0;
}

__attribute__((format(printf, 3, 4))) static int set_err(struct api_parse_error *e, size_t index,
							 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	e->index = index;
	return -EINVAL;
}

#define SHOW(s, n) (int)((n) < 40 ? (n) : 40), (s) /* a quoted value in a message */

static int prefix_from_string(const char *prefix, size_t plen, size_t i, struct control_route *r,
			      struct api_parse_error *e)
{
	const char *why;
	if (ip_prefix_parse(prefix, plen, 0, &r->prefix, &why) != 0)
		return set_err(e, i, "routes[%zu].prefix: %s: \"%.*s\"", i, why,
			       SHOW(prefix, plen));
	return 0;
}

static int gateway_from_string(const char *via, size_t vlen, const char *where, size_t i,
			       struct control_path *path, struct api_parse_error *e)
{
	if (ip_addr_parse(via, vlen, &path->gw) != 0)
		return set_err(e, i, "routes[%zu]%s.via: not an IP address: \"%.*s\"", i, where,
			       SHOW(via, vlen));
	return 0;
}

/* The fast scanner. Returns 0, -EINVAL (a semantic error, in *e), -ENOMEM, or -EAGAIN: not the
 * common form (syntax error, escapes, a value of another type, a key other than prefix and via):
 * let jansson decide. */
struct scan {
	const char *s;
	size_t len, pos;
};

static void skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\n' ||
				     sc->s[sc->pos] == '\r' || sc->s[sc->pos] == '\t'))
		sc->pos++;
}

static bool scan_char(struct scan *sc, char c)
{
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == c) {
		sc->pos++;
		return true;
	}
	return false;
}

/* A string of ASCII without escapes or control characters: its start and length. Anything else is
 * jansson's: escapes, control characters, and bytes above 0x7f, which must form valid UTF-8
 * (RFC 8259 8.1) and which no address or key we take contains anyway. */
static bool scan_string(struct scan *sc, const char **str, size_t *n)
{
	if (!scan_char(sc, '"'))
		return false;
	size_t start = sc->pos;
	const char *end = memchr(sc->s + start, '"', sc->len - start);
	if (!end)
		return false;
	*str = sc->s + start;
	*n = (size_t)(end - *str);
	for (size_t i = 0; i < *n; i++)
		if ((*str)[i] == '\\' || (unsigned char)(*str)[i] < 0x20 ||
		    (unsigned char)(*str)[i] > 0x7f)
			return false;
	sc->pos = start + *n + 1;
	return true;
}

static int scan_route(struct scan *sc, size_t i, struct control_route *r, struct control_path *path,
		      struct api_parse_error *e)
{
	const char *prefix = NULL, *via = NULL, *key, *val;
	size_t plen = 0, vlen = 0, klen, vl;
	if (!scan_char(sc, '{'))
		return -EAGAIN;
	if (scan_char(sc, '}'))
		return set_err(e, i, "routes[%zu]: \"prefix\" and \"via\" are required", i);
	do {
		if (!scan_string(sc, &key, &klen) || !scan_char(sc, ':') ||
		    !scan_string(sc, &val, &vl))
			return -EAGAIN;
		if (klen == 6 && memcmp(key, "prefix", 6) == 0 && !prefix) {
			prefix = val;
			plen = vl;
		} else if (klen == 3 && memcmp(key, "via", 3) == 0 && !via) {
			via = val;
			vlen = vl;
		} else {
			return -EAGAIN; /* another key, or a duplicate: jansson decides */
		}
	} while (scan_char(sc, ','));
	if (!scan_char(sc, '}'))
		return -EAGAIN;
	if (!prefix || !via)
		return set_err(e, i, "routes[%zu]: \"%s\" is required", i,
			       prefix ? "via" : "prefix");
	*r = (struct control_route){.kind = CONTROL_ROUTE_UNICAST, .n_paths = 1};
	*path = (struct control_path){.iface = IFACE_ID_NONE};
	int err = prefix_from_string(prefix, plen, i, r, e);
	return err ? err : gateway_from_string(via, vlen, "", i, path, e);
}

static int parse_fast(const char *buf, size_t len, unsigned flags, struct route_vec *v,
		      bool *single, struct api_parse_error *e)
{
	struct scan sc = {.s = buf, .len = len};
	struct control_route r;
	struct control_path path;
	struct api_parse_error later; /* errors after the first: only the first is reported */
	/* A bad route (-EINVAL, worded in e) does not end the scan: the rest of the body must
	 * still scan, or jansson decides it, so that a syntax error anywhere wins over a bad
	 * route, as it does when jansson reads the body (it parses before it checks). */
	bool bad = false; /* a bad route seen, the first worded in e */
	int err = 0;
	skip_ws(&sc);
	*single = sc.pos < len && buf[sc.pos] == '{';
	if (*single) {
		if (!(flags & API_ROUTES_ALLOW_SINGLE))
			return -EAGAIN;
		err = scan_route(&sc, 0, &r, &path, e);
		if (err == -EINVAL) {
			bad = true;
			err = 0;
		} else if (!err) {
			err = vec_push(v, &r, &path);
		}
	} else {
		if (!scan_char(&sc, '['))
			return -EAGAIN;
		if (!scan_char(&sc, ']')) {
			size_t i = 0;
			do {
				err = scan_route(&sc, i, &r, &path, bad ? &later : e);
				if (err == -EINVAL) {
					bad = true;
					err = 0;
				} else if (!err && !bad) {
					err = vec_push(v, &r, &path);
				}
				i++;
			} while (!err && scan_char(&sc, ','));
			if (!err && !scan_char(&sc, ']'))
				err = -EAGAIN;
		}
	}
	skip_ws(&sc);
	if (!err && sc.pos != len)
		err = -EAGAIN; /* trailing text */
	return err ? err : bad ? -EINVAL : 0;
}

/* One next hop object {"via": ADDR, "iface": NAME} (either or both) of route i; where names it
 * in messages (".nexthops[2]" or ""). */
static int json_path(json_t *o, size_t i, const char *where, const struct iface_table *ift,
		     struct control_path *path, struct api_parse_error *e)
{
	json_t *via = json_object_get(o, "via"), *dev = json_object_get(o, "iface");
	*path = (struct control_path){.iface = IFACE_ID_NONE};
	if (via && !json_is_string(via))
		return set_err(e, i, "routes[%zu]%s.via: must be a string (an IP address)", i,
			       where);
	if (dev && !json_is_string(dev))
		return set_err(e, i, "routes[%zu]%s.iface: must be a string (an interface name)", i,
			       where);
	if (!via && !dev)
		return set_err(e, i, "routes[%zu]%s: \"via\" is required", i, where);
	if (via) {
		int err = gateway_from_string(json_string_value(via), json_string_length(via),
					      where, i, path, e);
		if (err)
			return err;
	}
	if (dev) {
		int id = ift ? iface_table_find(ift, json_string_value(dev)) : -ENOENT;
		if (id < 0)
			return set_err(e, i, "routes[%zu]%s.iface: no such interface \"%.40s\"", i,
				       where, json_string_value(dev));
		path->iface = (iface_id_t)id;
	}
	return 0;
}

/* The keys a route object may have. */
static bool route_key_known(const char *key)
{
	static const char *const keys[] = {"prefix",   "via",  "iface",
					   "nexthops", "type", "precedence"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (strcmp(key, keys[k]) == 0)
			return true;
	return false;
}

/* The general path, through jansson: any valid JSON, precise syntax errors, every route form. */
static int json_route(json_t *o, size_t i, const struct iface_table *ift, struct control_route *r,
		      struct control_path *paths, struct api_parse_error *e)
{
	if (!json_is_object(o))
		return set_err(e, i, "routes[%zu]: must be an object", i);
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		if (!route_key_known(key))
			return set_err(e, i, "routes[%zu]: unknown key \"%.40s\"", i, key);
	}
	json_t *p = json_object_get(o, "prefix"), *via = json_object_get(o, "via"),
	       *dev = json_object_get(o, "iface"), *nhs = json_object_get(o, "nexthops"),
	       *type = json_object_get(o, "type"), *prec = json_object_get(o, "precedence");
	*r = (struct control_route){.kind = CONTROL_ROUTE_UNICAST};
	if (type) {
		int kind = json_is_string(type) ? control_route_kind_parse(json_string_value(type))
						: -EINVAL;
		if (kind < 0)
			return set_err(e, i,
				       "routes[%zu].type: one of \"unicast\", \"blackhole\", "
				       "\"unreachable\", \"local\", \"punt\"",
				       i);
		r->kind = (uint8_t)kind;
	}
	bool unicast = r->kind == CONTROL_ROUTE_UNICAST;
	/* Missing keys first, then values, in the scanner's order (scan_route()), so the two
	 * parsers word every error alike. */
	if (!p && !via && !nhs && !dev && unicast)
		return set_err(e, i, "routes[%zu]: \"prefix\" and \"via\" are required", i);
	if (!p)
		return set_err(e, i, "routes[%zu]: \"prefix\" is required", i);
	if (unicast && !via && !dev && !nhs)
		return set_err(e, i, "routes[%zu]: \"via\" is required", i);
	if (!json_is_string(p))
		return set_err(e, i, "routes[%zu].prefix: must be a string \"address/length\"", i);
	int err = prefix_from_string(json_string_value(p), json_string_length(p), i, r, e);
	if (err)
		return err;
	if (prec) {
		json_int_t v = json_is_integer(prec) ? json_integer_value(prec) : -1;
		if (v < 1 || v > 255)
			return set_err(e, i, "routes[%zu].precedence: an integer 1..255", i);
		r->precedence = (uint8_t)v;
	}
	if (!unicast) {
		if (via || dev || nhs)
			return set_err(e, i, "routes[%zu]: a %s route has no next hop", i,
				       control_route_kind_name(r->kind));
		return 0;
	}
	if (nhs) {
		if (via || dev)
			return set_err(
			    e, i, "routes[%zu]: \"nexthops\" or \"via\"/\"iface\", not both", i);
		size_t n = json_is_array(nhs) ? json_array_size(nhs) : 0;
		if (n < 1 || n > CONTROL_ROUTE_PATHS_MAX)
			return set_err(e, i, "routes[%zu].nexthops: an array of 1..%d next hops", i,
				       CONTROL_ROUTE_PATHS_MAX);
		for (size_t k = 0; k < n; k++) {
			char where[32];
			snprintf(where, sizeof(where), ".nexthops[%zu]", k);
			json_t *nh = json_array_get(nhs, k);
			if (!json_is_object(nh))
				return set_err(e, i, "routes[%zu]%s: must be an object", i, where);
			json_object_foreach(nh, key, val)
			{
				if (strcmp(key, "via") != 0 && strcmp(key, "iface") != 0)
					return set_err(e, i, "routes[%zu]%s: unknown key \"%.40s\"",
						       i, where, key);
			}
			err = json_path(nh, i, where, ift, &paths[k], e);
			if (err)
				return err;
		}
		r->n_paths = (uint8_t)n;
		return 0;
	}
	if (!via && !dev)
		return set_err(e, i, "routes[%zu]: \"via\" is required", i);
	r->n_paths = 1;
	return json_path(o, i, "", ift, &paths[0], e);
}

static int parse_json(const char *buf, size_t len, unsigned flags, const struct iface_table *ift,
		      struct route_vec *v, bool *single, struct api_parse_error *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	struct control_route r;
	struct control_path paths[CONTROL_ROUTE_PATHS_MAX];
	int err = 0;
	if (!root)
		return set_err(e, SIZE_MAX, "malformed JSON at line %d, column %d: %s", jerr.line,
			       jerr.column, jerr.text);
	*single = json_is_object(root);
	if (*single && (flags & API_ROUTES_ALLOW_SINGLE)) {
		err = json_route(root, 0, ift, &r, paths, e);
		if (!err)
			err = vec_push(v, &r, paths);
	} else if (json_is_array(root)) {
		size_t i;
		json_t *o;
		json_array_foreach(root, i, o)
		{
			err = json_route(o, i, ift, &r, paths, e);
			if (!err)
				err = vec_push(v, &r, paths);
			if (err)
				break;
		}
	} else {
		err = set_err(e, SIZE_MAX, "%s",
			      flags & API_ROUTES_ALLOW_SINGLE
				  ? "the body must be a route object or an array of them"
				  : "the body must be an array of route objects");
	}
	json_decref(root);
	return err;
}

/* Append s to buf at *len if it fits (cap counts the NUL); false if not. */
static bool put_str(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n >= cap)
		return false;
	memcpy(buf + *len, s, n + 1);
	*len += n;
	return true;
}

/* Append s as the inside of a JSON string: '"' and '\\' escaped, and the control characters
 * RFC 8259 7 requires escaped as \u00XX; other bytes as they are. Interface names need it: the
 * configuration takes any JSON string as a name, quotes and backslashes included. */
static bool put_json_chars(char *buf, size_t cap, size_t *len, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8] = {(char)c, '\0'};
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20)
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		if (!put_str(buf, cap, len, esc))
			return false;
	}
	return true;
}

static bool put_path(char *buf, size_t cap, size_t *len, const struct control_path *path,
		     const struct iface_table *ift)
{
	char a[IP_ADDR_STRLEN];
	bool ok = true, comma = false;
	if (path->gw.family) {
		ip_addr_format(&path->gw, a);
		ok = put_str(buf, cap, len, "\"via\":\"") && put_str(buf, cap, len, a) &&
		     put_str(buf, cap, len, "\"");
		comma = true;
	}
	const struct iface *ifc =
	    path->iface != IFACE_ID_NONE && ift ? iface_table_get(ift, path->iface) : NULL;
	if (ok && ifc)
		ok = put_str(buf, cap, len, comma ? ",\"iface\":\"" : "\"iface\":\"") &&
		     put_json_chars(buf, cap, len, ifc->name) && put_str(buf, cap, len, "\"");
	return ok;
}

size_t api_format_route(char *buf, size_t cap, const struct control_route *r,
			const struct iface_table *ift)
{
	char p[IP_PREFIX_STRLEN], num[16];
	size_t len = 0;
	uint8_t kind = r->kind ? r->kind : CONTROL_ROUTE_UNICAST;
	ip_prefix_format(&r->prefix, p);
	bool ok = put_str(buf, cap, &len, "{\"prefix\":\"") && put_str(buf, cap, &len, p) &&
		  put_str(buf, cap, &len, "\"");
	if (ok && kind != CONTROL_ROUTE_UNICAST)
		ok = put_str(buf, cap, &len, ",\"type\":\"") &&
		     put_str(buf, cap, &len, control_route_kind_name(kind)) &&
		     put_str(buf, cap, &len, "\"");
	if (ok && r->precedence) {
		snprintf(num, sizeof(num), "%u", r->precedence);
		ok = put_str(buf, cap, &len, ",\"precedence\":") && put_str(buf, cap, &len, num);
	}
	if (ok && kind == CONTROL_ROUTE_UNICAST && r->n_paths == 1) {
		ok = put_str(buf, cap, &len, ",") && put_path(buf, cap, &len, &r->paths[0], ift);
	} else if (ok && kind == CONTROL_ROUTE_UNICAST) {
		ok = put_str(buf, cap, &len, ",\"nexthops\":[");
		for (unsigned i = 0; ok && i < r->n_paths; i++)
			ok = put_str(buf, cap, &len, i ? ",{" : "{") &&
			     put_path(buf, cap, &len, &r->paths[i], ift) &&
			     put_str(buf, cap, &len, "}");
		ok = ok && put_str(buf, cap, &len, "]");
	}
	ok = ok && put_str(buf, cap, &len, "}");
	if (!ok) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	return len;
}

void api_route_set_free(struct api_route_set *set)
{
	free(set->routes);
	free(set->paths);
	*set = (struct api_route_set){0};
}

int api_parse_routes(const char *buf, size_t len, unsigned flags, const struct iface_table *ift,
		     struct api_route_set *out, bool *was_single, struct api_parse_error *err)
{
	struct route_vec v = {0};
	bool single = false;
	err->message[0] = '\0';
	err->index = SIZE_MAX;
	/* Room for as many routes as the body can hold in the common form (at least 38 bytes
	 * each: {"prefix":"1.0.0.0/8","via":"1.2.3.4"} and a comma), so a full table grows its
	 * arrays once, not twenty times; pages never written are never faulted in. */
	size_t guess = len / 38 + 1;
	v.r = malloc(guess * sizeof(*v.r));
	v.p = malloc(guess * sizeof(*v.p));
	if (v.r && v.p) {
		v.cap = guess;
		v.cap_paths = guess;
	} else {
		free(v.r);
		free(v.p);
		v.r = NULL;
		v.p = NULL;
	}
	int rc = parse_fast(buf, len, flags, &v, &single, err);
	if (rc == -EAGAIN) {
		/* The scanner may have worded a bad route before it met what it declines. */
		v.n = v.n_paths = 0;
		err->message[0] = '\0';
		err->index = SIZE_MAX;
		rc = parse_json(buf, len, flags, ift, &v, &single, err);
	}
	if (rc) {
		free(v.r);
		free(v.p);
		if (rc == -ENOMEM)
			set_err(err, SIZE_MAX, "out of memory");
		return rc;
	}
	for (size_t i = 0; i < v.n; i++) /* the arrays stopped moving: indices to pointers */
		v.r[i].paths = v.r[i].n_paths ? v.p + (uintptr_t)v.r[i].paths : NULL;
	if (!v.n) {
		free(v.r);
		free(v.p);
		v.r = NULL;
		v.p = NULL;
	}
	*out = (struct api_route_set){.routes = v.r, .paths = v.p, .n = v.n};
	*was_single = single;
	return 0;
}

size_t api_json_skip_value(const char *buf, size_t len, size_t pos)
{
	size_t depth = 0;
	while (pos < len && strchr(" \t\r\n", buf[pos]))
		pos++;
	if (pos >= len)
		return SIZE_MAX;
	do {
		char c = buf[pos];
		if (c == '"') {
			for (pos++; pos < len && buf[pos] != '"'; pos++)
				if (buf[pos] == '\\')
					pos++; /* the escaped character cannot end the string */
			if (pos >= len)
				return SIZE_MAX;
			pos++;
		} else if (c == '[' || c == '{') {
			depth++;
			pos++;
		} else if (c == ']' || c == '}') {
			if (depth == 0)
				return SIZE_MAX;
			depth--;
			pos++;
		} else if (depth == 0 && strchr(",:", c)) {
			return SIZE_MAX;
		} else {
			pos++;
			/* A scalar at the top level ends before white space or punctuation. */
			if (depth == 0) {
				while (pos < len && !strchr(" \t\r\n,]}:", buf[pos]))
					pos++;
				return pos;
			}
		}
	} while (depth > 0 && pos < len);
	return depth ? SIZE_MAX : pos;
}
