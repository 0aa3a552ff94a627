/*
 * test_api_parse: the REST API's request layer without a server (api/api_parse.h): addresses and
 * prefixes in bodies and paths (against inet_pton as the independent reference), paging, listen
 * addresses, endpoint matching with 404 / 405 and the Allow list, error bodies (parsed back with
 * jansson), and the route-list parser. api_parse.c is compiled into this test, so its two
 * route-list parsers are called directly: every good and bad body goes through both the fast
 * scanner and the jansson path. The test checks which of them answers each body (the scanner,
 * or jansson when the scanner declines), that where the scanner answers jansson answers the same
 * (the same routes, or the same error message and route index), that api_parse_routes() returns
 * the deciding parser's answer, and that bodies only jansson takes (escapes) give the routes the
 * scanner reads from the same body written plainly.
 */
/* The parser's source, not just its header: its two route-list parsers are static. The library
 * object is then not linked (every symbol it has is defined here). */
#include "api_parse.c"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* The API reads addresses with ipaddr.h's parser: IPv4 exactly as inet_pton takes it. */
static void test_ipv4(void)
{
	static const char *const cases[] = {
	    "0.0.0.0",	 "255.255.255.255", "10.1.2.3",	   "1.2.3",    "1.2.3.4.5",
	    "256.1.1.1", "01.2.3.4",	    "1..2.3",	   "1.2.3.4 ", "",
	    "a.b.c.d",	 "1.2.3.04",	    "192.168.0.1", "1.2.3.-4"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr got = {0};
		struct in_addr ref;
		int ok_ref = inet_pton(AF_INET, cases[i], &ref) == 1;
		int ok = ip_addr_parse_family(cases[i], strlen(cases[i]), AF_INET, &got) == 0;
		if (ok != ok_ref)
			fprintf(stderr, "ipv4 \"%s\": ours %d, inet_pton %d\n", cases[i], ok,
				ok_ref);
		CHECK_EQ(ok, ok_ref);
		if (ok && ok_ref)
			CHECK(got.family == AF_INET && got.v4 == ntohl(ref.s_addr));
		/* Either family: the same answer for every IPv4 text. */
		struct ip_addr any = {0};
		CHECK_EQ(ip_addr_parse(cases[i], strlen(cases[i]), &any) == 0, ok_ref);
		if (ok_ref)
			CHECK(ip_addr_equal(&any, &got));
	}
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a = ip_addr_v4(0x0a090005);
	CHECK_EQ(ip_addr_format(&a, buf), 8);
	CHECK(strcmp(buf, "10.9.0.5") == 0);
	a = ip_addr_v4(0xffffffff);
	ip_addr_format(&a, buf);
	CHECK(strcmp(buf, "255.255.255.255") == 0);
}

static void test_prefix(void)
{
	struct ip_prefix p;
	const char *why = NULL;
	const unsigned path = IP_PREFIX_PATH_FORM;
	CHECK_EQ(ip_prefix_parse("10.0.0.0/8", 10, 0, &p, &why), 0);
	CHECK(p.addr.family == AF_INET && p.addr.v4 == 0x0a000000);
	CHECK_EQ(p.len, 8);
	/* The path forms: underscore, and the slash %2F decodes to. */
	CHECK_EQ(ip_prefix_parse("10.0.0.0_8", 10, path, &p, &why), 0);
	CHECK_EQ(p.len, 8);
	CHECK(p.addr.v4 == 0x0a000000);
	CHECK_EQ(ip_prefix_parse("10.0.0.0/8", 10, path, &p, &why), 0);
	CHECK(ip_prefix_parse("10.0.0.0_8", 10, 0, &p, &why) == -EINVAL);
	CHECK_EQ(ip_prefix_parse("0.0.0.0/0", 9, 0, &p, &why), 0);
	CHECK_EQ(p.len, 0);
	CHECK_EQ(ip_prefix_parse("1.2.3.4/32", 10, 0, &p, &why), 0);
	CHECK_EQ(p.len, 32);

	/* The reasons the API passes on in its 400 bodies (docs/api.md, api_bad_input.sh). */
	CHECK(ip_prefix_parse("10.0.0.0/33", 11, 0, &p, &why) == -EINVAL);
	CHECK(strcmp(why, "prefix length above 32") == 0);
	CHECK(ip_prefix_parse("10.0.0.0/133", 12, 0, &p, &why) == -EINVAL);
	CHECK(strcmp(why, "prefix length above 32") == 0);
	CHECK(ip_prefix_parse("10.0.0.1/8", 10, 0, &p, &why) == -EINVAL);
	CHECK(strcmp(why, "host bits set") == 0);
	CHECK(ip_prefix_parse("10.0.0.0_33", 11, path, &p, &why) == -EINVAL);
	static const char *const bad[] = {"10.0.0.0", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/a",
					  "/8",	      "10.0.0/8",  "10.0.0.0/-1", "10.0.0.0/8/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(ip_prefix_parse(bad[i], strlen(bad[i]), path, &p, &why) == -EINVAL);
		CHECK(why != NULL);
	}
}

static void test_mac_and_paging(void)
{
	uint8_t m[6];
	CHECK_EQ(api_parse_mac("02:00:5e:AB:cd:ff", m), 0);
	CHECK(m[0] == 2 && m[3] == 0xab && m[5] == 0xff);
	CHECK(api_parse_mac("02:00:5e:ab:cd", m) == -EINVAL);
	CHECK(api_parse_mac("02-00-5e-ab-cd-ff", m) == -EINVAL);
	CHECK(api_parse_mac("02:00:5e:ab:cd:fg", m) == -EINVAL);
	CHECK(api_parse_mac("+2:00:5e:ab:cd:ff", m) == -EINVAL);

	size_t off, lim;
	const char *why;
	CHECK_EQ(api_parse_paging(NULL, NULL, &off, &lim, &why), 0);
	CHECK(off == 0 && lim == API_PAGE_DEFAULT);
	CHECK_EQ(api_parse_paging("900000", "10000", &off, &lim, &why), 0);
	CHECK(off == 900000 && lim == 10000);
	CHECK(api_parse_paging("-1", NULL, &off, &lim, &why) == -EINVAL);
	CHECK(api_parse_paging(NULL, "0", &off, &lim, &why) == -EINVAL);
	CHECK(api_parse_paging(NULL, "10001", &off, &lim, &why) == -EINVAL);
	CHECK(api_parse_paging("1x", NULL, &off, &lim, &why) == -EINVAL);
	CHECK(api_parse_paging("", NULL, &off, &lim, &why) == -EINVAL);
	CHECK(api_parse_paging("99999999999999999999", NULL, &off, &lim, &why) == -EINVAL);
}

static void test_listen(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	CHECK_EQ(api_parse_listen("127.0.0.1:8080", &ss, &len), 0);
	CHECK(ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in));
	CHECK_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
	CHECK_EQ(api_parse_listen("[::1]:8080", &ss, &len), 0);
	CHECK(ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6));
	CHECK(api_parse_listen("localhost", &ss, &len) == -EINVAL);
	CHECK(api_parse_listen("localhost:80", &ss, &len) == -EINVAL);
	CHECK(api_parse_listen("::1:8080", &ss, &len) == -EINVAL);
	CHECK(api_parse_listen("127.0.0.1:0", &ss, &len) == -EINVAL);
	CHECK(api_parse_listen("127.0.0.1:65536", &ss, &len) == -EINVAL);
	CHECK(api_parse_listen("127.0.0.1:", &ss, &len) == -EINVAL);
}

static void test_match(void)
{
	static const struct api_endpoint t[] = {
	    {"/api/v1/ports", API_GET, 1},
	    {"/api/v1/ports/{}", API_GET | API_PATCH, 2},
	    {"/api/v1/ports/{}/stats", API_GET, 3},
	    {"/api/v1/routes", API_GET | API_POST | API_PUT, 4},
	    {"/api/v1/routes/{*}", API_GET | API_DELETE, 5},
	};
	const struct api_endpoint *ep = NULL;
	char param[API_PARAM_MAX], allow[64];
	size_t n = sizeof(t) / sizeof(t[0]);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/ports", &ep, param, allow, sizeof(allow)), 200);
	CHECK(ep && ep->id == 1 && param[0] == '\0');
	CHECK_EQ(api_match(t, n, "PATCH", "/api/v1/ports/p0", &ep, param, allow, sizeof(allow)),
		 200);
	CHECK(ep->id == 2 && strcmp(param, "p0") == 0);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/ports/p0/stats", &ep, param, allow, sizeof(allow)),
		 200);
	CHECK(ep->id == 3 && strcmp(param, "p0") == 0);
	/* A prefix written with %2F arrives decoded: the rest of the path, slash included. */
	CHECK_EQ(api_match(t, n, "DELETE", "/api/v1/routes/10.0.0.0/8", &ep, param, allow,
			   sizeof(allow)),
		 200);
	CHECK(ep->id == 5 && strcmp(param, "10.0.0.0/8") == 0);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/nothing", &ep, param, allow, sizeof(allow)), 404);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/ports/", &ep, param, allow, sizeof(allow)), 404);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/routes/", &ep, param, allow, sizeof(allow)), 404);
	CHECK_EQ(api_match(t, n, "GET", "/api/v1/ports/p0/x", &ep, param, allow, sizeof(allow)),
		 404);
	CHECK_EQ(api_match(t, n, "DELETE", "/api/v1/ports", &ep, param, allow, sizeof(allow)), 405);
	CHECK(strcmp(allow, "GET") == 0);
	CHECK_EQ(api_match(t, n, "DELETE", "/api/v1/routes", &ep, param, allow, sizeof(allow)),
		 405);
	CHECK(strcmp(allow, "GET, POST, PUT") == 0);
	CHECK_EQ(api_match(t, n, "BREW", "/api/v1/ports/p0", &ep, param, allow, sizeof(allow)),
		 405);
	CHECK(strcmp(allow, "GET, PATCH") == 0);
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "/api/v1/ports/", 14);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(api_match(t, n, "GET", longname, &ep, param, allow, sizeof(allow)), 404);
}

