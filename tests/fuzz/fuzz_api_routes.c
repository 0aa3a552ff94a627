/*
 * fuzz_api_routes: api/api_parse.c's route-list parsing on arbitrary bodies. The first byte's
 * low bit is API_ROUTES_ALLOW_SINGLE, the rest the body. api_parse.c is compiled in (its two
 * parsers are static), as in tests/api/test_api_parse.c, whose properties these are:
 *
 *  1. wherever the hand-written scanner decides a body (accepts it, or rejects it with -EINVAL),
 *     jansson decides it the same way (the same routes, or the same message and route index),
 *     and api_parse_routes() answers what the deciding parser answered;
 *  2. every route of a body that parses, formatted with api_format_route() (which must fit in
 *     API_ROUTE_TEXT_MAX), parses back as the same route, alone and as the whole list, and a
 *     route of the common form is written so that the scanner takes it (the state journal
 *     relies on both).
 *
 * Interface names resolve in a table of p0, p1 (ports), br0 (a bridge) and p1.7 (a VLAN), so
 * "iface" and "nexthops" reach their success paths. Any broken property is an abort().
 */
#include "api_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct iface_table *ifaces(void)
{
	static struct iface_table *t;
	if (t)
		return t;
	t = iface_table_create();
	if (!t || iface_table_add(t, &(struct iface){.name = "p0", .kind = IFACE_KIND_PORT}) != 0 ||
	    iface_table_add(t, &(struct iface){.name = "p1", .kind = IFACE_KIND_PORT, .port = 1}) !=
		1 ||
	    iface_table_add(t, &(struct iface){.name = "br0", .kind = IFACE_KIND_BRIDGE}) != 2 ||
	    iface_table_add(t, &(struct iface){.name = "p1.7",
					       .kind = IFACE_KIND_VLAN,
					       .parent = 1,
					       .encap.vlan_id = 7}) != 3)
		abort(); /* our own set-up, not the input */
	return t;
}

struct way {
	int rc;
	struct route_vec v; /* routes' paths are pointers into v.p (patched as the API does) */
	bool single;
	struct api_parse_error e;
};

static void run_way(bool fast, const char *body, size_t len, unsigned flags, struct way *w)
{
	*w = (struct way){.e.index = SIZE_MAX};
	w->rc = fast ? parse_fast(body, len, flags, &w->v, &w->single, &w->e)
		     : parse_json(body, len, flags, ifaces(), &w->v, &w->single, &w->e);
	if (w->rc)
		w->v.n = 0; /* what api_parse_routes() does with a declined or failed parse */
	for (size_t i = 0; i < w->v.n; i++)
		w->v.r[i].paths = w->v.r[i].n_paths ? w->v.p + (uintptr_t)w->v.r[i].paths : NULL;
}

/* Every field: prefix (address and length), kind (0 is unicast), precedence, the paths. */
static bool same_route(const struct control_route *a, const struct control_route *b)
{
	if (!ip_addr_equal(&a->prefix.addr, &b->prefix.addr) || a->prefix.len != b->prefix.len ||
	    (a->kind ? a->kind : CONTROL_ROUTE_UNICAST) !=
		(b->kind ? b->kind : CONTROL_ROUTE_UNICAST) ||
	    a->precedence != b->precedence || a->n_paths != b->n_paths)
		return false;
	for (unsigned k = 0; k < a->n_paths; k++)
		if (!ip_addr_equal(&a->paths[k].gw, &b->paths[k].gw) ||
		    a->paths[k].iface != b->paths[k].iface)
			return false;
	return true;
}

static bool same_routes(const struct control_route *a, size_t na, const struct control_route *b,
			size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_route(&a[i], &b[i]))
			return false;
	return true;
}

static bool same_way(const struct way *a, const struct way *b)
{
	if (a->rc != b->rc)
		return false;
	if (a->rc != 0)
		return a->e.index == b->e.index && strcmp(a->e.message, b->e.message) == 0;
	return a->single == b->single && same_routes(a->v.r, a->v.n, b->v.r, b->v.n);
}

