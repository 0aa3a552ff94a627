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

int api_parse_ipv4(const char *s, size_t len, uint32_t *ip)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
		size_t start = i;
		unsigned n = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == start || n > 255 || (i - start > 1 && s[start] == '0'))
			return -EINVAL; /* empty, too big, or a leading zero (octal in inet_aton) */
		v = v << 8 | n;
	}
	if (i != len)
		return -EINVAL;
	*ip = v;
	return 0;
}

int api_parse_prefix(const char *s, size_t slen, bool path_form, uint32_t *prefix, uint8_t *len,
		     const char **why)
{
	static const char *const bad = "not a prefix a.b.c.d/len";
	size_t sep = 0;
	while (sep < slen && s[sep] != '/' && !(path_form && s[sep] == '_'))
		sep++;
	uint32_t ip;
	if (sep == slen || api_parse_ipv4(s, sep, &ip) != 0) {
		*why = bad;
		return -EINVAL;
	}
	size_t i = sep + 1;
	unsigned l = 0;
	if (i == slen || slen - i > 2 || (slen - i == 2 && s[i] == '0')) {
		*why = slen - i > 2 && i < slen ? "prefix length above 32" : bad;
		return -EINVAL;
	}
	for (; i < slen; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = bad;
			return -EINVAL;
		}
		l = l * 10 + (unsigned)(s[i] - '0');
	}
	if (l > 32) {
		*why = "prefix length above 32";
		return -EINVAL;
	}
	uint32_t host = l == 32 ? 0 : UINT32_MAX >> l;
	if (ip & host) {
		*why = "host bits set";
		return -EINVAL;
	}
	*prefix = ip;
	*len = (uint8_t)l;
	return 0;
}

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

size_t api_format_ipv4(uint32_t ip, char *buf)
{
	size_t n = 0;
	for (int part = 3; part >= 0; part--) {
		unsigned b = (ip >> (8 * part)) & 255;
		if (b >= 100)
			buf[n++] = (char)('0' + b / 100);
		if (b >= 10)
			buf[n++] = (char)('0' + b / 10 % 10);
		buf[n++] = (char)('0' + b % 10);
		if (part)
			buf[n++] = '.';
	}
	buf[n] = '\0';
	return n;
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
	uint32_t ip;
	if (api_parse_ipv4(s, hlen, &ip) != 0)
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(ip);
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

struct route_vec {
	struct control_route *r;
	size_t n, cap;
};

static int vec_push(struct route_vec *v, const struct control_route *r)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct control_route *nr = realloc(v->r, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		v->r = nr;
		v->cap = cap;
	}
	v->r[v->n++] = *r;
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

/* Check and convert one route's strings (either parser). */
static int route_from_strings(const char *prefix, size_t plen, const char *via, size_t vlen,
			      size_t i, struct control_route *r, struct api_parse_error *e)
{
	const char *why;
	if (api_parse_prefix(prefix, plen, false, &r->prefix, &r->len, &why) != 0)
		return set_err(e, i, "routes[%zu].prefix: %s: \"%.*s\"", i, why,
			       (int)(plen < 40 ? plen : 40), prefix);
	if (api_parse_ipv4(via, vlen, &r->gw) != 0)
		return set_err(e, i, "routes[%zu].via: not an IPv4 address: \"%.*s\"", i,
			       (int)(vlen < 40 ? vlen : 40), via);
	return 0;
}

/* The fast scanner. Returns 0, -EINVAL (a semantic error, in *e), -ENOMEM, or -EAGAIN: not the
 * common form (syntax error, escapes, a value of another type): let jansson decide. */
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

static int scan_route(struct scan *sc, size_t i, struct control_route *r, struct api_parse_error *e)
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
			return -EAGAIN; /* unknown or duplicate key: jansson words it */
		}
	} while (scan_char(sc, ','));
	if (!scan_char(sc, '}'))
		return -EAGAIN;
	if (!prefix || !via)
		return set_err(e, i, "routes[%zu]: \"%s\" is required", i,
			       prefix ? "via" : "prefix");
	return route_from_strings(prefix, plen, via, vlen, i, r, e);
}