static void test_error_body(void)
{
	char *s = api_error_body("bad request", "a \"quoted\" detail\n");
	json_error_t e;
	json_t *o = s ? json_loads(s, 0, &e) : NULL;
	CHECK(o != NULL);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "error")), "bad request") == 0);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "detail")),
			  "a \"quoted\" detail\n") == 0);
	json_decref(o);
	free(s);
	s = api_error_body("not found", NULL);
	o = s ? json_loads(s, 0, &e) : NULL;
	CHECK(o && json_is_null(json_object_get(o, "detail")));
	json_decref(o);
	free(s);
}

/* The interfaces route bodies may name: p0, p1 (ports 0, 1), a VLAN on p1, a bridge, and a VLAN on
 * p0 with a name as long as a name can be. */
#define LONG_IFACE "p0.vlan4094-thirty-one-chars-xx"
static_assert(sizeof(LONG_IFACE) == IFACE_NAME_MAX, "the longest interface name");
static struct iface_table *test_ifaces(void)
{
	struct iface_table *t = iface_table_create();
	CHECK(t != NULL);
	if (!t)
		return NULL;
	CHECK_EQ(
	    iface_table_add(t, &(struct iface){.name = "p0", .kind = IFACE_KIND_PORT, .port = 0}),
	    0);
	CHECK_EQ(
	    iface_table_add(t, &(struct iface){.name = "p1", .kind = IFACE_KIND_PORT, .port = 1}),
	    1);
	CHECK_EQ(iface_table_add(t, &(struct iface){.name = "p1.7",
						    .kind = IFACE_KIND_VLAN,
						    .parent = 1,
						    .encap.vlan_id = 7}),
		 2);
	CHECK_EQ(iface_table_add(
		     t, &(struct iface){.name = "br0", .kind = IFACE_KIND_BRIDGE, .bridge = 0}),
		 3);
	/* The longest name a table takes (IFACE_NAME_MAX - 1): the formatter's worst case. */
	CHECK_EQ(iface_table_add(t, &(struct iface){.name = LONG_IFACE,
						    .kind = IFACE_KIND_VLAN,
						    .parent = 0,
						    .encap.vlan_id = 4094}),
		 4);
	return t;
}

static struct iface_table *ift; /* test_ifaces(), for every route body */

/* Through the public entry point, as the server calls it. */
static int parse(const char *body, unsigned flags, struct api_route_set *set,
		 struct api_parse_error *e)
{
	bool single;
	*set = (struct api_route_set){0};
	return api_parse_routes(body, strlen(body), flags, ift, set, &single, e);
}

/* ---- the two route-list parsers, each reached directly ----------------------------------------
 * api_parse_routes() runs the fast scanner, and jansson only when the scanner declines (-EAGAIN).
 * With api_parse.c compiled into this test, parse_fast() and parse_json() are called on their
 * own: every body goes through both, and wherever the scanner decides (accepts, or rejects with
 * -EINVAL), jansson must decide the same: same routes, or the same error message and index. */

struct way {
	int rc;
	struct route_vec v; /* routes' paths are pointers into v.p (patched as the API does) */
	bool single;
	struct api_parse_error e;
};

/* Which parser answers a body in api_parse_routes(). */
enum decider { FAST, JANSSON };

static void run_way(bool fast, const char *body, unsigned flags, struct way *w)
{
	*w = (struct way){.e.index = SIZE_MAX};
	w->rc = fast ? parse_fast(body, strlen(body), flags, &w->v, &w->single, &w->e)
		     : parse_json(body, strlen(body), flags, ift, &w->v, &w->single, &w->e);
	if (w->rc)
		w->v.n = 0; /* what api_parse_routes() does with a declined or failed parse */
	for (size_t i = 0; i < w->v.n; i++)
		w->v.r[i].paths = w->v.r[i].n_paths ? w->v.p + (uintptr_t)w->v.r[i].paths : NULL;
}

static void free_way(struct way *w)
{
	free(w->v.r);
	free(w->v.p);
}

static bool same_path(const struct control_path *a, const struct control_path *b)
{
	return ip_addr_equal(&a->gw, &b->gw) && a->iface == b->iface;
}

/* Same prefix, kind, precedence and paths in the same order. */
static bool same_route(const struct control_route *a, const struct control_route *b)
{
	if (!ip_prefix_equal(&a->prefix, &b->prefix) || a->prefix.len != b->prefix.len ||
	    !ip_addr_equal(&a->prefix.addr, &b->prefix.addr) ||
	    (a->kind ? a->kind : CONTROL_ROUTE_UNICAST) !=
		(b->kind ? b->kind : CONTROL_ROUTE_UNICAST) ||
	    a->precedence != b->precedence || a->n_paths != b->n_paths)
		return false;
	for (unsigned k = 0; k < a->n_paths; k++)
		if (!same_path(&a->paths[k], &b->paths[k]))
			return false;
	return true;
}

static bool same_way(const struct way *a, const struct way *b)
{
	if (a->rc != b->rc)
		return false;
	if (a->rc != 0)
		return a->e.index == b->e.index && strcmp(a->e.message, b->e.message) == 0;
	if (a->single != b->single || a->v.n != b->v.n)
		return false;
	for (size_t i = 0; i < a->v.n; i++)
		if (!same_route(&a->v.r[i], &b->v.r[i]))
			return false;
	return true;
}

static void print_way(const char *name, const struct way *w)
{
	fprintf(stderr, "  %s: rc %d, %zu routes%s, error [%zu] \"%s\"\n", name, w->rc, w->v.n,
		w->single ? " (single)" : "", w->e.index, w->e.message);
}

/*
 * body both ways: the scanner must decide it or decline it as `decider` says; where it decides,
 * jansson must agree; and api_parse_routes() must answer what the deciding parser answered. If
 * equiv is not NULL, body is one only jansson takes, and its answer must be the scanner's on
 * equiv (the same routes written without escapes). Returns api_parse_routes()' rc; its routes go
 * to *out (NULL: freed; else api_route_set_free() them) and its error to *err (may be NULL).
 */
static int both_ways_set(const char *body, unsigned flags, enum decider decider, const char *equiv,
			 struct api_route_set *out, struct api_parse_error *err)
{
	struct way f, j, pub = {.e.index = SIZE_MAX};
	run_way(true, body, flags, &f);
	run_way(false, body, flags, &j);
	struct api_route_set set = {0};
	pub.rc = api_parse_routes(body, strlen(body), flags, ift, &set, &pub.single, &pub.e);
	pub.v.r = set.routes;
	pub.v.p = set.paths;
	pub.v.n = set.n;
	const struct way *want = f.rc == -EAGAIN ? &j : &f;
	bool ok = (decider == JANSSON) == (f.rc == -EAGAIN) && same_way(&pub, want);
	ok = ok && (f.rc == -EAGAIN || same_way(&f, &j));
	if (equiv) {
		struct way e;
		run_way(true, equiv, flags, &e);
		ok = ok && e.rc == 0 && same_way(&j, &e);
		free_way(&e);
	}
	if (!ok) {
		fprintf(stderr, "route body, %s expected to decide: %s\n",
			decider == JANSSON ? "jansson" : "the scanner", body);
		print_way("scanner", &f);
		print_way("jansson", &j);
		print_way("api_parse_routes", &pub);
	}
	CHECK(ok);
	free_way(&f);
	free_way(&j);
	if (out)
		*out = set;
	else
		api_route_set_free(&set);
	if (err)
		*err = pub.e;
	return pub.rc;
}

static int both_ways(const char *body, unsigned flags, enum decider decider, const char *equiv)
{
	return both_ways_set(body, flags, decider, equiv, NULL, NULL);
}