static void print_way(const char *name, const struct way *w)
{
	fprintf(stderr, "  %s: rc %d, %zu routes%s, error [%zu] \"%s\"\n", name, w->rc, w->v.n,
		w->single ? " (single)" : "", w->e.index, w->e.message);
}

static bool common_form(const struct control_route *r)
{
	return r->kind == CONTROL_ROUTE_UNICAST && r->precedence == 0 && r->n_paths == 1 &&
	       r->paths[0].gw.family != 0 && r->paths[0].iface == IFACE_ID_NONE;
}

/* Property 2 on the routes of a body that parsed. Returns false, having said why, if broken. */
static bool round_trips(const struct control_route *r, size_t n)
{
	size_t cap = 2 + n * (API_ROUTE_TEXT_MAX + 1), len = 0;
	char *list = malloc(cap), one[API_ROUTE_TEXT_MAX];
	if (!list)
		return true; /* no memory: nothing to check */
	bool ok = true;
	list[len++] = '[';
	for (size_t i = 0; ok && i < n; i++) {
		size_t w = api_format_route(one, sizeof(one), &r[i], ifaces());
		struct api_route_set set = {0};
		struct api_parse_error e;
		bool single;
		ok = w > 0 && w == strlen(one);
		if (ok && common_form(&r[i])) {
			struct route_vec v = {0};
			ok = parse_fast(one, w, API_ROUTES_ALLOW_SINGLE, &v, &single, &e) == 0;
			free(v.r);
			free(v.p);
		}
		ok = ok &&
		     api_parse_routes(one, w, API_ROUTES_ALLOW_SINGLE, ifaces(), &set, &single,
				      &e) == 0 &&
		     set.n == 1 && same_route(&set.routes[0], &r[i]);
		if (!ok)
			fprintf(stderr,
				"route %zu formatted as \"%s\" (%zu) does not read back: %s\n", i,
				one, w, e.message);
		api_route_set_free(&set);
		if (i)
			list[len++] = ',';
		memcpy(list + len, one, w);
		len += w;
	}
	list[len++] = ']';
	if (ok) {
		struct api_route_set set = {0};
		struct api_parse_error e;
		bool single;
		ok = api_parse_routes(list, len, 0, ifaces(), &set, &single, &e) == 0 &&
		     same_routes(set.routes, set.n, r, n);
		if (!ok)
			fprintf(stderr, "the formatted list does not read back: %s: %.400s\n",
				e.message, list);
		api_route_set_free(&set);
	}
	free(list);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0] & API_ROUTES_ALLOW_SINGLE;
	size_t len = size - 1;
	char *body = malloc(len ? len : 1); /* exactly the body: ASan sees a read past it */
	if (!body)
		return 0;
	memcpy(body, data + 1, len);

	struct way f, j, pub = {.e.index = SIZE_MAX};
	run_way(true, body, len, flags, &f);
	run_way(false, body, len, flags, &j);
	struct api_route_set set = {0};
	pub.rc = api_parse_routes(body, len, flags, ifaces(), &set, &pub.single, &pub.e);
	pub.v.r = set.routes;
	pub.v.n = set.n;
	const struct way *want = f.rc == -EAGAIN ? &j : &f;
	bool ok = same_way(&pub, want) && (f.rc == -EAGAIN || same_way(&f, &j));
	if (!ok) {
		fprintf(stderr, "route body (flags %u) answered differently: %.*s\n", flags,
			(int)(len > 400 ? 400 : len), body);
		print_way("scanner", &f);
		print_way("jansson", &j);
		print_way("api_parse_routes", &pub);
		abort();
	}
	if (pub.rc == 0 && !round_trips(set.routes, set.n)) {
		fprintf(stderr, "from the body (flags %u): %.*s\n", flags,
			(int)(len > 400 ? 400 : len), body);
		abort();
	}
	free(f.v.r);
	free(f.v.p);
	free(j.v.r);
	free(j.v.p);
	api_route_set_free(&set);
	free(body);
	return 0;
}
