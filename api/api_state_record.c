/*
 * api_state_record.c: formatting and decoding of the state journal's records
 * (api_state_record.h). Route lists are formatted by hand and read with the API's fast route
 * parser (a routes_replace record holds a full table); the small records go through jansson.
 */
#define _GNU_SOURCE
#include "api_state_record.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_parse.h"

/* ---- formatting ------------------------------------------------------------------------------ */

char *state_record_routes(enum state_op op, const struct control_route *r, size_t n,
			  const struct iface_table *ift, size_t *len)
{
	const char *name = op == STATE_ROUTES_REPLACE ? "routes_replace" : "route_add";
	size_t cap = 48, l;
	for (size_t i = 0; i < n; i++)
		cap += state_route_room(&r[i]) + 1;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	l = (size_t)sprintf(buf, "{\"op\":\"%s\",\"routes\":[", name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[l++] = ',';
		size_t w = api_format_route(buf + l, cap - l, &r[i], ift);
		if (!w) { /* cannot happen: cap counted each route's room */
			free(buf);
			errno = EOVERFLOW;
			return NULL;
		}
		l += w;
	}
	memcpy(buf + l, "]}", 3);
	*len = l + 2;
	return buf;
}

/* Dump o (reference stolen) compactly, keys in the order packed. */
static char *dump(json_t *o, size_t *len)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (s)
		*len = strlen(s);
	return s;
}

char *state_record_route_del(const struct ip_prefix *prefix, size_t *len)
{
	char p[IP_PREFIX_STRLEN];
	ip_prefix_format(prefix, p);
	return dump(json_pack("{s:s, s:s}", "op", "route_del", "prefix", p), len);
}

char *state_record_neigh_static(const struct ip_addr *ip, const uint8_t mac[6], size_t *len)
{
	char i[IP_ADDR_STRLEN], m[18];
	ip_addr_format(ip, i);
	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return dump(json_pack("{s:s, s:s, s:s}", "op", "neigh_static", "ip", i, "mac", m), len);
}

char *state_record_promisc(const char *port, bool on, size_t *len)
{
	return dump(json_pack("{s:s, s:s, s:b}", "op", "promisc", "port", port, "on", on), len);
}

/* ---- decoding -------------------------------------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const char *buf, size_t len, size_t p)
{
	while (p < len && is_ws(buf[p]))
		p++;
	return p;
}

int state_json_member(const char *buf, size_t len, size_t *pos, char *key, size_t keylen,
		      size_t *vstart, size_t *vend)
{
	size_t p = skip_ws(buf, len, *pos);
	if (p >= len || buf[p] != '"')
		return -EINVAL;
	const char *end = memchr(buf + p + 1, '"', len - p - 1);
	if (!end || (size_t)(end - buf - p - 1) >= keylen)
		return -EINVAL;
	size_t klen = (size_t)(end - buf) - p - 1;
	memcpy(key, buf + p + 1, klen);
	key[klen] = '\0';
	if (memchr(key, '\\', klen) || strlen(key) != klen)
		return -EINVAL; /* escapes or NULs: no key of ours has them */
	p = skip_ws(buf, len, (size_t)(end - buf) + 1);
	if (p >= len || buf[p] != ':')
		return -EINVAL;
	*vstart = p + 1;
	*vend = api_json_skip_value(buf, len, p + 1);
	if (*vend == SIZE_MAX)
		return -EINVAL;
	*pos = *vend;
	return 0;
}