/* Route i of set is prefix (text) via gw (text) with no interface: the common form. */
static bool route_via(const struct api_route_set *set, size_t i, const char *prefix, const char *gw)
{
	struct ip_prefix p;
	struct ip_addr g;
	if (i >= set->n || ip_prefix_parse(prefix, strlen(prefix), 0, &p, NULL) != 0 ||
	    ip_addr_parse(gw, strlen(gw), &g) != 0)
		return false;
	const struct control_route *r = &set->routes[i];
	return ip_prefix_equal(&r->prefix, &p) && r->prefix.len == p.len &&
	       r->kind == CONTROL_ROUTE_UNICAST && r->precedence == 0 && r->n_paths == 1 &&
	       ip_addr_equal(&r->paths[0].gw, &g) && r->paths[0].iface == IFACE_ID_NONE;
}

static void test_routes(void)
{
	struct api_route_set set;
	struct api_parse_error e;
	/* Scanner forms, with their results checked against fixed expectations as well. */
	static const char two[] = "[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"},\n"
				  " {\"via\":\"10.2.0.3\",\"prefix\":\"0.0.0.0/0\"}]";
	CHECK_EQ(both_ways(two, 0, FAST, NULL), 0);
	CHECK_EQ(parse(two, 0, &set, &e), 0);
	CHECK_EQ(set.n, 2);
	CHECK(route_via(&set, 0, "10.9.0.0/16", "10.2.0.2"));
	CHECK(route_via(&set, 1, "0.0.0.0/0", "10.2.0.3"));
	api_route_set_free(&set);
	CHECK_EQ(both_ways("[]", 0, FAST, NULL), 0);
	CHECK_EQ(parse("[]", 0, &set, &e), 0);
	CHECK(set.n == 0 && set.routes == NULL && set.paths == NULL);
	static const char one[] = " {\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"} ";
	CHECK_EQ(both_ways(one, API_ROUTES_ALLOW_SINGLE, FAST, NULL), 0);
	CHECK_EQ(parse(one, API_ROUTES_ALLOW_SINGLE, &set, &e), 0);
	CHECK_EQ(set.n, 1);
	CHECK(route_via(&set, 0, "10.9.0.0/16", "10.2.0.2"));
	api_route_set_free(&set);
	CHECK_EQ(both_ways("\t[ {\"prefix\":\"1.0.0.0/8\",\"via\":\"10.2.0.2\"} ,\r\n"
			   "{\"prefix\":\"2.0.0.0/8\",\"via\":\"10.2.0.3\"} ]\n",
			   0, FAST, NULL),
		 0);
	/* Bodies only jansson takes (escapes, a control character escaped): the same routes as
	 * the scanner reads from them written plainly. */
	static const char esc[] = "[{\"prefix\": \"10.9.0.0\\/16\", \"via\": \"10.2.0.\\u0032\"}]";
	CHECK_EQ(
	    both_ways(esc, 0, JANSSON, "[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}]"),
	    0);
	CHECK_EQ(parse(esc, 0, &set, &e), 0);
	CHECK_EQ(set.n, 1);
	CHECK(route_via(&set, 0, "10.9.0.0/16", "10.2.0.2"));
	api_route_set_free(&set);
	CHECK_EQ(both_ways("[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"},"
			   " {\"\\u0070refix\": \"2.0.0.0/8\", \"via\": \"10.2.0.3\"}]",
			   0, JANSSON,
			   "[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"},"
			   " {\"prefix\": \"2.0.0.0/8\", \"via\": \"10.2.0.3\"}]"),
		 0);
	CHECK_EQ(both_ways("{\"via\": \"10.2.0.2\", \"prefix\": \"10.9.0.0\\/16\"}",
			   API_ROUTES_ALLOW_SINGLE, JANSSON,
			   "{\"via\": \"10.2.0.2\", \"prefix\": \"10.9.0.0/16\"}"),
		 0);
	/* Errors, each naming the route and the field, and which parser answers them. */
	struct {
		const char *body;
		unsigned flags;
		enum decider decider;
		const char *want;
	} bad[] = {
	    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"}]", 0, FAST,
	     "routes[0].prefix: prefix length above 32"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"},"
	     " {\"prefix\": \"10.0.0.1/8\", \"via\": \"10.2.0.2\"}]",
	     0, FAST, "routes[1].prefix: host bits set"},
	    {"[{\"prefix\": \"10.9.0.0/16\"}]", 0, FAST, "routes[0]: \"via\" is required"},
	    {"[{\"via\": \"10.2.0.2\"}]", 0, FAST, "routes[0]: \"prefix\" is required"},
	    {"[{\"prefix\": \"\", \"via\": \"10.2.0.2\"}]", 0, FAST, "routes[0].prefix: "},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"metric\": 1}]", 0, JANSSON,
	     "routes[0]: unknown key \"metric\""},
	    {"[{\"prefix\": 10, \"via\": \"10.2.0.2\"}]", 0, JANSSON,
	     "routes[0].prefix: must be a string"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": null}]", 0, JANSSON,
	     "routes[0].via: must be a string"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.256\"}]", 0, FAST,
	     "routes[0].via: not an IP address"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}", 0, JANSSON, "malformed JSON"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"},]", 0, JANSSON,
	     "malformed JSON"},
	    {"{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}", 0, JANSSON,
	     "must be an array"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}] x", 0, JANSSON,
	     "malformed JSON"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"prefix\": \"10.8.0.0/16\", \"via\": \"1.2.3.4\"}]",
	     0, JANSSON, "malformed JSON"},
	    {"[{\"prefix\": \"10.9.0.0/16\t\", \"via\": \"10.2.0.2\"}]", 0, JANSSON,
	     "malformed JSON"},
	    {"", API_ROUTES_ALLOW_SINGLE, JANSSON, "malformed JSON"},
	    {"[1]", 0, JANSSON, "routes[0]: must be an object"},
	    /* An empty route object: both parsers word it alike. */
	    {"[{}]", 0, FAST, "routes[0]: \"prefix\" and \"via\" are required"},
	    {"{}", API_ROUTES_ALLOW_SINGLE, FAST, "routes[0]: \"prefix\" and \"via\" are required"},
	    /* A bad route before a syntax error: the syntax error wins (docs/api.md), the
	     * scanner reads on past the bad route and leaves the body to jansson. */
	    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"}, x", 0, JANSSON,
	     "malformed JSON"},
	    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"},"
	     " {\"prefix\": \"10.9.0.0/16\", \"prefix\": \"10.8.0.0/16\", \"via\": \"1.2.3.4\"}]",
	     0, JANSSON, "malformed JSON"},
	    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"}] x", 0, JANSSON,
	     "malformed JSON"},
	    /* Not UTF-8 (RFC 8259 8.1): malformed, so jansson must answer (found by
	     * fuzz_api_routes: the scanner used to call it a bad address). */
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0\xae"
	     "2\"}]",
	     0, JANSSON, "malformed JSON"},
	    {"{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0\xae"
	     "2\"}",
	     API_ROUTES_ALLOW_SINGLE, JANSSON, "malformed JSON"},
	    /* Two bad routes: the first is reported, by either parser. */
	    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"},"
	     " {\"via\": \"10.2.0.2\"}]",
	     0, FAST, "routes[0].prefix: prefix length above 32"},
	    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}, {},"
	     " {\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"}]",
	     0, FAST, "routes[1]: \"prefix\" and \"via\" are required"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(both_ways(bad[i].body, bad[i].flags, bad[i].decider, NULL), -EINVAL);
		int rc = parse(bad[i].body, bad[i].flags, &set, &e);
		if (rc != -EINVAL || !strstr(e.message, bad[i].want))
			fprintf(stderr, "body %zu: rc %d, message \"%s\", wanted \"%s\"\n", i, rc,
				e.message, bad[i].want);
		CHECK(rc == -EINVAL && strstr(e.message, bad[i].want));
		CHECK(set.routes == NULL && set.paths == NULL && set.n == 0);
	}
}

/* ---- the other route forms: iface, nexthops, type, precedence, IPv6 ----------------------------
 * The scanner takes only {"prefix","via"}: every body with another key goes to jansson, whose
 * answer is checked against values written out here (addresses read with inet_pton, interface
 * ids as test_ifaces() numbers them), and against the scanner's on an equivalent common-form body
 * where there is one. */

#define NONE (-1) /* no interface */

struct want_path {
	const char *gw; /* NULL: no gateway */
	int iface;	/* test_ifaces() id, or NONE */
};

struct want_route {
	const char *addr; /* the prefix's address */
	uint8_t len, kind, precedence, n_paths;
	struct want_path paths[CONTROL_ROUTE_PATHS_MAX];
};