static int parse_fast(const char *buf, size_t len, unsigned flags, struct route_vec *v,
		      bool *single, struct api_parse_error *e)
{
	struct scan sc = {.s = buf, .len = len};
	struct control_route r;
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
		err = scan_route(&sc, 0, &r, e);
		if (err == -EINVAL) {
			bad = true;
			err = 0;
		} else if (!err) {
			err = vec_push(v, &r);
		}
	} else {
		if (!scan_char(&sc, '['))
			return -EAGAIN;
		if (!scan_char(&sc, ']')) {
			size_t i = 0;
			do {
				err = scan_route(&sc, i, &r, bad ? &later : e);
				if (err == -EINVAL) {
					bad = true;
					err = 0;
				} else if (!err && !bad) {
					err = vec_push(v, &r);
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

/* The general path, through jansson: any valid JSON, precise syntax errors. */
static int json_route(json_t *o, size_t i, struct control_route *r, struct api_parse_error *e)
{
	if (!json_is_object(o))
		return set_err(e, i, "routes[%zu]: must be an object", i);
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		if (strcmp(key, "prefix") != 0 && strcmp(key, "via") != 0)
			return set_err(e, i, "routes[%zu]: unknown key \"%.40s\"", i, key);
	}
	json_t *p = json_object_get(o, "prefix"), *g = json_object_get(o, "via");
	if (!p && !g) /* worded as the scanner words it (scan_route) */
		return set_err(e, i, "routes[%zu]: \"prefix\" and \"via\" are required", i);
	if (!p || !g)
		return set_err(e, i, "routes[%zu]: \"%s\" is required", i, p ? "via" : "prefix");
	if (!json_is_string(p))
		return set_err(e, i, "routes[%zu].prefix: must be a string \"a.b.c.d/len\"", i);
	if (!json_is_string(g))
		return set_err(e, i, "routes[%zu].via: must be a string \"a.b.c.d\"", i);
	return route_from_strings(json_string_value(p), json_string_length(p), json_string_value(g),
				  json_string_length(g), i, r, e);
}

static int parse_json(const char *buf, size_t len, unsigned flags, struct route_vec *v,
		      bool *single, struct api_parse_error *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	struct control_route r;
	int err = 0;
	if (!root)
		return set_err(e, SIZE_MAX, "malformed JSON at line %d, column %d: %s", jerr.line,
			       jerr.column, jerr.text);
	*single = json_is_object(root);
	if (*single && (flags & API_ROUTES_ALLOW_SINGLE)) {
		err = json_route(root, 0, &r, e);
		if (!err)
			err = vec_push(v, &r);
	} else if (json_is_array(root)) {
		size_t i;
		json_t *o;
		json_array_foreach(root, i, o)
		{
			err = json_route(o, i, &r, e);
			if (!err)
				err = vec_push(v, &r);
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

int api_parse_routes(const char *buf, size_t len, unsigned flags, struct control_route **out,
		     size_t *n, bool *was_single, struct api_parse_error *err)
{
	struct route_vec v = {0};
	bool single = false;
	err->message[0] = '\0';
	err->index = SIZE_MAX;
	int rc = parse_fast(buf, len, flags, &v, &single, err);
	if (rc == -EAGAIN) {
		/* The scanner may have worded a bad route before it met what it declines. */
		v.n = 0;
		err->message[0] = '\0';
		err->index = SIZE_MAX;
		rc = parse_json(buf, len, flags, &v, &single, err);
	}
	if (rc) {
		free(v.r);
		if (rc == -ENOMEM)
			set_err(err, SIZE_MAX, "out of memory");
		return rc;
	}
	if (!v.n) {
		free(v.r);
		v.r = NULL;
	}
	*out = v.r;
	*n = v.n;
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