int state_json_next(const char *buf, size_t len, size_t *pos)
{
	size_t p = skip_ws(buf, len, *pos);
	if (p < len && (buf[p] == ',' || buf[p] == '}')) {
		*pos = p + 1;
		return buf[p] == ',';
	}
	return -EINVAL;
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

enum {
	K_OP = 1 << 0,
	K_ROUTES = 1 << 1,
	K_PREFIX = 1 << 2,
	K_IP = 1 << 3,
	K_MAC = 1 << 4,
	K_PORT = 1 << 5,
	K_ON = 1 << 6,
};

/* What each op needs, exactly. */
static const struct {
	const char *name;
	enum state_op op;
	unsigned keys;
} ops[] = {
    {"route_add", STATE_ROUTE_ADD, K_OP | K_ROUTES},
    {"routes_replace", STATE_ROUTES_REPLACE, K_OP | K_ROUTES},
    {"route_del", STATE_ROUTE_DEL, K_OP | K_PREFIX},
    {"neigh_static", STATE_NEIGH_STATIC, K_OP | K_IP | K_MAC},
    {"promisc", STATE_PROMISC, K_OP | K_PORT | K_ON},
};

/* A small member value: a string (copied into s, cap bytes) or, for "on", a boolean. */
static int small_value(const char *v, size_t vlen, const char *key, char *s, size_t cap, bool *b,
		       char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *j = json_loadb(v, vlen, JSON_DECODE_ANY, &jerr);
	int err = 0;
	if (!j)
		return bad(why, whylen, "%s: %s", key, jerr.text);
	if (b) {
		if (!json_is_boolean(j))
			err = bad(why, whylen, "%s: not true or false", key);
		else
			*b = json_is_true(j);
	} else if (!json_is_string(j) || json_string_length(j) >= cap ||
		   strlen(json_string_value(j)) != json_string_length(j)) {
		err = bad(why, whylen, "%s: not a string (of at most %zu bytes)", key, cap - 1);
	} else {
		memcpy(s, json_string_value(j), json_string_length(j) + 1);
	}
	json_decref(j);
	return err;
}

int state_record_decode(const char *p, size_t len, const struct iface_table *ift,
			struct state_change *c, char *why, size_t whylen)
{
	static const char *const names[] = {"op", "routes", "prefix", "ip", "mac", "port", "on"};
	char op[32] = "", prefix[IP_PREFIX_STRLEN] = "", ip[IP_PREFIX_STRLEN] = "", mac[24] = "";
	unsigned seen = 0;
	size_t pos;
	int err = 0;
	memset(c, 0, sizeof(*c));
	pos = skip_ws(p, len, 0);
	if (pos >= len || p[pos] != '{')
		return bad(why, whylen, "not a JSON object");
	pos++;
	for (;;) {
		char key[16];
		size_t vs, ve;
		unsigned k = 0;
		if (state_json_member(p, len, &pos, key, sizeof(key), &vs, &ve) != 0) {
			err = bad(why, whylen, "malformed near byte %zu", pos);
			goto fail;
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(key, names[i]) == 0)
				k = 1u << i;
		if (!k || (seen & k)) {
			err = bad(why, whylen, "%s key \"%s\"", k ? "repeated" : "unknown", key);
			goto fail;
		}
		seen |= k;
		if (k == K_ROUTES) {
			struct api_parse_error perr;
			bool single;
			err = api_parse_routes(p + vs, ve - vs, 0, ift, &c->set, &single, &perr);
			if (err) {
				if (err == -EINVAL)
					bad(why, whylen, "routes: %s", perr.message);
				goto fail;
			}
		} else {
			char *dst = k == K_OP	    ? op
				    : k == K_PREFIX ? prefix
				    : k == K_IP	    ? ip
				    : k == K_MAC    ? mac
						    : c->port;
			size_t cap = k == K_OP	   ? sizeof(op)
				     : k == K_PORT ? sizeof(c->port)
						   : sizeof(ip);
			err = small_value(p + vs, ve - vs, key, k == K_ON ? NULL : dst, cap,
					  k == K_ON ? &c->on : NULL, why, whylen);
			if (err)
				goto fail;
		}
		int more = state_json_next(p, len, &pos);
		if (more < 0) {
			err = bad(why, whylen, "',' or '}' expected near byte %zu", pos);
			goto fail;
		}
		if (!more)
			break;
	}
	if (skip_ws(p, len, pos) != len) {
		err = bad(why, whylen, "text after the object");
		goto fail;
	}
	size_t i;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].name) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0])) {
		err = bad(why, whylen, "unknown op \"%s\"", op);
		goto fail;
	}
	if (seen != ops[i].keys) {
		err = bad(why, whylen, "%s: wrong set of keys", op);
		goto fail;
	}
	c->op = ops[i].op;
	const char *w = NULL;
	if (c->op == STATE_ROUTE_DEL &&
	    ip_prefix_parse(prefix, strlen(prefix), 0, &c->prefix, &w) != 0)
		err = bad(why, whylen, "prefix: %s", w);
	else if (c->op == STATE_NEIGH_STATIC &&
		 (ip_addr_parse(ip, strlen(ip), &c->ip) != 0 || api_parse_mac(mac, c->mac) != 0))
		err = bad(why, whylen, "expected an IP address and a mac aa:bb:cc:dd:ee:ff");
	if (!err)
		return 0;
fail:
	state_change_free(c);
	return err;
}

void state_change_free(struct state_change *c)
{
	api_route_set_free(&c->set);
}