/* An address by inet_pton, the independent reader: IPv4 first, then IPv6. */
static bool ref_addr(const char *s, struct ip_addr *a)
{
	struct in_addr v4;
	uint8_t v6[16];
	if (inet_pton(AF_INET, s, &v4) == 1) {
		*a = ip_addr_v4(ntohl(v4.s_addr));
		return true;
	}
	if (inet_pton(AF_INET6, s, v6) == 1) {
		*a = ip_addr_v6(v6);
		return true;
	}
	return false;
}

static bool route_is(const struct control_route *r, const struct want_route *w)
{
	struct ip_addr a;
	if (!ref_addr(w->addr, &a) || !ip_addr_equal(&r->prefix.addr, &a) ||
	    r->prefix.len != w->len || r->kind != w->kind || r->precedence != w->precedence ||
	    r->n_paths != w->n_paths)
		return false;
	for (unsigned k = 0; k < w->n_paths; k++) {
		struct ip_addr gw = {0};
		if (w->paths[k].gw && !ref_addr(w->paths[k].gw, &gw))
			return false;
		iface_id_t id =
		    w->paths[k].iface == NONE ? IFACE_ID_NONE : (iface_id_t)w->paths[k].iface;
		if (!ip_addr_equal(&r->paths[k].gw, &gw) || r->paths[k].iface != id)
			return false;
	}
	return true;
}

static void print_route(const char *what, const struct control_route *r)
{
	char p[IP_PREFIX_STRLEN], g[IP_ADDR_STRLEN];
	ip_prefix_format(&r->prefix, p);
	fprintf(stderr, "  %s: %s kind %u precedence %u, %u paths:", what, p, r->kind,
		r->precedence, r->n_paths);
	for (unsigned k = 0; k < r->n_paths; k++) {
		ip_addr_format(&r->paths[k].gw, g);
		fprintf(stderr, " (%s, iface %u)", g, r->paths[k].iface);
	}
	fprintf(stderr, "\n");
}

/* body must give exactly want[0..n), decided as decider says (and, with equiv, as the scanner
 * reads equiv). */
static void check_accepts(const char *body, unsigned flags, enum decider decider, const char *equiv,
			  const struct want_route *want, size_t n)
{
	struct api_route_set set;
	struct api_parse_error e;
	int rc = both_ways_set(body, flags, decider, equiv, &set, &e);
	bool ok = rc == 0 && set.n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = route_is(&set.routes[i], &want[i]);
	if (!ok) {
		fprintf(stderr, "body %s: rc %d \"%s\", %zu routes (wanted %zu)\n", body, rc,
			e.message, set.n, n);
		for (size_t i = 0; i < set.n; i++)
			print_route("got", &set.routes[i]);
	}
	CHECK(ok);
	api_route_set_free(&set);
}

/* The text of a route with n next hops ({"via": "10.2.0.K"}, every third with an interface,
 * every fifth with only an interface) and the routes it must give, for n = 1..17. */
static void many_nexthops(char *body, size_t cap, unsigned n, struct want_route *w)
{
	static char gws[CONTROL_ROUTE_PATHS_MAX + 1][24];
	size_t len = (size_t)snprintf(body, cap, "[{\"prefix\": \"10.4.0.0/16\", \"nexthops\": [");
	*w = (struct want_route){
	    .addr = "10.4.0.0", .len = 16, .kind = CONTROL_ROUTE_UNICAST, .n_paths = (uint8_t)n};
	for (unsigned k = 0; k < n; k++) {
		snprintf(gws[k % (CONTROL_ROUTE_PATHS_MAX + 1)], sizeof(gws[0]), "10.2.0.%u",
			 k + 1);
		bool only_iface = k % 5 == 4, iface = k % 3 == 2;
		if (k < CONTROL_ROUTE_PATHS_MAX)
			w->paths[k] = (struct want_path){.gw = only_iface ? NULL : gws[k],
							 .iface = only_iface || iface ? 1 : NONE};
		if (only_iface)
			len += (size_t)snprintf(body + len, cap - len, "%s{\"iface\": \"p1\"}",
						k ? ", " : "");
		else
			len += (size_t)snprintf(body + len, cap - len, "%s{\"via\": \"%s\"%s}",
						k ? ", " : "", gws[k],
						iface ? ", \"iface\": \"p1\"" : "");
	}
	snprintf(body + len, cap - len, "]}]");
}

#define U     CONTROL_ROUTE_UNICAST
#define ALLOW API_ROUTES_ALLOW_SINGLE

/* Every accepted form, with the routes it gives and the text api_format_route() writes for them
 * (one route a line). */
static const struct good_body {
	const char *body;
	unsigned flags;
	enum decider decider;
	const char *equiv; /* a common-form body giving the same routes, or NULL */
	size_t n;
	struct want_route want[5];
	const char *text;
} good_bodies[] = {
    /* The common form, both families: the scanner's. */
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}]",
     0,
     FAST,
     NULL,
     1,
     {{"10.9.0.0", 16, U, 0, 1, {{"10.2.0.2", NONE}}}},
     "{\"prefix\":\"10.9.0.0/16\",\"via\":\"10.2.0.2\"}"},
    {"[{\"prefix\": \"2001:db8::/32\", \"via\": \"fe80::1\"},"
     " {\"prefix\": \"::/0\", \"via\": \"2001:DB8:0:0:1:0:0:1\"},"
     " {\"prefix\": \"10.5.0.0/16\", \"via\": \"fe80::1\"},"
     " {\"prefix\": \"2001:db8:5::/48\", \"via\": \"10.2.0.2\"},"
     " {\"prefix\": \"::ffff:10.0.0.0/104\", \"via\": \"::ffff:10.2.0.2\"}]",
     0,
     FAST,
     NULL,
     5,
     {{"2001:db8::", 32, U, 0, 1, {{"fe80::1", NONE}}},
      {"::", 0, U, 0, 1, {{"2001:db8::1:0:0:1", NONE}}},
      {"10.5.0.0", 16, U, 0, 1, {{"fe80::1", NONE}}},
      {"2001:db8:5::", 48, U, 0, 1, {{"10.2.0.2", NONE}}},
      {"::ffff:10.0.0.0", 104, U, 0, 1, {{"::ffff:10.2.0.2", NONE}}}},
     "{\"prefix\":\"2001:db8::/32\",\"via\":\"fe80::1\"}\n"
     "{\"prefix\":\"::/0\",\"via\":\"2001:db8::1:0:0:1\"}\n"
     "{\"prefix\":\"10.5.0.0/16\",\"via\":\"fe80::1\"}\n"
     "{\"prefix\":\"2001:db8:5::/48\",\"via\":\"10.2.0.2\"}\n"
     "{\"prefix\":\"::ffff:10.0.0.0/104\",\"via\":\"::ffff:10.2.0.2\"}"},
    /* A gateway on a named interface; on-link routes (no gateway). */
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"iface\": \"p1\"}]",
     0,
     JANSSON,
     NULL,
     1,
     {{"10.9.0.0", 16, U, 0, 1, {{"10.2.0.2", 1}}}},
     "{\"prefix\":\"10.9.0.0/16\",\"via\":\"10.2.0.2\",\"iface\":\"p1\"}"},
    {"{\"iface\": \"p1.7\", \"prefix\": \"10.8.0.0/16\"}",
     ALLOW,
     JANSSON,
     NULL,
     1,
     {{"10.8.0.0", 16, U, 0, 1, {{NULL, 2}}}},
     "{\"prefix\":\"10.8.0.0/16\",\"iface\":\"p1.7\"}"},
    {"[{\"prefix\": \"2001:db8:1::/48\", \"via\": \"fe80::2\", \"iface\": \"p0\"},"
     " {\"prefix\": \"2001:db8:2::/64\", \"iface\": \"br0\"},"
     " {\"prefix\": \"0.0.0.0/0\", \"iface\": \"" LONG_IFACE "\"}]",
     0,
     JANSSON,
     NULL,
     3,
     {{"2001:db8:1::", 48, U, 0, 1, {{"fe80::2", 0}}},
      {"2001:db8:2::", 64, U, 0, 1, {{NULL, 3}}},
      {"0.0.0.0", 0, U, 0, 1, {{NULL, 4}}}},
     "{\"prefix\":\"2001:db8:1::/48\",\"via\":\"fe80::2\",\"iface\":\"p0\"}\n"
     "{\"prefix\":\"2001:db8:2::/64\",\"iface\":\"br0\"}\n"
     "{\"prefix\":\"0.0.0.0/0\",\"iface\":\"" LONG_IFACE "\"}"},
    /* ECMP: gateway only, gateway and interface, interface only, both families. */
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"},"
     " {\"iface\": \"p1\", \"via\": \"10.3.0.2\"}, {\"iface\": \"br0\"}, {\"via\": \"fe80::9\"}]}]",
     0,
     JANSSON,
     NULL,
     1,
     {{"10.7.0.0",
       16,
       U,
       0,
       4,
       {{"10.2.0.2", NONE}, {"10.3.0.2", 1}, {NULL, 3}, {"fe80::9", NONE}}}},
     "{\"prefix\":\"10.7.0.0/16\",\"nexthops\":[{\"via\":\"10.2.0.2\"},"
     "{\"via\":\"10.3.0.2\",\"iface\":\"p1\"},{\"iface\":\"br0\"},{\"via\":\"fe80::9\"}]}"},
    {"{\"prefix\": \"2001:db8:3::/64\", \"nexthops\": [{\"via\": \"2001:db8::a\"},"
     " {\"via\": \"::ffff:10.2.0.2\", \"iface\": \"p1\"}]}",
     ALLOW,
     JANSSON,
     NULL,
     1,
     {{"2001:db8:3::", 64, U, 0, 2, {{"2001:db8::a", NONE}, {"::ffff:10.2.0.2", 1}}}},
     "{\"prefix\":\"2001:db8:3::/64\",\"nexthops\":[{\"via\":\"2001:db8::a\"},"
     "{\"via\":\"::ffff:10.2.0.2\",\"iface\":\"p1\"}]}"},
    /* One next hop in "nexthops" is the plain form, and "type": "unicast" the default. */
    {"[{\"prefix\": \"10.6.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"}]}]",
     0,
     JANSSON,
     "[{\"prefix\": \"10.6.0.0/16\", \"via\": \"10.2.0.2\"}]",
     1,
     {{"10.6.0.0", 16, U, 0, 1, {{"10.2.0.2", NONE}}}},
     "{\"prefix\":\"10.6.0.0/16\",\"via\":\"10.2.0.2\"}"},
    {"[{\"type\": \"unicast\", \"prefix\": \"10.6.0.0/16\", \"via\": \"10.2.0.2\"}]",
     0,
     JANSSON,
     "[{\"prefix\": \"10.6.0.0/16\", \"via\": \"10.2.0.2\"}]",
     1,
     {{"10.6.0.0", 16, U, 0, 1, {{"10.2.0.2", NONE}}}},
     "{\"prefix\":\"10.6.0.0/16\",\"via\":\"10.2.0.2\"}"},
    /* Every type without a next hop, with and without precedence. */
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"blackhole\"},"
     " {\"prefix\": \"198.51.100.0/24\", \"type\": \"unreachable\"},"
     " {\"prefix\": \"203.0.113.7/32\", \"type\": \"local\"},"
     " {\"prefix\": \"2001:db8:4::/128\", \"type\": \"punt\"},"
     " {\"precedence\": 7, \"prefix\": \"2001:db8:6::/64\", \"type\": \"blackhole\"}]",
     0,
     JANSSON,
     NULL,
     5,
     {{"192.0.2.0", 24, CONTROL_ROUTE_BLACKHOLE, 0, 0, {{0}}},
      {"198.51.100.0", 24, CONTROL_ROUTE_UNREACHABLE, 0, 0, {{0}}},
      {"203.0.113.7", 32, CONTROL_ROUTE_LOCAL, 0, 0, {{0}}},
      {"2001:db8:4::", 128, CONTROL_ROUTE_PUNT, 0, 0, {{0}}},
      {"2001:db8:6::", 64, CONTROL_ROUTE_BLACKHOLE, 7, 0, {{0}}}},
     "{\"prefix\":\"192.0.2.0/24\",\"type\":\"blackhole\"}\n"
     "{\"prefix\":\"198.51.100.0/24\",\"type\":\"unreachable\"}\n"
     "{\"prefix\":\"203.0.113.7/32\",\"type\":\"local\"}\n"
     "{\"prefix\":\"2001:db8:4::/128\",\"type\":\"punt\"}\n"
     "{\"prefix\":\"2001:db8:6::/64\",\"type\":\"blackhole\",\"precedence\":7}"},
    {"{\"prefix\": \"0.0.0.0/0\", \"type\": \"punt\", \"precedence\": 255}",
     ALLOW,
     JANSSON,
     NULL,
     1,
     {{"0.0.0.0", 0, CONTROL_ROUTE_PUNT, 255, 0, {{0}}}},
     "{\"prefix\":\"0.0.0.0/0\",\"type\":\"punt\",\"precedence\":255}"},
    /* Precedence on every unicast form. */
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 5},"
     " {\"prefix\": \"10.8.0.0/16\", \"iface\": \"p0\", \"precedence\": 1, \"type\": \"unicast\"},"
     " {\"prefix\": \"10.7.0.0/16\", \"precedence\": 255,"
     " \"nexthops\": [{\"via\": \"10.2.0.2\"}, {\"via\": \"10.2.0.3\", \"iface\": \"p1\"}]}]",
     0,
     JANSSON,
     NULL,
     3,
     {{"10.9.0.0", 16, U, 5, 1, {{"10.2.0.2", NONE}}},
      {"10.8.0.0", 16, U, 1, 1, {{NULL, 0}}},
      {"10.7.0.0", 16, U, 255, 2, {{"10.2.0.2", NONE}, {"10.2.0.3", 1}}}},
     "{\"prefix\":\"10.9.0.0/16\",\"precedence\":5,\"via\":\"10.2.0.2\"}\n"
     "{\"prefix\":\"10.8.0.0/16\",\"precedence\":1,\"iface\":\"p0\"}\n"
     "{\"prefix\":\"10.7.0.0/16\",\"precedence\":255,\"nexthops\":[{\"via\":\"10.2.0.2\"},"
     "{\"via\":\"10.2.0.3\",\"iface\":\"p1\"}]}"},
    /* Mixed lists: the scanner declines at the first new form, wherever it is, and jansson
     * reads the whole list. */
    {"[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"}, {\"prefix\": \"2.0.0.0/8\", \"iface\": "
     "\"p0\"},"
     " {\"prefix\": \"3.0.0.0/8\", \"via\": \"10.2.0.3\"}, {\"prefix\": \"4.0.0.0/8\", \"type\": "
     "\"blackhole\"}]",
     0,
     JANSSON,
     NULL,
     4,
     {{"1.0.0.0", 8, U, 0, 1, {{"10.2.0.2", NONE}}},
      {"2.0.0.0", 8, U, 0, 1, {{NULL, 0}}},
      {"3.0.0.0", 8, U, 0, 1, {{"10.2.0.3", NONE}}},
      {"4.0.0.0", 8, CONTROL_ROUTE_BLACKHOLE, 0, 0, {{0}}}},
     "{\"prefix\":\"1.0.0.0/8\",\"via\":\"10.2.0.2\"}\n"
     "{\"prefix\":\"2.0.0.0/8\",\"iface\":\"p0\"}\n"
     "{\"prefix\":\"3.0.0.0/8\",\"via\":\"10.2.0.3\"}\n"
     "{\"prefix\":\"4.0.0.0/8\",\"type\":\"blackhole\"}"},
    {"[{\"prefix\": \"5.0.0.0/8\", \"type\": \"local\"}, {\"prefix\": \"6.0.0.0/8\", \"via\": "
     "\"10.2.0.2\"}]",
     0,
     JANSSON,
     NULL,
     2,
     {{"5.0.0.0", 8, CONTROL_ROUTE_LOCAL, 0, 0, {{0}}},
      {"6.0.0.0", 8, U, 0, 1, {{"10.2.0.2", NONE}}}},
     "{\"prefix\":\"5.0.0.0/8\",\"type\":\"local\"}\n"
     "{\"prefix\":\"6.0.0.0/8\",\"via\":\"10.2.0.2\"}"},
    {"[{\"prefix\": \"6.0.0.0/8\", \"via\": \"10.2.0.2\"}, {\"prefix\": \"2001:db8:7::/48\","
     " \"nexthops\": [{\"via\": \"fe80::1\", \"iface\": \"p0\"}, {\"via\": \"fe80::1\", \"iface\": "
     "\"p1\"}]}]",
     0,
     JANSSON,
     NULL,
     2,
     {{"6.0.0.0", 8, U, 0, 1, {{"10.2.0.2", NONE}}},
      {"2001:db8:7::", 48, U, 0, 2, {{"fe80::1", 0}, {"fe80::1", 1}}}},
     "{\"prefix\":\"6.0.0.0/8\",\"via\":\"10.2.0.2\"}\n"
     "{\"prefix\":\"2001:db8:7::/48\",\"nexthops\":[{\"via\":\"fe80::1\",\"iface\":\"p0\"},"
     "{\"via\":\"fe80::1\",\"iface\":\"p1\"}]}"},
};

/* Every rejected form: the exact message and the route it names. */
static const struct bad_body {
	const char *body;
	unsigned flags;
	enum decider decider;
	const char *message;
	size_t index;
} bad_bodies[] = {
    /* type */
    {"[{\"prefix\": \"10.0.0.0/8\", \"type\": \"anycast\"}]", 0, JANSSON,
     "routes[0].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 0},
    {"[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"}, {\"prefix\": \"10.0.0.0/8\", \"type\": "
     "1}]",
     0, JANSSON,
     "routes[1].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 1},
    {"{\"prefix\": \"10.0.0.0/8\", \"type\": \"Blackhole\"}", ALLOW, JANSSON,
     "routes[0].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 0},
    {"[{\"prefix\": \"10.0.0.0/8\", \"type\": \"\"}]", 0, JANSSON,
     "routes[0].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 0},
    /* precedence */
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 0}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 256}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": \"5\"}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 1.5}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 5.0}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": -1}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": 4294967301}]", 0,
     JANSSON, "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\", \"precedence\": null}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"{\"prefix\": \"10.9.0.0/16\", \"type\": \"blackhole\", \"precedence\": true}", ALLOW, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    /* nexthops */
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": []}]", 0, JANSSON,
     "routes[0].nexthops: an array of 1..16 next hops", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": {\"via\": \"10.2.0.2\"}}]", 0, JANSSON,
     "routes[0].nexthops: an array of 1..16 next hops", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": \"10.2.0.2\"}]", 0, JANSSON,
     "routes[0].nexthops: an array of 1..16 next hops", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"}, \"10.2.0.3\"]}]", 0,
     JANSSON, "routes[0].nexthops[1]: must be an object", 0},
    {"[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"},"
     " {\"prefix\": \"10.7.0.0/16\", \"nexthops\": [[{\"via\": \"10.2.0.2\"}]]}]",
     0, JANSSON, "routes[1].nexthops[0]: must be an object", 1},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\", \"weight\": 2}]}]", 0,
     JANSSON, "routes[0].nexthops[0]: unknown key \"weight\"", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"},"
     " {\"prefix\": \"10.7.0.0/16\", \"via\": \"10.2.0.3\"}]}]",
     0, JANSSON, "routes[0].nexthops[1]: unknown key \"prefix\"", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"nexthops\": []}]}]", 0, JANSSON,
     "routes[0].nexthops[0]: unknown key \"nexthops\"", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{}]}]", 0, JANSSON,
     "routes[0].nexthops[0]: \"via\" is required", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": 5}]}]", 0, JANSSON,
     "routes[0].nexthops[0].via: must be a string (an IP address)", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\", \"iface\": 0}]}]", 0,
     JANSSON, "routes[0].nexthops[0].iface: must be a string (an interface name)", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"}, {\"via\": "
     "\"10.2.0.256\"}]}]",
     0, JANSSON, "routes[0].nexthops[1].via: not an IP address: \"10.2.0.256\"", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"nexthops\": [{\"via\": \"10.2.0.2\", \"iface\": \"p9\"}]}]",
     0, JANSSON, "routes[0].nexthops[0].iface: no such interface \"p9\"", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"via\": \"10.2.0.2\", \"nexthops\": [{\"via\": "
     "\"10.2.0.2\"}]}]",
     0, JANSSON, "routes[0]: \"nexthops\" or \"via\"/\"iface\", not both", 0},
    {"[{\"prefix\": \"10.7.0.0/16\", \"iface\": \"p0\", \"nexthops\": [{\"via\": \"10.2.0.2\"}]}]",
     0, JANSSON, "routes[0]: \"nexthops\" or \"via\"/\"iface\", not both", 0},
    /* a type without a next hop given one */
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"blackhole\", \"via\": \"10.2.0.2\"}]", 0, JANSSON,
     "routes[0]: a blackhole route has no next hop", 0},
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"unreachable\", \"iface\": \"p0\"}]", 0, JANSSON,
     "routes[0]: a unreachable route has no next hop", 0},
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"local\", \"nexthops\": [{\"via\": "
     "\"10.2.0.2\"}]}]",
     0, JANSSON, "routes[0]: a local route has no next hop", 0},
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"punt\", \"nexthops\": []}]", 0, JANSSON,
     "routes[0]: a punt route has no next hop", 0},
    {"[{\"prefix\": \"192.0.2.0/24\", \"type\": \"blackhole\", \"via\": null}]", 0, JANSSON,
     "routes[0]: a blackhole route has no next hop", 0},
    /* interfaces */
    {"[{\"prefix\": \"10.8.0.0/16\", \"iface\": \"p9\"}]", 0, JANSSON,
     "routes[0].iface: no such interface \"p9\"", 0},
    {"[{\"prefix\": \"10.8.0.0/16\", \"via\": \"10.2.0.2\", \"iface\": \"P0\"}]", 0, JANSSON,
     "routes[0].iface: no such interface \"P0\"", 0},
    {"[{\"prefix\": \"10.8.0.0/16\", \"iface\": \"\"}]", 0, JANSSON,
     "routes[0].iface: no such interface \"\"", 0},
    {"[{\"prefix\": \"10.8.0.0/16\", \"iface\": \"" LONG_IFACE "x\"}]", 0, JANSSON,
     "routes[0].iface: no such interface \"p0.vlan4094-thirty-one-chars-xxx\"", 0},
    {"[{\"prefix\": \"10.8.0.0/16\", \"iface\": 1}]", 0, JANSSON,
     "routes[0].iface: must be a string (an interface name)", 0},
    /* addresses and prefixes in the new forms */
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"p1\", \"iface\": \"p1\"}]", 0, JANSSON,
     "routes[0].via: not an IP address: \"p1\"", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2/32\", \"iface\": \"p1\"}]", 0, JANSSON,
     "routes[0].via: not an IP address: \"10.2.0.2/32\"", 0},
    {"[{\"prefix\": \"2001:db8::/32\", \"via\": \"fe80::1::2\", \"precedence\": 3}]", 0, JANSSON,
     "routes[0].via: not an IP address: \"fe80::1::2\"", 0},
    {"[{\"prefix\": \"2001:db8::/32\", \"via\": \"fe80::1::2\"}]", 0, FAST,
     "routes[0].via: not an IP address: \"fe80::1::2\"", 0},
    {"[{\"prefix\": \"10.9.0.1/16\", \"iface\": \"p1\"}]", 0, JANSSON,
     "routes[0].prefix: host bits set: \"10.9.0.1/16\"", 0},
    {"[{\"prefix\": \"2001:db8::1/32\", \"type\": \"blackhole\"}]", 0, JANSSON,
     "routes[0].prefix: host bits set: \"2001:db8::1/32\"", 0},
    {"[{\"prefix\": \"10.7.0.1/16\", \"nexthops\": [{\"via\": \"10.2.0.2\"}]}]", 0, JANSSON,
     "routes[0].prefix: host bits set: \"10.7.0.1/16\"", 0},
    {"[{\"prefix\": \"2001:db8::1/32\", \"via\": \"fe80::1\"}]", 0, FAST,
     "routes[0].prefix: host bits set: \"2001:db8::1/32\"", 0},
    {"[{\"prefix\": \"2001:db8::/129\", \"iface\": \"p0\"}]", 0, JANSSON,
     "routes[0].prefix: prefix length above 128: \"2001:db8::/129\"", 0},
    {"[{\"prefix\": [\"10.0.0.0/8\"], \"iface\": \"p0\"}]", 0, JANSSON,
     "routes[0].prefix: must be a string \"address/length\"", 0},
    /* missing keys */
    {"[{\"prefix\": \"10.9.0.0/16\", \"type\": \"unicast\"}]", 0, JANSSON,
     "routes[0]: \"via\" is required", 0},
    {"[{\"prefix\": \"10.9.0.0/16\", \"precedence\": 5}]", 0, JANSSON,
     "routes[0]: \"via\" is required", 0},
    {"[{\"iface\": \"p1\"}]", 0, JANSSON, "routes[0]: \"prefix\" is required", 0},
    {"[{\"type\": \"blackhole\"}]", 0, JANSSON, "routes[0]: \"prefix\" is required", 0},
    {"[{\"nexthops\": [{\"via\": \"10.2.0.2\"}]}]", 0, JANSSON, "routes[0]: \"prefix\" is required",
     0},
    {"[{\"type\": \"unicast\"}]", 0, JANSSON, "routes[0]: \"prefix\" and \"via\" are required", 0},
    /* The first bad route is reported, wherever the scanner stopped. */
    {"[{\"prefix\": \"1.0.0.0/8\", \"via\": \"10.2.0.2\"}, {\"prefix\": \"2.0.0.0/8\", \"via\": "
     "\"10.2.0.3\"},"
     " {\"prefix\": \"10.0.0.0/8\", \"type\": \"bogus\"}]",
     0, JANSSON,
     "routes[2].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 2},
    {"[{\"prefix\": \"10.0.0.0/33\", \"via\": \"10.2.0.2\"}, {\"prefix\": \"10.8.0.0/16\", "
     "\"iface\": \"p1\"}]",
     0, JANSSON, "routes[0].prefix: prefix length above 32: \"10.0.0.0/33\"", 0},
    {"[{\"prefix\": \"10.8.0.0/16\", \"iface\": \"p1\"}, {\"prefix\": \"10.0.0.1/8\", \"via\": "
     "\"10.2.0.2\"}]",
     0, JANSSON, "routes[1].prefix: host bits set: \"10.0.0.1/8\"", 1},
    /* Within a route: type, missing keys, prefix, precedence, then the next hops. */
    {"[{\"prefix\": \"10.0.0.0/33\", \"type\": \"x\"}]", 0, JANSSON,
     "routes[0].type: one of \"unicast\", \"blackhole\", \"unreachable\", \"local\", \"punt\"", 0},
    {"[{\"prefix\": \"10.0.0.0/33\", \"precedence\": 0, \"iface\": \"p9\"}]", 0, JANSSON,
     "routes[0].prefix: prefix length above 32: \"10.0.0.0/33\"", 0},
    {"[{\"prefix\": \"10.0.0.0/8\", \"precedence\": 0, \"iface\": \"p9\"}]", 0, JANSSON,
     "routes[0].precedence: an integer 1..255", 0},
    {"[{\"prefix\": \"10.0.0.0/8\", \"precedence\": 0, \"type\": \"local\", \"via\": "
     "\"10.2.0.2\"}]",
     0, JANSSON, "routes[0].precedence: an integer 1..255", 0},
};

static void check_rejects(const char *body, unsigned flags, enum decider decider,
			  const char *message, size_t index)
{
	struct api_route_set set;
	struct api_parse_error e;
	int rc = both_ways_set(body, flags, decider, NULL, &set, &e);
	bool ok = rc == -EINVAL && strcmp(e.message, message) == 0 && e.index == index &&
		  set.n == 0 && set.routes == NULL && set.paths == NULL;
	if (!ok)
		fprintf(stderr, "body %s: rc %d, [%zu] \"%s\", wanted [%zu] \"%s\"\n", body, rc,
			e.index, e.message, index, message);
	CHECK(ok);
	api_route_set_free(&set);
}

static void test_route_forms(void)
{
	for (size_t i = 0; i < sizeof(good_bodies) / sizeof(good_bodies[0]); i++) {
		const struct good_body *g = &good_bodies[i];
		check_accepts(g->body, g->flags, g->decider, g->equiv, g->want, g->n);
	}
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		const struct bad_body *b = &bad_bodies[i];
		check_rejects(b->body, b->flags, b->decider, b->message, b->index);
	}
	/* 1, 16 and 17 next hops (CONTROL_ROUTE_PATHS_MAX). */
	char body[2048];
	struct want_route w;
	many_nexthops(body, sizeof(body), 1, &w);
	check_accepts(body, 0, JANSSON, "[{\"prefix\": \"10.4.0.0/16\", \"via\": \"10.2.0.1\"}]",
		      &w, 1);
	many_nexthops(body, sizeof(body), CONTROL_ROUTE_PATHS_MAX, &w);
	check_accepts(body, 0, JANSSON, NULL, &w, 1);
	many_nexthops(body, sizeof(body), CONTROL_ROUTE_PATHS_MAX + 1, &w);
	check_rejects(body, 0, JANSSON, "routes[0].nexthops: an array of 1..16 next hops", 0);
	/* No interface table: every name is unknown. */
	struct iface_table *saved = ift;
	ift = NULL;
	check_rejects("[{\"prefix\": \"10.8.0.0/16\", \"iface\": \"p0\"}]", 0, JANSSON,
		      "routes[0].iface: no such interface \"p0\"", 0);
	ift = saved;
}

/* ---- api_format_route(): what it writes reads back as the same route --------------------------
 * The state journal and snapshot write routes with api_format_route() and read them back with
 * api_parse_routes(), and a full table is read back fast only if the common form is written as
 * exactly the scanner's form. */

/* Unicast over one gateway on no named interface, default precedence: {"prefix","via"}. */
static bool common_form(const struct control_route *r)
{
	return (r->kind == 0 || r->kind == CONTROL_ROUTE_UNICAST) && r->precedence == 0 &&
	       r->n_paths == 1 && r->paths[0].gw.family != 0 && r->paths[0].iface == IFACE_ID_NONE;
}

/* The scanner alone takes text (0), not just jansson. */
static int fast_only(const char *text, unsigned flags)
{
	struct route_vec v = {0};
	bool single;
	struct api_parse_error e;
	int rc = parse_fast(text, strlen(text), flags, &v, &single, &e);
	free(v.r);
	free(v.p);
	return rc;
}

/* Format r, check the text's shape, parse it back through both parsers and compare every field.
 * The text goes to buf (API_ROUTE_TEXT_MAX). */
static bool round_trip(const struct control_route *r, char *buf)
{
	size_t len = api_format_route(buf, API_ROUTE_TEXT_MAX, r, ift);
	bool ok = len > 0 && len == strlen(buf);
	if (ok && common_form(r)) {
		char p[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN], want[128];
		ip_prefix_format(&r->prefix, p);
		ip_addr_format(&r->paths[0].gw, a);
		snprintf(want, sizeof(want), "{\"prefix\":\"%s\",\"via\":\"%s\"}", p, a);
		ok = strcmp(buf, want) == 0 && fast_only(buf, API_ROUTES_ALLOW_SINGLE) == 0;
	}
	struct api_route_set set = {0};
	if (ok)
		ok = both_ways_set(buf, API_ROUTES_ALLOW_SINGLE, common_form(r) ? FAST : JANSSON,
				   NULL, &set, NULL) == 0 &&
		     set.n == 1 && same_route(&set.routes[0], r);
	if (!ok) {
		fprintf(stderr, "round trip: \"%s\" (%zu)\n", buf, len);
		print_route("formatted", r);
		if (set.n)
			print_route("read back", &set.routes[0]);
	}
	api_route_set_free(&set);
	return ok;
}

/* Format routes[0..n) as one list, as the journal does, and read it back whole. */
static bool list_round_trip(const struct control_route *routes, size_t n)
{
	size_t cap = 2 + n * (API_ROUTE_TEXT_MAX + 1), len = 0;
	char *text = malloc(cap);
	bool common = true, ok = text != NULL;
	if (ok)
		text[len++] = '[';
	for (size_t i = 0; ok && i < n; i++) {
		if (i)
			text[len++] = ',';
		size_t w = api_format_route(text + len, cap - len, &routes[i], ift);
		ok = w > 0;
		len += w;
		common = common && common_form(&routes[i]);
	}
	if (ok) {
		text[len++] = ']';
		text[len] = '\0';
		ok = !common || fast_only(text, 0) == 0; /* a common-form list is the scanner's */
	}
	struct api_route_set set = {0};
	if (ok)
		ok = both_ways_set(text, 0, common ? FAST : JANSSON, NULL, &set, NULL) == 0 &&
		     set.n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = same_route(&set.routes[i], &routes[i]);
	if (!ok)
		fprintf(stderr, "list round trip of %zu routes failed: %.300s\n", n,
			text ? text : "(no memory)");
	api_route_set_free(&set);
	free(text);
	return ok;
}

/* Every accepted form: the exact text, and the route it reads back as. */
static void test_format_forms(void)
{
	char buf[API_ROUTE_TEXT_MAX], text[4096];
	for (size_t i = 0; i < sizeof(good_bodies) / sizeof(good_bodies[0]); i++) {
		const struct good_body *g = &good_bodies[i];
		struct api_route_set set;
		struct api_parse_error e;
		bool single;
		size_t len = 0;
		CHECK_EQ(
		    api_parse_routes(g->body, strlen(g->body), g->flags, ift, &set, &single, &e),
		    0);
		for (size_t k = 0; k < set.n; k++) {
			CHECK(round_trip(&set.routes[k], buf));
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
						k ? "\n" : "", buf);
		}
		if (strcmp(text, g->text) != 0)
			fprintf(stderr, "formatted %s\n  as   %s\n  not  %s\n", g->body, text,
				g->text);
		CHECK(strcmp(text, g->text) == 0);
		CHECK(list_round_trip(set.routes, set.n));
		api_route_set_free(&set);
	}
}

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return (uint32_t)(rng >> 11);
}

/* An address of either family, often with zero runs (RFC 5952 4.2's "::") or IPv4-mapped
 * (RFC 5952 5's dotted quad). */
static struct ip_addr rnd_addr(void)
{
	if (rnd() % 2)
		return ip_addr_v4(rnd());
	uint8_t v6[16];
	unsigned style = rnd() % 8;
	for (int i = 0; i < 16; i += 2) {
		uint32_t x = rnd();
		bool zero = style < 4 && (x >> 20) % 2;
		v6[i] = zero ? 0 : (uint8_t)x;
		v6[i + 1] = zero ? 0 : (uint8_t)(x >> 8);
	}
	if (style == 7) /* ::ffff:a.b.c.d */
		memset(v6, 0, 10), v6[10] = v6[11] = 0xff;
	return ip_addr_v6(v6);
}

/* A route api_parse_routes() could have produced: canonical prefix, a kind (0 meaning unicast
 * too), precedence 0..255, and for unicast 1..16 next hops of gateway only, interface only, or
 * both. */
static void rnd_route(struct control_route *r, struct control_path paths[CONTROL_ROUTE_PATHS_MAX])
{
	struct ip_addr a = rnd_addr();
	unsigned len = rnd() % (ip_family_bits(a.family) + 1);
	*r =
	    (struct control_route){.prefix = {.addr = ip_addr_masked(&a, len), .len = (uint8_t)len},
				   .kind = (uint8_t)(rnd() % 6),
				   .precedence = (uint8_t)(rnd() % 4 ? 0 : rnd() % 256),
				   .paths = paths};
	if (r->kind && r->kind != CONTROL_ROUTE_UNICAST)
		return;
	r->n_paths = (uint8_t)(rnd() % 3 ? 1 : 1 + rnd() % CONTROL_ROUTE_PATHS_MAX);
	for (unsigned k = 0; k < r->n_paths; k++) {
		unsigned form = rnd() % 3; /* 0: gateway, 1: interface, 2: both */
		paths[k] = (struct control_path){.iface = IFACE_ID_NONE};
		if (form != 1)
			paths[k].gw = rnd_addr();
		if (form != 0)
			paths[k].iface = (iface_id_t)(rnd() % iface_table_count(ift));
	}
}

static void test_format_random(uint64_t seed)
{
	enum { N = 4000, LIST = 64 };
	static struct control_route routes[LIST];
	static struct control_path paths[LIST][CONTROL_ROUTE_PATHS_MAX];
	char buf[API_ROUTE_TEXT_MAX];
	rng = seed;
	size_t failed = 0;
	for (size_t i = 0; i < N; i++) {
		rnd_route(&routes[i % LIST], paths[i % LIST]);
		failed += !round_trip(&routes[i % LIST], buf);
		if (i % LIST == LIST - 1)
			failed += !list_round_trip(routes, LIST);
	}
	/* Common-form lists, as most of a full table's journal is: the scanner reads them. */
	for (size_t l = 0; l < 16; l++) {
		for (size_t i = 0; i < LIST; i++) {
			do
				rnd_route(&routes[i], paths[i]);
			while (
			    !(routes[i].kind <= CONTROL_ROUTE_UNICAST && routes[i].n_paths == 1));
			routes[i].precedence = 0;
			paths[i][0].iface = IFACE_ID_NONE;
			if (!paths[i][0].gw.family)
				paths[i][0].gw = rnd_addr();
		}
		failed += !list_round_trip(routes, LIST);
	}
	if (failed)
		fprintf(stderr, "format round trip: %zu failures (seed %llu)\n", failed,
			(unsigned long long)seed);
	CHECK_EQ(failed, 0);
}

/* The longest route text: 16 next hops of the longest IPv6 text on the longest interface name,
 * the longest prefix, precedence 255. It must fit API_ROUTE_TEXT_MAX; and any smaller buffer
 * than the text needs gets nothing but an empty string. */
static void test_format_bounds(void)
{
	struct control_path paths[CONTROL_ROUTE_PATHS_MAX];
	uint8_t ones[16];
	memset(ones, 0xff, sizeof(ones));
	for (unsigned k = 0; k < CONTROL_ROUTE_PATHS_MAX; k++)
		paths[k] = (struct control_path){.gw = ip_addr_v6(ones), .iface = 4};
	struct control_route worst = {.prefix = {.addr = ip_addr_v6(ones), .len = 128},
				      .kind = CONTROL_ROUTE_UNICAST,
				      .precedence = 255,
				      .n_paths = CONTROL_ROUTE_PATHS_MAX,
				      .paths = paths};
	char buf[API_ROUTE_TEXT_MAX];
	CHECK(round_trip(&worst, buf));
	struct control_route common = {
	    .prefix = ip_prefix_v4(0x0a090000, 16),
	    .kind = CONTROL_ROUTE_UNICAST,
	    .n_paths = 1,
	    .paths = &(struct control_path){.gw = ip_addr_v4(0x0a020002), .iface = IFACE_ID_NONE}};
	struct control_route hole = {.prefix = ip_prefix_v4(0xc0000200, 24),
				     .kind = CONTROL_ROUTE_BLACKHOLE};
	const struct control_route *cases[] = {&worst, &common, &hole};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char want[API_ROUTE_TEXT_MAX], got[API_ROUTE_TEXT_MAX + 1];
		size_t len = api_format_route(want, sizeof(want), cases[c], ift);
		CHECK(len > 0 && len < API_ROUTE_TEXT_MAX);
		for (size_t cap = 0; cap <= len; cap++) {
			memset(got, 'x', sizeof(got));
			size_t w = api_format_route(got, cap, cases[c], ift);
			/* Nothing but the empty string, nothing at or past cap. */
			bool ok = w == 0 && (cap == 0 || got[0] == '\0');
			for (size_t k = cap; k < len + 1; k++)
				ok = ok && got[k] == 'x';
			if (!ok)
				fprintf(stderr, "format into %zu bytes of %zu: returned %zu\n", cap,
					len + 1, w);
			CHECK(ok);
		}
		memset(got, 'x', sizeof(got));
		CHECK_EQ(api_format_route(got, len + 1, cases[c], ift), len);
		CHECK(strcmp(got, want) == 0);
	}
}

/* Interface names that would need escapes in JSON are refused where interfaces are made
 * (iface_name_valid()), so no journal line can break on one; the longest route then fits
 * API_ROUTE_TEXT_MAX (api_parse.h): 16 of the longest IPv6 texts on a 31-character name. */
static void test_format_limits(void)
{
	static const char *const bad[] = {"q\"uote", "back\\slash", "tab\tc", "sp ace", "a/b", ""};
	struct iface_table *odd = iface_table_create(), *saved = ift;
	CHECK(odd != NULL);
	if (!odd)
		return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct iface d = {.kind = IFACE_KIND_PORT, .port = (port_id_t)i};
		snprintf(d.name, sizeof(d.name), "%s", bad[i]);
		CHECK_EQ(iface_table_add(odd, &d), -EINVAL);
	}
	struct iface d = {.kind = IFACE_KIND_PORT, .port = 0};
	snprintf(d.name, sizeof(d.name), "%s", "a.b-c_d@e+f.0123456789012345678");
	CHECK_EQ(strlen(d.name), IFACE_NAME_MAX - 1);
	CHECK_EQ(iface_table_add(odd, &d), 0);
	ift = odd;
	struct control_path paths[CONTROL_ROUTE_PATHS_MAX];
	uint8_t ones[16];
	memset(ones, 0xff, sizeof(ones));
	ones[0] = 0x20; /* 2001:ffff:...: every group four digits, no compression */
	ones[1] = 0x01;
	for (unsigned k = 0; k < CONTROL_ROUTE_PATHS_MAX; k++)
		paths[k] = (struct control_path){.gw = ip_addr_v6(ones), .iface = 0};
	struct control_route worst = {.prefix = {.addr = ip_addr_v6(ones), .len = 128},
				      .kind = CONTROL_ROUTE_UNICAST,
				      .precedence = 255,
				      .n_paths = CONTROL_ROUTE_PATHS_MAX,
				      .paths = paths};
	char buf[API_ROUTE_TEXT_MAX];
	CHECK(api_format_route(buf, sizeof(buf), &worst, ift) > 0);
	CHECK(round_trip(&worst, buf));
	ift = saved;
	iface_table_free(odd);
}

static void test_skip_value(void)
{
	const char *s = "  [1, {\"a\": \"]\\\"\"}, [2]] , 3";
	size_t end = api_json_skip_value(s, strlen(s), 0);
	CHECK(end != SIZE_MAX && s[end - 1] == ']' && s[end] == ' ');
	CHECK_EQ(api_json_skip_value("[1, 2", 5, 0), SIZE_MAX);
	CHECK_EQ(api_json_skip_value("\"abc", 4, 0), SIZE_MAX);
	CHECK_EQ(api_json_skip_value("12,", 3, 0), 2);
	CHECK_EQ(api_json_skip_value("]", 1, 0), SIZE_MAX);
}

int main(void)
{
	const char *env = getenv("TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u | 1;
	printf("test_api_parse: seed %llu (TEST_SEED=%llu replays)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	test_ipv4();
	test_prefix();
	test_mac_and_paging();
	test_listen();
	test_match();
	test_error_body();
	ift = test_ifaces();
	test_routes();
	test_route_forms();
	test_format_forms();
	test_format_random(seed ? seed : 1);
	test_format_bounds();
	test_format_limits();
	test_skip_value();
	iface_table_free(ift);
	return check_report("test_api_parse");
}
